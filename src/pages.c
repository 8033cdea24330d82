/*
 * pages: the admin page's rendering (pages.h): templates with the page
 * headers, the provider form with each detail's sentence next to its field
 * (apierr_reason_message), credential metadata.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credmeta.h"
#include "jsonx.h"
#include "pages.h"
#include "util.h"

#define PAGE_HEADERS \
	"Content-Security-Policy: default-src 'none'; style-src 'self'; " \
	"img-src 'self'; form-action 'self'; frame-ancestors 'none'; " \
	"base-uri 'none'\r\n" \
	"Referrer-Policy: no-referrer\r\n" \
	"X-Frame-Options: DENY\r\n"

void
page_send(const struct tmpl_set *set, struct http_req *req, int status,
    const char *name, const char *title, const struct page_user *u,
    struct json_object *ctx, const char *extra)
{
	const struct tmpl	*t;
	struct buf		 out, hdr;

	if (set == NULL || (t = tmpl_get(set, name)) == NULL) {
		json_object_put(ctx);
		http_send(req, 503, "text/plain; charset=utf-8",
		    "Retry-After: 5\r\n" PAGE_HEADERS,
		    "The admin page is unavailable.\n", 31);
		return;
	}
	json_object_object_add(ctx, "title", json_object_new_string(title));
	/* links and form actions: {{mount}}/admin/... (mount.h) */
	json_object_object_add(ctx, "mount", json_object_new_string(req->mount));
	if (u != NULL && u->tenant != NULL) {
		json_object_object_add(ctx, "signed_in",
		    json_object_new_boolean(1));
		json_object_object_add(ctx, "tenant",
		    json_object_new_string(u->tenant));
		json_object_object_add(ctx, "subject", json_object_new_string(
		    u->subject ? u->subject : "signed in"));
		json_object_object_add(ctx, "csrf",
		    json_object_new_string(u->csrf ? u->csrf : ""));
	}
	buf_init(&out, TMPL_MAX_OUTPUT, 0);
	buf_init(&hdr, 8192, 0);
	if (tmpl_render(set, t, ctx, &out) == -1) {
		buf_reset(&out);
		json_object_put(ctx);
		http_send(req, 500, "text/plain; charset=utf-8", PAGE_HEADERS,
		    "Internal error.\n", 16);
		return;
	}
	buf_adds(&hdr, PAGE_HEADERS);
	if (extra != NULL)
		buf_adds(&hdr, extra);
	http_send(req, status, "text/html; charset=utf-8", hdr.data, out.data,
	    out.len);
	buf_reset(&out);
	buf_reset(&hdr);
	json_object_put(ctx);
}

void
page_error(const struct tmpl_set *set, struct http_req *req, int status,
    const struct page_user *u, const char *message)
{
	struct json_object	*ctx = json_object_new_object();
	const char		*heading;

	heading = status == 403 ? "Not allowed" : status == 404 ? "Not found" :
	    status == 503 ? "Unavailable" : status >= 500 ? "Something failed" :
	    "That did not work";
	json_object_object_add(ctx, "heading", json_object_new_string(heading));
	json_object_object_add(ctx, "message", json_object_new_string(message));
	page_send(set, req, status, "error", heading, u, ctx, NULL);
}

void
page_redirect(struct http_req *req, const char *location, const char *extra)
{
	struct buf h;

	buf_init(&h, 8192, 0);
	buf_printf(&h, "Location: %s%s\r\n", req->mount, location);
	buf_adds(&h, PAGE_HEADERS);
	if (extra != NULL)
		buf_adds(&h, extra);
	http_send(req, 303, "text/plain; charset=utf-8", h.data, "", 0);
	buf_reset(&h);
}

void
page_css(struct http_req *req, const char *css, size_t len)
{
	if (css == NULL) {
		http_send(req, 404, "text/plain; charset=utf-8", PAGE_HEADERS,
		    "", 0);
		return;
	}
	http_send(req, 200, "text/css; charset=utf-8", PAGE_HEADERS, css, len);
}

/* The error of detail field "credentials.NAME" (or "label"), or NULL. */
static const char *
error_for(const struct apierr *e, const char *field)
{
	char	want[96];
	size_t	i;

	if (e == NULL)
		return NULL;
	snprintf(want, sizeof(want), "%s", field);
	for (i = 0; i < e->nd; i++)
		if (strcmp(e->d[i].field, want) == 0)
			return apierr_reason_message(e->d[i].reason);
	return NULL;
}

/* The submitted value of a non-secret field, or NULL. */
static const char *
submitted(const struct req_input *in, const char *name)
{
	size_t i;

	if (in == NULL)
		return NULL;
	for (i = 0; i < in->nf; i++)
		if (strcmp(in->f[i].name, name) == 0 && in->f[i].value != NULL &&
		    !in->f[i].dup)
			return in->f[i].value;
	return NULL;
}

struct json_object *
page_provider_form(const struct cat_provider *p, const struct req_input *in,
    const struct apierr *e)
{
	struct json_object	*ctx, *fields, *f, *opts, *o;
	const struct cat_field	*cf;
	const char		*v, *err;
	char			 key[96];
	size_t			 i, j;

	ctx = json_object_new_object();
	json_object_object_add(ctx, "provider", json_object_new_string(p->id));
	json_object_object_add(ctx, "provider_name",
	    json_object_new_string(p->name));
	fields = json_object_new_array();
	for (i = 0; i < p->nfields; i++) {
		cf = &p->fields[i];
		f = json_object_new_object();
		json_object_object_add(f, "name", json_object_new_string(cf->name));
		json_object_object_add(f, "label",
		    json_object_new_string(cf->label));
		json_object_object_add(f, "secret",
		    json_object_new_boolean(cf->secret));
		json_object_object_add(f, "required",
		    json_object_new_boolean(cf->required));
		/* a secret is never put back into the page */
		v = cf->secret ? NULL : submitted(in, cf->name);
		if (cf->enumv != NULL) {
			const char *sel = v ? v : cf->def;

			json_object_object_add(f, "is_enum",
			    json_object_new_boolean(1));
			opts = json_object_new_array();
			for (j = 0; j < cf->nenum; j++) {
				o = json_object_new_object();
				json_object_object_add(o, "value",
				    json_object_new_string(cf->enumv[j]));
				json_object_object_add(o, "selected",
				    json_object_new_boolean(sel != NULL &&
				    strcmp(sel, cf->enumv[j]) == 0));
				json_object_array_add(opts, o);
			}
			json_object_object_add(f, "options", opts);
		} else if (v != NULL)
			json_object_object_add(f, "value",
			    json_object_new_string(v));
		snprintf(key, sizeof(key), "credentials.%s", cf->name);
		if ((err = error_for(e, key)) != NULL)
			json_object_object_add(f, "error",
			    json_object_new_string(err));
		json_object_array_add(fields, f);
	}
	json_object_object_add(ctx, "fields", fields);
	if (in != NULL && in->label_state == VS_STRING && in->label != NULL)
		json_object_object_add(ctx, "label",
		    json_object_new_string(in->label));
	if ((err = error_for(e, "label")) != NULL)
		json_object_object_add(ctx, "label_error",
		    json_object_new_string(err));
	return ctx;
}

struct json_object *
page_cred(const struct cat_provider *p, const struct cred_rec *r)
{
	struct json_object *o = credmeta_json(r);

	json_object_object_add(o, "provider_name",
	    json_object_new_string(p != NULL ? p->name : r->provider));
	return o;
}
