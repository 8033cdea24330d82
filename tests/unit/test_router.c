#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "handlers.h"
#include "http.h"
#include "router.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define CRED	"/v1/integrations/datadog/credentials"
#define NF	ROUTE_NOT_FOUND
#define RM	ROUTE_METHOD

/*
 * One request line: method and raw path, then what the router must say.
 * For ROUTE_NOT_FOUND only rc is checked (and that nothing leaked into the
 * match); `allow` is the Allow header for ROUTE_METHOD and ROUTE_OK.
 */
static const struct {
	enum http_method	 m;
	const char		*path;
	enum route_rc		 rc;
	const char		*route;
	const char		*provider;
	const char		*cred;
	const char		*allow;
} rt[] = {
	/* health */
	{ HM_GET, "/healthz", ROUTE_OK, "healthz", "", "", "GET, HEAD" },
	{ HM_HEAD, "/healthz", ROUTE_OK, "healthz", "", "", "GET, HEAD" },
	{ HM_GET, "/healthz/", ROUTE_OK, "healthz", "", "", "GET, HEAD" },
	{ HM_POST, "/healthz", RM, "healthz", "", "", "GET, HEAD" },
	{ HM_DELETE, "/healthz/", RM, "healthz", "", "", "GET, HEAD" },
	{ HM_OPTIONS, "/healthz", RM, "healthz", "", "", "GET, HEAD" },
	{ HM_OTHER, "/healthz", RM, "healthz", "", "", "GET, HEAD" },
	{ HM_GET, "/healthz//", NF, 0, NULL, NULL, NULL },
	{ HM_GET, "//healthz", NF, 0, NULL, NULL, NULL },
	{ HM_GET, "/healthzz", NF, 0, NULL, NULL, NULL },
	{ HM_GET, "/HEALTHZ", NF, 0, NULL, NULL, NULL },
	{ HM_GET, "/healthz/x", NF, 0, NULL, NULL, NULL },
	{ HM_GET, "/health", NF, 0, NULL, NULL, NULL },
	/* catalog */
	{ HM_GET, "/v1/integrations/catalog", ROUTE_OK, "catalog", "", "",
	    "GET, HEAD" },
	{ HM_HEAD, "/v1/integrations/catalog/", ROUTE_OK, "catalog", "", "",
	    "GET, HEAD" },
	{ HM_POST, "/v1/integrations/catalog", RM, "catalog", "", "",
	    "GET, HEAD" },
	{ HM_GET, "/v1/integrations/catalog/datadog", ROUTE_OK, "catalog_one",
	    "datadog", "", "GET, HEAD" },
	{ HM_GET, "/v1/integrations/catalog/datadog/", ROUTE_OK,
	    "catalog_one", "datadog", "", "GET, HEAD" },
	{ HM_GET, "/v1/integrations/catalog/dat%61dog", ROUTE_OK,
	    "catalog_one", "datadog", "", "GET, HEAD" },
	{ HM_DELETE, "/v1/integrations/catalog/datadog", RM, "catalog_one",
	    "datadog", "", "GET, HEAD" },
	/* literal "catalog" wins over a provider called "catalog" */
	{ HM_GET, "/v1/integrations/catalog/credentials", ROUTE_OK,
	    "catalog_one", "credentials", "", "GET, HEAD" },
	{ HM_GET, "/v1/integrations/catalog/a%2Fb", NF, 0, NULL, NULL, NULL },
	{ HM_GET, "/v1/integrations/catalog/..", NF, 0, NULL, NULL, NULL },
	{ HM_GET, "/v1/integrations/catalog/datadog/x", NF, 0, NULL, NULL,
	    NULL },
	/* the OpenAPI document */
	{ HM_GET, "/v1/openapi.json", ROUTE_OK, "openapi", "", "", "GET, HEAD" },
	{ HM_POST, "/v1/openapi.json", RM, "openapi", "", "", "GET, HEAD" },
	{ HM_GET, "/v1/openapi.json/x", NF, 0, NULL, NULL, NULL },
	/* every credential of the tenant: a literal, not a provider */
	{ HM_GET, "/v1/integrations/credentials", ROUTE_OK, "credentials_all",
	    "", "", "GET, HEAD" },
	{ HM_GET, "/v1/integrations/credentials/", ROUTE_OK, "credentials_all",
	    "", "", "GET, HEAD" },
	{ HM_POST, "/v1/integrations/credentials", RM, "credentials_all", "",
	    "", "GET, HEAD" },
	{ HM_GET, "/v1/integrations/credentials/credentials", ROUTE_OK,
	    "credentials", "credentials", "", "GET, HEAD, POST" },
	/* the credentials collection */
	{ HM_GET, CRED, ROUTE_OK, "credentials", "datadog", "",
	    "GET, HEAD, POST" },
	{ HM_HEAD, CRED, ROUTE_OK, "credentials", "datadog", "",
	    "GET, HEAD, POST" },
	{ HM_POST, CRED, ROUTE_OK, "credentials", "datadog", "",
	    "GET, HEAD, POST" },
	{ HM_POST, CRED "/", ROUTE_OK, "credentials", "datadog", "",
	    "GET, HEAD, POST" },
	{ HM_DELETE, CRED, RM, "credentials", "datadog", "",
	    "GET, HEAD, POST" },
	{ HM_PUT, CRED, RM, "credentials", "datadog", "", "GET, HEAD, POST" },
	{ HM_PATCH, CRED, RM, "credentials", "datadog", "",
	    "GET, HEAD, POST" },
	{ HM_OPTIONS, CRED, RM, "credentials", "datadog", "",
	    "GET, HEAD, POST" },
	{ HM_OTHER, CRED, RM, "credentials", "datadog", "",
	    "GET, HEAD, POST" },
	{ HM_POST, "/v1/integrations/dat%61dog/credentials", ROUTE_OK,
	    "credentials", "datadog", "", "GET, HEAD, POST" },
	{ HM_POST, "/v1/integrations/%64%61%74%61%64%6F%67/credentials",
	    ROUTE_OK, "credentials", "datadog", "", "GET, HEAD, POST" },
	{ HM_GET, "/v1/integrations/splunk-oncall/credentials", ROUTE_OK,
	    "credentials", "splunk-oncall", "", "GET, HEAD, POST" },
	/* a provider the catalog does not know is the handler's 404 */
	{ HM_GET, "/v1/integrations/nosuch/credentials", ROUTE_OK,
	    "credentials", "nosuch", "", "GET, HEAD, POST" },
	{ HM_GET, "/v1/integrations/caf%C3%A9/credentials", ROUTE_OK,
	    "credentials", "caf\xc3\xa9", "", "GET, HEAD, POST" },
	/* one credential */
	{ HM_GET, CRED "/crd_X", ROUTE_OK, "credential", "datadog", "crd_X",
	    "GET, HEAD, POST, PUT, PATCH, DELETE" },
	{ HM_HEAD, CRED "/crd_X/", ROUTE_OK, "credential", "datadog",
	    "crd_X", "GET, HEAD, POST, PUT, PATCH, DELETE" },
	{ HM_GET, CRED "/crd_01HX9VTPQR3KF8MZWBYD5N6JCE", ROUTE_OK,
	    "credential", "datadog", "crd_01HX9VTPQR3KF8MZWBYD5N6JCE",
	    "GET, HEAD, POST, PUT, PATCH, DELETE" },
	{ HM_GET, "/v1/integrations/dat%61dog/credentials/crd%5FX", ROUTE_OK,
	    "credential", "datadog", "crd_X", "GET, HEAD, POST, PUT, PATCH, DELETE" },
	/* POST: HTML forms, with _method=DELETE in the body */
	{ HM_POST, CRED "/crd_X", ROUTE_OK, "credential", "datadog", "crd_X",
	    "GET, HEAD, POST, PUT, PATCH, DELETE" },
	{ HM_PUT, CRED "/crd_X", ROUTE_OK, "credential", "datadog", "crd_X",
	    "GET, HEAD, POST, PUT, PATCH, DELETE" },
	{ HM_DELETE, CRED "/crd_X", ROUTE_OK, "credential", "datadog", "crd_X",
	    "GET, HEAD, POST, PUT, PATCH, DELETE" },
	{ HM_OPTIONS, CRED "/crd_X", RM, "credential", "datadog", "crd_X",
	    "GET, HEAD, POST, PUT, PATCH, DELETE" },
	/* re-test and connections */
	{ HM_POST, CRED "/crd_X/validate", ROUTE_OK, "cred_validate",
	    "datadog", "crd_X", "POST" },
	{ HM_GET, CRED "/crd_X/validate", RM, "cred_validate", "datadog",
	    "crd_X", "POST" },
	{ HM_POST, "/v1/integrations/datadog/connect", ROUTE_OK, "connect",
	    "datadog", "", "GET, HEAD, POST, DELETE" },
	{ HM_PUT, "/v1/integrations/datadog/connect", RM, "connect",
	    "datadog", "", "GET, HEAD, POST, DELETE" },
	/* hostile segments: never a parameter */
	{ HM_GET, "/v1/integrations/data%2Fdog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data%2fdog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/%2F/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data%5Cdog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data%00dog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/datadog%00/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data%0Adog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data%0ddog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data%1Fdog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data%7Fdog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data\tdog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/data\x7f" "dog/credentials", NF, 0, 0, 0,
	    0 },
	{ HM_GET, "/v1/integrations/../credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/./credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/%2e%2e/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/%2E/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/.%2E/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/..", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/.", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/%2e%2e", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/crd%2FX", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/crd_X%00", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1//integrations/datadog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations//credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "//", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "//crd_X", NF, 0, 0, 0, 0 },
	/* malformed escapes */
	{ HM_GET, "/v1/integrations/dat%zzdog/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/dat%4/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/datadog%4/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/datadog%/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/%/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/%%61/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/%g1/credentials", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/crd_X%4", NF, 0, 0, 0, 0 },
	{ HM_GET, "/heal%74hz%", NF, 0, 0, 0, 0 },
	/* unknown and malformed paths */
	{ HM_GET, "", NF, 0, 0, 0, 0 },
	{ HM_GET, "/", NF, 0, 0, 0, 0 },
	{ HM_GET, "healthz", NF, 0, 0, 0, 0 },
	{ HM_GET, "v1/integrations/catalog", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v2/integrations/catalog", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/datadog", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/datadog/credential", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/datadog/Credentials", NF, 0, 0, 0, 0 },
	/* the admin page */
	{ HM_GET, "/admin/", ROUTE_OK, "admin_index", "", "", "GET, HEAD" },
	{ HM_GET, "/admin", ROUTE_OK, "admin_index", "", "", "GET, HEAD" },
	{ HM_POST, "/admin/", RM, "admin_index", "", "", "GET, HEAD" },
	{ HM_POST, "/admin/login", ROUTE_OK, "admin_login", "", "",
	    "GET, HEAD, POST" },
	{ HM_GET, "/admin/logout", RM, "admin_logout", "", "", "POST" },
	{ HM_GET, "/admin/style.css", ROUTE_OK, "admin_style", "", "",
	    "GET, HEAD" },
	{ HM_GET, "/admin/integrations/datadog", ROUTE_OK, "admin_provider",
	    "datadog", "", "GET, HEAD" },
	{ HM_GET, "/admin/integrations/datadog/credentials/crd_X", ROUTE_OK,
	    "admin_credential", "datadog", "crd_X", "GET, HEAD" },
	{ HM_GET, "/admin/integrations/datadog/credentials/crd_X/delete",
	    ROUTE_OK, "admin_cred_delete", "datadog", "crd_X",
	    "GET, HEAD, POST" },
	{ HM_POST, "/admin/integrations/datadog/credentials/crd_X/delete",
	    ROUTE_OK, "admin_cred_delete", "datadog", "crd_X",
	    "GET, HEAD, POST" },
	{ HM_DELETE, "/admin/integrations/datadog/credentials/crd_X/delete",
	    RM, "admin_cred_delete", "datadog", "crd_X", "GET, HEAD, POST" },
	{ HM_POST, "/admin/integrations/datadog/credentials/crd_X/label",
	    ROUTE_OK, "admin_cred_label", "datadog", "crd_X", "POST" },
	{ HM_GET, "/admin/integrations/datadog/credentials/crd_X/label",
	    RM, "admin_cred_label", "datadog", "crd_X", "POST" },
	{ HM_POST, "/admin/integrations/datadog/credentials/crd_X/values",
	    ROUTE_OK, "admin_cred_values", "datadog", "crd_X", "POST" },
	{ HM_POST, "/admin/integrations/datadog/credentials/crd_X/retest",
	    ROUTE_OK, "admin_cred_retest", "datadog", "crd_X", "POST" },
	{ HM_POST, "/admin/integrations/datadog/credentials/crd_X/connect",
	    ROUTE_OK, "admin_cred_connect", "datadog", "crd_X", "POST" },
	{ HM_POST, "/admin/integrations/datadog/credentials/crd_X/disconnect",
	    ROUTE_OK, "admin_cred_disconnect", "datadog", "crd_X", "POST" },
	{ HM_POST, "/admin/integrations/datadog/credentials/crd_X/other",
	    NF, 0, 0, 0, 0 },
	{ HM_GET, "/admin/integrations/a%2Fb", NF, 0, 0, 0, 0 },
	{ HM_GET, "/admin/other", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/crd_X/extra", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/crd_X/a/b/c", NF, 0, 0, 0, 0 },
	{ HM_GET, CRED "/crd_X/a/b/c/d/e/f/g", NF, 0, 0, 0, 0 },
	{ HM_GET, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", NF, 0, 0, 0, 0 },
	{ HM_GET, "/v1/integrations/catalog\\datadog", NF, 0, 0, 0, 0 },
};

START_TEST(test_route)
{
	struct route_match	 m;
	enum route_rc		 rc;
	char			 allow[128];

	memset(&m, 0x5a, sizeof(m));
	rc = router_match(handlers_routes, rt[_i].m, rt[_i].path, &m);
	ck_assert_msg(rc == rt[_i].rc, "%s %s: rc %d, want %d",
	    http_method_name(rt[_i].m), rt[_i].path, rc, rt[_i].rc);
	if (rc == ROUTE_NOT_FOUND) {
		ck_assert_str_eq(m.provider, "");
		ck_assert_str_eq(m.cred_id, "");
		ck_assert_uint_eq(m.allowed, 0);
		return;
	}
	ck_assert_msg(m.def != NULL && strcmp(m.def->name, rt[_i].route) == 0,
	    "%s: route %s, want %s", rt[_i].path,
	    m.def != NULL ? m.def->name : "(none)", rt[_i].route);
	ck_assert_str_eq(m.provider, rt[_i].provider);
	ck_assert_str_eq(m.cred_id, rt[_i].cred);
	ck_assert_msg(((m.allowed & (1u << rt[_i].m)) != 0) ==
	    (rc == ROUTE_OK), "%s %s: allowed %#x",
	    http_method_name(rt[_i].m), rt[_i].path, m.allowed);
	router_allow_header(m.allowed, allow, sizeof(allow));
	if (rt[_i].allow != NULL)
		ck_assert_str_eq(allow, rt[_i].allow);
	else {
		/* at least GET and HEAD, never the refused method */
		ck_assert_uint_ne(m.allowed & (1u << HM_GET), 0);
		ck_assert_uint_ne(m.allowed & (1u << HM_HEAD), 0);
		ck_assert_ptr_null(strstr(allow,
		    http_method_name(rt[_i].m)));
	}
}
END_TEST

START_TEST(test_null_path)
{
	struct route_match m;

	ck_assert_int_eq(router_match(handlers_routes, HM_GET, NULL, &m),
	    ROUTE_NOT_FOUND);
}
END_TEST

/* Builds "/v1/integrations/P/credentials/C" into a malloc'd string. */
static char *
cred_path(const char *prov, size_t plen, const char *cred, size_t clen)
{
	size_t	 n = plen + clen + 64;
	char	*p = malloc(n);

	ck_assert_ptr_nonnull(p);
	snprintf(p, n, "/v1/integrations/%.*s/credentials/%.*s", (int)plen,
	    prov, (int)clen, cred);
	return p;
}

static char *
repeat(const char *unit, size_t times)
{
	size_t	 u = strlen(unit), i;
	char	*s = malloc(u * times + 1);

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < times; i++)
		memcpy(s + i * u, unit, u);
	s[u * times] = '\0';
	return s;
}

/* Parameters of up to ROUTE_PARAM_MAX - 1 decoded bytes, not more. */
START_TEST(test_long_segments)
{
	struct route_match	 m;
	char			*a255, *a256, *e255, *path;

	a255 = repeat("a", ROUTE_PARAM_MAX - 1);
	a256 = repeat("a", ROUTE_PARAM_MAX);
	e255 = repeat("%61", ROUTE_PARAM_MAX - 1);	/* 765 raw bytes */

	path = cred_path(a255, strlen(a255), "crd_X", 5);
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_OK);
	ck_assert_str_eq(m.provider, a255);
	free(path);

	path = cred_path(a256, strlen(a256), "crd_X", 5);
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_NOT_FOUND);
	free(path);

	path = cred_path("datadog", 7, a256, strlen(a256));
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_NOT_FOUND);
	free(path);

	/* long raw, short decoded: 1560 bytes of path, still under 2048 */
	path = cred_path(e255, strlen(e255), e255, strlen(e255));
	ck_assert_uint_lt(strlen(path), HTTP_PATH_MAX);
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_OK);
	ck_assert_str_eq(m.def->name, "credential");
	ck_assert_str_eq(m.provider, a255);
	ck_assert_str_eq(m.cred_id, a255);
	free(path);
	free(a255);
	free(a256);
	free(e255);
}
END_TEST

/*
 * The proxy's "{*}" row: the rest of the path as sent (raw, "//" and
 * "%2f" and dot segments included: the handler judges them), the
 * provider decoded as usual; other rows win when they match.
 */
START_TEST(test_rest)
{
	static const struct {
		const char	*path;
		const char	*provider, *rest;	/* NULL: not found */
	} rows[] = {
		{ "/v1/integrations/datadog/proxy/api/v1/query", "datadog",
		    "api/v1/query" },
		{ "/v1/integrations/datadog/proxy/a", "datadog", "a" },
		{ "/v1/integrations/dat%61dog/proxy/a%2fb", "datadog", "a%2fb" },
		{ "/v1/integrations/datadog/proxy//x", "datadog", "/x" },
		{ "/v1/integrations/datadog/proxy/../../x", "datadog",
		    "../../x" },
		{ "/v1/integrations/datadog/proxy/a/b/c/d/e/f/g/h/i/j", "datadog",
		    "a/b/c/d/e/f/g/h/i/j" },
		{ "/v1/integrations/datadog/proxy/", NULL, NULL },
		{ "/v1/integrations/datadog/proxy", NULL, NULL },
		{ "/v1/integrations/data%2fdog/proxy/a", NULL, NULL },
		{ "/v1/integrations/../proxy/a", NULL, NULL },
		{ "/v1//integrations/datadog/proxy/a", NULL, NULL },
		{ "/v1/integrations/datadog/proxyx/a", NULL, NULL },
		{ "v1/integrations/datadog/proxy/a", NULL, NULL },
	};
	struct route_match	 m;
	enum route_rc		 rc;
	char			*path;
	size_t			 i, n;

	for (i = 0; i < NELEM(rows); i++) {
		rc = router_match(handlers_routes, HM_GET, rows[i].path, &m);
		if (rows[i].rest == NULL) {
			ck_assert_msg(rc == ROUTE_NOT_FOUND, "%s", rows[i].path);
			continue;
		}
		ck_assert_msg(rc == ROUTE_OK, "%s: %d", rows[i].path, rc);
		ck_assert_str_eq(m.def->name, "proxy");
		ck_assert_str_eq(m.provider, rows[i].provider);
		ck_assert_str_eq(m.rest, rows[i].rest);
	}
	/* every method of SPEC 10; OPTIONS is 405 with them in Allow */
	path = (char *)"/v1/integrations/datadog/proxy/x";
	ck_assert_int_eq(router_match(handlers_routes, HM_DELETE, path, &m),
	    ROUTE_OK);
	ck_assert_int_eq(router_match(handlers_routes, HM_OPTIONS, path, &m),
	    ROUTE_METHOD);
	{
		char allow[128];

		router_allow_header(m.allowed, allow, sizeof(allow));
		ck_assert_str_eq(allow, "GET, HEAD, POST, PUT, PATCH, DELETE");
	}
	/* longer than HTTP_PATH_MAX: still the proxy's (its handler says 400) */
	path = malloc(HTTP_URI_MAX + 2);
	ck_assert_ptr_nonnull(path);
	n = (size_t)snprintf(path, HTTP_URI_MAX + 2,
	    "/v1/integrations/datadog/proxy/");
	memset(path + n, 'a', HTTP_URI_MAX - n);
	path[HTTP_URI_MAX] = '\0';
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_OK);
	ck_assert_uint_eq(strlen(m.rest), HTTP_URI_MAX - n);
	path[HTTP_URI_MAX] = 'a';
	path[HTTP_URI_MAX + 1] = '\0';
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_NOT_FOUND);
	free(path);
}
END_TEST

/* Paths over HTTP_PATH_MAX bytes are refused before anything else. */
START_TEST(test_too_long)
{
	struct route_match	 m;
	char			*path;
	size_t			 n;

	/* one byte over the limit, otherwise a catalog lookup */
	path = malloc(HTTP_PATH_MAX + 64);
	ck_assert_ptr_nonnull(path);
	snprintf(path, HTTP_PATH_MAX + 64, "/v1/integrations/catalog/");
	n = strlen(path);
	memset(path + n, 'a', HTTP_PATH_MAX + 1 - n);
	path[HTTP_PATH_MAX + 1] = '\0';
	ck_assert_uint_eq(strlen(path), HTTP_PATH_MAX + 1);
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_NOT_FOUND);

	/* 4096 and 1 MiB */
	free(path);
	path = repeat("/healthz", 512);
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_NOT_FOUND);
	free(path);
	path = repeat("a", 1 << 20);
	path[0] = '/';
	ck_assert_int_eq(router_match(handlers_routes, HM_GET, path, &m),
	    ROUTE_NOT_FOUND);
	free(path);
}
END_TEST

static const struct {
	unsigned	 allowed;
	const char	*want;
} ah[] = {
	{ 0, "" },
	{ 1u << HM_GET, "GET" },
	{ 1u << HM_POST, "POST" },
	{ (1u << HM_GET) | (1u << HM_HEAD), "GET, HEAD" },
	{ (1u << HM_DELETE) | (1u << HM_GET), "GET, DELETE" },
	{ (1u << HM_GET) | (1u << HM_HEAD) | (1u << HM_POST),
	    "GET, HEAD, POST" },
	{ (1u << HM_GET) | (1u << HM_HEAD) | (1u << HM_PUT) |
	    (1u << HM_PATCH) | (1u << HM_DELETE),
	    "GET, HEAD, PUT, PATCH, DELETE" },
	{ (1u << HM_OTHER) - 1,
	    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" },
	/* HM_OTHER is never a method one can allow */
	{ (1u << HM_OTHER) | (1u << HM_GET), "GET" },
};

START_TEST(test_allow_header)
{
	char out[128];

	memset(out, 'X', sizeof(out));
	router_allow_header(ah[_i].allowed, out, sizeof(out));
	ck_assert_str_eq(out, ah[_i].want);
}
END_TEST

/* A short buffer gets a truncated, terminated string and no overrun. */
START_TEST(test_allow_header_short)
{
	char		 out[32];
	unsigned	 all;
	size_t		 i;

	all = (1u << HM_GET) | (1u << HM_HEAD) | (1u << HM_POST);
	memset(out, 'X', sizeof(out));
	router_allow_header(all, out, 8);
	ck_assert_str_eq(out, "GET, HE");
	for (i = 8; i < sizeof(out); i++)
		ck_assert_int_eq(out[i], 'X');

	memset(out, 'X', sizeof(out));
	router_allow_header(all, out, 1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(out[1], 'X');
}
END_TEST

static Suite *
router_suite(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc;

	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_route, 0, (int)NELEM(rt));
	tcase_add_test(tc, test_null_path);
	tcase_add_test(tc, test_long_segments);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_rest);
	suite_add_tcase(s, tc);

	tc = tcase_create("allow");
	tcase_add_loop_test(tc, test_allow_header, 0, (int)NELEM(ah));
	tcase_add_test(tc, test_allow_header_short);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(router_suite());
}
