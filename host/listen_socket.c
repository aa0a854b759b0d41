// SPDX-License-Identifier: MIT
/*
 * pvdmad's listening sockets (listen_socket.h): created, protected and
 * removed the same way for every server.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen_socket.h"
#include "log.h"

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83	/* Linux 6.16 */
#endif

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
	pid_t pid = 0;	/* unset if the probe gets no socket */
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
