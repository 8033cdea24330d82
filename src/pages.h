/*
 * pages: renders the admin page's HTML (SPEC section 6) from the
 * templates, with the security headers every page carries.  Knows the
 * shape of each page's data, not who may see it: handlers decide that.
 */
#ifndef CS_PAGES_H
#define CS_PAGES_H

#include <json-c/json.h>

#include "apierr.h"
#include "catalog.h"
#include "http.h"
#include "store.h"
#include "tmpl.h"
#include "validate.h"

/* Who is looking: NULL fields when signed out. */
struct page_user {
	const char	*subject;
	const char	*tenant;
	const char	*csrf;
};

/*
 * Renders template name with ctx (consumed) plus the user's fields, and
 * sends it with status and extra headers.  503 when templates are missing.
 * Every page has `mount`, the mount point (mount.h): links and form
 * actions are written {{mount}}/admin/...
 */
void	 page_send(const struct tmpl_set *, struct http_req *, int status,
	    const char *name, const char *title, const struct page_user *,
	    struct json_object *ctx, const char *extra);
void	 page_error(const struct tmpl_set *, struct http_req *, int status,
	    const struct page_user *, const char *message);
/*
 * 303 See Other to location, a path below the mount point ("/admin/"):
 * the Location carries the mount.  extra: more header lines or NULL.
 */
void	 page_redirect(struct http_req *, const char *location,
	    const char *extra);
void	 page_css(struct http_req *, const char *css, size_t len);

/*
 * The provider form's data: one entry per field, enum options with the
 * default (or the submitted value) selected, non-secret values and the
 * label kept from in, each apierr detail next to its field.  Secret
 * values are never put back.
 */
struct json_object *page_provider_form(const struct cat_provider *,
	    const struct req_input *in, const struct apierr *e);
/* A credential's metadata for the result page and the index. */
struct json_object *page_cred(const struct cat_provider *,
	    const struct cred_rec *);

#endif
