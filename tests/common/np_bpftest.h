/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading nodepath's BPF objects for BPF_PROG_TEST_RUN fixtures: a private
 * pin root under /sys/fs/bpf (so objects share their pinned-by-name maps as
 * in production, without touching a real node), cfg.features set in
 * .rodata, and the verifier's statistics for every program printed as a
 * TAP comment. No cmocka here: errors go to stderr and come back as -errno
 * or NULL.
 */
#ifndef NP_BPFTEST_H
#define NP_BPFTEST_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct bpf_object;
struct np_counter;
struct np_svc_key;

/* Create /sys/fs/bpf/nodepath-test-<tag>-<pid> into buf. 0 or -errno. */
int np_bpftest_pin_dir(char *buf, size_t n, const char *tag);
/* Unlink everything pinned in dir, then dir itself. */
void np_bpftest_unpin(const char *dir);
/* build/bpf/<name>: under $NP_TOP, else next to the test binary's build/. */
int np_bpftest_obj_path(char *buf, size_t n, const char *name);
/* Set cfg.features in the opened object's .rodata. 0 or -errno. */
int np_bpftest_set_features(struct bpf_object *obj, __u32 features);
/*
 * Open build/bpf/<name> with pin root pin_dir, set cfg.features, load it
 * and print "# <prog>: verifier processed N insns ...; M xlated insns" for
 * every program. NULL on failure (the verifier log is printed).
 */
struct bpf_object *np_bpftest_load(const char *name, const char *pin_dir, __u32 features);
/* The fd of program prog in obj, or -ENOENT. */
int np_bpftest_prog_fd(struct bpf_object *obj, const char *prog);

/*
 * An address as text (IPv4 dotted or IPv6) into 16 bytes at out, zero
 * padded; returns its NP_AF_INET or NP_AF_INET6.
 */
int np_bpftest_addr(const char *a, uint8_t *out);
/*
 * The np_svc key of vip:port/proto in scope (the address only with
 * NP_SVC_SCOPE_VIP; the family from vip either way).
 */
void np_bpftest_svc_key(struct np_svc_key *k, const char *vip, __u8 proto, uint16_t port,
			__u8 scope);
/*
 * The per-CPU struct np_counter values at key in the map fd summed over
 * ncpus CPUs into *sum. 0 or -errno.
 */
int np_bpftest_counter_sum(int fd, const void *key, int ncpus, struct np_counter *sum);
/*
 * A Maglev table (an inner array of NP_MAGLEV_DEFAULT slots cycling through
 * ids[0..n-1]) put at np_maglev[slot] through maglev_fd. 0 or -errno.
 */
int np_bpftest_maglev_table(int maglev_fd, __u32 slot, const __u32 *ids, int n);
/*
 * One BPF_PROG_TEST_RUN of in (in_len bytes) through prog_fd: an XDP
 * context (xdp) or an skb one, arriving on ifindex. The output frame goes
 * into out (out_size bytes at most), its length into *out_len, the
 * program's verdict into *ret. 0 or -errno.
 */
int np_bpftest_run(int prog_fd, int xdp, int ifindex, const void *in, size_t in_len, void *out,
		   size_t out_size, size_t *out_len, __u32 *ret);

/*
 * For cmocka fixtures (the caller includes cmocka.h): skip the test with
 * "# SKIP: why" when why is not NULL, else require ready.
 */
#define NP_BPFTEST_REQUIRE(why, ready)                       \
	do {                                                 \
		const char *why_ = (why);                    \
		if (why_) {                                  \
			print_message("# SKIP: %s\n", why_); \
			skip();                              \
		}                                            \
		assert_true(ready);                          \
	} while (0)

#endif /* NP_BPFTEST_H */
