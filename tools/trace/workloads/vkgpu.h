// SPDX-License-Identifier: MIT
/*
 * The Vulkan set-up the headless workloads share (vkframes, vklevels,
 * vknaive, vkimport): an instance, the first device (with the device
 * extensions a workload names), a queue of a graphics family and a command
 * pool; memory types by the flags wanted; a buffer with an allocation of
 * its own, mapped when host-visible; a command buffer begun and
 * submitted with the barriers its transfers need. Static functions in a
 * header, so that each workload still builds from its one source file
 * (cc ... -lvulkan), this header beside it.
 */
#ifndef PVDMA_WORKLOAD_VKGPU_H
#define PVDMA_WORKLOAD_VKGPU_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#define VK(x)                                                               \
	do {                                                                \
		VkResult r_ = (x);                                          \
		if (r_ != VK_SUCCESS) {                                     \
			fprintf(stderr, "%s:%d: %s: VkResult %d\n",         \
				__FILE__, __LINE__, #x, (int)r_);           \
			exit(1);                                            \
		}                                                           \
	} while (0)

struct gpu {
	VkInstance instance;
	VkPhysicalDevice phys;
	VkDevice dev;
	VkQueue queue;
	uint32_t family;
	VkCommandPool pool;
	VkPhysicalDeviceMemoryProperties memprops;
	const char *name;	/* the program's, in its messages */
};

struct buffer {
	VkBuffer buf;
	VkDeviceMemory mem;
	void *map;
	VkDeviceSize size;
};

/* Open the first device with the device extensions named (none: NULL, 0). */
static void gpu_open_with(struct gpu *g, const char *name,
			  const char *const *extensions, uint32_t nextensions)
{
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = name,
		.apiVersion = VK_API_VERSION_1_1,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkQueueFamilyProperties families[16];
	uint32_t ndev = 1, nfam = 16, i;
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
		.enabledExtensionCount = nextensions,
		.ppEnabledExtensionNames = extensions,
	};
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
	};
	VkPhysicalDeviceProperties props;
	VkResult res;

	g->name = name;
	VK(vkCreateInstance(&ici, NULL, &g->instance));
	res = vkEnumeratePhysicalDevices(g->instance, &ndev, &g->phys);
	if ((res != VK_SUCCESS && res != VK_INCOMPLETE) || ndev == 0) {
		fprintf(stderr, "%s: no Vulkan device\n", name);
		exit(1);
	}
	vkGetPhysicalDeviceProperties(g->phys, &props);
	printf("device %s\n", props.deviceName);
	vkGetPhysicalDeviceMemoryProperties(g->phys, &g->memprops);
	vkGetPhysicalDeviceQueueFamilyProperties(g->phys, &nfam, families);
	g->family = UINT32_MAX;
	for (i = 0; i < nfam && g->family == UINT32_MAX; i++)
		if (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)
			g->family = i;
	if (g->family == UINT32_MAX)
		g->family = 0;
	qci.queueFamilyIndex = g->family;
	VK(vkCreateDevice(g->phys, &dci, NULL, &g->dev));
	vkGetDeviceQueue(g->dev, g->family, 0, &g->queue);
	pci.queueFamilyIndex = g->family;
	VK(vkCreateCommandPool(g->dev, &pci, NULL, &g->pool));
}

static inline void gpu_open(struct gpu *g, const char *name)
{
	gpu_open_with(g, name, NULL, 0);
}

/* A memory type allowed by bits with all of want and none of avoid. */
static int memory_type(struct gpu *g, uint32_t bits, VkMemoryPropertyFlags want,
		       VkMemoryPropertyFlags avoid)
{
	uint32_t i;

	for (i = 0; i < g->memprops.memoryTypeCount; i++) {
		VkMemoryPropertyFlags f = g->memprops.memoryTypes[i].propertyFlags;

		if ((bits & (1u << i)) && (f & want) == want && !(f & avoid))
			return (int)i;
	}
	return -1;
}

static VkDeviceMemory allocate(struct gpu *g, VkMemoryRequirements *req,
			       VkMemoryPropertyFlags want,
			       VkMemoryPropertyFlags fallback)
{
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req->size,
	};
	VkDeviceMemory mem;
	int type = memory_type(g, req->memoryTypeBits, want, 0);

	if (type < 0)
		type = memory_type(g, req->memoryTypeBits, fallback, 0);
	if (type < 0) {
		fprintf(stderr, "%s: no memory type 0x%x\n", g->name, want);
		exit(1);
	}
	mai.memoryTypeIndex = (uint32_t)type;
	VK(vkAllocateMemory(g->dev, &mai, NULL, &mem));
	return mem;
}

/* A buffer with its own allocation, mapped when host-visible. */
static void buffer_make(struct gpu *g, struct buffer *b, VkDeviceSize size,
			VkBufferUsageFlags usage, VkMemoryPropertyFlags want,
			VkMemoryPropertyFlags fallback)
{
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = usage,
	};
	VkMemoryRequirements req;

	VK(vkCreateBuffer(g->dev, &bci, NULL, &b->buf));
	vkGetBufferMemoryRequirements(g->dev, b->buf, &req);
	b->mem = allocate(g, &req, want, fallback);
	VK(vkBindBufferMemory(g->dev, b->buf, b->mem, 0));
	b->size = size;
	b->map = NULL;
	if (want & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
		VK(vkMapMemory(g->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map));
}

static void buffer_free(struct gpu *g, struct buffer *b)
{
	if (b->map)
		vkUnmapMemory(g->dev, b->mem);
	vkDestroyBuffer(g->dev, b->buf, NULL);
	vkFreeMemory(g->dev, b->mem, NULL);
	memset(b, 0, sizeof(*b));
}

static inline void to_general(VkCommandBuffer cmd, VkImage img)
{
	VkImageMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = 0,
		.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT |
				 VK_ACCESS_TRANSFER_READ_BIT,
		.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
		.newLayout = VK_IMAGE_LAYOUT_GENERAL,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = img,
		.subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
	};

	vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
			     VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0,
			     NULL, 1, &b);
}

/* Between transfers of consecutive submissions. */
static void transfer_barrier(VkCommandBuffer cmd)
{
	VkMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT |
				 VK_ACCESS_HOST_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT |
				 VK_ACCESS_TRANSFER_WRITE_BIT,
	};

	vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT |
			     VK_PIPELINE_STAGE_HOST_BIT,
			     VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &b, 0, NULL,
			     0, NULL);
}

static void begin(VkCommandBuffer cmd)
{
	VkCommandBufferBeginInfo cbi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};

	VK(vkResetCommandBuffer(cmd, 0));
	VK(vkBeginCommandBuffer(cmd, &cbi));
	transfer_barrier(cmd);
}

static void submit(struct gpu *g, VkCommandBuffer cmd, VkFence fence)
{
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &cmd,
	};

	VK(vkEndCommandBuffer(cmd));
	VK(vkQueueSubmit(g->queue, 1, &si, fence));
}

#endif
