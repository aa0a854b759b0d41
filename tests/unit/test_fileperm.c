// SPDX-License-Identifier: MIT
/*
 * The kernel's file permission check answered for another user
 * (host/fileperm.c), on real files: every verdict is compared with the
 * rule the kernel applies (fs/namei.c, fs/posix_acl.c), and the ACL cases
 * are the ones where the mode bits alone answer wrong. No root needed:
 * the user asked about is only ids, never switched to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "host/fileperm.h"

/* Ids nobody on the test machine is expected to have. */
#define PEER	54321u
#define GROUP	54322u
#define OTHERG	54323u
#define NOID	0xffffffffu

static char dir[] = "/tmp/test_fileperm.XXXXXX";
static char file[PATH_MAX];

struct ace {
	unsigned int tag, perm;
	uint32_t id;
};

/* An access ACL written as the kernel stores it; false: not supported. */
static bool set_acl(const char *path, const struct ace *a, unsigned int n)
{
	unsigned char buf[4 + 8 * 16];
	uint32_t v = htole32(2);
	unsigned int i;

	memcpy(buf, &v, 4);
	for (i = 0; i < n; i++) {
		uint16_t tag = htole16(a[i].tag), perm = htole16(a[i].perm);
		uint32_t id = htole32(a[i].id);

		memcpy(buf + 4 + 8 * i, &tag, 2);
		memcpy(buf + 4 + 8 * i + 2, &perm, 2);
		memcpy(buf + 4 + 8 * i + 4, &id, 4);
	}
	return !setxattr(path, "system.posix_acl_access", buf, 4 + 8 * n, 0);
}

/* fileperm_check() of @path for @who, on an O_PATH fd as pvdmad has. */
static int check(const char *path, const struct fileperm_who *who,
		 unsigned int want)
{
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), err;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	err = fileperm_check(who, fd, &st, want);
	close(fd);
	return err;
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/ram", dir);
	return close(open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0600));
}

static int teardown(void **state)
{
	char path[PATH_MAX];

	unlink(file);
	snprintf(path, sizeof(path), "%s/sub/link", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	chmod(path, 0700);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/link", dir);
	unlink(path);
	return rmdir(dir);
}

#define RW	(FILEPERM_READ | FILEPERM_WRITE)

/* Without an ACL: owner bits, else group bits for a member, else other. */
static void test_mode_bits(void **state)
{
	struct fileperm_who peer = { .uid = PEER, .gid = PEER };
	gid_t groups[1];
	struct fileperm_who member = { .uid = PEER, .gid = PEER,
				       .groups = groups, .ngroups = 1 };
	struct fileperm_who root = { .uid = 0, .gid = 0 };
	struct fileperm_who owner = { .uid = geteuid(), .gid = PEER };
	struct stat st;

	removexattr(file, "system.posix_acl_access");
	/* a member of the file's group by its supplementary groups */
	assert_int_equal(stat(file, &st), 0);
	groups[0] = st.st_gid;
	assert_int_equal(chmod(file, 0606), 0);
	assert_int_equal(check(file, &peer, RW), 0);
	/* a member of the file's group is judged by its group bits only */
	assert_int_equal(check(file, &member, RW), -EACCES);
	assert_int_equal(chmod(file, 0460), 0);
	assert_int_equal(check(file, &member, RW), 0);
	assert_int_equal(check(file, &peer, FILEPERM_READ), -EACCES);
	/* the owner by its bits alone (here read only) */
	if (geteuid())
		assert_int_equal(check(file, &owner, RW), -EACCES);
	assert_int_equal(check(file, &root, RW), 0);
	assert_int_equal(chmod(file, 0600), 0);
}

/*
 * The cases the mode bits answer wrong: a named user denied on a file
 * whose bits say rw for all; a group entry that matches and denies keeps
 * other out; a named user granted on a file the bits keep closed; the
 * mask limits named entries; an ACL whose mask is empty is not read.
 */
static void test_acl(void **state)
{
	struct fileperm_who peer = { .uid = PEER, .gid = PEER };
	gid_t groups[] = { OTHERG, GROUP };
	struct fileperm_who member = { .uid = PEER + 1, .gid = PEER + 1,
				       .groups = groups, .ngroups = 2 };
	struct fileperm_who stranger = { .uid = PEER + 2, .gid = PEER + 2 };
	const struct ace deny_user[] = {
		{ 0x01, 6, NOID }, { 0x02, 0, PEER }, { 0x04, 6, NOID },
		{ 0x10, 6, NOID }, { 0x20, 6, NOID },
	};
	const struct ace deny_group[] = {
		{ 0x01, 6, NOID }, { 0x04, 6, NOID }, { 0x08, 0, GROUP },
		{ 0x10, 6, NOID }, { 0x20, 6, NOID },
	};
	const struct ace grant_user[] = {
		{ 0x01, 6, NOID }, { 0x02, 6, PEER }, { 0x04, 0, NOID },
		{ 0x10, 6, NOID }, { 0x20, 0, NOID },
	};
	const struct ace masked[] = {
		{ 0x01, 6, NOID }, { 0x02, 6, PEER }, { 0x04, 0, NOID },
		{ 0x10, 4, NOID }, { 0x20, 0, NOID },
	};
	const struct ace empty_mask[] = {
		{ 0x01, 6, NOID }, { 0x02, 0, PEER }, { 0x04, 0, NOID },
		{ 0x10, 0, NOID }, { 0x20, 6, NOID },
	};
	struct stat st;

	if (!set_acl(file, deny_user, 5)) {
		skip();		/* a file system without POSIX ACLs */
		return;
	}
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0666);
	assert_int_equal(check(file, &peer, RW), -EACCES);
	assert_int_equal(check(file, &stranger, RW), 0);

	assert_true(set_acl(file, deny_group, 5));
	assert_int_equal(check(file, &member, RW), -EACCES);
	assert_int_equal(check(file, &member, 0), 0);
	assert_int_equal(check(file, &stranger, RW), 0);

	assert_true(set_acl(file, grant_user, 5));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(check(file, &peer, RW), 0);
	assert_int_equal(check(file, &stranger, FILEPERM_READ), -EACCES);

	assert_true(set_acl(file, masked, 5));
	assert_int_equal(check(file, &peer, FILEPERM_READ), 0);
	assert_int_equal(check(file, &peer, RW), -EACCES);

	/* group class empty: the kernel goes by the other bits */
	assert_true(set_acl(file, empty_mask, 5));
	assert_int_equal(check(file, &peer, RW), 0);

	assert_int_equal(removexattr(file, "system.posix_acl_access"), 0);
	assert_int_equal(chmod(file, 0600), 0);
}

/*
 * Every directory a lookup is made in must be searchable, symlinks on the
 * way followed; the last component is not looked up, only its directory
 * judged.
 */
static void test_path_search(void **state)
{
	struct fileperm_who peer = { .uid = PEER, .gid = PEER };
	struct fileperm_who root = { .uid = 0, .gid = 0 };
	char sub[PATH_MAX], path[PATH_MAX], link[PATH_MAX];

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(fileperm_path_searchable(&peer, file), 0);
	/* "..": a lookup in sub too */
	snprintf(path, sizeof(path), "%s/sub/../ram", dir);
	assert_int_equal(fileperm_path_searchable(&peer, path), -EACCES);
	assert_int_equal(fileperm_path_searchable(&root, path), 0);
	/* a link in a searchable directory into one that is not */
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink("sub", link), 0);
	snprintf(path, sizeof(path), "%s/link/ram", dir);
	assert_int_equal(fileperm_path_searchable(&peer, path), -EACCES);
	assert_int_equal(chmod(sub, 0711), 0);
	assert_int_equal(fileperm_path_searchable(&peer, path), 0);
	/* a link whose own directory can't be searched */
	snprintf(path, sizeof(path), "%s/sub/link", dir);
	assert_int_equal(symlink("..", path), 0);
	snprintf(path, sizeof(path), "%s/sub/link/ram", dir);
	assert_int_equal(fileperm_path_searchable(&peer, path), 0);
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(fileperm_path_searchable(&peer, path), -EACCES);
	/* the last component, a link into sub, is not followed */
	assert_int_equal(fileperm_path_searchable(&peer, link), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(fileperm_path_searchable(&peer, file), -EACCES);
	/* a path that does not resolve is not proven */
	snprintf(path, sizeof(path), "%s/none/ram", dir);
	assert_int_equal(fileperm_path_searchable(&root, path), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_bits),
		cmocka_unit_test(test_acl),
		cmocka_unit_test(test_path_search),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
