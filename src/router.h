/*
 * router: maps a method and raw path to a route of the table in router.c,
 * and to the handler of that method: the one {route, method} -> handler
 * table.
 * Path segments are percent-decoded one by one; a decoded segment with a
 * slash, a NUL, a control byte or "." / ".." never matches a parameter.
 */
#ifndef CS_ROUTER_H
#define CS_ROUTER_H

#include "http.h"

enum route {
	RT_HEALTHZ = 0,
	RT_CATALOG,		/* /v1/integrations/catalog */
	RT_CATALOG_ONE,		/* /v1/integrations/catalog/{provider} */
	RT_CREDENTIALS,		/* /v1/integrations/{provider}/credentials */
	RT_CREDENTIAL,		/* .../credentials/{credentialId} */
	RT_CRED_VALIDATE,	/* .../credentials/{credentialId}/validate */
	RT_CONNECT,		/* /v1/integrations/{provider}/connect */
	RT_ADMIN_INDEX,		/* /admin/ */
	RT_ADMIN_STYLE,		/* /admin/style.css */
	RT_ADMIN_LOGIN,		/* /admin/login */
	RT_ADMIN_LOGOUT,	/* /admin/logout */
	RT_ADMIN_PROVIDER,	/* /admin/integrations/{provider} */
	RT_ADMIN_CREDENTIAL,	/* /admin/integrations/{provider}/credentials/{id} */
	RT__MAX
};

#define ROUTE_PARAM_MAX	256

/* A handler of one route and method; struct ctx is gate.h's. */
struct ctx;
typedef void	(*route_fn)(struct ctx *);

/* Route flags. */
#define ROUTE_ANY_STATE	0x1	/* runs while the process is not ready */

struct route_match {
	enum route	 route;
	char		 provider[ROUTE_PARAM_MAX];
	char		 cred_id[ROUTE_PARAM_MAX];
	unsigned	 allowed;	/* bit (1 << enum http_method) */
	route_fn	 fn;		/* ROUTE_OK: the method's handler */
	unsigned	 flags;		/* ROUTE_* */
};

enum route_rc {
	ROUTE_OK = 0,
	ROUTE_NOT_FOUND,
	ROUTE_METHOD		/* path known, method not: see allowed */
};

enum route_rc	 router_match(enum http_method, const char *path,
		    struct route_match *);
/* "GET, POST" for an Allow header. */
void		 router_allow_header(unsigned allowed, char *out, size_t n);

#endif
