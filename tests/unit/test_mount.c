/*
 * The mount point (mount.h): which part of the request path belongs to
 * the server's mapping, from the CGI variables each server sends.  The
 * rows of `shapes` are what lighttpd, Apache and nginx send for the
 * shipped examples (lighttpd's were captured from lighttpd 1.4.69, with
 * its prefix split of SCRIPT_NAME and PATH_INFO; see the README, "Shared
 * hosting"); each goes through http_req_begin and handlers_match, the
 * code a request takes.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "handlers.h"
#include "http.h"
#include "mount.h"
#include "router.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define CGI	"/cgi-bin/credstore.fcgi"
#define NF	ROUTE_NOT_FOUND

/*
 * One request as a server hands it over: REQUEST_URI, SCRIPT_NAME,
 * PATH_INFO and CREDSTORE_MOUNT (NULL: not sent), then the route (NULL
 * for a 404), the mount and the raw path below it.
 */
static const struct {
	const char	*server;
	const char	*uri, *sn, *pi, *conf;
	enum route_rc	 rc;
	const char	*route, *mount, *path;
} shapes[] = {
	/* lighttpd, fastcgi.server "/" with check-local disable */
	{ "lighttpd /", "/healthz", "/healthz", NULL, NULL,
	    ROUTE_OK, "healthz", "", "/healthz" },
	{ "lighttpd /", "/v1/integrations/sentry/credentials?limit=2", "/v1",
	    "/integrations/sentry/credentials", NULL,
	    ROUTE_OK, "credentials", "", "/v1/integrations/sentry/credentials" },
	{ "lighttpd /", "/admin/", "/admin", "/", NULL,
	    ROUTE_OK, "admin_index", "", "/admin/" },
	{ "lighttpd /", "/admin/integrations/dat%61dog", "/admin",
	    "/integrations/datadog", NULL,
	    ROUTE_OK, "admin_provider", "", "/admin/integrations/dat%61dog" },
	{ "lighttpd /", "/nothing/here", "/nothing", "/here", NULL,
	    NF, NULL, NULL, NULL },
	/* lighttpd, fastcgi.server "/credstore/" + CREDSTORE_MOUNT */
	{ "lighttpd /credstore/", "/credstore/healthz", "/credstore/healthz",
	    NULL, "/credstore", ROUTE_OK, "healthz", "/credstore", "/healthz" },
	{ "lighttpd /credstore/", "/credstore/v1/integrations/catalog",
	    "/credstore/v1", "/integrations/catalog", "/credstore",
	    ROUTE_OK, "catalog", "/credstore", "/v1/integrations/catalog" },
	{ "lighttpd /credstore/", "/credstore/admin/", "/credstore/admin",
	    "/", "/credstore/", ROUTE_OK, "admin_index", "/credstore",
	    "/admin/" },
	{ "outside the mount", "/healthz", "/healthz", NULL, "/credstore",
	    NF, NULL, NULL, NULL },
	{ "outside the mount", "/credstorex/healthz", "/credstorex",
	    "/healthz", "/credstore", NF, NULL, NULL, NULL },
	{ "the mount alone", "/credstore", "/credstore", NULL, "/credstore",
	    NF, NULL, NULL, NULL },
	{ "an explicit root", "/healthz", "/healthz", NULL, "",
	    ROUTE_OK, "healthz", "", "/healthz" },
	{ "an explicit root", "/", "/", NULL, "/", NF, NULL, NULL, NULL },
	{ "an explicit root wins", CGI "/healthz", CGI, "/healthz", "",
	    NF, NULL, NULL, NULL },
	{ "a bad CREDSTORE_MOUNT", "/x;y/healthz", "/x;y", "/healthz",
	    "/x;y", NF, NULL, NULL, NULL },
	/* lighttpd mod_cgi, Apache mod_cgi and mod_fcgid: a program */
	{ "cgi-bin", CGI "/healthz", CGI, "/healthz", NULL,
	    ROUTE_OK, "healthz", CGI, "/healthz" },
	{ "cgi-bin", CGI "/admin/login?expired=1", CGI, "/admin/login", NULL,
	    ROUTE_OK, "admin_login", CGI, "/admin/login" },
	{ "cgi-bin", CGI "/v1/integrations/catalog/dat%61dog", CGI,
	    "/v1/integrations/catalog/datadog", NULL,
	    ROUTE_OK, "catalog_one", CGI, "/v1/integrations/catalog/dat%61dog" },
	{ "cgi-bin, an escaped name", "/cgi-bin/cred%73tore.fcgi/healthz",
	    CGI, "/healthz", NULL, ROUTE_OK, "healthz",
	    "/cgi-bin/cred%73tore.fcgi", "/healthz" },
	{ "cgi-bin, lighttpd keeps %2F", CGI "/v1/integrations/a%2Fb",
	    CGI, "/v1/integrations/a%2Fb", NULL, NF, NULL, NULL, NULL },
	{ "cgi-bin, the program alone", CGI, CGI, NULL, NULL,
	    NF, NULL, NULL, NULL },
	/* SCRIPT_NAME and REQUEST_URI without PATH_INFO */
	{ "no PATH_INFO", CGI "/healthz", CGI, NULL, NULL,
	    ROUTE_OK, "healthz", CGI, "/healthz" },
	{ "no PATH_INFO", CGI "/admin/", CGI, NULL, NULL,
	    ROUTE_OK, "admin_index", CGI, "/admin/" },
	{ "no PATH_INFO, not a head", "/other/healthz", CGI, NULL, NULL,
	    NF, NULL, NULL, NULL },
	{ "no PATH_INFO, not at a boundary", CGI "x/healthz", CGI, NULL, NULL,
	    NF, NULL, NULL, NULL },
	/* Apache: a rewrite hides the program (SCRIPT_NAME names it) */
	{ "rewrite in cgi-bin/", "/cgi-bin/healthz", CGI, "/healthz", NULL,
	    ROUTE_OK, "healthz", "/cgi-bin", "/healthz" },
	{ "rewrite in credstore/", "/credstore/admin/",
	    "/credstore/credstore.fcgi", "/admin/", NULL,
	    ROUTE_OK, "admin_index", "/credstore", "/admin/" },
	{ "rewrite at the root", "/v1/integrations/catalog", "/credstore.fcgi",
	    "/v1/integrations/catalog", NULL,
	    ROUTE_OK, "catalog", "", "/v1/integrations/catalog" },
	/* Apache ScriptAliasMatch "^/(.*)$" (apache.conf.example, A) */
	{ "ScriptAliasMatch", "/healthz", "", "/healthz", NULL,
	    ROUTE_OK, "healthz", "", "/healthz" },
	/* Apache mod_proxy_fcgi, ProxyPass "/" (apache.conf.example, B) */
	{ "mod_proxy_fcgi", "/v1/integrations/catalog",
	    "/v1/integrations/catalog", NULL, NULL,
	    ROUTE_OK, "catalog", "", "/v1/integrations/catalog" },
	{ "mod_proxy_fcgi /credstore/", "/credstore/v1/integrations/catalog",
	    "/credstore/v1/integrations/catalog", NULL, "/credstore",
	    ROUTE_OK, "catalog", "/credstore", "/v1/integrations/catalog" },
	/* nginx: location / and location /credstore/ split_path_info */
	{ "nginx /", "/healthz", "/healthz", NULL, NULL,
	    ROUTE_OK, "healthz", "", "/healthz" },
	{ "nginx /credstore/", "/credstore/healthz", "/credstore", "/healthz",
	    NULL, ROUTE_OK, "healthz", "/credstore", "/healthz" },
	/* a CGI server without REQUEST_URI: SCRIPT_NAME + PATH_INFO */
	{ "no REQUEST_URI", NULL, CGI, "/healthz", NULL,
	    ROUTE_OK, "healthz", CGI, "/healthz" },
	{ "no REQUEST_URI", NULL, "", "/healthz", NULL,
	    ROUTE_OK, "healthz", "", "/healthz" },
	/* hostile: never a mount that leaves the site or breaks a header */
	{ "//host", "//evil.example/healthz", "/evil.example", "/healthz",
	    NULL, NF, NULL, NULL, NULL },
	{ "cookie attribute", "/x;Domain=evil/healthz", "/x;Domain=evil",
	    "/healthz", NULL, NF, NULL, NULL, NULL },
	{ "dot segment", "/a/../healthz", "/a/..", "/healthz", NULL,
	    NF, NULL, NULL, NULL },
	{ "encoded dots", "/%2e%2E/healthz", "/..", "/healthz", NULL,
	    NF, NULL, NULL, NULL },
	{ "merged slashes", CGI "//healthz", CGI, "/healthz", NULL,
	    NF, NULL, NULL, NULL },
	{ "a quote", "/a\"b/healthz", "/a\"b", "/healthz", NULL,
	    NF, NULL, NULL, NULL },
	{ "not the tail", "/a/healthz", "/b", "/other", NULL,
	    NF, NULL, NULL, NULL },
};

START_TEST(test_shape)
{
	char			*env[8], b[5][512];
	struct http_req		 r;
	struct route_match	 rm;
	enum route_rc		 rc;
	int			 n = 0;

	unsetenv("CREDSTORE_MOUNT");
	env[n++] = (char *)"REQUEST_METHOD=GET";
	if (shapes[_i].uri != NULL) {
		snprintf(b[0], sizeof(b[0]), "REQUEST_URI=%s", shapes[_i].uri);
		env[n++] = b[0];
	}
	snprintf(b[1], sizeof(b[1]), "SCRIPT_NAME=%s", shapes[_i].sn);
	env[n++] = b[1];
	if (shapes[_i].pi != NULL) {
		snprintf(b[2], sizeof(b[2]), "PATH_INFO=%s", shapes[_i].pi);
		env[n++] = b[2];
	}
	if (shapes[_i].conf != NULL) {
		snprintf(b[3], sizeof(b[3]), "CREDSTORE_MOUNT=%s",
		    shapes[_i].conf);
		env[n++] = b[3];
	}
	env[n] = NULL;
	ck_assert_int_eq(http_req_begin(&r, NULL, NULL, env), 0);
	rc = handlers_match(&r, &rm);
	ck_assert_msg(rc == shapes[_i].rc, "%s %s: rc %d", shapes[_i].server,
	    shapes[_i].uri ? shapes[_i].uri : "-", (int)rc);
	if (rc == ROUTE_OK) {
		ck_assert_str_eq(rm.def->name, shapes[_i].route);
		ck_assert_str_eq(r.mount, shapes[_i].mount);
		ck_assert_str_eq(r.path, shapes[_i].path);
	}
	/* never a mount ending in '/', always the head of the request path */
	ck_assert(r.mount[0] == '\0' || r.mount[strlen(r.mount) - 1] != '/');
	ck_assert(strncmp(r.uri, r.mount, strlen(r.mount)) == 0);
	http_req_end(&r);
}
END_TEST

/* mount_valid's table: what may go into a link, a Location, a Path. */
static const struct {
	const char	*m;
	int		 ok;
} valid[] = {
	{ "", 1 }, { "/a", 1 }, { "/cgi-bin/credstore.fcgi", 1 },
	{ "/~user/x-y_z.1", 1 }, { "/a%20b", 1 }, { "/a:b@c!$&'()*+=", 1 },
	{ "/", 0 }, { "a", 0 }, { "/a/", 0 }, { "//a", 0 }, { "/a//b", 0 },
	{ "/.", 0 }, { "/..", 0 }, { "/a/./b", 0 }, { "/%2e", 0 },
	{ "/.%2E", 0 }, { "/...", 1 }, { "/.a", 1 }, { "/a;b", 0 },
	{ "/a,b", 0 }, { "/a b", 0 }, { "/a\"b", 0 }, { "/a<b", 0 },
	{ "/a\\b", 0 }, { "/a\rb", 0 }, { "/a%", 0 }, { "/a%2", 0 },
	{ "/a%zz", 0 }, { "/\xc3\xa9", 0 }, { "/a?b", 0 }, { "/a#b", 0 },
};

START_TEST(test_valid)
{
	ck_assert_msg(mount_valid(valid[_i].m, strlen(valid[_i].m)) ==
	    valid[_i].ok, "%s", valid[_i].m);
}
END_TEST

/* The longest mount is MOUNT_MAX bytes; a configured one is trimmed. */
START_TEST(test_limits)
{
	char			 m[MOUNT_MAX + 16], uri[MOUNT_MAX + 32];
	struct mount_cand	 mc;

	memset(m, 'a', sizeof(m));
	m[0] = '/';
	m[MOUNT_MAX] = '\0';
	ck_assert_int_eq(mount_valid(m, MOUNT_MAX), 1);
	ck_assert_int_eq(mount_valid(m, MOUNT_MAX + 1), 0);
	snprintf(uri, sizeof(uri), "%s/healthz", m);
	ck_assert_int_eq(mount_candidates(uri, NULL, "/healthz", NULL, &mc), 0);
	ck_assert_int_eq(mc.n, 2);
	ck_assert_uint_eq(mc.len[0], MOUNT_MAX);
	ck_assert_uint_eq(mc.len[1], 0);
	m[MOUNT_MAX] = 'a';
	m[MOUNT_MAX + 1] = '\0';
	snprintf(uri, sizeof(uri), "%s/healthz", m);
	ck_assert_int_eq(mount_candidates(uri, m, "/healthz", NULL, &mc), 0);
	ck_assert_int_eq(mc.n, 1);	/* the root only */
	ck_assert_uint_eq(mc.len[0], 0);
	ck_assert_int_eq(mount_candidates(uri, NULL, NULL, m, &mc), -1);
	ck_assert_int_eq(mc.n, 0);
	ck_assert_uint_eq(mount_trim("/a///"), 2);
	ck_assert_uint_eq(mount_trim("/"), 0);
	ck_assert_uint_eq(mount_trim(""), 0);
}
END_TEST

static Suite *
mount_suite(void)
{
	Suite	*s = suite_create("mount");
	TCase	*tc;

	tc = tcase_create("mount");
	tcase_add_loop_test(tc, test_shape, 0, (int)NELEM(shapes));
	tcase_add_loop_test(tc, test_valid, 0, (int)NELEM(valid));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(mount_suite());
}
