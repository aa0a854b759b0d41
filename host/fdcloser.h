/* SPDX-License-Identifier: MIT */
/*
 * Closing what a peer could have made block or take long on close, off
 * the loop.
 *
 * The last close() of a file runs its release in the closer's context: a
 * TCP socket with unsent data and SO_LINGER waits up to its linger time, a
 * FUSE file waits for its server, and a unix socket still holding fds in
 * flight releases those too. On kernels with SO_PASSRIGHTS (Linux 6.16,
 * listen_socket.c) no peer's fd ever reaches pvdmad, and closing its own sockets
 * can't block: fdcloser_close() then is close(). Without it, fds a peer
 * passed and every connection socket a peer could have loaded with fds go
 * to one helper thread, which closes them in order; the loop never waits.
 * If the thread can't take more (it is itself stuck and its pipe full),
 * the fd is kept open, counted, rather than closed on the loop.
 *
 * pvdmad's own memory a guest wrote across (its ledger: a record per bus
 * page, tens of MiB; its shared region; the mapping of its RAM, with a page
 * table entry for every page DMA moved; its DART records) goes to a second thread on every
 * kernel: freeing it takes as long as its pages are many, and a batch of
 * guests hanging up at once made that one loop turn. A thread of its own,
 * so that a peer's fd stuck in the first never keeps that memory.
 */
#ifndef PVDMAD_FDCLOSER_H
#define PVDMAD_FDCLOSER_H

#include <stdbool.h>
#include <stddef.h>

/* Start the helper threads; @peer_fds: fds of peers reach pvdmad (no
 * SO_PASSRIGHTS), so they and connection sockets are closed there too.
 * 0 or -errno. */
int fdcloser_start(bool peer_fds);

/* Close @fd, one a peer passed; never blocks the caller. */
void fdcloser_close(int fd);

/*
 * Close a connection socket: shut for reading first (a peer's sendmsg then
 * fails), and only if data, perhaps with fds, still waits in it does the
 * closer take it; an empty one is closed at once, so a peer's lingering
 * fd delays no other connection's EOF.
 */
void fdcloser_close_socket(int fd);

/*
 * Unmap @addr (@len bytes) and close @fd, a memory file of pvdmad's own
 * or the guest RAM file (a regular file, never looked up on a peer's file
 * system): on the memory thread, never behind a peer's fd, or here when
 * it is not running or can't take more (no peer's file: that only takes
 * time, and its memory must come back).
 */
void fdcloser_unmap_close(void *addr, size_t len, int fd);

/* fds handed to the thread, and fds kept open because it was stuck. */
unsigned long long fdcloser_handed(void);
unsigned long long fdcloser_leaked(void);

/* Mappings, and their bytes, handed to the memory thread to unmap: what
 * shows a departing guest's memory went aside (stats, run-attack). */
unsigned long long fdcloser_unmapped(void);
unsigned long long fdcloser_unmapped_bytes(void);

/* Stop the thread after what it was given (at exit). */
void fdcloser_stop(void);

#endif /* PVDMAD_FDCLOSER_H */
