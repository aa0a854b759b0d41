// SPDX-License-Identifier: MIT
/*
 * vkstream: stream data through host-visible Vulkan memory the way a game
 * streams assets, headless (compute/transfer only, no window).
 *
 *   vkstream [HEAPS [HEAP_MIB [ROUNDS]]]     default 6 256 2
 *
 * Keeps HEAPS host-visible upload heaps of HEAP_MIB MiB allocated and mapped
 * at once (6 x 256 MiB = 1.5 GiB by default), fills each with memcpy and
 * copies it into a device-local buffer with vkCmdCopyBuffer, ROUNDS times;
 * then streams 16 transient 32 MiB staging buffers (allocated, filled,
 * copied, freed) with the heaps still held, and reads 64 MiB back through a
 * host-cached buffer. Writes "PHASE name" to $PVDMA_TRACE_MARKER.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "phase.h"

#define MIB ((VkDeviceSize)1 << 20)

#define VK(x)                                                               \
	do {                                                                \
		VkResult r_ = (x);                                          \
		if (r_ != VK_SUCCESS) {                                     \
			fprintf(stderr, "%s:%d: %s: VkResult %d\n",         \
				__FILE__, __LINE__, #x, (int)r_);           \
			exit(1);                                            \
		}                                                           \
	} while (0)

struct buf {
	VkBuffer buf;
	VkDeviceMemory mem;
	void *map;
	VkDeviceSize size;
};

static VkPhysicalDevice phys;
static VkDevice dev;
static VkQueue queue;
static VkCommandPool pool;
static VkCommandBuffer cmd;
static VkFence fence;
static VkPhysicalDeviceMemoryProperties memprops;
static uint64_t streamed;

/* A memory type allowed by bits with all of want and none of avoid. */
static int find_type(uint32_t bits, VkMemoryPropertyFlags want,
		     VkMemoryPropertyFlags avoid)
{
	uint32_t i;

	for (i = 0; i < memprops.memoryTypeCount; i++) {
		VkMemoryPropertyFlags f = memprops.memoryTypes[i].propertyFlags;

		if ((bits & (1u << i)) && (f & want) == want && !(f & avoid))
			return (int)i;
	}
	return -1;
}

static void make_buf(struct buf *b, VkDeviceSize size, VkBufferUsageFlags use,
		     VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = use,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	VkMemoryRequirements req;
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
	};
	int type;

	VK(vkCreateBuffer(dev, &bci, NULL, &b->buf));
	vkGetBufferMemoryRequirements(dev, b->buf, &req);
	type = find_type(req.memoryTypeBits, want, avoid);
	if (type < 0 && avoid)
		type = find_type(req.memoryTypeBits, want, 0);
	if (type < 0) {
		fprintf(stderr, "no memory type with flags 0x%x\n",
			(unsigned int)want);
		exit(1);
	}
	mai.allocationSize = req.size;
	mai.memoryTypeIndex = (uint32_t)type;
	VK(vkAllocateMemory(dev, &mai, NULL, &b->mem));
	VK(vkBindBufferMemory(dev, b->buf, b->mem, 0));
	b->size = size;
	b->map = NULL;
	if (want & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
		VK(vkMapMemory(dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map));
}

static void free_buf(struct buf *b)
{
	if (b->map)
		vkUnmapMemory(dev, b->mem);
	vkDestroyBuffer(dev, b->buf, NULL);
	vkFreeMemory(dev, b->mem, NULL);
	memset(b, 0, sizeof(*b));
}

static void copy(struct buf *src, struct buf *dst, VkDeviceSize size)
{
	VkCommandBufferBeginInfo begin = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VkBufferCopy region = { .size = size };
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &cmd,
	};

	VK(vkResetCommandBuffer(cmd, 0));
	VK(vkBeginCommandBuffer(cmd, &begin));
	vkCmdCopyBuffer(cmd, src->buf, dst->buf, 1, &region);
	VK(vkEndCommandBuffer(cmd));
	VK(vkResetFences(dev, 1, &fence));
	VK(vkQueueSubmit(queue, 1, &si, fence));
	VK(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
	streamed += size;
}

/* Fill a mapped buffer from a source block, as an asset loader would. */
static void fill(struct buf *b, const unsigned char *src, size_t chunk)
{
	VkDeviceSize off;

	for (off = 0; off < b->size; off += chunk) {
		size_t n = b->size - off < chunk ? (size_t)(b->size - off) : chunk;

		memcpy((unsigned char *)b->map + off, src, n);
	}
}

static void setup(void)
{
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "pvdma-vkstream",
		.apiVersion = VK_API_VERSION_1_1,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkInstance inst;
	VkPhysicalDevice devs[8];
	uint32_t ndev = 8, nq = 16, i, qf = UINT32_MAX;
	VkQueueFamilyProperties qfp[16];
	VkPhysicalDeviceProperties props;
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
	};
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
	};
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkFenceCreateInfo fci = {
		.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
	};

	VK(vkCreateInstance(&ici, NULL, &inst));
	VK(vkEnumeratePhysicalDevices(inst, &ndev, devs));
	if (!ndev) {
		fprintf(stderr, "no Vulkan device\n");
		exit(1);
	}
	phys = devs[0];
	for (i = 0; i < ndev; i++) {
		vkGetPhysicalDeviceProperties(devs[i], &props);
		if (props.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU) {
			phys = devs[i];
			break;
		}
	}
	vkGetPhysicalDeviceProperties(phys, &props);
	printf("device: %s (driver 0x%x)\n", props.deviceName,
	       props.driverVersion);
	vkGetPhysicalDeviceMemoryProperties(phys, &memprops);
	for (i = 0; i < memprops.memoryHeapCount; i++)
		printf("heap %u: %llu MiB%s\n", i,
		       (unsigned long long)(memprops.memoryHeaps[i].size >> 20),
		       memprops.memoryHeaps[i].flags &
		       VK_MEMORY_HEAP_DEVICE_LOCAL_BIT ? " device-local" : "");
	vkGetPhysicalDeviceQueueFamilyProperties(phys, &nq, qfp);
	for (i = 0; i < nq && qf == UINT32_MAX; i++)
		if (qfp[i].queueFlags & (VK_QUEUE_COMPUTE_BIT |
					 VK_QUEUE_TRANSFER_BIT))
			qf = i;
	if (qf == UINT32_MAX) {
		fprintf(stderr, "no transfer queue\n");
		exit(1);
	}
	qci.queueFamilyIndex = qf;
	VK(vkCreateDevice(phys, &dci, NULL, &dev));
	vkGetDeviceQueue(dev, qf, 0, &queue);
	pci.queueFamilyIndex = qf;
	VK(vkCreateCommandPool(dev, &pci, NULL, &pool));
	cai.commandPool = pool;
	VK(vkAllocateCommandBuffers(dev, &cai, &cmd));
	VK(vkCreateFence(dev, &fci, NULL, &fence));
}

int main(int argc, char **argv)
{
	const VkMemoryPropertyFlags upload = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
					     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	const VkBufferUsageFlags src_use = VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
	const VkBufferUsageFlags dst_use = VK_BUFFER_USAGE_TRANSFER_DST_BIT |
					   VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
					   VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
	int heaps = argc > 1 ? atoi(argv[1]) : 6;
	VkDeviceSize heap_size = (argc > 2 ? (VkDeviceSize)atoi(argv[2]) : 256) * MIB;
	int rounds = argc > 3 ? atoi(argv[3]) : 2;
	struct buf *heap, vram, staging, readback;
	unsigned char *asset;
	const size_t asset_size = 4 << 20;
	char name[32];
	uint64_t sum = 0;
	int h, r, i;
	size_t k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (heaps < 1 || heaps > 64 || heap_size < MIB || rounds < 1) {
		fprintf(stderr, "usage: vkstream [HEAPS [HEAP_MIB [ROUNDS]]]\n");
		return 2;
	}
	marker_open();
	asset = malloc(asset_size);
	heap = calloc((size_t)heaps, sizeof(*heap));
	if (!asset || !heap)
		return 1;
	for (k = 0; k < asset_size; k++)
		asset[k] = (unsigned char)(k * 131 + 7);

	phase("init");
	setup();
	make_buf(&vram, heap_size, dst_use, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);

	phase("alloc_heaps");
	for (h = 0; h < heaps; h++)
		make_buf(&heap[h], heap_size, src_use, upload,
			 VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	printf("%d upload heaps of %llu MiB held\n", heaps,
	       (unsigned long long)(heap_size / MIB));

	for (r = 0; r < rounds; r++) {
		snprintf(name, sizeof(name), "stream%d", r);
		phase(name);
		for (h = 0; h < heaps; h++) {
			fill(&heap[h], asset, asset_size);
			copy(&heap[h], &vram, heap_size);
		}
	}

	phase("transient");
	for (i = 0; i < 16; i++) {
		make_buf(&staging, 32 * MIB, src_use, upload,
			 VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
		fill(&staging, asset, asset_size);
		copy(&staging, &vram, 32 * MIB);
		free_buf(&staging);
	}

	phase("readback");
	make_buf(&readback, 64 * MIB, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		 VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		 VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
		 VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	copy(&vram, &readback, 64 * MIB);
	for (k = 0; k < 64 * MIB; k += 4096)
		sum += ((unsigned char *)readback.map)[k];
	free_buf(&readback);

	phase("free");
	for (h = 0; h < heaps; h++)
		free_buf(&heap[h]);
	free_buf(&vram);
	vkDestroyFence(dev, fence, NULL);
	vkDestroyCommandPool(dev, pool, NULL);
	vkDestroyDevice(dev, NULL);
	phase("end");
	printf("streamed %llu MiB, checksum %llu\n",
	       (unsigned long long)(streamed >> 20), (unsigned long long)sum);
	free(heap);
	free(asset);
	return 0;
}
