// SPDX-License-Identifier: GPL-2.0
/* Loading BPF objects for the bpf test tier; see np_bpftest.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <nodepath/abi.h>

#include "common/np_bpftest.h"

#define NP_BPFTEST_LOG (1 << 20)
#define NP_BPFTEST_PROGS 8

int np_bpftest_pin_dir(char *buf, size_t n, const char *tag)
{
	if (snprintf(buf, n, "/sys/fs/bpf/nodepath-test-%s-%d", tag, (int)getpid()) >= (int)n)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0700) && errno != EEXIST) {
		fprintf(stderr, "mkdir %s: %s\n", buf, strerror(errno));
		return -errno;
	}
	return 0;
}

void np_bpftest_unpin(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (!dir || !dir[0])
		return;
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			unlinkat(dirfd(d), de->d_name, 0);
		}
		closedir(d);
	}
	rmdir(dir);
}

int np_bpftest_obj_path(char *buf, size_t n, const char *name)
{
	const char *top = getenv("NP_TOP");
	char exe[PATH_MAX];
	ssize_t l;
	char *s;

	if (top && *top) {
		if (snprintf(buf, n, "%s/build/bpf/%s", top, name) >= (int)n)
			return -ENAMETOOLONG;
		return 0;
	}
	/* <top>/build/tests/bpf/<test> -> <top>/build/bpf/<name> */
	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l < 0)
		return -errno;
	exe[l] = '\0';
	s = strstr(exe, "/tests/bpf/");
	if (!s)
		return -ENOENT;
	*s = '\0';
	if (snprintf(buf, n, "%s/bpf/%s", exe, name) >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}

int np_bpftest_set_features(struct bpf_object *obj, __u32 features)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *var;
	struct bpf_map *rodata = NULL, *m;
	struct np_cfg *cfg;
	struct btf *btf;
	size_t sz;
	int i, id;

	bpf_object__for_each_map(m, obj)
	{
		const char *n = bpf_map__name(m);
		size_t l = strlen(n);

		if (l >= 7 && !strcmp(n + l - 7, ".rodata"))
			rodata = m;
	}
	btf = bpf_object__btf(obj);
	if (!rodata || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return id;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), "cfg"))
			continue;
		cfg = (struct np_cfg *)((char *)bpf_map__initial_value(rodata, &sz) + vs->offset);
		if (vs->offset + sizeof(*cfg) > sz)
			return -ERANGE;
		cfg->features = features;
		return 0;
	}
	return -ENOENT;
}

/* "processed N insns (limit ...) ..." up to the parenthesis. */
static void print_stats(const char *prog, int fd, const char *log)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	const char *s = strstr(log, "processed ");

	memset(&info, 0, sizeof(info));
	bpf_obj_get_info_by_fd(fd, &info, &len);
	printf("# %s: verifier %.*s; %u xlated insns\n", prog, s ? (int)strcspn(s, "(") - 1 : 3,
	       s ? s : "n/a", info.xlated_prog_len / 8);
}

struct bpf_object *np_bpftest_load(const char *name, const char *pin_dir, __u32 features)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	char *logs[NP_BPFTEST_PROGS] = { 0 };
	struct bpf_program *p;
	struct bpf_object *obj;
	char path[PATH_MAX];
	int err, i = 0, n;

	err = np_bpftest_obj_path(path, sizeof(path), name);
	if (err) {
		fprintf(stderr, "locate %s: %s\n", name, strerror(-err));
		return NULL;
	}
	obj = bpf_object__open_file(path, &opts);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	err = np_bpftest_set_features(obj, features);
	if (err) {
		fprintf(stderr, "set cfg.features in %s: %s\n", path, strerror(-err));
		goto err_close;
	}
	bpf_object__for_each_program(p, obj)
	{
		if (i == NP_BPFTEST_PROGS)
			break;
		logs[i] = calloc(1, NP_BPFTEST_LOG);
		if (!logs[i])
			goto err_close;
		bpf_program__set_log_buf(p, logs[i], NP_BPFTEST_LOG);
		bpf_program__set_log_level(p, 4); /* statistics only */
		i++;
	}
	n = i;
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load %s: %s\n", path, strerror(-err));
		goto err_close;
	}
	i = 0;
	bpf_object__for_each_program(p, obj)
	{
		if (i == n)
			break;
		print_stats(bpf_program__name(p), bpf_program__fd(p), logs[i]);
		i++;
	}
	for (i = 0; i < NP_BPFTEST_PROGS; i++)
		free(logs[i]);
	return obj;

err_close:
	bpf_object__close(obj);
	for (i = 0; i < NP_BPFTEST_PROGS; i++)
		free(logs[i]);
	return NULL;
}

int np_bpftest_prog_fd(struct bpf_object *obj, const char *prog)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, prog);

	return p ? bpf_program__fd(p) : -ENOENT;
}

int np_bpftest_counter_sum(int fd, const void *key, int ncpus, struct np_counter *sum)
{
	struct np_counter *v = calloc((size_t)ncpus, sizeof(*v));
	int c, err = 0;

	memset(sum, 0, sizeof(*sum));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, v)) {
		err = -errno;
		goto out;
	}
	for (c = 0; c < ncpus; c++) {
		sum->packets += v[c].packets;
		sum->bytes += v[c].bytes;
	}
out:
	free(v);
	return err;
}

int np_bpftest_maglev_table(int maglev_fd, __u32 slot, const __u32 *ids, int n)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__u32 i, v;
	int fd, err = 0;

	/* The template has BPF_F_INNER_MAP (any size); inner maps must match it. */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "np_mg_test", 4, 4, NP_MAGLEV_DEFAULT, &mopts);
	if (fd < 0)
		return -errno;
	for (i = 0; n && i < NP_MAGLEV_DEFAULT; i++) {
		v = ids[i % (__u32)n];
		if (bpf_map_update_elem(fd, &i, &v, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	if (bpf_map_update_elem(maglev_fd, &slot, &fd, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "put the table np_maglev[%u]: %s\n", slot, strerror(-err));
	}
out:
	close(fd); /* the outer map holds its reference */
	return err;
}

int np_bpftest_run(int prog_fd, int xdp, int ifindex, const void *in, size_t in_len, void *out,
		   size_t out_size, size_t *out_len, __u32 *ret)
{
	struct __sk_buff skb;
	struct xdp_md xmd;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)in_len,
		    .data_out = out, .data_size_out = (__u32)out_size, .repeat = 1);

	if (xdp) {
		memset(&xmd, 0, sizeof(xmd));
		xmd.data_end = (__u32)in_len;
		xmd.ingress_ifindex = (__u32)ifindex;
		opts.ctx_in = &xmd;
		opts.ctx_size_in = sizeof(xmd);
	} else {
		memset(&skb, 0, sizeof(skb));
		skb.ifindex = (__u32)ifindex;
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*out_len = opts.data_size_out;
	*ret = opts.retval;
	return 0;
}

int np_bpftest_addr(const char *a, uint8_t *out)
{
	memset(out, 0, 16);
	if (strchr(a, ':')) {
		inet_pton(AF_INET6, a, out);
		return NP_AF_INET6;
	}
	inet_pton(AF_INET, a, out);
	return NP_AF_INET;
}

void np_bpftest_svc_key(struct np_svc_key *k, const char *vip, __u8 proto, uint16_t port,
			__u8 scope)
{
	uint8_t a[16];

	memset(k, 0, sizeof(*k));
	k->family = (__u8)np_bpftest_addr(vip, a);
	k->proto = proto;
	k->port = htons(port);
	k->scope = scope;
	if (scope == NP_SVC_SCOPE_VIP)
		memcpy(k->addr, a, sizeof(k->addr));
}
