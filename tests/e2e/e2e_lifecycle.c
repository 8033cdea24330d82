/*
 * End-to-end tests of the credential lifecycle (issue: lifecycle,
 * connections, audit trail, key rotation and the real catalog), behind a
 * real lighttpd with two FastCGI processes and the mock provider.
 */
#include "cs_build.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "harness.h"

/* a well-formed Twilio account SID: AC and 32 hexadecimal digits */
#define TWILIO_SID	"AC0123456789abcdef0123456789abcdef"

static struct h_env E;

#define JSON	"application/json"
#define DD	"/v1/integrations/datadog/credentials"

static void
req(const char *method, const char *path, const char *token,
    const char *ctype, const char *body, struct h_resp *r)
{
	ck_assert_msg(h_req(&E, method, path, token, ctype, body, NULL, r) == 0,
	    "%s %s: transport error", method, path);
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/* jstr, never NULL: for printing and copying */
static const char *
js(struct json_object *o, const char *k)
{
	const char *v = jstr(o, k);

	return v != NULL ? v : "";
}

static void
assert_error(const struct h_resp *r, long status, const char *code)
{
	ck_assert_msg(r->status == status, "status %ld, want %ld: %s",
	    r->status, status, r->body);
	ck_assert_str_eq(h_errcode(r), code);
}

/* Route the datadog check: this API key gets this status. */
static void
dd_route(const char *key, int status)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"%s\"},"
	    "\"status\":%d,\"body\":\"{}\"}", key, status);
	ck_assert_int_eq(h_mock_route(&E, json), 0);
}

/* Stores a datadog credential; returns its id (static buffer). */
static const char *
store_dd(const char *token, const char *key, const char *app, long want)
{
	static char		 id[64];
	struct h_resp		 r;
	struct json_object	*o;
	char			 body[512];

	snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":\"%s\","
	    "\"application_key\":\"%s\"},\"label\":\"L\"}", key, app);
	req("POST", DD, token, JSON, body, &r);
	ck_assert_msg(r.status == want, "store: %ld %s", r.status, r.body);
	id[0] = '\0';
	if ((o = h_json(&r)) != NULL && jstr(o, "credentialId") != NULL)
		snprintf(id, sizeof(id), "%s", js(o, "credentialId"));
	json_object_put(o);
	h_resp_free(&r);
	return id;
}

/* The last request the mock received (caller puts), or NULL. */
static struct json_object *
last_probe(void)
{
	struct json_object	*all, *last;
	size_t			 n;

	if ((all = h_mock_requests(&E)) == NULL)
		return NULL;
	n = json_object_array_length(all);
	last = n ? json_object_get(json_object_array_get_idx(all, n - 1)) : NULL;
	json_object_put(all);
	return last;
}

START_TEST(catalog_endpoints)
{
	struct h_resp		 r;
	struct json_object	*o, *d, *p;
	size_t			 i, n;
	int			 found = 0;

	req("GET", "/v1/integrations/catalog", E.tok_reader, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	o = h_json(&r);
	d = json_object_object_get(o, "data");
	n = json_object_array_length(d);
	ck_assert_uint_ge(n, 30);
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(d, i);
		ck_assert_int_eq(json_object_object_length(p), 7);
		if (strcmp(jstr(p, "id"), "datadog") == 0) {
			found = 1;
			ck_assert_str_eq(jstr(p, "authType"), "api_key");
			ck_assert_str_eq(json_object_to_json_string_ext(
			    json_object_object_get(p, "requiredFields"),
			    JSON_C_TO_STRING_PLAIN),
			    "[\"api_key\",\"application_key\"]");
			ck_assert_str_eq(json_object_to_json_string_ext(
			    json_object_object_get(p, "optionalFields"),
			    JSON_C_TO_STRING_PLAIN), "[\"site\"]");
			ck_assert(json_object_get_boolean(
			    json_object_object_get(p, "hasValidation")));
			ck_assert(json_object_get_boolean(
			    json_object_object_get(p, "hasProxy")));
		}
	}
	ck_assert(found);
	json_object_put(o);
	h_resp_free(&r);
	req("GET", "/v1/integrations/catalog/slack-oauth", E.tok_reader, NULL,
	    NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"id\":\"slack-oauth\",\"name\":\"Slack (OAuth)\","
	    "\"authType\":\"oauth2\",\"requiredFields\":[],\"optionalFields\":[],"
	    "\"hasValidation\":false,\"hasProxy\":false}");
	h_resp_free(&r);
	req("GET", "/v1/integrations/catalog/nope", E.tok_reader, NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("GET", "/v1/integrations/catalog", NULL, NULL, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	h_resp_free(&r);
}
END_TEST

/*
 * A listing is written without json-c; each item must be byte for byte
 * the object GET answers (json-c), labels with quotes, backslashes,
 * slashes and non-ASCII included.
 */
START_TEST(list_items_match_get)
{
	static const char *const labels[] = {
		"say \\\"hi\\\"", "back\\\\slash / slash", "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x94\x91",
		"<b>&amp;</b>",
	};
	char			*tok, body[512], path[256], id[64];
	struct h_resp		 r, g;
	struct json_object	*o;
	size_t			 i;

	ck_assert_int_eq(h_admin(&E, &tok, "token", "--sub", "l", "--tenant",
	    "lister", "--role", "admin", NULL), 0);
	tok[strcspn(tok, "\n")] = '\0';
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		snprintf(body, sizeof(body), "{\"credentials\":{\"auth_token\":"
		    "\"SECRETVAL-list-%zu\"},\"label\":\"%s\"}", i, labels[i]);
		req("POST", "/v1/integrations/sentry/credentials", tok, JSON,
		    body, &r);
		ck_assert_int_eq(r.status, 201);
		o = h_json(&r);
		snprintf(id, sizeof(id), "%s", js(o, "credentialId"));
		json_object_put(o);
		h_resp_free(&r);
		snprintf(path, sizeof(path),
		    "/v1/integrations/sentry/credentials/%s", id);
		req("GET", path, tok, NULL, NULL, &g);
		ck_assert_int_eq(g.status, 200);
		req("GET", "/v1/integrations/sentry/credentials", tok, NULL,
		    NULL, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_msg(g.len > 10 && memmem(r.body, r.len, g.body,
		    g.len) != NULL, "GET %.*s not in the list %.*s", (int)g.len,
		    g.body, (int)r.len, r.body);
		ck_assert(strstr(r.body, "\"nextCursor\":null}") != NULL);
		h_resp_free(&r);
		h_resp_free(&g);
	}
	free(tok);
}
END_TEST

/* 120 credentials in pages of 50: no duplicate, none missing, newest first. */
START_TEST(paging_120)
{
	char			*tok, body[256], path[512], cursor[256];
	char			 ids[120][40], seen[120][40];
	struct h_resp		 r;
	struct json_object	*o, *d;
	size_t			 i, j, n, nseen = 0, pages = 0;
	const char		*nc;

	ck_assert_int_eq(h_admin(&E, &tok, "token", "--sub", "p", "--tenant",
	    "pager", "--role", "admin", NULL), 0);
	tok[strcspn(tok, "\n")] = '\0';
	for (i = 0; i < 120; i++) {
		snprintf(body, sizeof(body), "{\"credentials\":{\"auth_token\":"
		    "\"SECRETVAL-page-%zu\"}}", i);
		req("POST", "/v1/integrations/sentry/credentials", tok, JSON,
		    body, &r);
		ck_assert_int_eq(r.status, 201);
		o = h_json(&r);
		snprintf(ids[i], sizeof(ids[i]), "%s", js(o, "credentialId"));
		json_object_put(o);
		h_resp_free(&r);
	}
	cursor[0] = '\0';
	do {
		snprintf(path, sizeof(path),
		    "/v1/integrations/sentry/credentials?limit=50%s%s",
		    cursor[0] ? "&cursor=" : "", cursor);
		req("GET", path, tok, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		o = h_json(&r);
		d = json_object_object_get(o, "data");
		n = json_object_array_length(d);
		pages++;
		ck_assert_uint_eq(n, pages < 3 ? 50 : 20);
		for (i = 0; i < n; i++) {
			const char *id = jstr(json_object_array_get_idx(d, i),
			    "credentialId");

			for (j = 0; j < nseen; j++)
				ck_assert_str_ne(seen[j], id);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", id);
		}
		nc = jstr(o, "nextCursor");
		snprintf(cursor, sizeof(cursor), "%s", nc ? nc : "");
		ck_assert_msg((pages < 3) == (nc != NULL), "page %zu cursor", pages);
		json_object_put(o);
		h_resp_free(&r);
	} while (cursor[0] != '\0' && pages < 10);
	ck_assert_uint_eq(pages, 3);
	ck_assert_uint_eq(nseen, 120);
	/* newest first: the reverse of creation order (ULIDs sort by time) */
	for (i = 0; i < 120; i++)
		for (j = 0; j < 120; j++)
			if (strcmp(seen[j], ids[i]) == 0)
				break;
	for (i = 1; i < 120; i++)
		ck_assert_msg(strcmp(seen[i - 1], seen[i]) > 0, "order at %zu", i);
	/* bad paging parameters */
	{
		const char *bad[] = { "?limit=0", "?limit=101", "?limit=abc",
		    "?limit=", "?cursor=%%%", "?cursor=Zm9v", "?other=1" };

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(path, sizeof(path),
			    "/v1/integrations/sentry/credentials%s", bad[i]);
			req("GET", path, tok, NULL, NULL, &r);
			assert_error(&r, 400, "validation_error");
			h_resp_free(&r);
		}
	}
	/* default limit 50 */
	req("GET", "/v1/integrations/sentry/credentials", tok, NULL, NULL, &r);
	o = h_json(&r);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o,
	    "data")), 50);
	json_object_put(o);
	h_resp_free(&r);
	free(tok);
}
END_TEST

START_TEST(delete_and_connections)
{
	struct h_resp		 r;
	struct json_object	*o;
	char			 id[64], path[256], body[256];

	ck_assert_int_eq(h_mock_reset(&E), 0);
	dd_route("SECRETVAL-del", 200);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-del",
	    "SECRETVAL-a", 201));
	snprintf(path, sizeof(path), "%s/%s", DD, id);

	/* connect, read the connection */
	snprintf(body, sizeof(body), "{\"credentialId\":\"%s\"}", id);
	req("POST", "/v1/integrations/datadog/connect", E.tok_admin, JSON, body,
	    &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "provider"), "datadog");
	ck_assert_str_eq(jstr(o, "credentialId"), id);
	ck_assert_str_eq(jstr(o, "status"), "active");
	ck_assert_ptr_nonnull(jstr(o, "connectedAt"));
	json_object_put(o);
	h_resp_free(&r);
	req("GET", "/v1/integrations/datadog/connect", E.tok_reader, NULL, NULL,
	    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, id) != NULL);
	h_resp_free(&r);
	/* a reader cannot connect; an unknown credential is 404 */
	req("POST", "/v1/integrations/datadog/connect", E.tok_reader, JSON, body,
	    &r);
	assert_error(&r, 403, "forbidden");
	h_resp_free(&r);
	req("POST", "/v1/integrations/datadog/connect", E.tok_admin, JSON,
	    "{\"credentialId\":\"crd_01HX9VTPQR3KF8MZWBYD5N6JCE\"}", &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("POST", "/v1/integrations/datadog/connect", E.tok_admin, JSON,
	    "{\"credentialId\":7}", &r);
	assert_error(&r, 400, "validation_error");
	h_resp_free(&r);

	/* in use: 409 and still there */
	req("DELETE", path, E.tok_admin, NULL, NULL, &r);
	assert_error(&r, 409, "conflict");
	h_resp_free(&r);
	req("GET", path, E.tok_admin, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	/* disconnect, then delete, then it is gone */
	req("DELETE", "/v1/integrations/datadog/connect", E.tok_admin, NULL,
	    NULL, &r);
	ck_assert_int_eq(r.status, 204);
	ck_assert_uint_eq(r.len, 0);
	h_resp_free(&r);
	req("GET", "/v1/integrations/datadog/connect", E.tok_admin, NULL, NULL,
	    &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("DELETE", "/v1/integrations/datadog/connect", E.tok_admin, NULL,
	    NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("DELETE", path, E.tok_reader, NULL, NULL, &r);
	assert_error(&r, 403, "forbidden");
	h_resp_free(&r);
	req("DELETE", path, E.tok_admin, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	h_resp_free(&r);
	req("GET", path, E.tok_admin, NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("DELETE", path, E.tok_admin, NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	{
		char *out;

		ck_assert_int_eq(h_admin(&E, &out, "list", "--tenant", "acme",
		    NULL), 0);
		ck_assert(strstr(out, id) == NULL);
		free(out);
	}
}
END_TEST

START_TEST(retest_flips_status)
{
	struct h_resp		 r;
	struct json_object	*o;
	char			 id[64], path[256], vpath[300];

	ck_assert_int_eq(h_mock_reset(&E), 0);
	dd_route("SECRETVAL-flip", 200);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-flip",
	    "SECRETVAL-flip-app", 201));
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	snprintf(vpath, sizeof(vpath), "%s/validate", path);

	/* the provider now rejects the key */
	dd_route("SECRETVAL-flip", 401);
	req("POST", vpath, E.tok_admin, NULL, NULL, &r);
	assert_error(&r, 422, "credential_validation_failed");
	h_resp_free(&r);
	o = last_probe();
	ck_assert_str_eq(jstr(json_object_object_get(o, "headers"),
	    "DD-APPLICATION-KEY"), "SECRETVAL-flip-app");
	json_object_put(o);
	req("GET", path, E.tok_admin, NULL, NULL, &r);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "status"), "rejected");
	ck_assert_ptr_nonnull(jstr(o, "lastValidatedAt"));
	json_object_put(o);
	h_resp_free(&r);
	/* and accepts it again */
	dd_route("SECRETVAL-flip", 200);
	req("POST", vpath, E.tok_admin, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "status"), "validated");
	ck_assert_str_eq(jstr(o, "credentialId"), id);
	json_object_put(o);
	h_resp_free(&r);
	/* 5xx: unverified */
	dd_route("SECRETVAL-flip", 502);
	req("POST", vpath, E.tok_admin, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "status"), "unverified");
	json_object_put(o);
	h_resp_free(&r);
	req("POST", vpath, E.tok_reader, NULL, NULL, &r);
	assert_error(&r, 403, "forbidden");
	h_resp_free(&r);
	req("GET", vpath, E.tok_admin, NULL, NULL, &r);
	assert_error(&r, 405, "method_not_allowed");
	ck_assert_str_eq(h_header(&r, "Allow"), "POST");
	h_resp_free(&r);
}
END_TEST

START_TEST(put_and_patch)
{
	struct h_resp		 r;
	struct json_object	*o, *p;
	char			 id[64], path[256], created[32], updated[32];

	ck_assert_int_eq(h_mock_reset(&E), 0);
	dd_route("SECRETVAL-old", 200);
	dd_route("SECRETVAL-new", 200);
	dd_route("SECRETVAL-bad", 403);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-old",
	    "SECRETVAL-old-app", 201));
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	req("GET", path, E.tok_admin, NULL, NULL, &r);
	o = h_json(&r);
	snprintf(created, sizeof(created), "%s", js(o, "createdAt"));
	snprintf(updated, sizeof(updated), "%s", js(o, "updatedAt"));
	json_object_put(o);
	h_resp_free(&r);
	sleep(1);	/* seconds precision: let updatedAt move */

	req("PUT", path, E.tok_admin, JSON, "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-new\",\"application_key\":\"SECRETVAL-new-app\"}}", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "credentialId"), id);
	ck_assert_str_eq(jstr(o, "createdAt"), created);
	ck_assert_str_ne(jstr(o, "updatedAt"), updated);
	ck_assert_str_eq(jstr(o, "status"), "validated");
	ck_assert_str_eq(jstr(o, "label"), "L");	/* label absent: kept */
	json_object_put(o);
	h_resp_free(&r);
	p = last_probe();
	ck_assert_str_eq(jstr(json_object_object_get(p, "headers"),
	    "DD-API-KEY"), "SECRETVAL-new");
	json_object_put(p);

	/* rejected new values: 422, the stored ones stay */
	req("PUT", path, E.tok_admin, JSON, "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-bad\",\"application_key\":\"SECRETVAL-bad-app\"}}", &r);
	assert_error(&r, 422, "credential_validation_failed");
	h_resp_free(&r);
	{
		char vpath[300];

		snprintf(vpath, sizeof(vpath), "%s/validate", path);
		req("POST", vpath, E.tok_admin, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		h_resp_free(&r);
		p = last_probe();
		ck_assert_str_eq(jstr(json_object_object_get(p, "headers"),
		    "DD-API-KEY"), "SECRETVAL-new");
		ck_assert_str_eq(jstr(json_object_object_get(p, "headers"),
		    "DD-APPLICATION-KEY"), "SECRETVAL-new-app");
		json_object_put(p);
	}
	/* invalid PUT bodies */
	req("PUT", path, E.tok_admin, JSON, "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-x\"}}", &r);
	assert_error(&r, 400, "validation_error");
	h_resp_free(&r);
	req("PUT", path, E.tok_reader, JSON, "{\"credentials\":{}}", &r);
	assert_error(&r, 403, "forbidden");
	h_resp_free(&r);
	req("PUT", DD "/crd_01HX9VTPQR3KF8MZWBYD5N6JCE", E.tok_admin, JSON,
	    "{\"credentials\":{\"api_key\":\"SECRETVAL-new\",\"application_key\":"
	    "\"SECRETVAL-new-app\"}}", &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);

	/* PATCH: the label alone */
	req("PATCH", path, E.tok_admin, JSON, "{\"label\":\"Renamed\"}", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "label"), "Renamed");
	ck_assert_str_eq(jstr(o, "status"), "validated");
	json_object_put(o);
	h_resp_free(&r);
	req("PATCH", path, E.tok_admin, JSON, "{\"label\":null}", &r);
	o = h_json(&r);
	ck_assert_ptr_null(jstr(o, "label"));
	json_object_put(o);
	h_resp_free(&r);
	req("PATCH", path, E.tok_admin, JSON, "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-x\"},\"label\":\"x\"}", &r);
	assert_error(&r, 400, "validation_error");
	h_resp_free(&r);
	req("PATCH", path, E.tok_admin, JSON, "{}", &r);
	assert_error(&r, 400, "validation_error");
	h_resp_free(&r);
	ck_assert_int_eq(h_admin(&E, NULL, "verify", NULL), 0);
}
END_TEST

/* Tenant B gets 404 for every path that names tenant A's credential. */
START_TEST(tenant_b_sees_nothing)
{
	struct h_resp	 r;
	char		 id[64], path[256], sub[300], body[256];
	size_t		 i;

	ck_assert_int_eq(h_mock_reset(&E), 0);
	dd_route("SECRETVAL-iso", 200);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-iso",
	    "SECRETVAL-iso-app", 201));
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	snprintf(body, sizeof(body), "{\"credentialId\":\"%s\"}", id);
	{
		struct {
			const char *method, *suffix, *ctype, *body;
		} cases[] = {
			{ "GET", "", NULL, NULL },
			{ "PUT", "", JSON, "{\"credentials\":{\"api_key\":"
			    "\"SECRETVAL-iso\",\"application_key\":\"x\"}}" },
			{ "PATCH", "", JSON, "{\"label\":\"mine\"}" },
			{ "DELETE", "", NULL, NULL },
			{ "POST", "/validate", NULL, NULL },
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			snprintf(sub, sizeof(sub), "%s%s", path, cases[i].suffix);
			req(cases[i].method, sub, E.tok_other, cases[i].ctype,
			    cases[i].body, &r);
			ck_assert_msg(r.status == 404, "%s %s: %ld",
			    cases[i].method, cases[i].suffix, r.status);
			ck_assert_str_eq(h_errcode(&r), "not_found");
			h_resp_free(&r);
		}
	}
	req("POST", "/v1/integrations/datadog/connect", E.tok_other, JSON, body,
	    &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	/* and A's record is untouched */
	req("GET", path, E.tok_admin, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "\"label\":\"L\"") != NULL);
	h_resp_free(&r);
}
END_TEST

/* Every change leaves one audit line; no value is in any of them. */
START_TEST(audit_trail)
{
	char		*out, *line, *save;
	size_t		 creates = 0, n = 0;
	const char	*fields[] = { "\"time\":", "\"tenant\":", "\"subject\":",
	    "\"action\":", "\"provider\":", "\"credentialId\":", "\"outcome\":",
	    "\"client\":" };
	size_t		 i;

	ck_assert_int_eq(h_admin(&E, &out, "audit", NULL), 0);
	ck_assert(strstr(out, "SECRETVAL") == NULL);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		n++;
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			ck_assert_msg(strstr(line, fields[i]) != NULL,
			    "%s lacks %s", line, fields[i]);
		if (strstr(line, "\"action\":\"credential.create\"") != NULL) {
			creates++;
			ck_assert(strstr(line, "\"client\":\"127.0.0.1\"") != NULL);
		}
	}
	free(out);
	ck_assert_uint_gt(n, 130);
	ck_assert_uint_ge(creates, 120);
	ck_assert_int_eq(h_admin(&E, &out, "audit", "--tenant", "globex", NULL),
	    0);
	ck_assert(strstr(out, "\"tenant\":\"acme\"") == NULL);
	free(out);
	/* each action seen in the tests above */
	ck_assert_int_eq(h_admin(&E, &out, "audit", "--tenant", "acme", NULL), 0);
	{
		const char *acts[] = { "credential.create", "credential.update",
		    "credential.label", "credential.delete", "credential.validate",
		    "integration.connect", "integration.disconnect" };

		for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
			ck_assert_msg(strstr(out, acts[i]) != NULL, "no %s", acts[i]);
	}
	free(out);
}
END_TEST

/* rotate-key while a client stores and reads; nothing fails. */
START_TEST(rotation_under_load)
{
	pid_t	 kid;
	int	 st, i;
	char	*out, *tok, oldkey[32], newkey[32], keyfile[700];

	ck_assert_int_eq(h_admin(&E, &out, "keys", NULL), 0);
	ck_assert_int_eq(sscanf(out, "%31s active", oldkey), 1);
	free(out);
	ck_assert_int_eq(h_admin(&E, &tok, "token", "--sub", "rot", "--tenant",
	    "rot", "--role", "admin", NULL), 0);
	tok[strcspn(tok, "\n")] = '\0';
	snprintf(keyfile, sizeof(keyfile), "%s/stop-load", E.dir);
	unlink(keyfile);
	if ((kid = fork()) == 0) {
		int		 bad = 0, n = 0;
		struct stat	 sb;

		while (stat(keyfile, &sb) == -1 && n < 5000) {
			struct h_resp	 r;
			char		 body[200];

			snprintf(body, sizeof(body), "{\"credentials\":{\"auth_token"
			    "\":\"SECRETVAL-rot-%d\"}}", n++);
			if (h_req(&E, "POST", "/v1/integrations/sentry/credentials",
			    tok, JSON, body, NULL, &r) != 0 || r.status != 201)
				bad++;
			h_resp_free(&r);
			if (h_req(&E, "GET", "/v1/integrations/sentry/credentials"
			    "?limit=5", tok, NULL, NULL, NULL, &r) != 0 ||
			    r.status != 200)
				bad++;
			h_resp_free(&r);
		}
		fprintf(stderr, "rotation: %d stores during rotation, %d failed\n",
		    n, bad);
		_exit(bad > 255 ? 255 : bad);
	}
	usleep(500000);
	ck_assert_int_eq(h_admin(&E, &out, "rotate-key", NULL), 0);
	ck_assert_int_eq(sscanf(out, "%31s", newkey), 1);
	ck_assert_str_ne(newkey, oldkey);
	free(out);
	usleep(500000);
	{
		FILE *f = fopen(keyfile, "w");

		fclose(f);
	}
	waitpid(kid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "requests failed during the rotation: %d", WEXITSTATUS(st));
	/* everything decrypts, nothing uses the old key, it can go */
	ck_assert_int_eq(h_admin(&E, &out, "verify", NULL), 0);
	ck_assert(strstr(out, "failed: 0") != NULL);
	free(out);
	ck_assert_int_eq(h_admin(&E, &out, "keys", NULL), 0);
	{
		char want[80];

		snprintf(want, sizeof(want), "%s inactive", oldkey);
		ck_assert(strstr(out, want) != NULL);
		ck_assert(strstr(out, "records=0") != NULL);
	}
	free(out);
	ck_assert_int_eq(h_admin(&E, &out, "retire-key", oldkey, NULL), 0);
	free(out);
	ck_assert_int_eq(h_admin(&E, &out, "retire-key", newkey, NULL), 1);
	free(out);
	/* the servers picked up the new keyring: stores and reads go on */
	for (i = 0; i < 5; i++) {
		struct h_resp r;

		req("POST", "/v1/integrations/sentry/credentials", tok, JSON,
		    "{\"credentials\":{\"auth_token\":\"SECRETVAL-after\"}}", &r);
		ck_assert_int_eq(r.status, 201);
		h_resp_free(&r);
	}
	ck_assert_int_eq(h_admin(&E, &out, "verify", NULL), 0);
	free(out);
	ck_assert_int_eq(h_admin(&E, &out, "keys", NULL), 0);
	ck_assert(strstr(out, oldkey) == NULL || strncmp(out, oldkey,
	    strlen(oldkey)) != 0);
	free(out);
	free(tok);
}
END_TEST

/* A backup taken while writes run opens with our code and verifies. */
START_TEST(backup_while_writing)
{
	pid_t	 kid;
	int	 st;
	char	 bdir[700], conf[700], stop[700], *out, cmd[2200];
	FILE	*f;

	snprintf(bdir, sizeof(bdir), "%s/backup", E.dir);
	snprintf(stop, sizeof(stop), "%s/stop-backup-load", E.dir);
	if ((kid = fork()) == 0) {
		struct stat	sb;
		int		n = 0, bad = 0;

		while (stat(stop, &sb) == -1 && n < 5000) {
			struct h_resp	r;
			char		body[200];

			snprintf(body, sizeof(body), "{\"credentials\":{\"auth_token"
			    "\":\"SECRETVAL-bk-%d\"}}", n++);
			if (h_req(&E, "POST", "/v1/integrations/sentry/credentials",
			    E.tok_admin, JSON, body, NULL, &r) != 0 ||
			    r.status != 201)
				bad++;
			h_resp_free(&r);
		}
		_exit(bad > 255 ? 255 : bad);
	}
	usleep(300000);
	ck_assert_int_eq(h_admin(&E, &out, "backup", bdir, NULL), 0);
	free(out);
	f = fopen(stop, "w");
	fclose(f);
	waitpid(kid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* a backup into an existing backup is refused */
	ck_assert_int_ne(h_admin(&E, &out, "backup", bdir, NULL), 0);
	free(out);

	/* a configuration whose data_dir is the backup, same keyring */
	snprintf(conf, sizeof(conf), "%s/restore.conf", E.dir);
	f = fopen(conf, "w");
	fprintf(f, "data_dir = backup\nkeyring = keyring\n"
	    "catalog = %s/etc/catalog.json\njwt_secret_file = jwt.secret\n",
	    E.srcdir);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s -c %s verify > %s/restore.out 2>&1",
	    E.admin, conf, E.dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/restore.out", E.dir);
	ck_assert(h_grep_file(cmd, "audit chain: ok"));
	ck_assert(!h_grep_file(cmd, "records: 0\n"));
}
END_TEST

/*
 * For each bundled provider, the probe the service sends has the method,
 * path and header (or basic-auth) names of shared/providers.md.  The
 * table is written here from that document, not read from the catalog.
 */
struct pcase {
	const char	*id;
	const char	*fields;	/* JSON members of "credentials" */
	const char	*method;
	const char	*path;
	const char	*headers[4];	/* "Name" or "Name=value prefix" */
};

static const struct pcase pcases[] = {
	{ "datadog", "\"api_key\":\"k\",\"application_key\":\"a\"", "GET",
	    "/api/v2/validate_keys", { "DD-API-KEY=k", "DD-APPLICATION-KEY=a" } },
	{ "newrelic", "\"api_key\":\"NRAK-k\"", "GET", "/v2/users.json",
	    { "X-Api-Key=NRAK-k" } },
	{ "pagerduty", "\"api_key\":\"k\"", "GET", "/users",
	    { "Authorization=Token token=k",
	      "Accept=application/vnd.pagerduty+json;version=2" } },
	{ "opsgenie", "\"api_key\":\"k\"", "GET", "/v2/account",
	    { "Authorization=GenieKey k" } },
	{ "grafana", "\"token\":\"k\",\"domain\":\"acme.grafana.net\"", "GET",
	    "/api/access-control/user/permissions", { "Authorization=Bearer k" } },
	{ "honeycomb", "\"api_key\":\"k\"", "GET", "/1/auth",
	    { "X-Honeycomb-Team=k" } },
	{ "github", "\"token\":\"k\"", "GET", "/user",
	    { "Authorization=Bearer k", "X-GitHub-Api-Version=2022-11-28" } },
	{ "gitlab", "\"token\":\"glpat-k\"", "GET", "/api/v4/user",
	    { "PRIVATE-TOKEN=glpat-k" } },
	{ "linear", "\"api_key\":\"k\"", "POST", "/graphql",
	    { "Authorization=k" } },
	{ "jira", "\"email\":\"a@b.c\",\"api_token\":\"k\",\"site\":\"acme\"",
	    "GET", "/rest/api/3/myself", { "Authorization=Basic " } },
	{ "stripe", "\"secret_key\":\"sk_test_k\"", "GET", "/v1/charges",
	    { "Authorization=Bearer sk_test_k" } },
	{ "sendgrid", "\"api_key\":\"k\"", "GET", "/v3/scopes",
	    { "Authorization=Bearer k" } },
	{ "twilio", "\"account_sid\":\"" TWILIO_SID "\",\"auth_token\":\"k\"",
	    "GET", "/2010-04-01/Accounts/" TWILIO_SID "/Messages.json",
	    { "Authorization=Basic " } },
	{ "openai", "\"api_key\":\"k\"", "GET", "/v1/models",
	    { "Authorization=Bearer k" } },
	{ "anthropic", "\"api_key\":\"k\"", "GET", "/v1/models",
	    { "x-api-key=k", "anthropic-version=2023-06-01" } },
	{ "slack", "\"bot_token\":\"xoxb-k\"", "POST", "/api/auth.test",
	    { "Authorization=Bearer xoxb-k" } },
	{ "cloudflare", "\"api_token\":\"k\"", "GET",
	    "/client/v4/user/tokens/verify", { "Authorization=Bearer k" } },
	{ "digitalocean", "\"token\":\"k\"", "GET", "/v2/account",
	    { "Authorization=Bearer k" } },
	{ "heroku", "\"token\":\"k\"", "GET", "/account",
	    { "Authorization=Bearer k",
	      "Accept=application/vnd.heroku+json; version=3" } },
	{ "circleci", "\"token\":\"k\"", "GET", "/api/v2/me",
	    { "Circle-Token=k" } },
	{ "launchdarkly", "\"access_token\":\"k\"", "GET",
	    "/api/v2/caller-identity", { "Authorization=k" } },
	{ "mailgun", "\"api_key\":\"k\"", "GET", "/v3/domains",
	    { "Authorization=Basic YXBpOms=" } },	/* api:k */
	{ "postmark", "\"server_token\":\"k\"", "GET", "/deliverystats",
	    { "X-Postmark-Server-Token=k" } },
	{ "amplitude", "\"api_key\":\"k\",\"secret_key\":\"s\"", "GET",
	    "/api/2/taxonomy/category", { "Authorization=Basic azpz" } },
	{ "statuspage", "\"api_key\":\"k\"", "GET", "/v1/pages",
	    { "Authorization=OAuth k" } },
	{ "incidentio", "\"api_key\":\"inc_k\"", "GET", "/v1/identity",
	    { "Authorization=Bearer inc_k" } },
	{ "okta", "\"token\":\"k\",\"domain\":\"acme.okta.com\"", "GET",
	    "/api/v1/users/me", { "Authorization=SSWS k" } },
	{ "elastic", "\"api_key\":\"k\"", "GET", "/api/v1/deployments",
	    { "Authorization=ApiKey k" } },
};

START_TEST(catalog_probes)
{
	const struct pcase	*c = &pcases[_i];
	struct h_resp		 r;
	struct json_object	*p, *hd;
	char			 body[512], path[256], name[64];
	const char		*eq, *got;
	size_t			 i, nl;

	ck_assert_int_eq(h_mock_reset(&E), 0);
	snprintf(body, sizeof(body), "{\"credentials\":{%s}}", c->fields);
	snprintf(path, sizeof(path), "/v1/integrations/%s/credentials", c->id);
	req("POST", path, E.tok_admin, JSON, body, &r);
	/* the mock has no route: 404 is neither valid nor rejected */
	ck_assert_msg(r.status == 201, "%s: %ld %s", c->id, r.status, r.body);
	h_resp_free(&r);
	p = last_probe();
	ck_assert_msg(p != NULL, "%s: no probe", c->id);
	ck_assert_str_eq(jstr(p, "method"), c->method);
	ck_assert_str_eq(jstr(p, "path"), c->path);
	hd = json_object_object_get(p, "headers");
	for (i = 0; i < 4 && c->headers[i] != NULL; i++) {
		eq = strchr(c->headers[i], '=');
		nl = eq ? (size_t)(eq - c->headers[i]) : strlen(c->headers[i]);
		snprintf(name, sizeof(name), "%.*s", (int)nl, c->headers[i]);
		got = NULL;
		json_object_object_foreach(hd, k, v) {
			if (strcasecmp(k, name) == 0)
				got = json_object_get_string(v);
		}
		ck_assert_msg(got != NULL, "%s: no %s header", c->id, name);
		if (eq != NULL)
			ck_assert_msg(strncmp(got, eq + 1, strlen(eq + 1)) == 0,
			    "%s: %s is '%s', want '%s...'", c->id, name, got,
			    eq + 1);
	}
	json_object_put(p);
}
END_TEST

/* Editing or deleting one audit record makes verify fail (runs last). */
START_TEST(audit_tamper)
{
	char	 cmd[4096], dump[700], out[700], *s;
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0;
	int	 data_lines = 0, in_data = 0;
	FILE	*in, *o;

	h_stop_server(&E);
	ck_assert_int_eq(h_admin(&E, &s, "verify", NULL), 0);
	free(s);
	snprintf(dump, sizeof(dump), "%s/audit.dump", E.dir);
	snprintf(cmd, sizeof(cmd), "cd %s && db5.3_dump -p audit.db > %s",
	    E.data_dir, dump);
	ck_assert_int_eq(system(cmd), 0);

	/* 1: edit one record: "credential.create" -> "credential.delete" */
	snprintf(out, sizeof(out), "%s/audit.edit", E.dir);
	in = fopen(dump, "r");
	o = fopen(out, "w");
	{
		int done = 0;

		while (getline(&line, &cap, in) != -1) {
			char *p;

			if (!done && (p = strstr(line, "credential.create")) != NULL) {
				memcpy(p + 11, "delete", 6);
				done = 1;
			}
			fputs(line, o);
		}
		ck_assert(done);
	}
	fclose(in);
	fclose(o);
	snprintf(cmd, sizeof(cmd), "cp %s/audit.db %s/audit.orig && "
	    "rm -f %s/audit.db && db5.3_load -f %s %s/audit.db", E.data_dir,
	    E.dir, E.data_dir, out, E.data_dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(h_admin(&E, &s, "verify", NULL), 1);
	ck_assert(strstr(s, "audit chain: BROKEN") != NULL);
	free(s);

	/* 2: delete one record in the middle */
	in = fopen(dump, "r");
	o = fopen(out, "w");
	while (getline(&line, &cap, in) != -1) {
		if (strncmp(line, "HEADER=END", 10) == 0) {
			in_data = 1;
			fputs(line, o);
			continue;
		}
		if (in_data && line[0] == ' ') {
			data_lines++;
			/* lines 5 and 6: the third record's key and value */
			if (data_lines == 5 || data_lines == 6)
				continue;
		}
		fputs(line, o);
	}
	free(line);
	fclose(in);
	fclose(o);
	snprintf(cmd, sizeof(cmd), "rm -f %s/audit.db && db5.3_load -f %s "
	    "%s/audit.db", E.data_dir, out, E.data_dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(h_admin(&E, &s, "verify", NULL), 1);
	ck_assert(strstr(s, "audit chain: BROKEN") != NULL);
	free(s);

	/* and the original file verifies again: the check is not noise */
	snprintf(cmd, sizeof(cmd), "cp %s/audit.orig %s/audit.db", E.dir,
	    E.data_dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(h_admin(&E, &s, "verify", NULL), 0);
	free(s);
	f = NULL;
	(void)f;
}
END_TEST

/*
 * The "check" object of a metadata answer as "result" or
 * "result/reason", "+" appended when it has another member (static).
 */
static const char *
check_of(const struct h_resp *r)
{
	static char		 out[128];
	struct json_object	*o, *ck;
	const char		*reason;
	size_t			 want;

	out[0] = '\0';
	if ((o = h_json(r)) == NULL ||
	    !json_object_object_get_ex(o, "check", &ck) || ck == NULL) {
		json_object_put(o);
		return "(none)";
	}
	reason = jstr(ck, "reason");
	want = reason != NULL ? 2 : 1;
	snprintf(out, sizeof(out), "%s%s%s%s", js(ck, "result"),
	    reason ? "/" : "", reason ? reason : "",
	    json_object_object_length(ck) != (int)want ? "+" : "");
	json_object_put(o);
	return out;
}

/*
 * POSTs body to path; 201 with exactly the five members of SPEC section
 * 1 and the Credential-Check header `header`.  Returns the id (static).
 */
static const char *
store_checked(const char *path, const char *body, const char *const *hdrs,
    const char *header)
{
	static char		 id[64];
	struct h_resp		 r;
	struct json_object	*o;

	ck_assert(h_req(&E, "POST", path, E.tok_admin, JSON, body, hdrs,
	    &r) == 0);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(h_header(&r, "Credential-Check"));
	ck_assert_str_eq(h_header(&r, "Credential-Check"), header);
	o = h_json(&r);
	ck_assert_int_eq(json_object_object_length(o), 5);
	ck_assert_ptr_nonnull(jstr(o, "credentialId"));
	ck_assert(json_object_object_get_ex(o, "label", NULL));
	ck_assert_ptr_nonnull(jstr(o, "provider"));
	ck_assert_ptr_nonnull(jstr(o, "status"));
	ck_assert_ptr_nonnull(jstr(o, "createdAt"));
	ck_assert(!json_object_object_get_ex(o, "check", NULL));
	snprintf(id, sizeof(id), "%s", js(o, "credentialId"));
	json_object_put(o);
	h_resp_free(&r);
	return id;
}

/* GET of one credential: its check, and the same item in the listing. */
static const char *
stored_check(const char *provider, const char *id)
{
	static char	 out[128];
	struct h_resp	 r, l;
	char		 path[256];

	snprintf(path, sizeof(path), "/v1/integrations/%s/credentials/%s",
	    provider, id);
	req("GET", path, E.tok_admin, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	snprintf(out, sizeof(out), "%s", check_of(&r));
	req("GET", "/v1/integrations/credentials?limit=100", E.tok_admin,
	    NULL, NULL, &l);
	ck_assert_int_eq(l.status, 200);
	ck_assert_msg(memmem(l.body, l.len, r.body, r.len) != NULL,
	    "GET %s not in the list", r.body);
	h_resp_free(&l);
	h_resp_free(&r);
	return out;
}

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

#define DD_BODY(k)	"{\"credentials\":{\"api_key\":\"" k "\"," \
			    "\"application_key\":\"SECRETVAL-ck-app\"}}"

/*
 * SPEC section 2: the last check's outcome in every metadata answer and,
 * for the 201, in the Credential-Check header: validated (no reason),
 * rejected status_401, unreachable status_503, timeout and no_check.
 * PATCH asks the provider nothing and shows the stored outcome.
 */
START_TEST(check_outcomes)
{
	const char	*idem[] = { "Idempotency-Key: ck-outcomes-1", NULL };
	struct h_resp	 r;
	char		 ok[64], rej[64], flaky[64], path[256], vpath[300];
	size_t		 n;

	ck_assert_int_eq(h_mock_reset(&E), 0);
	dd_route("SECRETVAL-ck-ok", 200);
	dd_route("SECRETVAL-ck-401", 200);
	dd_route("SECRETVAL-ck-503", 503);
	/* 2.5 s: past this suite's probe_timeout_ms of 1500 */
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":"
	    "\"SECRETVAL-ck-slow\"},\"status\":200,\"delayMs\":2500,"
	    "\"body\":\"{}\"}"), 0);

	/* validated: the header alone, no reason; a replay carries it too */
	snprintf(ok, sizeof(ok), "%s", store_checked(DD,
	    DD_BODY("SECRETVAL-ck-ok"), idem, "result=validated"));
	ck_assert_str_eq(store_checked(DD, DD_BODY("SECRETVAL-ck-ok"), idem,
	    "result=validated"), ok);
	ck_assert_str_eq(stored_check("datadog", ok), "validated");

	/* rejected on a re-test: status_401 */
	snprintf(rej, sizeof(rej), "%s", store_checked(DD,
	    DD_BODY("SECRETVAL-ck-401"), NULL, "result=validated"));
	dd_route("SECRETVAL-ck-401", 401);
	snprintf(vpath, sizeof(vpath), "%s/%s/validate", DD, rej);
	req("POST", vpath, E.tok_admin, NULL, NULL, &r);
	assert_error(&r, 422, "credential_validation_failed");
	/* the 422 keeps the error shape; the outcome is in the header */
	ck_assert_ptr_nonnull(h_header(&r, "Credential-Check"));
	ck_assert_str_eq(h_header(&r, "Credential-Check"),
	    "result=rejected; reason=status_401");
	h_resp_free(&r);
	ck_assert_str_eq(stored_check("datadog", rej), "rejected/status_401");
	/* a PUT of values the provider rejects: the same header */
	snprintf(vpath, sizeof(vpath), "%s/%s", DD, rej);
	req("PUT", vpath, E.tok_admin, "application/json",
	    DD_BODY("SECRETVAL-ck-401"), &r);
	assert_error(&r, 422, "credential_validation_failed");
	ck_assert_str_eq(h_header(&r, "Credential-Check"),
	    "result=rejected; reason=status_401");
	h_resp_free(&r);

	/* a 503: unreachable; PUT, PATCH and re-test answer the check */
	snprintf(flaky, sizeof(flaky), "%s", store_checked(DD,
	    DD_BODY("SECRETVAL-ck-503"), NULL,
	    "result=unreachable; reason=status_503"));
	ck_assert_str_eq(stored_check("datadog", flaky),
	    "unreachable/status_503");
	snprintf(path, sizeof(path), "%s/%s", DD, flaky);
	req("PUT", path, E.tok_admin, JSON, DD_BODY("SECRETVAL-ck-ok"), &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(check_of(&r), "validated");
	h_resp_free(&r);
	req("PUT", path, E.tok_admin, JSON, DD_BODY("SECRETVAL-ck-503"), &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(check_of(&r), "unreachable/status_503");
	h_resp_free(&r);
	n = mock_count();
	req("PATCH", path, E.tok_admin, JSON, "{\"label\":\"ck\"}", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(check_of(&r), "unreachable/status_503");
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), n);	/* PATCH checked nothing */
	snprintf(vpath, sizeof(vpath), "%s/validate", path);
	req("POST", vpath, E.tok_admin, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(check_of(&r), "unreachable/status_503");
	h_resp_free(&r);
	ck_assert_uint_eq(mock_count(), n + 1);
	/* a re-test that passes: validated again, the reason gone */
	dd_route("SECRETVAL-ck-503", 200);
	req("POST", vpath, E.tok_admin, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(check_of(&r), "validated");
	h_resp_free(&r);

	/* no answer within probe_timeout_ms */
	snprintf(path, sizeof(path), "%s", store_checked(DD,
	    DD_BODY("SECRETVAL-ck-slow"), NULL,
	    "result=unreachable; reason=timeout"));
	ck_assert_str_eq(stored_check("datadog", path), "unreachable/timeout");

	/* sentry has no check in the catalog */
	snprintf(path, sizeof(path), "%s", store_checked(
	    "/v1/integrations/sentry/credentials",
	    "{\"credentials\":{\"auth_token\":\"SECRETVAL-ck-sentry\"}}", NULL,
	    "result=unreachable; reason=no_check"));
	ck_assert_str_eq(stored_check("sentry", path), "unreachable/no_check");
}
END_TEST

/*
 * fenced: without probe_origin_override, a check URL whose host resolves
 * to a loopback address is never connected to.  The store runs the web
 * program as a CGI on the suite's data with a catalog whose datadog
 * check goes to https://localhost/; the record then reads through
 * lighttpd like any other.
 */
START_TEST(check_fenced)
{
	static const char	 body[] = DD_BODY("SECRETVAL-ck-fenced");
	struct json_object	*cat, *ps, *p, *v, *one;
	char			 conf[700], catp[700], in[700], out[700];
	char			 cmd[8192], *text, *id;
	FILE			*f;
	size_t			 i, n;

	snprintf(catp, sizeof(catp), "%s/etc/catalog.json", E.srcdir);
	ck_assert_ptr_nonnull(cat = json_object_from_file(catp));
	ps = json_object_object_get(cat, "providers");
	one = json_object_new_array();
	for (i = 0; i < json_object_array_length(ps); i++) {
		p = json_object_array_get_idx(ps, i);
		if (strcmp(js(p, "id"), "datadog") != 0)
			continue;
		v = json_object_object_get(p, "validation");
		json_object_object_add(v, "url", json_object_new_string(
		    "https://localhost/api/v2/validate_keys"));
		json_object_array_add(one, json_object_get(p));
	}
	ck_assert_uint_eq(json_object_array_length(one), 1);
	json_object_object_add(cat, "providers", one);
	snprintf(catp, sizeof(catp), "%s/fenced-catalog.json", E.dir);
	ck_assert_int_eq(json_object_to_file(catp, cat), 0);
	json_object_put(cat);

	snprintf(conf, sizeof(conf), "%s/fenced.conf", E.dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "data_dir = data\nkeyring = keyring\n"
	    "jwt_secret_file = jwt.secret\njwt_issuer = https://issuer.test\n"
	    "jwt_audience = credstore\ncatalog = fenced-catalog.json\n"
	    "probe_timeout_ms = 1500\n");
	fclose(f);
	snprintf(in, sizeof(in), "%s/fenced.in", E.dir);
	ck_assert_ptr_nonnull(f = fopen(in, "w"));
	fputs(body, f);
	fclose(f);
	snprintf(out, sizeof(out), "%s/fenced.out", E.dir);
	n = mock_count();
	snprintf(cmd, sizeof(cmd), "env -i CREDSTORE_CONFIG=%s "
	    "REQUEST_METHOD=POST REQUEST_URI=%s CONTENT_TYPE=%s "
	    "CONTENT_LENGTH=%zu HTTP_AUTHORIZATION='Bearer %s' %s <%s >%s "
	    "2>%s.err", conf, DD, JSON, strlen(body), E.tok_admin, E.fcgi, in,
	    out, out);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_ptr_nonnull(text = h_slurp(out, NULL));
	ck_assert_msg(strstr(text, "Status: 201") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\r\nCredential-Check: result=unreachable; "
	    "reason=fenced\r\n") != NULL, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "\"status\":\"unverified\""));
	ck_assert_ptr_nonnull(id = strstr(text, "\"credentialId\":\"crd_"));
	id += strlen("\"credentialId\":\"");
	id[30] = '\0';
	ck_assert_str_eq(stored_check("datadog", id), "unreachable/fenced");
	free(text);
	ck_assert_uint_eq(mock_count(), n);
}
END_TEST

/* After a clean shutdown: no sanitizer report (sanitizer builds only). */
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
	Suite		*s;
	TCase		*tc;
	SRunner		*sr;
	int		 failed;
	struct h_opts	 o = { .procs = 2 };

	signal(SIGPIPE, SIG_IGN);
	h_setup(&E, &o);
	s = suite_create("e2e_lifecycle");
	tc = tcase_create("lifecycle");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, catalog_endpoints);
	tcase_add_test(tc, paging_120);
	tcase_add_test(tc, list_items_match_get);
	tcase_add_test(tc, delete_and_connections);
	tcase_add_test(tc, retest_flips_status);
	tcase_add_test(tc, put_and_patch);
	tcase_add_test(tc, tenant_b_sees_nothing);
	tcase_add_loop_test(tc, catalog_probes, 0,
	    (int)(sizeof(pcases) / sizeof(pcases[0])));
	tcase_add_test(tc, audit_trail);
	tcase_add_test(tc, rotation_under_load);
	tcase_add_test(tc, backup_while_writing);
	tcase_add_test(tc, check_outcomes);
	tcase_add_test(tc, check_fenced);
	tcase_add_test(tc, sanitizers_quiet);
	tcase_add_test(tc, audit_tamper);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_teardown(&E);
	return failed == 0 ? 0 : 1;
}
