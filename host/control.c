// SPDX-License-Identifier: MIT
/*
 * The control socket and the live counters it serves.
 *
 * A client connects, sends one line ("stats json", "stats table" or
 * "reopen-logs"), reads the answer until EOF. Connections are non-blocking;
 * an answer the socket can't take at once waits for EPOLLOUT, so a client
 * that never reads costs a connection slot, never a stalled loop. A
 * connection's memory is bounded by its line and one answer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "fdcloser.h"
#include "log.h"

#define CONTROL_LINE_MAX	128
#define CONTROL_MAX_CONNS	8
#define CONTROL_MAX_PASSED_FDS	253	/* SCM_MAX_FD: none left to the kernel */

/**
 * struct control_conn - one control connection
 * @watch:	in the loop
 * @daemon:	owner
 * @buf:	the request line so far
 * @len:	bytes in @buf
 * @answer:	the answer being sent (NULL until the line is complete)
 * @answer_len:	its length
 * @sent:	bytes of it sent
 * @next:	in control_conns
 */
struct control_conn {
	struct evloop_watch watch;
	struct control_conn *next;
	struct pvdmad *daemon;
	char buf[CONTROL_LINE_MAX];
	size_t len;
	char *answer;
	size_t answer_len;
	size_t sent;
};

/* Open connections, closed at shutdown; one daemon per process. */
static struct control_conn *control_conns;
static unsigned int control_nconns;

static void json_u64(FILE *out, const char *key, u64 v, bool comma)
{
	fprintf(out, "\"%s\": %llu%s", key, (unsigned long long)v,
		comma ? ", " : "");
}

static void json_iommu_stats(FILE *out, struct pvdma_iommu *iommu)
{
	struct pvdma_iommu_stats st = { 0 };

	iommu->ops->stats(iommu, &st);
	fprintf(out, "\"backend\": \"%s\", ", iommu->ops->name);
	json_u64(out, "mappings_live", st.live_mappings, true);
	json_u64(out, "mappings_peak", st.peak_mappings, true);
	json_u64(out, "aperture_live", st.live_bytes, true);
	json_u64(out, "aperture_peak", st.peak_bytes, true);
	json_u64(out, "map_calls", st.map_calls, true);
	json_u64(out, "unmap_calls", st.unmap_calls, true);
	json_u64(out, "map_errors", st.map_errors, true);
	json_u64(out, "unmap_errors", st.unmap_errors, true);
	json_u64(out, "tlb_flushes", st.tlb_flushes, true);
	json_u64(out, "faults", st.faults, true);
	json_u64(out, "largest_free_bus", st.largest_free_bus, true);
	json_u64(out, "aligned_maps", st.aligned_maps, true);
	json_u64(out, "align_fallbacks", st.align_fallbacks, true);
}

static void json_companion(FILE *out, const struct ivshmem_client *cl)
{
	const struct pvdma_companion *c = cl->priv;
	const struct companion_stats *s = &c->stats;
	u32 st;

	fprintf(out, "{\"id\": %u, \"pid\": %d, \"ready\": %s, ", cl->id,
		(int)cl->pid, c->ready ? "true" : "false");
	json_iommu_stats(out, c->iommu);
	json_u64(out, "doorbells", s->doorbells, true);
	json_u64(out, "slots", s->slots, true);
	json_u64(out, "entries", s->entries, true);
	json_u64(out, "bad_tail", s->bad_tail, true);
	json_u64(out, "hellos", s->hellos, true);
	json_u64(out, "resets", s->resets, true);
	json_u64(out, "released", s->released, true);
	json_u64(out, "dma_commands", s->dma_cmds, true);
	json_u64(out, "dma_bytes", s->dma_bytes, true);
	json_u64(out, "dma_faults", s->dma_faults, true);
	json_u64(out, "dma_io_errors", s->dma_io_errors, true);
	fputs("\"rejected\": {", out);
	for (st = 1; st < PVDMA_ST_COUNT; st++)
		json_u64(out, pvdma_status_name(st), s->rejected[st],
			 st + 1 < PVDMA_ST_COUNT);
	fputs("}}", out);
}

static void json_dmadev(FILE *out, const struct ivshmem_client *cl)
{
	const struct pvdma_dmadev *dev = cl->priv;
	const struct dmadev_stats *s = &dev->stats;
	const struct pvdma_dev_header *h = dev->shm;

	fprintf(out, "{\"id\": %u, \"pid\": %d, \"domain_peer\": %u, ", cl->id,
		(int)cl->pid, pvdma_le32(h->domain_peer));
	json_u64(out, "doorbells", s->doorbells, true);
	json_u64(out, "commands", s->cmds, true);
	json_u64(out, "ok", s->ok, true);
	json_u64(out, "invalid", s->invalid, true);
	json_u64(out, "faults", s->faults, true);
	json_u64(out, "not_bound", s->not_bound, true);
	json_u64(out, "io_errors", s->io_errors, true);
	json_u64(out, "bytes", s->bytes, true);
	json_u64(out, "bad_tail", s->bad_tail, false);
	fputs("}", out);
}

static void json_server(FILE *out, const char *key,
			const struct ivshmem_server *srv, bool comma)
{
	const struct ivshmem_server_stats *s = &srv->stats;

	fprintf(out, "\"%s\": {\"clients\": %u, ", key, srv->nclients);
	json_u64(out, "accepted", s->accepted, true);
	json_u64(out, "refused", s->refused, true);
	json_u64(out, "not_allowed", s->not_allowed, true);
	json_u64(out, "out_of_fds", s->out_of_fds, true);
	json_u64(out, "disconnected", s->disconnected, true);
	json_u64(out, "violations", s->violations, true);
	json_u64(out, "doorbells", s->doorbells, true);
	json_u64(out, "notify_errors", s->notify_errors, false);
	fputs(comma ? "}, " : "}", out);
}

static u64 pvdmad_live_mappings(struct pvdmad *d)
{
	struct pvdma_iommu_stats st;
	struct ivshmem_client *cl;
	struct pvdma_companion *c;
	u64 sum = 0;

	for (cl = d->companions.clients; cl; cl = cl->next) {
		if (cl->dead || !cl->priv)
			continue;
		c = cl->priv;
		st = (struct pvdma_iommu_stats){ 0 };
		c->iommu->ops->stats(c->iommu, &st);
		sum += st.live_mappings;
	}
	return sum;
}

static void json_limits(FILE *out, const struct pvdmad_config *cfg)
{
	const struct pvdma_iommu_config *ic = &cfg->companion.iommu;

	fputs("\"limits\": {", out);
	json_u64(out, "page_size", ic->page_size, true);
	json_u64(out, "aperture_bytes", ic->aperture_bytes, true);
	json_u64(out, "max_mappings", ic->max_mappings, true);
	json_u64(out, "bus_base", ic->bus_base, true);
	json_u64(out, "bus_limit", ic->bus_limit, true);
	json_u64(out, "ring_slots", cfg->companion.ring_slots, true);
	json_u64(out, "max_batch", cfg->companion.max_batch, true);
	json_u64(out, "dma_queue_entries", cfg->dmadev.queue_entries, true);
	json_u64(out, "dma_max_len", cfg->dmadev.max_len, false);
	fputs("}, ", out);
}

/* The watchdog: how long the loop went without looking at its sockets. */
static void json_loop(FILE *out, const struct pvdmad *d)
{
	const struct evloop_stats *ls = &d->loop.stats;

	fputs("\"loop\": {", out);
	json_u64(out, "turns", ls->turns, true);
	json_u64(out, "longest_turn_us", ls->longest_turn_ns / 1000, true);
	json_u64(out, "last_turn_us", ls->last_turn_ns / 1000, true);
	json_u64(out, "log_lines_dropped", pvdmad_log_dropped(), true);
	json_u64(out, "accept_out_of_fds", host_out_of_fds(), true);
	json_u64(out, "fds_closed_aside", fdcloser_handed(), true);
	json_u64(out, "fds_kept_open", fdcloser_leaked(), true);
	json_u64(out, "control_refused", d->control_refused, false);
	fputs("}, ", out);
}

void pvdmad_stats_json(struct pvdmad *d, FILE *out)
{
	struct ivshmem_client *cl;
	bool first = true;

	fprintf(out, "{\"pid\": %d, ", (int)getpid());
	json_limits(out, &d->cfg);
	json_loop(out, d);
	json_u64(out, "guests_total", d->totals.guests, true);
	json_u64(out, "guests_live", d->companions.nclients, true);
	json_u64(out, "mappings_live", pvdmad_live_mappings(d), true);
	json_u64(out, "released_on_disconnect", d->totals.released, true);
	json_u64(out, "dma_devices_total", d->totals.dma_devices, true);
	json_server(out, "companion_server", &d->companions, true);
	json_server(out, "dma_server", &d->dma, true);
	fputs("\"guests\": [", out);
	for (cl = d->companions.clients; cl; cl = cl->next) {
		if (cl->dead || !cl->priv)
			continue;
		fputs(first ? "" : ", ", out);
		json_companion(out, cl);
		first = false;
	}
	fputs("], \"dma_devices\": [", out);
	first = true;
	for (cl = d->dma.clients; cl; cl = cl->next) {
		if (cl->dead || !cl->priv)
			continue;
		fputs(first ? "" : ", ", out);
		json_dmadev(out, cl);
		first = false;
	}
	fputs("]}\n", out);
}

static u64 companion_rejected(const struct pvdma_companion *c)
{
	u64 sum = 0;
	u32 st;

	for (st = 1; st < PVDMA_ST_COUNT; st++)
		sum += c->stats.rejected[st];
	return sum;
}

static void table_companion(FILE *out, const struct ivshmem_client *cl)
{
	const struct pvdma_companion *c = cl->priv;
	struct pvdma_iommu_stats st = { 0 };

	c->iommu->ops->stats(c->iommu, &st);
	fprintf(out, "%5u %7d %5s %8llu %8llu %10llu %10llu %8llu %8llu %7llu %6llu %8llu %7llu %11llu %8llu %8llu\n",
		cl->id, (int)cl->pid, c->ready ? "yes" : "no",
		(unsigned long long)st.live_mappings,
		(unsigned long long)st.peak_mappings,
		(unsigned long long)(st.live_bytes >> 10),
		(unsigned long long)(st.peak_bytes >> 10),
		(unsigned long long)st.map_calls,
		(unsigned long long)st.unmap_calls,
		(unsigned long long)st.tlb_flushes,
		(unsigned long long)st.faults,
		(unsigned long long)companion_rejected(c),
		(unsigned long long)c->stats.dma_cmds,
		(unsigned long long)c->stats.dma_bytes,
		(unsigned long long)st.aligned_maps,
		(unsigned long long)st.align_fallbacks);
}

void pvdmad_stats_table(struct pvdmad *d, FILE *out)
{
	struct ivshmem_client *cl;

	fprintf(out, "pvdmad pid %d: %u guests live, %llu ever, %llu mappings live, %llu released on disconnect\n",
		(int)getpid(), d->companions.nclients,
		(unsigned long long)d->totals.guests,
		(unsigned long long)pvdmad_live_mappings(d),
		(unsigned long long)d->totals.released);
	fprintf(out, "longest loop turn %llu us in %llu turns; refused: %llu companion, %llu dma, %llu control\n",
		(unsigned long long)(d->loop.stats.longest_turn_ns / 1000),
		(unsigned long long)d->loop.stats.turns,
		(unsigned long long)d->companions.stats.refused,
		(unsigned long long)d->dma.stats.refused,
		(unsigned long long)d->control_refused);
	fprintf(out, "%5s %7s %5s %8s %8s %10s %10s %8s %8s %7s %6s %8s %7s %11s %8s %8s\n",
		"guest", "pid", "ready", "maps", "peak", "ap_KiB", "ap_peak", "map",
		"unmap", "flush", "fault", "rejected", "dma", "dma_bytes",
		"aligned", "align_fb");
	for (cl = d->companions.clients; cl; cl = cl->next)
		if (!cl->dead && cl->priv)
			table_companion(out, cl);
}

void pvdmad_control_request(struct pvdmad *d, const char *line, FILE *out)
{
	if (!strcmp(line, "stats json") || !strcmp(line, "stats")) {
		pvdmad_stats_json(d, out);
	} else if (!strcmp(line, "stats table")) {
		pvdmad_stats_table(d, out);
	} else if (!strcmp(line, "reopen-logs")) {
		d->reopen_logs = true;
		fputs("ok\n", out);
	} else {
		fputs("error: unknown command (stats json | stats table | reopen-logs)\n",
		      out);
	}
}

static void control_conn_free(struct evloop_watch *w)
{
	struct control_conn *cc = container_of(w, struct control_conn, watch);

	free(cc->answer);
	free(cc);
}

/* Unlink, close; the memory goes after the loop's batch (evloop.h). */
static void control_conn_close(struct control_conn *cc)
{
	struct control_conn **pp = &control_conns;
	int fd = cc->watch.fd;

	while (*pp != cc)
		pp = &(*pp)->next;
	*pp = cc->next;
	evloop_release_later(&cc->daemon->loop, &cc->watch, control_conn_free);
	fdcloser_close_socket(fd);
	control_nconns--;
}

/* Send what the socket takes now. true: all sent or the client is gone. */
static bool control_send_more(struct control_conn *cc)
{
	ssize_t n;

	while (cc->sent < cc->answer_len) {
		n = send(cc->watch.fd, cc->answer + cc->sent,
			 cc->answer_len - cc->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0)
			return true;
		cc->sent += n;
	}
	return true;
}

/* Build the whole answer in memory, then send it as the client reads. */
static void control_answer(struct control_conn *cc)
{
	FILE *out;

	out = open_memstream(&cc->answer, &cc->answer_len);
	if (!out) {
		control_conn_close(cc);
		return;
	}
	pvdmad_control_request(cc->daemon, cc->buf, out);
	fclose(out);
	if (control_send_more(cc) ||
	    evloop_mod(&cc->daemon->loop, &cc->watch, EPOLLOUT))
		control_conn_close(cc);
}

/*
 * Read request bytes. An fd riding with them (kernels without
 * SO_PASSRIGHTS) is taken, so the kernel doesn't release it here, handed
 * to the closer and ends the connection: -EBADMSG. -EAGAIN: nothing yet.
 */
static ssize_t control_recv(int fd, char *buf, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(CONTROL_MAX_PASSED_FDS * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	bool fds = false;
	size_t i, nfds;
	ssize_t n;
	int *fdp;

	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		fdp = (int *)CMSG_DATA(cmsg);
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++)
			fdcloser_close(fdp[i]);
		fds = true;
	}
	return fds ? -EBADMSG : n;
}

static void control_on_conn(struct evloop_watch *w, uint32_t events)
{
	struct control_conn *cc = container_of(w, struct control_conn, watch);
	char *nl;
	ssize_t n;

	if (cc->answer) {
		if (control_send_more(cc) || (events & (EPOLLHUP | EPOLLERR)))
			control_conn_close(cc);
		return;
	}
	n = control_recv(w->fd, cc->buf + cc->len, sizeof(cc->buf) - 1 - cc->len);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		control_conn_close(cc);
		return;
	}
	cc->len += n;
	cc->buf[cc->len] = '\0';
	/* memchr: a NUL byte before the newline must not hide it */
	nl = memchr(cc->buf, '\n', cc->len);
	if (!nl && cc->len < sizeof(cc->buf) - 1)
		return;
	if (nl)
		*nl = '\0';
	control_answer(cc);
}

/* The connection that has waited longest. */
static struct control_conn *control_oldest(void)
{
	struct control_conn *cc = control_conns;

	while (cc && cc->next)
		cc = cc->next;
	return cc;
}

static bool control_peer_allowed(struct pvdmad *d, int fd)
{
	struct host_peer peer = { .uid = (uid_t)-1 };
	const char *why = "no peer credentials";

	if (!host_peer_get(fd, &peer) &&
	    host_access_check(&d->cfg.access, &peer, &why))
		return true;
	d->control_refused++;
	pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
		"control: connection from pid %d uid %d refused: %s",
		(int)peer.pid, (int)peer.uid, why);
	return false;
}

static void control_on_accept(struct evloop_watch *w, uint32_t events)
{
	struct pvdmad *d = container_of(w, struct pvdmad, control_watch);
	struct control_conn *cc;
	int fd;

	fd = host_accept(d->control_fd);
	if (fd == -EMFILE || fd == -ENFILE)
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"control: out of file descriptors: connection refused");
	if (fd < 0)
		return;
	if (!control_peer_allowed(d, fd))
		goto err_close;
	/*
	 * Clients that connect and never send their line (or never read the
	 * answer) must not lock pvdmactl out: the one that has waited longest
	 * makes room. Its memory is released after this batch, so an event of
	 * it still pending in the batch is safely ignored.
	 */
	if (control_nconns >= CONTROL_MAX_CONNS)
		control_conn_close(control_oldest());
	cc = calloc(1, sizeof(*cc));
	if (!cc)
		goto err_close;
	cc->daemon = d;
	cc->watch = (struct evloop_watch){ .fd = fd, .fn = control_on_conn };
	if (evloop_add(&d->loop, &cc->watch, EPOLLIN)) {
		free(cc);
		goto err_close;
	}
	cc->next = control_conns;
	control_conns = cc;
	control_nconns++;
	return;

err_close:
	fdcloser_close_socket(fd);
}

int pvdmad_control_start(struct pvdmad *d)
{
	int err;

	d->control_fd = host_listen(d->cfg.control_path, "control socket",
				    &d->cfg.access, CONTROL_MAX_CONNS,
				    &d->control_file);
	if (d->control_fd < 0)
		return d->control_fd;
	d->control_watch = (struct evloop_watch){
		.fd = d->control_fd, .fn = control_on_accept,
	};
	err = evloop_add(&d->loop, &d->control_watch, EPOLLIN);
	if (err) {
		pvdmad_control_stop(d);
		return err;
	}
	return 0;
}

void pvdmad_control_stop(struct pvdmad *d)
{
	while (control_conns)
		control_conn_close(control_conns);
	if (d->control_fd < 0)
		return;
	evloop_del(&d->loop, &d->control_watch);
	close(d->control_fd);
	d->control_fd = -1;
	host_listen_remove(d->cfg.control_path, &d->control_file);
}
