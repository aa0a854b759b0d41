// SPDX-License-Identifier: MIT
/*
 * pvdmad logging. Lines look like
 *   2026-05-01T12:00:00 pvdmad[123]: warn: companion 3: bad sq_tail 99
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define PVDMAD_RATELIMIT_BURST	5	/* lines per second per call site */
#define LOG_SYSLOG_PATH		"/dev/log"

static const char *const level_names[] = { "err", "warn", "info", "debug" };
static const int level_syslog[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

static struct {
	int level;
	int fd;			/* log file, or -1 for stderr */
	char *path;		/* for reopen */
	bool syslog;
	int syslog_fd;		/* our socket to LOG_SYSLOG_PATH, or -1 */
	unsigned long dropped;	/* lines a log could not take at once */
	mode_t stderr_type;	/* S_IFMT of stderr, at open */
	int stderr_fd;		/* our own description of stderr, or -1 */
} log_state = {
	.level = PVDMAD_LOG_INFO, .fd = -1, .syslog_fd = -1, .stderr_fd = -1,
};

/*
 * stderr that nobody drains (a pipe to a stuck parent, a full journal
 * socket, a terminal whose output is stopped with ^S) must not stop the
 * daemon: a line it can't take at once is dropped and counted. Its open
 * file description is shared with whoever started pvdmad (the shell, the
 * supervisor), so O_NONBLOCK is never set on it. A FIFO, pipe or
 * terminal is written through a description of our own instead, opened
 * anew through /proc/self/fd/2 with O_NONBLOCK (log_own_stderr): a write
 * there fails with EAGAIN rather than wait, even when another writer
 * fills the same pipe or terminal at that instant. A socket: MSG_DONTWAIT.
 * Where that open fails (no /proc, a FIFO with no reader yet, a terminal
 * in exclusive mode), anything but a regular file gets a poll with no
 * timeout first, and a line written only if there is room: a pipe polls
 * writable with a free buffer slot, more than a line (fs/pipe.c,
 * pipe_poll); n_tty only with room in the tty's queue and no other
 * writer holding it (drivers/tty/n_tty.c, n_tty_poll), and a pty stopped
 * by ^S has none (pty_write_room). A pipe made by pipe(2) is then written
 * with RWF_NOWAIT, which it takes since Linux 6.4 (FMODE_NOWAIT); a FIFO
 * or an older kernel refuses it (EOPNOTSUPP) and gets a plain write.
 * Only on that fallback can another writer filling the same FIFO or
 * terminal between the poll and the write still make it wait.
 */
static ssize_t log_write_stderr(const char *buf, size_t n)
{
	struct pollfd pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	mode_t type = log_state.stderr_type;
	ssize_t ret;

	if (log_state.stderr_fd >= 0)
		return write(log_state.stderr_fd, buf, n);
	if (type == S_IFSOCK)
		return send(STDERR_FILENO, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (type != S_IFREG && (poll(&pfd, 1, 0) != 1 ||
				!(pfd.revents & POLLOUT))) {
		errno = EAGAIN;
		return -1;
	}
	if (type == S_IFIFO) {
		ret = pwritev2(STDERR_FILENO, &iov, 1, -1, RWF_NOWAIT);
		if (ret >= 0 || errno != EOPNOTSUPP)
			return ret;
	}
	return write(STDERR_FILENO, buf, n);
}

/* Our own log file is opened O_NONBLOCK (log_open_file): plain writes. */
static ssize_t log_write_fd(const char *buf, size_t n)
{
	if (log_state.fd >= 0)
		return write(log_state.fd, buf, n);
	return log_write_stderr(buf, n);
}

/*
 * A description of stderr's pipe or terminal of our own, O_NONBLOCK, or
 * -1. Only those: opening a device anew can do more than a write would
 * (a tape rewinds on its last close), and a regular file never waits.
 * O_NONBLOCK also keeps the open itself from waiting (a FIFO with no
 * reader fails with ENXIO, a serial line does not wait for carrier);
 * O_NOCTTY keeps a terminal from becoming ours. The same inode, checked:
 * /proc/self/fd/2 could name something else only if /proc is not procfs.
 */
static int log_own_stderr(mode_t type)
{
	struct stat ours, given;
	int fd;

	if (type != S_IFIFO && !(type == S_IFCHR && isatty(STDERR_FILENO)))
		return -1;
	fd = open("/proc/self/fd/2",
		  O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &ours) || fstat(STDERR_FILENO, &given) ||
	    ours.st_dev != given.st_dev || ours.st_ino != given.st_ino ||
	    ours.st_rdev != given.st_rdev) {
		close(fd);
		return -1;
	}
	return fd;
}

static void log_note_stderr(void)
{
	struct stat st;

	log_state.stderr_type = fstat(STDERR_FILENO, &st) ? 0 :
				st.st_mode & S_IFMT;
	if (log_state.stderr_fd < 0)
		log_state.stderr_fd = log_own_stderr(log_state.stderr_type);
}

/*
 * How a line reaches stderr (stats: log_stderr), said because lines a
 * full stderr could not take are lost: "own" (a description of our own,
 * O_NONBLOCK), "dontwait" (a socket, MSG_DONTWAIT), "poll" (the
 * fallback: no description of our own could be opened), "write" (a
 * regular file), or "unused" (--log-file).
 */
const char *pvdmad_log_stderr_way(void)
{
	if (log_state.fd >= 0)
		return "unused";
	if (log_state.stderr_fd >= 0)
		return "own";
	if (log_state.stderr_type == S_IFSOCK)
		return "dontwait";
	return log_state.stderr_type == S_IFREG ? "write" : "poll";
}

int pvdmad_log_parse_level(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(name, level_names[i]))
			return i;
	if (name[0] >= '0' && name[0] <= '3' && name[1] == '\0')
		return name[0] - '0';
	return -1;
}

/*
 * Whoever may write the log's directory can put a FIFO nobody reads or a
 * file under a lease there: O_NONBLOCK makes such an open fail at once
 * (ENXIO, EWOULDBLOCK) instead of waiting, at start or at a reopen on the
 * loop. On a regular file it changes nothing; a FIFO is then written
 * non-blocking: the open file description is ours alone.
 */
static int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			    O_NOCTTY | O_NONBLOCK, 0640);

	return fd < 0 ? -errno : fd;
}

int pvdmad_log_open(const char *path, bool use_syslog)
{
	int fd = -1;

	if (path) {
		fd = log_open_file(path);
		if (fd < 0)
			return fd;
		log_state.path = strdup(path);
		if (!log_state.path) {
			close(fd);
			return -ENOMEM;
		}
	}
	log_state.fd = fd;
	log_state.syslog = use_syslog;
	log_note_stderr();
	return 0;
}

int pvdmad_log_reopen(void)
{
	int fd;

	if (!log_state.path)
		return 0;
	fd = log_open_file(log_state.path);
	if (fd < 0)
		return fd;	/* keep writing to the old file */
	close(log_state.fd);
	log_state.fd = fd;
	return 0;
}

void pvdmad_log_close(void)
{
	if (log_state.fd >= 0)
		close(log_state.fd);
	log_state.fd = -1;
	free(log_state.path);
	log_state.path = NULL;
	if (log_state.syslog_fd >= 0)
		close(log_state.syslog_fd);
	log_state.syslog_fd = -1;
	log_state.syslog = false;
	if (log_state.stderr_fd >= 0)
		close(log_state.stderr_fd);
	log_state.stderr_fd = -1;
}

void pvdmad_log_set_level(int level)
{
	if (level >= PVDMAD_LOG_ERR && level <= PVDMAD_LOG_DEBUG)
		log_state.level = level;
}

int pvdmad_log_get_level(void)
{
	return log_state.level;
}

/* One write per line; a short write to a log is not worth a retry. */
static void log_write(const char *line, int n)
{
	char note[80];
	int m;

	if (log_state.dropped) {
		m = snprintf(note, sizeof(note),
			     "pvdmad[%d]: %lu log lines dropped (log not drained)\n",
			     (int)getpid(), log_state.dropped);
		if (log_write_fd(note, m) != m)
			goto drop;
		log_state.dropped = 0;
	}
	if (log_write_fd(line, n) == n)
		return;
drop:
	log_state.dropped++;
}

unsigned long pvdmad_log_dropped(void)
{
	return log_state.dropped;
}

/*
 * syslog(3) sends on a blocking socket, and /dev/log is open to every
 * local user: one who floods it (or a journal that stops reading) fills
 * its queue, and each line of ours would wait. Our own socket is
 * non-blocking; a line it can't take is dropped and counted like the
 * log's. Any other failure (the journal restarted) reconnects next line.
 */
static int log_syslog_socket(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX,
				    .sun_path = LOG_SYSLOG_PATH };
	int fd;

	if (log_state.syslog_fd >= 0)
		return log_state.syslog_fd;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		fd = -1;
	}
	log_state.syslog_fd = fd;
	return fd;
}

/* One RFC 3164 datagram, as syslog(3) would write it. */
static void log_syslog(int level, const struct tm *tm, const char *msg)
{
	char stamp[32], dgram[600];
	int fd = log_syslog_socket(), n;

	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", tm);
	n = snprintf(dgram, sizeof(dgram), "<%d>%s pvdmad[%d]: %s",
		     LOG_DAEMON | level_syslog[level], stamp, (int)getpid(), msg);
	if (n >= (int)sizeof(dgram))
		n = sizeof(dgram) - 1;
	if (fd >= 0 && send(fd, dgram, n, MSG_DONTWAIT | MSG_NOSIGNAL) == n)
		return;
	if (fd >= 0 && errno != EAGAIN) {
		close(fd);
		log_state.syslog_fd = -1;
	}
	log_state.dropped++;
}

/*
 * A message is one line of text whatever its arguments hold: a peer's
 * bytes reach some of them (QEMU's command line in a refusal, names), and
 * a newline there would forge a line of pvdmad's own in the log file or
 * on stderr, an escape sequence drive the terminal. Control bytes become
 * '?'; bytes above ASCII (UTF-8) are left alone.
 */
static void log_flatten(char *msg)
{
	for (; *msg; msg++)
		if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
			*msg = '?';
}

static void log_emit(int level, const char *fmt, va_list ap)
{
	char msg[512], line[600];
	struct tm tm;
	time_t now;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_flatten(msg);
	now = time(NULL);
	localtime_r(&now, &tm);
	if (log_state.syslog)
		log_syslog(level, &tm, msg);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d pvdmad[%d]: %s: %s\n",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (int)getpid(), level_names[level], msg);
	if (n < 0)
		return;
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	log_write(line, n);
}

void pvdmad_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_state.level || level < 0)
		return;
	va_start(ap, fmt);
	log_emit(level, fmt, ap);
	va_end(ap);
}

void pvdmad_log_rl(struct pvdmad_ratelimit *rl, int level, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (level > log_state.level || level < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec != rl->window) {
		rl->window = ts.tv_sec;
		rl->printed = 0;
	}
	if (rl->printed >= PVDMAD_RATELIMIT_BURST) {
		rl->missed++;
		return;
	}
	rl->printed++;
	if (rl->missed) {
		pvdmad_log(level, "%lu similar messages suppressed", rl->missed);
		rl->missed = 0;
	}
	va_start(ap, fmt);
	log_emit(level, fmt, ap);
	va_end(ap);
}
