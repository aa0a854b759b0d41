// SPDX-License-Identifier: MIT
/*
 * vknaive: a headless Vulkan engine with no sub-allocator at all (transfer
 * work only, no shaders), to see what the driver maps for DMA when every
 * buffer is its own vkAllocateMemory and the host-visible footprint swings
 * over the aperture and back as a player moves through a world.
 *
 *   vknaive [FRAMES]     default 1200
 *
 * Every asset streamed in is one host-visible, host-coherent allocation of
 * 4 KiB to 4 MiB, log-uniform by octave (mesh data the GPU reads from
 * host memory), and three in ten also upload a texture through a staging
 * allocation of their own, freed when that frame's fence signals. The
 * frames walk six areas whose asset budgets are 300, 900, 1700, 450, 1300
 * and 250 MiB: each frame loads assets (at most 48 and 32 MiB a frame)
 * while the live set is under its area's budget, evicts random ones (at
 * most 96 a frame) while it is over, and swaps a few either way; an
 * evicted asset is freed once the frames in flight are done with it.
 * Each frame also allocates two to six uniform buffers of 4 to 64 KiB and
 * frees them when its fence signals, and copies a few assets and its
 * uniforms into device-local memory. Three frames in flight. Every 100th
 * frame a screenshot is read back into a host-cached allocation made for
 * it. Seeded. Writes "PHASE name" to $PVDMA_TRACE_MARKER.
 *
 * Build: cc -std=c11 -O2 -o vknaive vknaive.c -lvulkan
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#include "phase.h"
#include "vkgpu.h"

#define KIB ((VkDeviceSize)1 << 10)
#define MIB ((VkDeviceSize)1 << 20)
#define IN_FLIGHT 3
#define MAX_ASSETS 6144
#define MAX_RETIRE 8192
#define AREAS 6
#define LOADS_PER_FRAME 48
#define LOAD_BYTES_PER_FRAME (32 * MIB)
#define EVICTS_PER_FRAME 96
#define DEVICE_HEAP (256 * MIB)
#define SCREENSHOT_BYTES (8 * MIB)

static const VkDeviceSize area_budget[AREAS] = {
	300 * MIB, 900 * MIB, 1700 * MIB, 450 * MIB, 1300 * MIB, 250 * MIB,
};

struct asset {
	struct buffer mesh;	/* mesh.mem == NULL: the slot is free */
};

/* Buffers freed when a frame slot's fence next signals. */
struct retire_list {
	struct buffer bufs[MAX_RETIRE];
	int n;
};

struct engine {
	struct gpu gpu;
	struct asset assets[MAX_ASSETS];
	int nlive;
	VkDeviceSize live_bytes, transient_bytes, peak_bytes;
	uint32_t max_allocations, allocations;
	struct retire_list retire[IN_FLIGHT];
	VkCommandBuffer cmd[IN_FLIGHT];
	VkFence fence[IN_FLIGHT];
	struct buffer device_heap;
	VkDeviceSize heap_top;
	unsigned long loads, evictions, stagings, uniforms, screenshots;
	uint32_t rng;
};

#define HOST_COHERENT (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | \
		       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
#define HOST_CACHED (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | \
		     VK_MEMORY_PROPERTY_HOST_CACHED_BIT)

static uint32_t next_random(struct engine *e)
{
	e->rng = e->rng * 1664525u + 1013904223u;
	return e->rng >> 8;
}

/* 4 KiB to 4 MiB: a random octave, then linear within it. */
static VkDeviceSize asset_size(struct engine *e)
{
	VkDeviceSize base = 4 * KIB << (next_random(e) % 10);
	VkDeviceSize size = base + base * (next_random(e) % 4096) / 4096;

	return (size + 255) & ~(VkDeviceSize)255;
}

static void note_peak(struct engine *e)
{
	VkDeviceSize now = e->live_bytes + e->transient_bytes;

	if (now > e->peak_bytes)
		e->peak_bytes = now;
}

/* A host-visible buffer of its own allocation; system memory rather than
 * the BAR where the device offers both (the BAR is not DMA-mapped). */
static void host_buffer(struct engine *e, struct buffer *b, VkDeviceSize size,
			VkMemoryPropertyFlags want)
{
	struct gpu *g = &e->gpu;
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
			 VK_BUFFER_USAGE_TRANSFER_DST_BIT |
			 VK_BUFFER_USAGE_VERTEX_BUFFER_BIT |
			 VK_BUFFER_USAGE_INDEX_BUFFER_BIT |
			 VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
	};
	VkMemoryRequirements req;
	int type;

	VK(vkCreateBuffer(g->dev, &bci, NULL, &b->buf));
	vkGetBufferMemoryRequirements(g->dev, b->buf, &req);
	type = memory_type(g, req.memoryTypeBits, want,
			   VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	if (type < 0)
		type = memory_type(g, req.memoryTypeBits, want, 0);
	if (type < 0)
		type = memory_type(g, req.memoryTypeBits, HOST_COHERENT, 0);
	if (type < 0) {
		fprintf(stderr, "vknaive: no host-visible memory type\n");
		exit(1);
	}
	mai.allocationSize = req.size;
	mai.memoryTypeIndex = (uint32_t)type;
	VK(vkAllocateMemory(g->dev, &mai, NULL, &b->mem));
	VK(vkBindBufferMemory(g->dev, b->buf, b->mem, 0));
	VK(vkMapMemory(g->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map));
	b->size = size;
	e->allocations++;
}

static void host_buffer_free(struct engine *e, struct buffer *b)
{
	buffer_free(&e->gpu, b);
	e->allocations--;
}

static void retire(struct engine *e, int slot, struct buffer *b)
{
	struct retire_list *r = &e->retire[slot];

	if (r->n == MAX_RETIRE) {
		fprintf(stderr, "vknaive: retire list full\n");
		exit(1);
	}
	r->bufs[r->n++] = *b;
	memset(b, 0, sizeof(*b));
}

static void retire_all(struct engine *e, int slot)
{
	struct retire_list *r = &e->retire[slot];
	int i;

	for (i = 0; i < r->n; i++) {
		if (e->transient_bytes >= r->bufs[i].size)
			e->transient_bytes -= r->bufs[i].size;
		host_buffer_free(e, &r->bufs[i]);
	}
	r->n = 0;
}

/* A destination in device-local memory for size bytes (a ring). */
static VkDeviceSize heap_place(struct engine *e, VkDeviceSize size)
{
	VkDeviceSize at;

	if (size > DEVICE_HEAP)
		size = DEVICE_HEAP;
	if (e->heap_top + size > DEVICE_HEAP)
		e->heap_top = 0;
	at = e->heap_top;
	e->heap_top = (at + size + 255) & ~(VkDeviceSize)255;
	return at;
}

static void copy_to_heap(struct engine *e, VkCommandBuffer cmd,
			 struct buffer *src, VkDeviceSize size)
{
	VkBufferCopy c = { 0, 0, size < src->size ? size : src->size };

	c.dstOffset = heap_place(e, c.size);
	vkCmdCopyBuffer(cmd, src->buf, e->device_heap.buf, 1, &c);
}

static int load_asset(struct engine *e, VkCommandBuffer cmd, int slot)
{
	struct asset *a = NULL;
	VkDeviceSize size = asset_size(e);
	int i, start = (int)(next_random(e) % MAX_ASSETS);

	if (e->allocations + 64 >= e->max_allocations)
		return 0;
	for (i = 0; i < MAX_ASSETS && !a; i++)
		if (!e->assets[(start + i) % MAX_ASSETS].mesh.mem)
			a = &e->assets[(start + i) % MAX_ASSETS];
	if (!a)
		return 0;
	host_buffer(e, &a->mesh, size, HOST_COHERENT);
	memset(a->mesh.map, (int)(next_random(e) & 0xff), (size_t)size);
	e->live_bytes += size;
	e->nlive++;
	e->loads++;
	if (next_random(e) % 10 < 3) {
		struct buffer staging;
		VkDeviceSize tex = asset_size(e);

		host_buffer(e, &staging, tex, HOST_COHERENT);
		memset(staging.map, 0x5a, (size_t)tex);
		copy_to_heap(e, cmd, &staging, tex);
		e->transient_bytes += tex;
		e->stagings++;
		retire(e, slot, &staging);
	}
	note_peak(e);
	return 1;
}

static struct asset *random_live(struct engine *e)
{
	int i, start = (int)(next_random(e) % MAX_ASSETS);

	for (i = 0; i < MAX_ASSETS; i++)
		if (e->assets[(start + i) % MAX_ASSETS].mesh.mem)
			return &e->assets[(start + i) % MAX_ASSETS];
	return NULL;
}

/* Freed once the frames that may still read it are done. */
static void evict_asset(struct engine *e, struct asset *a, int slot)
{
	e->live_bytes -= a->mesh.size;
	e->transient_bytes += a->mesh.size;
	e->nlive--;
	e->evictions++;
	retire(e, slot, &a->mesh);
}

static void frame(struct engine *e, unsigned n, VkDeviceSize budget)
{
	struct gpu *g = &e->gpu;
	int slot = (int)(n % IN_FLIGHT);
	VkCommandBuffer cmd = e->cmd[slot];
	VkDeviceSize loaded = 0;
	int loads = 0, evicts = 0, nuniform, i;
	uint32_t churn;

	VK(vkWaitForFences(g->dev, 1, &e->fence[slot], VK_TRUE, UINT64_MAX));
	VK(vkResetFences(g->dev, 1, &e->fence[slot]));
	retire_all(e, slot);
	begin(cmd);

	while (e->live_bytes < budget && loads < LOADS_PER_FRAME &&
	       loaded < LOAD_BYTES_PER_FRAME) {
		VkDeviceSize before = e->live_bytes;

		if (!load_asset(e, cmd, slot))
			break;
		loaded += e->live_bytes - before;
		loads++;
	}
	while (e->live_bytes > budget && evicts < EVICTS_PER_FRAME) {
		evict_asset(e, random_live(e), slot);
		evicts++;
	}
	/* The player moves: a few assets out and a few in either way. */
	churn = next_random(e) % 4;
	for (i = 0; i < (int)churn && e->nlive > 16; i++)
		evict_asset(e, random_live(e), slot);
	churn = next_random(e) % 4;
	for (i = 0; i < (int)churn; i++)
		load_asset(e, cmd, slot);

	nuniform = 2 + (int)(next_random(e) % 5);
	for (i = 0; i < nuniform; i++) {
		struct buffer ubo;
		VkDeviceSize size = (4 + next_random(e) % 61) * KIB;

		host_buffer(e, &ubo, size, HOST_COHERENT);
		memset(ubo.map, (int)n, (size_t)size);
		copy_to_heap(e, cmd, &ubo, size);
		e->transient_bytes += size;
		e->uniforms++;
		retire(e, slot, &ubo);
	}
	for (i = 0; i < 8 && e->nlive > 0; i++)
		copy_to_heap(e, cmd, &random_live(e)->mesh, 64 * KIB);

	if (n % 100 == 99) {
		struct buffer shot;
		VkBufferCopy c = { 0, 0, SCREENSHOT_BYTES };

		host_buffer(e, &shot, SCREENSHOT_BYTES, HOST_CACHED);
		transfer_barrier(cmd);
		vkCmdCopyBuffer(cmd, e->device_heap.buf, shot.buf, 1, &c);
		e->transient_bytes += SCREENSHOT_BYTES;
		e->screenshots++;
		retire(e, slot, &shot);
	}
	note_peak(e);
	submit(g, cmd, e->fence[slot]);
}

int main(int argc, char **argv)
{
	static struct engine e;
	struct gpu *g = &e.gpu;
	unsigned frames = argc > 1 ? (unsigned)atoi(argv[1]) : 1200;
	unsigned n, per_area, area = 0;
	VkPhysicalDeviceProperties props;
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = IN_FLIGHT,
	};
	VkFenceCreateInfo fci = {
		.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
		.flags = VK_FENCE_CREATE_SIGNALED_BIT,
	};
	char name[32];
	int i;

	if (frames < AREAS)
		frames = AREAS;
	per_area = frames / AREAS;
	e.rng = 0x4a1e5u;
	marker_open();
	phase("init");
	gpu_open(g, "vknaive");
	vkGetPhysicalDeviceProperties(g->phys, &props);
	e.max_allocations = props.limits.maxMemoryAllocationCount;
	printf("maxMemoryAllocationCount %u\n", e.max_allocations);
	cai.commandPool = g->pool;
	VK(vkAllocateCommandBuffers(g->dev, &cai, e.cmd));
	for (i = 0; i < IN_FLIGHT; i++)
		VK(vkCreateFence(g->dev, &fci, NULL, &e.fence[i]));
	buffer_make(g, &e.device_heap, DEVICE_HEAP,
		    VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
		    VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		    VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);

	for (n = 0; n < frames; n++) {
		if (n % per_area == 0 && area < AREAS) {
			snprintf(name, sizeof(name), "area%u_%lluM", area,
				 (unsigned long long)(area_budget[area] / MIB));
			phase(name);
			area++;
		}
		frame(&e, n, area_budget[area - 1]);
		if (n % 50 == 49)
			printf("frame %u: %d assets, %llu MiB live, %llu MiB in flight, %u allocations\n",
			       n + 1, e.nlive,
			       (unsigned long long)(e.live_bytes / MIB),
			       (unsigned long long)(e.transient_bytes / MIB),
			       e.allocations);
	}

	phase("teardown");
	VK(vkDeviceWaitIdle(g->dev));
	for (i = 0; i < IN_FLIGHT; i++)
		retire_all(&e, i);
	for (i = 0; i < MAX_ASSETS; i++)
		if (e.assets[i].mesh.mem)
			host_buffer_free(&e, &e.assets[i].mesh);
	buffer_free(g, &e.device_heap);
	for (i = 0; i < IN_FLIGHT; i++)
		vkDestroyFence(g->dev, e.fence[i], NULL);
	vkDestroyCommandPool(g->dev, g->pool, NULL);
	vkDestroyDevice(g->dev, NULL);
	vkDestroyInstance(g->instance, NULL);
	printf("vknaive: %u frames, %lu assets loaded, %lu evicted, %lu stagings, %lu uniform buffers, %lu screenshots, peak %llu MiB host-visible\n",
	       frames, e.loads, e.evictions, e.stagings, e.uniforms,
	       e.screenshots, (unsigned long long)(e.peak_bytes / MIB));
	return 0;
}
