/*
 * log: one line per event on stderr (the web server's error log), with a
 * level, the process id and a message.  Callers never pass secrets; values
 * that come from requests go through log_quote-free fields such as ids.
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

void	log_set_level(enum log_level);
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
