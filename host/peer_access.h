/* SPDX-License-Identifier: MIT */
/*
 * Who may talk to pvdmad's sockets. A connection to the companion or DMA
 * socket is access to a VM's memory, so every socket is created 0600 (0660
 * with a --socket-group: listen_socket.h) and every connection is checked
 * with SO_PEERCRED against the allowed users whatever the file's mode
 * says: a socket opened up by a umask or a chmod still serves nobody else.
 *
 * Allowed: root, the daemon's own user, and each --allow-uid/--user.
 * A companion peer must moreover be able to open the guest RAM file
 * read-write itself (owner, group or other bits, the peer's supplementary
 * groups from SO_PEERGROUPS): the socket never gives more than the file.
 */
#ifndef PVDMAD_PEER_ACCESS_H
#define PVDMAD_PEER_ACCESS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#define HOST_ACCESS_MAX_UIDS	16

/**
 * struct host_access - the socket policy
 * @uids:	users allowed besides root and the daemon's own
 * @nuids:	entries in @uids
 * @group:	--socket-group: sockets are 0660 and owned by this group
 * @group_set:	@group is valid (otherwise sockets are 0600)
 */
struct host_access {
	uid_t uids[HOST_ACCESS_MAX_UIDS];
	unsigned int nuids;
	gid_t group;
	bool group_set;
};

/**
 * struct host_peer - the process at the other end of a connection
 * @pid:	its pid, 0 if it lives outside pvdmad's pid namespace
 * @uid, @gid:	its effective ids at connect()
 */
struct host_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* Parse a user name or number into @a (--allow-uid, --user). 0, -EINVAL
 * (no such user) or -E2BIG (too many). */
int host_access_add_user(struct host_access *a, const char *name);
/* Parse a group name or number (--socket-group). 0 or -EINVAL. */
int host_access_set_group(struct host_access *a, const char *name);

/* SO_PEERCRED of @sock. 0 or a negative errno. */
int host_peer_get(int sock, struct host_peer *p);

/*
 * host_access_check - may @p use pvdmad's sockets?
 * Returns true, or false with *why set to the reason to log.
 */
bool host_access_check(const struct host_access *a, const struct host_peer *p,
		       const char **why);

/*
 * host_peer_may_open_rw - could @p open the file @st describes read-write
 * itself, as the kernel would judge it (fileperm.h): its mode bits and
 * POSIX ACL, and search permission on every directory the peer's open()
 * of @path (NULL: not judged) would look in. @st and @fd (O_PATH will do)
 * are the file pvdmad will use, never the path again. @sock gives the
 * peer's supplementary groups, all of them. Returns 0, -EACCES, or
 * another negative errno when something could not be judged (a refusal
 * too).
 */
int host_peer_may_open_rw(const struct host_peer *p, int sock, int fd,
			  const struct stat *st, const char *path);

#endif /* PVDMAD_PEER_ACCESS_H */
