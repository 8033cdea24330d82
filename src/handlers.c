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

void
handle_request(struct app *a, struct http_req *req)
{
	struct ctx	 c;
	char		 allow[128], extra[160];
	enum route_rc	 rrc;

	memset(&c, 0, sizeof(c));
	c.app = a;
	c.req = req;
	c.html = http_wants_html(req);
	rrc = router_match(handlers_routes, req->method, req->path, &c.rm);
	if (rrc == ROUTE_NOT_FOUND)
		http_fail(req, AE_NOT_FOUND, "Unknown path", NULL);
	else if (rrc == ROUTE_METHOD) {
		router_allow_header(c.rm.allowed, allow, sizeof(allow));
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		http_fail(req, AE_METHOD, NULL, extra);
	} else if (!app_ensure(a) && !(c.rm.flags & ROUTE_ANY_STATE))
		gate_unavailable(&c);
	else if (!(a->ready && replfwd_route(a, req)))	/* replication */
		c.rm.fn(&c);
	if (!req->responded)
		http_fail(req, AE_INTERNAL, NULL, NULL);
	/* the web server's access log has every request; this is for debugging */
	log_debug("%s %s -> %d tenant=%s", req->method_name,
	    strlen(req->path) > 200 ? "(long path)" : req->path, req->status,
	    c.authed ? c.id.tenant : "-");
	jwt_identity_free(&c.id);
}
