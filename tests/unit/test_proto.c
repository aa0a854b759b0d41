// SPDX-License-Identifier: MIT
/* Protocol helpers: entry checks, ring indices, encode/decode, checksum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pvdma/dmadev.h>
#include <pvdma/proto.h>

#define PAGE	16384ull

static u32 check(u16 opc, u16 flags, u64 gpa, u64 len, u64 bus)
{
	struct pvdma_request op = {
		.op = opc, .flags = flags, .gpa = gpa, .len = len, .bus = bus,
	};

	return pvdma_op_check(&op, PAGE);
}

static void test_op_check(void **state)
{
	u16 rw = PVDMA_MAP_READ | PVDMA_MAP_WRITE;

	assert_int_equal(check(PVDMA_OP_MAP, rw, PAGE, PAGE, 0), PVDMA_ST_OK);
	assert_int_equal(check(PVDMA_OP_MAP, rw, 1, PAGE, 0), PVDMA_ST_INVALID);
	assert_int_equal(check(PVDMA_OP_MAP, rw, 0, 0, 0), PVDMA_ST_INVALID);
	assert_int_equal(check(PVDMA_OP_MAP, rw, 0, 100, 0), PVDMA_ST_INVALID);
	assert_int_equal(check(PVDMA_OP_MAP, rw, (u64)-PAGE, 2 * PAGE, 0),
			 PVDMA_ST_INVALID);
	assert_int_equal(check(PVDMA_OP_MAP, 0, 0, PAGE, 0), PVDMA_ST_BAD_OP);
	assert_int_equal(check(PVDMA_OP_MAP, 4, 0, PAGE, 0), PVDMA_ST_BAD_OP);
	assert_int_equal(check(PVDMA_OP_UNMAP, 0, 0, PAGE, PAGE), PVDMA_ST_OK);
	assert_int_equal(check(PVDMA_OP_UNMAP, 1, 0, PAGE, PAGE), PVDMA_ST_BAD_OP);
	assert_int_equal(check(PVDMA_OP_UNMAP, 0, 0, PAGE, 3), PVDMA_ST_INVALID);
	assert_int_equal(check(PVDMA_OP_UNMAP, 0, 0, (u64)-PAGE, 2 * PAGE),
			 PVDMA_ST_INVALID);
	assert_int_equal(check(PVDMA_OP_HELLO, 0, 0, 0, 0), PVDMA_ST_OK);
	assert_int_equal(check(PVDMA_OP_RESET, 1, 0, 0, 0), PVDMA_ST_BAD_OP);
	assert_int_equal(check(77, 0, 0, 0, 0), PVDMA_ST_BAD_OP);
}

static void test_ring_pending(void **state)
{
	assert_int_equal(pvdma_ring_pending(0, 0, 16), 0);
	assert_int_equal(pvdma_ring_pending(5, 9, 16), 4);
	assert_int_equal(pvdma_ring_pending(0, 16, 16), 16);
	assert_int_equal(pvdma_ring_pending(0, 17, 16), -1);
	assert_int_equal(pvdma_ring_pending(9, 5, 16), -1);	/* behind */
	assert_int_equal(pvdma_ring_pending(0xfffffffe, 3, 16), 5); /* wraps */
	assert_int_equal(pvdma_ring_pending(0, 1, 15), -1);
}

static void test_encode_decode(void **state)
{
	struct pvdma_request in = {
		.op = PVDMA_OP_MAP, .flags = 3, .status = 7,
		.gpa = 0x123456789abcull, .len = PAGE, .bus = 0xfedcba98ull,
	}, out;
	struct pvdma_entry wire;
	const unsigned char *b = (const unsigned char *)&wire;

	pvdma_entry_encode(&wire, &in);
	pvdma_entry_decode(&out, &wire);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_int_equal(b[0], PVDMA_OP_MAP);	/* little-endian on the wire */
	assert_int_equal(b[8], 0xbc);
}

static void test_names(void **state)
{
	assert_string_equal(pvdma_status_name(PVDMA_ST_NO_APERTURE), "no-aperture");
	assert_string_equal(pvdma_status_name(1000), "unknown");
	assert_int_equal(pvdma_status_from_errno(-ENOSPC), PVDMA_ST_NO_APERTURE);
	assert_int_equal(pvdma_status_from_errno(-EMFILE), PVDMA_ST_NO_MAPPINGS);
	assert_int_equal(pvdma_status_from_errno(-ERANGE), PVDMA_ST_PARTIAL);
	assert_int_equal(pvdma_status_from_errno(-E2BIG), PVDMA_ST_IO);
}

static void test_checksum(void **state)
{
	const char *s = "hello pvdma";
	u64 whole = pvdma_checksum(PVDMA_CHECKSUM_SEED, s, 11);
	u64 part = pvdma_checksum(PVDMA_CHECKSUM_SEED, s, 5);

	assert_int_equal(pvdma_checksum(part, s + 5, 6), whole);
	assert_int_equal(pvdma_checksum(PVDMA_CHECKSUM_SEED, "", 0),
			 PVDMA_CHECKSUM_SEED);
	/* FNV-1a 64 of "a" */
	assert_int_equal(pvdma_checksum(PVDMA_CHECKSUM_SEED, "a", 1),
			 0xaf63dc4c8601ec8cull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_check),
		cmocka_unit_test(test_ring_pending),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
