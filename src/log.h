/*
 * log: one line per event on stderr (the web server's error log) or to
 * syslog(3), with a level, the process id, the running request's
 * Request-Id and a message.  Callers never pass secrets; values that come
 * from requests go through log_quote-free fields such as ids.  The module
 * owns its copy of the request id and its syslog connection.  Level and
 * target are the process's; request id and sink are per thread (each
 * thread of a FastCGI process serves its own request).
 */
#ifndef CS_LOG_H
#define CS_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL__MAX
};

enum log_target {
	LOG_TO_STDERR = 0,
	LOG_TO_SYSLOG,
	LOG_TARGET__MAX
};

#define LOG_REQID_MAX	64	/* the longest Request-Id, NUL excluded */

void	log_set_level(enum log_level);
/*
 * Sends lines to stderr (as before) or to syslog(3) with the given
 * facility (LOG_AUTHPRIV, ...); syslog is opened once, as "credstore".
 */
void	log_set_target(enum log_target, int facility);
int	log_target_parse(const char *, enum log_target *);
/* daemon, authpriv, user, local0..local7 -> LOG_DAEMON, ...; -1 if none. */
int	log_facility_parse(const char *, int *facility);
/*
 * The request every following line names ("req=ID"), copied; NULL or ""
 * when no request runs.  id must already be a valid Request-Id.
 */
void	log_set_request_id(const char *id);
/*
 * On: this thread's lines to stderr wait for the end of the request (off,
 * which writes them with one write), unless one is a warning or an error
 * (then they go at once, in order).
 */
void	log_batch(int on);
/*
 * Where lines go instead of stderr while set (NULL: back to stderr).  A
 * FastCGI responder whose stderr is /dev/null sends them on the current
 * request's FCGI_STDERR stream, which the web server writes to its log.
 */
void	log_set_sink(void (*fn)(const char *line, size_t len, void *arg),
	    void *arg);
int	log_level_parse(const char *, enum log_level *);
void	log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
