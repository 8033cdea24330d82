#include "cs_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static enum log_level cur_level = LOG_LVL_INFO;
static void (*sink)(const char *, size_t, void *);
static void *sink_arg;

static const char *const level_names[LOG_LVL__MAX] = {
	"error", "warn", "info", "debug",
};

void
log_set_level(enum log_level l)
{
	cur_level = l;
}

void
log_set_sink(void (*fn)(const char *, size_t, void *), void *arg)
{
	sink = fn;
	sink_arg = arg;
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
 * the message are replaced so that one event is one line.
 */
void
log_msg(enum log_level l, const char *fmt, ...)
{
	static pid_t	 pid;	/* credstore never forks: one lookup */
	char		 line[2048], ts[21];
	va_list		 ap;
	int		 n, m;
	size_t		 i, len;

	if (l > cur_level)
		return;
	if (pid == 0)
		pid = getpid();
	fmt_time(time(NULL), ts);
	n = snprintf(line, sizeof(line), "%s credstore[%ld] %s: ", ts,
	    (long)pid, level_names[l]);
	if (n < 0 || (size_t)n >= sizeof(line))
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
	line[len++] = '\n';
	if (sink != NULL)
		sink(line, len, sink_arg);
	else
		(void)!write(STDERR_FILENO, line, len);
}
