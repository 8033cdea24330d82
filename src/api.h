/*
 * api: the JSON API's handlers, one per {route, method} row of the
 * router's table.  Each takes the request context (gate.h), owned by
 * handle_request, and answers it exactly once.
 */
#ifndef CS_API_H
#define CS_API_H

struct ctx;

void	 api_healthz(struct ctx *);
void	 api_catalog(struct ctx *);
void	 api_catalog_one(struct ctx *);
void	 api_cred_list(struct ctx *);
void	 api_cred_create(struct ctx *);
void	 api_cred_get(struct ctx *);
void	 api_cred_put(struct ctx *);
void	 api_cred_patch(struct ctx *);
void	 api_cred_delete(struct ctx *);
/* POST on one credential: an HTML form's _method=DELETE, else 405. */
void	 api_cred_form_post(struct ctx *);
void	 api_cred_validate(struct ctx *);
void	 api_conn_get(struct ctx *);
void	 api_conn_put(struct ctx *);
void	 api_conn_delete(struct ctx *);

#endif
