// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the incremental checksum helpers of
 * include/nodepath/bpf/csum.h (what NAT uses to patch IPv4 and L4
 * checksums in XDP), built for user space (plain C, no helper calls).
 *
 * Input: an op byte, an offset byte, then the data: the first half is a
 * packet region of 16-bit words, the rest the new bytes written over it.
 * The region's checksum is computed in full (RFC 1071), the region is
 * changed through one of the helpers' delta accumulators (a 16-bit word,
 * a 32-bit word, or 2..16 bytes as an address), and the patched checksum
 * must equal the one computed in full over the changed region, up to the
 * two encodings of one's complement zero (0x0000 / 0xffff). For UDP over
 * IPv4, a checksum of 0 ("none") stays 0 and a result of 0 is sent as
 * 0xffff.
 */
#include <stdint.h>
#include <string.h>

#include <nodepath/bpf/csum.h>
#include "fuzz/np_fuzz.h"

#define WORDS 64

/* The complemented RFC 1071 sum of n 16-bit words in memory order. */
static __u16 full_csum(const __u16 *w, size_t n)
{
	__u32 s = 0;

	for (size_t i = 0; i < n; i++)
		s += w[i];
	return (__u16)~np_csum_fold16(s);
}

static int csum_same(__u16 a, __u16 b)
{
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u16 old[WORDS], cur[WORDS], c0, c1, want;
	__u8 from[16] __attribute__((aligned(4)));
	__u8 to[16] __attribute__((aligned(4)));
	size_t nw, off, n;
	__u32 d = 0, s;
	int op;

	if (size < 2 + 4 + 4)
		return 0;
	op = data[0] % 3;
	data += 2;
	size -= 2;
	/* the region: half the data (even, <= WORDS words); the rest are new bytes */
	nw = size / 4;
	if (nw > WORDS)
		nw = WORDS;
	memset(old, 0, sizeof(old));
	memcpy(old, data, nw * 2);
	memcpy(cur, old, sizeof(cur));
	c0 = full_csum(old, nw);

	n = op == 0 ? 2 : op == 1 ? 4 : 2 + 2 * (data[-1] % 8);
	if (n > nw * 2)
		n = nw * 2 & ~(size_t)1;
	if (n < 2 || size - nw * 2 < n)
		return 0;
	off = (data[-1] / 8) % (nw - n / 2 + 1);
	memcpy(to, data + nw * 2, n);
	memcpy(from, &old[off], n);
	memcpy(&cur[off], to, n);

	if (op == 0) {
		d = np_csum_delta16(0, old[off], cur[off]);
	} else if (op == 1) {
		__u32 f, t;

		memcpy(&f, from, 4);
		memcpy(&t, to, 4);
		/* delta32 takes the value as loaded from memory (host order) */
		d = np_csum_delta32(0, f, t);
	} else {
		d = np_csum_delta_bytes(0, from, to, (int)n);
	}
	want = full_csum(cur, nw);
	c1 = np_csum_apply(c0, d);
	NP_CHECK(csum_same(c1, want));

	/* UDP over IPv4: 0 means "no checksum" and stays so; 0 is sent as 0xffff */
	NP_CHECK(np_csum_apply_udp4(0, d) == 0);
	if (c0) {
		__u16 u = np_csum_apply_udp4(c0, d);

		NP_CHECK(u && csum_same(u, want));
	}

	/* np_csum_add_bytes() sums like RFC 1071 */
	s = np_csum_add_bytes(0, to, (int)n);
	NP_CHECK(csum_same((__u16)~np_csum_fold16(s), full_csum((const __u16 *)to, n / 2)));
	return 0;
}
