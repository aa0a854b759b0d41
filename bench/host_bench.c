// SPDX-License-Identifier: MIT
/*
 * host_bench: pvdmad's request rate, measured from outside as QEMU and the
 * guest driver would drive it. Connects to a running pvdmad's companion
 * socket (the ivshmem-doorbell protocol), says HELLO, then for each batch
 * size B posts B MAP entries (16 KiB each, distinct guest pages) with one
 * doorbell, waits for the interrupt, posts the B matching UNMAPs with one
 * doorbell, and so on for --seconds. One JSON object per batch size:
 *
 *   {"bench": "host", "entries_per_doorbell": B, "requests": N,
 *    "doorbells": D, "seconds": S, "requests_per_s": R,
 *    "doorbells_per_s": X, "ns_per_request": T, "errors": E}
 *
 * A batch of more than max_batch entries spans consecutive ring slots
 * behind one doorbell, as pvdma.ko posts them.
 *
 * Usage: host_bench --socket PATH [--seconds S] [--batch B]...
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <pvdma/proto.h>

#include "json.h"
#include "size.h"

#include "tests/host/ivshmem_client.h"
#include "tests/host/producer.h"

#define HB_PAGE		(16u << 10)
#define HB_GPA_BASE	(16u << 20)	/* above the legacy low memory */
#define HB_TIMEOUT_MS	5000
#define HB_MAX_SIZES	16

/* The companion device as the guest sees it. */
struct hb_dev {
	struct ivs_dev dev;
	struct pvdma_shm_header *hdr;
	u32 seq;
};

static int hb_connect(struct hb_dev *d, const char *path)
{
	if (ivs_connect(&d->dev, path, HB_TIMEOUT_MS / 1000))
		return -1;
	d->hdr = (struct pvdma_shm_header *)d->dev.shm;
	if (d->hdr->magic != PVDMA_MAGIC ||
	    d->hdr->host_state != PVDMA_HOST_READY)
		return -1;
	d->hdr->guest_version = PVDMA_PROTO_VERSION;
	d->hdr->guest_features = PVDMA_FEAT_BATCH_UNMAP;
	return 0;
}

static struct pvdma_slot_hdr *hb_slot(struct hb_dev *d, u32 index)
{
	return (struct pvdma_slot_hdr *)(d->dev.shm + d->hdr->ring_offset +
		(u64)(index & (d->hdr->ring_slots - 1)) * d->hdr->slot_size);
}

/*
 * Post @n ops in as many slots as needed (at most the ring), ring once,
 * wait. Fills ops[].status and .bus; returns entries not OK, or -1 if the
 * daemon did not answer.
 */
static int hb_submit(struct hb_dev *d, struct pvdma_request *ops, u32 n)
{
	u32 per = d->hdr->max_batch, tail = d->hdr->sq_tail, slots, i, k;
	struct pvdma_slot_hdr *s;
	int bad = 0;

	slots = (n + per - 1) / per;
	for (i = 0; i < slots; i++)
		producer_write_slot(hb_slot(d, tail + i), &ops[i * per],
				    n - i * per < per ? n - i * per : per,
				    ++d->seq);
	producer_publish(&d->hdr->sq_tail, tail + slots);
	if (ivs_ring(&d->dev))
		return -1;
	for (i = 0; i < slots; i++) {
		s = hb_slot(d, tail + i);
		/* one interrupt may tell of several slots */
		if (__atomic_load_n(&s->done_seq, __ATOMIC_ACQUIRE) != s->seq &&
		    ivs_wait_done(&d->dev, &s->done_seq, s->seq,
				  HB_TIMEOUT_MS) != IVS_DONE)
			return -1;
		for (k = 0; k < s->count; k++) {
			struct pvdma_entry *e = producer_entry(s, k);

			ops[i * per + k].status = pvdma_le32(e->status);
			ops[i * per + k].bus = pvdma_le64(e->bus);
			bad += ops[i * per + k].status != PVDMA_ST_OK;
		}
	}
	return bad;
}

static double hb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int hb_run(struct hb_dev *d, u32 batch, double seconds)
{
	struct pvdma_request *ops = calloc(batch, sizeof(*ops));
	u64 requests = 0, doorbells = 0, errors = 0;
	struct jsonw w;
	double t0, t;
	u32 i;
	int r;

	if (!ops)
		return -1;
	t0 = hb_now();
	do {
		for (i = 0; i < batch; i++)
			ops[i] = (struct pvdma_request){
				.op = PVDMA_OP_MAP,
				.flags = PVDMA_MAP_READ | PVDMA_MAP_WRITE,
				.gpa = HB_GPA_BASE + (u64)i * HB_PAGE,
				.len = HB_PAGE,
			};
		r = hb_submit(d, ops, batch);
		if (r < 0)
			break;
		errors += r;
		for (i = 0; i < batch; i++)
			ops[i] = (struct pvdma_request){
				.op = PVDMA_OP_UNMAP, .len = HB_PAGE,
				.bus = ops[i].bus,
			};
		r = hb_submit(d, ops, batch);
		if (r < 0)
			break;
		errors += r;
		requests += 2 * batch;
		doorbells += 2;
		t = hb_now() - t0;
	} while (t < seconds);
	free(ops);
	if (r < 0) {
		fprintf(stderr, "host_bench: pvdmad did not answer\n");
		return -1;
	}
	jsonw_init(&w, stdout);
	jsonw_object_begin(&w, NULL);
	jsonw_string(&w, "bench", "host");
	jsonw_u64(&w, "entries_per_doorbell", batch);
	jsonw_u64(&w, "requests", requests);
	jsonw_u64(&w, "doorbells", doorbells);
	jsonw_double(&w, "seconds", 3, t);
	jsonw_double(&w, "requests_per_s", 0, requests / t);
	jsonw_double(&w, "doorbells_per_s", 0, doorbells / t);
	jsonw_double(&w, "ns_per_request", 1, t * 1e9 / requests);
	jsonw_u64(&w, "errors", errors);
	jsonw_object_end(&w);
	putchar('\n');
	return errors ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	u32 sizes[HB_MAX_SIZES] = { 1, 16, 127, 2032 }, nsizes = 4, i, ring;
	const char *path = NULL;
	struct hb_dev d = { 0 };
	struct pvdma_request hello = { .op = PVDMA_OP_HELLO };
	double seconds = 1.0;
	uint64_t batch;
	bool user_sizes = false;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "s:t:b:", opts, NULL)) != -1) {
		if (opt == 's') {
			path = optarg;
		} else if (opt == 't') {
			seconds = atof(optarg);
		} else if (opt == 'b' && (!user_sizes || nsizes < HB_MAX_SIZES) &&
			   size_parse_range(optarg, 1, UINT32_MAX, &batch)) {
			if (!user_sizes)
				nsizes = 0;
			user_sizes = true;
			sizes[nsizes++] = (u32)batch;
		} else {
			fprintf(stderr, "usage: host_bench --socket PATH [--seconds S] [--batch B]...\n");
			return 2;
		}
	}
	if (!path || hb_connect(&d, path)) {
		fprintf(stderr, "host_bench: cannot connect to pvdmad at %s\n",
			path ? path : "(no --socket)");
		return 1;
	}
	if (hb_submit(&d, &hello, 1) != 0) {
		fprintf(stderr, "host_bench: HELLO refused (is --guest-ram big enough?)\n");
		return 1;
	}
	ring = d.hdr->ring_slots * d.hdr->max_batch;
	for (i = 0; i < nsizes; i++) {
		if (!sizes[i] || sizes[i] > ring) {
			fprintf(stderr, "host_bench: batch %u: 1..%u\n", sizes[i], ring);
			rc = 1;
			continue;
		}
		if (hb_run(&d, sizes[i], seconds))
			rc = 1;
	}
	return rc;
}
