// SPDX-License-Identifier: MIT
/*
 * cudamem: CUDA memory the driver maps for DMA outside the frameworks.
 *
 *   cudamem uvm [GIB]   unified memory (cudaMallocManaged) of GIB GiB
 *                       (default 6, never more than a quarter of the free
 *                       device memory), touched from the CPU and the GPU in
 *                       turn so that its pages migrate both ways
 *   cudamem hostreg     cudaHostRegister of pageable malloc'd memory, 1 MiB
 *                       to 2 GiB, copied both ways, unregistered; then
 *                       several registrations live at once
 *
 * Writes "PHASE name" to $PVDMA_TRACE_MARKER between phases.
 */
#include <cuda_runtime.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phase.h"

/* Add one to the first word of every 4 KiB page: faults each page in. */
__global__ void touch_pages(unsigned int *p, size_t pages)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	size_t stride = (size_t)gridDim.x * blockDim.x;

	for (; i < pages; i += stride)
		p[i * 1024] += 1;
}

static void cpu_touch(unsigned int *p, size_t pages, unsigned int expect)
{
	size_t i, bad = 0;

	for (i = 0; i < pages; i++) {
		if (p[i * 1024] != expect)
			bad++;
		p[i * 1024] += 1;
	}
	if (bad)
		printf("cpu_touch: %zu pages differ from %u\n", bad, expect);
}

static int uvm(double gib)
{
	size_t free_b, total_b, size, pages;
	unsigned int *p;
	char name[32];
	int round;

	CHECK(cudaFree(0));
	CHECK(cudaMemGetInfo(&free_b, &total_b));
	size = (size_t)(gib * (1 << 30));
	if (size > free_b / 4) {
		size = (free_b / 4) & ~(((size_t)2 << 20) - 1);
		printf("uvm: capped to %zu MiB (a quarter of free memory)\n",
		       size >> 20);
	}
	pages = size / 4096;
	printf("uvm: %zu MiB managed, %zu MiB free of %zu MiB\n", size >> 20,
	       free_b >> 20, total_b >> 20);
	phase("alloc");
	CHECK(cudaMallocManaged(&p, size, cudaMemAttachGlobal));
	phase("cpu_first_touch");
	memset(p, 0, size);
	for (round = 0; round < 3; round++) {
		snprintf(name, sizeof(name), "gpu_touch%d", round);
		phase(name);
		touch_pages<<<1024, 256>>>(p, pages);
		CHECK(cudaGetLastError());
		CHECK(cudaDeviceSynchronize());
		snprintf(name, sizeof(name), "cpu_touch%d", round);
		phase(name);
		cpu_touch(p, pages, 2 * round + 1);
	}
	/* half on each side at the end: a mixed resident set */
	phase("gpu_touch_half");
	touch_pages<<<1024, 256>>>(p, pages / 2);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());
	phase("free");
	CHECK(cudaFree(p));
	phase("end");
	return 0;
}

static void *pageable(size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, size)) {
		fprintf(stderr, "posix_memalign %zu failed\n", size);
		exit(1);
	}
	memset(p, 0x5a, size);
	return p;
}

static int hostreg(void)
{
	static const size_t sizes[] = {
		1 << 20, 16 << 20, 256 << 20, (size_t)1 << 30, (size_t)2 << 30,
	};
	enum { NLIVE = 4 };
	void *live[NLIVE];
	char name[32];
	void *dev, *h;
	size_t i;

	CHECK(cudaFree(0));
	CHECK(cudaMalloc(&dev, (size_t)2 << 30));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "reg_%zuM", sizes[i] >> 20);
		phase(name);
		h = pageable(sizes[i]);
		CHECK(cudaHostRegister(h, sizes[i], cudaHostRegisterDefault));
		CHECK(cudaMemcpy(dev, h, sizes[i], cudaMemcpyHostToDevice));
		CHECK(cudaMemcpy(h, dev, sizes[i], cudaMemcpyDeviceToHost));
		CHECK(cudaHostUnregister(h));
		free(h);
	}
	phase("reg_live_4x256M");
	for (i = 0; i < NLIVE; i++) {
		live[i] = pageable((size_t)256 << 20);
		CHECK(cudaHostRegister(live[i], (size_t)256 << 20,
				       cudaHostRegisterDefault));
		CHECK(cudaMemcpyAsync(dev, live[i], (size_t)256 << 20,
				      cudaMemcpyHostToDevice, 0));
	}
	CHECK(cudaDeviceSynchronize());
	phase("unreg_live");
	for (i = 0; i < NLIVE; i++) {
		CHECK(cudaHostUnregister(live[i]));
		free(live[i]);
	}
	phase("pageable_copy");
	h = pageable((size_t)256 << 20);
	for (i = 0; i < 3; i++)
		CHECK(cudaMemcpy(dev, h, (size_t)256 << 20,
				 cudaMemcpyHostToDevice));
	free(h);
	CHECK(cudaFree(dev));
	phase("end");
	return 0;
}

int main(int argc, char **argv)
{

	setvbuf(stdout, NULL, _IOLBF, 0);
	marker_open();
	if (argc >= 2 && !strcmp(argv[1], "uvm"))
		return uvm(argc >= 3 ? atof(argv[2]) : 6.0);
	if (argc >= 2 && !strcmp(argv[1], "hostreg"))
		return hostreg();
	fprintf(stderr, "usage: cudamem uvm [GIB] | hostreg\n");
	return 2;
}
