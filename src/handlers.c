/*
 * handlers: the one entry point (handlers.h).  Routes the request, sends
 * 404 and 405 (Allow from the route rows), waits for a ready process,
 * then runs the route's handler, which answers once.
 */
#include "cs_build.h"

#include <stdio.h>
#include <string.h>

#include "adminpages.h"
#include "api.h"
#include "gate.h"
#include "handlers.h"
#include "log.h"
#include "replfwd.h"
#include "router.h"

const struct route_table *const handlers_routes[] = {
	&api_routes,
	&adminpage_routes,
	NULL
};

enum route_rc
handlers_match(struct http_req *req, struct route_match *rm)
{
	enum route_rc	rrc;
	int		i = 0;

	do
		rrc = router_match(handlers_routes, req->method, req->path, rm);
	while (rrc == ROUTE_NOT_FOUND && http_use_mount(req, ++i) == 0);
	return rrc;
}

void
handle_request(struct app_proc *p, struct http_req *req)
{
	struct ctx	 c;
	char		 allow[128], extra[160];
	enum route_rc	 rrc;

	memset(&c, 0, sizeof(c));
	/* this request's state: a reload meanwhile does not change it */
	c.app = app_acquire(p);
	c.req = req;
	c.html = http_wants_html(req);
	rrc = handlers_match(req, &c.rm);
	c.mount = req->mount;
	c.path = req->path;
	if (rrc == ROUTE_NOT_FOUND)
		http_fail(req, AE_NOT_FOUND, "Unknown path", NULL);
	else if (rrc == ROUTE_METHOD) {
		router_allow_header(c.rm.allowed, allow, sizeof(allow));
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		http_fail(req, AE_METHOD, NULL, extra);
	} else if (!c.app->ready && !(c.rm.flags & ROUTE_ANY_STATE))
		gate_unavailable(&c);
	else if (!(c.app->ready && replfwd_route(c.app, req)))	/* replication */
		c.rm.fn(&c);
	if (!req->responded)
		http_fail(req, AE_INTERNAL, NULL, NULL);
	/* the web server's access log has every request; this is for debugging */
	log_debug("%s %s -> %d tenant=%s", req->method_name,
	    strlen(req->uri) > 200 ? "(long path)" : req->uri, req->status,
	    c.authed ? c.id.tenant : "-");
	jwt_identity_free(&c.id);
	app_release(c.app);
}
