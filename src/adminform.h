/*
 * adminform: one credential's page of the admin page and the forms on it
 * (SPEC section 6): rename, new values, re-test, connect, disconnect, and
 * delete behind a confirmation page.  Every successful post answers 303
 * See Other to a page (post/redirect/get) with a fixed message code in
 * the query (?done=CODE, never the input); a failed post renders the
 * page again with its messages and a 4xx status, keeping the label and
 * never a secret value.  adminpages.c owns the route rows.
 */
#ifndef CS_ADMINFORM_H
#define CS_ADMINFORM_H

#include <stddef.h>

#include "gate.h"

/* GET /admin/integrations/{p}/credentials/{c} */
void	 adminform_credential(struct ctx *);
/* GET and POST .../{c}/delete: the confirmation page, and the delete */
void	 adminform_delete_confirm(struct ctx *);
void	 adminform_delete(struct ctx *);
/* POST .../{c}/label, /values, /retest, /connect, /disconnect */
void	 adminform_rename(struct ctx *);
void	 adminform_values(struct ctx *);
void	 adminform_retest(struct ctx *);
void	 adminform_connect(struct ctx *);
void	 adminform_disconnect(struct ctx *);

/*
 * The query parameter name of q (URL-decoded into out, at most outlen - 1
 * bytes): 1 found, 0 absent, -1 malformed, too long or holding a NUL.
 */
int	 adminform_query(const char *q, const char *name, char *out,
	    size_t outlen);
/*
 * The notice of the query's ?done=CODE (a fixed sentence, never the
 * query's text), or NULL.  "retested" names status (into buf).
 */
const char *adminform_flash(const char *q, const char *status, char *buf,
	    size_t len);

#endif
