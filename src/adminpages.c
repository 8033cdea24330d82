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
#include "sessions.h"
#include "store.h"

/*
 * A login page with message (may be NULL) and status, and a fresh
 * pre-session CSRF token: its nonce in a cookie, its MAC in the form.
 */
static void
login_page(struct ctx *c, int status, const char *message)
{
	struct json_object	*ctx;
	char			*nonce, csrf[SESSION_CSRF_LEN + 1];

	if ((nonce = session_login_issue(c->app->kr, c->req->https,
	    csrf)) == NULL) {
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		return;
	}
	ctx = json_object_new_object();
	if (message != NULL)
		json_object_object_add(ctx, "message",
		    json_object_new_string(message));
	json_object_object_add(ctx, "login_csrf", json_object_new_string(csrf));
	page_send(app_tmpl(c->app), c->req, status, "login", "Sign in", NULL,
	    ctx, nonce);
	free(nonce);
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

/*
 * The sign-in post's own checks (issue 12, finding 5): from this site
 * (Origin or Referer, when sent) and with the form's pre-session token,
 * so another site cannot sign a visitor in to its tenant.  0, or -1
 * after a 403 without any cookie.
 */
static int
login_csrf(struct ctx *c, const struct req_input *in)
{
	if (gate_same_origin(c, 1) == -1)
		return -1;
	if (session_login_ok(c->app->kr, c->req->cookie, c->req->https,
	    in->csrf_token))
		return 0;
	log_info("admin page: sign-in without the form's CSRF token");
	gate_reply_fail(c, AE_FORBIDDEN, "This sign-in form has expired or "
	    "was not sent from this site. Open the sign-in page again.", NULL);
	return -1;
}

/* Sends the session cookie (and drops the sign-in nonce): 303 to /admin/. */
static void
login_done(struct ctx *c, const char *token)
{
	char	*cookie, *hdrs, sid[SESSION_SID_LEN + 1];
	size_t	 n;

	cookie = session_issue(c->app->kr, &c->id, token, time(NULL),
	    c->req->https, sid);
	if (cookie == NULL) {
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		return;
	}
	n = strlen(cookie) + strlen(session_login_clear_header(c->req->https))
	    + 1;
	if ((hdrs = malloc(n)) == NULL) {
		free(cookie);
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		return;
	}
	snprintf(hdrs, n, "%s%s", cookie,
	    session_login_clear_header(c->req->https));
	log_info("admin page: signed in subject=%s tenant=%s",
	    c->id.sub ? c->id.sub : "-", c->id.tenant);
	c->authed = 1;
	page_redirect(c->req, "/admin/", hdrs);
	free(hdrs);
	free(cookie);
}

/* POST /admin/login: the pasted token becomes a session cookie. */
static void
adminpage_login(struct ctx *c)
{
	struct req_input	 in;
	struct apierr		 e;

	c->html = 1;
	input_init(&in);
	apierr_init(&e, AE_VALIDATION, NULL);
	if (gate_media(c->req) != MEDIA_FORM || gate_read_body(c) == -1 ||
	    input_parse_form(c->req->body.data, c->req->body.len, &in,
	    &e) == -1) {
		if (!c->req->responded)
			login_page(c, 400, "Paste a token to sign in.");
		goto out;
	}
	if (login_csrf(c, &in) == -1)
		goto out;
	if (in.access_token == NULL || *in.access_token == '\0') {
		login_page(c, 400, "Paste a token to sign in.");
		goto out;
	}
	if (strlen(in.access_token) > SESSION_MAX_TOKEN) {
		login_page(c, 400, "This token is too long to keep in a browser "
		    "session.");
		goto out;
	}
	if (gate_verify_token(c, in.access_token) != JWT_OK) {
		login_page(c, 401, "That token is not valid here (expired, wrong "
		    "issuer or audience, or not signed by a trusted key).");
		goto out;
	}
	login_done(c, in.access_token);
out:
	input_free(&in);
}

/*
 * POST /admin/logout: the session is recorded as ended (every copy of
 * its cookie stops working) and the cookie dropped.  A signed-in post
 * needs the session's CSRF token and must come from this site.
 */
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
			goto out;
		}
		if (gate_same_origin(c, 1) == -1)
			goto out;
		if (sessions_end(c->app->st, c->sid, c->id.exp,
		    time(NULL)) != STORE_OK) {
			gate_unavailable(c);
			goto out;
		}
		log_info("admin page: signed out subject=%s tenant=%s",
		    c->id.sub ? c->id.sub : "-", c->id.tenant);
	}
	page_redirect(c->req, "/admin/login?out=1",
	    session_clear_header(c->req->https));
out:
	input_free(&in);
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
	const char	*css;
	size_t		 len;

	(void)app_tmpl(c->app);
	css = app_css(c->app, &len);
	page_css(c->req, css, len);
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
