/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM accesses that survive SIGBUS.
 *
 * The guest RAM file may be sparse: a page the guest never touched is only
 * allocated when first written. On a full tmpfs, on hugetlbfs without a
 * free huge page, or after a host process truncated the file, the access
 * faults with SIGBUS, which would kill pvdmad and every VM it serves, at a
 * time the guest chooses (a DMA FILL into memory it never used).
 *
 * Chosen: catch it. Each device-model access to guest RAM runs inside
 * ramguard_run(); a SIGBUS there jumps back out and the command ends with
 * an I/O status. Not chosen: making the pages certain up front (fallocate
 * or MAP_POPULATE of the whole file), because that allocates all guest RAM
 * on the host at once (QEMU itself may leave it sparse on purpose), can't
 * cover a later truncation, and MAP_POPULATE ignores its own failures.
 *
 * A SIGBUS outside a guarded access is not ours: the default action runs.
 * Single-threaded use (pvdmad's loop).
 */
#ifndef PVDMAD_RAMGUARD_H
#define PVDMAD_RAMGUARD_H

#include <stdbool.h>

/* Install the SIGBUS handler (pvdmad at start). 0 or a negative errno.
 * Without it ramguard_run() still runs @fn, unguarded (tests, fuzzers). */
int ramguard_init(void);

/* Run @fn(@arg); false if it took SIGBUS (it was cut short there). */
bool ramguard_run(void (*fn)(void *arg), void *arg);

#endif /* PVDMAD_RAMGUARD_H */
