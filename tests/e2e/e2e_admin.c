/*
 * The admin page over HTTP (issue: the admin page and deployment):
 * sign-in cookie, CSRF, security headers, escaping, the form's error
 * handling, behind a real lighttpd.  The browser test drives the same
 * pages in headless Chromium (tests/browser/).
 */
#include "cs_build.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "harness.h"

static struct h_env E;
static char cookie[4096];	/* "Cookie: cs_session=..." */
static char csrf[128];

#define FORM	"application/x-www-form-urlencoded"
#define HTML	"Accept: text/html,application/xhtml+xml"

/* Every page carries the headers of SPEC section 6. */
static void
assert_page_headers(const struct h_resp *r)
{
	const char *v;

	ck_assert_ptr_nonnull(v = h_header(r, "Content-Security-Policy"));
	ck_assert(strstr(v, "default-src 'none'") != NULL);
	ck_assert(strstr(v, "frame-ancestors 'none'") != NULL);
	ck_assert_str_eq(h_header(r, "X-Content-Type-Options"), "nosniff");
	ck_assert_str_eq(h_header(r, "Referrer-Policy"), "no-referrer");
	ck_assert_str_eq(h_header(r, "Cache-Control"), "no-store");
	ck_assert_str_eq(h_header(r, "X-Frame-Options"), "DENY");
}

static void
get_page(const char *path, const char *ck, struct h_resp *r)
{
	const char *h[] = { HTML, ck, NULL };

	ck_assert_int_eq(h_req(&E, "GET", path, NULL, NULL, NULL,
	    ck ? h : h, r), 0);
	assert_page_headers(r);
}

static void
post_form(const char *path, const char *ck, const char *body,
    struct h_resp *r)
{
	const char *h[] = { HTML, ck, NULL };

	ck_assert_int_eq(h_req(&E, "POST", path, NULL, FORM, body, h, r), 0);
}

/* The csrf_token hidden field of a page into cs. */
static void
form_csrf(const struct h_resp *r, char *cs, size_t cslen)
{
	const char	*p;
	size_t		 n;

	p = strstr(r->body, "name=\"csrf_token\" value=\"");
	ck_assert_ptr_nonnull(p);
	p += strlen("name=\"csrf_token\" value=\"");
	n = strcspn(p, "\"");
	snprintf(cs, cslen, "%.*s", (int)n, p);
	ck_assert_uint_eq(strlen(cs), 43);
}

/*
 * Opens the sign-in form: the pre-session cookie ("Cookie: cs_login=..."
 * into ck) and the form's token (into cs).
 */
static void
login_form(char *ck, size_t cklen, char *cs, size_t cslen)
{
	struct h_resp	 r;
	const char	*sc;
	size_t		 n;

	get_page("/admin/login", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	sc = h_header(&r, "Set-Cookie");
	ck_assert_ptr_nonnull(sc);
	ck_assert(strncmp(sc, "cs_login=", 9) == 0);
	ck_assert(strstr(sc, "; HttpOnly; SameSite=Strict") != NULL);
	n = strcspn(sc, ";");
	snprintf(ck, cklen, "Cookie: %.*s", (int)n, sc);
	form_csrf(&r, cs, cslen);
	h_resp_free(&r);
}

/* Posts the sign-in form with token, its own cookie and origin (or NULL). */
static void
post_login(const char *token, const char *origin, struct h_resp *r)
{
	char		 body[9000], lck[256], lcs[64], org[300];
	const char	*h[] = { HTML, lck, org, NULL };

	login_form(lck, sizeof(lck), lcs, sizeof(lcs));
	snprintf(body, sizeof(body), "csrf_token=%s&access_token=%s", lcs,
	    token);
	if (origin != NULL)
		snprintf(org, sizeof(org), "Origin: %s", origin);
	else
		h[2] = NULL;
	ck_assert_int_eq(h_req(&E, "POST", "/admin/login", NULL, FORM, body, h,
	    r), 0);
}

/* Signs in with token through the form; fills cookie and csrf. */
static void
sign_in(const char *token, char *ck, size_t cklen, char *cs, size_t cslen)
{
	struct h_resp	 r;
	const char	*sc;
	size_t		 n;

	post_login(token, NULL, &r);
	ck_assert_msg(r.status == 303, "login: %ld", r.status);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/");
	assert_page_headers(&r);
	sc = h_header(&r, "Set-Cookie");
	ck_assert_ptr_nonnull(sc);
	ck_assert(strncmp(sc, "cs_session=", 11) == 0);
	ck_assert(strstr(sc, "; HttpOnly") != NULL);
	ck_assert(strstr(sc, "; SameSite=Strict") != NULL);
	ck_assert(strstr(sc, "; Path=/") != NULL);
	ck_assert(strstr(sc, "Max-Age=") != NULL);
	ck_assert(strstr(sc, "Secure") == NULL);	/* plain http here */
	n = strcspn(sc, ";");
	snprintf(ck, cklen, "Cookie: %.*s", (int)n, sc);
	h_resp_free(&r);
	get_page("/admin/", ck, &r);
	ck_assert_int_eq(r.status, 200);
	form_csrf(&r, cs, cslen);
	h_resp_free(&r);
}

START_TEST(sign_in_and_pages)
{
	struct h_resp r;

	get_page("/admin/login", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "name=\"access_token\"") != NULL);
	h_resp_free(&r);
	/* not signed in: every page sends you to sign in */
	get_page("/admin/", NULL, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/login");
	h_resp_free(&r);
	/* a bad token: the sign-in page again, 401 */
	post_login("nope", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	/* no session; the form again comes with a fresh sign-in nonce */
	ck_assert(strstr(r.headers, "cs_session=") == NULL);
	ck_assert(strncmp(h_header(&r, "Set-Cookie"), "cs_login=", 9) == 0);
	ck_assert(strstr(r.body, "not valid") != NULL);
	h_resp_free(&r);

	sign_in(E.tok_admin, cookie, sizeof(cookie), csrf, sizeof(csrf));
	get_page("/admin/", cookie, &r);
	ck_assert(strstr(r.body, "tenant <strong>acme</strong>") != NULL);
	ck_assert(strstr(r.body, "href=\"/admin/integrations/datadog\"") != NULL);
	h_resp_free(&r);
	get_page("/admin/integrations/datadog", cookie, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<label for=\"f-api_key\">API key") != NULL);
	ck_assert(strstr(r.body, "id=\"f-api_key\" name=\"credentials[api_key]\" "
	    "type=\"password\"") != NULL);
	ck_assert(strstr(r.body, "<select id=\"f-site\"") != NULL);
	ck_assert(strstr(r.body, "<option value=\"datadoghq.com\" selected>") !=
	    NULL);
	h_resp_free(&r);
	get_page("/admin/integrations/slack-oauth", cookie, &r);
	ck_assert_int_eq(r.status, 400);
	h_resp_free(&r);
	get_page("/admin/integrations/nope", cookie, &r);
	ck_assert_int_eq(r.status, 404);
	h_resp_free(&r);
	{
		const char *h[] = { NULL };

		ck_assert_int_eq(h_req(&E, "GET", "/admin/style.css", NULL, NULL,
		    NULL, h, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(h_header(&r, "Content-Type"),
		    "text/css; charset=utf-8");
		ck_assert(strstr(r.body, ":focus-visible") != NULL);
		h_resp_free(&r);
	}
}
END_TEST

START_TEST(csrf_required)
{
	struct h_resp	 r;
	char		 other_ck[4096], other_csrf[128], body[512];
	char		*out;
	size_t		 before;

	ck_assert_int_eq(h_admin(&E, &out, "list", NULL), 0);
	before = h_lines(out);
	free(out);
	/* cookie, no CSRF field */
	post_form("/v1/integrations/sentry/credentials", cookie,
	    "credentials%5Bauth_token%5D=SECRETVAL-c1", &r);
	ck_assert_int_eq(r.status, 403);
	assert_page_headers(&r);
	h_resp_free(&r);
	/* cookie, the CSRF token of another session */
	sign_in(E.tok_admin, other_ck, sizeof(other_ck), other_csrf,
	    sizeof(other_csrf));
	ck_assert_str_ne(other_csrf, csrf);
	snprintf(body, sizeof(body), "credentials%%5Bauth_token%%5D=SECRETVAL-c2"
	    "&csrf_token=%s", other_csrf);
	post_form("/v1/integrations/sentry/credentials", cookie, body, &r);
	ck_assert_int_eq(r.status, 403);
	h_resp_free(&r);
	/* JSON with the cookie: no CSRF field can be there, 403 */
	{
		const char *h[] = { cookie, NULL };

		ck_assert_int_eq(h_req(&E, "POST",
		    "/v1/integrations/sentry/credentials", NULL,
		    "application/json", "{\"credentials\":{\"auth_token\":"
		    "\"SECRETVAL-c3\"}}", h, &r), 0);
		ck_assert_int_eq(r.status, 403);
		ck_assert_str_eq(h_errcode(&r), "forbidden");
		h_resp_free(&r);
	}
	ck_assert_int_eq(h_admin(&E, &out, "list", NULL), 0);
	ck_assert_uint_eq(h_lines(out), before);
	free(out);
	/* with its own token: stored, 303 to the result page */
	snprintf(body, sizeof(body), "credentials%%5Bauth_token%%5D=SECRETVAL-c4"
	    "&label=ok&csrf_token=%s", csrf);
	post_form("/v1/integrations/sentry/credentials", cookie, body, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert(strncmp(h_header(&r, "Location"),
	    "/admin/integrations/sentry/credentials/crd_", 43) == 0);
	h_resp_free(&r);
	ck_assert_int_eq(h_admin(&E, &out, "list", NULL), 0);
	ck_assert_uint_eq(h_lines(out), before + 1);
	free(out);
	/* sign-out needs the token too, then the cookie is gone */
	post_form("/admin/logout", cookie, "x=1", &r);
	ck_assert_int_eq(r.status, 403);
	h_resp_free(&r);
	snprintf(body, sizeof(body), "csrf_token=%s", other_csrf);
	post_form("/admin/logout", other_ck, body, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/login?out=1");
	ck_assert(strstr(h_header(&r, "Set-Cookie"), "Max-Age=0") != NULL);
	h_resp_free(&r);
}
END_TEST

START_TEST(escaping)
{
	struct h_resp	 r;
	char		 body[512], loc[256];

	snprintf(body, sizeof(body), "credentials%%5Bauth_token%%5D=SECRETVAL-x"
	    "&label=%%3Cscript%%3Ealert(1)%%3C%%2Fscript%%3E&csrf_token=%s",
	    csrf);
	post_form("/v1/integrations/sentry/credentials", cookie, body, &r);
	ck_assert_int_eq(r.status, 303);
	snprintf(loc, sizeof(loc), "%s", h_header(&r, "Location"));
	h_resp_free(&r);
	get_page(loc, cookie, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<script>") == NULL);
	ck_assert(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	/* the check's reason next to the status (sentry has no check) */
	ck_assert(strstr(r.body, "status-unverified\">unverified</span> <span "
	    "id=\"check-reason\" class=\"check-reason\">no_check</span>") !=
	    NULL);
	h_resp_free(&r);
	get_page("/admin/", cookie, &r);
	ck_assert(strstr(r.body, "<script>") == NULL);
	ck_assert(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	/* a provider whose name has quotes and markup */
	ck_assert(strstr(r.body, "Quote &quot;Test&quot; &lt;b&gt;&amp;&#39;") !=
	    NULL);
	ck_assert(strstr(r.body, "Quote \"Test\"") == NULL);
	h_resp_free(&r);
}
END_TEST

START_TEST(form_errors_keep_label_not_secrets)
{
	struct h_resp	 r;
	char		 body[512];

	snprintf(body, sizeof(body), "credentials%%5Bapi_key%%5D=SECRETVAL-typed"
	    "&credentials%%5Bsite%%5D=datadoghq.eu&label=My+label&csrf_token=%s",
	    csrf);
	post_form("/v1/integrations/datadog/credentials", cookie, body, &r);
	ck_assert_int_eq(r.status, 400);
	assert_page_headers(&r);
	ck_assert_str_eq(h_header(&r, "Content-Type"), "text/html; charset=utf-8");
	ck_assert(strstr(r.body, "id=\"e-application_key\">This field is "
	    "required.") != NULL);
	ck_assert(strstr(r.body, "aria-describedby=\"e-application_key\"") != NULL);
	ck_assert(strstr(r.body, "value=\"My label\"") != NULL);
	ck_assert(strstr(r.body, "<option value=\"datadoghq.eu\" selected>") !=
	    NULL);
	ck_assert(strstr(r.body, "SECRETVAL") == NULL);
	h_resp_free(&r);
}
END_TEST

#define SENTRY	"/v1/integrations/sentry/credentials"

/* Stores a sentry credential with a bearer token; id gets its id. */
static void
store_sentry(const char *token, const char *secret, char id[64])
{
	struct h_resp		 r;
	struct json_object	*o, *v;
	char			 body[256];

	snprintf(body, sizeof(body), "{\"credentials\":{\"auth_token\":\"%s\"}}",
	    secret);
	ck_assert_int_eq(h_req(&E, "POST", SENTRY, token, "application/json",
	    body, NULL, &r), 0);
	ck_assert_msg(r.status == 201, "store: %ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "credentialId", &v));
	snprintf(id, 64, "%s", json_object_get_string(v));
	ck_assert_uint_eq(strlen(id), 30);
	json_object_put(o);
	h_resp_free(&r);
}

/* GET path with a bearer token: its status, and whether id is in the body. */
static long
api_get(const char *path, const char *token, const char *id, int *has)
{
	struct h_resp	r;
	long		status;

	ck_assert_int_eq(h_req(&E, "GET", path, token, NULL, NULL, NULL, &r), 0);
	status = r.status;
	*has = r.body != NULL && strstr(r.body, id) != NULL;
	h_resp_free(&r);
	return status;
}

/* What tenant (by token and name) may see: own, never other. */
static void
assert_sees_own(const char *token, const char *ck, const char *tenant,
    const char *own, const char *other)
{
	struct h_resp	 r;
	char		 path[256], *out;
	int		 has;

	/* the provider's list, one by id */
	ck_assert_int_eq(api_get(SENTRY, token, own, &has), 200);
	ck_assert_msg(has, "%s: own record not in %s", tenant, SENTRY);
	ck_assert_int_eq(api_get(SENTRY, token, other, &has), 200);
	ck_assert_msg(!has, "%s: lists the other tenant's record", tenant);
	snprintf(path, sizeof(path), SENTRY "/%s", own);
	ck_assert_int_eq(api_get(path, token, own, &has), 200);
	snprintf(path, sizeof(path), SENTRY "/%s", other);
	ck_assert_int_eq(api_get(path, token, other, &has), 404);
	ck_assert(!has);
	/* the admin page */
	get_page("/admin/", ck, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.body, own) != NULL, "%s: own not on /admin/",
	    tenant);
	ck_assert_msg(strstr(r.body, other) == NULL,
	    "%s: /admin/ shows the other tenant's record", tenant);
	h_resp_free(&r);
	/* credstore-admin list --tenant */
	ck_assert_int_eq(h_admin(&E, &out, "list", "--tenant", tenant, NULL), 0);
	ck_assert_msg(strstr(out, own) != NULL, "%s: own not listed", tenant);
	ck_assert_msg(strstr(out, other) == NULL,
	    "credstore-admin list --tenant %s shows the other's record", tenant);
	free(out);
}

/*
 * Two tenants, one name a prefix of the other (acme, acme2): each sees
 * its own record only, through the API, the admin page and
 * credstore-admin list --tenant.
 */
START_TEST(tenant_prefix)
{
	char	 claims[256], ck2[4096], cs2[128], id1[64], id2[64], *tok2, *out;

	snprintf(claims, sizeof(claims), "{\"sub\":\"dave\",\"org_id\":\"acme2\","
	    "\"role\":\"admin\",\"iss\":\"https://issuer.test\",\"aud\":"
	    "\"credstore\",\"exp\":%ld}", (long)time(NULL) + 3600);
	ck_assert_ptr_nonnull(tok2 = h_mint(&E, claims));
	store_sentry(E.tok_admin, "SECRETVAL-pfx-acme", id1);
	store_sentry(tok2, "SECRETVAL-pfx-acme2", id2);
	sign_in(tok2, ck2, sizeof(ck2), cs2, sizeof(cs2));
	assert_sees_own(E.tok_admin, cookie, "acme", id1, id2);
	assert_sees_own(tok2, ck2, "acme2", id2, id1);
	ck_assert_int_eq(h_admin(&E, &out, "list", "--tenant", "acme2", NULL), 0);
	ck_assert_uint_eq(h_lines(out), 1);
	free(out);
	free(tok2);
}
END_TEST

/* POSTs the admin page's delete form for id with body; its status. */
static long
delete_form(const char *id, const char *body, struct h_resp *r)
{
	char path[256];

	snprintf(path, sizeof(path), SENTRY "/%s", id);
	post_form(path, cookie, body, r);
	return r->status;
}

/* The status of GET of sentry credential id (bearer, tenant acme). */
static long
get_status(const char *id)
{
	char	path[256];
	int	has;

	snprintf(path, sizeof(path), SENTRY "/%s", id);
	return api_get(path, E.tok_reader, id, &has);
}

/*
 * The delete form (_method=DELETE) with the session cookie needs the
 * session's CSRF token like every other change: without it, with another
 * session's or with one byte off, 403 and the record stays.
 */
START_TEST(csrf_delete_form)
{
	struct h_resp	 r;
	char		 id[64], body[256], other_ck[4096], other_csrf[128];

	store_sentry(E.tok_admin, "SECRETVAL-del-csrf", id);
	ck_assert_int_eq(get_status(id), 200);
	ck_assert_int_eq(delete_form(id, "_method=DELETE", &r), 403);
	assert_page_headers(&r);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 200);
	sign_in(E.tok_admin, other_ck, sizeof(other_ck), other_csrf,
	    sizeof(other_csrf));
	ck_assert_str_ne(other_csrf, csrf);
	snprintf(body, sizeof(body), "_method=DELETE&csrf_token=%s", other_csrf);
	ck_assert_int_eq(delete_form(id, body, &r), 403);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 200);
	snprintf(body, sizeof(body), "_method=DELETE&csrf_token=%s", csrf);
	body[strlen(body) - 1] = body[strlen(body) - 1] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(delete_form(id, body, &r), 403);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 200);
	/* with its own token: deleted, back to the list */
	snprintf(body, sizeof(body), "_method=DELETE&csrf_token=%s", csrf);
	ck_assert_int_eq(delete_form(id, body, &r), 303);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/?deleted=1");
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 404);
}
END_TEST

/* Occurrences of needle in s. */
static size_t
count_of(const char *s, const char *needle)
{
	size_t n = 0;

	for (; s != NULL && (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

/* The path of sentry or datadog credential id on the admin page + tail. */
static void
cred_page(char *buf, size_t len, const char *prov, const char *id,
    const char *tail)
{
	snprintf(buf, len, "/admin/integrations/%s/credentials/%s%s", prov, id,
	    tail);
}

/*
 * Posts a credential page's form (tail: "/label", ...) with body and, when
 * cs is set, its CSRF token; the status.
 */
static long
page_form(const char *prov, const char *id, const char *tail, const char *ck,
    const char *cs, const char *body, struct h_resp *r)
{
	char path[256], b[2048];

	cred_page(path, sizeof(path), prov, id, tail);
	if (cs != NULL)
		snprintf(b, sizeof(b), "%s%scsrf_token=%s", body, *body ? "&" : "",
		    cs);
	else
		snprintf(b, sizeof(b), "%s", body);
	post_form(path, ck, b, r);
	return r->status;
}

/* Asserts a 303 to want (exact), with the page headers. */
static void
assert_see_other(const struct h_resp *r, const char *want)
{
	ck_assert_msg(r->status == 303, "status %ld: %s", r->status, r->body);
	ck_assert_str_eq(h_header(r, "Location"), want);
	assert_page_headers(r);
}

/* A JSON member of GET path (bearer admin of acme) into out ("" if none). */
static long
api_member(const char *path, const char *name, char *out, size_t len)
{
	struct h_resp		 r;
	struct json_object	*o, *v;
	long			 status;

	ck_assert_int_eq(h_req(&E, "GET", path, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	status = r.status;
	out[0] = '\0';
	if ((o = h_json(&r)) != NULL && json_object_object_get_ex(o, name, &v) &&
	    v != NULL)
		snprintf(out, len, "%s", json_object_get_string(v));
	json_object_put(o);
	h_resp_free(&r);
	return status;
}

/* The credential ids linked from an index page, added to ids (count n). */
static void
page_ids(const char *body, char ids[][32], size_t *n, size_t max)
{
	const char	*p = body, *k = "/credentials/crd_";
	size_t		 i;

	while ((p = strstr(p, "<h3><a href=\"/admin/integrations/")) != NULL) {
		p = strstr(p, k);
		ck_assert_ptr_nonnull(p);
		p += strlen("/credentials/");
		ck_assert_uint_lt(*n, max);
		snprintf(ids[*n], 32, "%.30s", p);
		for (i = 0; i < *n; i++)
			ck_assert_msg(strcmp(ids[i], ids[*n]) != 0,
			    "%s listed twice", ids[*n]);
		(*n)++;
	}
}

/*
 * The index a page at a time (issue 15): 120 credentials of a tenant of
 * their own, 50 a page, "Showing X-Y of N", next and previous links, no
 * credential twice and none left out; the label search, its count and
 * its paging; bad page numbers.
 */
START_TEST(index_paging_search)
{
	struct h_resp	 r;
	char		 claims[256], ck[4096], cs[128], body[256], stored[120][32];
	char		 seen[130][32], *tok;
	const char	*h[] = { NULL };
	size_t		 i, j, n = 0;

	snprintf(claims, sizeof(claims), "{\"sub\":\"pat\",\"org_id\":\"pager\","
	    "\"role\":\"admin\",\"iss\":\"https://issuer.test\",\"aud\":"
	    "\"credstore\",\"exp\":%ld}", (long)time(NULL) + 3600);
	ck_assert_ptr_nonnull(tok = h_mint(&E, claims));
	for (i = 0; i < 120; i++) {
		struct json_object *o, *v;

		snprintf(body, sizeof(body), "{\"credentials\":{\"auth_token\":"
		    "\"SECRETVAL-pg-%zu\"},\"label\":\"pg-%03zu%s\"}", i, i,
		    i % 10 == 0 ? " Needle" : "");
		ck_assert_int_eq(h_req(&E, "POST", SENTRY, tok,
		    "application/json", body, h, &r), 0);
		ck_assert_msg(r.status == 201, "store %zu: %ld", i, r.status);
		ck_assert_ptr_nonnull(o = h_json(&r));
		ck_assert(json_object_object_get_ex(o, "credentialId", &v));
		snprintf(stored[i], 32, "%s", json_object_get_string(v));
		json_object_put(o);
		h_resp_free(&r);
	}
	sign_in(tok, ck, sizeof(ck), cs, sizeof(cs));
	get_page("/admin/", ck, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.body, "Showing 1–50 of 120<") != NULL, "%s",
	    r.body);
	ck_assert_uint_eq(count_of(r.body, "<article class=\"cred\">"), 50);
	ck_assert(strstr(r.body, "<a rel=\"next\" href=\"/admin/?page=2\">") !=
	    NULL);
	ck_assert(strstr(r.body, "rel=\"prev\"") == NULL);
	/* no one-click delete any more: a link to the confirmation page */
	ck_assert(strstr(r.body, "_method") == NULL);
	ck_assert(strstr(r.body, "/delete\">Delete…</a>") != NULL);
	page_ids(r.body, seen, &n, 130);
	h_resp_free(&r);
	get_page("/admin/?page=2", ck, &r);
	ck_assert(strstr(r.body, "Showing 51–100 of 120<") != NULL);
	ck_assert(strstr(r.body, "<a rel=\"prev\" href=\"/admin/?page=1\">") !=
	    NULL);
	ck_assert(strstr(r.body, "<a rel=\"next\" href=\"/admin/?page=3\">") !=
	    NULL);
	page_ids(r.body, seen, &n, 130);
	h_resp_free(&r);
	get_page("/admin/?page=3", ck, &r);
	ck_assert(strstr(r.body, "Showing 101–120 of 120<") != NULL);
	ck_assert_uint_eq(count_of(r.body, "<article class=\"cred\">"), 20);
	ck_assert(strstr(r.body, "rel=\"next\"") == NULL);
	page_ids(r.body, seen, &n, 130);
	h_resp_free(&r);
	/* every stored credential once, and nothing else */
	ck_assert_uint_eq(n, 120);
	for (i = 0; i < 120; i++) {
		for (j = 0; j < n && strcmp(stored[i], seen[j]) != 0; j++)
			;
		ck_assert_msg(j < n, "%s not listed", stored[i]);
	}
	get_page("/admin/?page=4", ck, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "Showing 0 of 120<") != NULL);
	ck_assert(strstr(r.body, "<a rel=\"prev\" href=\"/admin/?page=3\">") !=
	    NULL);
	h_resp_free(&r);
	/* the search: case-insensitive, its own count */
	get_page("/admin/?q=nEEDLE", ck, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.body, "Showing 1–12 of 12 matching “nEEDLE”<") !=
	    NULL, "%s", r.body);
	ck_assert_uint_eq(count_of(r.body, "<article class=\"cred\">"), 12);
	ck_assert_uint_eq(count_of(r.body, " Needle</a></h3>"), 12);
	ck_assert(strstr(r.body, "value=\"nEEDLE\"") != NULL);
	ck_assert(strstr(r.body, "rel=\"next\"") == NULL);
	h_resp_free(&r);
	/* a search over several pages keeps the search in its links */
	get_page("/admin/?q=pg-+", ck, &r);
	ck_assert(strstr(r.body, "Showing 1–12 of 12 matching “pg- ”<") == NULL);
	h_resp_free(&r);
	get_page("/admin/?q=PG-", ck, &r);
	ck_assert(strstr(r.body, "Showing 1–50 of 120 matching “PG-”<") != NULL);
	ck_assert(strstr(r.body, "<a rel=\"next\" href=\"/admin/?page=2&amp;"
	    "q=PG-\">") != NULL);
	h_resp_free(&r);
	get_page("/admin/?page=3&q=PG-", ck, &r);
	ck_assert(strstr(r.body, "Showing 101–120 of 120 matching") != NULL);
	h_resp_free(&r);
	/* markup in the search is escaped, in the page and in the links */
	get_page("/admin/?q=%3Cb%3E%22x&page=1", ck, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<b>") == NULL);
	ck_assert(strstr(r.body, "value=\"&lt;b&gt;&quot;x\"") != NULL);
	ck_assert(strstr(r.body, "Showing 0 of 0 matching") != NULL);
	ck_assert(strstr(r.body, "No credential label matches.") != NULL);
	h_resp_free(&r);
	/* bad page numbers and searches: 400, the page headers */
	{
		const char *bad[] = { "page=0", "page=-1", "page=x", "page=1e3",
		    "page=99999999999", "q=%", "q=%zz", "q=%E2%80%AEx",
		    NULL };	/* (lighttpd answers %00 itself) */

		const char *hh[] = { HTML, ck, NULL };

		for (i = 0; bad[i] != NULL; i++) {
			snprintf(body, sizeof(body), "/admin/?%s", bad[i]);
			ck_assert_int_eq(h_req(&E, "GET", body, NULL, NULL, NULL,
			    hh, &r), 0);
			ck_assert_msg(r.status == 400, "%s: %ld", bad[i], r.status);
			ck_assert_msg(h_header(&r, "Content-Security-Policy") !=
			    NULL, "%s: no CSP", bad[i]);
			h_resp_free(&r);
		}
	}
	/* the other tenant's index does not count these */
	get_page("/admin/", cookie, &r);
	ck_assert(strstr(r.body, " of 120<") == NULL);
	ck_assert(strstr(r.body, stored[0]) == NULL);
	h_resp_free(&r);
	free(tok);
}
END_TEST

/*
 * Delete behind a confirmation page (issue 15): the page's Delete is a
 * link; the confirmation page's form posts the delete; without the CSRF
 * field 403 and the record stays; with it 303 to the index, which says
 * so once, and the record is gone.
 */
START_TEST(delete_confirmed)
{
	struct h_resp	 r;
	char		 id[64], path[256], want[400];

	store_sentry(E.tok_admin, "SECRETVAL-conf-del", id);
	cred_page(path, sizeof(path), "sentry", id, "");
	get_page(path, cookie, &r);
	ck_assert_int_eq(r.status, 200);
	cred_page(want, sizeof(want), "sentry", id, "/delete\">Delete…</a>");
	ck_assert(strstr(r.body, want) != NULL);
	h_resp_free(&r);
	cred_page(path, sizeof(path), "sentry", id, "/delete");
	get_page(path, cookie, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "<form method=\"post\" action=\"%s\"", path);
	ck_assert(strstr(r.body, want) != NULL);
	ck_assert(strstr(r.body, "This cannot be undone.") != NULL);
	ck_assert(count_of(r.body, "name=\"csrf_token\"") >= 2);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 200);	/* looking deletes nothing */
	/* no CSRF field; another's; not signed in */
	ck_assert_int_eq(page_form("sentry", id, "/delete", cookie, NULL, "", &r),
	    403);
	assert_page_headers(&r);
	h_resp_free(&r);
	ck_assert_int_eq(page_form("sentry", id, "/delete", cookie, NULL,
	    "csrf_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r), 403);
	h_resp_free(&r);
	ck_assert_int_eq(page_form("sentry", id, "/delete", NULL, csrf, "", &r),
	    303);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/login");
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 200);
	/* GET on the form's target never deletes; other methods are 405 */
	{
		const char *hh[] = { HTML, cookie, NULL };

		ck_assert_int_eq(h_req(&E, "DELETE", path, NULL, NULL, NULL, hh,
		    &r), 0);
		ck_assert_int_eq(r.status, 405);
		h_resp_free(&r);
	}
	ck_assert_int_eq(page_form("sentry", id, "/delete", cookie, csrf, "", &r),
	    303);
	assert_see_other(&r, "/admin/?done=deleted");
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 404);
	get_page("/admin/?done=deleted", cookie, &r);
	ck_assert(strstr(r.body, "The credential was deleted.") != NULL);
	ck_assert(strstr(r.body, id) == NULL);
	h_resp_free(&r);
	/* the message is a code: nothing of the query is shown */
	get_page("/admin/?done=%3Cscript%3Ex", cookie, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "script>x") == NULL);
	ck_assert(strstr(r.body, "script&gt;x") == NULL);
	ck_assert(strstr(r.body, "role=\"status\"") == NULL);
	h_resp_free(&r);
	/* a second post (a reload) finds nothing: 404, nothing else goes */
	ck_assert_int_eq(page_form("sentry", id, "/delete", cookie, csrf, "", &r),
	    404);
	h_resp_free(&r);
}
END_TEST

/*
 * Rename from the credential's page: 303 to the page with its notice,
 * the API shows the label; a bad label re-renders the form (400) with the
 * label as typed and its error, and changes nothing; "" removes it.
 */
START_TEST(rename_from_page)
{
	struct h_resp	 r;
	char		 id[64], path[256], want[512], label[300], body[512];
	size_t		 i;

	store_sentry(E.tok_admin, "SECRETVAL-rename", id);
	ck_assert_int_eq(page_form("sentry", id, "/label", cookie, csrf,
	    "label=New+%3Cname%3E", &r), 303);
	cred_page(want, sizeof(want), "sentry", id, "?done=renamed");
	assert_see_other(&r, want);
	h_resp_free(&r);
	snprintf(path, sizeof(path), SENTRY "/%s", id);
	ck_assert_int_eq(api_member(path, "label", label, sizeof(label)), 200);
	ck_assert_str_eq(label, "New <name>");
	get_page(want, cookie, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "The label was saved.") != NULL);
	ck_assert(strstr(r.body, "id=\"r-label\" name=\"label\" type=\"text\" "
	    "value=\"New &lt;name&gt;\"") != NULL);
	ck_assert(strstr(r.body, "<name>") == NULL);
	h_resp_free(&r);
	/* 201 characters: 400, the form again with the label as typed */
	for (i = 0; i < 201; i++)
		label[i] = 'k';
	label[i] = '\0';
	snprintf(body, sizeof(body), "label=%s", label);
	ck_assert_int_eq(page_form("sentry", id, "/label", cookie, csrf, body,
	    &r), 400);
	assert_page_headers(&r);
	ck_assert_str_eq(h_header(&r, "Content-Type"), "text/html; charset=utf-8");
	snprintf(want, sizeof(want), "value=\"%s\"", label);
	ck_assert(strstr(r.body, want) != NULL);
	ck_assert(strstr(r.body, "id=\"e-r-label\"") != NULL);
	ck_assert(strstr(r.body, "role=\"alert\">Please correct the label.") !=
	    NULL);
	h_resp_free(&r);
	ck_assert_int_eq(api_member(path, "label", label, sizeof(label)), 200);
	ck_assert_str_eq(label, "New <name>");
	/* no label field at all: 400; without the CSRF field: 403 */
	ck_assert_int_eq(page_form("sentry", id, "/label", cookie, csrf, "", &r),
	    400);
	h_resp_free(&r);
	ck_assert_int_eq(page_form("sentry", id, "/label", cookie, NULL,
	    "label=csrf-less", &r), 403);
	h_resp_free(&r);
	ck_assert_int_eq(api_member(path, "label", label, sizeof(label)), 200);
	ck_assert_str_eq(label, "New <name>");
	/* "" removes it */
	ck_assert_int_eq(page_form("sentry", id, "/label", cookie, csrf,
	    "label=", &r), 303);
	h_resp_free(&r);
	ck_assert_int_eq(api_member(path, "label", label, sizeof(label)), 200);
	ck_assert_str_eq(label, "");
	/* another tenant's id, an unknown one: 404 */
	ck_assert_int_eq(page_form("sentry", "crd_00000000000000000000000000",
	    "/label", cookie, csrf, "label=x", &r), 404);
	h_resp_free(&r);
}
END_TEST

#define DD	"/v1/integrations/datadog/credentials"

/* Routes the mock's datadog check: this API key gets this status. */
static void
dd_route(const char *key, int status)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"%s\"},"
	    "\"status\":%d,\"body\":\"{}\"}", key, status);
	ck_assert_int_eq(h_mock_route(&E, json), 0);
}

/* The mock's last recorded request's header name, into out. */
static void
last_probe_header(const char *name, char *out, size_t len)
{
	struct json_object	*all, *last, *hd, *v;
	size_t			 n;

	ck_assert_ptr_nonnull(all = h_mock_requests(&E));
	n = json_object_array_length(all);
	ck_assert_uint_gt(n, 0);
	last = json_object_array_get_idx(all, n - 1);
	out[0] = '\0';
	if (json_object_object_get_ex(last, "headers", &hd) &&
	    json_object_object_get_ex(hd, name, &v))
		snprintf(out, len, "%s", json_object_get_string(v));
	json_object_put(all);
}

/*
 * New values from the page (PUT semantics): 303, and from then on the
 * provider is asked with the new values (the old ones no longer open);
 * a form with a field missing or rejected values re-render the page
 * (400, 422) with no secret in it, the label kept, the stored values
 * unchanged.
 */
START_TEST(values_from_page)
{
	struct h_resp		 r;
	struct json_object	*o, *v;
	char			 id[64], path[256], want[256], got[128];
	const char		*hh[] = { NULL };

	dd_route("SECRETVAL-pv-old", 200);
	dd_route("SECRETVAL-pv-new", 200);
	dd_route("SECRETVAL-pv-bad", 403);
	ck_assert_int_eq(h_req(&E, "POST", DD, E.tok_admin, "application/json",
	    "{\"credentials\":{\"api_key\":\"SECRETVAL-pv-old\","
	    "\"application_key\":\"SECRETVAL-pv-oldapp\"},\"label\":\"PV label\"}",
	    hh, &r), 0);
	ck_assert_int_eq(r.status, 201);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "credentialId", &v));
	snprintf(id, sizeof(id), "%s", json_object_get_string(v));
	json_object_put(o);
	h_resp_free(&r);
	/* the page's form: one input per field, secrets as empty passwords */
	cred_page(path, sizeof(path), "datadog", id, "");
	get_page(path, cookie, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "name=\"credentials[api_key]\" type=\"password\" "
	    "value=\"\"") != NULL);
	ck_assert(strstr(r.body, "name=\"credentials[application_key]\" "
	    "type=\"password\" value=\"\"") != NULL);
	ck_assert(strstr(r.body, "name=\"credentials[site]\"") != NULL);
	ck_assert(strstr(r.body, "SECRETVAL") == NULL);
	h_resp_free(&r);
	/* a field missing: 400, the page again, no secret, label kept */
	ck_assert_int_eq(page_form("datadog", id, "/values", cookie, csrf,
	    "credentials%5Bapi_key%5D=SECRETVAL-pv-new", &r), 400);
	assert_page_headers(&r);
	ck_assert(strstr(r.body, "id=\"e-application_key\">This field is "
	    "required.") != NULL);
	ck_assert(strstr(r.body, "SECRETVAL") == NULL);
	ck_assert(strstr(r.body, "value=\"PV label\"") != NULL);
	h_resp_free(&r);
	/* rejected by the provider: 422, the old values stay */
	ck_assert_int_eq(page_form("datadog", id, "/values", cookie, csrf,
	    "credentials%5Bapi_key%5D=SECRETVAL-pv-bad&credentials%5B"
	    "application_key%5D=SECRETVAL-pv-badapp", &r), 422);
	assert_page_headers(&r);
	ck_assert(strstr(r.body, "SECRETVAL") == NULL);
	ck_assert(strstr(r.body, "The provider rejected these values") != NULL);
	ck_assert(strstr(r.body, "value=\"PV label\"") != NULL);
	h_resp_free(&r);
	/* without the CSRF field: 403 */
	ck_assert_int_eq(page_form("datadog", id, "/values", cookie, NULL,
	    "credentials%5Bapi_key%5D=SECRETVAL-pv-new&credentials%5B"
	    "application_key%5D=SECRETVAL-pv-newapp", &r), 403);
	h_resp_free(&r);
	snprintf(path, sizeof(path), DD "/%s/validate", id);
	ck_assert_int_eq(h_req(&E, "POST", path, E.tok_admin, NULL, NULL, hh,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	last_probe_header("DD-API-KEY", got, sizeof(got));
	ck_assert_str_eq(got, "SECRETVAL-pv-old");
	/* accepted: 303 to the page */
	ck_assert_int_eq(page_form("datadog", id, "/values", cookie, csrf,
	    "credentials%5Bapi_key%5D=SECRETVAL-pv-new&credentials%5B"
	    "application_key%5D=SECRETVAL-pv-newapp&credentials%5Bsite%5D="
	    "datadoghq.com", &r), 303);
	cred_page(want, sizeof(want), "datadog", id, "?done=replaced");
	assert_see_other(&r, want);
	h_resp_free(&r);
	get_page(want, cookie, &r);
	ck_assert(strstr(r.body, "The new values were checked and saved.") !=
	    NULL);
	ck_assert(strstr(r.body, "SECRETVAL") == NULL);
	h_resp_free(&r);
	/* the API's re-test asks the provider with the new values */
	ck_assert_int_eq(h_req(&E, "POST", path, E.tok_admin, NULL, NULL, hh,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	last_probe_header("DD-API-KEY", got, sizeof(got));
	ck_assert_str_eq(got, "SECRETVAL-pv-new");
	last_probe_header("DD-APPLICATION-KEY", got, sizeof(got));
	ck_assert_str_eq(got, "SECRETVAL-pv-newapp");
	/* the page's re-test: 303, the notice names the status */
	ck_assert_int_eq(page_form("datadog", id, "/retest", cookie, csrf, "",
	    &r), 303);
	cred_page(want, sizeof(want), "datadog", id, "?done=retested");
	assert_see_other(&r, want);
	h_resp_free(&r);
	get_page(want, cookie, &r);
	ck_assert(strstr(r.body, "Tested again: validated.") != NULL);
	h_resp_free(&r);
	snprintf(path, sizeof(path), DD "/%s", id);
	ck_assert_int_eq(h_req(&E, "DELETE", path, E.tok_admin, NULL, NULL, hh,
	    &r), 0);
	ck_assert_int_eq(r.status, 204);
	h_resp_free(&r);
}
END_TEST

/*
 * Connect from the credential's page: 303, the API shows the connection,
 * the page says so (and another credential's page links to it); a
 * connected credential's delete is 409 with the conflict's message and
 * the record stays; disconnect, then the delete goes.
 */
START_TEST(connect_from_page)
{
	struct h_resp	 r;
	char		 id[64], id2[64], path[256], want[256], got[64];

	store_sentry(E.tok_admin, "SECRETVAL-conn-1", id);
	store_sentry(E.tok_admin, "SECRETVAL-conn-2", id2);
	cred_page(path, sizeof(path), "sentry", id, "");
	get_page(path, cookie, &r);
	ck_assert(strstr(r.body, "id=\"connection\">Not connected<") != NULL);
	ck_assert(strstr(r.body, "Connect this credential</button>") != NULL);
	h_resp_free(&r);
	ck_assert_int_eq(page_form("sentry", id, "/connect", cookie, NULL, "", &r),
	    403);
	h_resp_free(&r);
	ck_assert_int_eq(api_member("/v1/integrations/sentry/connect",
	    "credentialId", got, sizeof(got)), 404);
	ck_assert_int_eq(page_form("sentry", id, "/connect", cookie, csrf, "",
	    &r), 303);
	cred_page(want, sizeof(want), "sentry", id, "?done=connected");
	assert_see_other(&r, want);
	h_resp_free(&r);
	ck_assert_int_eq(api_member("/v1/integrations/sentry/connect",
	    "credentialId", got, sizeof(got)), 200);
	ck_assert_str_eq(got, id);
	get_page(want, cookie, &r);
	ck_assert(strstr(r.body, "The integration is connected with this "
	    "credential.") != NULL);
	ck_assert(strstr(r.body, "id=\"connection\">Connected with this "
	    "credential since ") != NULL);
	ck_assert(strstr(r.body, "Disconnect</button>") != NULL);
	h_resp_free(&r);
	cred_page(path, sizeof(path), "sentry", id2, "");
	get_page(path, cookie, &r);
	cred_page(want, sizeof(want), "sentry", id, "\">another credential</a>");
	ck_assert(strstr(r.body, want) != NULL);
	h_resp_free(&r);
	/* the other credential cannot end this connection */
	ck_assert_int_eq(page_form("sentry", id2, "/disconnect", cookie, csrf, "",
	    &r), 409);
	h_resp_free(&r);
	/* delete of the connected one: 409, the message, the record stays */
	cred_page(path, sizeof(path), "sentry", id, "/delete");
	get_page(path, cookie, &r);
	ck_assert(strstr(r.body, "disconnect it first") != NULL);
	h_resp_free(&r);
	ck_assert_int_eq(page_form("sentry", id, "/delete", cookie, csrf, "", &r),
	    409);
	assert_page_headers(&r);
	ck_assert(strstr(r.body, "The credential is used by a connection; "
	    "disconnect first.") != NULL);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 200);
	/* disconnect: 303, the API shows none, then the delete goes */
	ck_assert_int_eq(page_form("sentry", id, "/disconnect", cookie, csrf, "",
	    &r), 303);
	cred_page(want, sizeof(want), "sentry", id, "?done=disconnected");
	assert_see_other(&r, want);
	h_resp_free(&r);
	ck_assert_int_eq(api_member("/v1/integrations/sentry/connect",
	    "credentialId", got, sizeof(got)), 404);
	ck_assert_int_eq(page_form("sentry", id, "/delete", cookie, csrf, "", &r),
	    303);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 404);
	/* an unknown credential cannot be connected */
	ck_assert_int_eq(page_form("sentry", id, "/connect", cookie, csrf, "",
	    &r), 404);
	h_resp_free(&r);
	ck_assert_int_eq(api_member("/v1/integrations/sentry/connect",
	    "credentialId", got, sizeof(got)), 404);
}
END_TEST

/* POSTs a form with the cookie ck and one more header line (or NULL). */
static long
post_with(const char *path, const char *ck, const char *line,
    const char *body, struct h_resp *r)
{
	const char	*h[4] = { HTML, NULL, NULL, NULL };
	size_t		 n = 1;

	/* the list ends at its first NULL */
	if (ck != NULL)
		h[n++] = ck;
	if (line != NULL)
		h[n++] = line;
	ck_assert_int_eq(h_req(&E, "POST", path, NULL, FORM, body, h, r), 0);
	return r->status;
}

/* The number of records credstore-admin lists. */
static size_t
n_records(void)
{
	char	*out;
	size_t	 n;

	ck_assert_int_eq(h_admin(&E, &out, "list", NULL), 0);
	n = h_lines(out);
	free(out);
	return n;
}

/*
 * Login CSRF (issue 12, finding 5): another site posts the sign-in form
 * with its own token.  Without the form's pre-session token, or from
 * another origin, 403 and no cookie; the form itself, from this origin
 * or without Origin and Referer, signs in.
 */
START_TEST(login_csrf)
{
	struct h_resp	 r;
	char		 body[9000], lck[256], lcs[64], own[128];
	const char	*foreign[] = { "Origin: http://evil.example",
	    "Origin: http://localhost", "Origin: http://127.0.0.1:1",
	    "Referer: http://evil.example/admin/login", NULL };
	size_t		 i;

	snprintf(own, sizeof(own), "Origin: http://127.0.0.1:%d", E.port);
	/* the review's repro: a cross-site post with the attacker's token */
	snprintf(body, sizeof(body), "access_token=%s", E.tok_other);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(post_with("/admin/login", NULL, i == 0 ? NULL :
		    foreign[i - 1], body, &r), 403);
		ck_assert_ptr_null(h_header(&r, "Set-Cookie"));
		assert_page_headers(&r);
		h_resp_free(&r);
	}
	/* with a real form's nonce and token, but from another origin */
	for (i = 0; foreign[i] != NULL; i++) {
		const char *h[] = { HTML, lck, foreign[i], NULL };

		login_form(lck, sizeof(lck), lcs, sizeof(lcs));
		snprintf(body, sizeof(body), "csrf_token=%s&access_token=%s",
		    lcs, E.tok_other);
		ck_assert_int_eq(h_req(&E, "POST", "/admin/login", NULL, FORM,
		    body, h, &r), 0);
		ck_assert_msg(r.status == 403, "%s: %ld", foreign[i], r.status);
		ck_assert_ptr_null(h_header(&r, "Set-Cookie"));
		h_resp_free(&r);
	}
	/* the form's token with another form's nonce cookie */
	login_form(lck, sizeof(lck), lcs, sizeof(lcs));
	{
		char lck2[256], lcs2[64];

		login_form(lck2, sizeof(lck2), lcs2, sizeof(lcs2));
		snprintf(body, sizeof(body), "csrf_token=%s&access_token=%s",
		    lcs2, E.tok_admin);
		ck_assert_int_eq(post_with("/admin/login", lck, own, body, &r),
		    403);
		ck_assert_ptr_null(h_header(&r, "Set-Cookie"));
		h_resp_free(&r);
	}
	/*
	 * Origin: null (a sandboxed frame; also our own no-referrer pages)
	 * tells nothing: without the form's token 403, with it a sign-in
	 */
	snprintf(body, sizeof(body), "access_token=%s", E.tok_other);
	ck_assert_int_eq(post_with("/admin/login", NULL, "Origin: null", body,
	    &r), 403);
	ck_assert_ptr_null(h_header(&r, "Set-Cookie"));
	h_resp_free(&r);
	post_login(E.tok_admin, "null", &r);
	ck_assert_int_eq(r.status, 303);
	h_resp_free(&r);
	/* the form from this origin signs in, and drops the nonce */
	post_login(E.tok_admin, own + strlen("Origin: "), &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert(strncmp(h_header(&r, "Set-Cookie"), "cs_session=", 11) == 0);
	ck_assert(strstr(r.headers, "cs_login=; ") != NULL);
	h_resp_free(&r);
}
END_TEST

/*
 * A foreign Origin or Referer on the credential form and on delete, with
 * the session's CSRF token: 403 and nothing changes (finding 5).
 */
START_TEST(origin_on_forms)
{
	struct h_resp	 r;
	char		 id[64], path[256], body[512], own[128];
	size_t		 before;

	snprintf(own, sizeof(own), "Origin: http://127.0.0.1:%d", E.port);
	before = n_records();
	snprintf(body, sizeof(body), "credentials%%5Bauth_token%%5D=SECRETVAL-o1"
	    "&csrf_token=%s", csrf);
	ck_assert_int_eq(post_with(SENTRY, cookie, "Origin: http://evil.example",
	    body, &r), 403);
	h_resp_free(&r);
	ck_assert_int_eq(post_with(SENTRY, cookie,
	    "Referer: http://evil.example/x", body, &r), 403);
	h_resp_free(&r);
	ck_assert_uint_eq(n_records(), before);
	ck_assert_int_eq(post_with(SENTRY, cookie, own, body, &r), 303);
	h_resp_free(&r);
	ck_assert_uint_eq(n_records(), before + 1);

	store_sentry(E.tok_admin, "SECRETVAL-o2", id);
	snprintf(path, sizeof(path), SENTRY "/%s", id);
	snprintf(body, sizeof(body), "_method=DELETE&csrf_token=%s", csrf);
	ck_assert_int_eq(post_with(path, cookie, "Origin: http://evil.example",
	    body, &r), 403);
	h_resp_free(&r);
	ck_assert_int_eq(post_with(path, cookie,
	    "Origin: http://127.0.0.1.evil.example", body, &r), 403);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 200);
	/* a form with its own token (no cookie) from another site: 403 too */
	snprintf(body, sizeof(body), "_method=DELETE&access_token=%s",
	    E.tok_admin);
	ck_assert_int_eq(post_with(path, NULL, "Origin: http://evil.example",
	    body, &r), 403);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 200);
	snprintf(body, sizeof(body), "_method=DELETE&csrf_token=%s", csrf);
	ck_assert_int_eq(post_with(path, cookie, own, body, &r), 303);
	h_resp_free(&r);
	ck_assert_int_eq(get_status(id), 404);
	/* sign-out from another site does not end the session */
	snprintf(body, sizeof(body), "csrf_token=%s", csrf);
	ck_assert_int_eq(post_with("/admin/logout", cookie,
	    "Origin: http://evil.example", body, &r), 403);
	h_resp_free(&r);
	get_page("/admin/", cookie, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
}
END_TEST

/*
 * Sign-out ends the session on the server (issue 12, finding 7): the old
 * cookie no longer lists (303 to sign in) or stores (401, nothing
 * stored), while another session of the same user goes on.
 */
START_TEST(logout_revokes)
{
	struct h_resp	 r;
	char		 ck[4096], cs[128], ck2[4096], cs2[128], body[512];
	size_t		 before;

	sign_in(E.tok_admin, ck, sizeof(ck), cs, sizeof(cs));
	sign_in(E.tok_admin, ck2, sizeof(ck2), cs2, sizeof(cs2));
	snprintf(body, sizeof(body), "csrf_token=%s", cs);
	ck_assert_int_eq(post_with("/admin/logout", ck, NULL, body, &r), 303);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/login?out=1");
	h_resp_free(&r);
	/* the review's repro: the old cookie, kept by an attacker */
	get_page("/admin/", ck, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/login?expired=1");
	h_resp_free(&r);
	before = n_records();
	{
		const char *h[] = { ck, NULL };

		snprintf(body, sizeof(body), "credentials%%5Bauth_token%%5D="
		    "SECRETVAL-r1&csrf_token=%s", cs);
		ck_assert_int_eq(h_req(&E, "POST", SENTRY, NULL, FORM, body, h,
		    &r), 0);
		ck_assert_int_eq(r.status, 401);
		ck_assert_str_eq(h_errcode(&r), "unauthorized");
		h_resp_free(&r);
		ck_assert_int_eq(h_req(&E, "GET", SENTRY, NULL, NULL, NULL, h,
		    &r), 0);
		ck_assert_int_eq(r.status, 401);
		h_resp_free(&r);
	}
	ck_assert_int_eq(post_with(SENTRY, ck, NULL, body, &r), 303);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/login?expired=1");
	h_resp_free(&r);
	ck_assert_uint_eq(n_records(), before);
	/* the other session of the same user still works */
	get_page("/admin/", ck2, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert(h_grep_file(E.errlog, "signed out subject="));
}
END_TEST

/* Writes the server's JWT secret file (by rename, mode 0600). */
static void
put_secret(const void *p, size_t n)
{
	char	 path[700], tmp[710];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/jwt.secret", E.dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	ck_assert_ptr_nonnull(f = fopen(tmp, "wb"));
	ck_assert_int_eq(chmod(tmp, 0600), 0);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/*
 * A session whose token no longer verifies ends (finding 7): the HS
 * secret that signed it is replaced, and the cookie stops working; with
 * the secret back, it works again.
 */
START_TEST(session_key_gone)
{
	struct h_resp	 r;
	char		 path[700], ck[4096], cs[128], *old;
	unsigned char	 fresh[48];
	size_t		 oldlen;
	FILE		*f;

	sign_in(E.tok_admin, ck, sizeof(ck), cs, sizeof(cs));
	snprintf(path, sizeof(path), "%s/jwt.secret", E.dir);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	ck_assert_ptr_nonnull(old = malloc(4096));
	oldlen = fread(old, 1, 4096, f);
	fclose(f);
	ck_assert_uint_gt(oldlen, 0);
	memset(fresh, 'n', sizeof(fresh));
	put_secret(fresh, sizeof(fresh));
	usleep(1100 * 1000);		/* the secret is re-read each second */
	for (int i = 0; i < 4; i++) {
		get_page("/admin/", ck, &r);
		ck_assert_int_eq(r.status, 303);
		ck_assert_str_eq(h_header(&r, "Location"),
		    "/admin/login?expired=1");
		h_resp_free(&r);
	}
	put_secret(old, oldlen);
	usleep(1100 * 1000);
	for (int i = 0; i < 4; i++) {
		get_page("/admin/", ck, &r);
		ck_assert_int_eq(r.status, 200);
		h_resp_free(&r);
	}
	free(old);
}
END_TEST

START_TEST(expired_session)
{
	struct h_resp	 r;
	char		*tok, claims[256], ck[4096], cs[128], *p;

	/* a token valid for 2 s: the session ends with it */
	snprintf(claims, sizeof(claims), "{\"sub\":\"short\",\"org_id\":\"acme\","
	    "\"role\":\"admin\",\"iss\":\"https://issuer.test\",\"aud\":"
	    "\"credstore\",\"exp\":%ld}", (long)time(NULL) + 2);
	tok = h_mint(&E, claims);
	sign_in(tok, ck, sizeof(ck), cs, sizeof(cs));
	free(tok);
	/* the cookie expires with the token; servers refuse it after */
	sleep(3);
	get_page("/admin/", ck, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(h_header(&r, "Location"), "/admin/login?expired=1");
	h_resp_free(&r);
	get_page("/admin/login?expired=1", NULL, &r);
	ck_assert(strstr(r.body, "Your session has expired") != NULL);
	h_resp_free(&r);
	/* a forged cookie is refused the same way */
	snprintf(ck, sizeof(ck), "%s", cookie);
	p = ck + strlen(ck) - 3;
	*p = *p == 'A' ? 'B' : 'A';
	get_page("/admin/", ck, &r);
	ck_assert_int_eq(r.status, 303);
	h_resp_free(&r);
}
END_TEST

int
main(void)
{
	Suite		*s;
	TCase		*tc;
	SRunner		*sr;
	int		 failed;
	char		 cat[700], cmd[2000];
	struct h_opts	 o = { .procs = 2 };
	const char	*src = getenv("top_srcdir");

	signal(SIGPIPE, SIG_IGN);
	/* the bundled catalog plus a provider with a hostile name */
	snprintf(cat, sizeof(cat), "/tmp/credstore-admin-cat-%ld.json",
	    (long)getpid());
	snprintf(cmd, sizeof(cmd), "sed 's/\"providers\": \\[/\"providers\": "
	    "[{\"id\": \"quote-test\", \"name\": \"Quote \\\\\"Test\\\\\" <b>\\&'"
	    "\"'\"'\", \"authType\": \"api_key\", \"requiredFields\": "
	    "[\"key\"], \"fields\": {\"key\": {\"label\": \"Key\", \"secret\": "
	    "true}}},/' %s/etc/catalog.json > %s", src ? src : ".", cat);
	if (system(cmd) != 0)
		return 99;
	o.catalog = cat;
	h_setup(&E, &o);
	s = suite_create("e2e_admin");
	tc = tcase_create("admin");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sign_in_and_pages);
	tcase_add_test(tc, csrf_required);
	tcase_add_test(tc, escaping);
	tcase_add_test(tc, form_errors_keep_label_not_secrets);
	tcase_add_test(tc, tenant_prefix);
	tcase_add_test(tc, csrf_delete_form);
	tcase_add_test(tc, index_paging_search);
	tcase_add_test(tc, delete_confirmed);
	tcase_add_test(tc, rename_from_page);
	tcase_add_test(tc, values_from_page);
	tcase_add_test(tc, connect_from_page);
	tcase_add_test(tc, login_csrf);
	tcase_add_test(tc, origin_on_forms);
	tcase_add_test(tc, logout_revokes);
	tcase_add_test(tc, session_key_gone);
	tcase_add_test(tc, expired_session);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_teardown(&E);
	unlink(cat);
	return failed == 0 ? 0 : 1;
}
