// SPDX-License-Identifier: MIT
/* Unit tests of common/json.c: commas, nesting, escaping, misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "json.h"

struct capture {
	char *text;
	size_t len;
	FILE *f;
	struct jsonw w;
};

static void capture_open(struct capture *c)
{
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
	jsonw_init(&c->w, c->f);
}

/* Closes the stream and checks what was written. */
static void capture_expect(struct capture *c, const char *want)
{
	assert_int_equal(fclose(c->f), 0);
	assert_string_equal(c->text, want);
	free(c->text);
}

static void test_flat_object(void **state)
{
	struct capture c;

	capture_open(&c);
	jsonw_object_begin(&c.w, NULL);
	jsonw_string(&c.w, "trace", "a.trace.xz");
	jsonw_u64(&c.w, "host_calls", 18446744073709551615ull);
	jsonw_s64(&c.w, "pid", -3);
	jsonw_bool(&c.w, "strict", false);
	jsonw_double(&c.w, "ns_per_map", 1, 12.345);
	jsonw_object_end(&c.w);
	assert_int_equal(c.w.depth, 0);
	assert_int_equal(c.w.errors, 0);
	capture_expect(&c, "{\"trace\": \"a.trace.xz\", "
		       "\"host_calls\": 18446744073709551615, \"pid\": -3, "
		       "\"strict\": false, \"ns_per_map\": 12.3}");
}

static void test_nesting(void **state)
{
	struct capture c;

	capture_open(&c);
	jsonw_object_begin(&c.w, NULL);
	jsonw_object_begin(&c.w, "empty");
	jsonw_object_end(&c.w);
	jsonw_object_begin(&c.w, "reasons");
	jsonw_u64(&c.w, "a", 1);
	jsonw_u64(&c.w, "b", 2);
	jsonw_object_end(&c.w);
	jsonw_array_begin(&c.w, "list");
	jsonw_u64(&c.w, NULL, 1);
	jsonw_object_begin(&c.w, NULL);
	jsonw_bool(&c.w, "x", true);
	jsonw_object_end(&c.w);
	jsonw_array_end(&c.w);
	jsonw_u64(&c.w, "after", 0);
	jsonw_object_end(&c.w);
	assert_int_equal(c.w.errors, 0);
	capture_expect(&c, "{\"empty\": {}, \"reasons\": {\"a\": 1, \"b\": 2}, "
		       "\"list\": [1, {\"x\": true}], \"after\": 0}");
}

static void test_escaping(void **state)
{
	struct capture c;

	capture_open(&c);
	jsonw_object_begin(&c.w, NULL);
	jsonw_string(&c.w, "q\"k", "a\\b\"c\n\x01z");
	jsonw_object_end(&c.w);
	capture_expect(&c, "{\"q\\\"k\": \"a\\\\b\\\"c\\u000a\\u0001z\"}");
}

/* JSON has no NaN or infinity: they are written as 0. */
static void test_non_finite(void **state)
{
	struct capture c;
	volatile double zero = 0;

	capture_open(&c);
	jsonw_array_begin(&c.w, NULL);
	jsonw_double(&c.w, NULL, 2, zero / zero);
	jsonw_double(&c.w, NULL, 2, 1 / zero);
	jsonw_double(&c.w, NULL, 4, 0.25);
	jsonw_array_end(&c.w);
	capture_expect(&c, "[0.00, 0.00, 0.2500]");
}

static void test_misuse_counted(void **state)
{
	struct capture c;
	unsigned int i;

	capture_open(&c);
	jsonw_object_end(&c.w);
	assert_int_equal(c.w.errors, 1);
	for (i = 0; i < JSONW_DEPTH_MAX + 2; i++)
		jsonw_array_begin(&c.w, NULL);
	assert_int_equal(c.w.depth, JSONW_DEPTH_MAX);
	assert_int_equal(c.w.errors, 3);
	fclose(c.f);
	free(c.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat_object),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_non_finite),
		cmocka_unit_test(test_misuse_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
