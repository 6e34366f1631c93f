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
#include <linux/types.h>

struct bpf_object;

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

#endif /* NP_BPFTEST_H */
