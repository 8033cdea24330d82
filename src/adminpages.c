/*
 * adminpages: the admin page's handlers (SPEC section 6): sign-in and
 * sign-out, the index (paged, searched by label), a provider's form;
 * one credential's page and its forms are adminform.c.  The provider
 * form posts to the API's store endpoint, which answers a browser
 * through gate_reply_error and gate_reply_browser.  Rendering is pages.c.
 * The route rows are at the end of this file.
 */
#include "cs_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "adminform.h"
#include "adminpages.h"
#include "catalog.h"
#include "gate.h"
#include "log.h"
#include "pages.h"
#include "session.h"
#include "sessions.h"
#include "store.h"
#include "util.h"
#include "validate.h"

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
	    c->req->mount, csrf)) == NULL) {
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
	    c->req->mount, in->csrf_token))
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
	char	 clear[SESSION_CLEAR_MAX];
	size_t	 n;

	cookie = session_issue(c->app->kr, &c->id, token, time(NULL),
	    c->req->https, c->req->mount, sid);
	if (cookie == NULL) {
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		return;
	}
	session_login_clear_header(c->req->https, c->req->mount, clear);
	n = strlen(cookie) + strlen(clear) + 1;
	if ((hdrs = malloc(n)) == NULL) {
		free(cookie);
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		return;
	}
	snprintf(hdrs, n, "%s%s", cookie, clear);
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
	char			clear[SESSION_CLEAR_MAX];

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
	session_clear_header(c->req->https, c->req->mount, clear);
	page_redirect(c->req, "/admin/login?out=1", clear);
out:
	input_free(&in);
}

#define INDEX_PAGE	50		/* credentials on one page */
#define INDEX_MAX_PAGE	1000000L
#define INDEX_Q_MAX	(LABEL_MAX_CHARS * 4 + 1)	/* bytes, NUL included */

/*
 * One walk over the tenant's credentials (the store's listing, provider
 * by provider, newest first within one): counts those that match the
 * search and keeps the page's share of them.
 */
struct index_acc {
	struct json_object	*arr;
	const struct catalog	*cat;
	const char		*q;		/* the search, or NULL */
	size_t			 skip;		/* matches before the page */
	size_t			 nmatch;	/* matches in all */
	size_t			 shown;
};

/* 1 when label holds q, ASCII letters compared without case. */
static int
label_matches(const char *label, const char *q)
{
	size_t ql = strlen(q);

	for (; label != NULL && *label != '\0'; label++)
		if (strncasecmp(label, q, ql) == 0)
			return 1;
	return 0;
}

static int
index_cb(const struct cred_rec *r, void *arg)
{
	struct index_acc *a = arg;

	if (a->q != NULL && !label_matches(r->label, a->q))
		return 0;
	if (a->nmatch++ < a->skip || a->shown == INDEX_PAGE)
		return 0;
	json_object_array_add(a->arr, page_cred(catalog_find(a->cat,
	    r->provider), r));
	a->shown++;
	return 0;
}

/* s percent-encoded for a query (RFC 3986 unreserved kept) into b. */
static int
url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (buf_addc(b, (char)c) == -1)
				return -1;
		} else if (buf_addc(b, '%') == -1 ||
		    buf_addc(b, hex[c >> 4]) == -1 ||
		    buf_addc(b, hex[c & 15]) == -1)
			return -1;
	}
	return 0;
}

/*
 * The index's query: ?q= (a label search, at most a label's length) and
 * ?page= (from 1).  -1 after a 400.
 */
static int
index_query(struct ctx *c, char *q, size_t qlen, long *page)
{
	char	num[16];
	int	rc;

	*page = 1;
	if (adminform_query(c->req->query, "q", q, qlen) == -1 ||
	    validate_has_bidi_control(q, strlen(q)) ||
	    (rc = adminform_query(c->req->query, "page", num, sizeof(num))) ==
	    -1 || (rc == 1 && parse_long(num, 1, INDEX_MAX_PAGE, page) == -1)) {
		gate_reply_fail(c, AE_VALIDATION, "That search or page number "
		    "cannot be used.", NULL);
		return -1;
	}
	return 0;
}

/* "Showing X-Y of N", the search and the links to the pages around. */
static void
index_paging(struct json_object *ctx, const struct index_acc *a,
    const char *q, long page)
{
	struct json_object	*o = json_object_new_object();
	struct buf		 b;
	size_t			 from = a->skip + 1;

	json_object_object_add(o, "total", json_object_new_int64(
	    (int64_t)a->nmatch));
	json_object_object_add(o, "any", json_object_new_boolean(a->shown > 0));
	json_object_object_add(o, "from", json_object_new_int64((int64_t)from));
	json_object_object_add(o, "to", json_object_new_int64(
	    (int64_t)(from + a->shown - 1)));
	if (page > 1)
		json_object_object_add(o, "prev", json_object_new_int64(page - 1));
	if (a->skip + a->shown < a->nmatch)
		json_object_object_add(o, "next", json_object_new_int64(page + 1));
	if (q[0] != '\0') {
		json_object_object_add(ctx, "q", json_object_new_string(q));
		buf_init(&b, INDEX_Q_MAX * 3, 0);
		if (url_encode(&b, q) == 0)
			json_object_object_add(o, "q_url",
			    json_object_new_string_len(b.data, (int)b.len));
		buf_reset(&b);
	}
	json_object_object_add(ctx, "paging", o);
}

static struct json_object *
index_providers(const struct catalog *cat)
{
	struct json_object		*provs, *o;
	const struct cat_provider	*p;
	size_t				 i;

	provs = json_object_new_array();
	for (i = 0; i < cat->nproviders; i++) {
		p = &cat->providers[i];
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(p->id));
		json_object_object_add(o, "name", json_object_new_string(p->name));
		json_object_object_add(o, "authType",
		    json_object_new_string(p->auth_name));
		json_object_object_add(o, "api_key",
		    json_object_new_boolean(p->auth == AUTH_API_KEY));
		json_object_array_add(provs, o);
	}
	return provs;
}

/*
 * GET /admin/?q=&page=: the tenant's stored credentials, a page at a
 * time, searched by label; the catalog.
 */
static void
adminpage_index(struct ctx *c)
{
	struct json_object	*ctx;
	struct index_acc	 acc;
	struct page_user	 u;
	const char		*msg;
	char			 q[INDEX_Q_MAX];
	long			 page;

	if (gate_page_auth(c) == -1 || index_query(c, q, sizeof(q), &page) == -1)
		return;
	if (catalog_load_all(c->app->cat) == -1) {	/* CGI: all of it */
		gate_unavailable(c);
		return;
	}
	memset(&acc, 0, sizeof(acc));
	acc.arr = json_object_new_array();
	acc.cat = c->app->cat;
	acc.q = q[0] != '\0' ? q : NULL;
	acc.skip = (size_t)(page - 1) * INDEX_PAGE;
	if (store_cred_list(c->app->st, c->id.tenant, NULL, NULL, SIZE_MAX,
	    index_cb, &acc) != STORE_OK) {
		json_object_put(acc.arr);
		gate_unavailable(c);
		return;
	}
	ctx = json_object_new_object();
	json_object_object_add(ctx, "credentials", acc.arr);
	index_paging(ctx, &acc, q, page);
	json_object_object_add(ctx, "providers", index_providers(c->app->cat));
	if ((msg = adminform_flash(c->req->query, NULL, NULL, 0)) != NULL)
		json_object_object_add(ctx, "message",
		    json_object_new_string(msg));
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
	    "{c}" }, { ROUTE_GET(adminform_credential) }, 0 },
	{ "admin_cred_delete", { "admin", "integrations", "{p}", "credentials",
	    "{c}", "delete" }, { ROUTE_GET(adminform_delete_confirm),
	    ROUTE_POST(adminform_delete) }, 0 },
	{ "admin_cred_label", { "admin", "integrations", "{p}", "credentials",
	    "{c}", "label" }, { ROUTE_POST(adminform_rename) }, 0 },
	{ "admin_cred_values", { "admin", "integrations", "{p}", "credentials",
	    "{c}", "values" }, { ROUTE_POST(adminform_values) }, 0 },
	{ "admin_cred_retest", { "admin", "integrations", "{p}", "credentials",
	    "{c}", "retest" }, { ROUTE_POST(adminform_retest) }, 0 },
	{ "admin_cred_connect", { "admin", "integrations", "{p}", "credentials",
	    "{c}", "connect" }, { ROUTE_POST(adminform_connect) }, 0 },
	{ "admin_cred_disconnect", { "admin", "integrations", "{p}",
	    "credentials", "{c}", "disconnect" },
	    { ROUTE_POST(adminform_disconnect) }, 0 },
};

const struct route_table adminpage_routes = {
	rows, sizeof(rows) / sizeof(rows[0])
};
