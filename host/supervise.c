// SPDX-License-Identifier: MIT
/*
 * pvdmad --supervise: keeps pvdmad's fds across its restarts (supervise.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdstore.h"
#include "log.h"
#include "supervise.h"

#define SUP_MSG_MAX		4096
#define SUP_FDS_PER_MSG		253	/* SCM_MAX_FD */
#define SUP_FAST_EXIT_MS	1000	/* a child that dies sooner failed fast */
#define SUP_MAX_FAST_EXITS	5	/* in a row: give up, as StartLimit does */

/**
 * struct sup_fd - one kept fd
 * @name:	its FDNAME
 * @fd:		the supervisor's copy
 */
struct sup_fd {
	char name[FDSTORE_NAME_MAX + 1];
	int fd;
};

/**
 * struct supervisor - the keeper
 * @exe:	the binary to run, resolved at start
 * @argv:	the child's arguments (argv[0] included)
 * @sock:	the notify socket
 * @sock_dir:	a private directory (0700) holding it
 * @sock_name:	its path, $NOTIFY_SOCKET
 * @sfd:	signalfd
 * @child:	running child, or 0
 * @stopping:	SIGTERM/SIGINT seen: no more restarts
 * @fds:	the store
 * @nfds:
 * @started_ms:	when the child started
 * @fast_exits:	children in a row that died within SUP_FAST_EXIT_MS
 * @restarts:	children started after the first
 */
struct supervisor {
	char exe[PATH_MAX];
	char **argv;
	int sock;
	char sock_dir[PATH_MAX];
	char sock_name[PATH_MAX + 8];
	int sfd;
	pid_t child;
	bool stopping;
	struct sup_fd fds[FDSTORE_MAX_FDS];
	unsigned int nfds;
	long long started_ms;
	unsigned int fast_exits;
	unsigned long restarts;
};

static long long sup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

static int sup_open_socket(struct supervisor *s)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t len;
	int one = 1;

	s->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->sock < 0)
		return -errno;
	/* Credentials on every datagram: only the child's are believed. */
	if (setsockopt(s->sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		return -errno;
	/* A path in a directory only we can enter: no other user can fill
	 * the queue the child sends to (an abstract name has no such guard). */
	snprintf(s->sock_dir, sizeof(s->sock_dir), "%s/pvdmad-supervise.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(s->sock_dir))
		return -errno;
	snprintf(s->sock_name, sizeof(s->sock_name), "%s/notify", s->sock_dir);
	len = strlen(s->sock_name);
	if (len >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, s->sock_name, len);
	if (bind(s->sock, (struct sockaddr *)&addr,
		 offsetof(struct sockaddr_un, sun_path) + len + 1) < 0)
		return -errno;
	return 0;
}

static void sup_close_socket(struct supervisor *s)
{
	if (s->sock >= 0)
		close(s->sock);
	if (s->sock_name[0])
		unlink(s->sock_name);
	if (s->sock_dir[0])
		rmdir(s->sock_dir);
}

static int sup_open_signals(struct supervisor *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->sfd < 0 ? -errno : 0;
}

static void sup_close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

static void sup_store(struct supervisor *s, const char *name, int *fds,
		      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s->nfds == FDSTORE_MAX_FDS) {
			pr_warn("supervise: the fd store is full (%u), %s dropped",
				FDSTORE_MAX_FDS, name);
			sup_close_fds(fds + i, n - i);
			return;
		}
		snprintf(s->fds[s->nfds].name, sizeof(s->fds[0].name), "%s", name);
		s->fds[s->nfds++].fd = fds[i];
	}
}

static void sup_remove(struct supervisor *s, const char *name)
{
	unsigned int i = 0;

	while (i < s->nfds) {
		if (strcmp(s->fds[i].name, name)) {
			i++;
			continue;
		}
		close(s->fds[i].fd);
		s->fds[i] = s->fds[--s->nfds];
	}
}

/* The value of "KEY=value" in @text (lines), copied into @out. */
static bool sup_field(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), vlen;
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			vlen = strcspn(p, "\n");
			if (vlen >= size)
				return false;
			memcpy(out, p, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static bool sup_flag(const char *text, const char *key)
{
	char v[8];

	return sup_field(text, key, v, sizeof(v)) && !strcmp(v, "1");
}

/* One notify datagram; false when there was none. */
static bool sup_receive(struct supervisor *s, pid_t from)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(SUP_FDS_PER_MSG * sizeof(int))];
	} control;
	char text[SUP_MSG_MAX + 1], name[FDSTORE_NAME_MAX + 1];
	struct iovec iov = { .iov_base = text, .iov_len = SUP_MSG_MAX };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct ucred cred = { .pid = 0 };
	int fds[SUP_FDS_PER_MSG];
	size_t nfds = 0, n;
	struct cmsghdr *c;
	ssize_t len;

	len = recvmsg(s->sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (len < 0)
		return errno == EINTR;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS)
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		if (c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		n = n > SUP_FDS_PER_MSG - nfds ? SUP_FDS_PER_MSG - nfds : n;
		memcpy(fds + nfds, CMSG_DATA(c), n * sizeof(int));
		nfds += n;
	}
	text[len] = '\0';
	if (!from || cred.pid != from || (msg.msg_flags & MSG_CTRUNC)) {
		pr_warn("supervise: notify message from pid %d ignored",
			(int)cred.pid);
		sup_close_fds(fds, nfds);
		return true;
	}
	if (!sup_field(text, "FDNAME", name, sizeof(name)))
		snprintf(name, sizeof(name), "stored");
	if (sup_flag(text, "FDSTORE"))
		sup_store(s, name, fds, nfds);
	else
		sup_close_fds(fds, nfds);
	if (sup_flag(text, "FDSTOREREMOVE"))
		sup_remove(s, name);
	if (sup_flag(text, "READY"))
		pr_info("supervise: pvdmad (pid %d) ready, %u fds kept",
			(int)from, s->nfds);
	return true;
}

/* In the child: the kept fds at 3.., the variables that describe them. */
static void sup_child_setup(struct supervisor *s)
{
	int tmp[FDSTORE_MAX_FDS];
	char *names, num[32];
	size_t size = 1;
	unsigned int i;
	sigset_t none;

	for (i = 0; i < s->nfds; i++) {
		/* Above the target range first, so no dup2 clobbers a source. */
		tmp[i] = fcntl(s->fds[i].fd, F_DUPFD_CLOEXEC,
			       FDSTORE_LISTEN_START + (int)s->nfds);
		if (tmp[i] < 0)
			_exit(126);
		size += strlen(s->fds[i].name) + 1;
	}
	names = calloc(1, size);
	if (!names)
		_exit(126);
	for (i = 0; i < s->nfds; i++) {
		if (dup2(tmp[i], FDSTORE_LISTEN_START + (int)i) < 0)
			_exit(126);
		if (i)
			strcat(names, ":");
		strcat(names, s->fds[i].name);
	}
	setenv("NOTIFY_SOCKET", s->sock_name, 1);
	snprintf(num, sizeof(num), "%d", (int)getpid());
	setenv("LISTEN_PID", num, 1);
	snprintf(num, sizeof(num), "%u", s->nfds);
	setenv("LISTEN_FDS", num, 1);
	setenv("LISTEN_FDNAMES", names, 1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int sup_spawn(struct supervisor *s)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sup_child_setup(s);
		execv(s->exe, s->argv);
		_exit(127);
	}
	s->child = pid;
	s->started_ms = sup_now_ms();
	pr_info("supervise: started %s (pid %d) with %u kept fds", s->exe,
		(int)pid, s->nfds);
	return 0;
}

static void sup_describe(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
}

/* The child is gone: 1 to start another, 0 to stop (exit status in *rc). */
static int sup_child_exited(struct supervisor *s, int status, int *rc)
{
	pid_t dead = s->child;
	char how[64];

	s->child = 0;
	/* Whatever it sent before dying is still queued: take it all. */
	while (sup_receive(s, dead))
		;
	sup_describe(status, how, sizeof(how));
	/* A clean stop, or a usage error no restart would mend (as the
	 * unit's RestartPreventExitStatus=2). */
	if (s->stopping || (WIFEXITED(status) &&
			    (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 2))) {
		*rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		pr_info("supervise: pvdmad (pid %d) stopped (%s)", (int)dead, how);
		return 0;
	}
	if (sup_now_ms() - s->started_ms < SUP_FAST_EXIT_MS)
		s->fast_exits++;
	else
		s->fast_exits = 0;
	if (s->fast_exits >= SUP_MAX_FAST_EXITS) {
		pr_err("supervise: pvdmad died %u times within %d ms of starting (last: %s); giving up",
		       s->fast_exits, SUP_FAST_EXIT_MS, how);
		*rc = 1;
		return 0;
	}
	pr_warn("supervise: pvdmad (pid %d) %s: restarting with %u kept fds",
		(int)dead, how, s->nfds);
	/* Back off only when it keeps failing at once. */
	if (s->fast_exits)
		usleep(100000u * s->fast_exits);
	s->restarts++;
	return 1;
}

/* 1: go on, 0: stop with *rc. */
static int sup_on_signals(struct supervisor *s, int *rc)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			s->stopping = true;
		if (s->child)
			kill(s->child, (int)si.ssi_signo);
	}
	while (s->child && (pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != s->child)
			continue;
		if (!sup_child_exited(s, status, rc))
			return 0;
		if (sup_spawn(s)) {
			*rc = 1;
			return 0;
		}
	}
	return 1;
}

static int sup_run(struct supervisor *s)
{
	struct pollfd p[2] = {
		{ .fd = s->sock, .events = POLLIN },
		{ .fd = s->sfd, .events = POLLIN },
	};
	int rc = 0;

	if (sup_spawn(s))
		return 1;
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents)
			while (sup_receive(s, s->child))
				;
		if (p[1].revents && !sup_on_signals(s, &rc))
			return rc;
	}
}

/* The child's argv: ours without "--supervise". */
static char **sup_child_argv(int argc, char **argv, int skip)
{
	char **out = calloc(argc, sizeof(*out));
	int i, j = 0;

	if (!out)
		return NULL;
	for (i = 0; i < argc; i++)
		if (i != skip)
			out[j++] = argv[i];
	out[j] = NULL;
	return out;
}

int pvdmad_supervise_main(int argc, char **argv)
{
	struct supervisor *s;
	int i, skip = -1, rc;
	ssize_t n;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--supervise"))
			skip = i;
	if (skip < 0)
		return -1;
	pvdmad_log_open(NULL, false);
	/* the supervisor's whole state (1 MiB of fd table): heap, not static */
	s = calloc(1, sizeof(*s));
	if (!s) {
		pr_err("supervise: can't set up: %s", strerror(errno));
		return 1;
	}
	s->sock = s->sfd = -1;
	/* The path we were started by, so that what is installed there next
	 * is what runs next (an upgrade); /proc/self/exe for a PATH lookup. */
	if (strchr(argv[0], '/'))
		n = snprintf(s->exe, sizeof(s->exe), "%s", argv[0]);
	else
		n = readlink("/proc/self/exe", s->exe, sizeof(s->exe) - 1);
	s->argv = sup_child_argv(argc, argv, skip);
	if (n <= 0 || (size_t)n >= sizeof(s->exe) || !s->argv ||
	    sup_open_socket(s) || sup_open_signals(s)) {
		pr_err("supervise: can't set up: %s", strerror(errno));
		sup_close_socket(s);
		free(s->argv);
		free(s);
		return 1;
	}
	s->exe[n] = '\0';
	rc = sup_run(s);
	while (s->nfds)
		close(s->fds[--s->nfds].fd);
	sup_close_socket(s);
	pr_info("supervise: exiting (%d), %lu restarts", rc, s->restarts);
	free(s->argv);
	free(s);
	pvdmad_log_close();
	return rc;
}
