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
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "fdstore.h"
#include "log.h"
#include "size.h"

/**
 * struct fdstore_held - a name the keeper holds, or will once its push
 * waiting in the outbox is sent
 * @next:
 * @sent:	an fd under this name reached the keeper (or was inherited):
 *		a remove must be sent
 * @name:
 */
struct fdstore_held {
	struct fdstore_held *next;
	bool sent;
	char name[FDSTORE_NAME_MAX + 1];
};

/**
 * struct fdstore_msg - one message waiting for room in the keeper's queue
 * @next:	the next younger one
 * @fd:		a dup of the fd it carries, or -1
 * @push:	FDSTORE=1 (a remove of @name may take it back)
 * @held:	a push's name, marked sent when it goes
 * @name:	its FDNAME, "" for a state line
 * @text:	the datagram
 */
struct fdstore_msg {
	struct fdstore_msg *next;
	int fd;
	bool push;
	struct fdstore_held *held;
	char name[FDSTORE_NAME_MAX + 1];
	char text[FDSTORE_NAME_MAX + 32];
};

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
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	socklen_t addrlen;

	if ((path[0] != '/' && path[0] != '@') || len < 2 ||
	    len >= sizeof(addr.sun_path))
		return -EINVAL;
	st->outbox_tail = &st->outbox;
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')		/* abstract namespace */
		addr.sun_path[0] = '\0';
	addrlen = offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/');
	/*
	 * Non-blocking, and connected: a connected datagram socket polls
	 * writable only when the keeper's queue has room (af_unix.c,
	 * unix_dgram_poll), so the loop can wait for that instead of a send.
	 */
	st->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (st->sock < 0)
		return -errno;
	if (connect(st->sock, (struct sockaddr *)&addr, addrlen) < 0)
		return -errno;
	return 0;
}

/* FNV-1a: names differ in their last characters (companion.3.bell1). */
static struct fdstore_held **fdstore_bucket(struct fdstore *st, const char *name)
{
	uint32_t hash = 2166136261u;

	while (*name)
		hash = (hash ^ (unsigned char)*name++) * 16777619u;
	return &st->held[hash % FDSTORE_HELD_BUCKETS];
}

static struct fdstore_held *fdstore_held_find(struct fdstore *st,
					      const char *name)
{
	struct fdstore_held *h;

	for (h = *fdstore_bucket(st, name); h; h = h->next)
		if (!strcmp(h->name, name))
			return h;
	return NULL;
}

/* @name, found or added (not yet sent); NULL: no memory. */
static struct fdstore_held *fdstore_hold(struct fdstore *st, const char *name)
{
	struct fdstore_held *h = fdstore_held_find(st, name);

	if (h)
		return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->next = *fdstore_bucket(st, name);
	*fdstore_bucket(st, name) = h;
	st->nheld++;
	return h;
}

/* Forget @h; no waiting message may point at it. Was it ever sent? */
static bool fdstore_unhold(struct fdstore *st, struct fdstore_held *h)
{
	struct fdstore_held **pp;
	bool sent = h->sent;

	for (pp = fdstore_bucket(st, h->name); *pp != h; pp = &(*pp)->next)
		;
	*pp = h->next;
	st->nheld--;
	free(h);
	return sent;
}

/* Split LISTEN_FDNAMES ("a:b:c") over @n fds; missing names: "unknown". */
static int fdstore_adopt(struct fdstore *st, unsigned int n, const char *names)
{
	struct fdstore_held *h;
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
		/* the keeper holds it until a remove, taken or not */
		h = fdstore_hold(st, st->inherited[i].name);
		if (!h)
			return -ENOMEM;
		h->sent = true;
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

	*st = (struct fdstore){ .sock = -1, .flush_max = FDSTORE_FLUSH_MAX };
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

static int fdstore_not_ours(const char *name, const char *why)
{
	pvdmad_log(PVDMAD_LOG_ERR, "fd store: %s is not what pvdmad made: %s",
		   name, why);
	return -EBADFD;
}

/* Does @fd's link in /proc (what the kernel calls it) start with @kind? */
static bool fdstore_link_is(int fd, const char *kind, size_t len)
{
	char path[32], link[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return len <= sizeof(link) &&
	       readlink(path, link, sizeof(link)) >= (ssize_t)len &&
	       !memcmp(link, kind, len);
}

int fdstore_check_memfd(int fd, const char *name, uint64_t size, int seals)
{
	static const char memfd[] = "/memfd:";
	struct stat st;
	int flags = fcntl(fd, F_GETFL), got;

	/* A tmpfs file has seals too, and a path anyone may open: a memfd
	 * has neither (its link names it). */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !fdstore_link_is(fd, memfd, sizeof(memfd) - 1))
		return fdstore_not_ours(name, "not a memfd");
	if (flags < 0 || (flags & O_ACCMODE) != O_RDWR)
		return fdstore_not_ours(name, "not open read-write");
	got = fcntl(fd, F_GET_SEALS);
	if (got != seals)
		return fdstore_not_ours(name, "other seals");
	/* Made by pvdmad, with other options: -ESTALE, the caller says so. */
	return (uint64_t)st.st_size == size ? 0 : -ESTALE;
}

int fdstore_check_eventfd(int fd, const char *name)
{
	static const char kind[] = "anon_inode:[eventfd]";
	int flags = fcntl(fd, F_GETFL);

	/* An eventfd has no file type of its own: its link names it. */
	if (!fdstore_link_is(fd, kind, sizeof(kind) - 1))
		return fdstore_not_ours(name, "not an eventfd");
	if (flags < 0 || (flags & O_ACCMODE) != O_RDWR || !(flags & O_NONBLOCK))
		return fdstore_not_ours(name, "not read-write and non-blocking");
	return 0;
}

static int fdstore_sockopt(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int val;

	return getsockopt(fd, SOL_SOCKET, opt, &val, &len) < 0 ? -1 : val;
}

int fdstore_check_socket(int fd, const char *name, const char *listen_path)
{
	struct sockaddr_un addr;
	socklen_t len = sizeof(addr);
	int flags = fcntl(fd, F_GETFL);

	if (fdstore_sockopt(fd, SO_DOMAIN) != AF_UNIX ||
	    fdstore_sockopt(fd, SO_TYPE) != SOCK_STREAM)
		return fdstore_not_ours(name, "not an AF_UNIX stream socket");
	if (fdstore_sockopt(fd, SO_ACCEPTCONN) != !!listen_path)
		return fdstore_not_ours(name, listen_path ? "not listening" :
					"a listening socket, not a connection");
	if (!listen_path)
		return flags >= 0 && (flags & O_NONBLOCK) ? 0 :
			fdstore_not_ours(name, "a blocking connection");
	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    strncmp(addr.sun_path, listen_path, sizeof(addr.sun_path)))
		return fdstore_not_ours(name, "bound to another path");
	return 0;
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

/* One datagram: @text, with @fd attached if >= 0; never waits. */
static int fdstore_send_now(struct fdstore *st, const char *text, int fd)
{
	union fdpass_cmsg control;
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0)
		fdpass_attach(&msg, &control, fd);
	while (sendmsg(st->sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void fdstore_msg_free(struct fdstore_msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

/* "FDSTORE=1" (FDNAME=x), for the log. */
static void fdstore_log_lost(const char *what, const char *text)
{
	const char *nl = strchr(text, '\n');

	pvdmad_log_ratelimited(PVDMAD_LOG_ERR, "fd store: \"%.*s\"%s%s%s %s",
		(int)strcspn(text, "\n"), text, nl ? " (" : "", nl ? nl + 1 : "",
		nl ? ")" : "", what);
}

unsigned int fdstore_flush(struct fdstore *st)
{
	struct fdstore_msg *m;
	unsigned int sent = 0;
	int err;

	/* a bounded turn: the rest on the next, the socket still writable */
	while ((m = st->outbox) && sent++ < st->flush_max) {
		err = fdstore_send_now(st, m->text, m->fd);
		if (err == -EAGAIN)
			break;
		if (err) {
			st->stats.dropped++;
			fdstore_log_lost(strerror(-err), m->text);
		} else {
			st->stats.waited++;
			if (m->held)
				m->held->sent = true;
		}
		st->outbox = m->next;
		if (!st->outbox)
			st->outbox_tail = &st->outbox;
		st->waiting--;
		fdstore_msg_free(m);
	}
	return st->waiting;
}

bool fdstore_backlog(const struct fdstore *st)
{
	return st->waiting;
}

/*
 * Wait in the outbox; with a dup of @fd (the caller may close its own).
 * A push names its @held entry; without one (a remove, a state line) it is
 * a remove if @uncapped: that waits whatever the outbox holds.
 */
static int fdstore_queue(struct fdstore *st, const char *text, const char *name,
			 int fd, struct fdstore_held *held, bool uncapped)
{
	struct fdstore_msg *m;

	if (!uncapped && st->waiting >= FDSTORE_OUTBOX_MAX) {
		st->stats.dropped++;
		fdstore_log_lost("not sent: the keeper takes nothing and the outbox is full",
				 text);
		return -ENOBUFS;
	}
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (fd >= 0 && m->fd < 0) {
		free(m);
		return -errno;
	}
	m->next = NULL;
	m->push = fd >= 0;
	m->held = held;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->text, sizeof(m->text), "%s", text);
	*st->outbox_tail = m;
	st->outbox_tail = &m->next;
	st->waiting++;
	return 0;
}

/*
 * @text now if the keeper's queue takes it and nothing waits before it;
 * else in the outbox (see fdstore_queue() for @held and @uncapped). 0, or
 * a negative errno: the message is lost.
 */
static int fdstore_send(struct fdstore *st, const char *text, const char *name,
			int fd, struct fdstore_held *held, bool uncapped)
{
	int err = fdstore_flush(st) ? -EAGAIN : fdstore_send_now(st, text, fd);

	if (err == -EAGAIN)
		return fdstore_queue(st, text, name, fd, held, uncapped);
	if (err) {
		st->stats.dropped++;
		fdstore_log_lost(strerror(-err), text);
	} else if (held) {
		held->sent = true;
	}
	return err;
}

/* Does a push of @h wait in the outbox? */
static bool fdstore_push_waiting(const struct fdstore *st,
				 const struct fdstore_held *h)
{
	const struct fdstore_msg *m;

	for (m = st->outbox; m; m = m->next)
		if (m->held == h)
			return true;
	return false;
}

int fdstore_push(struct fdstore *st, const char *name, int fd)
{
	char text[FDSTORE_NAME_MAX + 32];
	struct fdstore_held *h;
	int err;

	if (!fdstore_kept(st))
		return 0;
	if (!fdstore_name_ok(name) || fd < 0)
		return -EINVAL;
	h = fdstore_hold(st, name);
	if (!h)
		return -ENOMEM;
	snprintf(text, sizeof(text), "FDSTORE=1\nFDNAME=%s", name);
	err = fdstore_send(st, text, name, fd, h, false);
	/* neither sent nor waiting: nothing of it to remove */
	if (err && !h->sent && !fdstore_push_waiting(st, h))
		fdstore_unhold(st, h);
	return err;
}

/*
 * Take back every push of @name still waiting: a remove would close their
 * fds anyway. None waits before a remove of @name (that remove took it
 * back), so after this no message points at @name's held entry.
 */
static void fdstore_cancel_push(struct fdstore *st, const char *name)
{
	struct fdstore_msg **pp = &st->outbox, *m;

	while ((m = *pp)) {
		if (!m->push || strcmp(m->name, name)) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		st->waiting--;
		st->stats.cancelled++;
		fdstore_msg_free(m);
	}
	for (st->outbox_tail = &st->outbox; *st->outbox_tail;
	     st->outbox_tail = &(*st->outbox_tail)->next)
		;
}

int fdstore_remove(struct fdstore *st, const char *name)
{
	char text[FDSTORE_NAME_MAX + 32];
	struct fdstore_held *h;

	if (!fdstore_kept(st))
		return 0;
	if (!fdstore_name_ok(name))
		return -EINVAL;
	h = fdstore_held_find(st, name);
	if (!h) {		/* never pushed: the keeper has no such fd */
		st->stats.unheld++;
		return 0;
	}
	fdstore_cancel_push(st, name);
	if (!fdstore_unhold(st, h))
		return 0;	/* never sent: taking back its pushes was all */
	/*
	 * Uncapped: one per name the keeper was sent, so at most what was
	 * held when a push last reached it (every remove queued before that
	 * push went before it: no name was added since).
	 */
	snprintf(text, sizeof(text), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	return fdstore_send(st, text, name, -1, NULL, true);
}

int fdstore_notify(struct fdstore *st, const char *state)
{
	return fdstore_kept(st) ? fdstore_send(st, state, "", -1, NULL, false) : 0;
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

static uint64_t fdstore_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * At exit the loop is over, and a restart needs every fd in the store: a
 * bounded wait for the keeper, then what is left is dropped, said plainly.
 */
static void fdstore_drain(struct fdstore *st)
{
	struct pollfd p = { .fd = st->sock, .events = POLLOUT };
	uint64_t deadline = fdstore_now_ms() + FDSTORE_DRAIN_MS, now;
	struct fdstore_msg *m;

	while (fdstore_flush(st) && (now = fdstore_now_ms()) < deadline)
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			break;
	if (st->waiting)
		pvdmad_log(PVDMAD_LOG_ERR,
			   "fd store: %u messages never reached the keeper (its queue stayed full for %d ms): dropped",
			   st->waiting, FDSTORE_DRAIN_MS);
	while ((m = st->outbox)) {
		st->outbox = m->next;
		st->stats.dropped++;
		fdstore_msg_free(m);
	}
	st->outbox_tail = &st->outbox;
	st->waiting = 0;
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
		fdstore_drain(st);
	if (st->sock >= 0)
		close(st->sock);
	st->sock = -1;
	for (i = 0; i < FDSTORE_HELD_BUCKETS; i++)
		while (st->held[i])
			fdstore_unhold(st, st->held[i]);
}
