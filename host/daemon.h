/* SPDX-License-Identifier: MIT */
/*
 * pvdmad's core: the companion server and the DMA device server, glued to
 * the request handlers, plus the control socket. main() (pvdmad.c) only
 * parses options, handles signals and runs the loop.
 */
#ifndef PVDMAD_DAEMON_H
#define PVDMAD_DAEMON_H

#include <stdio.h>

#include "accept_reserve.h"
#include "listen_socket.h"
#include "companion.h"
#include "dmadev_model.h"
#include "evloop.h"
#include "fdstore.h"
#include "procread.h"
#include "ivshmem_server.h"

/**
 * struct pvdmad_config - everything the options set
 * @socket_path:	companion ivshmem socket
 * @dma_socket_path:	DMA device ivshmem socket (NULL: no DMA device)
 * @control_path:	stats socket (NULL: none)
 * @companion:		companion limits, IOMMU limits, guest RAM
 * @dmadev:		DMA device queue
 * @fault:		map fault injection (rate 0: off)
 * @access:		who may use the sockets (peer_access.h)
 */
struct pvdmad_config {
	const char *socket_path;
	const char *dma_socket_path;
	const char *control_path;
	struct companion_config companion;
	struct dmadev_config dmadev;
	struct pvdma_iommu_fault_config fault;
	struct host_access access;
};

/**
 * struct pvdmad_totals - what outlives the guests
 * @guests:		companions ever connected
 * @released:		mappings released on disconnect
 * @dma_devices:	DMA devices ever connected
 * @dma_process_gone:	DMA devices found to have outlived the process that
 *			connected them (each binds to nothing from then on)
 */
struct pvdmad_totals {
	u64 guests;
	u64 released;
	u64 dma_devices;
	u64 dma_process_gone;
};

/**
 * struct pvdmad - the daemon
 * @cfg:		options
 * @loop:		the event loop
 * @companions:		companion server
 * @dma:		DMA device server
 * @control_fd:		listening stats socket, or -1
 * @control_watch:
 * @control_file:	the control socket file (removed only if still ours)
 * @control_refused:	control connections refused by the access check
 * @next_id:		last client id handed out
 * @serials:		last connection number handed out (never reused,
 *			unlike ids: what a DMA device's binding is kept under)
 * @totals:		counters across guests
 * @reopen_logs:	a control command asked to reopen the log file
 * @busy:		companions and DMA devices with work queued beyond
 *			their last slice, round robin
 * @store:		the fd store that carries the guests across restarts
 * @store_watch:	its socket, watched for room while messages wait
 * @procread:		helper threads reading QEMU's command line (procread.h)
 * @fd_reserve:		given up when accept() runs out of fds, on any socket
 * @control_conns:	open control connections (control.c)
 * @control_nconns:	how many
 */
struct dma_client;
struct control_conn;

struct pvdmad {
	struct pvdmad_config cfg;
	struct evloop loop;
	struct ivshmem_server companions;
	struct ivshmem_server dma;
	int control_fd;
	struct evloop_watch control_watch;
	struct host_sockfile control_file;
	u64 control_refused;
	u32 next_id;
	u64 serials;
	struct pvdmad_totals totals;
	bool reopen_logs;
	struct ivshmem_client *busy;
	struct fdstore store;
	struct evloop_watch store_watch;
	struct procread_pool *procread;
	struct host_fd_reserve fd_reserve;
	struct control_conn *control_conns;
	unsigned int control_nconns;
};

void pvdmad_default_config(struct pvdmad_config *cfg);

/* Open the sockets (or take them from the fd store) and take back the
 * guests the store holds. 0 or a negative errno (everything undone). */
int pvdmad_start(struct pvdmad *d);

/* One loop round: dispatch events, free dead clients. */
int pvdmad_run_once(struct pvdmad *d, int timeout_ms);

/* Exit for a restart: free this process's state, leave every guest and
 * every fd in the store for the next pvdmad. */
void pvdmad_detach(struct pvdmad *d);

/* Disconnect every guest, close and remove every socket. */
void pvdmad_stop(struct pvdmad *d);

/* Stats as JSON or as a table (control.c). */
void pvdmad_stats_json(struct pvdmad *d, FILE *out);
void pvdmad_stats_table(struct pvdmad *d, FILE *out);

/* The control socket (control.c). */
int pvdmad_control_start(struct pvdmad *d);
/*
 * Answer one request line (untrusted: any bytes up to a NUL, newline
 * stripped) into @out. No sockets: the fuzzer calls it directly.
 */
void pvdmad_control_request(struct pvdmad *d, const char *line, FILE *out);
/*
 * Serve the accepted, allowed, non-blocking connection @fd (taken) on
 * @d's loop: its line is read and answered as the client sends and reads.
 * The one waiting longest is dropped to make room. 0 or a negative errno
 * (@fd closed). The accept path calls it, and the fuzzer over a socketpair.
 */
int pvdmad_control_add_conn(struct pvdmad *d, int fd);
void pvdmad_control_stop(struct pvdmad *d);

#endif /* PVDMAD_DAEMON_H */
