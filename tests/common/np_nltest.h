/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netlink bits the test fixtures need and control/nl.h does not offer:
 * sending one prepared rtnetlink request and permanent neighbours. Both act
 * on the calling thread's current network namespace. No cmocka here: they
 * return 0 or -errno and log nothing.
 */
#ifndef NP_NLTEST_H
#define NP_NLTEST_H

#include <stdint.h>

struct nlmsghdr;

/* Send nlh (flags as the caller set them, with NLM_F_ACK) and wait for the ack. */
int np_nltest_talk(struct nlmsghdr *nlh);
/* Add or replace a permanent neighbour addr (family AF_INET/AF_INET6) -> mac on ifindex. */
int np_nltest_neigh_add(int ifindex, int family, const char *addr, const uint8_t *mac);

#endif /* NP_NLTEST_H */
