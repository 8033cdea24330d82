/*
 * handlers: the API.  One entry point takes a request read by the http
 * module, routes it, runs the gates in order (authenticate, authorise,
 * resolve, parse and validate, work, respond) and writes one response.
 * Handlers know HTTP and call the core modules; the core never calls back.
 */
#ifndef CS_HANDLERS_H
#define CS_HANDLERS_H

#include "app.h"
#include "http.h"
#include "router.h"

/* The route tables of the front modules, in match order; NULL-terminated. */
extern const struct route_table *const handlers_routes[];

/*
 * Routes req under the first of its mount candidates (mount.h) under
 * which the path names a route (or a known path with another method);
 * req's mount and path are that candidate's after.
 */
enum route_rc	 handlers_match(struct http_req *, struct route_match *);
void	 handle_request(struct app_proc *, struct http_req *);

#endif
