/*
 * adminpages: the admin page's handlers, one per {route, method} row of
 * the router's table.  Each takes the request context (gate.h), owned by
 * handle_request, and answers it exactly once, in HTML.
 */
#ifndef CS_ADMINPAGES_H
#define CS_ADMINPAGES_H

struct ctx;

void	 adminpage_index(struct ctx *);
void	 adminpage_style(struct ctx *);
void	 adminpage_login_form(struct ctx *);
void	 adminpage_login(struct ctx *);
void	 adminpage_logout(struct ctx *);
void	 adminpage_provider(struct ctx *);
void	 adminpage_credential(struct ctx *);

#endif
