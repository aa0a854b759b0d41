/* SPDX-License-Identifier: MIT */
/*
 * The server end of QEMU's ivshmem-doorbell chardev socket, as one
 * reusable core: pvdmad runs two (the companion and the DMA device).
 *
 * Each connecting QEMU (a "client") gets its own shared-memory region (a
 * sealed memfd, QEMU's BAR2), its own id, and sees exactly two peers: the
 * daemon (host_peer_id, whose vector eventfds the guest rings through the
 * doorbell register) and itself (its vector eventfds, which the daemon
 * writes to raise MSI-X vector 0). Clients never learn of each other.
 *
 * Connect sequence (8-byte little-endian signed values, the fd as
 * SCM_RIGHTS): protocol version 0; the client's id; -1 with the shm fd;
 * host_peer_id with each host vector eventfd; the client's id with each of
 * its own vector eventfds.
 *
 * The caller owns the event loop; the server adds its watches to it and
 * frees disconnected clients in ivshmem_server_reap(), after a loop round.
 */
#ifndef PVDMAD_IVSHMEM_SERVER_H
#define PVDMAD_IVSHMEM_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "accept_reserve.h"
#include "listen_socket.h"
#include "evloop.h"
#include "fdstore.h"
#include "peerpin.h"

#define IVSHMEM_PROTOCOL_VERSION	0
#define IVSHMEM_VECTORS			1	/* -device ivshmem-doorbell,vectors=1 */
#define IVSHMEM_HOST_PEER_ID		0	/* the daemon's own peer id */
#define IVSHMEM_MAX_CLIENTS		64	/* per server */
#define IVSHMEM_MAX_PEER_ID		65535	/* QEMU keeps ids in 16 bits */

struct ivshmem_server;

/**
 * struct ivshmem_client - one connected QEMU
 * @next:	in the server's list
 * @server:	owner
 * @sock:	the connection
 * @id:		its peer id
 * @pid:	the connecting process (SO_PEERCRED; 0 outside our pid namespace)
 * @peer:	its credentials (SO_PEERCRED)
 * @pin:	the connecting process, pinned at accept (or when taken back
 *		after a restart) until the client is released (peerpin.h)
 * @serial:	this connection's number, never reused in this pvdmad (ids
 *		are, once a client is gone): what a verdict about it is
 *		cached under
 * @shm_fd:	its region's memfd
 * @shm:	the region, mapped
 * @shm_size:
 * @host_efd:	daemon's vectors: the guest's doorbell writes them
 * @guest_efd:	the client's vectors: written to interrupt the guest
 * @priv:	the device state (companion or DMA device)
 * @pending:	the device's handle on an init it finishes later (see
 *		struct ivshmem_server_ops), NULL once it did
 * @busy:	in the daemon's busy list: work queued beyond its last slice
 * @busy_next:	next in it
 * @dead:	disconnected, freed at the next reap
 * @detaching:	the daemon exits for a restart: leave the device to the next
 * @sock_watch, @bell_watch: loop registrations
 */
struct ivshmem_client {
	struct ivshmem_client *next;
	struct ivshmem_server *server;
	int sock;
	uint32_t id;
	pid_t pid;
	struct host_peer peer;
	struct host_pin pin;
	uint64_t serial;
	int shm_fd;
	void *shm;
	uint64_t shm_size;
	int host_efd[IVSHMEM_VECTORS];
	int guest_efd[IVSHMEM_VECTORS];
	void *priv;
	void *pending;
	bool busy;
	struct ivshmem_client *busy_next;
	bool dead;
	bool detaching;
	struct evloop_watch sock_watch;
	struct evloop_watch bell_watch;
};

/**
 * struct ivshmem_server_ops - the device behind a server
 * @client_init:	the region is mapped and zeroed: fill it, set cl->priv.
 *			0 or a negative errno (the client is refused), or
 *			-EINPROGRESS with cl->pending set: the device
 *			finishes later with ivshmem_client_ready() (QEMU
 *			waits for its setup meanwhile)
 * @client_cancel:	a client whose init is pending went: drop cl->pending
 * @doorbell:		the guest rang: return > 0 to interrupt it
 * @slice:		run a bounded share of what the guest queued; *more:
 *			some is left. Returns how many completed (> 0:
 *			interrupt). Called by the daemon's busy round, not
 *			by the server
 * @client_fini:	the client is going: release cl->priv
 * @client_adopt:	a client handed back by the fd store after a restart:
 *			rebuild cl->priv from what the device kept. 0 or a
 *			negative errno (the client is dropped).
 * @client_detach:	pvdmad exits to be restarted: free cl->priv, leaving
 *			the guest and what the device keeps as they are
 */
struct ivshmem_server_ops {
	int (*client_init)(void *ctx, struct ivshmem_client *cl);
	void (*client_cancel)(void *ctx, struct ivshmem_client *cl);
	int (*doorbell)(void *ctx, struct ivshmem_client *cl);
	int (*slice)(void *ctx, struct ivshmem_client *cl, bool *more);
	void (*client_fini)(void *ctx, struct ivshmem_client *cl);
	int (*client_adopt)(void *ctx, struct ivshmem_client *cl);
	void (*client_detach)(void *ctx, struct ivshmem_client *cl);
};

/* Counters of one server. */
struct ivshmem_server_stats {
	uint64_t accepted;
	uint64_t refused;	/* setup failed, too many clients, not allowed */
	uint64_t not_allowed;	/* peer credentials refused (peer_access.h) */
	uint64_t out_of_fds;	/* accept() hit EMFILE/ENFILE */
	uint64_t disconnected;
	uint64_t violations;	/* a client sent bytes or fds, or tampered
				 * with a shared eventfd: disconnected */
	uint64_t doorbells;
	uint64_t notify_errors;
};

/**
 * struct ivshmem_server - one listening socket
 * @name:	"companion" or "dma", for logs and the memfd name
 * @path:	socket path
 * @access:	who may connect
 * @listen_fd:
 * @file:	the socket file we created (removed only if still ours)
 * @shm_size:	bytes per client region, a power of two
 * @ops, @ctx:	the device
 * @loop:	the caller's loop
 * @clients:	connected (and dead, until reaped)
 * @nclients:	live ones
 * @id_alloc:	allocator of client ids (unique across the daemon's
 *		servers); returns 0 when none is free
 * @id_ctx:	its argument
 * @stats:	counters
 * @store:	the fd store (fdstore.h): every client's fds are handed to it
 *		so that they outlive this process
 * @listen_kept: the listening socket came from the store or systemd
 * @fd_reserve:	given up when accept() runs out of fds (the daemon's, shared
 *		by its sockets)
 * @serials:	the last connection number handed out (the daemon's, shared
 *		by its servers)
 */
struct ivshmem_server {
	const char *name;
	const char *path;
	const struct host_access *access;
	int listen_fd;
	struct host_sockfile file;
	uint64_t shm_size;
	const struct ivshmem_server_ops *ops;
	void *ctx;
	struct evloop *loop;
	struct ivshmem_client *clients;
	unsigned int nclients;
	uint32_t (*id_alloc)(void *id_ctx);
	void *id_ctx;
	struct evloop_watch listen_watch;
	struct ivshmem_server_stats stats;
	struct fdstore *store;
	bool listen_kept;
	struct host_fd_reserve *fd_reserve;
	uint64_t *serials;
};

/*
 * ivshmem_server_start - listen on @path (host_listen(): a stale socket
 * file is replaced, a live one refused). Returns 0 or a negative errno,
 * the reason logged.
 */
int ivshmem_server_start(struct ivshmem_server *srv, struct evloop *loop);

/*
 * Take back every client the fd store holds for this server (a restart).
 * Returns how many were adopted; those that can't be are dropped, logged.
 */
int ivshmem_server_adopt(struct ivshmem_server *srv);

/* Exit for a restart: free everything here, change nothing the guests see
 * and leave every fd in the store. */
void ivshmem_server_detach(struct ivshmem_server *srv);

/* The fd store name of a client's fd: "<server>.<id>.<role>". */
void ivshmem_fd_name(char *buf, size_t size, const struct ivshmem_server *srv,
		     uint32_t id, const char *role);

/* Disconnect everyone, close and unlink the socket. */
void ivshmem_server_stop(struct ivshmem_server *srv);

/* Free the clients that disconnected during the last loop round. */
void ivshmem_server_reap(struct ivshmem_server *srv);

/* Raise @vector in the client's guest. 0 or a negative errno. */
int ivshmem_client_notify(struct ivshmem_client *cl, unsigned int vector);

/* The pending init of @cl ended with @err (0: accepted): its setup is sent,
 * or it is refused. */
void ivshmem_client_ready(struct ivshmem_client *cl, int err);

/* Disconnect a client (freed at the next reap). */
void ivshmem_client_close(struct ivshmem_client *cl);

/* Is @id a live client of @srv? */
struct ivshmem_client *ivshmem_server_find(struct ivshmem_server *srv,
					   uint32_t id);

#endif /* PVDMAD_IVSHMEM_SERVER_H */
