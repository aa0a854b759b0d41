// SPDX-License-Identifier: MIT
/*
 * pvdmad core: per-connection device state behind the two ivshmem servers.
 *
 * A DMA device may only use the IOMMU domain of a companion of the same VM:
 * connected from the same process and the same user, whatever domain_peer
 * the guest writes. The process is the one each connection pinned at
 * accept (peerpin.h), not its pid number, which a process that connects,
 * leaves its socket to a child and exits hands on to the next process; a
 * DMA device whose own process is gone binds to nothing. A peer outside
 * pvdmad's pid namespace shows pid 0 and binds to nothing. A companion
 * only maps guest RAM for a peer that could open the RAM file read-write
 * itself (access.h): the socket never gives more than the file does. The
 * check runs at connect when the file is there, else when the guest's
 * HELLO maps it (QEMU connects before it creates the file).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvdma/compat.h>

#include "daemon.h"
#include "fdcloser.h"
#include "log.h"

/* Longer QEMU command lines are compared on their first 64 KiB. */
#define PVDMAD_CMDLINE_MAX	(64u << 10)
/*
 * A command line not read by then is held by its own process (procread.h):
 * its connection is refused. Reading it takes microseconds; 2 s leaves
 * room for argument pages swapped out on a loaded host.
 */
#define PVDMAD_CMDLINE_TIMEOUT_MS	2000

/*
 * The layout QEMU itself was given (its -machine and -m, from
 * /proc/PID/cmdline, @n bytes of @args) against pvdmad's: a mismatch
 * would map the wrong bytes of the guest's RAM, so the companion is
 * refused with both named. Nothing to compare (nothing read): 0.
 */
static int companion_check_qemu_layout(const struct pvdmad *d,
				       const struct ivshmem_client *cl,
				       const char *args, ssize_t n)
{
	const struct guest_ram_config *ram = &d->cfg.companion.ram;
	char why[256];
	struct stat st;
	int err;

	if (n <= 0)
		return 0;
	err = guest_ram_check_qemu_args(ram,
			guest_ram_stat(ram, &st) ? 0 : (u64)st.st_size, args,
			(size_t)n, why, sizeof(why));
	if (err)
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion: pid %d refused: %s", (int)cl->pid, why);
	else if (why[0])	/* accepted, but only as far as it could tell */
		pvdmad_log_ratelimited(PVDMAD_LOG_INFO,
			"companion: pid %d: QEMU's RAM layout %s", (int)cl->pid,
			why);
	return err;
}

void pvdmad_default_config(struct pvdmad_config *cfg)
{
	*cfg = (struct pvdmad_config){ 0 };
	cfg->companion.ring_slots = PVDMA_DEFAULT_RING_SLOTS;
	cfg->companion.max_batch = PVDMA_DEFAULT_MAX_BATCH;
	pvdma_iommu_default_config(&cfg->companion.iommu);
	cfg->companion.ram.machine = GUEST_RAM_Q35;
	cfg->dmadev.queue_entries = 64;
	cfg->dmadev.max_len = 4u << 20;
}

static bool pvdmad_id_in_use(struct pvdmad *d, u32 id)
{
	return ivshmem_server_find(&d->companions, id) ||
	       ivshmem_server_find(&d->dma, id);
}

/* Ids 1..65535, unique among live clients of both servers. */
static u32 pvdmad_id_alloc(void *ctx)
{
	struct pvdmad *d = ctx;
	u32 tries;

	for (tries = 0; tries < IVSHMEM_MAX_PEER_ID; tries++) {
		d->next_id = d->next_id % IVSHMEM_MAX_PEER_ID + 1;
		if (!pvdmad_id_in_use(d, d->next_id))
			return d->next_id;
	}
	return 0;
}

/*
 * Each device's ledger (ledger.h) rides in the fd store beside the
 * client's own fds, as "<server>.<id>.ledger".
 */
static void pvdmad_ledger_name(struct ivshmem_client *cl, char *buf,
			       size_t size)
{
	ivshmem_fd_name(buf, size, cl->server, cl->id, "ledger");
}

static int pvdmad_keep_ledger(struct pvdmad *d, struct ivshmem_client *cl,
			      struct ledger **out)
{
	char name[FDSTORE_NAME_MAX + 1];
	struct ledger_geometry geo;

	if (cl->server == &d->companions)
		companion_ledger_geometry(&d->cfg.companion, cl->id, &geo);
	else
		dmadev_ledger_geometry(&d->cfg.dmadev, cl->id, &geo);
	pvdmad_ledger_name(cl, name, sizeof(name));
	return ledger_keep(&d->store, name, &geo, out);
}

static int pvdmad_take_ledger(struct pvdmad *d, struct ivshmem_client *cl,
			      const struct ledger_geometry *geo,
			      struct ledger **out)
{
	char name[FDSTORE_NAME_MAX + 1];
	int err;

	pvdmad_ledger_name(cl, name, sizeof(name));
	err = ledger_take(&d->store, name, geo, out);
	if (err) {
		pvdmad_log(PVDMAD_LOG_ERR, "%s: ledger of client %u: %s",
			   cl->server->name, cl->id,
			   err == -ESTALE ? "made with other limits (restart with the same options)" :
			   err == -EPROTONOSUPPORT ? "of a ledger version this pvdmad can't read (older than 3, or newer than its own): its devices are lost" :
			   err == -EPROTO ? "not a ledger, or a corrupt one" :
			   strerror(-err));
		fdstore_remove(&d->store, name);
		return err;
	}
	if ((*out)->carried_from)
		pvdmad_log(PVDMAD_LOG_INFO, "%s: ledger of client %u carried from version %u to %u",
			   cl->server->name, cl->id, (*out)->carried_from,
			   LEDGER_VERSION);
	return 0;
}

static void pvdmad_forget_ledger(struct pvdmad *d, struct ivshmem_client *cl,
				 struct ledger *l)
{
	char name[FDSTORE_NAME_MAX + 1];

	pvdmad_ledger_name(cl, name, sizeof(name));
	ledger_forget(&d->store, name, l, fdcloser_unmap_close);
}

/*
 * May this client's QEMU open the guest RAM file (@fd, @st) read-write
 * itself, through @path? Judged as the kernel would (fileperm.h).
 */
static int companion_ram_allowed(struct ivshmem_client *cl, const char *path,
				 int fd, const struct stat *st)
{
	int err = host_peer_may_open_rw(&cl->peer, cl->sock, fd, st, path);

	if (err) {
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion: pid %d uid %d refused: it could not open the guest RAM %s itself (%s)",
			(int)cl->pid, (int)cl->peer.uid, path, strerror(-err));
		cl->server->stats.not_allowed++;
	}
	return err;
}

/*
 * The companion's RAM gate (companion.h): the same check on the file
 * opened to be mapped, whatever the check at connect saw at that path.
 */
static int companion_ram_gate(void *ctx, int fd, const struct stat *st)
{
	struct ivshmem_client *cl = ctx;
	struct pvdmad *d = cl->server->ctx;

	return companion_ram_allowed(cl, d->cfg.companion.ram.path, fd, st);
}

/*
 * The companion of @cl over its region, its IOMMU domain and RAM gate:
 * what a new client and one taken back after a restart share. 0 and
 * *@out, or a negative errno with nothing left allocated.
 */
static int companion_new(struct pvdmad *d, struct ivshmem_client *cl,
			 struct pvdma_companion **out)
{
	struct pvdma_companion *c = calloc(1, sizeof(*c));
	struct pvdma_iommu *iommu;
	int err;

	if (!c)
		return -ENOMEM;
	iommu = pvdma_iommu_dart_create(&d->cfg.companion.iommu);
	/* its records, like the guest's RAM mapping, freed off the loop */
	if (iommu)
		pvdma_iommu_dart_unmap_with(iommu, fdcloser_unmap_close);
	if (d->cfg.fault.enabled)
		iommu = pvdma_iommu_fault_create(iommu, &d->cfg.fault, cl->id);
	err = companion_init(c, cl->shm, cl->shm_size, &d->cfg.companion, iommu,
			     IVSHMEM_HOST_PEER_ID, cl->id);
	if (err) {
		companion_destroy(c);
		free(c);
		return err;
	}
	c->ram_gate = companion_ram_gate;
	c->ram_gate_ctx = cl;
	*out = c;
	return 0;
}

/* The companion of a new client whose checks passed, with its ledger. */
static int companion_attach(struct pvdmad *d, struct ivshmem_client *cl)
{
	struct pvdma_companion *c;
	int err = companion_new(d, cl, &c);

	if (err)
		return err;
	err = pvdmad_keep_ledger(d, cl, &c->ledger);
	if (err) {
		companion_destroy(c);
		free(c);
		return err;
	}
	cl->priv = c;
	d->totals.guests++;
	return 0;
}

/* QEMU's command line, read off the loop: check it, then set up or refuse. */
static void companion_args_read(void *ctx, const char *args, ssize_t n)
{
	struct ivshmem_client *cl = ctx;
	struct pvdmad *d = cl->server->ctx;
	int err;

	cl->pending = NULL;
	if (n == -ETIMEDOUT) {
		/* Its reader thread stays, stuck, until the peer lets go:
		 * charged to the peer's uid, which holds at most
		 * PROCREAD_PER_UID of them, so it can't pile them up. Or it
		 * never had one: it waited behind its user's stuck ones. */
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion: pid %d refused: its command line (/proc/%d/cmdline) not readable within %d ms: the process holds its own memory, or its user's peers that do hold every reader of its user's share",
			(int)cl->pid, (int)cl->pid, PVDMAD_CMDLINE_TIMEOUT_MS);
		ivshmem_client_ready(cl, -ETIMEDOUT);
		return;
	}
	if (n == -ESRCH) {
		/* What was read may be another process's: compare nothing. */
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion: pid %d refused: it exited before its command line was read (the pid may name another process by now)",
			(int)cl->pid);
		ivshmem_client_ready(cl, -ESRCH);
		return;
	}
	err = companion_check_qemu_layout(d, cl, args, n);
	if (!err)
		err = companion_attach(d, cl);
	ivshmem_client_ready(cl, err);
}

static void companion_client_cancel(void *ctx, struct ivshmem_client *cl)
{
	procread_cancel(cl->pending);
}

static int companion_client_init(void *ctx, struct ivshmem_client *cl)
{
	struct pvdmad *d = ctx;
	char path[64];
	int err, pidfd;

	/* QEMU connects before it creates its RAM file: a file not there yet
	 * is judged when the guest's HELLO maps it (companion_ram_gate). */
	err = d->cfg.companion.ram.path ?
	      guest_ram_judge(&d->cfg.companion.ram, companion_ram_gate, cl) : 0;
	if (err)
		return err;
	/*
	 * QEMU's command line is its own memory, which it can make any
	 * reader wait on for good (procread.h): read on a helper thread,
	 * and the setup waits for it, not the loop, until its deadline.
	 * Nothing to compare with (no pid, no RAM file configured): no
	 * check. The peer's uid holding its share of the threads: the read
	 * waits for one of them, with the same deadline. No thread free
	 * (each still waits on an earlier peer), or no place left to wait:
	 * refused, not served unchecked, so stuck readers buy a peer nothing.
	 */
	if (cl->pid <= 0 || !d->cfg.companion.ram.path || !d->procread)
		return companion_attach(d, cl);
	/* Pinned at accept (peerpin.h): by the read its pid may be reused.
	 * The reader closes its own copy of the pin. */
	if (cl->pin.fd == -ESRCH) {
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion: pid %d refused: it exited before it was served (the pid may name another process by now)",
			(int)cl->pid);
		return -ESRCH;
	}
	pidfd = cl->pin.fd < 0 ? -1 : fcntl(cl->pin.fd, F_DUPFD_CLOEXEC, 0);
	if (cl->pin.fd >= 0 && pidfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)cl->pid);
	cl->pending = procread_start(d->procread, path, PVDMAD_CMDLINE_MAX,
				     PVDMAD_CMDLINE_TIMEOUT_MS, pidfd,
				     cl->peer.uid, companion_args_read, cl, &err);
	if (cl->pending)
		return -EINPROGRESS;
	if (err == -EDQUOT)
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion: pid %d uid %d refused: its user's peers hold %d of the %d command-line reader threads, its share, still reading or stuck, and no place is left for it to wait (%d of its user's, %d in all) (cmdline_refused_peer_quota in stats)",
			(int)cl->pid, (int)cl->peer.uid, PROCREAD_PER_UID,
			PROCREAD_THREADS, PROCREAD_QUEUE_PER_UID,
			PROCREAD_QUEUE);
	else if (err == -EBUSY)
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion: pid %d refused: all %d command-line reader threads still wait on earlier peers' (cmdline_reads_stuck in stats)",
			(int)cl->pid, PROCREAD_THREADS);
	else
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion: pid %d refused: its command line can't be read: %s",
			(int)cl->pid, strerror(-err));
	return err; /* a peer's stuck readers buy it no unchecked QEMU */
}

/*
 * What one doorbell posts is run in slices, one per queue per loop turn; a
 * queue with more left waits in the daemon's busy list, round robin, and
 * the loop polls its sockets between rounds, so one guest's full queue
 * can't make another's small request, or pvdmactl, wait for all of it.
 * DMA work is charged in bytes (dmadev_cost(): checked or moved, at least
 * DMADEV_CMD_COST a command), a long command's data moved across slices
 * (one IOMMU-page chunk a slice at least); companion
 * work in entries (a slice may stop inside a slot, at least one entry).
 */
#define DMA_SLICE_BYTES		(1ull << 20)
#define COMPANION_SLICE_ENTRIES	256u
/*
 * A round's slices stop once the turn has run this long (one slice at
 * least), the queues not reached first in the next turn's round: a slice
 * is bounded, but a round of them is as long as the busy queues are many
 * (128 connections).
 */
#define TURN_SLICES_NS		(10ull * 1000 * 1000)

static void busy_add(struct pvdmad *d, struct ivshmem_client *cl)
{
	struct ivshmem_client **pp = &d->busy;

	if (cl->busy)
		return;
	while (*pp)
		pp = &(*pp)->busy_next;
	*pp = cl;
	cl->busy_next = NULL;
	cl->busy = true;
}

static void busy_remove(struct pvdmad *d, struct ivshmem_client *cl)
{
	struct ivshmem_client **pp = &d->busy;

	if (!cl->busy)
		return;
	while (*pp != cl)
		pp = &(*pp)->busy_next;
	*pp = cl->busy_next;
	cl->busy = false;
}

/* One slice of @cl's queue; back in the busy list if more remains. */
static int run_slice(struct pvdmad *d, struct ivshmem_client *cl)
{
	bool more;
	int done = cl->server->ops->slice(d, cl, &more);

	if (more)
		busy_add(d, cl);
	return done;
}

/* Has this loop turn run its slices' time? (Not in a turn: no.) */
static bool turn_spent(const struct pvdmad *d)
{
	return d->loop.turn_start_ns &&
	       evloop_now_ns() - d->loop.turn_start_ns >= TURN_SLICES_NS;
}

/*
 * A slice for each queue that was busy when the round began, until the
 * turn has run TURN_SLICES_NS (one slice at least): the rest stay first
 * in the list.
 */
static void pvdmad_run_slices(struct pvdmad *d)
{
	struct ivshmem_client *cl, *last = d->busy;

	while (last && last->busy_next)
		last = last->busy_next;
	while ((cl = d->busy)) {
		busy_remove(d, cl);
		if (run_slice(d, cl) > 0)
			ivshmem_client_notify(cl, 0);
		if (cl == last || turn_spent(d))
			break;
	}
}

/*
 * A doorbell: a slice now, unless its turn is already in the round or this
 * loop turn has run its slices' time (then it joins the round): an epoll
 * batch of doorbells is 32 slices.
 */
static int busy_doorbell(struct pvdmad *d, struct ivshmem_client *cl)
{
	if (cl->busy)
		return 0;
	if (turn_spent(d)) {
		busy_add(d, cl);
		return 0;
	}
	return run_slice(d, cl);
}

static int companion_client_slice(void *ctx, struct ivshmem_client *cl,
				  bool *more)
{
	return companion_process_slice(cl->priv, COMPANION_SLICE_ENTRIES, more);
}

static int companion_client_doorbell(void *ctx, struct ivshmem_client *cl)
{
	struct pvdma_companion *c = cl->priv;

	c->stats.doorbells++;
	return busy_doorbell(ctx, cl);
}

/*
 * A departing companion's guest RAM, unmapped and closed on the closer
 * thread: the mapping has a page table entry for every page its DMA
 * devices moved (a munmap of tens of ms a GiB at 4 KiB pages), and an
 * epoll batch of hang-ups on the loop was one turn of them all.
 */
static void companion_ram_aside(struct pvdma_companion *c)
{
	guest_ram_close_with(&c->ram, fdcloser_unmap_close);
}

static void companion_client_fini(void *ctx, struct ivshmem_client *cl)
{
	struct pvdmad *d = ctx;
	struct pvdma_companion *c = cl->priv;
	u64 before = c->stats.released;

	busy_remove(d, cl);
	/* the ledger first, so that the release doesn't punch what goes */
	pvdmad_forget_ledger(d, cl, c->ledger);
	c->ledger = NULL;
	companion_ram_aside(c);
	companion_destroy(c);
	d->totals.released += c->stats.released - before;
	pvdmad_log_ratelimited(PVDMAD_LOG_INFO, "companion %u: released %llu mappings",
		   c->id, (unsigned long long)(c->stats.released - before));
	free(c);
}

/* A companion an earlier pvdmad served: the same setup, then its ledger. */
static int companion_client_adopt(void *ctx, struct ivshmem_client *cl)
{
	struct pvdmad *d = ctx;
	struct ledger_geometry geo;
	struct pvdma_companion *c;
	struct ledger *l = NULL;
	int err;

	companion_ledger_geometry(&d->cfg.companion, cl->id, &geo);
	err = pvdmad_take_ledger(d, cl, &geo, &l);
	if (err)
		return err;
	err = companion_new(d, cl, &c);
	if (err) {
		pvdmad_forget_ledger(d, cl, l);
		return err;
	}
	err = companion_resume(c, l);
	if (err) {
		companion_ram_aside(c);
		companion_destroy(c);
		pvdmad_forget_ledger(d, cl, l);
		free(c);
		return err;
	}
	cl->priv = c;
	d->totals.guests++;
	return 0;
}

static void companion_client_detach(void *ctx, struct ivshmem_client *cl)
{
	struct pvdma_companion *c = cl->priv;

	busy_remove(ctx, cl);
	ledger_leave(c->ledger);
	companion_ram_aside(c);
	companion_detach(c);
	free(c);
}

static const struct ivshmem_server_ops companion_server_ops = {
	.client_init	= companion_client_init,
	.client_cancel	= companion_client_cancel,
	.doorbell	= companion_client_doorbell,
	.slice		= companion_client_slice,
	.client_fini	= companion_client_fini,
	.client_adopt	= companion_client_adopt,
	.client_detach	= companion_client_detach,
};

/**
 * struct dma_client - a DMA device and the VM it belongs to
 * @dev:	the device
 * @daemon:	for the domain lookup
 * @cl:		its connection: its QEMU (peer, pin), and to interrupt the
 *		guest after a slice
 * @bound:	serial of the companion connection last found of its VM, 0
 *		for none: the verdict holds while that connection lives (both
 *		pins are fixed for their connections' lives), so a command
 *		costs no system call
 * @refused:	serial of the companion connection last found of another
 *		process under the same pid: as lasting, as cheap
 * @gone:	the process that connected it is gone: it binds to nothing
 *		(logged once, counted)
 */
struct dma_client {
	struct pvdma_dmadev dev;
	struct pvdmad *daemon;
	struct ivshmem_client *cl;
	u64 bound;
	u64 refused;
	bool gone;
};

/* Its own QEMU is gone: whatever holds its socket now binds nothing. */
static void dma_process_gone(struct dma_client *dc)
{
	dc->gone = true;
	dc->bound = 0;
	dc->daemon->totals.dma_process_gone++;
	pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
		"dma: client %u: the process that connected it (pid %d) is gone: it binds to no companion (pid %d may be another process's now)",
		dc->cl->id, (int)dc->cl->pid, (int)dc->cl->pid);
}

/*
 * Same VM: the same pinned process (peerpin.h) of the same user. Pids
 * that differ cost nothing; equal ones a check of the pins, once per
 * companion connection.
 */
static bool dma_same_vm(struct dma_client *dc, const struct ivshmem_client *cl)
{
	enum host_pin_match m;

	if (cl->dead || !cl->priv || dc->gone)
		return false;
	if (cl->serial == dc->bound)
		return true;
	if (cl->serial == dc->refused || cl->peer.uid != dc->cl->peer.uid)
		return false;
	m = host_pin_match(&dc->cl->pin, &cl->pin);
	if (m == HOST_PIN_GONE)
		dma_process_gone(dc);
	if (m != HOST_PIN_SAME) {
		dc->refused = cl->serial;
		return false;
	}
	dc->bound = cl->serial;
	return true;
}

static struct dma_domain *dma_resolve(void *ctx, u32 domain_peer)
{
	struct dma_client *dc = ctx;
	struct ivshmem_client *cl;

	if (domain_peer == PVDMA_DEV_DOMAIN_IDENTITY) {
		/* No IOMMU, but still only its own QEMU's guest RAM. */
		for (cl = dc->daemon->companions.clients; cl; cl = cl->next)
			if (dma_same_vm(dc, cl))
				return companion_dma_domain(cl->priv, true);
		return NULL;
	}
	cl = ivshmem_server_find(&dc->daemon->companions, domain_peer);
	return cl && dma_same_vm(dc, cl) ?
	       companion_dma_domain(cl->priv, false) : NULL;
}

/*
 * The DMA device of @cl over its region: what a new client and one taken
 * back after a restart share. 0 and *@out, or a negative errno.
 */
static int dma_client_new(struct pvdmad *d, struct ivshmem_client *cl,
			  struct dma_client **out)
{
	struct dma_client *dc = calloc(1, sizeof(*dc));
	int err;

	if (!dc)
		return -ENOMEM;
	dc->daemon = d;
	dc->cl = cl;
	err = dmadev_init(&dc->dev, cl->shm, cl->shm_size, &d->cfg.dmadev,
			  IVSHMEM_HOST_PEER_ID, cl->id, dma_resolve, dc);
	if (err) {
		free(dc);
		return err;
	}
	*out = dc;
	return 0;
}

static int dma_client_init(void *ctx, struct ivshmem_client *cl)
{
	struct pvdmad *d = ctx;
	struct dma_client *dc;
	int err;

	if (!cl->peer.pid)
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"dma: client %u has no pid in pvdmad's pid namespace: it can bind to no companion",
			cl->id);
	err = dma_client_new(d, cl, &dc);
	if (err)
		return err;
	err = pvdmad_keep_ledger(d, cl, &dc->dev.ledger);
	if (err) {
		free(dc);
		return err;
	}
	cl->priv = dc;
	d->totals.dma_devices++;
	return 0;
}

static int dma_client_slice(void *ctx, struct ivshmem_client *cl, bool *more)
{
	struct dma_client *dc = cl->priv;

	return dmadev_process_slice(&dc->dev, DMA_SLICE_BYTES, more);
}

static int dma_client_doorbell(void *ctx, struct ivshmem_client *cl)
{
	struct dma_client *dc = cl->priv;

	dc->dev.stats.doorbells++;
	return busy_doorbell(ctx, cl);
}

static void dma_client_fini(void *ctx, struct ivshmem_client *cl)
{
	struct dma_client *dc = cl->priv;

	busy_remove(ctx, cl);
	dmadev_destroy(&dc->dev);
	pvdmad_forget_ledger(cl->server->ctx, cl, dc->dev.ledger);
	free(dc);
}

static int dma_client_adopt(void *ctx, struct ivshmem_client *cl)
{
	struct pvdmad *d = ctx;
	struct ledger_geometry geo;
	struct dma_client *dc;
	struct ledger *l = NULL;
	int err;

	dmadev_ledger_geometry(&d->cfg.dmadev, cl->id, &geo);
	err = pvdmad_take_ledger(d, cl, &geo, &l);
	if (err)
		return err;
	err = dma_client_new(d, cl, &dc);
	if (err) {
		pvdmad_forget_ledger(d, cl, l);
		return err;
	}
	dmadev_resume(&dc->dev, l);
	cl->priv = dc;
	d->totals.dma_devices++;
	return 0;
}

static void dma_client_detach(void *ctx, struct ivshmem_client *cl)
{
	struct dma_client *dc = cl->priv;

	busy_remove(ctx, cl);
	ledger_leave(dc->dev.ledger);
	free(dc);
}

static const struct ivshmem_server_ops dma_server_ops = {
	.client_init	= dma_client_init,
	.doorbell	= dma_client_doorbell,
	.slice		= dma_client_slice,
	.client_fini	= dma_client_fini,
	.client_adopt	= dma_client_adopt,
	.client_detach	= dma_client_detach,
};

static void pvdmad_setup_server(struct pvdmad *d, struct ivshmem_server *srv,
				const char *name, const char *path, u64 shm_size,
				const struct ivshmem_server_ops *ops)
{
	*srv = (struct ivshmem_server){
		.name = name, .path = path, .access = &d->cfg.access,
		.listen_fd = -1, .shm_size = shm_size,
		.ops = ops, .ctx = d, .id_alloc = pvdmad_id_alloc, .id_ctx = d,
		.store = &d->store, .fd_reserve = &d->fd_reserve,
		.serials = &d->serials,
	};
}

/* Companions first: a DMA device's domain is a companion's. */
static void pvdmad_adopt(struct pvdmad *d)
{
	int companions = ivshmem_server_adopt(&d->companions);
	int dmas = d->cfg.dma_socket_path ? ivshmem_server_adopt(&d->dma) : 0;

	fdstore_drop_untaken(&d->store);
	if (companions || dmas)
		pvdmad_log(PVDMAD_LOG_INFO,
			   "restart: %d companions and %d DMA devices taken back",
			   companions, dmas);
}

int pvdmad_start(struct pvdmad *d)
{
	int err;

	d->control_fd = -1;
	d->store_watch.fd = -1;
	if (companion_config_check(&d->cfg.companion) ||
	    dmadev_config_check(&d->cfg.dmadev))
		return -EINVAL;
	err = fdstore_open(&d->store);
	if (err)
		return err;
	err = evloop_init(&d->loop);
	if (err)
		goto err_store;
	d->procread = procread_pool_new(&d->loop);
	if (!d->procread) {
		err = -errno;
		goto err_loop;
	}
	host_fd_reserve_take(&d->fd_reserve);
	pvdmad_setup_server(d, &d->companions, "companion", d->cfg.socket_path,
			    companion_shm_size(&d->cfg.companion),
			    &companion_server_ops);
	pvdmad_setup_server(d, &d->dma, "dma", d->cfg.dma_socket_path,
			    dmadev_shm_size(&d->cfg.dmadev), &dma_server_ops);
	err = ivshmem_server_start(&d->companions, &d->loop);
	if (err)
		goto err_loop;
	if (d->cfg.dma_socket_path) {
		err = ivshmem_server_start(&d->dma, &d->loop);
		if (err)
			goto err_companions;
	}
	if (d->cfg.control_path) {
		err = pvdmad_control_start(d);
		if (err)
			goto err_dma;
	}
	pvdmad_adopt(d);
	return 0;

err_dma:
	if (d->cfg.dma_socket_path)
		ivshmem_server_stop(&d->dma);
err_companions:
	ivshmem_server_stop(&d->companions);
err_loop:
	procread_pool_free(d->procread);
	d->procread = NULL;
	evloop_fini(&d->loop);
	host_fd_reserve_release(&d->fd_reserve);
err_store:
	fdstore_close(&d->store);
	return err;
}

/* The keeper's queue has room: what waited for it goes. */
static void pvdmad_on_store(struct evloop_watch *w, uint32_t events)
{
	struct pvdmad *d = container_of(w, struct pvdmad, store_watch);

	fdstore_flush(&d->store);
}

/* Watch the fd store's socket for room only while messages wait for it:
 * a datagram socket that is writable would wake every turn. */
static void pvdmad_watch_store(struct pvdmad *d)
{
	bool wait = fdstore_backlog(&d->store);

	if (wait && d->store_watch.fd < 0) {
		d->store_watch = (struct evloop_watch){ .fd = d->store.sock,
							.fn = pvdmad_on_store };
		if (evloop_add(&d->loop, &d->store_watch, EPOLLOUT))
			d->store_watch.fd = -1;
	} else if (!wait && d->store_watch.fd >= 0) {
		evloop_del(&d->loop, &d->store_watch);
		d->store_watch.fd = -1;
	}
}

int pvdmad_run_once(struct pvdmad *d, int timeout_ms)
{
	/* Queued work: look at the sockets, then do the next slices. */
	int n = evloop_run_once(&d->loop, d->busy ? 0 : timeout_ms);

	if (d->busy) {
		if (!d->loop.turn_start_ns)
			d->loop.turn_start_ns = evloop_now_ns();
		pvdmad_run_slices(d);
	}
	ivshmem_server_reap(&d->companions);
	ivshmem_server_reap(&d->dma);
	pvdmad_watch_store(d);
	evloop_turn_end(&d->loop);
	return n;
}

void pvdmad_detach(struct pvdmad *d)
{
	pvdmad_control_stop(d);
	if (d->cfg.dma_socket_path)
		ivshmem_server_detach(&d->dma);
	ivshmem_server_detach(&d->companions);
	procread_pool_free(d->procread);
	d->procread = NULL;
	evloop_fini(&d->loop);
	host_fd_reserve_release(&d->fd_reserve);
	fdstore_close(&d->store);
}

void pvdmad_stop(struct pvdmad *d)
{
	fdstore_notify(&d->store, "STOPPING=1");
	pvdmad_control_stop(d);
	/* DMA devices first: they point into the companions' domains. */
	if (d->cfg.dma_socket_path)
		ivshmem_server_stop(&d->dma);
	ivshmem_server_stop(&d->companions);
	procread_pool_free(d->procread);
	d->procread = NULL;
	evloop_fini(&d->loop);
	host_fd_reserve_release(&d->fd_reserve);
	fdstore_close(&d->store);
}
