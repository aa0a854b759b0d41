// SPDX-License-Identifier: MIT
/*
 * pvdmactl: ask a running pvdmad for its live counters.
 *   pvdmactl [--control PATH] [--timeout S] stats [--json]
 *   pvdmactl [--control PATH] [--timeout S] reopen-logs
 *
 * The answer comes from whoever listens at PATH, so pvdmactl trusts it no
 * more than a peer: the listener must run as root or as the caller
 * (SO_PEERCRED), the whole exchange has a deadline, and bytes that could
 * drive a terminal (escapes, other control characters) are shown as '?'.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <pvdma/version.h>

/* Not /tmp: any user could bind a socket there first. */
#define PVDMACTL_DEFAULT_CONTROL	"/run/pvdma/pvdmad.ctl"
#define PVDMACTL_CONTROL_ENV		"PVDMA_CONTROL"
#define PVDMACTL_DEFAULT_TIMEOUT_S	5

static void usage(FILE *out)
{
	fprintf(out,
"Usage: pvdmactl [--control PATH] [--timeout S] stats [--json]\n"
"       pvdmactl [--control PATH] [--timeout S] reopen-logs\n"
"  -c, --control PATH   pvdmad's --control socket (default $%s, else %s)\n"
"  -t, --timeout S      give up after S seconds (default %d)\n"
"  -j, --json           stats as JSON (default: a table)\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n"
"The answering daemon must run as root or as you.\n",
		PVDMACTL_CONTROL_ENV, PVDMACTL_DEFAULT_CONTROL,
		PVDMACTL_DEFAULT_TIMEOUT_S);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events on @fd until @deadline (ms). 0, or -1 (timed out). */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -1;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Is the listener someone we may believe: root or ourselves? */
static int ctl_check_peer(int fd, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		fprintf(stderr, "pvdmactl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (cred.uid == 0 || cred.uid == getuid())
		return 0;
	fprintf(stderr, "pvdmactl: %s is served by uid %u, neither root nor you: not trusted (squatted?)\n",
		path, (unsigned int)cred.uid);
	return -1;
}

static int ctl_connect(const char *path, long long deadline)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "pvdmactl: %s: path too long\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* A full backlog answers EAGAIN: retry until the deadline. */
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EAGAIN && now_ms() < deadline) {
			usleep(10000);
			continue;
		}
		fprintf(stderr, "pvdmactl: %s: %s (is pvdmad running with --control?)\n",
			path, strerror(errno));
		close(fd);
		return -1;
	}
	if (ctl_check_peer(fd, path)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !wait_fd(fd, POLLOUT, deadline))
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Terminal-safe copy: printable ASCII, newline and tab; '?' for the rest. */
static void print_safe(const char *buf, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)buf[i];
		putchar((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ? c : '?');
	}
}

/* Send @cmd, copy the answer to stdout. 0 on success. */
static int ctl_request(const char *path, const char *cmd, int timeout_s)
{
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	bool first = true;
	char buf[4096];
	int fd, ret = 0;
	ssize_t n;

	fd = ctl_connect(path, deadline);
	if (fd < 0)
		return 1;
	if (send_all(fd, cmd, strlen(cmd), deadline) < 0) {
		fprintf(stderr, "pvdmactl: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	for (;;) {
		if (wait_fd(fd, POLLIN, deadline)) {
			fprintf(stderr, "\npvdmactl: %s: no complete answer within %d s\n",
				path, timeout_s);
			ret = 1;
			break;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			ret |= n < 0;
			break;
		}
		if (first && !strncmp(buf, "error:", 6))
			ret = 1;
		first = false;
		print_safe(buf, n);
	}
	close(fd);
	return fflush(stdout) ? 1 : ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv(PVDMACTL_CONTROL_ENV);
	int timeout_s = PVDMACTL_DEFAULT_TIMEOUT_S;
	bool json = false;
	char *end;
	int opt;

	if (!path || !*path)
		path = PVDMACTL_DEFAULT_CONTROL;
	while ((opt = getopt_long(argc, argv, "c:t:jhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 't':
			timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || timeout_s < 1 || timeout_s > 3600) {
				fprintf(stderr, "pvdmactl: --timeout %s: seconds from 1 to 3600\n",
					optarg);
				return 2;
			}
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("pvdmactl %s\n", PVDMA_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "stats"))
		return ctl_request(path, json ? "stats json\n" : "stats table\n",
				   timeout_s);
	if (!strcmp(argv[optind], "reopen-logs"))
		return ctl_request(path, "reopen-logs\n", timeout_s);
	usage(stderr);
	return 2;
}
