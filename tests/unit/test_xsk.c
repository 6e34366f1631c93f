// SPDX-License-Identifier: GPL-2.0
/*
 * The AF_XDP worker's arithmetic, without sockets (afxdp/xsk.c): the ring and
 * frame size checks of the CLI, frame addresses, ring occupancy across the
 * 32-bit wraparound of producer/consumer, the fill ring topped up from the
 * free-frame stack (on a ring laid out in memory here, as the kernel maps
 * it), every kind of bad rx descriptor refused with its reason, and the
 * ledger of where each frame is: every frame in exactly one place through
 * fill, rx, tx, completion and a tx socket's close, none freed twice.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xdp/xsk.h>

#include <nodepath/abi.h>
#include "afxdp/xsk.h"

#define FS 2048u
#define HEAD 256u /* XDP_PACKET_HEADROOM */

static void test_sizes(void **state)
{
	const __u32 good_ring[] = { 64, 128, 2048, 4096, 16384 };
	const __u32 bad_ring[] = { 0, 1, 32, 63, 1000, 2047, 3000, 32768, 0x80000000u };
	const __u32 bad_frame[] = { 0, 1024, 2047, 3000, 8192 };

	(void)state;
	for (size_t i = 0; i < sizeof(good_ring) / sizeof(good_ring[0]); i++)
		assert_int_equal(np_xsk_ring_size_ok(good_ring[i]), 0);
	for (size_t i = 0; i < sizeof(bad_ring) / sizeof(bad_ring[0]); i++)
		assert_int_equal(np_xsk_ring_size_ok(bad_ring[i]), -EINVAL);
	assert_int_equal(np_xsk_frame_size_ok(2048), 0);
	assert_int_equal(np_xsk_frame_size_ok(4096), 0);
	for (size_t i = 0; i < sizeof(bad_frame) / sizeof(bad_frame[0]); i++)
		assert_int_equal(np_xsk_frame_size_ok(bad_frame[i]), -EINVAL);
	assert_true(np_xsk_is_pow2(1) && np_xsk_is_pow2(4096) && np_xsk_is_pow2(1ull << 40));
	assert_false(np_xsk_is_pow2(0) || np_xsk_is_pow2(3) || np_xsk_is_pow2(6144));
}

static void test_frames(void **state)
{
	(void)state;
	assert_int_equal(np_xsk_frame_base(5 * FS + HEAD, FS), 5 * FS);
	assert_int_equal(np_xsk_frame_base(5 * FS, FS), 5 * FS);
	assert_int_equal(np_xsk_frame_base(6 * FS - 1, FS), 5 * FS);
	assert_int_equal(np_xsk_frame_no(6 * FS - 1, FS), 5);
	assert_int_equal(np_xsk_frame_no(6 * FS, FS), 6);
	assert_int_equal(np_xsk_frame_base(3 * 4096 + 100, 4096), 3 * 4096);
	/* The queue of an endpoint device a worker takes. */
	assert_int_equal(np_xsk_tx_queue(0, 2), 0);
	assert_int_equal(np_xsk_tx_queue(3, 2), 1);
	assert_int_equal(np_xsk_tx_queue(3, 8), 3);
	assert_int_equal(np_xsk_tx_queue(3, -ENODEV), 0);
	assert_int_equal(np_xsk_tx_queue(3, 0), 0);
}

static void test_ring_wrap(void **state)
{
	(void)state;
	assert_int_equal(np_xsk_ring_used(10, 4), 6);
	assert_int_equal(np_xsk_ring_free(10, 4, 8), 2);
	/* The producer wrapped, the consumer not yet. */
	assert_int_equal(np_xsk_ring_used(5, 0xfffffffeu), 7);
	assert_int_equal(np_xsk_ring_free(5, 0xfffffffeu, 8), 1);
	assert_int_equal(np_xsk_ring_used(0, 0), 0);
	assert_int_equal(np_xsk_ring_free(0x80000000u, 0x80000000u, 16), 16);
	assert_int_equal(np_xsk_ring_used(0x7u, 0xffffffffu), 8);
}

static void test_free_stack(void **state)
{
	struct np_xsk_frames f;
	__u64 a;

	(void)state;
	assert_int_equal(np_xsk_frames_init(&f, 4, 5, FS), -EINVAL);
	assert_int_equal(np_xsk_frames_init(&f, 4, 3, FS), 0);
	assert_int_equal(f.n, 3);
	/* Low addresses first. */
	for (__u32 i = 0; i < 3; i++) {
		assert_int_equal(np_xsk_frames_get(&f, &a), 0);
		assert_int_equal(a, (__u64)i * FS);
	}
	assert_int_equal(np_xsk_frames_get(&f, &a), -ENOENT);
	for (__u32 i = 0; i < 4; i++)
		assert_int_equal(np_xsk_frames_put(&f, (__u64)i * FS), 0);
	/* A fifth frame in a stack of four: one was given back twice. */
	assert_int_equal(np_xsk_frames_put(&f, 0), -ENOSPC);
	np_xsk_frames_free(&f);
	assert_null(f.addr);
}

/* A fill ring of size entries laid out as the kernel maps it. */
struct fake_ring {
	__u32 producer;
	__u32 consumer;
	__u32 flags;
	__u64 desc[16];
	struct xsk_ring_prod r;
};

static void fake_ring_init(struct fake_ring *f, __u32 size, __u32 start)
{
	memset(f, 0, sizeof(*f));
	f->producer = f->consumer = start;
	f->r.producer = &f->producer;
	f->r.consumer = &f->consumer;
	f->r.flags = &f->flags;
	f->r.ring = f->desc;
	f->r.size = size;
	f->r.mask = size - 1;
	f->r.cached_prod = start;
	f->r.cached_cons = start + size; /* libxdp keeps consumer + size */
}

static void test_fill_wrap(void **state)
{
	struct np_xsk_frames fr;
	struct fake_ring f;
	const __u32 size = 8, start = 0xfffffffau;
	bool empty;
	__u32 n;

	(void)state;
	assert_int_equal(np_xsk_frames_init(&fr, 20, 20, FS), 0);
	fake_ring_init(&f, size, start);

	/* Start: all 8 slots, across the wrap of the 32-bit indexes. */
	n = np_xsk_fill_topup(&f.r, &fr, size, &empty);
	assert_int_equal(n, 8);
	assert_true(empty);
	assert_int_equal(f.producer, start + 8); /* 2, wrapped */
	assert_int_equal(f.producer, 2);
	assert_int_equal(fr.n, 12);
	for (__u32 i = 0; i < 8; i++)
		assert_int_equal(f.desc[(start + i) & (size - 1)], (__u64)i * FS);
	/* Full: nothing more. */
	assert_int_equal(np_xsk_fill_topup(&f.r, &fr, size, &empty), 0);
	assert_false(empty);

	/* The kernel takes 3: exactly 3 come back, in the freed slots. */
	f.consumer += 3;
	n = np_xsk_fill_topup(&f.r, &fr, size, &empty);
	assert_int_equal(n, 3);
	assert_false(empty);
	assert_int_equal(f.producer, 5);
	assert_int_equal(np_xsk_ring_used(f.producer, f.consumer), 8);
	assert_int_equal(fr.n, 9);

	/* The kernel takes everything: the ring was empty. */
	f.consumer = f.producer;
	n = np_xsk_fill_topup(&f.r, &fr, size, &empty);
	assert_true(empty);
	assert_int_equal(n, 8);
	assert_int_equal(fr.n, 1);

	/* Fewer free frames than room: what there is. */
	f.consumer = f.producer;
	n = np_xsk_fill_topup(&f.r, &fr, size, &empty);
	assert_int_equal(n, 1);
	assert_int_equal(fr.n, 0);
	assert_int_equal(np_xsk_ring_used(f.producer, f.consumer), 1);
	np_xsk_frames_free(&fr);
}

static void test_desc_check(void **state)
{
	const struct np_xsk_geo g = { .umem_size = 16 * FS, .frame_size = FS, .headroom = HEAD };

	(void)state;
	assert_int_equal(np_xsk_desc_check(&g, 3 * FS + HEAD, 100), NP_XSK_DESC_OK);
	assert_int_equal(np_xsk_desc_check(&g, 15 * FS + HEAD, FS - HEAD), NP_XSK_DESC_OK);
	/* Lengths: zero, and more than a frame's room. */
	assert_int_equal(np_xsk_desc_check(&g, 3 * FS + HEAD, 0), NP_XSK_DESC_LEN);
	assert_int_equal(np_xsk_desc_check(&g, 3 * FS + HEAD, FS - HEAD + 1), NP_XSK_DESC_LEN);
	assert_int_equal(np_xsk_desc_check(&g, 3 * FS + HEAD, 0xffffffffu), NP_XSK_DESC_LEN);
	/* Past the UMEM, and running past its end. */
	assert_int_equal(np_xsk_desc_check(&g, 16 * FS + HEAD, 60), NP_XSK_DESC_RANGE);
	assert_int_equal(np_xsk_desc_check(&g, ~0ull - 10, 60), NP_XSK_DESC_RANGE);
	assert_int_equal(np_xsk_desc_check(&g, 16 * FS - 10, 60), NP_XSK_DESC_RANGE);
	/* Crossing into the next frame. */
	assert_int_equal(np_xsk_desc_check(&g, 3 * FS + 1000, 1200), NP_XSK_DESC_CROSS);
	assert_int_equal(np_xsk_desc_check(&g, 4 * FS - 1, 2), NP_XSK_DESC_CROSS);
	/* No room for the meta in front of it. */
	assert_int_equal(np_xsk_desc_check(&g, 3 * FS, 60), NP_XSK_DESC_NO_META);
	assert_int_equal(np_xsk_desc_check(&g, 3 * FS + 7, 60), NP_XSK_DESC_NO_META);
	assert_int_equal(np_xsk_desc_check(&g, 3 * FS + 8, 60), NP_XSK_DESC_OK);
}

static void put_meta(unsigned char *area, __u64 addr, __u32 magic, __u32 ifindex)
{
	struct np_xsk_meta m = { .magic = magic, .ifindex = ifindex };

	memcpy(area + addr - sizeof(m), &m, sizeof(m));
}

static void test_rx_check(void **state)
{
	const struct np_xsk_geo g = { .umem_size = 4 * FS, .frame_size = FS, .headroom = HEAD };
	unsigned char *area = calloc(4, FS);
	__u32 ifx = 0;

	(void)state;
	assert_non_null(area);
	put_meta(area, 1 * FS + HEAD, NP_XSK_META_MAGIC, 7);
	assert_int_equal(np_xsk_rx_check(&g, area, 1 * FS + HEAD, 60, &ifx), NP_XSK_DROP__MAX);
	assert_int_equal(ifx, 7);
	/* Unaligned meta (addr not a multiple of 4) still reads. */
	put_meta(area, 2 * FS + HEAD + 3, NP_XSK_META_MAGIC, 9);
	assert_int_equal(np_xsk_rx_check(&g, area, 2 * FS + HEAD + 3, 60, &ifx), NP_XSK_DROP__MAX);
	assert_int_equal(ifx, 9);
	/* The kernel path's mark, or nothing: no AF_XDP meta. */
	put_meta(area, 3 * FS + HEAD, NP_META_MAGIC, 7);
	assert_int_equal(np_xsk_rx_check(&g, area, 3 * FS + HEAD, 60, &ifx), NP_XSK_DROP_NO_META);
	put_meta(area, 3 * FS + HEAD, NP_XSK_META_MAGIC, 0);
	assert_int_equal(np_xsk_rx_check(&g, area, 3 * FS + HEAD, 60, &ifx), NP_XSK_DROP_NO_META);
	assert_int_equal(np_xsk_rx_check(&g, area, 0 * FS + HEAD, 60, &ifx), NP_XSK_DROP_NO_META);
	/* Invalid descriptors: refused before the meta would be read (out of bounds). */
	assert_int_equal(np_xsk_rx_check(&g, area, 4 * FS + HEAD, 60, &ifx), NP_XSK_DROP_INVALID);
	assert_int_equal(np_xsk_rx_check(&g, area, 1ull << 40, 60, &ifx), NP_XSK_DROP_INVALID);
	assert_int_equal(np_xsk_rx_check(&g, area, 1 * FS + HEAD, FS, &ifx), NP_XSK_DROP_INVALID);
	assert_int_equal(np_xsk_rx_check(&g, area, 1 * FS + 1500, 1000, &ifx), NP_XSK_DROP_INVALID);
	assert_int_equal(np_xsk_rx_check(&g, area, 1 * FS + 2, 60, &ifx), NP_XSK_DROP_INVALID);
	free(area);
}

/* Frames of the ledger in each place: free, kernel, tx sockets 0 and 1. */
static void ledger_where(const struct np_xsk_ledger *l, __u32 fr, __u32 k, __u32 t0, __u32 t1)
{
	assert_int_equal(np_xsk_ledger_count(l, NP_XSK_OWN_FREE), fr);
	assert_int_equal(l->free.n, fr);
	assert_int_equal(np_xsk_ledger_count(l, NP_XSK_OWN_KERNEL), k);
	assert_int_equal(np_xsk_ledger_count(l, 0), t0);
	assert_int_equal(np_xsk_ledger_count(l, 1), t1);
	/* every frame somewhere, and only once */
	assert_int_equal(fr + k + t0 + t1, l->nframes);
}

static void test_ledger(void **state)
{
	struct np_xsk_ledger l;
	struct fake_ring f;
	__u64 got[8];
	long no;
	bool empty;

	(void)state;
	assert_int_equal(np_xsk_ledger_init(&l, 16, FS), 0);
	ledger_where(&l, 16, 0, 0, 0);

	/* Fill: 8 frames to the kernel, in the ring and marked as its. */
	fake_ring_init(&f, 8, 0);
	assert_int_equal(np_xsk_ledger_fill(&l, &f.r, 8, &empty), 8);
	ledger_where(&l, 8, 8, 0, 0);
	for (__u32 i = 0; i < 8; i++) {
		got[i] = f.desc[i];
		assert_true(np_xsk_ledger_find(&l, got[i] + HEAD, NP_XSK_OWN_KERNEL) >= 0);
		assert_int_equal(np_xsk_ledger_find(&l, got[i] + HEAD, NP_XSK_OWN_FREE), -1);
	}

	/* rx: the kernel hands 3 back; two go to tx socket 0, one to socket 1. */
	f.consumer += 3;
	no = np_xsk_ledger_find(&l, got[0] + HEAD, NP_XSK_OWN_KERNEL);
	l.own[no] = 0;
	no = np_xsk_ledger_find(&l, got[1] + HEAD, NP_XSK_OWN_KERNEL);
	l.own[no] = 0;
	no = np_xsk_ledger_find(&l, got[2] + HEAD, NP_XSK_OWN_KERNEL);
	l.own[no] = 1;
	ledger_where(&l, 8, 5, 2, 1);
	/* The same rx descriptor again (a frame the kernel no longer holds): refused. */
	assert_int_equal(np_xsk_ledger_find(&l, got[0] + HEAD, NP_XSK_OWN_KERNEL), -1);
	/* Outside the UMEM: refused. */
	assert_int_equal(np_xsk_ledger_find(&l, 16 * FS + HEAD, NP_XSK_OWN_KERNEL), -1);
	assert_int_equal(np_xsk_ledger_find(&l, ~0ull, 0), -1);

	/* Completion on socket 1 of socket 0's frame: refused; on socket 0: freed. */
	assert_int_equal(np_xsk_ledger_find(&l, got[0] + HEAD, 1), -1);
	no = np_xsk_ledger_find(&l, got[0] + HEAD, 0);
	assert_true(no >= 0);
	assert_int_equal(np_xsk_ledger_free(&l, (__u32)no), 0);
	ledger_where(&l, 9, 5, 1, 1);
	/* The same completion twice: the frame is free already, not pushed again. */
	assert_int_equal(np_xsk_ledger_find(&l, got[0] + HEAD, 0), -1);
	assert_int_equal(np_xsk_ledger_free(&l, (__u32)no), -EALREADY);
	ledger_where(&l, 9, 5, 1, 1);

	/* Socket 1 closes with its frame never completed: it comes back. */
	for (__u32 i = 0; i < l.nframes; i++)
		if (l.own[i] == 1)
			assert_int_equal(np_xsk_ledger_free(&l, i), 0);
	ledger_where(&l, 10, 5, 1, 0);

	/* Refill: exactly the 3 free slots of the ring, from the free stack. */
	assert_int_equal(np_xsk_ledger_fill(&l, &f.r, 8, &empty), 3);
	assert_false(empty);
	ledger_where(&l, 7, 8, 1, 0);
	np_xsk_ledger_fini(&l);
	assert_null(l.own);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),	  cmocka_unit_test(test_frames),
		cmocka_unit_test(test_ring_wrap), cmocka_unit_test(test_free_stack),
		cmocka_unit_test(test_fill_wrap), cmocka_unit_test(test_desc_check),
		cmocka_unit_test(test_rx_check),  cmocka_unit_test(test_ledger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
