// SPDX-License-Identifier: MIT
/*
 * The kernel's file permission check, answered for another user
 * (fileperm.h).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fileperm.h"

/* The ACL's on-disk form (include/uapi/linux/posix_acl_xattr.h). */
#define ACL_XATTR		"system.posix_acl_access"
#define ACL_XATTR_VERSION	2u
#define ACL_USER_OBJ		0x01
#define ACL_USER		0x02
#define ACL_GROUP_OBJ		0x04
#define ACL_GROUP		0x08
#define ACL_MASK		0x10
#define ACL_OTHER		0x20
#define ACL_HEADER_SIZE		4u
#define ACL_ENTRY_SIZE		8u
/* The kernel's own bound on an xattr's value (XATTR_SIZE_MAX). */
#define ACL_XATTR_MAX		65536u
/* open() follows at most this many symlinks (the kernel's MAXSYMLINKS). */
#define FILEPERM_MAX_LINKS	40

struct acl_entry {
	unsigned int tag;
	unsigned int perm;
	uint32_t id;
};

static bool who_in_group(const struct fileperm_who *who, gid_t gid)
{
	unsigned int i;

	if (who->gid == gid)
		return true;
	for (i = 0; i < who->ngroups; i++)
		if (who->groups[i] == gid)
			return true;
	return false;
}

static void acl_entry_at(const unsigned char *buf, size_t i,
			 struct acl_entry *e)
{
	const unsigned char *p = buf + ACL_HEADER_SIZE + i * ACL_ENTRY_SIZE;
	uint16_t tag, perm;
	uint32_t id;

	memcpy(&tag, p, sizeof(tag));
	memcpy(&perm, p + 2, sizeof(perm));
	memcpy(&id, p + 4, sizeof(id));
	e->tag = le16toh(tag);
	e->perm = le16toh(perm);
	e->id = le32toh(id);
}

/*
 * posix_acl_permission() over the ACL in @buf (@len bytes), for someone
 * who is not the owner (acl_permission_check() decided that first). The
 * first matching user entry decides, through the mask; then every group
 * entry that matches: one that grants, through the mask, allows; if some
 * matched and none granted, refused: the other entry is never reached.
 */
static int acl_permission(const struct fileperm_who *who,
			  const unsigned char *buf, size_t len,
			  const struct stat *st, unsigned int want)
{
	size_t n = (len - ACL_HEADER_SIZE) / ACL_ENTRY_SIZE, i;
	unsigned int mask = 7, granted = 0;
	bool found = false, masked = false;
	struct acl_entry e;
	uint32_t version;

	memcpy(&version, buf, sizeof(version));
	if (le32toh(version) != ACL_XATTR_VERSION ||
	    (len - ACL_HEADER_SIZE) % ACL_ENTRY_SIZE)
		return -EIO;
	for (i = 0; i < n; i++) {
		acl_entry_at(buf, i, &e);
		if (e.tag == ACL_MASK)
			mask = e.perm;
	}
	for (i = 0; i < n; i++) {
		acl_entry_at(buf, i, &e);
		switch (e.tag) {
		case ACL_USER_OBJ:
		case ACL_MASK:
			break;
		case ACL_USER:
			if (e.id == (uint32_t)who->uid) {
				granted = e.perm;
				masked = true;
				goto decide;
			}
			break;
		case ACL_GROUP_OBJ:
		case ACL_GROUP:
			if (!who_in_group(who, e.tag == ACL_GROUP ?
					  (gid_t)e.id : st->st_gid))
				break;
			found = true;
			if ((e.perm & want) == want) {
				granted = e.perm;
				masked = true;
				goto decide;
			}
			break;
		case ACL_OTHER:
			if (found)
				return -EACCES;
			granted = e.perm;
			goto decide;
		default:
			return -EIO;
		}
	}
	return -EIO;	/* no other entry: the kernel refuses such an ACL */
decide:
	if (masked)
		granted &= mask;
	return (granted & want) == want ? 0 : -EACCES;
}

/*
 * The inode's access ACL judged for @who: 0, -EACCES, -EAGAIN when it
 * has none (the mode bits decide), another negative errno when it can't
 * be read.
 */
static int acl_check(const struct fileperm_who *who, int fd,
		     const struct stat *st, unsigned int want)
{
	char self[32];
	unsigned char *buf;
	ssize_t len;
	int err;

	/* An O_PATH fd has no fgetxattr(): its /proc link has. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	len = getxattr(self, ACL_XATTR, NULL, 0);
	if (len < 0)
		return errno == ENODATA || errno == ENOTSUP ? -EAGAIN : -errno;
	if ((size_t)len < ACL_HEADER_SIZE || (size_t)len > ACL_XATTR_MAX)
		return -EIO;
	buf = malloc(ACL_XATTR_MAX);
	if (!buf)
		return -ENOMEM;
	/* It may have changed since: read again, with room for the most. */
	len = getxattr(self, ACL_XATTR, buf, ACL_XATTR_MAX);
	if (len < 0)
		err = errno == ENODATA ? -EAGAIN : -errno;
	else if ((size_t)len < ACL_HEADER_SIZE)
		err = -EIO;
	else
		err = acl_permission(who, buf, (size_t)len, st, want);
	free(buf);
	return err;
}

int fileperm_check(const struct fileperm_who *who, int fd,
		   const struct stat *st, unsigned int want)
{
	unsigned int mode = st->st_mode;
	int err;

	want &= 7;
	if (who->uid == 0)
		return 0;
	/* The owner: its bits alone, ACL or not. */
	if (who->uid == st->st_uid)
		return want & ~(mode >> 6) & 7 ? -EACCES : 0;
	/* The kernel reads the ACL only while the group class grants
	 * something (the mask, where there is an ACL). */
	if (mode & S_IRWXG) {
		err = acl_check(who, fd, st, want);
		if (err != -EAGAIN)
			return err;
	}
	if ((want & (mode ^ (mode >> 3))) && who_in_group(who, st->st_gid))
		mode >>= 3;
	return want & ~mode & 7 ? -EACCES : 0;
}

/* Search permission on the directory @dfd, where a lookup is made. */
static int search_check(const struct fileperm_who *who, int dfd)
{
	struct stat st;

	if (fstat(dfd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return fileperm_check(who, dfd, &st, FILEPERM_EXEC);
}

/* Replace *@dfd with @fd. */
static void dir_move(int *dfd, int fd)
{
	close(*dfd);
	*dfd = fd;
}

int fileperm_path_searchable(const struct fileperm_who *who, const char *path)
{
	char rest[PATH_MAX], next[PATH_MAX], link[PATH_MAX];
	unsigned int links = 0;
	char *name, *tail;
	struct stat st;
	ssize_t n;
	int dfd, fd, err = 0;

	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
		return -ENAMETOOLONG;
	dfd = open(rest[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	for (;;) {
		name = rest + strspn(rest, "/");
		if (!*name)
			break;
		tail = name + strcspn(name, "/");
		if (*tail)
			*tail++ = '\0';
		/* Every lookup, "." and ".." too, needs search permission on
		 * the directory it is made in (may_lookup()). */
		err = search_check(who, dfd);
		if (err)
			break;
		/* The last component is not looked up (fileperm.h). */
		if (!*(tail + strspn(tail, "/")))
			break;
		fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			err = -errno;
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			n = ++links > FILEPERM_MAX_LINKS ? -1 :
			    readlinkat(fd, "", link, sizeof(link) - 1);
			close(fd);
			if (n < 0) {
				err = links > FILEPERM_MAX_LINKS ? -ELOOP : -errno;
				break;
			}
			link[n] = '\0';
			if (snprintf(next, sizeof(next), "%s/%s", link, tail) >=
			    (int)sizeof(next)) {
				err = -ENAMETOOLONG;
				break;
			}
			memcpy(rest, next, sizeof(rest));
			if (link[0] == '/') {
				fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (fd < 0) {
					err = -errno;
					break;
				}
				dir_move(&dfd, fd);
			}
			continue;
		}
		dir_move(&dfd, fd);
		memmove(rest, tail, strlen(tail) + 1);
	}
	close(dfd);
	return err;
}
