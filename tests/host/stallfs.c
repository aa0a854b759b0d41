// SPDX-License-Identifier: MIT
/*
 * A peer that makes every reader of its /proc/PID/cmdline wait, for as
 * long as it likes (run-attack "cmdline", docs/security.md §2.7).
 *
 * The kernel reads another process's arguments under that process's mmap
 * lock (access_remote_vm takes it for read). The peer holds its own lock:
 * a tiny FUSE file system, served here from raw /dev/fuse (root only),
 * has one file and never answers a READ. The peer maps the file and one
 * of its threads reads that page through /proc/self/mem: a remote access,
 * whose fault may not drop the lock (no FAULT_FLAG_ALLOW_RETRY), so the
 * thread sleeps holding it for read until the READ is answered. A second
 * thread's mmap() then waits to take it for write, and every later reader
 * queues behind that writer: pvdmad reading the peer's command line too.
 * An unprivileged user can do the same with fusermount or a user
 * namespace; the test needs root only for the mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stallfs.h"

#define STALLFS_FILE_INO	2
#define STALLFS_PAGE		4096

static void stallfs_reply(int dev, uint64_t unique, int error,
			  const void *arg, size_t len)
{
	struct fuse_out_header h = {
		.len = (uint32_t)(sizeof(h) + len), .error = -error,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)arg, .iov_len = len },
	};

	if (writev(dev, iov, len ? 2 : 1) < 0)
		perror("stallfs: reply");
}

static void stallfs_attr(uint64_t ino, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = ino == FUSE_ROOT_ID ? 2 : 1;
	a->mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0444;
	a->size = ino == FUSE_ROOT_ID ? 0 : STALLFS_PAGE;
	a->blocks = a->size / 512;
	a->blksize = STALLFS_PAGE;
}

/*
 * Serve @dev until the connection goes: everything a lookup, open and
 * mmap need; a READ is reported on @seen and never answered.
 */
static void stallfs_serve(int dev, int seen)
{
	static char buf[FUSE_MIN_READ_BUFFER + 128 * 1024];
	struct fuse_in_header *in = (void *)buf;
	void *arg = buf + sizeof(*in);
	union {
		struct fuse_init_out init;
		struct fuse_entry_out entry;
		struct fuse_attr_out attr;
		struct fuse_open_out open;
	} out;
	ssize_t n;

	while ((n = read(dev, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n < (ssize_t)sizeof(*in))
			continue;
		memset(&out, 0, sizeof(out));
		switch (in->opcode) {
		case FUSE_INIT:
			out.init.major = FUSE_KERNEL_VERSION;
			out.init.minor = FUSE_KERNEL_MINOR_VERSION;
			out.init.max_readahead =
				((struct fuse_init_in *)arg)->max_readahead;
			out.init.max_write = STALLFS_PAGE;
			stallfs_reply(dev, in->unique, 0, &out.init, sizeof(out.init));
			break;
		case FUSE_LOOKUP:
			if (in->nodeid != FUSE_ROOT_ID || strcmp(arg, "f")) {
				stallfs_reply(dev, in->unique, ENOENT, NULL, 0);
				break;
			}
			out.entry.nodeid = STALLFS_FILE_INO;
			out.entry.generation = 1;
			out.entry.entry_valid = out.entry.attr_valid = 3600;
			stallfs_attr(STALLFS_FILE_INO, &out.entry.attr);
			stallfs_reply(dev, in->unique, 0, &out.entry, sizeof(out.entry));
			break;
		case FUSE_GETATTR:
			out.attr.attr_valid = 3600;
			stallfs_attr(in->nodeid, &out.attr.attr);
			stallfs_reply(dev, in->unique, 0, &out.attr, sizeof(out.attr));
			break;
		case FUSE_OPEN:
			out.open.fh = 1;
			stallfs_reply(dev, in->unique, 0, &out.open, sizeof(out.open));
			break;
		case FUSE_READ:		/* the page the peer holds its lock on */
			if (write(seen, "r", 1) < 0)
				perror("stallfs: seen");
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:	/* no answer expected, or none given */
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
			stallfs_reply(dev, in->unique, 0, NULL, 0);
			break;
		default:
			stallfs_reply(dev, in->unique, ENOSYS, NULL, 0);
		}
	}
}

/* The peer's threads: one holds the mmap lock for read, one waits for it
 * for write (told when on its pipe: both are made before the lock is
 * jammed, since making a thread maps its stack). */
static void *stallfs_hold_read(void *page)
{
	char c;
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && pread(fd, &c, 1, (off_t)(uintptr_t)page) < 0)
		perror("stallfs: /proc/self/mem");
	return NULL;
}

static void *stallfs_wait_write(void *go)
{
	char c;

	if (read(*(int *)go, &c, 1) == 1)
		mmap(NULL, STALLFS_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	return NULL;
}

/*
 * The peer: map the file, become @uid (unless negative: the file is
 * opened first, as the mount's owner), jam the lock, then connect to
 * @addr @count times (SO_PEERCRED: the uid at connect) and say so on @up
 * (one byte: 'c' connected, 'e' failed). Never returns; nothing after
 * the jam may map memory (the peer would wait on itself), so the sockets
 * are made before it.
 */
static void stallfs_peer(const char *dir, const struct sockaddr_un *addr,
			 int count, int seen, int up, int uid)
{
	static int go[2], s[STALLFS_MAX_CONNECTIONS];
	char path[PATH_MAX];
	pthread_t t;
	void *page;
	int fd, i, ok = 1;
	char c;

	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	page = fd < 0 ? MAP_FAILED :
	       mmap(NULL, STALLFS_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	for (i = 0; i < count; i++) {
		s[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ok &= s[i] >= 0;
	}
	/* dumpable again after the change, or /proc/self/mem is root's */
	if (uid >= 0 && (setgroups(0, NULL) || setgid((gid_t)uid) ||
			 setuid((uid_t)uid) || prctl(PR_SET_DUMPABLE, 1)))
		ok = 0;
	if (page == MAP_FAILED || !ok || pipe(go) ||
	    pthread_create(&t, NULL, stallfs_wait_write, &go[0]) ||
	    pthread_create(&t, NULL, stallfs_hold_read, page) ||
	    read(seen, &c, 1) != 1 || write(go[1], "w", 1) != 1) {
		c = 'e';
	} else {
		/* let the writer queue: from now on a reader waits */
		usleep(100 * 1000);
		c = 'c';
		for (i = 0; i < count; i++)
			if (connect(s[i], (const struct sockaddr *)addr,
				    sizeof(*addr)))
				c = 'e';
	}
	if (write(up, &c, 1) < 0)
		_exit(1);
	for (;;)
		pause();
}

/* Does a reader of @pid's command line wait? Tried in a child, 500 ms. */
static int stallfs_cmdline_waits(pid_t pid)
{
	char path[64], buf[256];
	pid_t reader;
	int i, fd, status;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	reader = fork();
	if (reader == 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		_exit(fd >= 0 && read(fd, buf, sizeof(buf)) >= 0 ? 0 : 1);
	}
	if (reader < 0)
		return -1;
	for (i = 0; i < 50; i++) {
		if (waitpid(reader, &status, WNOHANG) == reader)
			return 0;
		usleep(10 * 1000);
	}
	kill(reader, SIGKILL);		/* its wait is killable */
	waitpid(reader, &status, 0);
	return 1;
}

int stallfs_cmdline_hold(const char *socket_path, const char *dir, int seconds,
			 int count, int uid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	pid_t server = -1, peer = -1;
	int dev, seen[2], up[2], ret = 1, status;
	char opts[128], c = 0;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	if (count < 1 || count > STALLFS_MAX_CONNECTIONS) {
		printf("cmdline-hold: --count 1..%d\n", STALLFS_MAX_CONNECTIONS);
		return 1;
	}
	dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("cmdline-hold: /dev/fuse: %s\n", strerror(errno));
		return 2;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=%d,group_id=%d",
		 dev, (int)getuid(), (int)getgid());
	if (mount("stallfs", dir, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		printf("cmdline-hold: FUSE mount at %s: %s\n", dir, strerror(errno));
		close(dev);
		return 2;
	}
	if (pipe2(seen, O_CLOEXEC) || pipe2(up, O_CLOEXEC))
		goto out;
	fflush(stdout);
	server = fork();
	if (server == 0) {
		stallfs_serve(dev, seen[1]);
		_exit(0);
	}
	peer = server > 0 ? fork() : -1;
	if (peer == 0) {
		close(dev);
		stallfs_peer(dir, &addr, count, seen[0], up[1], uid);
	}
	if (peer < 0 || read(up[0], &c, 1) != 1 || c != 'c') {
		printf("cmdline-hold: the peer could not be set up\n");
		goto out;
	}
	if (stallfs_cmdline_waits(peer) != 1) {
		printf("cmdline-hold: a reader of the peer's command line does not wait on this kernel\n");
		ret = 2;
		goto out;
	}
	printf("cmdline-hold: pid %d uid %d connected %d times; a reader of its /proc/PID/cmdline waits\n",
	       (int)peer, uid < 0 ? (int)getuid() : uid, count);
	fflush(stdout);
	sleep((unsigned int)seconds);
	ret = 0;
out:
	/* The server's and our /dev/fuse gone, the connection is aborted:
	 * its READ fails, the peer's threads go on and die. */
	if (server > 0)
		kill(server, SIGKILL);
	close(dev);
	if (server > 0)
		waitpid(server, &status, 0);
	if (peer > 0) {
		kill(peer, SIGKILL);
		waitpid(peer, &status, 0);
	}
	umount2(dir, MNT_DETACH);
	return ret;
}

/*
 * Serve @dev's INIT, then answer nothing: every lookup or stat below the
 * mount waits until the connection goes.
 */
static void stallfs_serve_init_only(int dev)
{
	static char buf[FUSE_MIN_READ_BUFFER + 128 * 1024];
	struct fuse_in_header *in = (void *)buf;
	struct fuse_init_out init;
	ssize_t n;

	while ((n = read(dev, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n < (ssize_t)sizeof(*in) || in->opcode != FUSE_INIT)
			continue;
		memset(&init, 0, sizeof(init));
		init.major = FUSE_KERNEL_VERSION;
		init.minor = FUSE_KERNEL_MINOR_VERSION;
		init.max_readahead = ((struct fuse_init_in *)(in + 1))->max_readahead;
		init.max_write = STALLFS_PAGE;
		stallfs_reply(dev, in->unique, 0, &init, sizeof(init));
	}
}

int stallfs_lookup_hold(const char *dir, int seconds)
{
	pid_t server;
	int dev, status;
	char opts[128];

	dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("lookup-hold: /dev/fuse: %s\n", strerror(errno));
		return 2;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=%d,group_id=%d",
		 dev, (int)getuid(), (int)getgid());
	if (mount("stallfs", dir, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		printf("lookup-hold: FUSE mount at %s: %s\n", dir, strerror(errno));
		close(dev);
		return 2;
	}
	fflush(stdout);
	server = fork();
	if (server == 0) {
		stallfs_serve_init_only(dev);
		_exit(0);
	}
	printf("lookup-hold: %s mounted; every lookup below it waits\n", dir);
	fflush(stdout);
	sleep((unsigned int)seconds);
	/* The connection aborted: whoever waits gets ENOTCONN. */
	if (server > 0)
		kill(server, SIGKILL);
	close(dev);
	if (server > 0)
		waitpid(server, &status, 0);
	umount2(dir, MNT_DETACH);
	return server > 0 ? 0 : 1;
}
