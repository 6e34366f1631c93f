/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Incremental Internet checksum updates (RFC 1624, eq. 3:
 * HC' = ~(~HC + ~m + m')), plain C on 16-bit words in memory order, so the
 * same arithmetic serves XDP, tc and a user-space build.
 *
 * These helpers assume the checksum field holds a complete checksum. That
 * is true of every IPv4 header checksum, and of the L4 checksum of a frame
 * in XDP (a NIC never hands XDP a CHECKSUM_PARTIAL frame). It is NOT true
 * of a tc skb in CHECKSUM_PARTIAL state (a veth frame sent by a local TCP
 * socket): its L4 checksum field holds only the folded pseudo-header sum,
 * uncomplemented, and the port bytes are not covered at all. nat.h
 * therefore updates L4 checksums in tc through bpf_l4_csum_replace(), which
 * looks at skb->ip_summed (and keeps skb->csum right for CHECKSUM_COMPLETE).
 */
#ifndef NP_CSUM_H
#define NP_CSUM_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Fold a 32-bit one's complement accumulator to 16 bits. */
static __always_inline __u16 np_csum_fold16(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Add the change of a 16-bit word from -> to into the delta accumulator. */
static __always_inline __u32 np_csum_delta16(__u32 d, __u16 from, __u16 to)
{
	return d + (__u16)~from + to;
}

/* The same for a 32-bit value (two 16-bit words; memory order kept). */
static __always_inline __u32 np_csum_delta32(__u32 d, __u32 from, __u32 to)
{
	d = np_csum_delta16(d, (__u16)(from >> 16), (__u16)(to >> 16));
	return np_csum_delta16(d, (__u16)from, (__u16)to);
}

/* The same for n bytes (n even, <= 16) read as 16-bit words. */
static __always_inline __u32 np_csum_delta_bytes(__u32 d, const __u8 *from, const __u8 *to, int n)
{
	const __u16 *f = (const __u16 *)from, *t = (const __u16 *)to;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++) {
		if (i * 2 >= n)
			break;
		d = np_csum_delta16(d, f[i], t[i]);
	}
	return d;
}

/* Add n bytes (n even, <= 16) as 16-bit words to a one's complement sum. */
static __always_inline __u32 np_csum_add_bytes(__u32 s, const __u8 *p, int n)
{
	const __u16 *w = (const __u16 *)p;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++) {
		if (i * 2 >= n)
			break;
		s += w[i];
	}
	return s;
}

/* Apply an accumulated delta to a complete checksum field. */
static __always_inline __u16 np_csum_apply(__u16 check, __u32 d)
{
	__u32 s = (__u16)~check;

	s += np_csum_fold16(d);
	return (__u16)~np_csum_fold16(s);
}

/*
 * The same for a UDP-over-IPv4 checksum: 0 means "no checksum" and stays
 * 0; a result of 0 is sent as 0xffff (RFC 768).
 */
static __always_inline __u16 np_csum_apply_udp4(__u16 check, __u32 d)
{
	__u16 c;

	if (!check)
		return 0;
	c = np_csum_apply(check, d);
	return c ? c : 0xffff;
}

#endif /* NP_CSUM_H */
