// SPDX-License-Identifier: MIT
/*
 * ivshmem-doorbell server core: socket, per-client region and eventfds,
 * the connect sequence, doorbells and notifications.
 *
 * A client (QEMU) never sends anything after connecting; any byte or fd it
 * sends is a protocol violation and disconnects it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <pvdma/compat.h>

#include "ivshmem_server.h"
#include "log.h"

#define IVSHMEM_LISTEN_BACKLOG	16
#define IVSHMEM_SEND_TIMEOUT_MS	1000

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Send one little-endian int64, with @fd attached if >= 0. Loops over short
 * writes; the fd rides with the first byte only.
 */
static int ivshmem_send_msg(int sock, int64_t value, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	uint64_t le = htole64((uint64_t)value);
	const char *p = (const char *)&le;
	size_t left = sizeof(le);
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cmsg;
	ssize_t n;

	while (left) {
		iov = (struct iovec){ .iov_base = (void *)p, .iov_len = left };
		msg = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
		if (fd >= 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = sizeof(control.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
		}
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		left -= n;
		fd = -1;
	}
	return 0;
}

static int ivshmem_send_setup(struct ivshmem_client *cl)
{
	unsigned int v;
	int err;

	err = ivshmem_send_msg(cl->sock, IVSHMEM_PROTOCOL_VERSION, -1);
	if (!err)
		err = ivshmem_send_msg(cl->sock, cl->id, -1);
	if (!err)
		err = ivshmem_send_msg(cl->sock, -1, cl->shm_fd);
	for (v = 0; !err && v < IVSHMEM_VECTORS; v++)
		err = ivshmem_send_msg(cl->sock, IVSHMEM_HOST_PEER_ID,
				       cl->host_efd[v]);
	for (v = 0; !err && v < IVSHMEM_VECTORS; v++)
		err = ivshmem_send_msg(cl->sock, cl->id, cl->guest_efd[v]);
	return err;
}

/* A sealed memfd: the client can't shrink it under the daemon (SIGBUS). */
static int ivshmem_create_shm(struct ivshmem_client *cl, const char *name,
			      uint64_t size)
{
	int fd, err;
	void *p;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	cl->shm_fd = fd;
	cl->shm = p;
	cl->shm_size = size;
	return 0;
}

static int ivshmem_create_eventfds(struct ivshmem_client *cl)
{
	unsigned int v;

	for (v = 0; v < IVSHMEM_VECTORS; v++) {
		cl->host_efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		cl->guest_efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (cl->host_efd[v] < 0 || cl->guest_efd[v] < 0)
			return -errno;
	}
	return 0;
}

/* Release every resource of a client; it stays allocated until reaped. */
static void ivshmem_client_release(struct ivshmem_client *cl)
{
	struct ivshmem_server *srv = cl->server;
	unsigned int v;

	if (cl->priv)
		srv->ops->client_fini(srv->ctx, cl);
	cl->priv = NULL;
	evloop_del(srv->loop, &cl->sock_watch);
	evloop_del(srv->loop, &cl->bell_watch);
	cl->sock_watch.fd = -1;
	cl->bell_watch.fd = -1;
	for (v = 0; v < IVSHMEM_VECTORS; v++) {
		close_fd(&cl->host_efd[v]);
		close_fd(&cl->guest_efd[v]);
	}
	if (cl->shm)
		munmap(cl->shm, cl->shm_size);
	cl->shm = NULL;
	close_fd(&cl->shm_fd);
	close_fd(&cl->sock);
}

void ivshmem_client_close(struct ivshmem_client *cl)
{
	if (cl->dead)
		return;
	pvdmad_log(PVDMAD_LOG_INFO, "%s: client %u (pid %d) disconnected",
		   cl->server->name, cl->id, (int)cl->pid);
	ivshmem_client_release(cl);
	cl->dead = true;
	cl->server->nclients--;
	cl->server->stats.disconnected++;
}

int ivshmem_client_notify(struct ivshmem_client *cl, unsigned int vector)
{
	uint64_t one = 1;

	if (cl->dead || vector >= IVSHMEM_VECTORS)
		return -EINVAL;
	if (write(cl->guest_efd[vector], &one, sizeof(one)) == sizeof(one))
		return 0;
	/* EAGAIN: the counter is saturated, the guest will see it anyway. */
	if (errno == EAGAIN)
		return 0;
	cl->server->stats.notify_errors++;
	return -errno;
}

/* Read and close whatever a client sent, so no fd it passed stays open. */
static ssize_t ivshmem_drain(int sock)
{
	char buf[256];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(16 * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;
	int *fds;
	size_t i, nfds;

	n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)CMSG_DATA(cmsg);
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		n = n ? n : 1;	/* an fd alone is a violation too */
	}
	return n;
}

static void ivshmem_on_sock(struct evloop_watch *w, uint32_t events)
{
	struct ivshmem_client *cl = container_of(w, struct ivshmem_client,
						sock_watch);
	ssize_t n = ivshmem_drain(cl->sock);

	if (n == -EAGAIN && !(events & (EPOLLHUP | EPOLLERR)))
		return;
	if (n > 0) {
		cl->server->stats.violations++;
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"%s: client %u (pid %d) sent data: protocol violation",
			cl->server->name, cl->id, (int)cl->pid);
	}
	ivshmem_client_close(cl);
}

static void ivshmem_on_doorbell(struct evloop_watch *w, uint32_t events)
{
	struct ivshmem_client *cl = container_of(w, struct ivshmem_client,
						bell_watch);
	struct ivshmem_server *srv = cl->server;
	uint64_t count;

	/* One read clears every ring since the last: one run serves them. */
	if (read(cl->host_efd[0], &count, sizeof(count)) != sizeof(count))
		return;
	srv->stats.doorbells++;
	if (srv->ops->doorbell(srv->ctx, cl) > 0)
		ivshmem_client_notify(cl, 0);
}

static struct ivshmem_client *ivshmem_client_alloc(struct ivshmem_server *srv,
						   int sock)
{
	struct ivshmem_client *cl = calloc(1, sizeof(*cl));
	unsigned int v;

	if (!cl)
		return NULL;
	cl->server = srv;
	cl->sock = sock;
	cl->shm_fd = -1;
	for (v = 0; v < IVSHMEM_VECTORS; v++)
		cl->host_efd[v] = cl->guest_efd[v] = -1;
	cl->sock_watch = (struct evloop_watch){ .fd = -1, .fn = ivshmem_on_sock };
	cl->bell_watch = (struct evloop_watch){ .fd = -1, .fn = ivshmem_on_doorbell };
	return cl;
}

static int ivshmem_client_setup(struct ivshmem_server *srv,
				struct ivshmem_client *cl)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int err;

	if (getsockopt(cl->sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	cl->pid = cred.pid;
	cl->id = srv->id_alloc(srv->id_ctx);
	if (!cl->id)
		return -EUSERS;
	err = ivshmem_create_shm(cl, srv->name, srv->shm_size);
	if (!err)
		err = ivshmem_create_eventfds(cl);
	if (!err)
		err = srv->ops->client_init(srv->ctx, cl);
	if (err)
		return err;
	err = ivshmem_send_setup(cl);
	if (err)
		return err;
	cl->sock_watch.fd = cl->sock;
	err = evloop_add(srv->loop, &cl->sock_watch, EPOLLIN | EPOLLRDHUP);
	if (err)
		return err;
	cl->bell_watch.fd = cl->host_efd[0];
	return evloop_add(srv->loop, &cl->bell_watch, EPOLLIN);
}

/* Blocking sends with a timeout: a client that never reads can't hang us. */
static int ivshmem_sock_prepare(int sock)
{
	struct timeval tv = {
		.tv_sec = IVSHMEM_SEND_TIMEOUT_MS / 1000,
		.tv_usec = (IVSHMEM_SEND_TIMEOUT_MS % 1000) * 1000,
	};

	return setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ?
	       -errno : 0;
}

static void ivshmem_on_accept(struct evloop_watch *w, uint32_t events)
{
	struct ivshmem_server *srv = container_of(w, struct ivshmem_server,
						  listen_watch);
	struct ivshmem_client *cl;
	int sock, err;

	sock = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return;
	if (srv->nclients >= IVSHMEM_MAX_CLIENTS || ivshmem_sock_prepare(sock)) {
		srv->stats.refused++;
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN, "%s: connection refused",
				       srv->name);
		close(sock);
		return;
	}
	cl = ivshmem_client_alloc(srv, sock);
	if (!cl) {
		srv->stats.refused++;
		close(sock);
		return;
	}
	cl->next = srv->clients;
	srv->clients = cl;
	srv->nclients++;
	err = ivshmem_client_setup(srv, cl);
	if (err) {
		srv->stats.refused++;
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"%s: client setup failed: %s", srv->name, strerror(-err));
		ivshmem_client_close(cl);
		return;
	}
	srv->stats.accepted++;
	pvdmad_log(PVDMAD_LOG_INFO, "%s: client %u (pid %d) connected",
		   srv->name, cl->id, (int)cl->pid);
}

/* Replace a stale socket file; refuse to remove anything else. */
static int ivshmem_unlink_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) < 0 ? -errno : 0;
}

int ivshmem_server_start(struct ivshmem_server *srv, struct evloop *loop)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int err;

	srv->loop = loop;
	srv->clients = NULL;
	srv->nclients = 0;
	if (strlen(srv->path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, srv->path);
	err = ivshmem_unlink_stale(srv->path);
	if (err)
		return err;
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0)
		return -errno;
	if (bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(srv->listen_fd, IVSHMEM_LISTEN_BACKLOG) < 0) {
		err = -errno;
		goto err_close;
	}
	srv->listen_watch = (struct evloop_watch){
		.fd = srv->listen_fd, .fn = ivshmem_on_accept,
	};
	err = evloop_add(loop, &srv->listen_watch, EPOLLIN);
	if (err)
		goto err_unlink;
	return 0;

err_unlink:
	unlink(srv->path);
err_close:
	close_fd(&srv->listen_fd);
	return err;
}

void ivshmem_server_reap(struct ivshmem_server *srv)
{
	struct ivshmem_client **pp = &srv->clients, *cl;

	while ((cl = *pp)) {
		if (cl->dead) {
			*pp = cl->next;
			free(cl);
		} else {
			pp = &cl->next;
		}
	}
}

void ivshmem_server_stop(struct ivshmem_server *srv)
{
	struct ivshmem_client *cl;

	for (cl = srv->clients; cl; cl = cl->next)
		ivshmem_client_close(cl);
	ivshmem_server_reap(srv);
	if (srv->listen_fd >= 0) {
		evloop_del(srv->loop, &srv->listen_watch);
		close_fd(&srv->listen_fd);
		unlink(srv->path);
	}
}

struct ivshmem_client *ivshmem_server_find(struct ivshmem_server *srv,
					   uint32_t id)
{
	struct ivshmem_client *cl;

	for (cl = srv->clients; cl; cl = cl->next)
		if (!cl->dead && cl->id == id)
			return cl;
	return NULL;
}
