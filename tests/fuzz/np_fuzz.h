/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every fuzz target shares: a property check that names the failed
 * condition and aborts, which libFuzzer reports as a crash and saves the
 * input of (build/fuzz/<target>/artifacts/ when run by run-tier.sh).
 */
#ifndef NP_FUZZ_H
#define NP_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define NP_CHECK(c)                                                                              \
	do {                                                                                     \
		if (!(c)) {                                                                      \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#endif /* NP_FUZZ_H */
