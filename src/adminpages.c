/*
 * adminpages: the admin page's handlers (SPEC section 6): sign-in and
 * sign-out, the index, a provider's form and one credential.  Changes
 * posted from the page go to the API's handlers, which answer a browser
 * through gate_reply_error and gate_reply_browser.  Rendering is pages.c.
 * The route rows are at the end of this file.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "adminpages.h"
#include "catalog.h"
#include "gate.h"
#include "log.h"
#include "pages.h"
#include "session.h"
#include "store.h"

/* A login page with message (may be NULL) and status. */
static void
login_page(struct ctx *c, int status, const char *message)
{
	struct json_object *ctx = json_object_new_object();

	if (message != NULL)
		json_object_object_add(ctx, "message",
		    json_object_new_string(message));
	page_send(app_tmpl(c->app), c->req, status, "login", "Sign in", NULL,
	    ctx, NULL);
}

/* GET /admin/login */
static void
adminpage_login_form(struct ctx *c)
{
	const char *msg = NULL;

	c->html = 1;
	if (c->req->query != NULL && strstr(c->req->query, "expired=1"))
		msg = "Your session has expired. Sign in again.";
	if (c->req->query != NULL && strstr(c->req->query, "out=1"))
		msg = "You are signed out.";
	login_page(c, 200, msg);
}

/* POST /admin/login: the pasted token becomes a session cookie. */
static void
adminpage_login(struct ctx *c)
{
	struct req_input	 in;
	struct apierr		 e;
	char			*cookie, sid[SESSION_SID_LEN + 1];

	c->html = 1;
	input_init(&in);
	apierr_init(&e, AE_VALIDATION, NULL);
	if (gate_media(c->req) != MEDIA_FORM || gate_read_body(c) == -1 ||
	    input_parse_form(c->req->body.data, c->req->body.len, &in,
	    &e) == -1 || in.access_token == NULL || *in.access_token == '\0') {
		if (!c->req->responded)
			login_page(c, 400, "Paste a token to sign in.");
		goto out;
	}
	if (gate_verify_token(c, in.access_token) != JWT_OK) {
		login_page(c, 401, "That token is not valid here (expired, wrong "
		    "issuer or audience, or not signed by a trusted key).");
		goto out;
	}
	cookie = session_issue(c->app->kr, &c->id, time(NULL), c->req->https,
	    sid);
	if (cookie == NULL) {
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		goto out;
	}
	log_info("admin page: signed in subject=%s tenant=%s",
	    c->id.sub ? c->id.sub : "-", c->id.tenant);
	c->authed = 1;
	page_redirect(c->req, "/admin/", cookie);
	free(cookie);
out:
	input_free(&in);
}

/* POST /admin/logout: the session cookie is dropped. */
static void
adminpage_logout(struct ctx *c)
{
	struct req_input	in;
	struct apierr		e;

	c->html = 1;
	input_init(&in);
	apierr_init(&e, AE_VALIDATION, NULL);
	if (gate_cookie_identity(c) == 1) {
		c->authed = 1;
		if (gate_media(c->req) != MEDIA_FORM || gate_read_body(c) == -1 ||
		    input_parse_form(c->req->body.data, c->req->body.len, &in,
		    &e) == -1 || !session_csrf_ok(c->app->kr, c->sid,
		    in.csrf_token)) {
			if (!c->req->responded)
				gate_reply_fail(c, AE_FORBIDDEN,
				    "Missing or invalid CSRF token", NULL);
			input_free(&in);
			return;
		}
	}
	input_free(&in);
	page_redirect(c->req, "/admin/login?out=1",
	    session_clear_header(c->req->https));
}

struct index_acc {
	struct json_object	*arr;
	const struct catalog	*cat;
};

static int
index_cb(const struct cred_rec *r, void *arg)
{
	struct index_acc *a = arg;

	json_object_array_add(a->arr, page_cred(catalog_find(a->cat,
	    r->provider), r));
	return 0;
}

/* GET /admin/: the catalog and the tenant's stored credentials. */
static void
adminpage_index(struct ctx *c)
{
	struct json_object	*ctx, *provs, *o;
	struct index_acc	 acc;
	struct page_user	 u;
	const struct cat_provider *p;
	size_t			 i;

	if (gate_page_auth(c) == -1)
		return;
	ctx = json_object_new_object();
	acc.arr = json_object_new_array();
	acc.cat = c->app->cat;
	if (store_cred_list(c->app->st, c->id.tenant, NULL, NULL, 1000,
	    index_cb, &acc) != STORE_OK) {
		json_object_put(acc.arr);
		json_object_put(ctx);
		gate_unavailable(c);
		return;
	}
	json_object_object_add(ctx, "credentials", acc.arr);
	provs = json_object_new_array();
	for (i = 0; i < c->app->cat->nproviders; i++) {
		p = &c->app->cat->providers[i];
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(p->id));
		json_object_object_add(o, "name", json_object_new_string(p->name));
		json_object_object_add(o, "authType",
		    json_object_new_string(p->auth_name));
		json_object_object_add(o, "api_key",
		    json_object_new_boolean(p->auth == AUTH_API_KEY));
		json_object_array_add(provs, o);
	}
	json_object_object_add(ctx, "providers", provs);
	if (c->req->query != NULL && strstr(c->req->query, "deleted=1"))
		json_object_object_add(ctx, "message",
		    json_object_new_string("The credential was deleted."));
	gate_page_user(c, &u);
	page_send(app_tmpl(c->app), c->req, 200, "index", "Integrations", &u, ctx,
	    NULL);
}

/* GET /admin/integrations/{provider}: the form. */
static void
adminpage_provider(struct ctx *c)
{
	const struct cat_provider	*p;
	struct page_user		 u;

	if (gate_page_auth(c) == -1 || (p = gate_provider(c)) == NULL)
		return;
	if (p->auth != AUTH_API_KEY) {
		gate_reply_fail(c, AE_VALIDATION, "This integration does not use "
		    "API-key credentials.", NULL);
		return;
	}
	gate_page_user(c, &u);
	page_send(app_tmpl(c->app), c->req, 200, "provider", p->name, &u,
	    page_provider_form(p, NULL, NULL), NULL);
}

/* GET /admin/integrations/{provider}/credentials/{id}: one credential. */
static void
adminpage_credential(struct ctx *c)
{
	const struct cat_provider	*p;
	struct cred_rec			 r;
	struct json_object		*ctx;
	struct page_user		 u;
	enum store_rc			 rc;
	char				 msg[128];

	if (gate_page_auth(c) == -1 || (p = gate_provider(c)) == NULL ||
	    gate_cred_id(c) == -1)
		return;
	rc = store_cred_get(c->app->st, c->id.tenant, p->id, c->rm.cred_id, &r);
	if (gate_store_failed(c, rc, "Unknown credential") == -1)
		return;
	ctx = page_cred(p, &r);
	if (c->req->query != NULL && strstr(c->req->query, "retested=1")) {
		snprintf(msg, sizeof(msg), "Tested again: %s.", r.status);
		json_object_object_add(ctx, "message", json_object_new_string(msg));
	}
	cred_rec_free(&r);
	gate_page_user(c, &u);
	page_send(app_tmpl(c->app), c->req, 200, "result", p->name, &u, ctx, NULL);
}

/* GET /admin/style.css */
static void
adminpage_style(struct ctx *c)
{
	(void)app_tmpl(c->app);
	page_css(c->req, c->app->css, c->app->csslen);
}

/* The admin page's routes: adding a page is a row here and its handler. */
static const struct route_def rows[] = {
	{ "admin_index", { "admin" }, { ROUTE_GET(adminpage_index) }, 0 },
	{ "admin_style", { "admin", "style.css" },
	    { ROUTE_GET(adminpage_style) }, 0 },
	{ "admin_login", { "admin", "login" },
	    { ROUTE_GET(adminpage_login_form), ROUTE_POST(adminpage_login) }, 0 },
	{ "admin_logout", { "admin", "logout" },
	    { ROUTE_POST(adminpage_logout) }, 0 },
	{ "admin_provider", { "admin", "integrations", "{p}" },
	    { ROUTE_GET(adminpage_provider) }, 0 },
	{ "admin_credential", { "admin", "integrations", "{p}", "credentials",
	    "{c}" }, { ROUTE_GET(adminpage_credential) }, 0 },
};

const struct route_table adminpage_routes = {
	rows, sizeof(rows) / sizeof(rows[0])
};
