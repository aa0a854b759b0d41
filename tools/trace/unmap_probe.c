// SPDX-License-Identifier: MIT
/*
 * pvdma-unmap-probe: the unmap probe of pvdma-trace for kernels without
 * kprobe or fprobe events.
 *
 * The dma_unmap_sg trace event carries every physical address of the list,
 * so the ring buffer drops it for lists of more than ~500 entries. This
 * program attaches a small BPF program to the same tracepoint, raw: it gets
 * the tracepoint's arguments (dev, sgl, nents, dir, attrs), not the event
 * record, and writes one short line per unmapped list into the trace buffer
 * through bpf_trace_printk:
 *
 *	bpf_trace_printk: pvdma_unmap_sg: nents=N dma_addr=0x...
 *
 * (the first entry's dma address: struct scatterlist's dma_address, at
 * byte 16 on 64-bit kernels). It prints "ready" once attached and keeps the
 * program attached until it is killed; on failure it says why and exits 1.
 * Needs root and CONFIG_BPF_SYSCALL. Usage: pvdma-unmap-probe
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PROBE_FORMAT	"pvdma_unmap_sg: nents=%d dma_addr=0x%llx"
#define PROBE_TP	"dma_unmap_sg"
/* struct scatterlist: page_link, offset, length, dma_address */
#define SG_DMA_ADDRESS	16
/* Raw tracepoint arguments: dev, sgl, nents, dir, attrs (u64 each). */
#define ARG_SGL		8
#define ARG_NENTS	16
/* Stack: the dma address at -8, the format string below it. */
#define STACK_DMA	(-8)
#define FORMAT_SLOTS	6
#define STACK_FORMAT	(STACK_DMA - 8 * FORMAT_SLOTS)

struct probe_prog {
	struct bpf_insn insn[64];
	unsigned int n;
};

static void emit(struct probe_prog *p, uint8_t code, uint8_t dst, uint8_t src,
		 int16_t off, int32_t imm)
{
	struct bpf_insn *i = &p->insn[p->n++];

	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst;
	i->src_reg = src;
	i->off = off;
	i->imm = imm;
}

/* dst = 64-bit immediate: two instructions. */
static void emit_ld_imm64(struct probe_prog *p, uint8_t dst, uint64_t v)
{
	emit(p, BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (int32_t)(uint32_t)v);
	emit(p, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

/* The format string, NUL-padded to FORMAT_SLOTS words, onto the stack. */
static void emit_format(struct probe_prog *p)
{
	char fmt[8 * FORMAT_SLOTS] = PROBE_FORMAT;
	unsigned int i;

	for (i = 0; i < FORMAT_SLOTS; i++) {
		uint64_t w;

		memcpy(&w, fmt + 8 * i, 8);
		emit_ld_imm64(p, BPF_REG_1, w);
		emit(p, BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_1,
		     STACK_FORMAT + 8 * i, 0);
	}
}

static void build(struct probe_prog *p)
{
	p->n = 0;
	/* r6 = ctx; r3 = sgl + SG_DMA_ADDRESS */
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_3, BPF_REG_6, ARG_SGL, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, SG_DMA_ADDRESS);
	/* bpf_probe_read_kernel(fp + STACK_DMA, 8, r3) */
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, STACK_DMA);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 8);
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel);
	emit_format(p);
	/* bpf_trace_printk(fmt, sizeof(PROBE_FORMAT), nents, dma) */
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_4, BPF_REG_10, STACK_DMA, 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_3, BPF_REG_6, ARG_NENTS, 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, STACK_FORMAT);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0,
	     (int32_t)sizeof(PROBE_FORMAT));
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_trace_printk);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int main(void)
{
	static char log[65536];
	_Static_assert(sizeof(PROBE_FORMAT) <= 8 * FORMAT_SLOTS,
		       "the format must fit its stack slots");
	struct probe_prog p;
	union bpf_attr attr;
	int prog, link;

	build(&p);
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	attr.insns = (uint64_t)(uintptr_t)p.insn;
	attr.insn_cnt = p.n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	prog = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	if (prog < 0) {
		fprintf(stderr, "pvdma-unmap-probe: cannot load the BPF program: %s%s%s\n",
			strerror(errno), log[0] ? "\n" : "", log);
		return 1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.name = (uint64_t)(uintptr_t)PROBE_TP;
	attr.raw_tracepoint.prog_fd = (uint32_t)prog;
	link = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &attr);
	if (link < 0) {
		fprintf(stderr, "pvdma-unmap-probe: cannot attach to the raw tracepoint %s: %s\n",
			PROBE_TP, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)	/* attached while this process lives */
		pause();
}
