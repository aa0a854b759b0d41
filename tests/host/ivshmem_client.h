/* SPDX-License-Identifier: MIT */
/*
 * QEMU's side of the ivshmem-doorbell protocol (docs/pvdmad.md), for the
 * programs that stand in for QEMU and a guest driver: the host test
 * client (client.c) and the request-rate bench (bench/host_bench.c).
 * Connecting checks every setup message as QEMU would; waiting for a
 * completion is woken by the interrupt eventfd, as a guest is.
 */
#ifndef PVDMA_TESTS_HOST_IVSHMEM_CLIENT_H
#define PVDMA_TESTS_HOST_IVSHMEM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <pvdma/compat.h>

/* One ivshmem-doorbell device, as QEMU holds it. */
struct ivs_dev {
	int sock;
	int64_t id;		/* our IVPOSITION */
	int64_t host_peer;	/* the daemon's peer id */
	int shm_fd;
	u8 *shm;
	size_t shm_size;
	int bell_fd;		/* host peer's vector 0: our doorbell */
	int irq_fd;		/* our vector 0: the daemon's interrupt */
};

/* What waiting for a completion came to. */
enum ivs_wait {
	IVS_DONE,		/* an interrupt, and the completion was there */
	IVS_NO_ANSWER,		/* no completion within the time allowed */
	IVS_NOT_SIGNALLED,	/* completed, but no interrupt ever said so */
};

/* Receive one 8-byte message and the fd riding with it (or -1). 0 or -1. */
int ivs_recv(int sock, int64_t *value, int *fd);

/*
 * A stream socket connected to @path whose reads give up after
 * @recv_timeout_s seconds (a daemon that never answers fails the caller
 * instead of hanging it); -1 (said on stderr) if it cannot connect.
 */
int ivs_unix_connect(const char *path, int recv_timeout_s);

/* The connect sequence, checked step by step, and the region mapped. */
int ivs_connect(struct ivs_dev *d, const char *path, int recv_timeout_s);

/* The same on @sock, connected already (taken; -1: fails). */
int ivs_setup(struct ivs_dev *d, int sock);

void ivs_close(struct ivs_dev *d);

/* Write the doorbell (the daemon's eventfd). 0 or -1. */
int ivs_ring(struct ivs_dev *d);

/*
 * Wait up to @timeout_ms until *@done_seq shows @seq, woken by the
 * interrupt. An interrupt only says "look again", as for a real guest:
 * one with nothing new (left over, or the one pvdmad raises when it takes
 * a device back after a restart) is consumed and waited past. The
 * completion is read only after an interrupt, and once more at the
 * deadline to tell a lost interrupt from no answer.
 */
enum ivs_wait ivs_wait_done(struct ivs_dev *d, const u32 *done_seq, u32 seq,
			    int timeout_ms);

#endif /* PVDMA_TESTS_HOST_IVSHMEM_CLIENT_H */
