/*
 * api: the JSON API (SPEC section 1).  api.c owns its route rows and
 * their handlers; handlers.c passes the table to the router.  A handler
 * takes the request context (gate.h), owned by handle_request, and
 * answers it exactly once.
 */
#ifndef CS_API_H
#define CS_API_H

#include <stddef.h>

#include "router.h"

extern const struct route_table	 api_routes;

/*
 * The OpenAPI document of the API (etc/openapi.json), put into a source
 * file made at build time (Makefile.am), so the program serves the
 * document of its own version.
 */
extern const unsigned char	 api_openapi_doc[];
extern const size_t		 api_openapi_doc_len;

#endif
