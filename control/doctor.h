/* SPDX-License-Identifier: GPL-2.0 */
/* `nodepath doctor`: what this kernel and the uplink support, probed, not guessed. */
#ifndef NP_DOCTOR_H
#define NP_DOCTOR_H

#include <stdbool.h>

#include "node.h"

enum np_probe_result {
	NP_PROBE_NO = 0,
	NP_PROBE_YES = 1,
	NP_PROBE_NA = 2,   /* could not be probed here; the detail says why */
	NP_PROBE_INFO = 3, /* a fact (versions), not a yes/no */
};

struct np_probe {
	char name[24];
	int result; /* enum np_probe_result */
	char detail[200];
};

#define NP_DOCTOR_MAX_PROBES 12

/*
 * Run every probe for node n; dev overrides the node's uplink for the native
 * XDP probe. Fills out[] (up to NP_DOCTOR_MAX_PROBES) and returns the count,
 * or -errno. Probes that attach anything run in a throwaway netns made by a
 * forked child, except the native XDP probe, which acts on the uplink only
 * when nothing is attached and detaches at once.
 */
int np_doctor_probe(struct np_node *n, const char *dev, struct np_probe *out);
/* Probe and print one line per probe (or JSON); 0 or -errno. */
int np_doctor_run(struct np_node *n, const char *dev, bool json);

#endif /* NP_DOCTOR_H */
