// SPDX-License-Identifier: MIT
/*
 * SIGBUS around guest RAM accesses (ramguard.h). SA_NODEFER keeps SIGBUS
 * unblocked after the jump, so sigsetjmp need not save the signal mask
 * (no system call per guarded access).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "ramguard.h"

static sigjmp_buf *ramguard_active;

static void ramguard_on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (ramguard_active)
		siglongjmp(*ramguard_active, 1);
	/* Not a guarded access: die as we would have without the handler. */
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

int ramguard_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = ramguard_on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}

bool ramguard_run(void (*fn)(void *arg), void *arg)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0)) {
		ramguard_active = NULL;
		return false;
	}
	ramguard_active = &jb;
	fn(arg);
	ramguard_active = NULL;
	return true;
}
