// SPDX-License-Identifier: MIT
/*
 * vkimport: a headless Vulkan program that brings its own host memory
 * (VK_EXT_external_memory_host), the way emulators and some engines do
 * (transfer work only, no shaders), to see what the driver maps for DMA
 * when the application, not the driver, allocates the pages and imports
 * the same pages more than once.
 *
 *   vkimport [FRAMES]     default 1500
 *
 * Exits with status 2 when the device does not offer the extension.
 * An emulator's guest RAM, a private anonymous mapping of 1 GiB, is
 * imported in pieces as the emulated GPU uses them: its first 256 MiB
 * (the emulated video memory) whole for the run, and windows of 64 KiB
 * to 16 MiB at 64 KiB-aligned random offsets, log-uniform by octave, many
 * overlapping each other and the video memory, so the same pages are
 * imported several times at once; a random window is dropped when more
 * than the cap are live (128, then 320 after a reset). 24 long-lived
 * buffers of 1 to 64 MiB from posix_memalign are imported once. Each
 * frame imports two to six fresh malloc'd buffers of 4 KiB to 1 MiB and
 * re-imports one of eight recycled 2 MiB host buffers (the same pages
 * again, a new VkDeviceMemory each time), copies from them into
 * device-local memory and frees the imports (and the malloc'd memory)
 * when its fence signals; every tenth frame imports a malloc'd 4 MiB
 * buffer as a copy destination (a readback). Three frames in flight.
 * Halfway, a reset of the emulated machine: every guest window and the
 * video memory import are freed, the guest RAM unmapped and mapped again
 * (new pages). Seeded. Writes "PHASE name" to $PVDMA_TRACE_MARKER.
 *
 * Build: cc -std=c11 -O2 -o vkimport vkimport.c -lvulkan
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <vulkan/vulkan.h>

#include "phase.h"
#include "vkgpu.h"

#define KIB ((VkDeviceSize)1 << 10)
#define MIB ((VkDeviceSize)1 << 20)
#define IN_FLIGHT 3
#define GUEST_RAM (1024 * MIB)
#define GUEST_VRAM (256 * MIB)
#define GUEST_PAGE (64 * KIB)
#define MAX_WINDOWS 512
#define LONG_LIVED 24
#define RECYCLED 8
#define RECYCLED_BYTES (2 * MIB)
#define READBACK_BYTES (4 * MIB)
#define MAX_RETIRE 64
#define DEVICE_HEAP (256 * MIB)

/* One import: its buffer, its memory and, for malloc'd memory freed with
 * it, the host pointer to free afterwards. */
struct import {
	VkBuffer buf;
	VkDeviceMemory mem;
	VkDeviceSize size;	/* the buffer's */
	VkDeviceSize bytes;	/* the import's */
	void *host;
	void *owned;
};

struct retire_list {
	struct import imports[MAX_RETIRE];
	int n;
};

struct app {
	struct gpu gpu;
	PFN_vkGetMemoryHostPointerPropertiesEXT host_pointer_properties;
	VkDeviceSize align;
	char *guest;
	struct import vram;
	struct import windows[MAX_WINDOWS];
	int nwindows, window_cap;
	struct import long_lived[LONG_LIVED];
	void *recycled[RECYCLED];
	struct retire_list retire[IN_FLIGHT];
	VkCommandBuffer cmd[IN_FLIGHT];
	VkFence fence[IN_FLIGHT];
	struct buffer device_heap;
	VkDeviceSize heap_top;
	VkDeviceSize imported_bytes, peak_bytes;
	unsigned long imports, window_imports;
	uint32_t rng;
};

static uint32_t next_random(struct app *a)
{
	a->rng = a->rng * 1664525u + 1013904223u;
	return a->rng >> 8;
}

static VkDeviceSize round_up(VkDeviceSize n, VkDeviceSize to)
{
	return (n + to - 1) / to * to;
}

/* lo << 0 .. lo << octaves: a random octave, then linear within it. */
static VkDeviceSize octave_size(struct app *a, VkDeviceSize lo,
				unsigned octaves)
{
	VkDeviceSize base = lo << (next_random(a) % octaves);

	return base + base * (next_random(a) % 4096) / 4096;
}

static int has_extension(VkPhysicalDevice phys, const char *name)
{
	VkExtensionProperties *props;
	uint32_t n = 0, i;
	int found = 0;

	VK(vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL));
	props = calloc(n ? n : 1, sizeof(*props));
	if (!props)
		exit(1);
	VK(vkEnumerateDeviceExtensionProperties(phys, NULL, &n, props));
	for (i = 0; i < n; i++)
		if (!strcmp(props[i].extensionName, name))
			found = 1;
	free(props);
	return found;
}

/* Whether the first device offers host-pointer imports, before a device
 * is made (the set-up exits on a missing extension). */
static int probe(void)
{
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.apiVersion = VK_API_VERSION_1_1,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkInstance instance;
	VkPhysicalDevice phys;
	uint32_t ndev = 1;
	VkResult res;
	int found = 0;

	VK(vkCreateInstance(&ici, NULL, &instance));
	res = vkEnumeratePhysicalDevices(instance, &ndev, &phys);
	if ((res == VK_SUCCESS || res == VK_INCOMPLETE) && ndev > 0)
		found = has_extension(phys,
				      VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
	vkDestroyInstance(instance, NULL);
	return found;
}

static void note_bytes(struct app *a, VkDeviceSize add, VkDeviceSize sub)
{
	a->imported_bytes += add;
	a->imported_bytes -= sub;
	if (a->imported_bytes > a->peak_bytes)
		a->peak_bytes = a->imported_bytes;
}

/* Import size bytes at host (both aligned) as a transfer buffer. */
static void import_host(struct app *a, struct import *im, void *host,
			VkDeviceSize size, void *owned)
{
	struct gpu *g = &a->gpu;
	VkExternalMemoryBufferCreateInfo ebci = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
	};
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.pNext = &ebci,
		.size = size,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
			 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
	};
	VkMemoryHostPointerPropertiesEXT hpp = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT,
	};
	VkImportMemoryHostPointerInfoEXT imp = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
		.pHostPointer = host,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = &imp,
		.allocationSize = size,
	};
	VkMemoryRequirements req;
	int type;

	VK(a->host_pointer_properties(g->dev,
		VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, host,
		&hpp));
	VK(vkCreateBuffer(g->dev, &bci, NULL, &im->buf));
	vkGetBufferMemoryRequirements(g->dev, im->buf, &req);
	if (req.size > size) {
		/* The buffer must fit the import: a smaller buffer over it. */
		vkDestroyBuffer(g->dev, im->buf, NULL);
		bci.size = size - req.alignment;
		VK(vkCreateBuffer(g->dev, &bci, NULL, &im->buf));
		vkGetBufferMemoryRequirements(g->dev, im->buf, &req);
	}
	type = memory_type(g, req.memoryTypeBits & hpp.memoryTypeBits,
			   VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, 0);
	if (type < 0)
		type = memory_type(g, req.memoryTypeBits & hpp.memoryTypeBits,
				   0, 0);
	if (type < 0) {
		fprintf(stderr, "vkimport: no memory type for an import (0x%x, 0x%x)\n",
			req.memoryTypeBits, hpp.memoryTypeBits);
		exit(1);
	}
	mai.memoryTypeIndex = (uint32_t)type;
	VK(vkAllocateMemory(g->dev, &mai, NULL, &im->mem));
	VK(vkBindBufferMemory(g->dev, im->buf, im->mem, 0));
	im->size = bci.size;
	im->bytes = size;
	im->host = host;
	im->owned = owned;
	a->imports++;
	note_bytes(a, size, 0);
}

static void import_free(struct app *a, struct import *im)
{
	if (!im->mem)
		return;
	vkDestroyBuffer(a->gpu.dev, im->buf, NULL);
	vkFreeMemory(a->gpu.dev, im->mem, NULL);
	note_bytes(a, 0, im->bytes);
	free(im->owned);
	memset(im, 0, sizeof(*im));
}

/* Fresh host memory of size bytes (rounded to the import alignment),
 * written, imported and freed with the import. */
static void import_fresh(struct app *a, struct import *im, VkDeviceSize size)
{
	void *p;

	size = round_up(size, a->align);
	if (posix_memalign(&p, (size_t)a->align, (size_t)size))
		exit(1);
	memset(p, (int)(next_random(a) & 0xff), (size_t)size);
	import_host(a, im, p, size, p);
}

static void retire(struct app *a, int slot, struct import *im)
{
	struct retire_list *r = &a->retire[slot];

	if (r->n == MAX_RETIRE) {
		fprintf(stderr, "vkimport: retire list full\n");
		exit(1);
	}
	r->imports[r->n++] = *im;
	memset(im, 0, sizeof(*im));
}

static void retire_all(struct app *a, int slot)
{
	struct retire_list *r = &a->retire[slot];
	int i;

	for (i = 0; i < r->n; i++)
		import_free(a, &r->imports[i]);
	r->n = 0;
}

static void copy_to_heap(struct app *a, VkCommandBuffer cmd,
			 struct import *src, VkDeviceSize size)
{
	VkBufferCopy c = { 0, 0, size < src->size ? size : src->size };

	if (a->heap_top + c.size > DEVICE_HEAP)
		a->heap_top = 0;
	c.dstOffset = a->heap_top;
	a->heap_top = round_up(a->heap_top + c.size, 256);
	vkCmdCopyBuffer(cmd, src->buf, a->device_heap.buf, 1, &c);
}

static void guest_map(struct app *a)
{
	a->guest = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->guest == MAP_FAILED) {
		perror("vkimport: mmap");
		exit(1);
	}
	memset(a->guest, 0x11, GUEST_RAM);
	import_host(a, &a->vram, a->guest, GUEST_VRAM, NULL);
}

/* A window of guest RAM the emulated GPU touches, imported again even
 * where another live import already covers its pages. */
static void window_import(struct app *a, VkCommandBuffer cmd)
{
	VkDeviceSize size = round_up(octave_size(a, 64 * KIB, 8), GUEST_PAGE);
	VkDeviceSize at = (VkDeviceSize)(next_random(a) %
		(uint32_t)((GUEST_RAM - size) / GUEST_PAGE)) * GUEST_PAGE;
	int i;

	for (i = 0; i < MAX_WINDOWS; i++)
		if (!a->windows[i].mem)
			break;
	if (i == MAX_WINDOWS)
		return;
	a->guest[at] ^= 1;
	import_host(a, &a->windows[i], a->guest + at, size, NULL);
	copy_to_heap(a, cmd, &a->windows[i], 256 * KIB);
	a->nwindows++;
	a->window_imports++;
}

static void window_drop(struct app *a, int slot)
{
	int i, start = (int)(next_random(a) % MAX_WINDOWS);

	for (i = 0; i < MAX_WINDOWS; i++) {
		struct import *w = &a->windows[(start + i) % MAX_WINDOWS];

		if (w->mem) {
			retire(a, slot, w);
			a->nwindows--;
			return;
		}
	}
}

static void frame(struct app *a, unsigned n)
{
	struct gpu *g = &a->gpu;
	int slot = (int)(n % IN_FLIGHT);
	VkCommandBuffer cmd = a->cmd[slot];
	struct import im;
	int i, fresh;

	VK(vkWaitForFences(g->dev, 1, &a->fence[slot], VK_TRUE, UINT64_MAX));
	VK(vkResetFences(g->dev, 1, &a->fence[slot]));
	retire_all(a, slot);
	begin(cmd);

	for (i = (int)(next_random(a) % 4); i > 0; i--)
		window_import(a, cmd);
	while (a->nwindows > a->window_cap)
		window_drop(a, slot);
	if (a->nwindows > 0 && next_random(a) % 4 == 0)
		window_drop(a, slot);

	fresh = 2 + (int)(next_random(a) % 5);
	for (i = 0; i < fresh; i++) {
		import_fresh(a, &im, octave_size(a, 4 * KIB, 8));
		copy_to_heap(a, cmd, &im, im.size);
		retire(a, slot, &im);
	}
	{
		char *p = a->recycled[next_random(a) % RECYCLED];

		memset(p, (int)n, 4096);
		import_host(a, &im, p, RECYCLED_BYTES, NULL);
		copy_to_heap(a, cmd, &im, RECYCLED_BYTES);
		retire(a, slot, &im);
	}
	for (i = 0; i < 4; i++)
		copy_to_heap(a, cmd, &a->long_lived[next_random(a) % LONG_LIVED],
			     512 * KIB);
	if (n % 10 == 9) {
		VkBufferCopy c = { 0, 0, READBACK_BYTES };

		import_fresh(a, &im, READBACK_BYTES);
		c.size = im.size;
		transfer_barrier(cmd);
		vkCmdCopyBuffer(cmd, a->device_heap.buf, im.buf, 1, &c);
		retire(a, slot, &im);
	}
	submit(g, cmd, a->fence[slot]);
}

int main(int argc, char **argv)
{
	static struct app a;
	static const char *const extensions[] = {
		VK_KHR_EXTERNAL_MEMORY_EXTENSION_NAME,
		VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME,
	};
	struct gpu *g = &a.gpu;
	unsigned frames = argc > 1 ? (unsigned)atoi(argv[1]) : 1500;
	VkPhysicalDeviceExternalMemoryHostPropertiesEXT hostprops = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT,
	};
	VkPhysicalDeviceProperties2 props2 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
		.pNext = &hostprops,
	};
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = IN_FLIGHT,
	};
	VkFenceCreateInfo fci = {
		.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
		.flags = VK_FENCE_CREATE_SIGNALED_BIT,
	};
	unsigned n;
	int i;

	a.rng = 0x1f9027u;
	marker_open();
	phase("init");
	if (!probe()) {
		fprintf(stderr, "vkimport: the device does not offer %s\n",
			VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
		return 2;
	}
	gpu_open_with(g, "vkimport", extensions, 2);
	vkGetPhysicalDeviceProperties2(g->phys, &props2);
	a.align = hostprops.minImportedHostPointerAlignment;
	if (a.align < 4096)
		a.align = 4096;
	printf("minImportedHostPointerAlignment %llu\n",
	       (unsigned long long)hostprops.minImportedHostPointerAlignment);
	if (GUEST_PAGE % a.align) {
		fprintf(stderr, "vkimport: alignment %llu over a guest page\n",
			(unsigned long long)a.align);
		return 1;
	}
	a.host_pointer_properties = (PFN_vkGetMemoryHostPointerPropertiesEXT)
		vkGetDeviceProcAddr(g->dev, "vkGetMemoryHostPointerPropertiesEXT");
	if (!a.host_pointer_properties) {
		fprintf(stderr, "vkimport: no vkGetMemoryHostPointerPropertiesEXT\n");
		return 1;
	}
	cai.commandPool = g->pool;
	VK(vkAllocateCommandBuffers(g->dev, &cai, a.cmd));
	for (i = 0; i < IN_FLIGHT; i++)
		VK(vkCreateFence(g->dev, &fci, NULL, &a.fence[i]));
	buffer_make(g, &a.device_heap, DEVICE_HEAP,
		    VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
		    VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		    VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);

	phase("long_lived");
	for (i = 0; i < LONG_LIVED; i++)
		import_fresh(&a, &a.long_lived[i], octave_size(&a, MIB, 6));
	for (i = 0; i < RECYCLED; i++) {
		if (posix_memalign(&a.recycled[i], (size_t)a.align,
				   RECYCLED_BYTES))
			exit(1);
		memset(a.recycled[i], i, RECYCLED_BYTES);
	}
	guest_map(&a);

	phase("frames");
	a.window_cap = 128;
	for (n = 0; n < frames; n++) {
		if (n == frames / 2) {
			phase("reset");
			VK(vkDeviceWaitIdle(g->dev));
			for (i = 0; i < IN_FLIGHT; i++)
				retire_all(&a, i);
			for (i = 0; i < MAX_WINDOWS; i++)
				import_free(&a, &a.windows[i]);
			a.nwindows = 0;
			import_free(&a, &a.vram);
			munmap(a.guest, GUEST_RAM);
			guest_map(&a);
			a.window_cap = 320;
			phase("frames2");
		}
		frame(&a, n);
		if (n % 100 == 99)
			printf("frame %u: %d windows, %llu MiB imported\n", n + 1,
			       a.nwindows,
			       (unsigned long long)(a.imported_bytes / MIB));
	}

	phase("teardown");
	VK(vkDeviceWaitIdle(g->dev));
	for (i = 0; i < IN_FLIGHT; i++)
		retire_all(&a, i);
	for (i = 0; i < MAX_WINDOWS; i++)
		import_free(&a, &a.windows[i]);
	import_free(&a, &a.vram);
	for (i = 0; i < LONG_LIVED; i++)
		import_free(&a, &a.long_lived[i]);
	buffer_free(g, &a.device_heap);
	for (i = 0; i < IN_FLIGHT; i++)
		vkDestroyFence(g->dev, a.fence[i], NULL);
	vkDestroyCommandPool(g->dev, g->pool, NULL);
	vkDestroyDevice(g->dev, NULL);
	vkDestroyInstance(g->instance, NULL);
	munmap(a.guest, GUEST_RAM);
	for (i = 0; i < RECYCLED; i++)
		free(a.recycled[i]);
	printf("vkimport: %u frames, %lu imports (%lu guest windows), peak %llu MiB imported\n",
	       frames, a.imports, a.window_imports,
	       (unsigned long long)(a.peak_bytes / MIB));
	return 0;
}
