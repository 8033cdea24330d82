/*
 * credstore below a mount point (SPEC section 2, last item; issue 15):
 * behind a real lighttpd from the shipped examples, at /credstore/ and at
 * /cgi-bin/credstore.fcgi/ with FastCGI (lighttpd.conf.example's
 * credstore_mount), and at /cgi-bin/credstore.fcgi/ as a plain CGI
 * program (lighttpd-cgi.conf.example).  Each shape: /healthz and the API
 * under the prefix, 404 outside it, and the admin page's links, form
 * actions, Location headers and cookie Path all carrying the prefix;
 * sign-in, store through the form, sign-out.
 */
#include "cs_build.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <json-c/json.h>

#include "harness.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define FORM	"application/x-www-form-urlencoded"
#define HTML	"Accept: text/html,application/xhtml+xml"
#define JSONT	"application/json"

static const struct {
	const char	*mount;
	int		 cgi;
} shapes[] = {
	{ "/credstore", 0 },
	{ "/cgi-bin/credstore.fcgi", 0 },
	{ "/cgi-bin/credstore.fcgi", 1 },
};

static struct h_env E;
static int live;	/* E is set up: torn down even after a failed check */
static const char *M;	/* the mount point of the shape under test */

/*
 * Tears E down.  A failed check leaves its test at once (CK_NOFORK), so
 * the next test, and the fixture at the end, do it.
 */
static void
cleanup(void)
{
	if (live)
		h_teardown(&E);
	live = 0;
}

/* mount + path into a static buffer (two at a time) */
static const char *
at(const char *path)
{
	static char	b[2][512];
	static int	i;

	i ^= 1;
	snprintf(b[i], sizeof(b[i]), "%s%s", M, path);
	return b[i];
}

static void
req(const char *method, const char *path, const char *tok, const char *ct,
    const char *body, const char *ck, struct h_resp *r)
{
	const char *h[] = { HTML, ck, NULL };

	ck_assert_int_eq(h_req(&E, method, path, tok, ct, body,
	    ck != NULL || tok == NULL ? h : NULL, r), 0);
}

/*
 * Every link and form action of a page is below the mount point: no
 * href, src or action that starts with "/" but not with the mount.
 */
static void
assert_links_mounted(const struct h_resp *r)
{
	const char	*p, *attrs[] = { "href=\"", "action=\"", "src=\"" };
	char		 want[300];
	size_t		 i, n = 0;

	snprintf(want, sizeof(want), "%s/", M);
	for (i = 0; i < NELEM(attrs); i++)
		for (p = r->body; (p = strstr(p, attrs[i])) != NULL; p++) {
			p += strlen(attrs[i]);
			ck_assert_msg(strncmp(p, want, strlen(want)) == 0,
			    "a link outside %s: %.60s", M, p);
			n++;
		}
	ck_assert_uint_gt(n, 0);
}

/* The Set-Cookie of r named name: its "name=value" into out, Path=M. */
static void
cookie_of(const struct h_resp *r, const char *name, char *out, size_t n)
{
	const char	*sc = h_header(r, "Set-Cookie");
	char		 path[300];

	ck_assert_ptr_nonnull(sc);
	ck_assert_msg(strncmp(sc, name, strlen(name)) == 0 &&
	    sc[strlen(name)] == '=', "%s", sc);
	snprintf(path, sizeof(path), "; Path=%s;", M);
	ck_assert_msg(strstr(sc, path) != NULL, "%s", sc);
	snprintf(out, n, "Cookie: %.*s", (int)strcspn(sc, ";"), sc);
}

static void
field(const struct h_resp *r, const char *name, char *out, size_t n)
{
	char		 pat[80];
	const char	*p;

	snprintf(pat, sizeof(pat), "name=\"%s\" value=\"", name);
	ck_assert_ptr_nonnull(p = strstr(r->body, pat));
	p += strlen(pat);
	snprintf(out, n, "%.*s", (int)strcspn(p, "\""), p);
}

/* The API under the prefix; nothing outside it. */
static void
api(void)
{
	struct h_resp		 r;
	struct json_object	*o;
	const char		*id, *idem[] = { "Idempotency-Key: mount-1", NULL };
	char			 loc[400], want[400];

	req("GET", at("/healthz"), NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":\"ok\"}");
	h_resp_free(&r);
	/* outside the prefix: lighttpd's 404, not credstore */
	req("GET", "/healthz", NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert(strstr(r.body, "not_found") == NULL);
	h_resp_free(&r);
	req("GET", "/v1/integrations/catalog", E.tok_admin, NULL, NULL, NULL,
	    &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert(strstr(r.body, "not_found") == NULL);
	h_resp_free(&r);
	/* under it, an unknown path: credstore's own 404 */
	req("GET", at("/nothing"), NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(h_errcode(&r), "not_found");
	h_resp_free(&r);
	/* the prefix twice is not a route */
	snprintf(want, sizeof(want), "%s%s/healthz", M, M);
	req("GET", want, NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	h_resp_free(&r);

	req("GET", at("/v1/integrations/catalog/sentry"), E.tok_admin, NULL,
	    NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert_int_eq(h_req(&E, "POST", at("/v1/integrations/sentry/credentials"),
	    E.tok_admin, JSONT, "{\"credentials\":{\"auth_token\":\"sntrys_m\"}}",
	    idem, &r), 0);
	ck_assert_int_eq(r.status, 201);
	ck_assert_ptr_nonnull(o = h_json(&r));
	id = json_object_get_string(json_object_object_get(o, "credentialId"));
	snprintf(want, sizeof(want), "%s/v1/integrations/sentry/credentials/%s",
	    M, id);
	ck_assert_str_eq(h_header(&r, "Location"), want);
	snprintf(loc, sizeof(loc), "%s", want);
	json_object_put(o);
	h_resp_free(&r);
	/* the replay's Location carries the prefix too */
	ck_assert_int_eq(h_req(&E, "POST", at("/v1/integrations/sentry/credentials"),
	    E.tok_admin, JSONT, "{\"credentials\":{\"auth_token\":\"sntrys_m\"}}",
	    idem, &r), 0);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(h_header(&r, "Idempotent-Replayed"), "true");
	ck_assert_str_eq(h_header(&r, "Location"), loc);
	h_resp_free(&r);
	/* the Location is where the credential is */
	ck_assert_int_eq(h_req(&E, "GET", loc, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "\"sntrys_m\"") == NULL);
	h_resp_free(&r);
}

/* The admin page: links, actions, Location, cookie Path; form store. */
static void
admin(void)
{
	struct h_resp	 r;
	char		 lck[300], ck[4096], cs[64], body[4096], want[400];
	const char	*loc;

	req("GET", at("/admin/"), NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(h_header(&r, "Location"), at("/admin/login"));
	h_resp_free(&r);
	req("GET", at("/admin/login"), NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cookie_of(&r, "cs_login", lck, sizeof(lck));
	snprintf(want, sizeof(want), "action=\"%s/admin/login\"", M);
	ck_assert(strstr(r.body, want) != NULL);
	snprintf(want, sizeof(want), "href=\"%s/admin/style.css\"", M);
	ck_assert(strstr(r.body, want) != NULL);
	assert_links_mounted(&r);
	field(&r, "csrf_token", cs, sizeof(cs));
	h_resp_free(&r);
	req("GET", at("/admin/style.css"), NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strncmp(h_header(&r, "Content-Type"), "text/css", 8) == 0);
	h_resp_free(&r);

	/* sign in: the session cookie's Path is the mount */
	snprintf(body, sizeof(body), "csrf_token=%s&access_token=%s", cs,
	    E.tok_admin);
	req("POST", at("/admin/login"), NULL, FORM, body, lck, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(h_header(&r, "Location"), at("/admin/"));
	cookie_of(&r, "cs_session", ck, sizeof(ck));
	h_resp_free(&r);
	req("GET", at("/admin/"), NULL, NULL, NULL, ck, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "href=\"%s/admin/integrations/sentry\"", M);
	ck_assert(strstr(r.body, want) != NULL);
	snprintf(want, sizeof(want), "action=\"%s/admin/logout\"", M);
	ck_assert(strstr(r.body, want) != NULL);
	/* the credential stored through the API: its link and forms */
	snprintf(want, sizeof(want), "href=\"%s/admin/integrations/sentry/"
	    "credentials/crd_", M);
	ck_assert(strstr(r.body, want) != NULL);
	snprintf(want, sizeof(want), "action=\"%s/admin/integrations/sentry/"
	    "credentials/crd_", M);
	ck_assert(strstr(r.body, want) != NULL);
	assert_links_mounted(&r);
	h_resp_free(&r);

	/* store through the form: 303 to the credential's page, mounted */
	req("GET", at("/admin/integrations/sentry"), NULL, NULL, NULL, ck, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "action=\"%s/v1/integrations/sentry/"
	    "credentials\"", M);
	ck_assert(strstr(r.body, want) != NULL);
	assert_links_mounted(&r);
	field(&r, "csrf_token", cs, sizeof(cs));
	h_resp_free(&r);
	snprintf(body, sizeof(body), "csrf_token=%s&credentials%%5Bauth_token"
	    "%%5D=sntrys_form&label=mounted", cs);
	req("POST", at("/v1/integrations/sentry/credentials"), NULL, FORM, body,
	    ck, &r);
	ck_assert_int_eq(r.status, 303);
	loc = h_header(&r, "Location");
	snprintf(want, sizeof(want), "%s/admin/integrations/sentry/credentials/"
	    "crd_", M);
	ck_assert_msg(strncmp(loc, want, strlen(want)) == 0, "%s", loc);
	snprintf(want, sizeof(want), "%s", loc);
	h_resp_free(&r);
	req("GET", want, NULL, NULL, NULL, ck, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "mounted") != NULL);
	ck_assert(strstr(r.body, "sntrys_form") == NULL);
	assert_links_mounted(&r);
	h_resp_free(&r);

	/* sign out: back to the mounted sign-in page, the cookie cleared */
	snprintf(body, sizeof(body), "csrf_token=%s", cs);
	req("POST", at("/admin/logout"), NULL, FORM, body, ck, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(h_header(&r, "Location"), at("/admin/login?out=1"));
	cookie_of(&r, "cs_session", lck, sizeof(lck));
	ck_assert_str_eq(lck, "Cookie: cs_session=");
	h_resp_free(&r);
}

START_TEST(mounted)
{
	struct h_opts o = { .mount = shapes[_i].mount, .cgi = shapes[_i].cgi };

	M = shapes[_i].mount;
	cleanup();
	live = 1;
	h_setup(&E, &o);
	api();
	admin();
	cleanup();
}
END_TEST

/*
 * credstore.fcgi as a CGI program with what Apache sends after the
 * rewrite of htaccess.rewrite.example (tests/deploy/htaccess.sh runs the
 * real Apache, as root): the token as REDIRECT_HTTP_AUTHORIZATION, the
 * mount point from REQUEST_URI less PATH_INFO, and the 401 that names
 * CGIPassAuth under Apache only.
 */
static const char ADMIN[] = "(the admin token)";

static const struct {
	const char	*server, *auth, *redirect_auth;
	const char	*status, *want, *unwanted;
} cgi_cases[] = {
	{ "Apache/2.4.71 (Debian)", NULL, ADMIN, "Status: 200 OK",
	    "{\"data\":[", NULL },
	{ "Apache/2.4.71 (Debian)", "", ADMIN, "Status: 200 OK",
	    "{\"data\":[", NULL },
	{ "Apache/2.4.71 (Debian)", ADMIN, "Bearer nope", "Status: 200 OK",
	    "{\"data\":[", NULL },
	{ "Apache/2.4.71 (Debian) mod_fcgid/2.3.9", NULL, NULL,
	    "Status: 401 Unauthorized", "{\"error\":{\"code\":\"unauthorized\","
	    "\"message\":\"No Authorization header reached credstore; with "
	    "Apache set CGIPassAuth On\"}}", NULL },
	{ "Apache", NULL, "", "Status: 401 Unauthorized",
	    "with Apache set CGIPassAuth On", NULL },
	{ "lighttpd/1.4.69", NULL, NULL, "Status: 401 Unauthorized",
	    "\"code\":\"unauthorized\"", "CGIPassAuth" },
	{ "Apache/2.4.71 (Debian)", NULL, "Bearer nope",
	    "Status: 401 Unauthorized", "\"The token is not valid\"",
	    "CGIPassAuth" },
};

/* NAME='VALUE' into out (ADMIN: the admin token's Bearer); "" for NULL. */
static void
var(char *out, size_t n, const char *name, const char *v)
{
	out[0] = '\0';
	if (v == NULL)
		return;
	if (v == ADMIN)
		ck_assert(snprintf(out, n, "%s='Bearer %s'", name, E.tok_admin) <
		    (int)n);
	else
		ck_assert(snprintf(out, n, "%s='%s'", name, v) < (int)n);
}

START_TEST(apache_cgi)
{
	char		 cmd[12288], auth[4200], rauth[4200], out[700];
	const char	*a = cgi_cases[_i].auth, *ra = cgi_cases[_i].redirect_auth;
	char		*body;

	cleanup();
	live = 1;
	h_setup_stopped(&E, NULL);
	var(auth, sizeof(auth), "HTTP_AUTHORIZATION", a);
	var(rauth, sizeof(rauth), "REDIRECT_HTTP_AUTHORIZATION", ra);
	snprintf(out, sizeof(out), "%s/cgi.out", E.dir);
	ck_assert(snprintf(cmd, sizeof(cmd), "env -i CREDSTORE_CONFIG=%s "
	    "GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SERVER_SOFTWARE='%s' "
	    "REQUEST_URI=/credstore/v1/integrations/sentry/credentials "
	    "SCRIPT_NAME=/credstore/credstore.fcgi "
	    "PATH_INFO=/v1/integrations/sentry/credentials %s %s "
	    "%s > %s 2>/dev/null </dev/null", E.conf, cgi_cases[_i].server,
	    auth, rauth, E.fcgi, out) < (int)sizeof(cmd));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_ptr_nonnull(body = h_slurp(out, NULL));
	ck_assert_msg(strncmp(body, cgi_cases[_i].status,
	    strlen(cgi_cases[_i].status)) == 0, "%s", body);
	ck_assert_msg(strstr(body, cgi_cases[_i].want) != NULL, "%s", body);
	if (cgi_cases[_i].unwanted != NULL)
		ck_assert_msg(strstr(body, cgi_cases[_i].unwanted) == NULL, "%s",
		    body);
	if (strstr(cgi_cases[_i].status, "401") != NULL)
		ck_assert(strstr(body, "WWW-Authenticate: Bearer realm=") != NULL);
	free(body);
	cleanup();
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	signal(SIGPIPE, SIG_IGN);
	s = suite_create("e2e_mount");
	tc = tcase_create("mount");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, NULL, cleanup);
	tcase_add_loop_test(tc, mounted, 0, (int)NELEM(shapes));
	tcase_add_loop_test(tc, apache_cgi, 0, (int)NELEM(cgi_cases));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
