/* SPDX-License-Identifier: MIT */
/*
 * Would the kernel let another user open a file? pvdmad maps guest RAM for
 * a peer only if the peer could open the RAM file read-write itself
 * (peer_access.h), so this must answer as the kernel's permission check does,
 * not by the mode bits alone: a POSIX ACL can deny a user the mode bits
 * seem to allow (a named user entry, a group entry that matches but does
 * not grant), and a directory on the way the peer may not search keeps it
 * from the file whatever the file's own bits say.
 *
 * The mode bits and the POSIX access ACL are judged as generic_permission()
 * does (fs/namei.c acl_permission_check(), fs/posix_acl.c
 * posix_acl_permission()); capabilities are not: uid 0 passes, any other
 * user is judged by its ids. Security modules (SELinux, AppArmor) are not
 * judged either: they can only refuse more.
 */
#ifndef PVDMAD_FILEPERM_H
#define PVDMAD_FILEPERM_H

#include <sys/stat.h>
#include <sys/types.h>

/* What is asked for, as the kernel's MAY_* bits. */
#define FILEPERM_EXEC	1u
#define FILEPERM_WRITE	2u
#define FILEPERM_READ	4u

/**
 * struct fileperm_who - the user asking
 * @uid:	its (filesystem) user id
 * @gid:	its group id
 * @groups:	its supplementary groups (all of them: a group left out
 *		could be one an ACL denies)
 * @ngroups:	how many
 */
struct fileperm_who {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	unsigned int ngroups;
};

/*
 * fileperm_check - may @who have @want (FILEPERM_*) on the inode @st
 * describes? @fd is an fd of that inode (O_PATH will do): its ACL is read
 * through /proc/self/fd. 0, -EACCES, or another negative errno when the
 * ACL can't be read or makes no sense (a refusal too).
 */
int fileperm_check(const struct fileperm_who *who, int fd,
		   const struct stat *st, unsigned int want);

/*
 * fileperm_path_searchable - may @who search every directory the kernel
 * looks a component up in when it resolves @path (relative: from the
 * working directory), symlinks on the way followed as open() follows
 * them? The last component is never looked up, only its directory
 * judged: it may be another user's to replace (the RAM file's, in a
 * directory QEMU's user writes), and the RAM lookup lets it link only to
 * another entry of that same directory (guest_ram.c). The file itself is
 * judged by fileperm_check() on its fd. 0, -EACCES, or another negative
 * errno when the path can't be walked (a refusal too).
 */
int fileperm_path_searchable(const struct fileperm_who *who, const char *path);

#endif
