// SPDX-License-Identifier: MIT
/*
 * hostpool: pinned host memory from a stream-ordered memory pool with a
 * host location (CUDA 13: cudaMemPoolCreate at cudaMemLocationTypeHost,
 * cudaMallocFromPoolAsync, cudaFreeAsync), the way an asynchronous data
 * pipeline takes staging buffers without cudaHostAlloc:
 *
 *   keep        bursts of 24 allocations of 64 KiB to 48 MiB on 4 streams,
 *               each written by the CPU, copied to the GPU and freed on its
 *               stream, a quarter held 1 to 3 bursts longer; the pool
 *               keeps what it has (release threshold: all)
 *   trim        the same bursts, the pool trimmed to 64 MiB every 4th
 *   release     release threshold 0: the pool gives its free memory back
 *               at every synchronisation
 *
 * Then the pool is destroyed. Seeded.
 * Writes "PHASE name" to $PVDMA_TRACE_MARKER between phases.
 *
 *   nvcc -O2 -arch=sm_90 -o hostpool hostpool.cu
 */
#include <cuda_runtime.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phase.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define STREAMS 4
#define PER_BURST 24
#define BURSTS 24
#define HELD_MAX 64

struct held {
	char *p;
	int stream;
	int until; /* the burst after which it is freed */
};

static cudaMemPool_t pool;
static cudaStream_t streams[STREAMS];
static char *dev;
static struct held held[HELD_MAX];
static int nheld;

/* 64 KiB to 48 MiB, most of them small: a power of two times 1 to 1.5. */
static size_t pick_size(void)
{
	size_t s = 64 * KIB << (rand() % 10);

	return s + s / 2 * (size_t)(rand() % 2);
}

static void burst(int b)
{
	int i, k;

	for (i = 0; i < PER_BURST; i++) {
		int s = rand() % STREAMS;
		size_t size = pick_size();
		char *p;

		CHECK(cudaMallocFromPoolAsync((void **)&p, size, pool,
					      streams[s]));
		/* The CPU fills it once the stream reached the allocation. */
		CHECK(cudaStreamSynchronize(streams[s]));
		memset(p, b & 0xff, size < 64 * KIB ? size : 64 * KIB);
		CHECK(cudaMemcpyAsync(dev, p, size, cudaMemcpyHostToDevice,
				      streams[s]));
		if (nheld < HELD_MAX && rand() % 4 == 0) {
			held[nheld].p = p;
			held[nheld].stream = s;
			held[nheld].until = b + 1 + rand() % 3;
			nheld++;
		} else {
			CHECK(cudaFreeAsync(p, streams[s]));
		}
	}
	for (k = 0; k < nheld;) {
		if (held[k].until <= b) {
			CHECK(cudaFreeAsync(held[k].p, streams[held[k].stream]));
			held[k] = held[--nheld];
		} else {
			k++;
		}
	}
	for (k = 0; k < STREAMS; k++)
		CHECK(cudaStreamSynchronize(streams[k]));
}

static void report(const char *what)
{
	uint64_t reserved = 0, used = 0;

	CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent,
				      &reserved));
	CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent,
				      &used));
	printf("%s: pool reserved %llu MiB, used %llu MiB, %d held\n", what,
	       (unsigned long long)(reserved / MIB),
	       (unsigned long long)(used / MIB), nheld);
}

static void set_threshold(uint64_t v)
{
	CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold,
				      &v));
}

int main(void)
{
	struct cudaMemPoolProps props;
	struct cudaMemAccessDesc access;
	cudaError_t err;
	int b, k;

	marker_open();
	srand(4096);
	CHECK(cudaSetDevice(0));
	CHECK(cudaMalloc((void **)&dev, 72 * MIB));
	for (k = 0; k < STREAMS; k++)
		CHECK(cudaStreamCreateWithFlags(&streams[k],
						cudaStreamNonBlocking));

	memset(&props, 0, sizeof(props));
	props.allocType = cudaMemAllocationTypePinned;
	props.handleTypes = cudaMemHandleTypeNone;
	props.location.type = cudaMemLocationTypeHost;
	err = cudaMemPoolCreate(&pool, &props);
	if (err != cudaSuccess) {
		fprintf(stderr, "host pool: %s; trying NUMA node 0\n",
			cudaGetErrorString(err));
		props.location.type = cudaMemLocationTypeHostNuma;
		props.location.id = 0;
		CHECK(cudaMemPoolCreate(&pool, &props));
	}
	/* Host pools are reachable from the CPU only until the GPU is let in. */
	memset(&access, 0, sizeof(access));
	access.location.type = cudaMemLocationTypeDevice;
	access.location.id = 0;
	access.flags = cudaMemAccessFlagsProtReadWrite;
	CHECK(cudaMemPoolSetAccess(pool, &access, 1));

	phase("keep");
	set_threshold(UINT64_MAX);
	for (b = 0; b < BURSTS; b++)
		burst(b);
	report("keep");

	phase("trim");
	for (; b < 2 * BURSTS; b++) {
		burst(b);
		if (b % 4 == 3) {
			CHECK(cudaMemPoolTrimTo(pool, 64 * MIB));
			report("trimmed");
		}
	}

	phase("release");
	set_threshold(0);
	for (; b < 3 * BURSTS; b++)
		burst(b);
	report("release");

	phase("destroy");
	for (k = 0; k < nheld; k++)
		CHECK(cudaFreeAsync(held[k].p, streams[held[k].stream]));
	nheld = 0;
	for (k = 0; k < STREAMS; k++)
		CHECK(cudaStreamSynchronize(streams[k]));
	CHECK(cudaMemPoolDestroy(pool));
	for (k = 0; k < STREAMS; k++)
		CHECK(cudaStreamDestroy(streams[k]));
	CHECK(cudaFree(dev));
	phase("end");
	return 0;
}
