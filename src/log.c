#include "cs_build.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/*
 * Threads: the level and the target are the process's, set when the
 * configuration loads while other threads log (atomics); the sink and the
 * request id are the running request's, so each thread has its own.
 */
static atomic_int cur_level = LOG_LVL_INFO;
static _Thread_local void (*sink)(const char *, size_t, void *);
static _Thread_local void *sink_arg;
static atomic_int target = LOG_TO_STDERR;
static _Thread_local char reqid[LOG_REQID_MAX + 1];
static pthread_mutex_t syslog_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * The lines of the running request (log_batch), written to stderr with
 * one write when it ends, or at once from a warning up: a store logs
 * three lines, and on these machines every system call counts.
 */
#define BATCH_MAX	4096
static _Thread_local char	batch[BATCH_MAX];
static _Thread_local size_t	batch_len;
static _Thread_local int	batching;

/* syslog(3) priority of each level */
static const int level_prio[LOG_LVL__MAX] = {
	LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG,
};

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "authpriv", LOG_AUTHPRIV }, { "daemon", LOG_DAEMON },
	{ "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static const char *const level_names[LOG_LVL__MAX] = {
	"error", "warn", "info", "debug",
};

void
log_set_level(enum log_level l)
{
	atomic_store_explicit(&cur_level, (int)l, memory_order_relaxed);
}

void
log_set_sink(void (*fn)(const char *, size_t, void *), void *arg)
{
	sink = fn;
	sink_arg = arg;
}

void
log_set_target(enum log_target t, int facility)
{
	static int opened;	/* under syslog_lock */

	if (t >= LOG_TARGET__MAX)
		t = LOG_TO_STDERR;
	pthread_mutex_lock(&syslog_lock);
	if (t == LOG_TO_SYSLOG && !opened) {
		openlog("credstore", LOG_PID, facility);
		opened = 1;
	}
	pthread_mutex_unlock(&syslog_lock);
	atomic_store_explicit(&target, (int)t, memory_order_relaxed);
}

int
log_target_parse(const char *s, enum log_target *out)
{
	if (strcmp(s, "stderr") == 0)
		*out = LOG_TO_STDERR;
	else if (strcmp(s, "syslog") == 0)
		*out = LOG_TO_SYSLOG;
	else
		return -1;
	return 0;
}

int
log_facility_parse(const char *s, int *out)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(s, facilities[i].name) == 0) {
			*out = facilities[i].facility;
			return 0;
		}
	return -1;
}

static void
batch_flush(void)
{
	if (batch_len > 0)
		(void)!write(STDERR_FILENO, batch, batch_len);
	batch_len = 0;
}

void
log_batch(int on)
{
	batch_flush();
	batching = on;
}

void
log_set_request_id(const char *id)
{
	snprintf(reqid, sizeof(reqid), "%s", id != NULL ? id : "");
}

int
log_level_parse(const char *s, enum log_level *out)
{
	int i;

	for (i = 0; i < LOG_LVL__MAX; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

/*
 * The whole line is formatted first and written with one write(2) so that
 * lines from concurrent processes do not interleave.  Control characters in
 * the message are replaced so that one event is one line.  syslog gets the
 * line without the time and the program (syslog adds its own).
 */
void
log_msg(enum log_level l, const char *fmt, ...)
{
	static atomic_long pid;	/* credstore never forks: one lookup */
	char		 line[2048], ts[21];
	va_list		 ap;
	int		 n, m, body;
	size_t		 i, len;

	if ((int)l > atomic_load_explicit(&cur_level, memory_order_relaxed))
		return;
	if (atomic_load_explicit(&pid, memory_order_relaxed) == 0)
		atomic_store_explicit(&pid, (long)getpid(), memory_order_relaxed);
	fmt_time(time(NULL), ts);
	body = snprintf(line, sizeof(line), "%s credstore[%ld] ", ts,
	    atomic_load_explicit(&pid, memory_order_relaxed));
	if (body < 0 || (size_t)body >= sizeof(line))
		return;
	n = snprintf(line + body, sizeof(line) - (size_t)body, "%s: %s%s%s",
	    level_names[l], reqid[0] ? "req=" : "", reqid, reqid[0] ? " " : "");
	if (n < 0 || (size_t)(n += body) >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	len = strlen(line);
	for (i = (size_t)n; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (atomic_load_explicit(&target, memory_order_relaxed) ==
	    LOG_TO_SYSLOG) {
		syslog(level_prio[l], "%s", line + body);
		return;
	}
	line[len++] = '\n';
	if (sink != NULL)
		sink(line, len, sink_arg);
	else if (batching) {
		if (batch_len + len > sizeof(batch))
			batch_flush();
		memcpy(batch + batch_len, line, len);
		batch_len += len;
		if (l <= LOG_LVL_WARN)
			batch_flush();
	} else
		(void)!write(STDERR_FILENO, line, len);
}
