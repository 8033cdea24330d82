/*
 * apiproxy: the proxy's handler (SPEC section 10); its route row is in
 * api.c.  The handler answers the request context (gate.h) exactly once.
 */
#ifndef CS_APIPROXY_H
#define CS_APIPROXY_H

struct ctx;

void	 apiproxy_handle(struct ctx *);

#endif
