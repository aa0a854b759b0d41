// SPDX-License-Identifier: MIT
/*
 * The control socket and the live counters it serves.
 *
 * A client connects, sends one line ("stats json", "stats table" or
 * "reopen-logs"), reads the answer until EOF. Connections are non-blocking
 * in the loop; an answer is written with a send timeout, so a client that
 * never reads costs at most that long.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define CONTROL_LINE_MAX	128
#define CONTROL_MAX_CONNS	8
#define CONTROL_SEND_TIMEOUT_S	1

/**
 * struct control_conn - one control connection
 * @watch:	in the loop
 * @daemon:	owner
 * @buf:	the request line so far
 * @len:	bytes in @buf
 * @next:	in control_conns
 */
struct control_conn {
	struct evloop_watch watch;
	struct control_conn *next;
	struct pvdmad *daemon;
	char buf[CONTROL_LINE_MAX];
	size_t len;
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

void pvdmad_stats_json(struct pvdmad *d, FILE *out)
{
	struct ivshmem_client *cl;
	bool first = true;

	fprintf(out, "{\"pid\": %d, ", (int)getpid());
	json_limits(out, &d->cfg);
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
	fprintf(out, "%5u %7d %5s %8llu %8llu %10llu %10llu %8llu %8llu %7llu %6llu %8llu %7llu %11llu\n",
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
		(unsigned long long)c->stats.dma_bytes);
}

void pvdmad_stats_table(struct pvdmad *d, FILE *out)
{
	struct ivshmem_client *cl;

	fprintf(out, "pvdmad pid %d: %u guests live, %llu ever, %llu mappings live, %llu released on disconnect\n",
		(int)getpid(), d->companions.nclients,
		(unsigned long long)d->totals.guests,
		(unsigned long long)pvdmad_live_mappings(d),
		(unsigned long long)d->totals.released);
	fprintf(out, "%5s %7s %5s %8s %8s %10s %10s %8s %8s %7s %6s %8s %7s %11s\n",
		"guest", "pid", "ready", "maps", "peak", "ap_KiB", "ap_peak", "map",
		"unmap", "flush", "fault", "rejected", "dma", "dma_bytes");
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

/* Build the whole answer in memory, then send it. */
static void control_answer(struct control_conn *cc)
{
	char *text = NULL;
	size_t len = 0, off = 0;
	ssize_t n;
	FILE *out;

	out = open_memstream(&text, &len);
	if (!out)
		return;
	pvdmad_control_request(cc->daemon, cc->buf, out);
	fclose(out);
	while (off < len) {
		n = send(cc->watch.fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	free(text);
}

static void control_conn_close(struct control_conn *cc)
{
	struct control_conn **pp = &control_conns;

	while (*pp != cc)
		pp = &(*pp)->next;
	*pp = cc->next;
	evloop_del(&cc->daemon->loop, &cc->watch);
	close(cc->watch.fd);
	cc->watch.fd = -1;
	control_nconns--;
	free(cc);
}

static void control_on_conn(struct evloop_watch *w, uint32_t events)
{
	struct control_conn *cc = container_of(w, struct control_conn, watch);
	char *nl;
	ssize_t n;

	n = recv(w->fd, cc->buf + cc->len, sizeof(cc->buf) - 1 - cc->len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
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
	control_conn_close(cc);
}

/* The connection that has waited longest for its request line. */
static struct control_conn *control_oldest(void)
{
	struct control_conn *cc = control_conns;

	while (cc && cc->next)
		cc = cc->next;
	return cc;
}

static void control_on_accept(struct evloop_watch *w, uint32_t events)
{
	struct pvdmad *d = container_of(w, struct pvdmad, control_watch);
	struct timeval tv = { .tv_sec = CONTROL_SEND_TIMEOUT_S };
	struct control_conn *cc;
	int fd;

	fd = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/*
	 * Clients that connect and never send their line must not lock
	 * pvdmactl out: the one that has waited longest makes room. A real
	 * client sends its line at once, so it is never the oldest for long.
	 */
	if (control_nconns >= CONTROL_MAX_CONNS)
		control_conn_close(control_oldest());
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		goto err_close;
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
	close(fd);
}

int pvdmad_control_start(struct pvdmad *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = d->cfg.control_path;
	struct stat st;
	int err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	d->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->control_fd < 0)
		return -errno;
	if (bind(d->control_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(d->control_fd, CONTROL_MAX_CONNS) < 0) {
		err = -errno;
		close(d->control_fd);
		d->control_fd = -1;
		return err;
	}
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
	unlink(d->cfg.control_path);
}
