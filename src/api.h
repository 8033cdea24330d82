/*
 * api: the JSON API (SPEC section 1).  api.c owns its route rows and
 * their handlers; handlers.c passes the table to the router.  A handler
 * takes the request context (gate.h), owned by handle_request, and
 * answers it exactly once.
 */
#ifndef CS_API_H
#define CS_API_H

#include "router.h"

extern const struct route_table	 api_routes;

#endif
