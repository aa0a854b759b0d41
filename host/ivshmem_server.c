// SPDX-License-Identifier: MIT
/*
 * ivshmem-doorbell server core: socket, per-client region and eventfds,
 * the connect sequence, doorbells and notifications.
 *
 * A client (QEMU) never sends anything after connecting; any byte or fd it
 * sends is a protocol violation and disconnects it. Nothing here blocks on
 * a client: its socket is non-blocking, fds are refused at its sendmsg()
 * (SO_PASSRIGHTS, listen_socket.c) and the eventfds it shares go through peerfd.c.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

#include "fdcloser.h"
#include "fdpass.h"
#include "ivshmem_server.h"
#include "log.h"
#include "peerfd.h"

#define IVSHMEM_LISTEN_BACKLOG	16

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Send one little-endian int64, with @fd attached if >= 0. Loops over short
 * writes; the fd rides with the first byte only. The whole setup (40 bytes)
 * fits an empty socket buffer, so -EAGAIN means a client that is not QEMU.
 */
static int ivshmem_send_msg(int sock, int64_t value, int fd)
{
	union fdpass_cmsg control;
	uint64_t le = htole64((uint64_t)value);
	const char *p = (const char *)&le;
	size_t left = sizeof(le);
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;

	while (left) {
		iov = (struct iovec){ .iov_base = (void *)p, .iov_len = left };
		msg = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
		if (fd >= 0)
			fdpass_attach(&msg, &control, fd);
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
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

/*
 * Refuse a connection before its setup: QEMU reads the setup synchronously
 * while it creates the device, and a socket closed before any byte makes
 * it read end-of-file forever (hw/misc/ivshmem.c retries an empty read).
 * A first message other than the protocol version fails the device, and
 * QEMU exits saying "server sent version -13, expecting 0": the negative
 * errno of the refusal, whose reason pvdmad logs.
 */
static void ivshmem_send_refusal(int sock, int err)
{
	ivshmem_send_msg(sock, err < 0 ? err : -EPROTO, -1);
}

/* A sealed memfd: the client can't shrink it under the daemon (SIGBUS). */
#define IVSHMEM_SHM_SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static int ivshmem_create_shm(struct ivshmem_client *cl, const char *name,
			      uint64_t size)
{
	int fd, err;
	void *p;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, IVSHMEM_SHM_SEALS) < 0) {
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

void ivshmem_fd_name(char *buf, size_t size, const struct ivshmem_server *srv,
		     uint32_t id, const char *role)
{
	snprintf(buf, size, "%s.%u.%s", srv->name, id, role);
}

/*
 * What a client's fds are called in the fd store. Roles: the connection,
 * the region, and per vector the doorbell (host) and interrupt (guest)
 * eventfds.
 */
#define IVSHMEM_FD_ROLES	(2 + 2 * IVSHMEM_VECTORS)

static int *ivshmem_client_fd(struct ivshmem_client *cl, unsigned int i,
			      char *role, size_t size)
{
	if (i == 0) {
		snprintf(role, size, "sock");
		return &cl->sock;
	}
	if (i == 1) {
		snprintf(role, size, "shm");
		return &cl->shm_fd;
	}
	i -= 2;
	snprintf(role, size, "%s%u", i % 2 ? "irq" : "bell", i / 2);
	return i % 2 ? &cl->guest_efd[i / 2] : &cl->host_efd[i / 2];
}

static int ivshmem_client_store(struct ivshmem_client *cl)
{
	char role[16], name[FDSTORE_NAME_MAX + 1];
	unsigned int i;
	int *fd, err;

	if (!cl->server->store)
		return 0;
	for (i = 0; i < IVSHMEM_FD_ROLES; i++) {
		fd = ivshmem_client_fd(cl, i, role, sizeof(role));
		ivshmem_fd_name(name, sizeof(name), cl->server, cl->id, role);
		err = fdstore_push(cl->server->store, name, *fd);
		if (err)
			return err;
	}
	return 0;
}

static void ivshmem_client_unstore(struct ivshmem_client *cl)
{
	char role[16], name[FDSTORE_NAME_MAX + 1];
	unsigned int i;

	if (!cl->server->store || !cl->id)
		return;
	for (i = 0; i < IVSHMEM_FD_ROLES; i++) {
		ivshmem_client_fd(cl, i, role, sizeof(role));
		ivshmem_fd_name(name, sizeof(name), cl->server, cl->id, role);
		fdstore_remove(cl->server->store, name);
	}
}

/* Release every resource of a client; it stays allocated until reaped. */
static void ivshmem_client_release(struct ivshmem_client *cl)
{
	struct ivshmem_server *srv = cl->server;
	unsigned int v;

	if (cl->pending)
		srv->ops->client_cancel(srv->ctx, cl);
	cl->pending = NULL;
	if (cl->priv && cl->detaching)
		srv->ops->client_detach(srv->ctx, cl);
	else if (cl->priv)
		srv->ops->client_fini(srv->ctx, cl);
	cl->priv = NULL;
	if (!cl->detaching)
		ivshmem_client_unstore(cl);
	evloop_del(srv->loop, &cl->sock_watch);
	evloop_del(srv->loop, &cl->bell_watch);
	cl->sock_watch.fd = -1;
	cl->bell_watch.fd = -1;
	for (v = 0; v < IVSHMEM_VECTORS; v++) {
		close_fd(&cl->host_efd[v]);
		close_fd(&cl->guest_efd[v]);
	}
	/* The region's pages are the guest's to fill (64 MiB at the largest
	 * ring), and this close is often their last holder: freeing them
	 * takes as long as they are many, so it happens off the loop. */
	if (cl->shm || cl->shm_fd >= 0)
		fdcloser_unmap_close(cl->shm, cl->shm_size, cl->shm_fd);
	cl->shm = NULL;
	cl->shm_fd = -1;
	host_pin_release(&cl->pin);
	/* fds a peer sent may wait in its queue (kernels without
	 * SO_PASSRIGHTS): their release must not run on the loop. Detaching
	 * for a restart, the store keeps the socket: only our fd goes. */
	if (cl->detaching)
		close_fd(&cl->sock);
	fdcloser_close_socket(cl->sock);
	cl->sock = -1;
}

void ivshmem_client_close(struct ivshmem_client *cl)
{
	if (cl->dead)
		return;
	pvdmad_log_ratelimited(PVDMAD_LOG_INFO,
		"%s: client %u (pid %d) disconnected", cl->server->name, cl->id,
		(int)cl->pid);
	ivshmem_client_release(cl);
	cl->dead = true;
	cl->server->nclients--;
	cl->server->stats.disconnected++;
}

/* A shared eventfd's flags or counter were turned against us. */
static void ivshmem_client_tampered(struct ivshmem_client *cl, int err)
{
	cl->server->stats.violations++;
	pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
		"%s: client %u (pid %d) %s its eventfd: disconnected",
		cl->server->name, cl->id, (int)cl->pid,
		err == -EPERM ? "made blocking" : "blocked us on");
	ivshmem_client_close(cl);
}

int ivshmem_client_notify(struct ivshmem_client *cl, unsigned int vector)
{
	int err;

	if (cl->dead || vector >= IVSHMEM_VECTORS)
		return -EINVAL;
	err = peerfd_eventfd_write(cl->guest_efd[vector], 1);
	/* -EAGAIN: the counter is saturated, the guest will see it anyway. */
	if (!err || err == -EAGAIN)
		return 0;
	if (err == -EPERM || err == -ETIMEDOUT) {
		ivshmem_client_tampered(cl, err);
		return err;
	}
	cl->server->stats.notify_errors++;
	return err;
}

/* Read and close whatever a client sent, so no fd it passed stays open:
 * an fd alone is a violation too (1, as if a byte came).
 */
static ssize_t ivshmem_drain(int sock)
{
	char buf[256];
	bool fds;
	ssize_t n = fdpass_recv_refusing(sock, buf, sizeof(buf), &fds);

	return fds && n == 0 ? 1 : n;
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
	int err;

	/* One read clears every ring since the last: one run serves them. */
	err = peerfd_eventfd_read(cl->host_efd[0], &count);
	if (err == -EPERM || err == -ETIMEDOUT) {
		ivshmem_client_tampered(cl, err);
		return;
	}
	if (err)
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
	cl->serial = ++*srv->serials;
	cl->pin.fd = -ESRCH;	/* not pinned yet: nothing to close */
	cl->shm_fd = -1;
	for (v = 0; v < IVSHMEM_VECTORS; v++)
		cl->host_efd[v] = cl->guest_efd[v] = -1;
	cl->sock_watch = (struct evloop_watch){ .fd = -1, .fn = ivshmem_on_sock };
	cl->bell_watch = (struct evloop_watch){ .fd = -1, .fn = ivshmem_on_doorbell };
	return cl;
}

/* Its id, region, eventfds and device: 0, -EINPROGRESS (the device
 * finishes later), or a negative errno with the refusal sent. */
static int ivshmem_client_setup(struct ivshmem_server *srv,
				struct ivshmem_client *cl)
{
	int err;

	cl->id = srv->id_alloc(srv->id_ctx);
	err = cl->id ? ivshmem_create_shm(cl, srv->name, srv->shm_size) :
		       -EUSERS;
	if (!err)
		err = ivshmem_create_eventfds(cl);
	if (!err)
		err = srv->ops->client_init(srv->ctx, cl);
	if (err && err != -EINPROGRESS)
		ivshmem_send_refusal(cl->sock, err);
	return err;
}

/* A client whose device is ready: store its fds, send its setup, watch it. */
static int ivshmem_client_start(struct ivshmem_server *srv,
				struct ivshmem_client *cl)
{
	/* Kept before QEMU hears of them: a crash from now on loses nothing. */
	int err = ivshmem_client_store(cl);

	if (err) {
		ivshmem_send_refusal(cl->sock, err);
		return err;
	}
	err = ivshmem_send_setup(cl);
	if (err)
		return err;
	if (cl->sock_watch.fd < 0) {
		cl->sock_watch.fd = cl->sock;
		err = evloop_add(srv->loop, &cl->sock_watch, EPOLLIN | EPOLLRDHUP);
		if (err)
			return err;
	}
	cl->bell_watch.fd = cl->host_efd[0];
	return evloop_add(srv->loop, &cl->bell_watch, EPOLLIN);
}

/* The end of a client's setup, @err or 0: counted, logged. */
static void ivshmem_client_admitted(struct ivshmem_server *srv,
				    struct ivshmem_client *cl, int err)
{
	if (err) {
		srv->stats.refused++;
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"%s: client setup failed: %s", srv->name, strerror(-err));
		ivshmem_client_close(cl);
		return;
	}
	srv->stats.accepted++;
	pvdmad_log_ratelimited(PVDMAD_LOG_DEBUG,
		"%s: client %u: region %llu bytes, doorbell fd %d, interrupt fd %d",
		srv->name, cl->id, (unsigned long long)cl->shm_size,
		cl->host_efd[0], cl->guest_efd[0]);
	pvdmad_log_ratelimited(PVDMAD_LOG_INFO,
		"%s: client %u (pid %d uid %d) connected", srv->name, cl->id,
		(int)cl->pid, (int)cl->peer.uid);
}

void ivshmem_client_ready(struct ivshmem_client *cl, int err)
{
	if (cl->dead)
		return;
	cl->pending = NULL;
	if (err)
		ivshmem_send_refusal(cl->sock, err);
	else
		err = ivshmem_client_start(cl->server, cl);
	ivshmem_client_admitted(cl->server, cl, err);
}

/* May @peer use this socket under today's options? Counted if not. */
static int ivshmem_peer_access(struct ivshmem_server *srv,
			       const struct host_peer *peer, const char **why)
{
	if (host_access_check(srv->access, peer, why))
		return 0;
	srv->stats.not_allowed++;
	return -EACCES;
}

/* Who is calling, and may they? Refused peers are logged with the reason. */
static int ivshmem_peer_allowed(struct ivshmem_server *srv, int sock,
				struct host_peer *peer)
{
	const char *why = "no peer credentials";
	int err;

	err = host_peer_get(sock, peer);
	if (!err)
		err = ivshmem_peer_access(srv, peer, &why);
	if (!err && srv->nclients >= IVSHMEM_MAX_CLIENTS) {
		why = "too many clients";
		err = -EUSERS;
	}
	if (err)
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"%s: connection from pid %d uid %d refused: %s",
			srv->name, (int)peer->pid, (int)peer->uid, why);
	return err;
}

/*
 * The connecting process pinned at once (peerpin.h): the later its pin,
 * the longer its pid may be reused unseen where the kernel has no
 * SO_PEERPIDFD. A peer gone already is pinned as gone; one that can't
 * be pinned (out of fds) is refused, never served unpinned.
 */
static int ivshmem_peer_pin(struct ivshmem_server *srv, int sock,
			    const struct host_peer *peer, struct host_pin *pin)
{
	int err = host_pin_take(pin, sock, peer);

	if (err)
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"%s: connection from pid %d refused: its process can't be pinned: %s",
			srv->name, (int)peer->pid, strerror(-err));
	return err;
}

static void ivshmem_on_accept(struct evloop_watch *w, uint32_t events)
{
	struct ivshmem_server *srv = container_of(w, struct ivshmem_server,
						  listen_watch);
	struct host_peer peer = { .pid = 0, .uid = (uid_t)-1 };
	struct ivshmem_client *cl;
	struct host_pin pin;
	int sock, err;

	sock = host_accept(srv->fd_reserve, srv->listen_fd);
	if (sock == -EMFILE || sock == -ENFILE) {
		srv->stats.out_of_fds++;
		srv->stats.refused++;
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"%s: out of file descriptors: connection refused",
			srv->name);
		return;
	}
	if (sock < 0)
		return;
	err = ivshmem_peer_allowed(srv, sock, &peer);
	if (!err)
		err = ivshmem_peer_pin(srv, sock, &peer, &pin);
	if (err) {
		srv->stats.refused++;
		ivshmem_send_refusal(sock, err);
		fdcloser_close_socket(sock);
		return;
	}
	cl = ivshmem_client_alloc(srv, sock);
	if (!cl) {
		host_pin_release(&pin);
		srv->stats.refused++;
		ivshmem_send_refusal(sock, -ENOMEM);
		fdcloser_close_socket(sock);
		return;
	}
	cl->peer = peer;
	cl->pin = pin;
	cl->pid = peer.pid;
	cl->next = srv->clients;
	srv->clients = cl;
	srv->nclients++;
	err = ivshmem_client_setup(srv, cl);
	if (err == -EINPROGRESS) {
		/* Its setup waits for the device; a hang-up meanwhile (or
		 * a byte: a violation) ends it. */
		cl->sock_watch.fd = cl->sock;
		err = evloop_add(srv->loop, &cl->sock_watch, EPOLLIN | EPOLLRDHUP);
		if (!err)
			return;
		ivshmem_send_refusal(cl->sock, err);
	} else if (!err) {
		err = ivshmem_client_start(srv, cl);
	}
	ivshmem_client_admitted(srv, cl, err);
}

/*
 * A listening socket handed over at start: by the store, from an earlier
 * pvdmad ("<server>.listen"; its file is ours to remove at a clean stop),
 * or by systemd's socket activation (found by its path; the socket unit
 * owns the file).
 */
static int ivshmem_listen_kept(struct ivshmem_server *srv)
{
	char name[FDSTORE_NAME_MAX + 1];
	struct stat st;
	int fd;

	if (!srv->store)
		return -ENOENT;
	snprintf(name, sizeof(name), "%s.listen", srv->name);
	fd = fdstore_take(srv->store, name);
	if (fd >= 0 && !stat(srv->path, &st) && S_ISSOCK(st.st_mode))
		srv->file = (struct host_sockfile){ st.st_dev, st.st_ino };
	if (fd < 0)
		fd = fdstore_take_socket(srv->store, srv->path);
	if (fd < 0)
		return fd;
	/* Named or found by path, it must be what host_listen() makes. */
	if (fdstore_check_socket(fd, name, srv->path) ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		pvdmad_log(PVDMAD_LOG_ERR, "%s: the fd handed over is not a listening socket",
			   srv->name);
		close(fd);
		return -ENOTSOCK;
	}
	host_listen_refuse_fds(fd);
	srv->listen_kept = true;
	pvdmad_log(PVDMAD_LOG_INFO, "%s: listening socket %s taken over",
		   srv->name, srv->path);
	return fd;
}

static int ivshmem_listen_store(struct ivshmem_server *srv)
{
	char name[FDSTORE_NAME_MAX + 1];

	if (!srv->store || srv->listen_kept)
		return 0;
	snprintf(name, sizeof(name), "%s.listen", srv->name);
	return fdstore_push(srv->store, name, srv->listen_fd);
}

int ivshmem_server_start(struct ivshmem_server *srv, struct evloop *loop)
{
	char what[64];
	int err;

	srv->loop = loop;
	srv->clients = NULL;
	srv->nclients = 0;
	err = peerfd_init();
	if (err)
		return err;
	snprintf(what, sizeof(what), "%s socket", srv->name);
	srv->listen_fd = ivshmem_listen_kept(srv);
	if (srv->listen_fd < 0)
		srv->listen_fd = host_listen(srv->path, what, srv->access,
					     IVSHMEM_LISTEN_BACKLOG, &srv->file);
	if (srv->listen_fd < 0)
		return srv->listen_fd;
	err = ivshmem_listen_store(srv);
	if (err) {
		host_listen_remove(srv->path, &srv->file);
		close_fd(&srv->listen_fd);
		return err;
	}
	srv->listen_watch = (struct evloop_watch){
		.fd = srv->listen_fd, .fn = ivshmem_on_accept,
	};
	err = evloop_add(loop, &srv->listen_watch, EPOLLIN);
	if (err) {
		host_listen_remove(srv->path, &srv->file);
		close_fd(&srv->listen_fd);
	}
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
	char name[FDSTORE_NAME_MAX + 1];
	struct ivshmem_client *cl;

	for (cl = srv->clients; cl; cl = cl->next)
		ivshmem_client_close(cl);
	ivshmem_server_reap(srv);
	if (srv->listen_fd >= 0) {
		evloop_del(srv->loop, &srv->listen_watch);
		close_fd(&srv->listen_fd);
		host_listen_remove(srv->path, &srv->file);
		if (srv->store) {
			snprintf(name, sizeof(name), "%s.listen", srv->name);
			fdstore_remove(srv->store, name);
		}
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

/* The region an earlier pvdmad created (checked when taken). */
static int ivshmem_map_kept_shm(struct ivshmem_client *cl)
{
	void *p;

	p = mmap(NULL, cl->server->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 cl->shm_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	cl->shm = p;
	cl->shm_size = cl->server->shm_size;
	return 0;
}

/* Is fd @i of a client what ivshmem_client_fd() says pvdmad made there? */
static int ivshmem_check_kept_fd(struct ivshmem_client *cl, unsigned int i,
				 int fd, const char *name)
{
	struct stat st;
	int err;

	if (i == 0)
		return fdstore_check_socket(fd, name, NULL);
	if (i != 1)
		return fdstore_check_eventfd(fd, name);
	err = fdstore_check_memfd(fd, name, cl->server->shm_size,
				  IVSHMEM_SHM_SEALS);
	if (err == -ESTALE && !fstat(fd, &st))
		pvdmad_log(PVDMAD_LOG_ERR, "%s: %lld bytes, this pvdmad's regions are %llu (restart with the same options)",
			   name, (long long)st.st_size,
			   (unsigned long long)cl->server->shm_size);
	return err;
}

/* Take every fd of client @id; -ENOENT if one is missing, -EBADFD if one
 * is not what pvdmad made (each is checked). */
static int ivshmem_take_kept_fds(struct ivshmem_client *cl)
{
	char role[16], name[FDSTORE_NAME_MAX + 1];
	unsigned int i;
	int *fd, err = 0, ret;

	for (i = 0; i < IVSHMEM_FD_ROLES; i++) {
		fd = ivshmem_client_fd(cl, i, role, sizeof(role));
		ivshmem_fd_name(name, sizeof(name), cl->server, cl->id, role);
		*fd = fdstore_take(cl->server->store, name);
		if (*fd < 0) {
			*fd = -1;
			err = -ENOENT;
		} else {
			/* Every one checked: each that is off is logged. */
			ret = ivshmem_check_kept_fd(cl, i, *fd, name);
			if (!err)
				err = ret;
		}
	}
	return err;
}

static int ivshmem_client_adopt(struct ivshmem_server *srv, uint32_t id)
{
	struct ivshmem_client *cl = ivshmem_client_alloc(srv, -1);
	const char *why = "not allowed";
	int err;

	if (!cl)
		return -ENOMEM;
	cl->id = id;
	cl->next = srv->clients;
	srv->clients = cl;
	srv->nclients++;
	err = ivshmem_take_kept_fds(cl);
	if (!err)
		err = host_peer_get(cl->sock, &cl->peer);
	/* Admitted as a new connection would be now: this pvdmad may allow
	 * fewer users than the one that accepted it. */
	if (!err && (err = ivshmem_peer_access(srv, &cl->peer, &why)))
		pvdmad_log(PVDMAD_LOG_WARN, "%s: client %u of pid %d uid %d: %s",
			   srv->name, id, (int)cl->peer.pid, (int)cl->peer.uid,
			   why);
	cl->pid = cl->peer.pid;
	/* Pinned again: with SO_PEERPIDFD the socket still names the process
	 * that connected, exactly, alive or gone; without it by pid number,
	 * now (docs/security.md §4), rather than unbind every VM's DMA
	 * device at each restart on such kernels. */
	if (!err)
		err = host_pin_take(&cl->pin, cl->sock, &cl->peer);
	if (!err)
		err = ivshmem_map_kept_shm(cl);
	if (!err)
		err = srv->ops->client_adopt(srv->ctx, cl);
	if (!err) {
		cl->sock_watch.fd = cl->sock;
		err = evloop_add(srv->loop, &cl->sock_watch, EPOLLIN | EPOLLRDHUP);
	}
	if (!err) {
		cl->bell_watch.fd = cl->host_efd[0];
		err = evloop_add(srv->loop, &cl->bell_watch, EPOLLIN);
	}
	if (err) {
		pvdmad_log(PVDMAD_LOG_ERR, "%s: client %u can't be taken back: %s; its VM loses this device",
			   srv->name, id, strerror(-err));
		ivshmem_client_close(cl);
		return err;
	}
	pvdmad_log(PVDMAD_LOG_INFO, "%s: client %u (pid %d) taken back",
		   srv->name, id, (int)cl->pid);
	/*
	 * Serve what the guest posted while no pvdmad was running (its
	 * doorbell may have been read by the process that died), then always
	 * interrupt: that process may have died after writing a completion
	 * and before its interrupt, which no state here records. A guest reads
	 * its completions again after any interrupt, so an extra one is free.
	 */
	srv->ops->doorbell(srv->ctx, cl);
	ivshmem_client_notify(cl, 0);
	return 0;
}

/* Close and forget the stored fd named @n. */
static void ivshmem_drop_one(struct ivshmem_server *srv, const char *n)
{
	char name[FDSTORE_NAME_MAX + 1];
	int fd;

	snprintf(name, sizeof(name), "%s", n);
	pvdmad_log(PVDMAD_LOG_WARN, "%s: fd %s in the store has no use, dropped",
		   srv->name, name);
	fd = fdstore_take(srv->store, name);
	if (fd >= 0)
		close(fd);
	fdstore_remove(srv->store, name);
}

/* Close and forget every stored fd whose name starts with @prefix. */
static void ivshmem_drop_kept(struct ivshmem_server *srv, const char *prefix)
{
	const char *n;

	while ((n = fdstore_next_untaken(srv->store, prefix)))
		ivshmem_drop_one(srv, n);
}

int ivshmem_server_adopt(struct ivshmem_server *srv)
{
	char prefix[64], client[96], *end;
	const char *name;
	unsigned long id;
	int adopted = 0;

	if (!srv->store)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s.", srv->name);
	while ((name = fdstore_next_untaken(srv->store, prefix))) {
		errno = 0;
		id = strtoul(name + strlen(prefix), &end, 10);
		snprintf(client, sizeof(client), "%s%lu.", prefix, id);
		/*
		 * Not a client's fd, or its id not written as pvdmad writes
		 * it ("01", "+1", " 1": strtoul takes them, the client's
		 * prefix below never matched it, and the loop found it again
		 * for ever): only this one goes, by its whole name (as a
		 * prefix, "companion.1" named clients 1, 10 to 19, ...).
		 */
		if (errno || *end != '.' || !id || id > IVSHMEM_MAX_PEER_ID ||
		    strncmp(name, client, strlen(client))) {
			ivshmem_drop_one(srv, name);
			continue;
		}
		if (!ivshmem_server_find(srv, (uint32_t)id) &&
		    !ivshmem_client_adopt(srv, (uint32_t)id))
			adopted++;
		/* Whatever of this client is left was not needed. */
		ivshmem_drop_kept(srv, client);
	}
	return adopted;
}

void ivshmem_server_detach(struct ivshmem_server *srv)
{
	struct ivshmem_client *cl;

	for (cl = srv->clients; cl; cl = cl->next) {
		if (cl->dead)
			continue;
		cl->detaching = true;
		ivshmem_client_release(cl);
		cl->dead = true;
		srv->nclients--;
	}
	ivshmem_server_reap(srv);
	if (srv->listen_fd >= 0) {
		evloop_del(srv->loop, &srv->listen_watch);
		close_fd(&srv->listen_fd);
	}
}
