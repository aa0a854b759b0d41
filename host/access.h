/* SPDX-License-Identifier: MIT */
/*
 * Who may talk to pvdmad's sockets. A connection to the companion or DMA
 * socket is access to a VM's memory, so every socket is created 0600 (0660
 * with a --socket-group) and every connection is checked with SO_PEERCRED
 * against the allowed users whatever the file's mode says: a socket opened
 * up by a umask or a chmod still serves nobody else.
 *
 * Allowed: root, the daemon's own user, and each --allow-uid/--user.
 * A companion peer must moreover be able to open the guest RAM file
 * read-write itself (owner, group or other bits, the peer's supplementary
 * groups from SO_PEERGROUPS): the socket never gives more than the file.
 *
 * host_listen() creates a listening socket the same way for every server:
 * a live socket at the path is never taken over ("in use by pid N"), only a
 * stale one is replaced; every failure is logged with the path and a hint.
 */
#ifndef PVDMAD_ACCESS_H
#define PVDMAD_ACCESS_H

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

/* Which file a socket was bound to, so only that file is ever removed. */
struct host_sockfile {
	dev_t dev;
	ino_t ino;
};

/*
 * host_listen - a listening AF_UNIX stream socket at @path for @what
 * ("companion socket", ...): non-blocking, close-on-exec, SO_PASSRIGHTS
 * off where the kernel has it, mode 0600 or 0660 + group before listen().
 * Logs the reason of any failure with the path. Returns the fd or a
 * negative errno (-EADDRINUSE: a live daemon answers there); @file gets
 * the socket file's identity.
 */
int host_listen(const char *path, const char *what,
		const struct host_access *a, int backlog,
		struct host_sockfile *file);

/* Unlink @path only if it is still @file (never another daemon's). */
void host_listen_remove(const char *path, const struct host_sockfile *file);

/**
 * struct host_fd_reserve - an fd kept to be given up when accept() runs out
 * @fd:		/dev/null, while @held
 * @held:	false in a zeroed struct: taken at the first shortage
 * @out_of_fds:	connections dropped for want of an fd, on every socket
 *		accepting through this reserve
 */
struct host_fd_reserve {
	int fd;
	bool held;
	unsigned long long out_of_fds;
};

/*
 * host_accept - accept one connection, non-blocking and close-on-exec.
 * Out of fds (EMFILE/ENFILE), the pending connection is still taken off the
 * queue and closed through a reserve fd, so a level-triggered listener
 * doesn't wake the loop again at once: no spinning, the peer sees EOF.
 * Returns the fd, or a negative errno (-EMFILE then; -EAGAIN: nothing).
 */
int host_accept(struct host_fd_reserve *reserve, int listen_fd);

/* Open the reserve if it is not held: before the first shortage, not in it. */
void host_fd_reserve_take(struct host_fd_reserve *reserve);

/* Close the reserve (the daemon is going). */
void host_fd_reserve_release(struct host_fd_reserve *reserve);

/*
 * host_listen_refuse_fds - SO_PASSRIGHTS off on a listening socket (also
 * one handed over by systemd or the fd store): inherited by every
 * connection, so a peer's fds are refused at its sendmsg() and never
 * reach, or linger in, pvdmad. A no-op where the kernel lacks it.
 */
void host_listen_refuse_fds(int fd);

/* Is SO_PASSRIGHTS (refusing SCM_RIGHTS before it arrives) available? */
bool host_passrights_supported(void);

/* Is SO_PEERPIDFD (peerpin.h: the pin of the process that connected)
 * available? */
bool host_peerpidfd_supported(void);

#endif /* PVDMAD_ACCESS_H */
