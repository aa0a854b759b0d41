/* SPDX-License-Identifier: MIT */
/*
 * pvdmad logging: leveled lines to stderr, a log file or syslog.
 *
 * Nothing on the request path logs at the default level (info); hot-path
 * complaints and every line a peer can cause (connects, refusals) go
 * through pvdmad_log_ratelimited() so no peer can flood the log. A log
 * that is a pipe, socket or terminal is never waited for: lines it can't
 * take at once are dropped and counted, without O_NONBLOCK set on a
 * stderr shared with others (log.c). Single-threaded: the daemon's one
 * loop is the only caller.
 */
#ifndef PVDMAD_LOG_H
#define PVDMAD_LOG_H

#include <stdbool.h>

enum pvdmad_log_level {
	PVDMAD_LOG_ERR	= 0,
	PVDMAD_LOG_WARN	= 1,
	PVDMAD_LOG_INFO	= 2,
	PVDMAD_LOG_DEBUG = 3,
};

/* Parse "err", "warn", "info", "debug" or a digit; -1 if unknown. */
int pvdmad_log_parse_level(const char *name);

/*
 * pvdmad_log_open - choose where lines go
 * @path:	a file to append to, or NULL for stderr
 * @use_syslog:	also send every line to syslog
 *
 * Returns 0 or a negative errno (the file could not be opened).
 */
int pvdmad_log_open(const char *path, bool use_syslog);

/* Reopen the log file (after rotation: SIGHUP). 0 or a negative errno. */
int pvdmad_log_reopen(void);
void pvdmad_log_close(void);
/* Lines dropped since the last that got through (a log not drained). */
unsigned long pvdmad_log_dropped(void);
/* How stderr is written: "own", "dontwait", "poll", "write", "unused". */
const char *pvdmad_log_stderr_way(void);
void pvdmad_log_set_level(int level);
int pvdmad_log_get_level(void);

void pvdmad_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * At most a few lines per second per call site; the rest are counted and
 * reported as "N messages suppressed" with the next line that passes.
 */
struct pvdmad_ratelimit {
	long window;		/* second the current budget belongs to */
	unsigned int printed;	/* lines printed in that second */
	unsigned long missed;	/* lines dropped since the last printed */
};

void pvdmad_log_rl(struct pvdmad_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pvdmad_log_ratelimited(level, ...)				\
	do {								\
		static struct pvdmad_ratelimit _rl;			\
		pvdmad_log_rl(&_rl, level, __VA_ARGS__);		\
	} while (0)

#define pr_err(...)	pvdmad_log(PVDMAD_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	pvdmad_log(PVDMAD_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	pvdmad_log(PVDMAD_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	pvdmad_log(PVDMAD_LOG_DEBUG, __VA_ARGS__)

#endif /* PVDMAD_LOG_H */
