// SPDX-License-Identifier: MIT
/*
 * Slots shared out by user id (host/uidquota.c): a uid is held to its cap
 * while slots are left for others, a uid at its cap hears so even with
 * the pool full, only several uids together fill it, a slot given back
 * is free again, and however many uids come and go the table never runs
 * out of entries before the slots run out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "host/uidquota.h"

#define SLOTS	8
#define CAP	2

static void test_bad_shares_refused(void **state)
{
	struct uidquota q;

	assert_int_equal(uidquota_init(&q, SLOTS, 0), -EINVAL);
	/* a cap of every slot leaves no reserve for the others */
	assert_int_equal(uidquota_init(&q, SLOTS, SLOTS), -EINVAL);
	assert_int_equal(uidquota_init(&q, UIDQUOTA_MAX_SLOTS + 1, CAP),
			 -EINVAL);
	assert_int_equal(uidquota_init(&q, SLOTS, SLOTS - 1), 0);
}

static void test_one_uid_held_to_its_cap(void **state)
{
	struct uidquota q;
	int i;

	assert_int_equal(uidquota_init(&q, SLOTS, CAP), 0);
	for (i = 0; i < CAP; i++)
		assert_int_equal(uidquota_take(&q, 1000), 0);
	assert_int_equal(uidquota_take(&q, 1000), -EDQUOT);
	assert_int_equal(uidquota_held(&q, 1000), CAP);
	assert_int_equal(q.used, CAP);
	/* the reserve: another uid takes a slot, then its own cap */
	for (i = 0; i < CAP; i++)
		assert_int_equal(uidquota_take(&q, 1001), 0);
	assert_int_equal(uidquota_take(&q, 1001), -EDQUOT);
	assert_int_equal(uidquota_take(&q, 1000), -EDQUOT);
	/* one given back: that uid may take one again, no more */
	uidquota_put(&q, 1000);
	assert_int_equal(uidquota_held(&q, 1000), CAP - 1);
	assert_int_equal(uidquota_take(&q, 1000), 0);
	assert_int_equal(uidquota_take(&q, 1000), -EDQUOT);
	assert_int_equal(q.used, 2 * CAP);
}

static void test_several_uids_fill_the_pool(void **state)
{
	struct uidquota q;
	unsigned int u;
	int i;

	assert_int_equal(uidquota_init(&q, SLOTS, CAP), 0);
	for (u = 0; u < SLOTS / CAP; u++)
		for (i = 0; i < CAP; i++)
			assert_int_equal(uidquota_take(&q, 2000 + u), 0);
	assert_int_equal(q.used, SLOTS);
	/* full: a uid holding nothing hears busy, one at its cap its cap */
	assert_int_equal(uidquota_take(&q, 3000), -EBUSY);
	assert_int_equal(uidquota_take(&q, 2000), -EDQUOT);
	assert_int_equal(uidquota_held(&q, 3000), 0);
	/* a slot back: the newcomer gets it (the freed entry reused) */
	uidquota_put(&q, 2001);
	assert_int_equal(uidquota_take(&q, 3000), 0);
	assert_int_equal(uidquota_held(&q, 3000), 1);
	assert_int_equal(uidquota_take(&q, 3001), -EBUSY);
}

/* One slot per uid, as many uids as slots: every entry in use at once. */
static void test_as_many_uids_as_slots(void **state)
{
	struct uidquota q;
	unsigned int u;

	assert_int_equal(uidquota_init(&q, SLOTS, CAP), 0);
	for (u = 0; u < SLOTS; u++)
		assert_int_equal(uidquota_take(&q, 4000 + u), 0);
	assert_int_equal(uidquota_take(&q, 5000), -EBUSY);
	for (u = 0; u < SLOTS; u++)
		assert_int_equal(uidquota_held(&q, 4000 + u), 1);
	for (u = 0; u < SLOTS; u += 2)
		uidquota_put(&q, 4000 + u);
	for (u = 0; u < SLOTS / 2; u++)
		assert_int_equal(uidquota_take(&q, 5000 + u), 0);
	assert_int_equal(uidquota_take(&q, 6000), -EBUSY);
	for (u = 1; u < SLOTS; u += 2)
		assert_int_equal(uidquota_held(&q, 4000 + u), 1);
}

/*
 * Many uids coming and going, with others holding slots throughout: the
 * table never runs out of entries while a slot is free.
 */
static void test_many_uids_never_fill_the_table(void **state)
{
	struct uidquota q;
	unsigned int u;

	assert_int_equal(uidquota_init(&q, SLOTS, CAP), 0);
	for (u = 0; u < SLOTS - 1; u++)
		assert_int_equal(uidquota_take(&q, 7000 + u), 0);
	for (u = 0; u < 100000; u++) {
		assert_int_equal(uidquota_take(&q, 10000 + u), 0);
		assert_int_equal(uidquota_take(&q, 10000 + u), -EBUSY);
		uidquota_put(&q, 10000 + u);
		assert_int_equal(uidquota_held(&q, 10000 + u), 0);
	}
	assert_int_equal(q.used, SLOTS - 1);
}

/* Giving back what a uid does not hold changes nothing. */
static void test_put_of_nothing(void **state)
{
	struct uidquota q;

	assert_int_equal(uidquota_init(&q, SLOTS, CAP), 0);
	assert_int_equal(uidquota_take(&q, 1000), 0);
	uidquota_put(&q, 1001);
	assert_int_equal(q.used, 1);
	assert_int_equal(uidquota_held(&q, 1000), 1);
	uidquota_put(&q, 1000);
	uidquota_put(&q, 1000);
	assert_int_equal(q.used, 0);
	assert_int_equal(uidquota_held(&q, 1000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_shares_refused),
		cmocka_unit_test(test_one_uid_held_to_its_cap),
		cmocka_unit_test(test_several_uids_fill_the_pool),
		cmocka_unit_test(test_as_many_uids_as_slots),
		cmocka_unit_test(test_many_uids_never_fill_the_table),
		cmocka_unit_test(test_put_of_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
