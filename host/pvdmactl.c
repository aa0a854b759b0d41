// SPDX-License-Identifier: MIT
/*
 * pvdmactl: ask a running pvdmad for its live counters.
 *   pvdmactl [--control PATH] stats [--json]
 *   pvdmactl [--control PATH] reopen-logs
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <pvdma/version.h>

#define PVDMACTL_DEFAULT_CONTROL	"/tmp/pvdmad.ctl"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: pvdmactl [--control PATH] stats [--json]\n"
"       pvdmactl [--control PATH] reopen-logs\n"
"  -c, --control PATH   pvdmad's --control socket (default %s)\n"
"  -j, --json           stats as JSON (default: a table)\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n", PVDMACTL_DEFAULT_CONTROL);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "pvdmactl: %s: path too long\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "pvdmactl: %s: %s (is pvdmad running with --control?)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Send @cmd, copy the answer to stdout. 0 on success. */
static int ctl_request(const char *path, const char *cmd)
{
	char buf[4096];
	int fd = ctl_connect(path), ret = 0;
	ssize_t n;

	if (fd < 0)
		return 1;
	if (send_all(fd, cmd, strlen(cmd)) < 0) {
		fprintf(stderr, "pvdmactl: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || fwrite(buf, 1, n, stdout) != (size_t)n) {
			ret = 1;
			break;
		}
		if (!strncmp(buf, "error:", 6))
			ret = 1;
	}
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = PVDMACTL_DEFAULT_CONTROL;
	bool json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:jhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
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
		return ctl_request(path, json ? "stats json\n" : "stats table\n");
	if (!strcmp(argv[optind], "reopen-logs"))
		return ctl_request(path, "reopen-logs\n");
	usage(stderr);
	return 2;
}
