// SPDX-License-Identifier: MIT
/*
 * Runs a command as on an older kernel, for pvdmad's tests of the paths
 * it takes where the kernel lacks a socket option (run-attack.sh):
 *
 *   oldkernel [--no-pidfd] [--no-peerpidfd] [--no-passrights] -- COMMAND [ARG...]
 *
 * A seccomp filter answers, for the command and everything it runs:
 *   --no-peerpidfd   getsockopt(SOL_SOCKET, SO_PEERPIDFD)	(Linux 6.5)
 *   --no-passrights  getsockopt and setsockopt(SOL_SOCKET, SO_PASSRIGHTS)
 *                    (Linux 6.16)
 * with ENOPROTOOPT, what an older kernel's sk_getsockopt() and
 * sk_setsockopt() (net/core/sock.c) answer for an option they don't
 * know, and
 *   --no-pidfd       pidfd_send_signal (5.1), pidfd_open (5.3) and
 *                    pidfd_getfd (5.6) with ENOSYS, as a kernel without
 *                    the call; SO_PEERPIDFD as --no-peerpidfd (a kernel
 *                    before 5.3). CLONE_PIDFD and waitid(P_PIDFD) are
 *                    left alone: pvdmad asks for neither.
 * Every other call, and these calls at other levels or for other
 * options, is let through untouched: the command probes the kernel as it
 * would for real, and nothing in the command knows it is a test.
 *
 * A system call of another ABI (i386 or x32 on x86_64, arm32 on arm64)
 * could reach getsockopt under another number: the filter kills the
 * process instead (fail closed). pvdmad makes none.
 *
 * Exits as env(1) does when it can't run the command: 125 (usage, or the
 * filter refused), 126 (COMMAND not executable), 127 (not found).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The numbers of include/uapi/asm-generic/socket.h, which x86_64 and
 * arm64 use (alpha, mips, parisc and sparc number differently). */
#if defined(__x86_64__) && !defined(__ILP32__)
#define OLDK_ARCH	AUDIT_ARCH_X86_64
#define OLDK_X32_BIT	0x40000000u	/* __X32_SYSCALL_BIT */
#elif defined(__aarch64__) && !defined(__ILP32__)
#define OLDK_ARCH	AUDIT_ARCH_AARCH64
#else
#error "oldkernel: the filter knows x86_64 and arm64 only"
#endif

#define OLDK_SO_PEERPIDFD	77	/* Linux 6.5 */
#define OLDK_SO_PASSRIGHTS	83	/* Linux 6.16 */

/* The same numbers on x86_64 and arm64: from 424 on, one table for all */
#define OLDK_NR_PIDFD_SEND_SIGNAL	424
#define OLDK_NR_PIDFD_OPEN		434
#define OLDK_NR_PIDFD_GETFD		438

/*
 * The low 32 bits of argument @i: level and optname are ints, and the
 * kernel reads only those bits of the register, so a call with anything
 * in the upper half still names the option.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OLDK_ARG_LO(i)	(offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define OLDK_ARG_LO(i)	(offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define OLDK_MAX_INSNS	48

struct oldk_prog {
	struct sock_filter insn[OLDK_MAX_INSNS];
	unsigned int n;
};

static void emit(struct oldk_prog *p, struct sock_filter f)
{
	p->insn[p->n++] = f;	/* bounded: at most 6 + 3 * 7 + 5 */
}

/*
 * nr(SOL_SOCKET, @optname, ...) returns -ENOPROTOOPT; anything else falls
 * through to the next block. Seven instructions, the jumps within them.
 */
static void refuse_option(struct oldk_prog *p, unsigned int nr,
			  unsigned int optname)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, nr)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 5));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OLDK_ARG_LO(1)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_SOCKET, 0, 3));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OLDK_ARG_LO(2)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, optname, 0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			SECCOMP_RET_ERRNO | (ENOPROTOOPT & SECCOMP_RET_DATA)));
}

/*
 * The pidfd calls return -ENOSYS; anything else falls through. Five
 * instructions, the jumps within them.
 */
static void refuse_pidfds(struct oldk_prog *p)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, nr)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			OLDK_NR_PIDFD_SEND_SIGNAL, 2, 0));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			OLDK_NR_PIDFD_OPEN, 1, 0));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			OLDK_NR_PIDFD_GETFD, 0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)));
}

static void build(struct oldk_prog *p, int no_pidfd, int no_peerpidfd,
		  int no_passrights)
{
	p->n = 0;
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, arch)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OLDK_ARCH, 1, 0));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#ifdef OLDK_X32_BIT
	/* x32 shares the arch value; its numbers carry this bit */
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, nr)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, OLDK_X32_BIT, 0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
	if (no_pidfd)
		refuse_pidfds(p);
	if (no_peerpidfd || no_pidfd)
		refuse_option(p, __NR_getsockopt, OLDK_SO_PEERPIDFD);
	if (no_passrights) {
		refuse_option(p, __NR_getsockopt, OLDK_SO_PASSRIGHTS);
		refuse_option(p, __NR_setsockopt, OLDK_SO_PASSRIGHTS);
	}
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}

static int usage(void)
{
	fprintf(stderr, "usage: oldkernel [--no-pidfd] [--no-peerpidfd] [--no-passrights] -- COMMAND [ARG...]\n");
	return 125;
}

int main(int argc, char **argv)
{
	int no_pidfd = 0, no_peerpidfd = 0, no_passrights = 0, i;
	struct sock_fprog fprog;
	struct oldk_prog prog;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--no-pidfd"))
			no_pidfd = 1;
		else if (!strcmp(argv[i], "--no-peerpidfd"))
			no_peerpidfd = 1;
		else if (!strcmp(argv[i], "--no-passrights"))
			no_passrights = 1;
		else
			return usage();
	}
	if (i + 1 >= argc)
		return usage();
	build(&prog, no_pidfd, no_peerpidfd, no_passrights);
	fprog.len = (unsigned short)prog.n;
	fprog.filter = prog.insn;
	/* Without it, only a process with CAP_SYS_ADMIN may add a filter. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("oldkernel: PR_SET_NO_NEW_PRIVS");
		return 125;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog)) {
		perror("oldkernel: seccomp");
		return 125;
	}
	execvp(argv[i + 1], argv + i + 1);
	fprintf(stderr, "oldkernel: %s: %s\n", argv[i + 1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
