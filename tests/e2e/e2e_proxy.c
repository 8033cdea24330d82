/*
 * The proxy end to end (SPEC section 10): the real lighttpd and
 * credstore.fcgi in front of the mock provider, with a catalog of its own
 * (written by the suite) whose proxy blocks inject a header pair, basic
 * auth, a query parameter, or borrow the validation block's header.  Every
 * rule: injection, both header allow lists, the role, the choice of the
 * credential, another tenant's id, a rejected credential, path tricks that
 * never reach the provider, redaction, the caps, the timeout, redirects,
 * the log line, lastUsedAt, and an unreachable provider (last: it stops
 * the mock).  One environment for the suite; tests run in order.
 */
#include "cs_build.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "harness.h"

#define JSON	"application/json"
#define KEY_A	"SECRETVAL-apikey-A-0123456789"
#define APP_A	"SECRETVAL-appkey-A-abcdefghij"
#define KEY_B	"SECRETVAL-apikey-B-9876543210"
#define APP_B	"SECRETVAL-appkey-B-jihgfedcba"
#define KEY_R	"REJECTME-apikey-R-5555555555"
#define USER	"SECRETVAL-user-77777777"
#define PASS	"SECRETVAL-pass-88888888"
#define QKEY	"SECRETVAL-query-key/+&=99"
#define QKEY_ENC "SECRETVAL-query-key%2F%2B%26%3D99"
#define OTHER	"SECRETVAL-globex-key-424242"
#define PX	"/v1/integrations/hdr/proxy"

static struct h_env	 E;
static char		*tok_proxy;	/* acme, role proxy */
static char		*tok_both;	/* acme, roles admin and proxy */
static char		*tok_oproxy;	/* globex, role proxy */
static char		 cred_a[64], cred_b[64], cred_r[64], cred_other[64];
static char		 catalog_path[700];

static const char catalog[] =
"{\"providers\": [\n"
" {\"id\": \"hdr\", \"name\": \"Header provider\", \"authType\": \"api_key\",\n"
"  \"requiredFields\": [\"api_key\", \"app_key\"], \"optionalFields\": [\"site\"],\n"
"  \"fields\": {\"api_key\": {\"label\": \"API key\", \"secret\": true},\n"
"   \"app_key\": {\"label\": \"App key\", \"secret\": true},\n"
"   \"site\": {\"label\": \"Site\", \"secret\": false, \"enum\": [\"example.com\"],\n"
"    \"default\": \"example.com\"}},\n"
"  \"validation\": {\"method\": \"GET\", \"url\": \"https://api.example.com/check\",\n"
"   \"headers\": {\"X-Api-Key\": \"{{api_key}}\"}, \"validStatus\": [200],\n"
"   \"rejectStatus\": [401]},\n"
"  \"proxy\": {\"baseUrl\": \"https://api.{{site}}\",\n"
"   \"headers\": {\"X-Api-Key\": \"{{api_key}}\", \"X-App-Key\": \"{{app_key}}\"},\n"
"   \"allow\": [{\"methods\": [\"GET\"], \"path\": \"/v1/\"},\n"
"    {\"methods\": [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\"], \"path\": \"/v2/\"},\n"
"    {\"methods\": [\"GET\"], \"path\": \"/exact\"}],\n"
"   \"forwardHeaders\": [\"X-Custom\"]}},\n"
" {\"id\": \"basic\", \"name\": \"Basic provider\", \"authType\": \"api_key\",\n"
"  \"requiredFields\": [\"user\", \"token\"],\n"
"  \"fields\": {\"user\": {\"label\": \"User\", \"secret\": false},\n"
"   \"token\": {\"label\": \"Token\", \"secret\": true}},\n"
"  \"proxy\": {\"baseUrl\": \"https://basic.example.com/api\",\n"
"   \"basicAuth\": {\"user\": \"{{user}}\", \"password\": \"{{token}}\"},\n"
"   \"allow\": [{\"methods\": [\"GET\"], \"path\": \"/\"}]}},\n"
" {\"id\": \"qry\", \"name\": \"Query provider\", \"authType\": \"api_key\",\n"
"  \"requiredFields\": [\"api_key\"],\n"
"  \"fields\": {\"api_key\": {\"label\": \"Key\", \"secret\": true}},\n"
"  \"proxy\": {\"baseUrl\": \"https://q.example.com\",\n"
"   \"query\": {\"api_key\": \"{{api_key}}\"},\n"
"   \"allow\": [{\"methods\": [\"GET\"], \"path\": \"/q/\"}]}},\n"
" {\"id\": \"val\", \"name\": \"Borrowing provider\", \"authType\": \"api_key\",\n"
"  \"requiredFields\": [\"api_key\"],\n"
"  \"fields\": {\"api_key\": {\"label\": \"Key\", \"secret\": true}},\n"
"  \"validation\": {\"method\": \"GET\", \"url\": \"https://v.example.com/vcheck\",\n"
"   \"headers\": {\"Authorization\": \"Token {{api_key}}\"}, \"validStatus\": [200]},\n"
"  \"proxy\": {\"baseUrl\": \"https://v.example.com\",\n"
"   \"allow\": [{\"methods\": [\"GET\"], \"path\": \"/events\"}]}},\n"
" {\"id\": \"plain\", \"name\": \"No proxy\", \"authType\": \"api_key\",\n"
"  \"requiredFields\": [\"api_key\"],\n"
"  \"fields\": {\"api_key\": {\"label\": \"Key\", \"secret\": true}}}\n"
"]}\n";

/* A token of tenant with role(s) (a JSON-less --role list). */
static char *
token(const char *sub, const char *tenant, const char *r1, const char *r2)
{
	char	*t, *p;
	int	 rc;

	if (r2 != NULL)
		rc = h_admin(&E, &t, "token", "--sub", sub, "--tenant", tenant,
		    "--role", r1, "--role", r2, NULL);
	else
		rc = h_admin(&E, &t, "token", "--sub", sub, "--tenant", tenant,
		    "--role", r1, NULL);
	ck_assert_int_eq(rc, 0);
	if ((p = strchr(t, '\n')) != NULL)
		*p = '\0';
	return t;
}

/* Stores a credential of provider with body as tok; its id into id. */
static void
store(const char *tok, const char *provider, const char *body, char *id,
    size_t idlen)
{
	struct h_resp		 r;
	struct json_object	*o, *v;
	char			 path[128];

	snprintf(path, sizeof(path), "/v1/integrations/%s/credentials",
	    provider);
	ck_assert_int_eq(h_req(&E, "POST", path, tok, JSON, body, NULL, &r), 0);
	ck_assert_msg(r.status == 201, "store %s: %ld %s", provider, r.status,
	    r.body);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "credentialId", &v));
	snprintf(id, idlen, "%s", json_object_get_string(v));
	json_object_put(o);
	h_resp_free(&r);
}

static void
connect_cred(const char *tok, const char *provider, const char *id)
{
	struct h_resp	 r;
	char		 path[128], body[128];

	snprintf(path, sizeof(path), "/v1/integrations/%s/connect", provider);
	snprintf(body, sizeof(body), "{\"credentialId\":\"%s\"}", id);
	ck_assert_int_eq(h_req(&E, "POST", path, tok, JSON, body, NULL, &r), 0);
	ck_assert_msg(r.status == 200, "connect: %ld %s", r.status, r.body);
	h_resp_free(&r);
}

/* Requests the mock provider recorded so far. */
static size_t
mock_count(void)
{
	struct json_object	*a = h_mock_requests(&E);
	size_t			 n;

	ck_assert_ptr_nonnull(a);
	n = json_object_array_length(a);
	json_object_put(a);
	return n;
}

/* The mock's last request (caller puts), or NULL. */
static struct json_object *
mock_last(void)
{
	struct json_object	*a = h_mock_requests(&E), *o;
	size_t			 n;

	ck_assert_ptr_nonnull(a);
	n = json_object_array_length(a);
	ck_assert_uint_gt(n, 0);
	o = json_object_get(json_object_array_get_idx(a, n - 1));
	json_object_put(a);
	return o;
}

/* A member of the mock's request (its headers: header). */
static const char *
req_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static const char *
req_hdr(struct json_object *o, const char *name)
{
	struct json_object *h, *v;

	ck_assert(json_object_object_get_ex(o, "headers", &h));
	json_object_object_foreach(h, k, hv) {
		(void)hv;
		if (strcasecmp(k, name) == 0 &&
		    json_object_object_get_ex(h, k, &v))
			return json_object_get_string(v);
	}
	return NULL;
}

/* The body of r holds no stored value. */
static void
assert_no_secret(const struct h_resp *r)
{
	static const char *const vals[] = {
		KEY_A, APP_A, KEY_B, APP_B, USER, PASS, QKEY, QKEY_ENC, OTHER,
	};
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		ck_assert_msg(r->body == NULL || strstr(r->body, vals[i]) == NULL,
		    "a value in the body: %s", r->body);
		ck_assert_msg(r->headers == NULL ||
		    strstr(r->headers, vals[i]) == NULL,
		    "a value in the headers: %s", r->headers);
	}
}

static void
route(const char *json)
{
	ck_assert_int_eq(h_mock_route(&E, json), 0);
}

static void
suite_up(void)
{
	struct h_opts	 o;
	FILE		*f;

	memset(&o, 0, sizeof(o));
	snprintf(catalog_path, sizeof(catalog_path), "/tmp/credstore-proxy-"
	    "catalog-%d.json", (int)getpid());
	ck_assert_ptr_nonnull(f = fopen(catalog_path, "w"));
	fputs(catalog, f);
	fclose(f);
	o.catalog = catalog_path;
	o.conf_extra = "proxy_timeout_ms = 1500\n"
	    "proxy_max_body_bytes = 4096\n"
	    "proxy_max_response_bytes = 65536\n";
	ck_assert_int_eq(h_setup(&E, &o), 0);
	tok_proxy = token("svc", "acme", "proxy", NULL);
	tok_both = token("svc2", "acme", "admin", "proxy");
	tok_oproxy = token("svc3", "globex", "proxy", NULL);
	route("{\"path\":\"/check\",\"status\":200,\"body\":\"{}\"}");
	route("{\"path\":\"/check\",\"match\":{\"header\":\"X-Api-Key\","
	    "\"equals\":\"" KEY_R "\"},\"status\":401,\"body\":\"{}\"}");
	store(E.tok_admin, "hdr", "{\"credentials\":{\"api_key\":\"" KEY_A
	    "\",\"app_key\":\"" APP_A "\"}}", cred_a, sizeof(cred_a));
	store(E.tok_admin, "hdr", "{\"credentials\":{\"api_key\":\"" KEY_B
	    "\",\"app_key\":\"" APP_B "\"}}", cred_b, sizeof(cred_b));
	store(E.tok_other, "hdr", "{\"credentials\":{\"api_key\":\"" OTHER
	    "\",\"app_key\":\"" OTHER "\"}}", cred_other, sizeof(cred_other));
	connect_cred(E.tok_admin, "hdr", cred_a);
	connect_cred(E.tok_other, "hdr", cred_other);
}

/* One proxied call: method, path below /v1/integrations/. */
static void
call(const char *method, const char *path, const char *tok,
    const char *const *hdrs, const char *body, struct h_resp *r)
{
	ck_assert_int_eq(h_req(&E, method, path, tok, body ? JSON : NULL, body,
	    hdrs, r), 0);
}

START_TEST(header_injection_and_filters)
{
	static const char *const h[] = { "X-Custom: c1", "X-Other: o1",
	    "Accept: application/json", "Cookie: a=b", "X-Forwarded-For: 1.2.3.4",
	    "If-None-Match: \"e1\"", NULL };
	struct h_resp		 r;
	struct json_object	*o;

	route("{\"path\":\"/v1/metrics\",\"mode\":\"echo\",\"headers\":{"
	    "\"Content-Type\":\"application/json\",\"ETag\":\"\\\"v1\\\"\","
	    "\"X-RateLimit-Remaining\":\"41\",\"RateLimit-Policy\":\"10;w=1\","
	    "\"Set-Cookie\":\"sid=1\",\"X-Internal\":\"no\","
	    "\"Link\":\"<https://api.example.com/v1/metrics?page=2>; rel=next\"}}");
	call("GET", PX "/v1/metrics?from=1&to=2", tok_proxy, h, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(h_header(&r, "Credential-Id"), cred_a);
	ck_assert_str_eq(h_header(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(h_header(&r, "ETag"), "\"v1\"");
	ck_assert_str_eq(h_header(&r, "X-RateLimit-Remaining"), "41");
	ck_assert_str_eq(h_header(&r, "RateLimit-Policy"), "10;w=1");
	ck_assert_ptr_nonnull(h_header(&r, "Link"));
	ck_assert_ptr_null(h_header(&r, "Set-Cookie"));
	ck_assert_ptr_null(h_header(&r, "X-Internal"));
	/* the echo shows the injected values: redacted */
	ck_assert_ptr_nonnull(strstr(r.body, "\"X-Api-Key\":\"[REDACTED]\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"X-App-Key\":\"[REDACTED]\""));
	assert_no_secret(&r);
	h_resp_free(&r);
	o = mock_last();
	ck_assert_str_eq(req_str(o, "method"), "GET");
	ck_assert_str_eq(req_str(o, "path"), "/v1/metrics");
	ck_assert_str_eq(req_str(o, "query"), "from=1&to=2");
	ck_assert_str_eq(req_hdr(o, "X-Api-Key"), KEY_A);
	ck_assert_str_eq(req_hdr(o, "X-App-Key"), APP_A);
	ck_assert_str_eq(req_hdr(o, "X-Custom"), "c1");
	ck_assert_str_eq(req_hdr(o, "Accept"), "application/json");
	ck_assert_str_eq(req_hdr(o, "If-None-Match"), "\"e1\"");
	ck_assert_ptr_null(req_hdr(o, "X-Other"));
	ck_assert_ptr_null(req_hdr(o, "Cookie"));
	ck_assert_ptr_null(req_hdr(o, "X-Forwarded-For"));
	ck_assert_ptr_null(req_hdr(o, "Authorization"));
	json_object_put(o);
}
END_TEST

START_TEST(post_body_and_methods)
{
	struct h_resp		 r;
	struct json_object	*o;
	static const char *const methods[] = { "POST", "PUT", "PATCH", "DELETE" };
	size_t			 i;

	route("{\"path\":\"/v2/events\",\"mode\":\"echo\",\"status\":202}");
	for (i = 0; i < 4; i++) {
		call(methods[i], PX "/v2/events", tok_proxy, NULL,
		    "{\"title\":\"disk full\"}", &r);
		ck_assert_msg(r.status == 202, "%s: %ld %s", methods[i],
		    r.status, r.body);
		h_resp_free(&r);
		o = mock_last();
		ck_assert_str_eq(req_str(o, "method"), methods[i]);
		ck_assert_str_eq(req_str(o, "body"), "{\"title\":\"disk full\"}");
		ck_assert_str_eq(req_hdr(o, "Content-Type"), JSON);
		json_object_put(o);
	}
	/* HEAD where GET is allowed: no body back */
	call("HEAD", PX "/v1/metrics", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, 0);
	h_resp_free(&r);
	o = mock_last();
	ck_assert_str_eq(req_str(o, "method"), "HEAD");
	json_object_put(o);
}
END_TEST

START_TEST(basic_auth_and_query_injection)
{
	struct h_resp		 r;
	struct json_object	*o;
	char			 id[64], want[256];

	store(E.tok_admin, "basic", "{\"credentials\":{\"user\":\"" USER
	    "\",\"token\":\"" PASS "\"}}", id, sizeof(id));
	connect_cred(E.tok_admin, "basic", id);
	route("{\"path\":\"/api/incidents\",\"mode\":\"echo\"}");
	call("GET", "/v1/integrations/basic/proxy/incidents", tok_proxy, NULL,
	    NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	assert_no_secret(&r);
	ck_assert_ptr_nonnull(strstr(r.body, "[REDACTED]"));
	h_resp_free(&r);
	o = mock_last();
	/* base64("SECRETVAL-user-77777777:SECRETVAL-pass-88888888") */
	ck_assert_str_eq(req_hdr(o, "Authorization"), "Basic U0VDUkVUVkFMLXVz"
	    "ZXItNzc3Nzc3Nzc6U0VDUkVUVkFMLXBhc3MtODg4ODg4ODg=");
	json_object_put(o);

	store(E.tok_admin, "qry", "{\"credentials\":{\"api_key\":\"" QKEY "\"}}",
	    id, sizeof(id));
	connect_cred(E.tok_admin, "qry", id);
	route("{\"path\":\"/q/issues\",\"mode\":\"echo\"}");
	/* the client's api_key (plain or encoded) is replaced */
	call("GET", "/v1/integrations/qry/proxy/q/issues?x=1&api_key=evil&"
	    "api%5Fkey=evil2&y=2", tok_proxy, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	assert_no_secret(&r);
	h_resp_free(&r);
	o = mock_last();
	snprintf(want, sizeof(want), "x=1&y=2&api_key=%s", QKEY_ENC);
	ck_assert_str_eq(req_str(o, "query"), want);
	json_object_put(o);

	/* no block of its own: the validation block's header */
	route("{\"path\":\"/vcheck\",\"status\":200}");
	store(E.tok_admin, "val", "{\"credentials\":{\"api_key\":\"" KEY_B
	    "\"}}", id, sizeof(id));
	connect_cred(E.tok_admin, "val", id);
	route("{\"path\":\"/events\",\"body\":\"[]\"}");
	call("GET", "/v1/integrations/val/proxy/events", tok_proxy, NULL, NULL,
	    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "[]");
	h_resp_free(&r);
	o = mock_last();
	ck_assert_str_eq(req_hdr(o, "Authorization"), "Token " KEY_B);
	json_object_put(o);
}
END_TEST

START_TEST(allow_list)
{
	static const struct {
		const char	*method, *path;
	} no[] = {
		{ "POST", PX "/v1/metrics" },	/* GET only there */
		{ "DELETE", PX "/v1/metrics" },
		{ "GET", PX "/v3/x" },
		{ "GET", PX "/v1" },		/* the prefix needs its "/" */
		{ "GET", PX "/exact/more" },	/* exact means exact */
		{ "GET", PX "/exactly" },
		{ "GET", PX "/V1/metrics" },
		{ "GET", PX "/v%31/metrics" },
		{ "POST", PX "/exact" },
	};
	struct h_resp	 r;
	size_t		 i, before = mock_count();

	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		call(no[i].method, no[i].path, tok_proxy, NULL,
		    strcmp(no[i].method, "POST") == 0 ? "{}" : NULL, &r);
		ck_assert_msg(r.status == 403, "%s %s: %ld", no[i].method,
		    no[i].path, r.status);
		ck_assert_str_eq(h_errcode(&r), "forbidden");
		ck_assert_ptr_nonnull(strstr(r.body, "\"path_not_allowed\""));
		h_resp_free(&r);
	}
	ck_assert_uint_eq(mock_count(), before);
	route("{\"path\":\"/exact\",\"body\":\"ok\"}");
	call("GET", PX "/exact", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "ok");
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), before + 1);
}
END_TEST

START_TEST(role_and_auth)
{
	struct h_resp	 r;
	char		 ck[4096], lck[512], body[9000];
	const char	*sc, *p;
	const char	*h[] = { "Accept: text/html", NULL, NULL };
	size_t		 n, before = mock_count();

	/* admin alone, a reader: 403; admin and proxy: served */
	call("GET", PX "/v1/metrics", E.tok_admin, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(h_errcode(&r), "forbidden");
	h_resp_free(&r);
	call("GET", PX "/v1/metrics", E.tok_reader, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 403);
	h_resp_free(&r);
	call("GET", PX "/v1/metrics", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), before);
	call("GET", PX "/v1/metrics", tok_both, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	/* a session cookie of a proxy token: 401, the cookie is not taken */
	ck_assert_int_eq(h_req(&E, "GET", "/admin/login", NULL, NULL, NULL, h,
	    &r), 0);
	ck_assert_ptr_nonnull(sc = h_header(&r, "Set-Cookie"));
	snprintf(lck, sizeof(lck), "Cookie: %.*s", (int)strcspn(sc, ";"), sc);
	ck_assert_ptr_nonnull(p = strstr(r.body, "name=\"csrf_token\" value=\""));
	p += strlen("name=\"csrf_token\" value=\"");
	n = strcspn(p, "\"");
	snprintf(body, sizeof(body), "csrf_token=%.*s&access_token=%s", (int)n,
	    p, tok_both);
	h_resp_free(&r);
	h[1] = lck;
	ck_assert_int_eq(h_req(&E, "POST", "/admin/login", NULL,
	    "application/x-www-form-urlencoded", body, h, &r), 0);
	ck_assert_int_eq(r.status, 303);
	ck_assert_ptr_nonnull(sc = h_header(&r, "Set-Cookie"));
	snprintf(ck, sizeof(ck), "Cookie: %.*s", (int)strcspn(sc, ";"), sc);
	h_resp_free(&r);
	h[0] = ck;
	h[1] = NULL;
	before = mock_count();
	call("GET", PX "/v1/metrics", NULL, h, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(h_errcode(&r), "unauthorized");
	h_resp_free(&r);
	/* a form token neither */
	call("POST", PX "/v2/events?access_token=x", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), before);
}
END_TEST

START_TEST(which_credential)
{
	struct h_resp		 r;
	struct json_object	*o;
	char			 hb[128], ho[128];
	const char		*h[] = { hb, NULL };
	const char		*ho_[] = { ho, NULL };
	size_t			 before;

	route("{\"path\":\"/v1/who\",\"body\":\"{}\"}");
	snprintf(hb, sizeof(hb), "Credential-Id: %s", cred_b);
	call("GET", PX "/v1/who", tok_proxy, h, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_header(&r, "Credential-Id"), cred_b);
	h_resp_free(&r);
	o = mock_last();
	ck_assert_str_eq(req_hdr(o, "X-Api-Key"), KEY_B);
	json_object_put(o);
	call("GET", PX "/v1/who", tok_proxy, NULL, NULL, &r);
	ck_assert_str_eq(h_header(&r, "Credential-Id"), cred_a);
	h_resp_free(&r);
	o = mock_last();
	ck_assert_str_eq(req_hdr(o, "X-Api-Key"), KEY_A);
	json_object_put(o);
	/* another tenant's id, an unknown id, garbage: 404, never called */
	before = mock_count();
	snprintf(ho, sizeof(ho), "Credential-Id: %s", cred_other);
	call("GET", PX "/v1/who", tok_proxy, ho_, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(h_errcode(&r), "not_found");
	h_resp_free(&r);
	snprintf(ho, sizeof(ho), "Credential-Id: crd_01HX9VTPQR3KF8MZWBYD5N6JCE");
	call("GET", PX "/v1/who", tok_proxy, ho_, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	h_resp_free(&r);
	snprintf(ho, sizeof(ho), "Credential-Id: ../../x");
	call("GET", PX "/v1/who", tok_proxy, ho_, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	h_resp_free(&r);
	/* the other tenant's id is its own: served to it */
	snprintf(ho, sizeof(ho), "Credential-Id: %s", cred_a);
	call("GET", PX "/v1/who", tok_oproxy, ho_, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), before);
	call("GET", PX "/v1/who", tok_oproxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_header(&r, "Credential-Id"), cred_other);
	h_resp_free(&r);
	o = mock_last();
	ck_assert_str_eq(req_hdr(o, "X-Api-Key"), OTHER);
	json_object_put(o);
	/* not connected: 404 */
	before = mock_count();
	call("GET", "/v1/integrations/basic/proxy/x", tok_oproxy, NULL, NULL,
	    &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(h_errcode(&r), "not_found");
	h_resp_free(&r);
	/* no proxy block, unknown provider */
	call("GET", "/v1/integrations/plain/proxy/x", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(h_errcode(&r), "validation_error");
	ck_assert_ptr_nonnull(strstr(r.body, "\"proxy_not_supported\""));
	h_resp_free(&r);
	call("GET", "/v1/integrations/nope/proxy/x", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), before);
}
END_TEST

START_TEST(rejected_credential)
{
	struct h_resp	 r;
	char		 hb[128], path[256];
	const char	*h[] = { hb, NULL };
	size_t		 before;

	/* stored unverified-free: valid first, then the re-test rejects it */
	store(E.tok_admin, "hdr", "{\"credentials\":{\"api_key\":\"SECRETVAL-"
	    "will-be-rejected\",\"app_key\":\"x\"}}", cred_r, sizeof(cred_r));
	route("{\"path\":\"/check\",\"match\":{\"header\":\"X-Api-Key\","
	    "\"equals\":\"SECRETVAL-will-be-rejected\"},\"status\":401}");
	snprintf(path, sizeof(path), "/v1/integrations/hdr/credentials/%s/"
	    "validate", cred_r);
	ck_assert_int_eq(h_req(&E, "POST", path, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 422);
	h_resp_free(&r);
	before = mock_count();
	snprintf(hb, sizeof(hb), "Credential-Id: %s", cred_r);
	call("GET", PX "/v1/metrics", tok_proxy, h, NULL, &r);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(h_errcode(&r), "credential_rejected");
	ck_assert_str_eq(h_header(&r, "Credential-Id"), cred_r);
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), before);
}
END_TEST

/* Path tricks: 400 bad_path, the provider never asked. */
START_TEST(path_tricks)
{
	static const char *const bad[] = {
		"/v1/../admin", "/v1/./metrics", "/v1/%2e%2e/admin",
		"/v1/%2E%2E/admin", "/v1/%2e%2E/admin", "/v1/.%2e/admin",
		"/v1/%2e/metrics", "/v1/%252e%252e/admin", "/v1/%25252e%25252e/x",
		"/v1//metrics", "//v1/metrics", "/v1/metrics/..",
		"/v1/..;/admin", "/v1/%2e%2e;x/admin", "/v1/a%2fb",
		"/v1/a%2Fb", "/v1/a%5cb", "/v1/a%5Cb", "/v1/a%252fb",
		"/v1/a\\b", "/v1/user@evil.com", "/v1/a%00b", "/v1/a%0d%0aX:1",
		"/v1/a%1fb", "/v1/a%7fb", "/v1/a%zzb", "/v1/a%2", "/v1/..%2fadmin",
		"/v1/a%09b",
	};
	struct h_resp	 r;
	char		 path[4096 + 256];
	size_t		 i, before = mock_count(), bads = 0;

	route("{\"path\":\"/admin\",\"body\":\"pwned\"}");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), PX "%s", bad[i]);
		call("GET", path, tok_proxy, NULL, NULL, &r);
		/* lighttpd may refuse a few itself (400); never a 2xx */
		ck_assert_msg(r.status == 400 || r.status == 403,
		    "%s: %ld %s", bad[i], r.status, r.body);
		if (r.status == 400 && strstr(r.body, "\"bad_path\"") != NULL)
			bads++;
		h_resp_free(&r);
	}
	/* over 2048 bytes */
	snprintf(path, sizeof(path), PX "/v1/");
	memset(path + strlen(path), 'a', 2100);
	path[strlen(PX "/v1/") + 2100] = '\0';
	call("GET", path, tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "\"bad_path\""));
	h_resp_free(&r);
	/* a NUL and a raw control byte on the wire */
	{
		char req[1024];
		int n;

		n = snprintf(req, sizeof(req), "GET " PX "/v1/a%cb HTTP/1.1\r\n"
		    "Host: x\r\nAuthorization: Bearer %s\r\nConnection: close"
		    "\r\n\r\n", 1, tok_proxy);
		(void)h_raw(&E, req, (size_t)n, 0, 5000, &r, NULL, NULL);
		ck_assert_msg(r.status == 400, "raw control: %ld", r.status);
		h_resp_free(&r);
	}
	ck_assert_uint_eq(mock_count(), before);
	fprintf(stderr, "path tricks: %zu of %zu answered 400 bad_path by "
	    "credstore\n", bads, sizeof(bad) / sizeof(bad[0]));
	ck_assert_msg(bads >= 20, "only %zu bad_path answers of credstore",
	    bads);
	/* a query over 4096 bytes (on the wire: h_req's URL is shorter) */
	{
		char	*req = malloc(8192);
		int	 n;

		n = snprintf(req, 8192, "GET " PX "/v1/metrics?q=%0*d HTTP/1.1\r\n"
		    "Host: x\r\nAuthorization: Bearer %s\r\nConnection: close"
		    "\r\n\r\n", 4100, 7, tok_proxy);
		(void)h_raw(&E, req, (size_t)n, 0, 5000, &r, NULL, NULL);
		free(req);
	}
	ck_assert_msg(r.status == 400, "long query: %ld %.300s", r.status,
	    r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "\"too_long\""));
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), before);
}
END_TEST

START_TEST(redaction)
{
	struct h_resp	 r;

	/* in the body, whole and split over many writes, and in headers */
	route("{\"path\":\"/v1/leak\",\"body\":\"key=" KEY_A " app=" APP_A
	    " enc=SECRETVAL-apikey-A-0123456789 short=SECRETV\","
	    "\"headers\":{\"Location\":\"https://x.test/?k=" KEY_A "\","
	    "\"X-RateLimit-Key\":\"" APP_A "\"}}");
	call("GET", PX "/v1/leak", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "key=[REDACTED] app=[REDACTED] "
	    "enc=[REDACTED] short=SECRETV");
	ck_assert_str_eq(h_header(&r, "Location"), "https://x.test/?k=[REDACTED]");
	ck_assert_str_eq(h_header(&r, "X-RateLimit-Key"), "[REDACTED]");
	assert_no_secret(&r);
	h_resp_free(&r);
	route("{\"path\":\"/v1/slow-leak\",\"mode\":\"trickle\",\"trickleMs\":2,"
	    "\"body\":\"<" KEY_A ">\"}");
	call("GET", PX "/v1/slow-leak", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "<[REDACTED]>");
	h_resp_free(&r);
}
END_TEST

START_TEST(caps_timeout_redirect)
{
	struct h_resp	 r;
	char		*big;
	size_t		 before;

	before = mock_count();
	big = malloc(5000);
	memset(big, 'x', 4999);
	big[0] = '"';
	big[4998] = '"';
	big[4999] = '\0';
	call("POST", PX "/v2/events", tok_proxy, NULL, big, &r);
	ck_assert_int_eq(r.status, 413);
	ck_assert_str_eq(h_errcode(&r), "payload_too_large");
	h_resp_free(&r);
	free(big);
	ck_assert_uint_eq(mock_count(), before);
	route("{\"path\":\"/v1/big\",\"mode\":\"big\",\"bigBytes\":1048576}");
	call("GET", PX "/v1/big", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 502);
	ck_assert_str_eq(h_errcode(&r), "upstream_too_large");
	h_resp_free(&r);
	route("{\"path\":\"/v1/slow\",\"delayMs\":4000,\"body\":\"late\"}");
	call("GET", PX "/v1/slow", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 504);
	ck_assert_str_eq(h_errcode(&r), "upstream_timeout");
	ck_assert_double_lt(r.seconds, 3.5);
	h_resp_free(&r);
	/* a redirect is passed back, never followed */
	route("{\"path\":\"/v1/moved\",\"status\":302,\"headers\":{"
	    "\"Location\":\"/v1/elsewhere\"}}");
	route("{\"path\":\"/v1/elsewhere\",\"body\":\"followed\"}");
	before = mock_count();
	call("GET", PX "/v1/moved", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 302);
	ck_assert_str_eq(h_header(&r, "Location"), "/v1/elsewhere");
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), before + 1);
	/* the provider's own status passed back */
	route("{\"path\":\"/v1/gone\",\"status\":404,\"body\":\"{}\"}");
	call("GET", PX "/v1/gone", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(r.body, "{}");
	h_resp_free(&r);
}
END_TEST

/* lastUsedAt: null before, set by a call, not moved within a minute. */
START_TEST(last_used)
{
	struct h_resp		 r;
	struct json_object	*o, *v;
	char			 path[256], id[64], hb[128], first[32];
	const char		*h[] = { hb, NULL };

	store(E.tok_admin, "hdr", "{\"credentials\":{\"api_key\":\"SECRETVAL-"
	    "lastused-1\",\"app_key\":\"SECRETVAL-lastused-2\"}}", id,
	    sizeof(id));
	snprintf(path, sizeof(path), "/v1/integrations/hdr/credentials/%s", id);
	ck_assert_int_eq(h_req(&E, "GET", path, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "lastUsedAt", &v));
	ck_assert_ptr_null(v);
	json_object_put(o);
	h_resp_free(&r);
	snprintf(hb, sizeof(hb), "Credential-Id: %s", id);
	call("GET", PX "/exact", tok_proxy, h, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	usleep(200000);		/* written after the answer */
	ck_assert_int_eq(h_req(&E, "GET", path, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "lastUsedAt", &v));
	ck_assert_ptr_nonnull(v);
	snprintf(first, sizeof(first), "%s", json_object_get_string(v));
	json_object_put(o);
	h_resp_free(&r);
	sleep(2);
	call("GET", PX "/exact", tok_proxy, h, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	usleep(200000);
	ck_assert_int_eq(h_req(&E, "GET", path, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "lastUsedAt", &v));
	ck_assert_str_eq(json_object_get_string(v), first);
	json_object_put(o);
	h_resp_free(&r);
	/* no version moved and no audit event: a use is not a change */
	ck_assert_int_eq(h_admin(&E, NULL, "verify", NULL), 0);
}
END_TEST

/* One line per call, never a value, never the query. */
START_TEST(log_line)
{
	struct h_resp	 r;
	char		 want[256];

	route("{\"path\":\"/v1/logged\",\"body\":\"{}\"}");
	call("GET", PX "/v1/logged?secretquery=QUERYMARK-123", tok_proxy, NULL,
	    NULL, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	usleep(200000);
	snprintf(want, sizeof(want), "proxy: tenant=acme subject=svc "
	    "provider=hdr credentialId=%s method=GET path=/v1/logged "
	    "status=200 in=0 out=2 ms=", cred_a);
	ck_assert_msg(h_grep_file(E.errlog, want), "no log line %s", want);
	ck_assert(!h_grep_file(E.errlog, "QUERYMARK-123"));
	ck_assert(!h_grep_file(E.errlog, KEY_A));
	ck_assert(!h_grep_file(E.errlog, APP_A));
	ck_assert(!h_grep_file(E.errlog, KEY_B));
	ck_assert(!h_grep_file(E.errlog, USER));
	ck_assert(!h_grep_file(E.errlog, PASS));
	ck_assert(!h_grep_file(E.errlog, "SECRETVAL-query-key"));
	ck_assert(!h_grep_file(E.errlog, OTHER));
}
END_TEST

START_TEST(catalog_has_proxy)
{
	struct h_resp		 r;
	struct json_object	*o, *v;

	ck_assert_int_eq(h_req(&E, "GET", "/v1/integrations/catalog/hdr",
	    E.tok_reader, NULL, NULL, NULL, &r), 0);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "hasProxy", &v));
	ck_assert(json_object_get_boolean(v));
	json_object_put(o);
	h_resp_free(&r);
	ck_assert_int_eq(h_req(&E, "GET", "/v1/integrations/catalog/plain",
	    E.tok_reader, NULL, NULL, NULL, &r), 0);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "hasProxy", &v));
	ck_assert(!json_object_get_boolean(v));
	json_object_put(o);
	h_resp_free(&r);
}
END_TEST

/* Last: the provider is gone (its port closed): 502. */
START_TEST(unreachable)
{
	struct h_resp	 r;
	int		 st;

	kill(E.mock, SIGKILL);
	waitpid(E.mock, &st, 0);
	E.mock = 0;
	call("GET", PX "/v1/metrics", tok_proxy, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 502);
	ck_assert_str_eq(h_errcode(&r), "upstream_unreachable");
	ck_assert_str_eq(h_header(&r, "Credential-Id"), cred_a);
	h_resp_free(&r);
}
END_TEST

/* Last of all in sanitizer builds: the server's processes said nothing. */
START_TEST(sanitizers_quiet)
{
	if (!h_sanitizer_build()) {
		fprintf(stderr, "SKIPPED: not a sanitizer build\n");
		return;
	}
	h_stop_server(&E);
	ck_assert_msg(!h_sanitizer_report(&E), "sanitizer report in %s",
	    E.errlog);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("e2e_proxy");
	TCase	*tc = tcase_create("proxy");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, suite_up, NULL);
	tcase_add_test(tc, header_injection_and_filters);
	tcase_add_test(tc, post_body_and_methods);
	tcase_add_test(tc, basic_auth_and_query_injection);
	tcase_add_test(tc, allow_list);
	tcase_add_test(tc, role_and_auth);
	tcase_add_test(tc, which_credential);
	tcase_add_test(tc, rejected_credential);
	tcase_add_test(tc, path_tricks);
	tcase_add_test(tc, redaction);
	tcase_add_test(tc, caps_timeout_redirect);
	tcase_add_test(tc, last_used);
	tcase_add_test(tc, log_line);
	tcase_add_test(tc, catalog_has_proxy);
	tcase_add_test(tc, unreachable);
	tcase_add_test(tc, sanitizers_quiet);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_teardown(&E);
	unlink(catalog_path);
	free(tok_proxy);
	free(tok_both);
	free(tok_oproxy);
	return failed == 0 ? 0 : 1;
}
