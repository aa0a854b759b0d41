// SPDX-License-Identifier: MIT
/*
 * uvmadvise: unified memory steered with cudaMemAdvise and
 * cudaMemPrefetchAsync, the way an out-of-core solver or a graph code
 * places its managed data instead of leaving it to faults:
 *
 *   remote      1 GiB preferred on the host and accessed by the GPU: the
 *               GPU reads and writes it in place (remote access), three
 *               rounds with the CPU writing it in between
 *   readmostly  512 MiB marked read-mostly: the GPU reads it (a copy on
 *               each side), the CPU writes half of it (the GPU's copies
 *               are dropped), the GPU reads it again, two rounds
 *   prefetch    768 MiB moved in 64 MiB pieces, in a shuffled order, to
 *               the GPU, worked on and prefetched back to the host; then
 *               the whole buffer both ways
 *   unadvise    the advice on the first buffer withdrawn, the GPU touches
 *               it again (now it migrates)
 *   free        the three buffers freed in another order than made
 *
 * At most 2.25 GiB managed, never more than a quarter of the GPU's free
 * memory (the device rules). CUDA 13 (cudaMemLocation arguments).
 * Writes "PHASE name" to $PVDMA_TRACE_MARKER between phases.
 *
 *   nvcc -O2 -arch=sm_90 -o uvmadvise uvmadvise.cu
 */
#include <cuda_runtime.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phase.h"

#define MIB ((size_t)1 << 20)

/* Advice a driver may refuse (no concurrent managed access) is reported,
 * not fatal: the trace then shows the driver's default placement. */
#define ADVISE(x)                                                           \
	do {                                                                \
		cudaError_t err_ = (x);                                     \
		if (err_ != cudaSuccess)                                    \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__,        \
				__LINE__, #x, cudaGetErrorString(err_));    \
	} while (0)

/* Read and bump the first word of every 4 KiB page of [p, p + pages). */
__global__ void touch_pages(unsigned int *p, size_t pages, unsigned int *sum)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	size_t stride = (size_t)gridDim.x * blockDim.x;
	unsigned int s = 0;

	for (; i < pages; i += stride) {
		s += p[i * 1024];
		p[i * 1024] += 1;
	}
	atomicAdd(sum, s);
}

/* Only read: what a read-mostly buffer is for. */
__global__ void read_pages(const unsigned int *p, size_t pages,
			   unsigned int *sum)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	size_t stride = (size_t)gridDim.x * blockDim.x;
	unsigned int s = 0;

	for (; i < pages; i += stride)
		s += p[i * 1024];
	atomicAdd(sum, s);
}

static unsigned int *sum;

static void gpu_touch(void *p, size_t bytes)
{
	touch_pages<<<264, 256>>>((unsigned int *)p, bytes / 4096, sum);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());
}

static void gpu_read(void *p, size_t bytes)
{
	read_pages<<<264, 256>>>((const unsigned int *)p, bytes / 4096, sum);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());
}

static void cpu_write(void *p, size_t bytes, unsigned int v)
{
	unsigned int *w = (unsigned int *)p;
	size_t i;

	for (i = 0; i < bytes / 4; i += 1024)
		w[i] = v;
}

static cudaMemLocation loc(enum cudaMemLocationType type, int id)
{
	cudaMemLocation l;

	memset(&l, 0, sizeof(l));
	l.type = type;
	l.id = id;
	return l;
}

int main(void)
{
	const size_t remote = 1024 * MIB, mostly = 512 * MIB;
	const size_t moved = 768 * MIB, piece = 64 * MIB;
	const size_t npieces = moved / piece;
	cudaMemLocation gpu = loc(cudaMemLocationTypeDevice, 0);
	cudaMemLocation host = loc(cudaMemLocationTypeHost, 0);
	size_t order[64], freemem, total, i;
	char *a, *b, *c;
	int r, cma = 0;

	marker_open();
	CHECK(cudaSetDevice(0));
	CHECK(cudaMemGetInfo(&freemem, &total));
	if (remote + mostly + moved > freemem / 4) {
		fprintf(stderr, "uvmadvise: %zu MiB free on the GPU, too little\n",
			freemem / MIB);
		return 1;
	}
	CHECK(cudaDeviceGetAttribute(&cma, cudaDevAttrConcurrentManagedAccess, 0));
	printf("concurrent managed access %d\n", cma);
	CHECK(cudaMallocManaged(&sum, sizeof(*sum), cudaMemAttachGlobal));

	phase("remote");
	CHECK(cudaMallocManaged(&a, remote, cudaMemAttachGlobal));
	ADVISE(cudaMemAdvise(a, remote, cudaMemAdviseSetPreferredLocation, host));
	ADVISE(cudaMemAdvise(a, remote, cudaMemAdviseSetAccessedBy, gpu));
	for (r = 0; r < 3; r++) {
		cpu_write(a, remote, (unsigned int)r);
		gpu_touch(a, remote);
	}

	phase("readmostly");
	CHECK(cudaMallocManaged(&b, mostly, cudaMemAttachGlobal));
	ADVISE(cudaMemAdvise(b, mostly, cudaMemAdviseSetReadMostly, gpu));
	cpu_write(b, mostly, 7);
	for (r = 0; r < 2; r++) {
		gpu_read(b, mostly);
		cpu_write(b + (r & 1) * mostly / 2, mostly / 2, 8 + r);
		gpu_read(b, mostly);
	}

	phase("prefetch");
	CHECK(cudaMallocManaged(&c, moved, cudaMemAttachGlobal));
	cpu_write(c, moved, 3);
	srand(768);
	for (i = 0; i < npieces; i++)
		order[i] = i;
	for (i = npieces - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < npieces; i++) {
		char *p = c + order[i] * piece;

		CHECK(cudaMemPrefetchAsync(p, piece, gpu, 0, 0));
		gpu_touch(p, piece);
		CHECK(cudaMemPrefetchAsync(p, piece, host, 0, 0));
		CHECK(cudaDeviceSynchronize());
	}
	CHECK(cudaMemPrefetchAsync(c, moved, gpu, 0, 0));
	gpu_touch(c, moved);
	CHECK(cudaMemPrefetchAsync(c, moved, host, 0, 0));
	CHECK(cudaDeviceSynchronize());
	cpu_write(c, moved, 4);

	phase("unadvise");
	ADVISE(cudaMemAdvise(a, remote, cudaMemAdviseUnsetAccessedBy, gpu));
	ADVISE(cudaMemAdvise(a, remote, cudaMemAdviseUnsetPreferredLocation, host));
	gpu_touch(a, remote);
	cpu_write(a, remote / 2, 9);
	gpu_touch(a, remote);

	phase("free");
	CHECK(cudaFree(b));
	CHECK(cudaFree(a));
	CHECK(cudaFree(c));
	printf("sum %u\n", *sum);
	CHECK(cudaFree(sum));
	phase("end");
	return 0;
}
