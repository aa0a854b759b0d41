// SPDX-License-Identifier: MIT
/*
 * The fd store, pvdmad's side of systemd's notify and listen-fds
 * protocols (see fdstore.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "fdpass.h"
#include "fdstore.h"
#include "log.h"
#include "size.h"

/* How long a message may wait for the keeper to make room for it. */
#define FDSTORE_SEND_TIMEOUT_MS	1000

/* systemd's rule for FDNAME: printable ASCII, no ':', at most 255 chars. */
static bool fdstore_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > FDSTORE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == ':')
			return false;
	return true;
}

static int fdstore_connect(struct fdstore *st, const char *path)
{
	const struct timeval timeout = {
		.tv_sec = FDSTORE_SEND_TIMEOUT_MS / 1000,
		.tv_usec = FDSTORE_SEND_TIMEOUT_MS % 1000 * 1000,
	};
	size_t len = strlen(path);

	if ((path[0] != '/' && path[0] != '@') || len < 2 ||
	    len >= sizeof(st->addr.sun_path))
		return -EINVAL;
	st->addr.sun_family = AF_UNIX;
	memcpy(st->addr.sun_path, path, len);
	if (path[0] == '@')		/* abstract namespace */
		st->addr.sun_path[0] = '\0';
	st->addrlen = offsetof(struct sockaddr_un, sun_path) + len +
		      (path[0] == '/');
	/*
	 * A keeper's queue holds few datagrams (net.unix.max_dgram_qlen,
	 * often 10) and one client's setup sends seven: the kernel waits for
	 * the keeper to take them, as sd_notify() does, but only so long. A
	 * keeper that takes none for that long fails the one client being
	 * set up; it never stalls the daemon for good.
	 */
	st->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (st->sock < 0)
		return -errno;
	if (setsockopt(st->sock, SOL_SOCKET, SO_SNDTIMEO, &timeout,
		       sizeof(timeout)) < 0)
		return -errno;
	return 0;
}

/* Split LISTEN_FDNAMES ("a:b:c") over @n fds; missing names: "unknown". */
static int fdstore_adopt(struct fdstore *st, unsigned int n, const char *names)
{
	const char *p = names;
	unsigned int i;
	size_t len;

	st->inherited = calloc(n, sizeof(*st->inherited));
	if (!st->inherited)
		return -ENOMEM;
	st->ninherited = n;
	for (i = 0; i < n; i++) {
		st->inherited[i].fd = FDSTORE_LISTEN_START + i;
		fcntl(st->inherited[i].fd, F_SETFD, FD_CLOEXEC);
		len = p ? strcspn(p, ":") : 0;
		st->inherited[i].name = len ? strndup(p, len) : strdup("unknown");
		if (!st->inherited[i].name)
			return -ENOMEM;
		if (p)
			p = p[len] == ':' ? p + len + 1 : NULL;
	}
	return 0;
}

int fdstore_open(struct fdstore *st)
{
	const char *notify = getenv("NOTIFY_SOCKET");
	uint64_t pid, n;
	int err = 0;

	*st = (struct fdstore){ .sock = -1 };
	if (notify && *notify) {
		err = fdstore_connect(st, notify);
		if (err)
			pr_err("NOTIFY_SOCKET %s: %s", notify, strerror(-err));
	}
	/* The fds are ours only if LISTEN_PID names this process. */
	if (!err && size_parse_decimal(getenv("LISTEN_PID"), UINT64_MAX, &pid) &&
	    pid == (uint64_t)getpid() &&
	    size_parse_decimal(getenv("LISTEN_FDS"), FDSTORE_MAX_FDS, &n) && n)
		err = fdstore_adopt(st, (unsigned int)n, getenv("LISTEN_FDNAMES"));
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (err)
		fdstore_close(st);
	return err;
}

bool fdstore_kept(const struct fdstore *st)
{
	return st->sock >= 0;
}

int fdstore_take(struct fdstore *st, const char *name)
{
	unsigned int i;
	int fd;

	for (i = 0; i < st->ninherited; i++) {
		if (st->inherited[i].fd < 0 || strcmp(st->inherited[i].name, name))
			continue;
		fd = st->inherited[i].fd;
		st->inherited[i].fd = -1;
		return fd;
	}
	return -ENOENT;
}

int fdstore_take_socket(struct fdstore *st, const char *path)
{
	struct sockaddr_un addr;
	int fd, listening;
	socklen_t len, olen;
	unsigned int i;

	for (i = 0; i < st->ninherited; i++) {
		fd = st->inherited[i].fd;
		len = sizeof(addr);
		olen = sizeof(listening);
		listening = 0;
		/* Accepted connections share the address: listeners only. */
		if (fd < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) < 0 ||
		    !listening ||
		    getsockname(fd, (struct sockaddr *)&addr, &len) < 0 ||
		    addr.sun_family != AF_UNIX ||
		    len <= offsetof(struct sockaddr_un, sun_path) ||
		    strncmp(addr.sun_path, path, sizeof(addr.sun_path)))
			continue;
		st->inherited[i].fd = -1;
		return fd;
	}
	return -ENOENT;
}

const char *fdstore_next_untaken(const struct fdstore *st, const char *prefix)
{
	unsigned int i;

	for (i = 0; i < st->ninherited; i++)
		if (st->inherited[i].fd >= 0 &&
		    !strncmp(st->inherited[i].name, prefix, strlen(prefix)))
			return st->inherited[i].name;
	return NULL;
}

/* One datagram: @text, with @fd attached if >= 0. */
static int fdstore_send(struct fdstore *st, const char *text, int fd)
{
	union fdpass_cmsg control;
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = {
		.msg_name = &st->addr, .msg_namelen = st->addrlen,
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	int err;

	if (fd >= 0)
		fdpass_attach(&msg, &control, fd);
	while (sendmsg(st->sock, &msg, MSG_NOSIGNAL) < 0) {
		err = -errno;
		if (err == -EINTR)
			continue;
		if (err == -EAGAIN)
			pvdmad_log_ratelimited(PVDMAD_LOG_ERR,
				"fd store: the keeper took no message for %d ms: \"%.*s\" (%s) not sent",
				FDSTORE_SEND_TIMEOUT_MS, (int)strcspn(text, "\n"),
				text, strchr(text, '\n') ? strchr(text, '\n') + 1 : "");
		return err;
	}
	return 0;
}

int fdstore_push(struct fdstore *st, const char *name, int fd)
{
	char text[FDSTORE_NAME_MAX + 32];

	if (!fdstore_kept(st))
		return 0;
	if (!fdstore_name_ok(name) || fd < 0)
		return -EINVAL;
	snprintf(text, sizeof(text), "FDSTORE=1\nFDNAME=%s", name);
	return fdstore_send(st, text, fd);
}

int fdstore_remove(struct fdstore *st, const char *name)
{
	char text[FDSTORE_NAME_MAX + 32];

	if (!fdstore_kept(st))
		return 0;
	if (!fdstore_name_ok(name))
		return -EINVAL;
	snprintf(text, sizeof(text), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	return fdstore_send(st, text, -1);
}

int fdstore_notify(struct fdstore *st, const char *state)
{
	return fdstore_kept(st) ? fdstore_send(st, state, -1) : 0;
}

void fdstore_drop_untaken(struct fdstore *st)
{
	unsigned int i;

	for (i = 0; i < st->ninherited; i++) {
		if (st->inherited[i].fd < 0)
			continue;
		pr_info("fd store: %s is no longer needed, dropped",
			st->inherited[i].name);
		close(st->inherited[i].fd);
		st->inherited[i].fd = -1;
		fdstore_remove(st, st->inherited[i].name);
	}
}

void fdstore_close(struct fdstore *st)
{
	unsigned int i;

	for (i = 0; i < st->ninherited; i++) {
		if (st->inherited[i].fd >= 0)
			close(st->inherited[i].fd);
		free(st->inherited[i].name);
	}
	free(st->inherited);
	st->inherited = NULL;
	st->ninherited = 0;
	if (st->sock >= 0)
		close(st->sock);
	st->sock = -1;
}
