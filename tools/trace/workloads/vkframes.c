// SPDX-License-Identifier: MIT
/*
 * vkframes: a headless Vulkan frame loop shaped like a game's renderer
 * (transfer work only, no shaders), to see what a Vulkan driver maps for
 * DMA when an engine allocates the naive way.
 *
 *   vkframes [FRAMES]     default 600
 *
 * Every scene object owns its own small host-visible allocation (one
 * vkAllocateMemory of 4 to 64 KiB each, persistently mapped, about 1500
 * of them), and a few objects are destroyed and spawned every frame.
 * Three frames are in flight, each with its own command buffer, fence,
 * host-visible staging ring and host-cached readback buffer; the texture
 * tiles streamed per frame grow over the run, and a ring too small for a
 * frame is freed and allocated again at twice the size. Tiles are copied
 * into device-local textures (vkCmdCopyBufferToImage), a render target is
 * cleared and copied back every frame. Halfway through, a window resize:
 * every frame resource, the render target, the textures and half of the
 * objects are destroyed and made again at the new size.
 * Writes "PHASE name" to $PVDMA_TRACE_MARKER.
 *
 * Build: cc -std=c11 -O2 -o vkframes vkframes.c -lvulkan
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "vkgpu.h"

#define KIB ((VkDeviceSize)1 << 10)
#define MIB ((VkDeviceSize)1 << 20)
#define IN_FLIGHT 3
#define MAX_OBJECTS 2048
#define MAX_TEXTURES 48
#define TEX_SIZE 1024u
#define TILE 256u
#define TILE_BYTES ((VkDeviceSize)TILE * TILE * 4)
#define SPAWNS_PER_FRAME 6

struct image {
	VkImage img;
	VkDeviceMemory mem;
	uint32_t width, height;
};

struct frame {
	VkCommandBuffer cmd;
	VkFence fence;
	struct buffer staging;
	struct buffer readback;
	/* Objects destroyed while this frame was recorded: freed once its
	 * fence says every earlier submission is done with them. */
	struct buffer graveyard[SPAWNS_PER_FRAME];
	int dead;
	int submitted;
};

struct scene {
	struct buffer objects[MAX_OBJECTS];
	int nobjects;
	struct image textures[MAX_TEXTURES];
	int ntextures;
	struct image target;
	struct buffer constants;
	struct frame frames[IN_FLIGHT];
};

struct loop {
	struct gpu *gpu;
	struct scene scene;
	uint32_t rng;
	int marker_fd;
	unsigned ring_growths;
	uint64_t checksum;
};

static void phase(struct loop *l, const char *name)
{
	char line[128];
	int n;

	printf("phase %s\n", name);
	fflush(stdout);
	if (l->marker_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "PHASE %s\n", name);
	if (write(l->marker_fd, line, (size_t)n) < 0)
		perror("trace_marker");
}

static uint32_t next_random(struct loop *l)
{
	l->rng = l->rng * 1664525u + 1013904223u;
	return l->rng >> 8;
}

static void image_make(struct gpu *g, struct image *im, uint32_t w, uint32_t h)
{
	VkImageCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = VK_FORMAT_R8G8B8A8_UNORM,
		.extent = { w, h, 1 },
		.mipLevels = 1,
		.arrayLayers = 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_OPTIMAL,
		.usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT |
			 VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
			 VK_IMAGE_USAGE_SAMPLED_BIT,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	VkMemoryRequirements req;

	VK(vkCreateImage(g->dev, &ici, NULL, &im->img));
	vkGetImageMemoryRequirements(g->dev, im->img, &req);
	im->mem = allocate(g, &req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
	VK(vkBindImageMemory(g->dev, im->img, im->mem, 0));
	im->width = w;
	im->height = h;
}

static void image_free(struct gpu *g, struct image *im)
{
	vkDestroyImage(g->dev, im->img, NULL);
	vkFreeMemory(g->dev, im->mem, NULL);
}

static void object_spawn(struct loop *l, struct buffer *obj)
{
	VkDeviceSize size = (4 + next_random(l) % 61) * KIB;

	buffer_make(l->gpu, obj, size, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |
		    VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
	memset(obj->map, (int)next_random(l), (size_t)size);
}

static void frame_make(struct gpu *g, struct frame *f, struct image *target)
{
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = g->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };

	VK(vkAllocateCommandBuffers(g->dev, &cai, &f->cmd));
	VK(vkCreateFence(g->dev, &fci, NULL, &f->fence));
	buffer_make(g, &f->staging, MIB, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
	buffer_make(g, &f->readback,
		    (VkDeviceSize)target->width * target->height * 4,
		    VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		    VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
	f->submitted = 0;
}

static void frame_wait(struct gpu *g, struct frame *f)
{
	if (f->submitted) {
		VK(vkWaitForFences(g->dev, 1, &f->fence, VK_TRUE, UINT64_MAX));
		VK(vkResetFences(g->dev, 1, &f->fence));
		f->submitted = 0;
	}
	while (f->dead > 0)
		buffer_free(g, &f->graveyard[--f->dead]);
}

static void frame_free(struct gpu *g, struct frame *f)
{
	frame_wait(g, f);
	buffer_free(g, &f->staging);
	buffer_free(g, &f->readback);
	vkDestroyFence(g->dev, f->fence, NULL);
	vkFreeCommandBuffers(g->dev, g->pool, 1, &f->cmd);
}

/* Everything a resolution and a level own, made in one submission. */
static void scene_build(struct loop *l, uint32_t width, uint32_t height,
			int ntextures)
{
	struct gpu *g = l->gpu;
	struct scene *s = &l->scene;
	struct frame *f = &s->frames[0];
	int i;

	image_make(g, &s->target, width, height);
	s->ntextures = ntextures;
	for (i = 0; i < ntextures; i++)
		image_make(g, &s->textures[i], TEX_SIZE, TEX_SIZE);
	while (s->nobjects < MAX_OBJECTS * 3 / 4)
		object_spawn(l, &s->objects[s->nobjects++]);
	buffer_make(g, &s->constants, 4 * MIB, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		    VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
	for (i = 0; i < IN_FLIGHT; i++)
		frame_make(g, &s->frames[i], &s->target);
	begin(f->cmd);
	to_general(f->cmd, s->target.img);
	for (i = 0; i < ntextures; i++)
		to_general(f->cmd, s->textures[i].img);
	submit(g, f->cmd, f->fence);
	f->submitted = 1;
	frame_wait(g, f);
}

/* A window resize: frame resources, target and textures go, with half
 * of the objects. */
static void scene_teardown(struct loop *l, int keep_objects)
{
	struct gpu *g = l->gpu;
	struct scene *s = &l->scene;
	int i;

	for (i = 0; i < IN_FLIGHT; i++)
		frame_free(g, &s->frames[i]);
	VK(vkDeviceWaitIdle(g->dev));
	image_free(g, &s->target);
	for (i = 0; i < s->ntextures; i++)
		image_free(g, &s->textures[i]);
	buffer_free(g, &s->constants);
	while (s->nobjects > keep_objects)
		buffer_free(g, &s->objects[--s->nobjects]);
}

/* The ring is replaced by one twice as large until the frame fits. */
static void staging_reserve(struct loop *l, struct frame *f, VkDeviceSize need)
{
	VkDeviceSize size = f->staging.size;

	if (need <= size)
		return;
	while (size < need)
		size *= 2;
	buffer_free(l->gpu, &f->staging);
	buffer_make(l->gpu, &f->staging, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
	l->ring_growths++;
}

/* Objects despawn into the frame's graveyard and new ones take their
 * slots. */
static void objects_churn(struct loop *l, struct frame *f)
{
	struct scene *s = &l->scene;

	while (f->dead < SPAWNS_PER_FRAME) {
		int k = (int)(next_random(l) % (uint32_t)s->nobjects);

		f->graveyard[f->dead++] = s->objects[k];
		object_spawn(l, &s->objects[k]);
	}
}

static void record_frame(struct loop *l, struct frame *f, int n)
{
	struct scene *s = &l->scene;
	unsigned tiles = 2 + (unsigned)n / 8, t;
	VkClearColorValue clear = { .float32 = { 0.1f, 0.2f, 0.3f, 1.0f } };
	VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
	VkBufferImageCopy back = {
		.imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
		.imageExtent = { s->target.width, s->target.height, 1 },
	};
	VkDeviceSize at = 0;
	int i;

	staging_reserve(l, f, tiles * TILE_BYTES);
	begin(f->cmd);
	for (t = 0; t < tiles; t++, at += TILE_BYTES) {
		VkBufferImageCopy c = {
			.bufferOffset = at,
			.imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
			.imageOffset = { (int32_t)(next_random(l) % 4 * TILE),
					 (int32_t)(next_random(l) % 4 * TILE), 0 },
			.imageExtent = { TILE, TILE, 1 },
		};
		struct image *tex = &s->textures[next_random(l) %
						 (uint32_t)s->ntextures];

		memset((char *)f->staging.map + at, n + (int)t, TILE_BYTES);
		vkCmdCopyBufferToImage(f->cmd, f->staging.buf, tex->img,
				       VK_IMAGE_LAYOUT_GENERAL, 1, &c);
	}
	for (i = 0; i < 32; i++) {
		struct buffer *obj = &s->objects[next_random(l) %
						 (uint32_t)s->nobjects];
		VkBufferCopy c = { 0, (VkDeviceSize)i * 64 * KIB, obj->size };

		memset(obj->map, n, 256);
		vkCmdCopyBuffer(f->cmd, obj->buf, s->constants.buf, 1, &c);
	}
	vkCmdClearColorImage(f->cmd, s->target.img, VK_IMAGE_LAYOUT_GENERAL,
			     &clear, 1, &range);
	transfer_barrier(f->cmd);
	vkCmdCopyImageToBuffer(f->cmd, s->target.img, VK_IMAGE_LAYOUT_GENERAL,
			       f->readback.buf, 1, &back);
}

static void run_frames(struct loop *l, int first, int count)
{
	struct scene *s = &l->scene;
	int n;

	for (n = first; n < first + count; n++) {
		struct frame *f = &s->frames[n % IN_FLIGHT];

		frame_wait(l->gpu, f);
		if (n >= IN_FLIGHT)
			l->checksum += ((unsigned char *)f->readback.map)[n];
		objects_churn(l, f);
		record_frame(l, f, n - first);
		submit(l->gpu, f->cmd, f->fence);
		f->submitted = 1;
	}
	for (n = 0; n < IN_FLIGHT; n++)
		frame_wait(l->gpu, &s->frames[n]);
}

int main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : 600;
	const char *marker = getenv("PVDMA_TRACE_MARKER");
	static struct gpu gpu;
	static struct loop l;

	if (frames < 2 * IN_FLIGHT || frames > 100000) {
		fprintf(stderr, "usage: vkframes [FRAMES]\n");
		return 2;
	}
	l.gpu = &gpu;
	l.rng = 600;
	l.marker_fd = marker && *marker ? open(marker, O_WRONLY) : -1;
	phase(&l, "init");
	gpu_open(&gpu, "vkframes");
	phase(&l, "build");
	scene_build(&l, 1920, 1080, 32);
	phase(&l, "frames");
	run_frames(&l, 0, frames / 2);
	phase(&l, "resize");
	scene_teardown(&l, l.scene.nobjects / 2);
	scene_build(&l, 2560, 1440, MAX_TEXTURES);
	phase(&l, "frames2");
	run_frames(&l, frames / 2, frames - frames / 2);
	phase(&l, "teardown");
	scene_teardown(&l, 0);
	vkDestroyCommandPool(gpu.dev, gpu.pool, NULL);
	vkDestroyDevice(gpu.dev, NULL);
	vkDestroyInstance(gpu.instance, NULL);
	printf("vkframes: %d frames, %u ring growths, checksum %llu\n", frames,
	       l.ring_growths, (unsigned long long)l.checksum);
	phase(&l, "end");
	return 0;
}
