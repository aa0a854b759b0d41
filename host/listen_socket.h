/* SPDX-License-Identifier: MIT */
/*
 * pvdmad's listening sockets. host_listen() creates one the same way for
 * every server: a live socket at the path is never taken over ("in use by
 * pid N"), only a stale one is replaced; the file gets its mode and group
 * (peer_access.h's policy) before listen(); every failure is logged with
 * the path and a hint.
 */
#ifndef PVDMAD_LISTEN_SOCKET_H
#define PVDMAD_LISTEN_SOCKET_H

#include <stdbool.h>
#include <sys/types.h>

#include "peer_access.h"

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

/*
 * host_listen_refuse_fds - SO_PASSRIGHTS off on a listening socket (also
 * one handed over by systemd or the fd store): inherited by every
 * connection, so a peer's fds are refused at its sendmsg() and never
 * reach, or linger in, pvdmad. A no-op where the kernel lacks it.
 */
void host_listen_refuse_fds(int fd);

/* Is SO_PASSRIGHTS (refusing SCM_RIGHTS before it arrives) available? */
bool host_passrights_supported(void);

#endif /* PVDMAD_LISTEN_SOCKET_H */
