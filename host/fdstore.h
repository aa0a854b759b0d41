/* SPDX-License-Identifier: MIT */
/*
 * The file-descriptor store: what lets pvdmad restart under a running VM.
 *
 * QEMU's ivshmem-doorbell never reconnects, so its connection, the
 * eventfds and the shared regions must outlive the pvdmad process. pvdmad
 * hands each of them to a keeper through systemd's notify protocol
 * (sd_notify(3): a datagram to $NOTIFY_SOCKET, "FDSTORE=1\nFDNAME=..." with
 * the fd as SCM_RIGHTS; "FDSTOREREMOVE=1" to drop it) and takes them back at
 * start from LISTEN_FDS / LISTEN_FDNAMES (sd_listen_fds(3)), fds from 3 on.
 * The keeper is systemd (FileDescriptorStoreMax=) or `pvdmad --supervise`
 * (supervise.c), which speaks the same protocol: one code path in pvdmad.
 * Socket activation arrives the same way (FileDescriptorName= names).
 *
 * No libsystemd: the protocol is a few lines, and pvdmad runs without it.
 */
#ifndef PVDMAD_FDSTORE_H
#define PVDMAD_FDSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FDSTORE_NAME_MAX	255	/* systemd's FDNAME limit */
#define FDSTORE_LISTEN_START	3	/* SD_LISTEN_FDS_START */
#define FDSTORE_MAX_FDS		4096	/* most fds taken at start */
#define FDSTORE_DRAIN_MS	1000	/* at exit, for messages still waiting */

/**
 * struct fdstore_fd - one fd handed over at start
 * @name:	its FDNAME ("unknown" if none was given)
 * @fd:		the fd, or -1 once taken or closed
 */
struct fdstore_fd {
	char *name;
	int fd;
};

/*
 * Messages the keeper had no room for wait here, in order, at most this
 * many: every fd of 64 companions and 64 DMA devices (5 each) and the
 * listeners, twice over. FDSTOREREMOVE is not counted: a lost one leaves a
 * departed guest's fd in the store for the next start, so it always
 * waits. It is bounded all the same: one per name the keeper was sent
 * (struct fdstore_held), and in order, so no push passes a remove.
 */
#define FDSTORE_OUTBOX_MAX	2048

/*
 * At most this many waiting messages go in one flush (a loop turn): a
 * sendmsg with an fd took 4-8 us CPU here, waking the keeper included
 * (test_fdstore:test_flush_time prints it), so a keeper that reads as fast
 * as pvdmad sends (or a 512-deep queue, systemd's net.unix.max_dgram_qlen)
 * made the whole outbox one turn of 10 ms or more; 128 a flush measured
 * up to 1.5 ms. The rest goes on the next turns, the socket still
 * writable.
 */
#define FDSTORE_FLUSH_MAX	64

struct fdstore_msg;
struct fdstore_held;
#define FDSTORE_HELD_BUCKETS	256

/**
 * struct fdstore_stats - what became of the messages to the keeper
 * @waited:	sent late: the keeper's queue was full at first
 * @cancelled:	FDSTORE=1 still waiting when its fd was removed: neither sent
 * @unheld:	FDSTOREREMOVE of a name the keeper was never sent: not sent
 * @dropped:	never sent: the outbox was full, the keeper gone, or still
 *		waiting at exit
 */
struct fdstore_stats {
	unsigned long long waited;
	unsigned long long cancelled;
	unsigned long long unheld;
	unsigned long long dropped;
};

/**
 * struct fdstore - this process's link to its keeper
 * @sock:	datagram socket connected to $NOTIFY_SOCKET, or -1 (no keeper)
 * @inherited:	fds handed over at start, by name
 * @ninherited:
 * @outbox:	messages waiting for room in the keeper's queue, oldest first
 * @outbox_tail: where the next one goes
 * @waiting:	how many
 * @flush_max:	most sent by one fdstore_flush() (FDSTORE_FLUSH_MAX; tests
 *		set fewer than the keeper's queue holds)
 * @held:	names the keeper may hold (inherited, or sent with an fd and
 *		no remove since): the only names a remove is sent for; hashed
 *		(up to FDSTORE_MAX_FDS taken at start: a list made that 137 ms)
 * @nheld:	how many
 * @stats:
 */
struct fdstore {
	int sock;
	struct fdstore_fd *inherited;
	unsigned int ninherited;
	struct fdstore_msg *outbox;
	struct fdstore_msg **outbox_tail;
	unsigned int waiting;
	unsigned int flush_max;
	struct fdstore_held *held[FDSTORE_HELD_BUCKETS];
	unsigned int nheld;
	struct fdstore_stats stats;
};

/*
 * Read NOTIFY_SOCKET and LISTEN_* (and unset them, so no child sees them);
 * the inherited fds get FD_CLOEXEC. 0 or a negative errno.
 */
int fdstore_open(struct fdstore *st);

/* Is there a keeper that will hold fds across a restart? */
bool fdstore_kept(const struct fdstore *st);

/* Take the inherited fd called @name: the fd, or -ENOENT. */
int fdstore_take(struct fdstore *st, const char *name);

/* Take the inherited listening AF_UNIX socket bound to @path, whatever
 * its name (systemd's socket activation): the fd, or -ENOENT. */
int fdstore_take_socket(struct fdstore *st, const char *path);

/*
 * What an fd taken back must be: what pvdmad made or accepted, checked as
 * strictly as then. Whoever the keeper takes fds from could have put
 * another there under the name, and a region whose seals are gone can be
 * shrunk under pvdmad (SIGBUS) by any other holder. 0, or -EBADFD, logged
 * with @name and why.
 */

/* A memfd, read-write, with exactly @seals (F_GET_SEALS); -ESTALE (not
 * logged) if all that holds but it is not @size bytes. */
int fdstore_check_memfd(int fd, const char *name, uint64_t size, int seals);

/* An eventfd, read-write and non-blocking (the loop reads it). */
int fdstore_check_eventfd(int fd, const char *name);

/* An AF_UNIX stream socket: with @listen_path, listening there; without,
 * a non-blocking connection (not a listener). */
int fdstore_check_socket(int fd, const char *name, const char *listen_path);

/* The name of the first inherited fd not yet taken whose name starts with
 * @prefix, or NULL. */
const char *fdstore_next_untaken(const struct fdstore *st, const char *prefix);

/*
 * Messages never wait on the keeper: $NOTIFY_SOCKET (systemd's) is open
 * to every local user, who can keep its queue full. One the queue can't
 * take goes to the outbox, with a dup of its fd, and leaves in order as
 * fdstore_flush() finds room (the owner's loop calls it when the socket
 * turns writable). So 0 means sent or waiting, not yet held.
 */

/* Hand @fd to the keeper as @name (a dup: the caller keeps its own). 0
 * without a keeper, else 0 or a negative errno: -ENOBUFS when the outbox
 * is full (the fd would not be kept: the caller must not count on it). */
int fdstore_push(struct fdstore *st, const char *name, int fd);

/* Ask the keeper to close every fd it holds as @name; a push of @name
 * still waiting is taken back instead. Never refused for a full outbox:
 * sent or waiting (0), unless the keeper is gone. */
int fdstore_remove(struct fdstore *st, const char *name);

/* Send a state line such as "READY=1" or "STOPPING=1" (no-op without a
 * keeper). */
int fdstore_notify(struct fdstore *st, const char *state);

/* Messages waiting for the keeper? */
bool fdstore_backlog(const struct fdstore *st);

/* Send what the keeper's queue takes now, never waiting, @st->flush_max
 * at most, oldest first; the number of messages still waiting. */
unsigned int fdstore_flush(struct fdstore *st);

/* Close (and remove from the keeper) every inherited fd nobody took. */
void fdstore_drop_untaken(struct fdstore *st);

/* Close the store; messages still waiting get FDSTORE_DRAIN_MS at most
 * (the loop is over: a restart needs them), the rest are dropped, logged. */
void fdstore_close(struct fdstore *st);

#endif /* PVDMAD_FDSTORE_H */
