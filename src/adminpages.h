/*
 * adminpages: the admin page.  adminpages.c owns its route rows and their
 * handlers; handlers.c passes the table to the router.  A handler takes
 * the request context (gate.h), owned by handle_request, and answers it
 * exactly once, in HTML.
 */
#ifndef CS_ADMINPAGES_H
#define CS_ADMINPAGES_H

#include "router.h"

extern const struct route_table	 adminpage_routes;

#endif
