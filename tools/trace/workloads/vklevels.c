// SPDX-License-Identifier: MIT
/*
 * vklevels: a headless Vulkan level streamer shaped like a game on a
 * VMA-style allocator (transfer work only, no shaders), to see what the
 * driver maps for DMA when host-visible memory comes in large blocks that
 * are sub-allocated, rather than one allocation per object (vkframes).
 *
 *   vklevels [FRAMES_PER_LEVEL]     default 250
 *
 * Host-visible, host-coherent memory is allocated in blocks of 64, 128 or
 * 256 MiB (each new block twice the largest one live, VMA's progression),
 * persistently mapped and sub-allocated linearly; a block whose
 * sub-allocations are all freed is given back unless it is the only empty
 * one (VMA keeps one). A small UI atlas allocated first lives for the
 * whole run. Four levels are played in turn. Loading a level stages
 * a few hundred textures of 64x64 to 2048x2048 (RGBA8, random sizes,
 * 0.5 to 1.75 GiB a level) through staging sub-allocations, memcpy then
 * vkCmdCopyBufferToImage into device-local images, submitted in batches
 * (the staging of a batch freed when its fence signals) or, for the
 * largest level, all at once behind a loading screen (over 1.5 GiB of
 * host-visible memory live); persistent dynamic-mesh data of the level is
 * sub-allocated from the same blocks between the textures, so some
 * staging blocks stay pinned by it. Then FRAMES_PER_LEVEL frames, three in
 * flight, each writing its slice of a per-frame ring of uniform and vertex
 * data in host-visible memory and copying it to a device-local buffer,
 * every fourth frame streaming a few texture tiles through short-lived
 * staging sub-allocations. A level change frees everything of the level
 * (most blocks go) and the next level allocates new ones. Seeded.
 * Writes "PHASE name" to $PVDMA_TRACE_MARKER.
 *
 * Build: cc -std=c11 -O2 -o vklevels vklevels.c -lvulkan
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "phase.h"
#include "vkgpu.h"

#define KIB ((VkDeviceSize)1 << 10)
#define MIB ((VkDeviceSize)1 << 20)
#define IN_FLIGHT 3
#define MAX_BLOCKS 64
#define MAX_TEXTURES 1024
#define MAX_MESHES 64
#define MAX_BATCH 1024
#define MIN_BLOCK (64 * MIB)
#define MAX_BLOCK (256 * MIB)
#define SUBALLOC_ALIGN 256
#define TILE 128u
#define TILE_BYTES ((VkDeviceSize)TILE * TILE * 4)
#define TILES_PER_STREAM 3

/* One vkAllocateMemory of the pool, mapped for its whole life, with one
 * buffer over all of it that copies read from at sub-allocation offsets. */
struct block {
	struct buffer b;
	VkDeviceSize top;	/* linear allocator: the next free byte */
	int live;		/* sub-allocations not yet freed */
};

struct pool {
	struct gpu *gpu;
	struct block *blocks[MAX_BLOCKS];
	VkDeviceSize bytes, peak_bytes;
	unsigned made, given_back;
};

struct suballoc {
	struct block *block;
	VkDeviceSize offset, size;
};

static uint32_t rng = 0x1e7e1u;

static uint32_t next_random(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

#define HOST_COHERENT (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | \
		       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)

static struct block *block_make(struct pool *p, VkDeviceSize need)
{
	VkDeviceSize size = MIN_BLOCK, largest = 0;
	struct block *blk;
	int i, slot = -1;

	for (i = 0; i < MAX_BLOCKS; i++) {
		if (!p->blocks[i]) {
			if (slot < 0)
				slot = i;
		} else if (p->blocks[i]->b.size > largest) {
			largest = p->blocks[i]->b.size;
		}
	}
	if (slot < 0) {
		fprintf(stderr, "vklevels: out of block slots\n");
		exit(1);
	}
	/* VMA's progression: twice the largest block live, 64 to 256 MiB. */
	if (largest * 2 > size)
		size = largest * 2 < MAX_BLOCK ? largest * 2 : MAX_BLOCK;
	while (size < need)
		size *= 2;
	blk = calloc(1, sizeof(*blk));
	if (!blk)
		exit(1);
	buffer_make(p->gpu, &blk->b, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
		    VK_BUFFER_USAGE_TRANSFER_DST_BIT |
		    VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |
		    VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, HOST_COHERENT, 0);
	p->blocks[slot] = blk;
	p->bytes += size;
	if (p->bytes > p->peak_bytes)
		p->peak_bytes = p->bytes;
	p->made++;
	return blk;
}

static struct suballoc pool_alloc(struct pool *p, VkDeviceSize size)
{
	struct suballoc a = { NULL, 0, size };
	int i;

	for (i = 0; i < MAX_BLOCKS && !a.block; i++) {
		struct block *blk = p->blocks[i];
		VkDeviceSize at;

		if (!blk)
			continue;
		at = (blk->top + SUBALLOC_ALIGN - 1) & ~(VkDeviceSize)(SUBALLOC_ALIGN - 1);
		if (at + size <= blk->b.size) {
			a.block = blk;
			a.offset = at;
		}
	}
	if (!a.block) {
		a.block = block_make(p, size);
		a.offset = 0;
	}
	a.block->top = a.offset + size;
	a.block->live++;
	return a;
}

static void block_give_back(struct pool *p, int i)
{
	struct block *blk = p->blocks[i];

	p->bytes -= blk->b.size;
	buffer_free(p->gpu, &blk->b);
	free(blk);
	p->blocks[i] = NULL;
	p->given_back++;
}

/* A block left empty is reset; it is given back if another empty block
 * is already kept. */
static void pool_free(struct pool *p, struct suballoc *a)
{
	struct block *blk = a->block;
	int i, self = -1, other_empty = 0;

	if (!blk)
		return;
	a->block = NULL;
	if (--blk->live > 0)
		return;
	blk->top = 0;
	for (i = 0; i < MAX_BLOCKS; i++) {
		if (p->blocks[i] == blk)
			self = i;
		else if (p->blocks[i] && p->blocks[i]->live == 0)
			other_empty = 1;
	}
	if (other_empty)
		block_give_back(p, self);
}

static void *suballoc_map(struct suballoc *a)
{
	return (char *)a->block->b.map + a->offset;
}

struct texture {
	VkImage img;
	VkDeviceMemory mem;
	uint32_t width, height;
};

static uint32_t texture_side(void)
{
	/* 64 to 2048, the middle sizes most common */
	static const uint32_t sides[] = { 64, 128, 256, 256, 512, 512, 512,
					  1024, 1024, 1024, 2048, 2048 };

	return sides[next_random() % (sizeof(sides) / sizeof(sides[0]))];
}

static void texture_make(struct gpu *g, struct texture *t)
{
	uint32_t w = texture_side(), h = w;
	VkImageCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = VK_FORMAT_R8G8B8A8_UNORM,
		.mipLevels = 1,
		.arrayLayers = 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_OPTIMAL,
		.usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT |
			 VK_IMAGE_USAGE_SAMPLED_BIT,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	VkMemoryRequirements req;

	/* some textures are 2:1 or 1:2 */
	switch (next_random() % 4) {
	case 0:
		if (h > 64)
			h /= 2;
		break;
	case 1:
		if (w > 64)
			w /= 2;
		break;
	}
	ici.extent = (VkExtent3D){ w, h, 1 };
	VK(vkCreateImage(g->dev, &ici, NULL, &t->img));
	vkGetImageMemoryRequirements(g->dev, t->img, &req);
	t->mem = allocate(g, &req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
	VK(vkBindImageMemory(g->dev, t->img, t->mem, 0));
	t->width = w;
	t->height = h;
}

static void texture_free(struct gpu *g, struct texture *t)
{
	vkDestroyImage(g->dev, t->img, NULL);
	vkFreeMemory(g->dev, t->mem, NULL);
}

struct level_shape {
	const char *name;
	VkDeviceSize texture_bytes;	/* what the level's textures add up to */
	VkDeviceSize batch_bytes;	/* staging per submission; 0: all at once */
	VkDeviceSize ring_bytes;	/* per frame */
	VkDeviceSize mesh_bytes;	/* persistent dynamic meshes, at most */
};

static const struct level_shape levels[] = {
	{ "town", 512 * MIB, 96 * MIB, 2 * MIB, 48 * MIB },
	{ "forest", 1024 * MIB, 192 * MIB, 4 * MIB, 96 * MIB },
	{ "city", 1792 * MIB, 0, 8 * MIB, 160 * MIB },
	{ "caves", 768 * MIB, 128 * MIB, 3 * MIB, 64 * MIB },
};

struct level {
	struct texture textures[MAX_TEXTURES];
	int ntextures;
	struct suballoc meshes[MAX_MESHES];
	int nmeshes;
	struct suballoc ring;
	struct buffer vertices;	/* device-local, the ring's destination */
	VkDeviceSize ring_bytes;
};

struct frame {
	VkCommandBuffer cmd;
	VkFence fence;
	int submitted;
	struct suballoc tiles[TILES_PER_STREAM];
	int ntiles;
};

struct game {
	struct gpu gpu;
	struct pool pool;
	struct suballoc ui_atlas;
	struct level level;
	struct frame frames[IN_FLIGHT];
	VkCommandBuffer load_cmd;
	VkFence load_fence;
	VkDeviceSize peak_level_bytes;
	unsigned batches;
	uint64_t checksum;
};

static void wait_fence(struct gpu *g, VkFence f)
{
	VK(vkWaitForFences(g->dev, 1, &f, VK_TRUE, UINT64_MAX));
	VK(vkResetFences(g->dev, 1, &f));
}

/* "Decompressing" an asset into its staging: a word in every 4 KiB, so
 * every page is written without the memcpy's cost. */
static void fill(void *dst, VkDeviceSize n, uint32_t seed)
{
	uint32_t *w = dst;
	VkDeviceSize i;

	for (i = 0; i < n / 4; i += 1024)
		w[i] = seed + (uint32_t)i;
}

static void batch_flush(struct game *gm, struct suballoc *staging, int *n)
{
	struct gpu *g = &gm->gpu;

	submit(g, gm->load_cmd, gm->load_fence);
	wait_fence(g, gm->load_fence);
	while (*n > 0)
		pool_free(&gm->pool, &staging[--*n]);
	gm->batches++;
}

static void level_load(struct game *gm, const struct level_shape *shape)
{
	static struct suballoc staging[MAX_BATCH];
	struct gpu *g = &gm->gpu;
	struct level *lv = &gm->level;
	VkDeviceSize total = 0, in_batch = 0, mesh_total = 0;
	int nstaging = 0, i;

	memset(lv, 0, sizeof(*lv));
	begin(gm->load_cmd);
	while (total < shape->texture_bytes && lv->ntextures < MAX_TEXTURES) {
		struct texture *t = &lv->textures[lv->ntextures++];
		VkDeviceSize bytes;
		VkBufferImageCopy c = {
			.imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
		};
		struct suballoc *s;

		texture_make(g, t);
		bytes = (VkDeviceSize)t->width * t->height * 4;
		s = &staging[nstaging++];
		*s = pool_alloc(&gm->pool, bytes);
		fill(suballoc_map(s), bytes, next_random());
		c.bufferOffset = s->offset;
		c.imageExtent = (VkExtent3D){ t->width, t->height, 1 };
		to_general(gm->load_cmd, t->img);
		vkCmdCopyBufferToImage(gm->load_cmd, s->block->b.buf, t->img,
				       VK_IMAGE_LAYOUT_GENERAL, 1, &c);
		total += bytes;
		in_batch += bytes;
		/* the level's dynamic meshes come with its objects, between
		 * the textures, into the same blocks */
		if (lv->ntextures % 12 == 0 && lv->nmeshes < MAX_MESHES &&
		    mesh_total < shape->mesh_bytes) {
			struct suballoc *m = &lv->meshes[lv->nmeshes++];
			VkDeviceSize sz = (256 + next_random() % 3840) * KIB;

			*m = pool_alloc(&gm->pool, sz);
			fill(suballoc_map(m), sz, next_random());
			mesh_total += sz;
		}
		if (gm->pool.bytes > gm->peak_level_bytes)
			gm->peak_level_bytes = gm->pool.bytes;
		if ((shape->batch_bytes && in_batch >= shape->batch_bytes) ||
		    nstaging == MAX_BATCH) {
			batch_flush(gm, staging, &nstaging);
			begin(gm->load_cmd);
			in_batch = 0;
		}
	}
	batch_flush(gm, staging, &nstaging);
	lv->ring_bytes = shape->ring_bytes;
	lv->ring = pool_alloc(&gm->pool, IN_FLIGHT * shape->ring_bytes);
	buffer_make(g, &lv->vertices, shape->ring_bytes,
		    VK_BUFFER_USAGE_TRANSFER_DST_BIT |
		    VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
		    VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
	for (i = 0; i < IN_FLIGHT; i++)
		gm->frames[i].submitted = 0;
	printf("level %s: %d textures, %.1f MiB, %d meshes, pool %.0f MiB in"
	       " %u blocks made so far\n", shape->name, lv->ntextures,
	       (double)total / MIB, lv->nmeshes, (double)gm->pool.bytes / MIB,
	       gm->pool.made);
}

static void frame_wait(struct game *gm, struct frame *f)
{
	if (f->submitted) {
		wait_fence(&gm->gpu, f->fence);
		f->submitted = 0;
	}
	while (f->ntiles > 0)
		pool_free(&gm->pool, &f->tiles[--f->ntiles]);
}

static void level_play(struct game *gm, int frames)
{
	struct gpu *g = &gm->gpu;
	struct level *lv = &gm->level;
	int n, i;

	for (n = 0; n < frames; n++) {
		struct frame *f = &gm->frames[n % IN_FLIGHT];
		VkDeviceSize slice = (VkDeviceSize)(n % IN_FLIGHT) * lv->ring_bytes;
		char *ring = (char *)suballoc_map(&lv->ring) + slice;
		VkBufferCopy c = { lv->ring.offset + slice, 0, lv->ring_bytes };

		frame_wait(gm, f);
		gm->checksum += (unsigned char)ring[n % 4096];
		/* this frame's uniforms and vertices */
		fill(ring, lv->ring_bytes, (uint32_t)n);
		memset(ring, n, 64 * KIB);
		begin(f->cmd);
		vkCmdCopyBuffer(f->cmd, lv->ring.block->b.buf, lv->vertices.buf,
				1, &c);
		if (n % 4 == 0) {
			int k = 1 + (int)(next_random() % TILES_PER_STREAM);

			for (i = 0; i < k; i++) {
				struct texture *t = &lv->textures[next_random() %
					(uint32_t)lv->ntextures];
				uint32_t tw = t->width < TILE ? t->width : TILE;
				uint32_t th = t->height < TILE ? t->height : TILE;
				struct suballoc *s = &f->tiles[f->ntiles++];
				VkBufferImageCopy bc = {
					.imageSubresource = {
						VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
					.imageExtent = { tw, th, 1 },
				};

				*s = pool_alloc(&gm->pool, TILE_BYTES);
				fill(suballoc_map(s), TILE_BYTES, (uint32_t)n);
				bc.bufferOffset = s->offset;
				vkCmdCopyBufferToImage(f->cmd, s->block->b.buf,
						       t->img,
						       VK_IMAGE_LAYOUT_GENERAL,
						       1, &bc);
			}
		}
		submit(g, f->cmd, f->fence);
		f->submitted = 1;
	}
	for (i = 0; i < IN_FLIGHT; i++)
		frame_wait(gm, &gm->frames[i]);
}

static void level_unload(struct game *gm)
{
	struct gpu *g = &gm->gpu;
	struct level *lv = &gm->level;
	int i;

	VK(vkDeviceWaitIdle(g->dev));
	pool_free(&gm->pool, &lv->ring);
	buffer_free(g, &lv->vertices);
	for (i = 0; i < lv->nmeshes; i++)
		pool_free(&gm->pool, &lv->meshes[i]);
	for (i = 0; i < lv->ntextures; i++)
		texture_free(g, &lv->textures[i]);
}

static void game_start(struct game *gm)
{
	struct gpu *g = &gm->gpu;
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	int i;

	gpu_open(g, "vklevels");
	gm->pool.gpu = g;
	cai.commandPool = g->pool;
	VK(vkAllocateCommandBuffers(g->dev, &cai, &gm->load_cmd));
	VK(vkCreateFence(g->dev, &fci, NULL, &gm->load_fence));
	for (i = 0; i < IN_FLIGHT; i++) {
		VK(vkAllocateCommandBuffers(g->dev, &cai, &gm->frames[i].cmd));
		VK(vkCreateFence(g->dev, &fci, NULL, &gm->frames[i].fence));
	}
	/* the UI atlas and fonts: the one allocation of the whole run */
	gm->ui_atlas = pool_alloc(&gm->pool, 24 * MIB);
	fill(suballoc_map(&gm->ui_atlas), 24 * MIB, 1);
}

static void game_end(struct game *gm)
{
	struct gpu *g = &gm->gpu;
	int i;

	pool_free(&gm->pool, &gm->ui_atlas);
	for (i = 0; i < MAX_BLOCKS; i++)
		if (gm->pool.blocks[i])
			block_give_back(&gm->pool, i);
	for (i = 0; i < IN_FLIGHT; i++)
		vkDestroyFence(g->dev, gm->frames[i].fence, NULL);
	vkDestroyFence(g->dev, gm->load_fence, NULL);
	vkDestroyCommandPool(g->dev, g->pool, NULL);
	vkDestroyDevice(g->dev, NULL);
	vkDestroyInstance(g->instance, NULL);
}

int main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : 250;
	static struct game gm;
	char name[64];
	size_t i;

	if (frames < IN_FLIGHT || frames > 100000) {
		fprintf(stderr, "usage: vklevels [FRAMES_PER_LEVEL]\n");
		return 2;
	}
	marker_open();
	phase("init");
	game_start(&gm);
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(name, sizeof(name), "load_%s", levels[i].name);
		phase(name);
		level_load(&gm, &levels[i]);
		snprintf(name, sizeof(name), "play_%s", levels[i].name);
		phase(name);
		level_play(&gm, frames);
		phase("unload");
		level_unload(&gm);
	}
	phase("teardown");
	game_end(&gm);
	printf("vklevels: %zu levels of %d frames, %u batches, %u blocks made,"
	       " %u given back, peak %.0f MiB host-visible, checksum %llu\n",
	       i, frames, gm.batches, gm.pool.made, gm.pool.given_back,
	       (double)gm.pool.peak_bytes / MIB,
	       (unsigned long long)gm.checksum);
	phase("end");
	return 0;
}
