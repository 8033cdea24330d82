/*
 * router: the matching engine.  It knows no handler: each front module
 * (api.c, adminpages.c) owns a table of route rows next to its handlers,
 * and handlers.c hands the list of tables to router_match, which maps a
 * method and raw path to a row, its path parameters and the method's
 * handler.  The Allow header of a 405 is derived from the row.
 * Path segments are percent-decoded one by one; a decoded segment with a
 * slash, a backslash, a NUL, a control byte or "." / ".." never matches a
 * parameter.  A row whose last segment is "{*}" takes the rest of the
 * path as it was sent (still percent-encoded, empty segments and all) when
 * no other row matches: the proxy's {path}.  The tables are static; a
 * match borrows them, and the rest borrows the path.
 */
#ifndef CS_ROUTER_H
#define CS_ROUTER_H

#include <stddef.h>

#include "http.h"

#define ROUTE_PARAM_MAX	256
#define ROUTE_SEGS_MAX	8

/* A handler of one route and method; struct ctx is gate.h's. */
struct ctx;
typedef void	(*route_fn)(struct ctx *);

/* Route flags. */
#define ROUTE_ANY_STATE	0x1	/* runs while the process is not ready */

/*
 * One route: its name (for logs and tests), its path segments ("{p}" is
 * the provider, "{c}" the credential id, anything else a literal), the
 * handler of each method it allows, and ROUTE_* flags.  Rows are tried in
 * order, so a literal row comes before a parameter row it overlaps.
 */
struct route_def {
	const char	*name;
	const char	*seg[ROUTE_SEGS_MAX];
	route_fn	 fn[HM__MAX];
	unsigned	 flags;
};

/* The rows of one front module. */
struct route_table {
	const struct route_def	*rows;
	size_t			 n;
};

/* The longest raw path a "{*}" row takes (its rest is checked by its handler). */
#define ROUTE_REST_MAX	HTTP_URI_MAX

/* Row helpers: a GET handler answers HEAD too (http.c sends no body). */
#define ROUTE_GET(f)	[HM_GET] = (f), [HM_HEAD] = (f)
#define ROUTE_POST(f)	[HM_POST] = (f)
#define ROUTE_PUT(f)	[HM_PUT] = (f)
#define ROUTE_PATCH(f)	[HM_PATCH] = (f)
#define ROUTE_DELETE(f)	[HM_DELETE] = (f)

struct route_match {
	const struct route_def	*def;	/* the row; NULL when not found */
	char		 provider[ROUTE_PARAM_MAX];
	char		 cred_id[ROUTE_PARAM_MAX];
	const char	*rest;		/* "{*}": the raw rest of the path */
	unsigned	 allowed;	/* bit (1 << enum http_method) */
	route_fn	 fn;		/* ROUTE_OK: the method's handler */
	unsigned	 flags;		/* ROUTE_* */
};

enum route_rc {
	ROUTE_OK = 0,
	ROUTE_NOT_FOUND,
	ROUTE_METHOD		/* path known, method not: see allowed */
};

/* Matches against tables, a NULL-terminated list tried in order. */
enum route_rc	 router_match(const struct route_table *const tables[],
		    enum http_method, const char *path, struct route_match *);
/* "GET, POST" for an Allow header. */
void		 router_allow_header(unsigned allowed, char *out, size_t n);

#endif
