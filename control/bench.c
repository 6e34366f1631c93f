// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark driver: runs each scenario script in its own process group,
 * reads the contract lines it prints (see bench/lib.sh), cleans up after it
 * (namespaces with its lab prefix, bench nft tables, pins), and writes the
 * tables, results.json, results.csv and one gnuplot bar chart per scenario.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "bench.h"
#include "log.h"
#include "netns.h"

/* The suite's order; scenarios found but not listed here run after these, by name. */
static const char *const np_bench_order[] = {
	"progrun", "prefilter", "lb-local", "lb-remote",  "newflows",
	"tcp",	   "afxdp",	"control",  "modeswitch",
};

static const char *const np_bench_units[] = { "Mpps",  "ns", "Gbit/s", "conn/s",
					      "req/s", "ms", "us",     "pkts" };

static const char np_bench_lab_chars[] = "123456789abcdefghijklmnopqrstuvwxyz";

/* ---- parsing and statistics ------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int np_bench_stats(const double *v, size_t n, struct np_bench_sum *out)
{
	double *s;

	if (!n)
		return -EINVAL;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	out->min = s[0];
	out->max = s[n - 1];
	if (n % 2) {
		out->median = s[n / 2];
	} else {
		/* The sum of two values near DBL_MAX overflows: halve each instead. */
		out->median = (s[n / 2 - 1] + s[n / 2]) / 2;
		if (!isfinite(out->median))
			out->median = s[n / 2 - 1] / 2 + s[n / 2] / 2;
	}
	free(s);
	return 0;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("_.+/:=@%-", c);
}

/*
 * Next whitespace-separated token of *p into buf (at most size - 1 chars, all
 * name characters when name is set). Returns 0, -ENOENT (no token), -EINVAL.
 */
static int next_token(const char **p, char *buf, size_t size, bool name)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return -ENOENT;
	while (*s && *s != ' ' && *s != '\t') {
		if (n + 1 >= size || (name && !name_char_ok(*s)))
			return -EINVAL;
		buf[n++] = *s++;
	}
	buf[n] = '\0';
	*p = s;
	return 0;
}

/* The rest of the line after blanks; "" when nothing is left. */
static const char *rest(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d))
		return -EINVAL;
	*out = d;
	return 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 8;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

struct np_bench_variant *np_bench_variant_find(const struct np_bench_scen *s, const char *name)
{
	for (size_t i = 0; i < s->n_var; i++)
		if (!strcmp(s->var[i].name, name))
			return &s->var[i];
	return NULL;
}

/*
 * The arrays below grow to exactly the next power-of-two-ish step: their
 * capacity is not stored, so it is recomputed from the count (a capacity of
 * the count rounded up to 8, 16, 32, ... is what grow() made).
 */
static size_t cap_of(size_t n)
{
	size_t c = 0;

	if (!n)
		return 0;
	c = 8;
	while (c < n)
		c *= 2;
	return c;
}

static int add_result(struct np_bench_scen *s, const char *name, unsigned int round, double v,
		      const char *unit, char *err, size_t errlen)
{
	struct np_bench_variant *var = np_bench_variant_find(s, name);
	size_t cap;

	if (var && strcmp(var->unit, unit)) {
		snprintf(err, errlen, "variant %s changes unit from %s to %s", name, var->unit,
			 unit);
		return -EINVAL;
	}
	if (!var) {
		cap = cap_of(s->n_var);
		if (grow((void **)&s->var, &cap, s->n_var, sizeof(*s->var)))
			goto nomem;
		var = &s->var[s->n_var++];
		memset(var, 0, sizeof(*var));
		snprintf(var->name, sizeof(var->name), "%s", name);
		snprintf(var->unit, sizeof(var->unit), "%s", unit);
	}
	if (var->n >= var->cap) {
		size_t c = var->cap ? var->cap * 2 : 8;
		double *v2 = realloc(var->vals, c * sizeof(*v2));
		unsigned int *r2;

		if (!v2)
			goto nomem;
		var->vals = v2;
		r2 = realloc(var->rounds, c * sizeof(*r2));
		if (!r2)
			goto nomem;
		var->rounds = r2;
		var->cap = c;
	}
	var->vals[var->n] = v;
	var->rounds[var->n] = round;
	var->n++;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -EINVAL;
}

#define PUSH(s, arr, cnt, err, errlen)                                                   \
	({                                                                               \
		size_t __cap = cap_of((s)->cnt);                                         \
		int __r = grow((void **)&(s)->arr, &__cap, (s)->cnt, sizeof(*(s)->arr)); \
		if (__r)                                                                 \
			snprintf(err, errlen, "out of memory");                          \
		__r ? NULL : &(s)->arr[(s)->cnt++];                                      \
	})

static bool unit_ok(const char *u)
{
	for (size_t i = 0; i < sizeof(np_bench_units) / sizeof(np_bench_units[0]); i++)
		if (!strcmp(u, np_bench_units[i]))
			return true;
	return false;
}

int np_bench_parse_line(struct np_bench_scen *s, const char *line, const char **text, char *err,
			size_t errlen)
{
	char kind[16], a[2 * NP_BENCH_NAME_MAX], b[NP_BENCH_NAME_MAX], c[NP_BENCH_NAME_MAX];
	char num[64], unit[16];
	const char *p = line;
	double v;
	int ret;

	*text = NULL;
	ret = next_token(&p, kind, sizeof(kind), true);
	if (ret == -ENOENT)
		return NP_BL_EMPTY;
	if (ret) {
		snprintf(err, errlen, "unknown line kind");
		return -EINVAL;
	}
	if (!strcmp(kind, "progress")) {
		*text = rest(p);
		return NP_BL_PROGRESS;
	}
	if (!strcmp(kind, "note")) {
		char(*n)[NP_BENCH_TEXT_MAX] = PUSH(s, note, n_note, err, errlen);

		if (!n)
			return -EINVAL;
		snprintf(*n, sizeof(*n), "%s", rest(p));
		return NP_BL_NOTE;
	}
	if (!strcmp(kind, "result")) {
		unsigned long r;
		char *end;

		if (next_token(&p, b, sizeof(b), true) || next_token(&p, c, sizeof(c), false) ||
		    next_token(&p, num, sizeof(num), false) ||
		    next_token(&p, unit, sizeof(unit), false) || *rest(p)) {
			snprintf(err, errlen, "expected: result VARIANT ROUND VALUE UNIT");
			return -EINVAL;
		}
		errno = 0;
		r = strtoul(c, &end, 10);
		if (errno || *end || c[0] < '1' || c[0] > '9' || r > 1000000) {
			snprintf(err, errlen, "round \"%s\": expected a number >= 1", c);
			return -EINVAL;
		}
		if (parse_double(num, &v)) {
			snprintf(err, errlen, "value \"%s\": expected a number", num);
			return -EINVAL;
		}
		if (!unit_ok(unit)) {
			snprintf(err, errlen,
				 "unit \"%s\": expected Mpps, ns, Gbit/s, conn/s, req/s, ms, us or "
				 "pkts",
				 unit);
			return -EINVAL;
		}
		if (add_result(s, b, r, v, unit, err, errlen))
			return -EINVAL;
		return NP_BL_RESULT;
	}
	if (!strcmp(kind, "baseline")) {
		char(*n)[NP_BENCH_NAME_MAX];

		if (next_token(&p, b, sizeof(b), true) || *rest(p)) {
			snprintf(err, errlen, "expected: baseline VARIANT");
			return -EINVAL;
		}
		for (size_t i = 0; i < s->n_base; i++)
			if (!strcmp(s->base[i], b))
				return NP_BL_BASELINE;
		n = PUSH(s, base, n_base, err, errlen);
		if (!n)
			return -EINVAL;
		snprintf(*n, sizeof(*n), "%s", b);
		return NP_BL_BASELINE;
	}
	if (!strcmp(kind, "ratio")) {
		struct np_bench_ratio *r;

		if (next_token(&p, a, sizeof(a), true) || next_token(&p, b, sizeof(b), true) ||
		    next_token(&p, c, sizeof(c), true) || *rest(p)) {
			snprintf(err, errlen, "expected: ratio NAME NUM DEN");
			return -EINVAL;
		}
		r = PUSH(s, ratio, n_ratio, err, errlen);
		if (!r)
			return -EINVAL;
		snprintf(r->name, sizeof(r->name), "%s", a);
		snprintf(r->num, sizeof(r->num), "%s", b);
		snprintf(r->den, sizeof(r->den), "%s", c);
		return NP_BL_RATIO;
	}
	if (!strcmp(kind, "target")) {
		struct np_bench_target *t;
		enum np_bench_op op;

		if (next_token(&p, a, sizeof(a), true) || next_token(&p, b, sizeof(b), false) ||
		    next_token(&p, num, sizeof(num), false)) {
			snprintf(err, errlen, "expected: target NAME >=|<= VALUE [TEXT]");
			return -EINVAL;
		}
		if (!strcmp(b, ">="))
			op = NP_BENCH_GE;
		else if (!strcmp(b, "<="))
			op = NP_BENCH_LE;
		else {
			snprintf(err, errlen, "operator \"%s\": expected >= or <=", b);
			return -EINVAL;
		}
		if (parse_double(num, &v)) {
			snprintf(err, errlen, "value \"%s\": expected a number", num);
			return -EINVAL;
		}
		t = PUSH(s, target, n_target, err, errlen);
		if (!t)
			return -EINVAL;
		snprintf(t->name, sizeof(t->name), "%s", a);
		t->op = op;
		t->value = v;
		snprintf(t->text, sizeof(t->text), "%s", rest(p));
		return NP_BL_TARGET;
	}
	if (!strcmp(kind, "skip")) {
		struct np_bench_skip *k;

		if (next_token(&p, b, sizeof(b), true) || !*rest(p)) {
			snprintf(err, errlen, "expected: skip VARIANT REASON");
			return -EINVAL;
		}
		k = PUSH(s, skip, n_skip, err, errlen);
		if (!k)
			return -EINVAL;
		snprintf(k->variant, sizeof(k->variant), "%s", b);
		snprintf(k->reason, sizeof(k->reason), "%s", rest(p));
		return NP_BL_SKIP;
	}
	snprintf(err, errlen, "unknown line kind \"%s\"", kind);
	return -EINVAL;
}

int np_bench_ratio_value(const struct np_bench_scen *s, const char *num, const char *den,
			 double *out)
{
	struct np_bench_variant *n = np_bench_variant_find(s, num),
				*d = np_bench_variant_find(s, den);
	struct np_bench_sum sn, sd;

	if (!n || !d || np_bench_stats(n->vals, n->n, &sn) || np_bench_stats(d->vals, d->n, &sd))
		return -ENOENT;
	if (sd.median == 0 || !isfinite(sn.median / sd.median))
		return -ERANGE;
	*out = sn.median / sd.median;
	return 0;
}

int np_bench_target_eval(const struct np_bench_scen *s, const struct np_bench_target *t,
			 double *measured, bool *met)
{
	struct np_bench_variant *v;
	struct np_bench_sum sum;
	int ret = -ENOENT;

	for (size_t i = 0; i < s->n_ratio; i++) {
		if (strcmp(s->ratio[i].name, t->name))
			continue;
		ret = np_bench_ratio_value(s, s->ratio[i].num, s->ratio[i].den, measured);
		break;
	}
	if (ret == -ENOENT) {
		v = np_bench_variant_find(s, t->name);
		if (v && !np_bench_stats(v->vals, v->n, &sum)) {
			*measured = sum.median;
			ret = 0;
		}
	}
	if (ret)
		return ret;
	*met = t->op == NP_BENCH_GE ? *measured >= t->value : *measured <= t->value;
	return 0;
}

void np_bench_scen_free(struct np_bench_scen *s)
{
	for (size_t i = 0; i < s->n_var; i++) {
		free(s->var[i].vals);
		free(s->var[i].rounds);
	}
	free(s->var);
	free(s->base);
	free(s->ratio);
	free(s->target);
	free(s->skip);
	free(s->note);
	memset(s, 0, sizeof(*s));
}

/* ---- the scenarios on disk -------------------------------------------- */

static int order_of(const char *name)
{
	for (size_t i = 0; i < sizeof(np_bench_order) / sizeof(np_bench_order[0]); i++)
		if (!strcmp(np_bench_order[i], name))
			return (int)i;
	return (int)(sizeof(np_bench_order) / sizeof(np_bench_order[0]));
}

static int cmp_scen(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int ox = order_of(x), oy = order_of(y);

	return ox != oy ? ox - oy : strcmp(x, y);
}

int np_bench_list(const char *top, char ***names, size_t *n)
{
	char dir[4096], **v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/bench/scenarios", top);
	d = opendir(dir);
	if (!d) {
		np_err("bench: open %s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l < 4 || l - 3 >= NP_BENCH_NAME_MAX || strcmp(e->d_name + l - 3, ".sh") ||
		    e->d_name[0] == '.')
			continue;
		if (grow((void **)&v, &cap, cnt, sizeof(*v)))
			goto nomem;
		v[cnt] = strndup(e->d_name, l - 3);
		if (!v[cnt])
			goto nomem;
		cnt++;
	}
	closedir(d);
	qsort(v, cnt, sizeof(*v), cmp_scen);
	*names = v;
	*n = cnt;
	return 0;
nomem:
	closedir(d);
	for (size_t i = 0; i < cnt; i++)
		free(v[i]);
	free(v);
	np_err("bench: list %s: out of memory", dir);
	return -ENOMEM;
}

/* ---- helpers: commands, files ----------------------------------------- */

/* Run argv (stdin /dev/null, stderr to /dev/null unless errfd >= 0); capture stdout into buf. */
static int run_capture(char *const argv[], char *buf, size_t len, int errfd)
{
	size_t n = 0;
	int p[2], st;
	pid_t pid;
	ssize_t r;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(errfd >= 0 ? errfd : nul, 2);
		close(p[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], buf + n, len - 1 - n)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			n += r;
	buf[n] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t l = strlen(path);

	if (l >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, l + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* ---- cleanup after a scenario ----------------------------------------- */

/* Delete what a scenario with lab prefix pfx left: pins, namespaces, nft tables. */
static unsigned int sweep(const char *bin, const char *pfx, const char *scen)
{
	char path[4096], out[8192];
	unsigned int left = 0;
	struct dirent *e;
	DIR *d;

	d = opendir("/sys/fs/bpf/nodepath");
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, pfx, strlen(pfx)))
			continue;
		np_warn("bench: %s left pins in /sys/fs/bpf/nodepath/%s; removing them", scen,
			e->d_name);
		left++;
		if (np_netns_exists(e->d_name)) {
			char *purge[] = {
				(char *)bin, "--node", e->d_name, "down", "--purge", NULL
			};
			char *argv[] = { (char *)bin, "--node", e->d_name, "down", NULL };

			if (run_capture(purge, out, sizeof(out), -1))
				run_capture(argv, out, sizeof(out), -1);
		}
		snprintf(path, sizeof(path), "/sys/fs/bpf/nodepath/%s", e->d_name);
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (d)
		closedir(d);
	d = opendir("/run/netns");
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, pfx, strlen(pfx)))
			continue;
		np_warn("bench: %s left network namespace %s; deleting it", scen, e->d_name);
		left++;
		np_netns_delete(e->d_name);
	}
	if (d)
		closedir(d);
	{
		char *argv[] = { "nft", "list", "tables", NULL };
		char *save = NULL, *l;

		if (run_capture(argv, out, sizeof(out), -1) == 0) {
			for (l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
				char fam[32], name[128];

				if (sscanf(l, "table %31s %127s", fam, name) != 2 ||
				    strncmp(name, "nodepath_bench", 14))
					continue;
				np_warn("bench: %s left nft table %s %s; deleting it", scen, fam,
					name);
				left++;
				char *del[] = { "nft", "delete", "table", fam, name, NULL };
				char o2[256];

				run_capture(del, o2, sizeof(o2), -1);
			}
		}
	}
	return left;
}

/* ---- running one scenario --------------------------------------------- */

static volatile sig_atomic_t np_bench_sig;
static volatile pid_t np_bench_pgid;

static void on_signal(int sig)
{
	np_bench_sig = sig;
	if (np_bench_pgid > 0)
		kill(-np_bench_pgid, sig);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct line_ctx {
	const struct np_bench_opts *o;
	struct np_bench_scen *s;
	unsigned int lineno;
	FILE *live; /* where progress goes */
};

static void handle_line(struct line_ctx *c, const char *line)
{
	const char *text;
	char err[256];
	int k;

	c->lineno++;
	k = np_bench_parse_line(c->s, line, &text, err, sizeof(err));
	if (k < 0) {
		c->s->bad_lines++;
		np_warn("bench: %s: stdout line %u ignored: %s: \"%.120s\"", c->s->name, c->lineno,
			err, line);
		return;
	}
	if (k == NP_BL_PROGRESS) {
		fprintf(c->live, "  [%s] %s\n", c->s->name, text);
	} else if (k == NP_BL_RESULT) {
		struct np_bench_variant *v = NULL;

		/* the variant that just grew is the one named on the line */
		for (size_t i = 0; i < c->s->n_var; i++) {
			char b[NP_BENCH_NAME_MAX + 8];

			snprintf(b, sizeof(b), "result %s ", c->s->var[i].name);
			if (!strncmp(rest(line), b, strlen(b)))
				v = &c->s->var[i];
		}
		if (v)
			fprintf(c->live, "  [%s] %-20s round %u: %.4g %s\n", c->s->name, v->name,
				v->rounds[v->n - 1], v->vals[v->n - 1], v->unit);
	} else if (k == NP_BL_SKIP) {
		fprintf(c->live, "  [%s] skip %s: %s\n", c->s->name,
			c->s->skip[c->s->n_skip - 1].variant, c->s->skip[c->s->n_skip - 1].reason);
	}
	fflush(c->live);
}

static void feed(struct line_ctx *c, char *buf, size_t *len, bool eof)
{
	char *nl, *start = buf;

	buf[*len] = '\0';
	while ((nl = strchr(start, '\n'))) {
		*nl = '\0';
		handle_line(c, start);
		start = nl + 1;
	}
	*len -= start - buf;
	memmove(buf, start, *len);
	if (eof && *len) {
		buf[*len] = '\0';
		handle_line(c, buf);
		*len = 0;
	}
}

static void set_env_num(const char *k, double v, const char *fmt)
{
	char b[64];

	snprintf(b, sizeof(b), fmt, v);
	setenv(k, b, 1);
}

static int run_scenario(const struct np_bench_opts *o, struct np_bench_scen *s, const char *pfx,
			FILE *live)
{
	char script[4096], logp[4096], buf[16384];
	struct line_ctx c = { .o = o, .s = s, .live = live };
	double t0 = now_s(), killed_at = 0;
	size_t len = 0;
	int p[2], st = 0, logfd;
	bool done = false;
	pid_t pid;

	snprintf(script, sizeof(script), "%s/bench/scenarios/%s.sh", o->top, s->name);
	snprintf(logp, sizeof(logp), "%s/%s.log", o->out, s->name);
	logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		np_err("bench: open %s: %s", logp, strerror(errno));
		return -errno;
	}
	if (pipe2(p, O_CLOEXEC)) {
		np_err("bench: pipe: %s", strerror(errno));
		close(logfd);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		np_err("bench: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		close(logfd);
		return -errno;
	}
	if (!pid) {
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(logfd, 2);
		setenv("NP_TOP", o->top, 1);
		setenv("NP_BIN", o->bin, 1);
		set_env_num("BENCH_ROUNDS", o->rounds, "%.0f");
		set_env_num("BENCH_DURATION", o->duration, "%g");
		setenv("BENCH_LAB", pfx, 1);
		setenv("BENCH_SMOKE", o->smoke ? "1" : "0", 1);
		setenv("BENCH_OUT", o->out, 1);
		setenv("BENCH_NAME", s->name, 1);
		if (chdir(o->top))
			_exit(127);
		execl("/bin/bash", "bash", script, (char *)NULL);
		fprintf(stderr, "exec /bin/bash %s: %s\n", script, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	np_bench_pgid = pid;
	s->ran = true;
	close(p[1]);
	close(logfd);
	fcntl(p[0], F_SETFL, O_NONBLOCK);

	while (!done) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		double el = now_s() - t0;
		ssize_t r;

		poll(&pfd, 1, 500);
		for (;;) {
			r = read(p[0], buf + len, sizeof(buf) - 1 - len);
			if (r > 0) {
				len += r;
				if (len == sizeof(buf) - 1) {
					/* an overlong line: parse what is there */
					buf[len++] = '\n';
				}
				feed(&c, buf, &len, false);
				continue;
			}
			break;
		}
		if (r == 0) /* EOF: every writer is gone */
			break;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			/* exited, but someone it left behind still holds stdout */
			pid = 0;
			done = true;
		}
		if (!killed_at && (np_bench_sig || el > o->timeout)) {
			if (!np_bench_sig)
				np_err("bench: %s: still running after %u s; stopping it", s->name,
				       o->timeout);
			kill(-np_bench_pgid, SIGTERM);
			killed_at = el;
		} else if (killed_at && el > killed_at + 15) {
			kill(-np_bench_pgid, SIGKILL);
		}
	}
	feed(&c, buf, &len, true);
	close(p[0]);
	if (pid)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	/* whatever of its process group is still around goes now */
	kill(-np_bench_pgid, SIGKILL);
	np_bench_pgid = 0;
	s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	s->ok = s->status == 0 && !killed_at;
	s->seconds = now_s() - t0;
	return 0;
}

/* ---- machine ---------------------------------------------------------- */

static void trim(char *s)
{
	size_t l = strlen(s);

	while (l && (s[l - 1] == '\n' || s[l - 1] == ' '))
		s[--l] = '\0';
}

static struct json_object *machine_json(void)
{
	struct json_object *m = json_object_new_object();
	char line[512], cpu[256] = "unknown", virt[64] = "", buf[256];
	long long mem_kb = 0;
	struct utsname u;
	FILE *f;

	uname(&u);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			snprintf(cpu, sizeof(cpu), "%s", c + 2);
			trim(cpu);
		}
		if (!strncmp(line, "flags", 5) && strstr(line, " hypervisor") && !virt[0])
			snprintf(virt, sizeof(virt), "vm");
	}
	if (f)
		fclose(f);
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lld kB", &mem_kb) == 1)
			break;
	if (f)
		fclose(f);
	{
		char *argv[] = { "systemd-detect-virt", NULL };

		/* a container inside a VM: say both */
		if (run_capture(argv, buf, sizeof(buf), -1) >= 0 && buf[0]) {
			trim(buf);
			if (strcmp(buf, "none") && virt[0] && strlen(buf) < 40)
				snprintf(virt, sizeof(virt), "%s in a vm", buf);
			else if (strcmp(buf, "none"))
				snprintf(virt, sizeof(virt), "%s", buf);
		}
	}
	json_object_object_add(m, "hostname", json_object_new_string(u.nodename));
	json_object_object_add(m, "kernel", json_object_new_string(u.release));
	json_object_object_add(m, "cpu", json_object_new_string(cpu));
	json_object_object_add(m, "cpus", json_object_new_int(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(m, "memory_mib", json_object_new_int64(mem_kb / 1024));
	json_object_object_add(m, "virt", json_object_new_string(virt[0] ? virt : "none"));
	return m;
}

static void commit_of(const char *top, char *out, size_t len)
{
	char *argv[] = { "git", "-C", (char *)top, "rev-parse", "HEAD", NULL };
	char *diff[] = {
		"git", "-C", (char *)top, "diff", "--no-ext-diff", "--quiet", "HEAD", NULL
	};
	char b[128], d[64];
	int dirty;

	snprintf(out, len, "unknown");
	if (run_capture(argv, b, sizeof(b), -1) != 0 || !b[0])
		return;
	trim(b);
	/* read-only: diff --quiet exits 1 when the tree differs from HEAD */
	dirty = run_capture(diff, d, sizeof(d), -1) == 1;
	snprintf(out, len, "%s%s", b, dirty ? "-dirty" : "");
}

/* ---- output ----------------------------------------------------------- */

static struct json_object *jnum(double d)
{
	char b[64];

	snprintf(b, sizeof(b), "%.6g", d);
	return json_object_new_double_s(d, b);
}

static struct json_object *scen_json(const struct np_bench_scen *s)
{
	struct json_object *o = json_object_new_object(), *vars = json_object_new_object();
	struct json_object *rat = json_object_new_object(), *tg = json_object_new_array();
	struct json_object *sk = json_object_new_object(), *notes = json_object_new_array();
	struct json_object *bl = json_object_new_array();

	for (size_t i = 0; i < s->n_var; i++) {
		const struct np_bench_variant *v = &s->var[i];
		struct json_object *vo = json_object_new_object(), *r = json_object_new_array();
		struct np_bench_sum sum;

		if (np_bench_stats(v->vals, v->n, &sum))
			continue;
		json_object_object_add(vo, "median", jnum(sum.median));
		json_object_object_add(vo, "min", jnum(sum.min));
		json_object_object_add(vo, "max", jnum(sum.max));
		json_object_object_add(vo, "unit", json_object_new_string(v->unit));
		for (size_t k = 0; k < v->n; k++)
			json_object_array_add(r, jnum(v->vals[k]));
		json_object_object_add(vo, "rounds", r);
		json_object_object_add(vars, v->name, vo);
	}
	for (size_t i = 0; i < s->n_base; i++)
		json_object_array_add(bl, json_object_new_string(s->base[i]));
	for (size_t i = 0; i < s->n_ratio; i++) {
		double d;

		if (!np_bench_ratio_value(s, s->ratio[i].num, s->ratio[i].den, &d))
			json_object_object_add(rat, s->ratio[i].name, jnum(d));
		else
			json_object_object_add(rat, s->ratio[i].name, NULL);
	}
	for (size_t i = 0; i < s->n_target; i++) {
		const struct np_bench_target *t = &s->target[i];
		struct json_object *to = json_object_new_object();
		double m;
		bool met;
		int ret = np_bench_target_eval(s, t, &m, &met);

		json_object_object_add(to, "name", json_object_new_string(t->name));
		json_object_object_add(to, "op",
				       json_object_new_string(t->op == NP_BENCH_GE ? ">=" : "<="));
		json_object_object_add(to, "value", jnum(t->value));
		json_object_object_add(to, "measured", ret ? NULL : jnum(m));
		json_object_object_add(to, "met", ret ? NULL : json_object_new_boolean(met));
		if (t->text[0])
			json_object_object_add(to, "text", json_object_new_string(t->text));
		json_object_array_add(tg, to);
	}
	for (size_t i = 0; i < s->n_skip; i++)
		json_object_object_add(sk, s->skip[i].variant,
				       json_object_new_string(s->skip[i].reason));
	for (size_t i = 0; i < s->n_note; i++)
		json_object_array_add(notes, json_object_new_string(s->note[i]));
	json_object_object_add(o, "variants", vars);
	json_object_object_add(o, "baselines", bl);
	json_object_object_add(o, "ratios", rat);
	json_object_object_add(o, "targets", tg);
	json_object_object_add(o, "skipped", sk);
	json_object_object_add(o, "notes", notes);
	json_object_object_add(o, "ok", json_object_new_boolean(s->ok));
	json_object_object_add(o, "exit", json_object_new_int(s->status));
	json_object_object_add(o, "seconds", jnum(s->seconds));
	json_object_object_add(o, "malformed_lines", json_object_new_int(s->bad_lines));
	return o;
}

static void print_table(FILE *f, const struct np_bench_scen *s, const char *out)
{
	fprintf(f, "\n== %s: %s (%.1f s)", s->name, s->ok ? "ok" : (s->ran ? "FAILED" : "not run"),
		s->seconds);
	if (!s->ok && s->ran)
		fprintf(f, ", exit %d, see %s/%s.log", s->status, out, s->name);
	fprintf(f, " ==\n");
	if (s->n_var) {
		fprintf(f, "%-22s %10s %10s %10s %-7s %2s", "variant", "median", "min", "max",
			"unit", "n");
		for (size_t b = 0; b < s->n_base; b++)
			fprintf(f, " %13.13s", s->base[b]);
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < s->n_var; i++) {
		const struct np_bench_variant *v = &s->var[i];
		struct np_bench_sum sum;

		if (np_bench_stats(v->vals, v->n, &sum))
			continue;
		fprintf(f, "%-22s %10.4g %10.4g %10.4g %-7s %2zu", v->name, sum.median, sum.min,
			sum.max, v->unit, v->n);
		for (size_t b = 0; b < s->n_base; b++) {
			struct np_bench_variant *bv = np_bench_variant_find(s, s->base[b]);
			double r;

			if (bv && !strcmp(bv->unit, v->unit) &&
			    !np_bench_ratio_value(s, v->name, bv->name, &r))
				fprintf(f, " %12.3gx", r);
			else
				fprintf(f, " %13s", "-");
		}
		fprintf(f, "\n");
	}
	if (s->n_base) {
		fprintf(f, "(the last columns are ratios of medians: variant / ");
		for (size_t b = 0; b < s->n_base; b++)
			fprintf(f, "%s%s", b ? ", " : "", s->base[b]);
		fprintf(f, ")\n");
	}
	for (size_t i = 0; i < s->n_ratio; i++) {
		double d;

		if (!np_bench_ratio_value(s, s->ratio[i].num, s->ratio[i].den, &d))
			fprintf(f, "ratio  %-30s %8.4gx\n", s->ratio[i].name, d);
		else
			fprintf(f, "ratio  %-30s %9s (no results)\n", s->ratio[i].name, "-");
	}
	for (size_t i = 0; i < s->n_target; i++) {
		const struct np_bench_target *t = &s->target[i];
		double m;
		bool met;

		if (np_bench_target_eval(s, t, &m, &met))
			fprintf(f, "target %-30s %s %-8g  not measured%s%s\n", t->name,
				t->op == NP_BENCH_GE ? ">=" : "<=", t->value,
				t->text[0] ? "  " : "", t->text);
		else
			fprintf(f, "target %-30s %s %-8g  %-6s (measured %.4g)%s%s\n", t->name,
				t->op == NP_BENCH_GE ? ">=" : "<=", t->value,
				met ? "met" : "MISSED", m, t->text[0] ? "  " : "", t->text);
	}
	for (size_t i = 0; i < s->n_skip; i++)
		fprintf(f, "skip   %-30s %s\n", s->skip[i].variant, s->skip[i].reason);
	for (size_t i = 0; i < s->n_note; i++)
		fprintf(f, "note   %s\n", s->note[i]);
	if (s->bad_lines)
		fprintf(f, "(%u malformed line(s) ignored; see the warnings above)\n",
			s->bad_lines);
}

static int write_csv(const char *out, const struct np_bench_scen *sc, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/results.csv", out);
	f = fopen(path, "w");
	if (!f) {
		np_err("bench: write %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "scenario,variant,round,value,unit\n");
	for (size_t i = 0; i < n; i++)
		for (size_t v = 0; v < sc[i].n_var; v++)
			for (size_t k = 0; k < sc[i].var[v].n; k++)
				fprintf(f, "%s,%s,%u,%.6g,%s\n", sc[i].name, sc[i].var[v].name,
					sc[i].var[v].rounds[k], sc[i].var[v].vals[k],
					sc[i].var[v].unit);
	if (fclose(f)) {
		np_err("bench: write %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static bool have_gnuplot(void)
{
	char *argv[] = { "gnuplot", "--version", NULL };
	char b[128];

	return run_capture(argv, b, sizeof(b), -1) == 0;
}

static int plot(const char *out, const struct np_bench_scen *s, const char *term)
{
	char dat[4096], gp[4096], png[4096], b[4096], units[128] = "";
	char *argv[] = { "gnuplot", gp, NULL };
	size_t rows = 0;
	FILE *f;
	int ret;

	snprintf(dat, sizeof(dat), "%s/plots/%s.dat", out, s->name);
	snprintf(gp, sizeof(gp), "%s/plots/%s.gp", out, s->name);
	snprintf(png, sizeof(png), "%s/plots/%s.png", out, s->name);
	f = fopen(dat, "w");
	if (!f)
		return -errno;
	for (size_t i = 0; i < s->n_var; i++) {
		struct np_bench_sum sum;

		if (np_bench_stats(s->var[i].vals, s->var[i].n, &sum))
			continue;
		fprintf(f, "\"%s\" %g %g %g\n", s->var[i].name, sum.median, sum.min, sum.max);
		if (!strstr(units, s->var[i].unit) && strlen(units) + 20 < sizeof(units))
			snprintf(units + strlen(units), sizeof(units) - strlen(units), "%s%s",
				 units[0] ? ", " : "", s->var[i].unit);
		rows++;
	}
	fclose(f);
	if (!rows)
		return 0;
	f = fopen(gp, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"set terminal %s size 900,520\n"
		"set output '%s'\n"
		"set title '%s: median of %s, error bars min..max'\n"
		"set ylabel '%s'\n"
		"set style fill solid 0.6 border -1\n"
		"set boxwidth 0.6\n"
		"set yrange [0:*]\n"
		"set xrange [-0.6:%zu-0.4]\n"
		"set grid ytics\n"
		"set xtics rotate by -30 nomirror\n"
		"plot '%s' using 0:2:xtic(1) with boxes lc rgb '#4a7ab5' notitle, \\\n"
		"     '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0 notitle\n",
		term, png, s->name, "rounds", units, rows, dat);
	fclose(f);
	ret = run_capture(argv, b, sizeof(b), -1);
	if (ret) {
		np_warn("bench: gnuplot %s exited %d; no plot for %s", gp, ret, s->name);
		return -EIO;
	}
	return 0;
}

static void plots(const char *out, const struct np_bench_scen *sc, size_t n)
{
	char dir[4096], b[256];
	char *argv[] = { "gnuplot", "-e", "set terminal pngcairo", NULL };
	const char *term;

	if (!have_gnuplot()) {
		np_warn("bench: gnuplot is not installed; no plots (apt-get install gnuplot-nox)");
		return;
	}
	term = run_capture(argv, b, sizeof(b), -1) == 0 ? "pngcairo" : "png";
	snprintf(dir, sizeof(dir), "%s/plots", out);
	if (mkdir_p(dir)) {
		np_err("bench: mkdir %s: %s", dir, strerror(errno));
		return;
	}
	for (size_t i = 0; i < n; i++)
		plot(out, &sc[i], term);
}

/* ---- the run ---------------------------------------------------------- */

int np_bench_run(const struct np_bench_opts *o)
{
	struct json_object *root = NULL, *scens;
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	FILE *live = o->json ? stderr : stdout;
	struct np_bench_scen *sc;
	char path[4096], commit[128], date[64];
	bool all_ok = true;
	time_t t = time(NULL);
	size_t ran = 0;
	int ret;

	ret = mkdir_p(o->out);
	if (ret) {
		np_err("bench: mkdir %s: %s", o->out, strerror(-ret));
		return 1;
	}
	sc = calloc(o->n_scen ? o->n_scen : 1, sizeof(*sc));
	if (!sc) {
		np_err("bench: out of memory");
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	np_bench_sig = 0;

	commit_of(o->top, commit, sizeof(commit));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(live,
		"nodepath bench: %zu scenario(s), %u round(s), %g s per measurement%s; "
		"raw logs in %s\n",
		o->n_scen, o->rounds, o->duration, o->smoke ? ", smoke" : "", o->out);
	for (size_t i = 0; i < o->n_scen && !np_bench_sig; i++) {
		char pfx[8];
		char **all;
		size_t n_all, idx = 0;

		snprintf(sc[i].name, sizeof(sc[i].name), "%s", o->scen[i]);
		/* the prefix follows the scenario's place in the suite, so it is stable */
		if (!np_bench_list(o->top, &all, &n_all)) {
			for (size_t k = 0; k < n_all; k++) {
				if (!strcmp(all[k], o->scen[i]))
					idx = k;
				free(all[k]);
			}
			free(all);
		}
		snprintf(pfx, sizeof(pfx), "%.2s%c", o->lab_prefix,
			 np_bench_lab_chars[idx % (sizeof(np_bench_lab_chars) - 1)]);
		fprintf(live, "-- %s (%zu/%zu, labs %s*)\n", sc[i].name, i + 1, o->n_scen, pfx);
		fflush(live);
		sweep(o->bin, pfx, "an earlier run");
		ret = run_scenario(o, &sc[i], pfx, live);
		ran++;
		if (sweep(o->bin, pfx, sc[i].name))
			np_warn("bench: %s did not clean up after itself", sc[i].name);
		if (ret || !sc[i].ok) {
			all_ok = false;
			if (np_bench_sig)
				fprintf(live, "-- %s: interrupted\n", sc[i].name);
			else
				fprintf(live, "-- %s: FAILED (exit %d) in %.1f s; see %s/%s.log\n",
					sc[i].name, sc[i].status, sc[i].seconds, o->out,
					sc[i].name);
		} else {
			fprintf(live, "-- %s: ok in %.1f s\n", sc[i].name, sc[i].seconds);
		}
		fflush(live);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (np_bench_sig)
		all_ok = false;

	root = json_object_new_object();
	scens = json_object_new_object();
	json_object_object_add(root, "machine", machine_json());
	json_object_object_add(root, "commit", json_object_new_string(commit));
	json_object_object_add(root, "date", json_object_new_string(date));
	json_object_object_add(root, "command", json_object_new_string(o->command));
	json_object_object_add(root, "rounds", json_object_new_int(o->rounds));
	json_object_object_add(root, "duration", jnum(o->duration));
	json_object_object_add(root, "smoke", json_object_new_boolean(o->smoke));
	for (size_t i = 0; i < ran; i++)
		json_object_object_add(scens, sc[i].name, scen_json(&sc[i]));
	json_object_object_add(root, "scenarios", scens);
	json_object_object_add(root, "ok", json_object_new_boolean(all_ok));
	snprintf(path, sizeof(path), "%s/results.json", o->out);
	if (json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY)) {
		np_err("bench: write %s: %s", path, json_util_get_last_err());
		all_ok = false;
	}
	if (write_csv(o->out, sc, ran))
		all_ok = false;
	plots(o->out, sc, ran);

	if (o->json) {
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
	} else {
		for (size_t i = 0; i < ran; i++)
			print_table(stdout, &sc[i], o->out);
		printf("\nresults: %s/results.json, %s/results.csv, %s/plots/; %s\n", o->out,
		       o->out, o->out, all_ok ? "all scenarios ok" : "SOME SCENARIOS FAILED");
	}
	json_object_put(root);
	for (size_t i = 0; i < o->n_scen; i++)
		np_bench_scen_free(&sc[i]);
	free(sc);
	return all_ok ? 0 : 1;
}
