/* SPDX-License-Identifier: MIT */
/*
 * A peer whose memory a reader of /proc/PID/cmdline waits on (run-attack
 * "cmdline"): see stallfs.c.
 */
#ifndef PVDMA_TEST_STALLFS_H
#define PVDMA_TEST_STALLFS_H

/* The most connections one peer makes (pvdmad's reader threads, and one). */
#define STALLFS_MAX_CONNECTIONS	16

/*
 * Mount a FUSE file system at @dir that never answers a READ, start a
 * peer that jams its own mmap lock on it, connect that peer @count times
 * (at most STALLFS_MAX_CONNECTIONS) to @socket, as uid and gid @uid
 * unless it is negative, hold it @seconds, then undo everything. Prints
 * what it did; returns 0, 2 when this kernel or user can't set it up (a
 * skip), else 1.
 */
int stallfs_cmdline_hold(const char *socket_path, const char *dir, int seconds,
			 int count, int uid);

/*
 * Mount a FUSE file system at @dir that answers its INIT and nothing
 * else, so that every lookup or stat below it waits; hold it @seconds,
 * then abort it. 0, 2 when it can't be mounted (a skip), else 1.
 */
int stallfs_lookup_hold(const char *dir, int seconds);

#endif /* PVDMA_TEST_STALLFS_H */
