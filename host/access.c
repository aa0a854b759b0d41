// SPDX-License-Identifier: MIT
/*
 * Socket access policy and listening sockets (access.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "access.h"
#include "fdcloser.h"
#include "fileperm.h"
#include "log.h"
#include "size.h"

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83	/* Linux 6.16 */
#endif

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77	/* Linux 6.5 */
#endif

/* Room for a peer's groups at the first try; more are fetched if it has them. */
#define HOST_PEER_MAX_GROUPS	256

/* A numeric user or group id: a plain decimal below (uid_t)-1. */
static bool parse_id(const char *s, uint64_t *out)
{
	return size_parse_decimal(s, (uint64_t)(uid_t)-1 - 1, out);
}

int host_access_add_user(struct host_access *a, const char *name)
{
	struct passwd *pw;
	uint64_t id;

	if (a->nuids >= HOST_ACCESS_MAX_UIDS)
		return -E2BIG;
	if (parse_id(name, &id)) {
		a->uids[a->nuids++] = (uid_t)id;
		return 0;
	}
	pw = getpwnam(name);
	if (!pw)
		return -EINVAL;
	a->uids[a->nuids++] = pw->pw_uid;
	return 0;
}

int host_access_set_group(struct host_access *a, const char *name)
{
	struct group *gr;
	uint64_t id;

	if (parse_id(name, &id)) {
		a->group = (gid_t)id;
	} else {
		gr = getgrnam(name);
		if (!gr)
			return -EINVAL;
		a->group = gr->gr_gid;
	}
	a->group_set = true;
	return 0;
}

int host_peer_get(int sock, struct host_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	p->pid = cred.pid;
	p->uid = cred.uid;
	p->gid = cred.gid;
	return 0;
}

bool host_access_check(const struct host_access *a, const struct host_peer *p,
		       const char **why)
{
	unsigned int i;

	if (p->uid == 0 || p->uid == geteuid())
		return true;
	for (i = 0; i < a->nuids; i++)
		if (a->uids[i] == p->uid)
			return true;
	*why = "user not allowed (--allow-uid)";
	return false;
}

/*
 * The peer's supplementary groups (SO_PEERGROUPS), every one of them: an
 * ACL entry of a group left out could be one that refuses. The count, or
 * a negative errno; *@out is malloc()ed (NULL when there are none).
 */
static int peer_groups(int sock, gid_t **out)
{
	socklen_t len = HOST_PEER_MAX_GROUPS * sizeof(gid_t);
	gid_t *groups = NULL, *more;
	int tries;

	*out = NULL;
	/* ERANGE tells the size needed; the peer's groups are fixed at its
	 * connect, so a second try fits. */
	for (tries = 0; tries < 2; tries++) {
		more = realloc(groups, len ? len : sizeof(gid_t));
		if (!more) {
			free(groups);
			return -ENOMEM;
		}
		groups = more;
		if (!getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
			*out = groups;
			return (int)(len / sizeof(gid_t));
		}
		if (errno != ERANGE)
			break;
	}
	free(groups);
	return -errno;
}

int host_peer_may_open_rw(const struct host_peer *p, int sock, int fd,
			  const struct stat *st, const char *path)
{
	struct fileperm_who who = { .uid = p->uid, .gid = p->gid };
	gid_t *groups;
	int n, err;

	if (p->uid == 0)
		return 0;
	n = peer_groups(sock, &groups);
	if (n < 0)
		return n;	/* its groups unknown: not proven */
	who.groups = groups;
	who.ngroups = (unsigned int)n;
	err = fileperm_check(&who, fd, st, FILEPERM_READ | FILEPERM_WRITE);
	if (!err && path)
		err = fileperm_path_searchable(&who, path);
	free(groups);
	return err;
}

void host_fd_reserve_take(struct host_fd_reserve *r)
{
	if (r->held)
		return;
	r->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	r->held = r->fd >= 0;
}

void host_fd_reserve_release(struct host_fd_reserve *r)
{
	if (r->held)
		close(r->fd);
	r->held = false;
}

int host_accept(struct host_fd_reserve *r, int listen_fd)
{
	int fd, err;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		return fd;
	err = errno;
	if (err != EMFILE && err != ENFILE)
		return -err;
	r->out_of_fds++;
	/* A reserve lost earlier (its fd went to the closer thread) may be
	 * back; without one the connection waits for a free fd. */
	host_fd_reserve_take(r);
	if (!r->held)
		return -err;
	host_fd_reserve_release(r);
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	fdcloser_close_socket(fd);
	host_fd_reserve_take(r);
	return -err;
}

void host_listen_refuse_fds(int fd)
{
	int off = 0;

	setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off));
}

bool host_passrights_supported(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0;
	bool ok;

	if (fd < 0)
		return false;
	ok = !setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off));
	close(fd);
	return ok;
}

bool host_peerpidfd_supported(void)
{
	int sv[2], fd = -1;
	socklen_t len = sizeof(fd);
	bool ok;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return false;
	ok = !getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &fd, &len) ||
	     errno != ENOPROTOOPT;
	if (fd >= 0)
		close(fd);
	close(sv[0]);
	close(sv[1]);
	return ok;
}

/*
 * Is a daemon listening at @addr? 0: no (stale file), -EADDRINUSE with
 * *pid set: yes. A non-blocking connect never waits on the other daemon.
 */
static int host_listen_probe(const struct sockaddr_un *addr, pid_t *pid)
{
	struct host_peer peer = { 0 };
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)addr, sizeof(*addr))) {
		host_peer_get(fd, &peer);
		err = -EADDRINUSE;
	} else if (errno == EAGAIN) {
		err = -EADDRINUSE;	/* its backlog is full: alive */
	} else if (errno != ECONNREFUSED) {
		err = -errno;
	}
	close(fd);
	*pid = peer.pid;
	return err;
}

/* Replace a stale socket file; refuse anything else. Logs why. */
static int host_listen_clear(const struct sockaddr_un *addr, const char *what)
{
	const char *path = addr->sun_path;
	struct stat st;
	pid_t pid;
	int err;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		pr_err("%s %s: %s", what, path, strerror(-err));
		return err;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("%s %s: exists and is not a socket (not removed)", what, path);
		return -EEXIST;
	}
	err = host_listen_probe(addr, &pid);
	if (err == -EADDRINUSE) {
		if (pid)
			pr_err("%s %s: in use by pid %d (another pvdmad?)", what,
			       path, (int)pid);
		else
			pr_err("%s %s: in use by a live daemon", what, path);
		return err;
	}
	if (err) {
		pr_err("%s %s: cannot tell whether it is in use: %s", what, path,
		       strerror(-err));
		return err;
	}
	if (unlink(path) < 0) {
		err = -errno;
		pr_err("%s %s: removing the stale socket: %s", what, path,
		       strerror(-err));
		return err;
	}
	return 0;
}

static const char *bind_hint(int err)
{
	switch (err) {
	case ENOENT:	return " (does the directory exist?)";
	case EACCES:	return " (may pvdmad's user write the directory?)";
	case EROFS:	return " (read-only file system)";
	default:	return "";
	}
}

/* Mode and group on the file before listen(): no window where another
 * user could connect through a umask-wide mode. */
static int host_listen_protect(const char *path, const char *what,
			       const struct host_access *a)
{
	if (a->group_set && chown(path, (uid_t)-1, a->group) < 0) {
		pr_err("%s %s: --socket-group %u: %s", what, path,
		       (unsigned int)a->group, strerror(errno));
		return -errno;
	}
	if (chmod(path, a->group_set ? 0660 : 0600) < 0) {
		pr_err("%s %s: chmod: %s", what, path, strerror(errno));
		return -errno;
	}
	return 0;
}

int host_listen(const char *path, const char *what,
		const struct host_access *a, int backlog,
		struct host_sockfile *file)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		pr_err("%s %s: path longer than %zu bytes", what, path,
		       sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	err = host_listen_clear(&addr, what);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	host_listen_refuse_fds(fd);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		pr_err("%s %s: %s%s", what, path, strerror(-err), bind_hint(-err));
		goto err_close;
	}
	err = host_listen_protect(path, what, a);
	if (err)
		goto err_unlink;
	if (lstat(path, &st) < 0 || listen(fd, backlog) < 0) {
		err = -errno;
		pr_err("%s %s: listen: %s", what, path, strerror(-err));
		goto err_unlink;
	}
	file->dev = st.st_dev;
	file->ino = st.st_ino;
	return fd;

err_unlink:
	unlink(path);
err_close:
	close(fd);
	return err;
}

void host_listen_remove(const char *path, const struct host_sockfile *file)
{
	struct stat st;

	if (!lstat(path, &st) && st.st_dev == file->dev &&
	    st.st_ino == file->ino)
		unlink(path);
}
