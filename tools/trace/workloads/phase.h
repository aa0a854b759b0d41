/* SPDX-License-Identifier: MIT */
/*
 * What the C and CUDA workloads share: phase markers in the trace
 * (pvdma-trace record sets $PVDMA_TRACE_MARKER to the trace_marker file;
 * docs/traces.md) and, in CUDA code, a check that stops at the first
 * failed runtime call. Each workload is still one program built from
 * its own source (record-all.sh), this header beside it.
 */
#ifndef PVDMA_WORKLOAD_PHASE_H
#define PVDMA_WORKLOAD_PHASE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int marker_fd = -1;

/* Open the trace's marker file, if the workload runs under a recorder. */
static void marker_open(void)
{
	const char *m = getenv("PVDMA_TRACE_MARKER");

	if (m && *m)
		marker_fd = open(m, O_WRONLY);
}

/* A phase begins: said on stdout and, when recorded, in the trace. */
static void phase(const char *name)
{
	char line[128];
	int n;

	printf("phase %s\n", name);
	fflush(stdout);
	if (marker_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "PHASE %s\n", name);
	if (write(marker_fd, line, (size_t)n) < 0)
		perror("trace_marker");
}

#ifdef __CUDACC__
#define CHECK(x)                                                            \
	do {                                                                \
		cudaError_t err_ = (x);                                     \
		if (err_ != cudaSuccess) {                                  \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__,        \
				__LINE__, #x, cudaGetErrorString(err_));    \
			exit(1);                                            \
		}                                                           \
	} while (0)
#endif

#endif /* PVDMA_WORKLOAD_PHASE_H */
