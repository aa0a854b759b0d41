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
#include "fdpass.h"
#include "json.h"
#include "log.h"

#define CONTROL_LINE_MAX	128
#define CONTROL_MAX_CONNS	8

/**
 * struct control_conn - one control connection
 * @watch:	in the loop
 * @daemon:	owner
 * @buf:	the request line so far
 * @len:	bytes in @buf
 * @answer:	the answer being sent (NULL until the line is complete)
 * @answer_len:	its length
 * @sent:	bytes of it sent
 * @next:	in the daemon's control_conns
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

static void json_iommu_stats(struct jsonw *w, struct pvdma_iommu *iommu)
{
	struct pvdma_iommu_stats st = { 0 };

	iommu->ops->stats(iommu, &st);
	jsonw_string(w, "backend", iommu->ops->name);
	jsonw_u64(w, "mappings_live", st.live_mappings);
	jsonw_u64(w, "mappings_peak", st.peak_mappings);
	jsonw_u64(w, "aperture_live", st.live_bytes);
	jsonw_u64(w, "aperture_peak", st.peak_bytes);
	jsonw_u64(w, "map_calls", st.map_calls);
	jsonw_u64(w, "unmap_calls", st.unmap_calls);
	jsonw_u64(w, "map_errors", st.map_errors);
	jsonw_u64(w, "unmap_errors", st.unmap_errors);
	jsonw_u64(w, "tlb_flushes", st.tlb_flushes);
	jsonw_u64(w, "faults", st.faults);
	jsonw_u64(w, "largest_free_bus", st.largest_free_bus);
	jsonw_u64(w, "aligned_maps", st.aligned_maps);
	jsonw_u64(w, "align_fallbacks", st.align_fallbacks);
}

static void json_companion(struct jsonw *w, const struct ivshmem_client *cl)
{
	const struct pvdma_companion *c = cl->priv;
	const struct companion_stats *s = &c->stats;
	u32 st;

	jsonw_object_begin(w, NULL);
	jsonw_u64(w, "id", cl->id);
	jsonw_s64(w, "pid", cl->pid);
	jsonw_bool(w, "ready", c->ready);
	json_iommu_stats(w, c->iommu);
	jsonw_u64(w, "doorbells", s->doorbells);
	jsonw_u64(w, "slots", s->slots);
	jsonw_u64(w, "entries", s->entries);
	jsonw_u64(w, "bad_tail", s->bad_tail);
	jsonw_u64(w, "hellos", s->hellos);
	jsonw_u64(w, "resets", s->resets);
	jsonw_u64(w, "released", s->released);
	jsonw_u64(w, "dma_commands", s->dma_cmds);
	jsonw_u64(w, "dma_bytes", s->dma_bytes);
	jsonw_u64(w, "dma_faults", s->dma_faults);
	jsonw_u64(w, "dma_io_errors", s->dma_io_errors);
	jsonw_object_begin(w, "rejected");
	for (st = 1; st < PVDMA_ST_COUNT; st++)
		jsonw_u64(w, pvdma_status_name(st), s->rejected[st]);
	jsonw_object_end(w);
	jsonw_object_end(w);
}

static void json_dmadev(struct jsonw *w, const struct ivshmem_client *cl)
{
	const struct pvdma_dmadev *dev = cl->priv;
	const struct dmadev_stats *s = &dev->stats;
	const struct pvdma_dev_header *h = dev->shm;

	jsonw_object_begin(w, NULL);
	jsonw_u64(w, "id", cl->id);
	jsonw_s64(w, "pid", cl->pid);
	jsonw_u64(w, "domain_peer", pvdma_le32(h->domain_peer));
	jsonw_u64(w, "doorbells", s->doorbells);
	jsonw_u64(w, "commands", s->cmds);
	jsonw_u64(w, "ok", s->ok);
	jsonw_u64(w, "invalid", s->invalid);
	jsonw_u64(w, "faults", s->faults);
	jsonw_u64(w, "not_bound", s->not_bound);
	jsonw_u64(w, "io_errors", s->io_errors);
	jsonw_u64(w, "bytes", s->bytes);
	jsonw_u64(w, "bad_tail", s->bad_tail);
	jsonw_object_end(w);
}

static void json_server(struct jsonw *w, const char *key,
			const struct ivshmem_server *srv)
{
	const struct ivshmem_server_stats *s = &srv->stats;

	jsonw_object_begin(w, key);
	jsonw_u64(w, "clients", srv->nclients);
	jsonw_u64(w, "accepted", s->accepted);
	jsonw_u64(w, "refused", s->refused);
	jsonw_u64(w, "not_allowed", s->not_allowed);
	jsonw_u64(w, "out_of_fds", s->out_of_fds);
	jsonw_u64(w, "disconnected", s->disconnected);
	jsonw_u64(w, "violations", s->violations);
	jsonw_u64(w, "doorbells", s->doorbells);
	jsonw_u64(w, "notify_errors", s->notify_errors);
	jsonw_object_end(w);
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

static void json_limits(struct jsonw *w, const struct pvdmad_config *cfg)
{
	const struct pvdma_iommu_config *ic = &cfg->companion.iommu;

	jsonw_object_begin(w, "limits");
	jsonw_u64(w, "page_size", ic->page_size);
	jsonw_u64(w, "aperture_bytes", ic->aperture_bytes);
	jsonw_u64(w, "max_mappings", ic->max_mappings);
	jsonw_u64(w, "bus_base", ic->bus_base);
	jsonw_u64(w, "bus_limit", ic->bus_limit);
	jsonw_u64(w, "ring_slots", cfg->companion.ring_slots);
	jsonw_u64(w, "max_batch", cfg->companion.max_batch);
	jsonw_u64(w, "dma_queue_entries", cfg->dmadev.queue_entries);
	jsonw_u64(w, "dma_max_len", cfg->dmadev.max_len);
	jsonw_object_end(w);
}

/* The watchdog: how long the loop went without looking at its sockets. */
static void json_loop(struct jsonw *w, const struct pvdmad *d)
{
	const struct evloop_stats *ls = &d->loop.stats;

	jsonw_object_begin(w, "loop");
	jsonw_u64(w, "turns", ls->turns);
	jsonw_u64(w, "longest_turn_us", ls->longest_turn_ns / 1000);
	jsonw_u64(w, "last_turn_us", ls->last_turn_ns / 1000);
	jsonw_u64(w, "longest_turn_cpu_us", ls->longest_turn_cpu_ns / 1000);
	jsonw_u64(w, "log_lines_dropped", pvdmad_log_dropped());
	jsonw_string(w, "log_stderr", pvdmad_log_stderr_way());
	jsonw_u64(w, "accept_out_of_fds", d->fd_reserve.out_of_fds);
	jsonw_u64(w, "fds_closed_aside", fdcloser_handed());
	jsonw_u64(w, "fds_kept_open", fdcloser_leaked());
	jsonw_u64(w, "mappings_unmapped_aside", fdcloser_unmapped());
	jsonw_u64(w, "bytes_unmapped_aside", fdcloser_unmapped_bytes());
	jsonw_u64(w, "control_refused", d->control_refused);
	jsonw_u64(w, "fd_store_waiting", d->store.waiting);
	jsonw_u64(w, "fd_store_waited", d->store.stats.waited);
	jsonw_u64(w, "fd_store_cancelled", d->store.stats.cancelled);
	jsonw_u64(w, "fd_store_unheld", d->store.stats.unheld);
	jsonw_u64(w, "fd_store_dropped", d->store.stats.dropped);
	jsonw_u64(w, "cmdline_reads_running",
		  d->procread ? procread_running(d->procread) : 0);
	jsonw_u64(w, "cmdline_reads_waiting",
		  d->procread ? procread_queued(d->procread) : 0);
	jsonw_u64(w, "cmdline_reads_queued",
		  d->procread ? procread_waited(d->procread) : 0);
	jsonw_u64(w, "cmdline_reads_stuck",
		  d->procread ? procread_stuck(d->procread) : 0);
	jsonw_u64(w, "cmdline_timed_out",
		  d->procread ? procread_timed_out(d->procread) : 0);
	jsonw_u64(w, "cmdline_refused_busy",
		  d->procread ? procread_refused(d->procread) : 0);
	jsonw_u64(w, "cmdline_refused_peer_quota",
		  d->procread ? procread_refused_quota(d->procread) : 0);
	jsonw_object_end(w);
}

void pvdmad_stats_json(struct pvdmad *d, FILE *out)
{
	struct ivshmem_client *cl;
	struct jsonw w;

	jsonw_init(&w, out);
	jsonw_object_begin(&w, NULL);
	jsonw_s64(&w, "pid", getpid());
	json_limits(&w, &d->cfg);
	json_loop(&w, d);
	jsonw_u64(&w, "guests_total", d->totals.guests);
	jsonw_u64(&w, "guests_live", d->companions.nclients);
	jsonw_u64(&w, "mappings_live", pvdmad_live_mappings(d));
	jsonw_u64(&w, "released_on_disconnect", d->totals.released);
	jsonw_u64(&w, "dma_devices_total", d->totals.dma_devices);
	jsonw_u64(&w, "dma_process_gone", d->totals.dma_process_gone);
	json_server(&w, "companion_server", &d->companions);
	json_server(&w, "dma_server", &d->dma);
	jsonw_array_begin(&w, "guests");
	for (cl = d->companions.clients; cl; cl = cl->next)
		if (!cl->dead && cl->priv)
			json_companion(&w, cl);
	jsonw_array_end(&w);
	jsonw_array_begin(&w, "dma_devices");
	for (cl = d->dma.clients; cl; cl = cl->next)
		if (!cl->dead && cl->priv)
			json_dmadev(&w, cl);
	jsonw_array_end(&w);
	jsonw_object_end(&w);
	putc('\n', out);
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
	struct control_conn **pp = &cc->daemon->control_conns;
	int fd = cc->watch.fd;

	while (*pp != cc)
		pp = &(*pp)->next;
	*pp = cc->next;
	evloop_release_later(&cc->daemon->loop, &cc->watch, control_conn_free);
	fdcloser_close_socket(fd);
	cc->daemon->control_nconns--;
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
 * SO_PASSRIGHTS) ends the connection, which goes to the closer with the
 * fd still queued in it: -EBADMSG. -EAGAIN: nothing yet.
 */
static ssize_t control_recv(int fd, char *buf, size_t len)
{
	bool fds;
	ssize_t n = fdpass_recv_refusing(fd, buf, len, &fds);

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
static struct control_conn *control_oldest(struct pvdmad *d)
{
	struct control_conn *cc = d->control_conns;

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
	int fd;

	fd = host_accept(&d->fd_reserve, d->control_fd);
	if (fd == -EMFILE || fd == -ENFILE)
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"control: out of file descriptors: connection refused");
	if (fd < 0)
		return;
	if (!control_peer_allowed(d, fd)) {
		fdcloser_close_socket(fd);
		return;
	}
	pvdmad_control_add_conn(d, fd);
}

int pvdmad_control_add_conn(struct pvdmad *d, int fd)
{
	struct control_conn *cc;
	int err = -ENOMEM;

	/*
	 * Clients that connect and never send their line (or never read the
	 * answer) must not lock pvdmactl out: the one that has waited longest
	 * makes room. Its memory is released after this batch, so an event of
	 * it still pending in the batch is safely ignored.
	 */
	if (d->control_nconns >= CONTROL_MAX_CONNS)
		control_conn_close(control_oldest(d));
	cc = calloc(1, sizeof(*cc));
	if (!cc)
		goto err_close;
	cc->daemon = d;
	cc->watch = (struct evloop_watch){ .fd = fd, .fn = control_on_conn };
	err = evloop_add(&d->loop, &cc->watch, EPOLLIN);
	if (err) {
		free(cc);
		goto err_close;
	}
	cc->next = d->control_conns;
	d->control_conns = cc;
	d->control_nconns++;
	return 0;

err_close:
	fdcloser_close_socket(fd);
	return err;
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
	while (d->control_conns)
		control_conn_close(d->control_conns);
	if (d->control_fd < 0)
		return;
	evloop_del(&d->loop, &d->control_watch);
	close(d->control_fd);
	d->control_fd = -1;
	host_listen_remove(d->cfg.control_path, &d->control_file);
}
