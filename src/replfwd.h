/*
 * replfwd: forwarding a replica's writes to the master (SPEC section 11);
 * the format of a forwarded request is described in replfwd.c.
 */
#ifndef CS_REPLFWD_H
#define CS_REPLFWD_H

#include "config.h"
#include "http.h"

struct app;

/*
 * Before a request is handled: 503 while repl-serve is not running; on a
 * replica a write (any method but GET,
 * HEAD, OPTIONS) is sent to the master and its answer relayed, or 503
 * with Retry-After when no master is known or reachable; on the master a
 * forwarded request is verified (403 when its signature is bad) and
 * handled, or 503 when this site is no longer the master.  1 when req
 * was answered here, 0 to handle it as usual.  0 on a single site.
 */
int	 replfwd_route(struct app *, struct http_req *);
/* 1 when req carries X-Credstore-Forwarded. */
int	 replfwd_is_forwarded(const struct http_req *);
/*
 * Checks a forwarded request's signature and time; on success the
 * caller's address replaces the forwarding site's.  0 or -1 (logged).
 */
int	 replfwd_verify(const struct config *, struct http_req *);
/*
 * The hex signature of req as site would send it at time ts for client
 * (with cfg's repl_secret_file): 0 or -1.
 */
int	 replfwd_sign(const struct config *, const struct http_req *,
	    const char *ts, const char *client, const char *site, char sig[65]);

#endif
