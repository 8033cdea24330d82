/*
 * End-to-end tests of the store endpoint (issue: the store endpoint, end
 * to end): the real credstore.fcgi behind a real lighttpd with two
 * FastCGI processes, the mock provider on another loopback port, real
 * Berkeley DB on disk.  Every secret used here contains "SECRETVAL" so
 * that the last test can prove none was written in clear anywhere.
 */
#include "cs_build.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "api.h"
#include "catalog.h"
#include "harness.h"

static struct h_env E;
static FILE *responses;		/* every response body, for the leak test */

#define JSON	"application/json"
#define FORM	"application/x-www-form-urlencoded"
#define DD	"/v1/integrations/datadog/credentials"
#define SENTRY	"/v1/integrations/sentry/credentials"

static void
setup_routes(void)
{
	ck_assert_int_eq(h_mock_reset(&E), 0);
	/* datadog: answer by API key */
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"status\":404,\"body\":\"{}\"}"), 0);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"SECRETVAL-dd-good\"},"
	    "\"status\":200,\"body\":\"{\\\"valid\\\":true}\"}"), 0);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"SECRETVAL-dd-bad\"},"
	    "\"status\":403,\"body\":\"{\\\"errors\\\":[\\\"Forbidden\\\"]}\"}"), 0);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"SECRETVAL-dd-5xx\"},"
	    "\"status\":503,\"body\":\"down\"}"), 0);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"SECRETVAL-dd-hang\"},"
	    "\"status\":200,\"delayMs\":4000}"), 0);
	/* slack: 200 either way, verdict in the body */
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/auth.test\","
	    "\"match\":{\"header\":\"Authorization\",\"equals\":\"Bearer SECRETVAL-xoxb-good\"},"
	    "\"status\":200,\"body\":\"{\\\"ok\\\":true,\\\"team\\\":\\\"t\\\"}\"}"), 0);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/auth.test\","
	    "\"match\":{\"header\":\"Authorization\",\"equals\":\"Bearer SECRETVAL-xoxb-bad\"},"
	    "\"status\":200,\"body\":\"{\\\"ok\\\":false,\\\"error\\\":\\\"invalid_auth\\\"}\"}"), 0);
}

/* One request; its body goes to the responses log. */
static void
req(const char *method, const char *path, const char *token,
    const char *ctype, const char *body, const char *const *hdrs,
    struct h_resp *r)
{
	int rc = h_req(&E, method, path, token, ctype, body, hdrs, r);

	ck_assert_msg(rc == 0, "%s %s: transport error", method, path);
	if (r->body != NULL)
		fprintf(responses, "%s\n%s\n", r->headers, r->body);
	fflush(responses);
}

static size_t
count_records(const char *tenant)
{
	char	*out = NULL;
	size_t	 n;
	int	 rc;

	if (tenant != NULL)
		rc = h_admin(&E, &out, "list", "--tenant", tenant, NULL);
	else
		rc = h_admin(&E, &out, "list", NULL);
	ck_assert_int_eq(rc, 0);
	n = h_lines(out);
	free(out);
	return n;
}

static void
assert_error(const struct h_resp *r, long status, const char *code)
{
	ck_assert_msg(r->status == status, "status %ld, want %ld: %s",
	    r->status, status, r->body);
	ck_assert_str_eq(h_errcode(r), code);
	ck_assert_str_eq(h_header(r, "Content-Type"), "application/json");
}

/* The detail list of an error body as "field:reason," text. */
static char *
details(const struct h_resp *r)
{
	struct json_object	*o, *e, *d;
	static char		 out[4096];
	size_t			 i, n, len = 0;

	out[0] = '\0';
	if ((o = h_json(r)) == NULL)
		return out;
	if (json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "details", &d)) {
		n = json_object_array_length(d);
		for (i = 0; i < n; i++) {
			struct json_object *x = json_object_array_get_idx(d, i);

			len += (size_t)snprintf(out + len, sizeof(out) - len,
			    "%s:%s,", json_object_get_string(
			    json_object_object_get(x, "field")),
			    json_object_get_string(
			    json_object_object_get(x, "reason")));
		}
	}
	json_object_put(o);
	return out;
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static int
matches(const char *re, const char *s)
{
	regex_t	r;
	int	rc;

	if (s == NULL || regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	rc = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return rc;
}

#define ID_RE	"^crd_[0-7][0-9A-HJKMNP-TV-Z]{25}$"
#define TIME_RE	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"

START_TEST(healthz_ok)
{
	struct h_resp r;

	req("GET", "/healthz", NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":\"ok\"}");
	ck_assert_str_eq(h_header(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(h_header(&r, "Cache-Control"), "no-store");
	h_resp_free(&r);
}
END_TEST

START_TEST(store_validated)
{
	struct h_resp		 r, g;
	struct json_object	*o, *reqs, *last, *hd;
	const char		*id;
	char			 loc[256], path[300];
	size_t			 before = count_records("acme"), n;
	time_t			 t0 = time(NULL);

	setup_routes();
	req("POST", DD, E.tok_admin, JSON, "{\"credentials\":{"
	    "\"api_key\":\"SECRETVAL-dd-good\",\"application_key\":"
	    "\"SECRETVAL-app-1\"},\"label\":\"Production\"}", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(h_header(&r, "Content-Type"), "application/json");
	o = h_json(&r);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_object_length(o), 5);
	id = jstr(o, "credentialId");
	ck_assert_msg(matches(ID_RE, id), "id %s", id);
	ck_assert_str_eq(jstr(o, "provider"), "datadog");
	ck_assert_str_eq(jstr(o, "label"), "Production");
	ck_assert_str_eq(jstr(o, "status"), "validated");
	ck_assert(matches(TIME_RE, jstr(o, "createdAt")));
	snprintf(loc, sizeof(loc), "%s/%s", DD, id);
	ck_assert_str_eq(h_header(&r, "Location"), loc);
	(void)t0;

	/* the probe carried the submitted values in the catalog headers */
	reqs = h_mock_requests(&E);
	ck_assert_ptr_nonnull(reqs);
	n = json_object_array_length(reqs);
	ck_assert_uint_ge(n, 1);
	last = json_object_array_get_idx(reqs, n - 1);
	ck_assert_str_eq(jstr(last, "method"), "GET");
	ck_assert_str_eq(jstr(last, "path"), "/api/v2/validate_keys");
	hd = json_object_object_get(last, "headers");
	ck_assert_str_eq(jstr(hd, "DD-API-KEY"), "SECRETVAL-dd-good");
	ck_assert_str_eq(jstr(hd, "DD-APPLICATION-KEY"), "SECRETVAL-app-1");
	json_object_put(reqs);

	/* it is there, in the store and through the API */
	ck_assert_uint_eq(count_records("acme"), before + 1);
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	req("GET", path, E.tok_reader, NULL, NULL, NULL, &g);
	ck_assert_int_eq(g.status, 200);
	ck_assert(strstr(g.body, "SECRETVAL") == NULL);
	ck_assert(strstr(g.body, "\"fields\":[\"api_key\",\"application_key\",\"site\"]") != NULL);
	h_resp_free(&g);
	json_object_put(o);
	h_resp_free(&r);
}
END_TEST

START_TEST(store_unverified_no_check)
{
	struct h_resp		 r;
	struct json_object	*o, *reqs;
	size_t			 nbefore;

	setup_routes();
	reqs = h_mock_requests(&E);
	nbefore = json_object_array_length(reqs);
	json_object_put(reqs);
	/* sentry has no validation block in the catalog */
	req("POST", "/v1/integrations/sentry/credentials", E.tok_admin, JSON,
	    "{\"credentials\":{\"auth_token\":\"SECRETVAL-sentry\"}}", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "status"), "unverified");
	ck_assert(json_object_object_get(o, "label") == NULL);
	reqs = h_mock_requests(&E);
	ck_assert_uint_eq(json_object_array_length(reqs), nbefore);
	json_object_put(reqs);
	json_object_put(o);
	h_resp_free(&r);
}
END_TEST

START_TEST(store_unverified_5xx_and_timeout)
{
	struct h_resp		 r;
	struct json_object	*o;

	setup_routes();
	req("POST", DD, E.tok_admin, JSON, "{\"credentials\":{"
	    "\"api_key\":\"SECRETVAL-dd-5xx\",\"application_key\":\"SECRETVAL-a\"}}",
	    NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "status"), "unverified");
	json_object_put(o);
	h_resp_free(&r);

	/* the provider hangs for 4 s; probe_timeout_ms is 1500 */
	req("POST", DD, E.tok_admin, JSON, "{\"credentials\":{"
	    "\"api_key\":\"SECRETVAL-dd-hang\",\"application_key\":\"SECRETVAL-a\"}}",
	    NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_msg(r.seconds < 3.5, "took %.2f s", r.seconds);
	ck_assert_msg(r.seconds >= 1.4, "took only %.2f s", r.seconds);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "status"), "unverified");
	json_object_put(o);
	h_resp_free(&r);
}
END_TEST

START_TEST(store_rejected_422_nothing_stored)
{
	struct h_resp	r;
	size_t		before;

	setup_routes();
	before = count_records(NULL);
	req("POST", DD, E.tok_admin, JSON, "{\"credentials\":{"
	    "\"api_key\":\"SECRETVAL-dd-bad\",\"application_key\":\"SECRETVAL-a\"}}",
	    NULL, &r);
	assert_error(&r, 422, "credential_validation_failed");
	h_resp_free(&r);
	ck_assert_uint_eq(count_records(NULL), before);
}
END_TEST

START_TEST(slack_body_condition)
{
	struct h_resp		 r;
	struct json_object	*o;
	size_t			 before;

	setup_routes();
	req("POST", "/v1/integrations/slack/credentials", E.tok_admin, JSON,
	    "{\"credentials\":{\"bot_token\":\"SECRETVAL-xoxb-good\"}}", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "status"), "validated");
	json_object_put(o);
	h_resp_free(&r);

	before = count_records(NULL);
	req("POST", "/v1/integrations/slack/credentials", E.tok_admin, JSON,
	    "{\"credentials\":{\"bot_token\":\"SECRETVAL-xoxb-bad\"}}", NULL, &r);
	assert_error(&r, 422, "credential_validation_failed");
	h_resp_free(&r);
	ck_assert_uint_eq(count_records(NULL), before);
}
END_TEST

START_TEST(auth_errors)
{
	struct h_resp	 r;
	char		*tok, claims[1024];
	time_t		 now = time(NULL);
	const char	*body = "{\"credentials\":{\"api_key\":\"SECRETVAL-dd-good\","
	    "\"application_key\":\"SECRETVAL-a\"}}";
	size_t		 before = count_records(NULL);
	/* claims that fail one check each: iss, aud, tenant, exp, nbf */
	static const struct {
		const char	*iss, *aud;
		int		 tenant;
		long		 exp, nbf;	/* relative to now; 0: absent */
	} bad[] = {
		{ "https://issuer.test", "credstore", 1, -120, 0 },
		{ "https://issuer.test", "credstore", 1, 600, 300 },
		{ "https://evil.test", "credstore", 1, 600, 0 },
		{ "https://issuer.test", "other", 1, 600, 0 },
		{ "https://issuer.test", "credstore", 0, 600, 0 },
		{ "https://issuer.test", "credstore", 1, 0, 0 },
	};
	size_t i;

	/* no token: no error= in the challenge */
	req("POST", DD, NULL, JSON, body, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	ck_assert_str_eq(h_header(&r, "WWW-Authenticate"),
	    "Bearer realm=\"credstore\"");
	h_resp_free(&r);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = snprintf(claims, sizeof(claims), "{\"sub\":\"x\","
		    "\"role\":\"admin\",\"iss\":\"%s\",\"aud\":\"%s\"",
		    bad[i].iss, bad[i].aud);

		if (bad[i].tenant)
			n += snprintf(claims + n, sizeof(claims) - (size_t)n,
			    ",\"org_id\":\"acme\"");
		if (bad[i].exp)
			n += snprintf(claims + n, sizeof(claims) - (size_t)n,
			    ",\"exp\":%ld", (long)now + bad[i].exp);
		if (bad[i].nbf)
			n += snprintf(claims + n, sizeof(claims) - (size_t)n,
			    ",\"nbf\":%ld", (long)now + bad[i].nbf);
		snprintf(claims + n, sizeof(claims) - (size_t)n, "}");
		tok = h_mint(&E, claims);
		req("POST", DD, tok, JSON, body, NULL, &r);
		assert_error(&r, 401, "unauthorized");
		ck_assert_str_eq(h_header(&r, "WWW-Authenticate"),
		    "Bearer realm=\"credstore\", error=\"invalid_token\"");
		h_resp_free(&r);
		free(tok);
	}
	/* bad signature: last character of the admin token changed */
	tok = strdup(E.tok_admin);
	tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
	req("POST", DD, tok, JSON, body, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	h_resp_free(&r);
	free(tok);
	/* alg none */
	req("POST", DD, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwib3JnX2lkIjoiYWNtZSIsInJvbGUiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.", JSON, body, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	h_resp_free(&r);
	/* malformed, and another scheme */
	req("POST", DD, "not-a-jwt", JSON, body, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	h_resp_free(&r);
	{
		const char *h[] = { "Authorization: Basic YTpi", NULL };

		req("POST", DD, NULL, JSON, body, h, &r);
		assert_error(&r, 401, "unauthorized");
		h_resp_free(&r);
	}
	/* 403: valid token without the admin role; reading is allowed */
	req("POST", DD, E.tok_reader, JSON, body, NULL, &r);
	assert_error(&r, 403, "forbidden");
	h_resp_free(&r);
	req("GET", DD, E.tok_reader, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert_uint_eq(count_records(NULL), before);
}
END_TEST

/* Tokens up to 8 KiB are accepted (the web server must let them through). */
START_TEST(token_size_limit)
{
	struct h_resp	 r;
	char		*claims, *tok, *pad;
	size_t		 padlen, toklen;
	time_t		 now = time(NULL);
	int		 round;

	for (round = 0; round < 2; round++) {
		/* find the padding that makes the token 8192 (+1) bytes */
		for (padlen = 5000; padlen < 7000; padlen++) {
			pad = malloc(padlen + 1);
			memset(pad, 'p', padlen);
			pad[padlen] = '\0';
			claims = malloc(padlen + 512);
			snprintf(claims, padlen + 512, "{\"sub\":\"x\",\"org_id\":"
			    "\"acme\",\"role\":\"viewer\",\"iss\":\"https://issuer.test\","
			    "\"aud\":\"credstore\",\"exp\":%ld,\"pad\":\"%s\"}",
			    (long)now + 600, pad);
			tok = h_mint(&E, claims);
			free(pad);
			free(claims);
			toklen = tok ? strlen(tok) : 0;
			if (toklen == (size_t)(8192 + round))
				break;
			free(tok);
			tok = NULL;
		}
		if (tok == NULL) {
			/* the signer refuses over 8 KiB: build by hand */
			ck_assert_int_eq(round, 1);
			continue;
		}
		req("GET", DD, tok, NULL, NULL, NULL, &r);
		if (round == 0)
			ck_assert_msg(r.status == 200, "8192-byte token: %ld",
			    r.status);
		else
			assert_error(&r, 401, "unauthorized");
		h_resp_free(&r);
		free(tok);
	}
	/* 8193 bytes, whatever its content */
	tok = malloc(8194);
	memcpy(tok, E.tok_reader, strlen(E.tok_reader));
	memset(tok + strlen(E.tok_reader), 'A', 8193 - strlen(E.tok_reader));
	tok[8193] = '\0';
	req("GET", DD, tok, NULL, NULL, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	h_resp_free(&r);
	free(tok);
}
END_TEST

START_TEST(not_found_and_method)
{
	struct h_resp r;

	req("POST", "/v1/integrations/nosuch/credentials", E.tok_admin, JSON,
	    "{\"credentials\":{}}", NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("POST", "/v1/integrations/..%2Fetc/credentials", E.tok_admin, JSON,
	    "{\"credentials\":{}}", NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("GET", "/v1/nothing", E.tok_admin, NULL, NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("GET", DD "/crd_01HX9VTPQR3KF8MZWBYD5N6JCE", E.tok_admin, NULL,
	    NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("DELETE", DD, E.tok_admin, NULL, NULL, NULL, &r);
	assert_error(&r, 405, "method_not_allowed");
	ck_assert_str_eq(h_header(&r, "Allow"), "GET, HEAD, POST");
	h_resp_free(&r);
}
END_TEST

struct vcase {
	const char	*provider;
	const char	*ctype;
	const char	*body;
	long		 status;
	const char	*code;
	const char	*details;	/* NULL: not checked */
};

START_TEST(validation_errors)
{
	static char big[5000], toolong[5200], label[5200], huge[20000];
	const struct vcase cases[] = {
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":\"SECRETVAL-k\"}}",
		    400, "validation_error",
		    "credentials.application_key:required," },
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":\"SECRETVAL-k\","
		    "\"application_key\":\"SECRETVAL-a\",\"extra\":\"x\"}}",
		    400, "validation_error", "credentials.extra:unknown_field," },
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":42,"
		    "\"application_key\":\"SECRETVAL-a\"}}",
		    400, "validation_error", "credentials.api_key:must_be_string," },
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":\"\","
		    "\"application_key\":\"SECRETVAL-a\"}}",
		    400, "validation_error", "credentials.api_key:empty," },
		{ "datadog", JSON, toolong, 400, "validation_error",
		    "credentials.api_key:too_long," },
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":\"SECRETVAL-k\","
		    "\"application_key\":\"SECRETVAL-a\"},\"label\":7}",
		    400, "validation_error", "label:must_be_string," },
		{ "datadog", JSON, label, 400, "validation_error", "label:too_long," },
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":\"SECRETVAL-k\"",
		    400, "validation_error", "body:malformed_json," },
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":\"SECRETVAL-k\","
		    "\"api_key\":\"SECRETVAL-k2\",\"application_key\":\"x\"}}",
		    400, "validation_error", "body:duplicate_key," },
		{ "datadog", JSON, "[1,2]", 400, "validation_error",
		    "body:must_be_object," },
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":\"SECRETVAL-k\","
		    "\"application_key\":\"SECRETVAL-a\",\"site\":\"evil.example\"}}",
		    400, "validation_error", "credentials.site:not_allowed," },
		{ "datadog", JSON, "{\"credentials\":{\"api_key\":\"SECRETVAL\\u0001k\","
		    "\"application_key\":\"SECRETVAL-a\"}}",
		    400, "validation_error", "credentials.api_key:invalid_characters," },
		{ "datadog", JSON, "{}", 400, "validation_error",
		    "credentials:required," },
		{ "slack-oauth", JSON, "{\"credentials\":{}}", 400,
		    "validation_error", "provider:unsupported_auth_type," },
		{ "datadog", "text/plain", "hello", 415, "unsupported_media_type",
		    NULL },
		{ "datadog", NULL, "{}", 415, "unsupported_media_type", NULL },
		{ "datadog", JSON, huge, 413, "payload_too_large", NULL },
		{ "datadog", FORM, "credentials%5Bapi_key%5D=%zz", 400,
		    "validation_error", "body:malformed_form," },
	};
	struct h_resp	 r;
	char		 path[256];
	size_t		 i, before = count_records(NULL);

	memset(big, 'k', 4097);
	big[4097] = '\0';
	snprintf(toolong, sizeof(toolong), "{\"credentials\":{\"api_key\":\"%s\","
	    "\"application_key\":\"SECRETVAL-a\"}}", big);
	memset(big, 'l', 201);
	big[201] = '\0';
	snprintf(label, sizeof(label), "{\"credentials\":{\"api_key\":\"SECRETVAL-k\","
	    "\"application_key\":\"SECRETVAL-a\"},\"label\":\"%s\"}", big);
	memset(huge, ' ', sizeof(huge) - 1);
	huge[0] = '{';
	huge[sizeof(huge) - 2] = '}';
	huge[sizeof(huge) - 1] = '\0';

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "/v1/integrations/%s/credentials",
		    cases[i].provider);
		req("POST", path, E.tok_admin, cases[i].ctype, cases[i].body,
		    NULL, &r);
		ck_assert_msg(r.status == cases[i].status,
		    "case %zu: status %ld, want %ld: %s", i, r.status,
		    cases[i].status, r.body);
		ck_assert_msg(strcmp(h_errcode(&r), cases[i].code) == 0,
		    "case %zu: code %s", i, h_errcode(&r));
		if (cases[i].details != NULL)
			ck_assert_msg(strcmp(details(&r), cases[i].details) == 0,
			    "case %zu: details %s", i, details(&r));
		ck_assert_msg(strstr(r.body, "SECRETVAL") == NULL,
		    "case %zu echoes a value", i);
		h_resp_free(&r);
	}
	/* the message of the spec example */
	req("POST", DD, E.tok_admin, JSON,
	    "{\"credentials\":{\"api_key\":\"SECRETVAL-k\"}}", NULL, &r);
	ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"validation_error\","
	    "\"message\":\"Missing required credential fields\",\"details\":"
	    "[{\"field\":\"credentials.application_key\",\"reason\":\"required\"}]}}");
	h_resp_free(&r);
	ck_assert_uint_eq(count_records(NULL), before);
}
END_TEST

START_TEST(form_post_access_token)
{
	struct h_resp		 r;
	struct json_object	*o;
	char			*body;
	size_t			 n;

	setup_routes();
	n = strlen(E.tok_admin) + 256;
	body = malloc(n);
	snprintf(body, n, "credentials%%5Bapi_key%%5D=SECRETVAL-dd-good&"
	    "credentials%%5Bapplication_key%%5D=SECRETVAL-form&label=From+a+form"
	    "&access_token=%s", E.tok_admin);
	req("POST", DD, NULL, FORM, body, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	o = h_json(&r);
	ck_assert_str_eq(jstr(o, "label"), "From a form");
	ck_assert_str_eq(jstr(o, "status"), "validated");
	json_object_put(o);
	h_resp_free(&r);

	/* two token methods at once */
	req("POST", DD, E.tok_admin, FORM, body, NULL, &r);
	assert_error(&r, 400, "validation_error");
	ck_assert_str_eq(details(&r), "access_token:duplicate_token,");
	h_resp_free(&r);
	free(body);

	/* a form without any token */
	req("POST", DD, NULL, FORM, "credentials%5Bapi_key%5D=SECRETVAL-x",
	    NULL, &r);
	assert_error(&r, 401, "unauthorized");
	h_resp_free(&r);
}
END_TEST

START_TEST(idempotency)
{
	struct h_resp		 a, b, c;
	struct json_object	*oa, *ob;
	const char		*k1[] = { "Idempotency-Key: retry-1", NULL };
	static char		 longkey[300];
	const char		*k2[] = { longkey, NULL };
	const char		*body = "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-dd-good\",\"application_key\":\"SECRETVAL-idem\"}}";
	size_t			 before;

	snprintf(longkey, sizeof(longkey), "Idempotency-Key: %0256d", 7);
	setup_routes();
	before = count_records(NULL);
	req("POST", DD, E.tok_admin, JSON, body, k1, &a);
	ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
	req("POST", DD, E.tok_admin, JSON, body, k1, &b);
	ck_assert_int_eq(b.status, 201);
	oa = h_json(&a);
	ob = h_json(&b);
	ck_assert_str_eq(jstr(oa, "credentialId"), jstr(ob, "credentialId"));
	ck_assert_str_eq(a.body, b.body);
	ck_assert_str_eq(h_header(&b, "Location"), h_header(&a, "Location") ?
	    h_header(&a, "Location") : "");
	ck_assert_uint_eq(count_records(NULL), before + 1);
	json_object_put(oa);
	json_object_put(ob);
	/* same key, another body */
	req("POST", DD, E.tok_admin, JSON, "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-dd-good\",\"application_key\":\"SECRETVAL-other\"}}",
	    k1, &c);
	assert_error(&c, 409, "idempotency_conflict");
	h_resp_free(&c);
	/* same key, another tenant: independent */
	req("POST", DD, E.tok_other, JSON, body, k1, &c);
	ck_assert_int_eq(c.status, 201);
	ck_assert_str_ne(c.body, a.body);
	h_resp_free(&c);
	ck_assert_uint_eq(count_records(NULL), before + 2);
	/* a key over 255 characters */
	req("POST", DD, E.tok_admin, JSON, body, k2, &c);
	assert_error(&c, 400, "validation_error");
	ck_assert_str_eq(details(&c), "Idempotency-Key:too_long,");
	h_resp_free(&c);
	h_resp_free(&a);
	h_resp_free(&b);
}
END_TEST

START_TEST(tenant_isolation)
{
	struct h_resp		 r;
	struct json_object	*o, *d;
	char			 path[256];
	char			 id[64];
	size_t			 i, n;

	setup_routes();
	req("POST", DD, E.tok_admin, JSON, "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-dd-good\",\"application_key\":\"SECRETVAL-iso\"}}",
	    NULL, &r);
	ck_assert_int_eq(r.status, 201);
	o = h_json(&r);
	snprintf(id, sizeof(id), "%s", jstr(o, "credentialId"));
	json_object_put(o);
	h_resp_free(&r);

	snprintf(path, sizeof(path), "%s/%s", DD, id);
	req("GET", path, E.tok_other, NULL, NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	h_resp_free(&r);
	req("GET", DD, E.tok_other, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, id) == NULL);
	o = h_json(&r);
	d = json_object_object_get(o, "data");
	n = json_object_array_length(d);
	for (i = 0; i < n; i++)
		ck_assert_str_ne(jstr(json_object_array_get_idx(d, i),
		    "credentialId"), id);
	json_object_put(o);
	h_resp_free(&r);
	req("GET", DD, E.tok_admin, NULL, NULL, NULL, &r);
	ck_assert(strstr(r.body, id) != NULL);
	h_resp_free(&r);
}
END_TEST

/* Requests the mock provider received with DD-API-KEY: key. */
static size_t
mock_count_key(const char *key)
{
	struct json_object	*reqs, *hd;
	const char		*v;
	size_t			 i, n, c = 0;

	reqs = h_mock_requests(&E);
	ck_assert_ptr_nonnull(reqs);
	n = json_object_array_length(reqs);
	for (i = 0; i < n; i++) {
		hd = json_object_object_get(json_object_array_get_idx(reqs, i),
		    "headers");
		if ((v = jstr(hd, "DD-API-KEY")) != NULL && strcmp(v, key) == 0)
			c++;
	}
	json_object_put(reqs);
	return c;
}

/*
 * Sends two first attempts with one Idempotency-Key at once, with bodies
 * a and b, while the provider check takes 1 s: both pass the lookup and
 * both reach the provider, so the second commit finds the key taken
 * (STORE_EXISTS).  r[0] and r[1] get the answers.
 */
static void
race_two(const char *tok, const char *key, const char *a, const char *b,
    struct h_resp r[2])
{
	char		 hk[128];
	const char	*hdrs[] = { hk, NULL };
	struct h_call	 k[2] = {
		{ "POST", DD, tok, JSON, a, hdrs },
		{ "POST", DD, tok, JSON, b, hdrs },
	};
	size_t		 probes = mock_count_key("SECRETVAL-dd-slow");

	snprintf(hk, sizeof(hk), "Idempotency-Key: %s", key);
	ck_assert_int_eq(h_req_many(&E, k, 2, r), 0);
	fprintf(responses, "%s\n%s\n%s\n%s\n", r[0].headers, r[0].body,
	    r[1].headers, r[1].body);
	fflush(responses);
	/* the race happened: neither attempt saw the other's commit */
	ck_assert_uint_eq(mock_count_key("SECRETVAL-dd-slow"), probes + 2);
}

#define RACE_BODY(app)	"{\"credentials\":{\"api_key\":\"SECRETVAL-dd-slow\"," \
	"\"application_key\":\"" app "\"}}"

/*
 * The race of two first attempts with one Idempotency-Key (two FastCGI
 * processes): the loser is answered like a retry, so another body is
 * 409 idempotency_conflict (not the winner's 201) and the same body gets
 * the winner's answer; one record either way.
 */
START_TEST(idempotency_race)
{
	struct h_resp	 r[2];
	char		*tok;
	int		 w;

	setup_routes();
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"SECRETVAL-dd-slow\"},"
	    "\"status\":200,\"delayMs\":1000,\"body\":\"{}\"}"), 0);
	ck_assert_int_eq(h_admin(&E, &tok, "token", "--sub", "racer", "--tenant",
	    "race", "--role", "admin", NULL), 0);
	tok[strcspn(tok, "\n")] = '\0';

	/* different bodies: one 201, one 409 */
	race_two(tok, "race-1", RACE_BODY("SECRETVAL-race-a"),
	    RACE_BODY("SECRETVAL-race-b"), r);
	w = r[0].status == 201 ? 0 : 1;
	ck_assert_msg(r[w].status == 201, "no 201: %ld %s / %ld %s",
	    r[0].status, r[0].body, r[1].status, r[1].body);
	ck_assert_msg(r[!w].status == 409, "the loser got %ld: %s",
	    r[!w].status, r[!w].body);
	assert_error(&r[!w], 409, "idempotency_conflict");
	ck_assert_ptr_null(h_header(&r[!w], "Location"));
	ck_assert_uint_eq(count_records("race"), 1);
	h_resp_free(&r[0]);
	h_resp_free(&r[1]);

	/* the same body: both get the winner's 201 */
	race_two(tok, "race-2", RACE_BODY("SECRETVAL-race-c"),
	    RACE_BODY("SECRETVAL-race-c"), r);
	ck_assert_msg(r[0].status == 201 && r[1].status == 201,
	    "%ld %s / %ld %s", r[0].status, r[0].body, r[1].status, r[1].body);
	ck_assert_str_eq(r[0].body, r[1].body);
	ck_assert_ptr_nonnull(h_header(&r[0], "Location"));
	ck_assert_str_eq(h_header(&r[1], "Location"), h_header(&r[0], "Location"));
	ck_assert_uint_eq(count_records("race"), 2);
	h_resp_free(&r[0]);
	h_resp_free(&r[1]);
	free(tok);
}
END_TEST

/* A listening socket on a free loopback port; *port gets the port. */
static int
listener(int *port)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Requests the mock provider received for path. */
static size_t
mock_count_path(const char *path)
{
	struct json_object	*reqs;
	const char		*v;
	size_t			 i, n, c = 0;

	reqs = h_mock_requests(&E);
	ck_assert_ptr_nonnull(reqs);
	n = json_object_array_length(reqs);
	for (i = 0; i < n; i++)
		if ((v = jstr(json_object_array_get_idx(reqs, i), "path")) !=
		    NULL && strcmp(v, path) == 0)
			c++;
	json_object_put(reqs);
	return c;
}

static const int redirects[] = { 302, 307 };

/*
 * A check answered with a redirect: not followed (SPEC 9), neither to
 * another path of the provider (plain http, relative Location) nor to an
 * https URL on another port (nothing may even connect there).  A 3xx is
 * in neither list: unverified, stored, 201.
 */
START_TEST(store_redirect_not_followed)
{
	struct h_resp		 r;
	struct json_object	*o;
	struct pollfd		 pfd;
	char			 route[512], body[256];
	const char		*how[] = { "rel", "abs" };
	int			 port, fd, i, code = redirects[_i];

	setup_routes();
	fd = listener(&port);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/redirect-target\","
	    "\"status\":200,\"body\":\"{}\"}"), 0);
	snprintf(route, sizeof(route), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"SECRETVAL-dd-rel\"},"
	    "\"status\":%d,\"headers\":{\"Location\":\"/redirect-target\"}}",
	    code);
	ck_assert_int_eq(h_mock_route(&E, route), 0);
	snprintf(route, sizeof(route), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"SECRETVAL-dd-abs\"},"
	    "\"status\":%d,\"headers\":{\"Location\":"
	    "\"https://127.0.0.1:%d/redirect-target\"}}", code, port);
	ck_assert_int_eq(h_mock_route(&E, route), 0);
	for (i = 0; i < 2; i++) {
		snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":"
		    "\"SECRETVAL-dd-%s\",\"application_key\":\"SECRETVAL-r\"}}",
		    how[i]);
		req("POST", DD, E.tok_admin, JSON, body, NULL, &r);
		ck_assert_msg(r.status == 201, "%d %s: %ld %s", code, how[i],
		    r.status, r.body);
		o = h_json(&r);
		ck_assert_str_eq(jstr(o, "status"), "unverified");
		json_object_put(o);
		h_resp_free(&r);
		ck_assert_uint_eq(mock_count_key(i == 0 ? "SECRETVAL-dd-rel" :
		    "SECRETVAL-dd-abs"), 1);
		ck_assert_msg(mock_count_path("/redirect-target") == 0,
		    "%d %s: the redirect was followed", code, how[i]);
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		ck_assert_msg(poll(&pfd, 1, 100) == 0,
		    "%d %s: credstore connected to the Location", code, how[i]);
	}
	close(fd);
}
END_TEST

/* 4 clients, 400 stores, two FastCGI processes. */
START_TEST(concurrency_400)
{
	pid_t		 kids[4];
	int		 i, j, st, failures = 0;
	char		*out, *line, *save, ids[400][40];
	size_t		 n = 0, a, b;
	char		 tok_cmd[64];
	char		*tok;

	setup_routes();
	if (h_admin(&E, &tok, "token", "--sub", "load", "--tenant", "conc",
	    "--role", "admin", NULL) != 0)
		ck_abort_msg("token");
	tok[strcspn(tok, "\n")] = '\0';
	for (i = 0; i < 4; i++) {
		if ((kids[i] = fork()) == 0) {
			int bad = 0;

			for (j = 0; j < 100; j++) {
				struct h_resp r;
				char body[256];

				snprintf(body, sizeof(body), "{\"credentials\":{"
				    "\"api_key\":\"SECRETVAL-dd-good\","
				    "\"application_key\":\"SECRETVAL-c%d-%d\"},"
				    "\"label\":\"c%d-%d\"}", i, j, i, j);
				if (h_req(&E, "POST", DD, tok, JSON, body, NULL,
				    &r) != 0 || r.status != 201)
					bad++;
				h_resp_free(&r);
			}
			_exit(bad > 255 ? 255 : bad);
		}
	}
	for (i = 0; i < 4; i++) {
		waitpid(kids[i], &st, 0);
		failures += WIFEXITED(st) ? WEXITSTATUS(st) : 100;
	}
	free(tok);
	ck_assert_int_eq(failures, 0);
	snprintf(tok_cmd, sizeof(tok_cmd), "conc");
	ck_assert_int_eq(h_admin(&E, &out, "list", "--tenant", tok_cmd, NULL), 0);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "\"credentialId\":\"");

		ck_assert_ptr_nonnull(p);
		ck_assert_uint_lt(n, 400);
		snprintf(ids[n++], sizeof(ids[0]), "%.30s", p + 16);
	}
	free(out);
	ck_assert_uint_eq(n, 400);
	for (a = 0; a < n; a++)
		for (b = a + 1; b < n; b++)
			ck_assert_str_ne(ids[a], ids[b]);
	ck_assert_int_eq(h_admin(&E, &out, "verify", NULL), 0);
	ck_assert(strstr(out, "failed: 0") != NULL);
	free(out);
}
END_TEST

/*
 * kill -9 of a FastCGI process while stores are in flight: every store
 * that got a 201 is still there and decrypts, and the service answers.
 */
START_TEST(crash_kill9)
{
	pid_t		 kids[2], pids[8];
	int		 i, j, st, np, kills = 0;
	char		 idfile[700], *ids, *line, *save, path[300], *tok, *out;
	size_t		 ok = 0;
	long long	 t0;
	FILE		*f;

#if defined(__SANITIZE_THREAD__) || defined(CS_TSAN)
	/*
	 * Under TSan one read-back after the kills once got no answer within
	 * the harness's 60 s (CI, 2026-12-07; most likely a process stuck on
	 * a dead one's Berkeley DB mutex, which now ends itself: see the
	 * README's Known gaps).  The crash test runs in the normal and ASan
	 * builds; CS_TSAN_KILL=1 runs it under TSan anyway, to look for it.
	 */
	if (getenv("CS_TSAN_KILL") == NULL) {
		fprintf(stderr, "crash_kill9: SKIPPED under TSan\n");
		return;
	}
#endif
	setup_routes();
	if (h_admin(&E, &tok, "token", "--sub", "crash", "--tenant", "crash",
	    "--role", "admin", NULL) != 0)
		ck_abort_msg("token");
	tok[strcspn(tok, "\n")] = '\0';
	snprintf(idfile, sizeof(idfile), "%s/crash-ids", E.dir);
	for (i = 0; i < 2; i++) {
		if ((kids[i] = fork()) == 0) {
			FILE *o = fopen(idfile, "a");

			for (j = 0; j < 150; j++) {
				struct h_resp		 r;
				struct json_object	*obj;
				char			 body[256];

				snprintf(body, sizeof(body), "{\"credentials\":{"
				    "\"api_key\":\"SECRETVAL-dd-good\","
				    "\"application_key\":\"SECRETVAL-k%d-%d\"}}",
				    i, j);
				if (h_req(&E, "POST", DD, tok, JSON, body, NULL,
				    &r) == 0 && r.status == 201 &&
				    (obj = h_json(&r)) != NULL) {
					fprintf(o, "%s\n", jstr(obj,
					    "credentialId"));
					fflush(o);
					json_object_put(obj);
				}
				h_resp_free(&r);
			}
			fclose(o);
			_exit(0);
		}
	}
	/* kill FastCGI processes while the clients run */
	for (i = 0; i < 3; i++) {
		usleep(300000);
		np = h_fcgi_pids(&E, pids, 8);
		if (np > 0 && kill(pids[0], SIGKILL) == 0)
			kills++;
	}
	for (i = 0; i < 2; i++)
		waitpid(kids[i], &st, 0);
	ck_assert_int_ge(kills, 1);

	f = fopen(idfile, "r");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	{
		struct h_resp r;

		/* the service answers (lighttpd restarted the backend) */
		for (i = 0; i < 50; i++) {
			req("GET", "/healthz", NULL, NULL, NULL, NULL, &r);
			st = (int)r.status;
			h_resp_free(&r);
			if (st == 200)
				break;
			usleep(100000);
		}
		ck_assert_int_eq(st, 200);
		h_admin(&E, &ids, "list", "--tenant", "crash", NULL);
		free(ids);
		{
			FILE	*g = fopen(idfile, "r");
			char	 buf[1 << 16];
			size_t	 n = fread(buf, 1, sizeof(buf) - 1, g);

			buf[n] = '\0';
			fclose(g);
			ids = strdup(buf);
		}
		t0 = h_now_ms();
		for (line = strtok_r(ids, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			snprintf(path, sizeof(path), "%s/%s", DD, line);
			/* a process stuck after the kills ends itself */
			ck_assert_msg(h_req_recovered(&E, t0, "GET", path, tok,
			    NULL, NULL, NULL, &r) == 0, "GET %s: 502, 503 or "
			    "no answer from credstore for %d ms", path,
			    H_RECOVER_MS);
			ck_assert_msg(r.status == 200, "%s lost: %ld %.300s",
			    line, r.status, r.body != NULL ? r.body : "");
			h_resp_free(&r);
			ok++;
		}
		free(ids);
		ck_assert_uint_gt(ok, 0);
		fprintf(stderr, "crash test: %d kills, %zu stores answered 201,"
		    " all found\n", kills, ok);
		req("POST", DD, tok, JSON, "{\"credentials\":{\"api_key\":"
		    "\"SECRETVAL-dd-good\",\"application_key\":\"SECRETVAL-after\"}}",
		    NULL, &r);
		ck_assert_int_eq(r.status, 201);
		h_resp_free(&r);
	}
	ck_assert_int_eq(h_admin(&E, &out, "verify", NULL), 0);
	free(out);
	free(tok);
}
END_TEST

/* Runs last: no plaintext value anywhere but encrypted. */
START_TEST(no_plaintext_anywhere)
{
	char path[700];

	fflush(responses);
	ck_assert_msg(!h_grep_tree(E.data_dir, "SECRETVAL"),
	    "a credential value is in clear under data_dir");
	ck_assert_msg(!h_grep_file(E.errlog, "SECRETVAL"),
	    "a credential value is in the error log");
	snprintf(path, sizeof(path), "%s/responses.log", E.dir);
	ck_assert_msg(!h_grep_file(path, "SECRETVAL"),
	    "a credential value is in a response");
	/* the log is there and has our lines: the test can fail */
	ck_assert(h_grep_file(E.errlog, "stored credential crd_"));
	/* and the test values did reach the provider: they exist */
	ck_assert(h_grep_file(path, "credentialId"));
}
END_TEST

/*
 * After a clean shutdown: no sanitizer report from any process.  Only a
 * sanitizer build can print a report: elsewhere, say so.
 */
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

/* 503 when the keyring cannot be opened: plain CGI mode, no server. */
START_TEST(cgi_mode_unavailable)
{
	char	 cmd[8192], conf[700], out[700];
	FILE	*f;

	snprintf(conf, sizeof(conf), "%s/broken.conf", E.dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "data_dir = data\nkeyring = missing-keyring\n"
	    "jwt_secret_file = jwt.secret\ncatalog = %s/etc/catalog.json\n",
	    E.srcdir);
	fclose(f);
	snprintf(out, sizeof(out), "%s/cgi.out", E.dir);
	snprintf(cmd, sizeof(cmd), "env -i CREDSTORE_CONFIG=%s REQUEST_METHOD=GET "
	    "REQUEST_URI=/healthz %s > %s 2>/dev/null </dev/null", conf, E.fcgi,
	    out);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_grep_file(out, "Status: 503"));
	ck_assert(h_grep_file(out, "Retry-After: 5"));
	snprintf(cmd, sizeof(cmd), "env -i CREDSTORE_CONFIG=%s REQUEST_METHOD=GET "
	    "REQUEST_URI=/v1/integrations/catalog HTTP_AUTHORIZATION='Bearer %s' "
	    "%s > %s 2>%s.err </dev/null", conf, E.tok_admin, E.fcgi, out, out);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_grep_file(out, "Status: 503"));
	ck_assert(h_grep_file(out, "\"code\":\"unavailable\""));
	snprintf(cmd, sizeof(cmd), "%s.err", out);
	ck_assert(h_grep_file(cmd, "missing-keyring: cannot open keyring"));
	/* and the working config in CGI mode answers 200 */
	snprintf(cmd, sizeof(cmd), "env -i CREDSTORE_CONFIG=%s REQUEST_METHOD=GET "
	    "REQUEST_URI=/healthz %s > %s 2>/dev/null </dev/null", E.conf,
	    E.fcgi, out);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_grep_file(out, "Status: 200 OK"));
}
END_TEST

/* Runs credstore.fcgi as a CGI program with conf; its output in out. */
static void
cgi_run(const char *conf, const char *method, const char *uri,
    const char *body, const char *out)
{
	char	cmd[8192];

	snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' | env -i CREDSTORE_CONFIG=%s "
	    "REQUEST_METHOD=%s REQUEST_URI=%s CONTENT_TYPE=application/json "
	    "CONTENT_LENGTH=%zu HTTP_AUTHORIZATION='Bearer %s' %s >%s 2>%s.err",
	    body, conf, method, uri, strlen(body), E.tok_admin, E.fcgi, out,
	    out);
	ck_assert_int_eq(system(cmd), 0);
}

/* Replaces the first from in the file at path with to. */
static void
file_replace(const char *path, const char *from, const char *to)
{
	char	*t, *p;
	size_t	 len;
	FILE	*f;

	ck_assert_ptr_nonnull(t = h_slurp(path, &len));
	ck_assert_ptr_nonnull(p = strstr(t, from));
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fwrite(t, 1, (size_t)(p - t), f);
	fputs(to, f);
	fputs(p + strlen(from), f);
	ck_assert_int_eq(fclose(f), 0);
	free(t);
}

/*
 * A CGI process checks the whole catalog once per text; data_dir's
 * catalog.checked then lets the next ones parse only what they use
 * (the log says "indexed" at debug level).  A changed catalog is seen by
 * the next request; an invalid one, even in a provider the request does
 * not use, is 503 with the error a full load gives; a mark changed by
 * hand is not trusted.
 */
START_TEST(cgi_catalog_checked_once)
{
	char	 conf[700], cat[700], src[700], mark[700], out[700], errf[720];
	char	 want[512], *t, *m1;
	size_t	 len;
	FILE	*f;

	snprintf(src, sizeof(src), "%s/etc/catalog.json", E.srcdir);
	snprintf(cat, sizeof(cat), "%s/cgi-catalog.json", E.dir);
	snprintf(conf, sizeof(conf), "%s/cgi-catalog.conf", E.dir);
	snprintf(mark, sizeof(mark), "%s/catalog.checked", E.data_dir);
	snprintf(out, sizeof(out), "%s/cgi-cat.out", E.dir);
	snprintf(errf, sizeof(errf), "%s.err", out);
	ck_assert_ptr_nonnull(t = h_slurp(src, &len));
	ck_assert_ptr_nonnull(f = fopen(cat, "w"));
	ck_assert_uint_eq(fwrite(t, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(t);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "data_dir = data\nkeyring = keyring\njwt_secret_file = "
	    "jwt.secret\ncatalog = %s\nlog_level = debug\n", cat);
	ck_assert_int_eq(fclose(f), 0);
	(void)unlink(mark);

	/* the first request checks it all and writes the mark */
	cgi_run(conf, "GET", "/v1/integrations/catalog", "", out);
	ck_assert(h_grep_file(out, "Status: 200 OK"));
	ck_assert(h_grep_file(out, "\"name\":\"Sentry\""));
	ck_assert(!h_grep_file(errf, "(indexed"));
	ck_assert_ptr_nonnull(m1 = h_slurp(mark, &len));
	ck_assert_uint_eq(len, 65);
	/* the next ones index it: the list, and a store */
	cgi_run(conf, "GET", "/v1/integrations/catalog", "", out);
	ck_assert(h_grep_file(out, "Status: 200 OK"));
	ck_assert(h_grep_file(out, "\"name\":\"Sentry\""));
	ck_assert(h_grep_file(errf, "(indexed"));
	cgi_run(conf, "POST", SENTRY, "{\"credentials\":{\"auth_token\":"
	    "\"SECRETVAL-cgi-cat\"},\"label\":\"cgi-cat\"}", out);
	ck_assert(h_grep_file(out, "Status: 201"));
	ck_assert(h_grep_file(errf, "(indexed"));

	/* changed: seen at once, checked again */
	file_replace(cat, "\"name\": \"Sentry\"", "\"name\": \"Sentry Two\"");
	cgi_run(conf, "GET", "/v1/integrations/catalog", "", out);
	ck_assert(h_grep_file(out, "\"name\":\"Sentry Two\""));
	ck_assert(!h_grep_file(errf, "(indexed"));
	cgi_run(conf, "GET", "/v1/integrations/catalog", "", out);
	ck_assert(h_grep_file(out, "\"name\":\"Sentry Two\""));
	ck_assert(h_grep_file(errf, "(indexed"));

	/* invalid in its first provider: a sentry store and /healthz fail */
	file_replace(cat, "\"secret\": true", "\"secret\": \"yes\"");
	ck_assert_ptr_null(catalog_load(cat, want, sizeof(want)));
	cgi_run(conf, "POST", SENTRY, "{\"credentials\":{\"auth_token\":"
	    "\"SECRETVAL-cgi-cat2\"},\"label\":\"cgi-cat\"}", out);
	ck_assert(h_grep_file(out, "Status: 503"));
	ck_assert_msg(h_grep_file(errf, want), "the log lacks: %s", want);
	cgi_run(conf, "GET", "/healthz", "", out);
	ck_assert(h_grep_file(out, "Status: 503"));
	file_replace(cat, "\"secret\": \"yes\"", "\"secret\": true");
	cgi_run(conf, "GET", "/healthz", "", out);
	ck_assert(h_grep_file(out, "Status: 200 OK"));
	ck_assert(h_grep_file(errf, "(indexed"));	/* the mark stayed */

	/* a mark changed by hand: checked in full, written again */
	ck_assert_ptr_nonnull(f = fopen(mark, "w"));
	fprintf(f, "%064d\n", 0);
	ck_assert_int_eq(fclose(f), 0);
	cgi_run(conf, "GET", "/healthz", "", out);
	ck_assert(h_grep_file(out, "Status: 200 OK"));
	ck_assert(!h_grep_file(errf, "(indexed"));
	cgi_run(conf, "GET", "/healthz", "", out);
	ck_assert(h_grep_file(errf, "(indexed"));
	free(m1);
}
END_TEST

/*
 * Starts credstore.fcgi as a CGI program storing a sentry credential
 * labelled label, its body not yet written: *in is the pipe to write it
 * to.  Waits until the program has blocked SIGTERM (bit 15 of SigBlk,
 * after which it opens storage and waits for the body); 0 when that
 * never happened within 5 s.
 */
static int
cgi_spawn(const char *label, const char *out, const char *errf, pid_t *pidp,
    int *in, char *body, size_t bodylen)
{
	char	 env[8][1200], *envp[9], status[700], line[256];
	int	 p[2], fd, i, blocked = 0;
	pid_t	 pid;
	FILE	*f;

	snprintf(body, bodylen, "{\"credentials\":{\"auth_token\":"
	    "\"SECRETVAL-%s\"},\"label\":\"%s\"}", label, label);
	snprintf(env[0], sizeof(env[0]), "CREDSTORE_CONFIG=%s", E.conf);
	snprintf(env[1], sizeof(env[1]), "REQUEST_METHOD=POST");
	snprintf(env[2], sizeof(env[2]),
	    "REQUEST_URI=/v1/integrations/sentry/credentials");
	snprintf(env[3], sizeof(env[3]), "CONTENT_TYPE=application/json");
	snprintf(env[4], sizeof(env[4]), "CONTENT_LENGTH=%zu", strlen(body));
	snprintf(env[5], sizeof(env[5]), "HTTP_AUTHORIZATION=Bearer %s",
	    E.tok_admin);
	snprintf(env[6], sizeof(env[6]), "GATEWAY_INTERFACE=CGI/1.1");
	snprintf(env[7], sizeof(env[7]), "REMOTE_ADDR=127.0.0.1");
	for (i = 0; i < 8; i++)
		envp[i] = env[i];
	envp[8] = NULL;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
			dup2(fd, 1);
		if ((fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
			dup2(fd, 2);
		execle(E.fcgi, E.fcgi, (char *)NULL, envp);
		_exit(127);
	}
	close(p[0]);
	*in = p[1];
	*pidp = pid;
	snprintf(status, sizeof(status), "/proc/%ld/status", (long)pid);
	for (i = 0; i < 500 && !blocked; i++) {
		if ((f = fopen(status, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (strncmp(line, "SigBlk:", 7) == 0 &&
				    (strtoull(line + 7, NULL, 16) & 0x4000) != 0)
					blocked = 1;
			fclose(f);
		}
		if (!blocked)
			usleep(10000);
	}
	usleep(200000);		/* storage open, waiting for its body */
	return blocked;
}

/*
 * A CGI request runs to its end whatever SIGTERM says (lighttpd's mod_cgi
 * sends one as soon as the answer is complete): sent while the program
 * waits for its body, it still answers 201, stores the credential and
 * exits 0.
 */
START_TEST(cgi_mode_sigterm_finishes)
{
	char	 out[700], errf[700], body[256];
	int	 in, st, blocked;
	pid_t	 pid;

#if defined(__SANITIZE_THREAD__) || defined(CS_TSAN)
	/* TSan's runtime ends the process on a SIGTERM the program blocked */
	fprintf(stderr, "cgi_mode_sigterm_finishes: SKIPPED under TSan\n");
	return;
#endif
	snprintf(out, sizeof(out), "%s/cgi-term.out", E.dir);
	snprintf(errf, sizeof(errf), "%s/cgi-term.err", E.dir);
	blocked = cgi_spawn("cgi-term", out, errf, &pid, &in, body,
	    sizeof(body));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert(write(in, body, strlen(body)) == (ssize_t)strlen(body));
	close(in);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(blocked, "SIGTERM was never blocked");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "CGI program ended with status %#x", st);
	ck_assert(h_grep_file(out, "Status: 201"));
	ck_assert(h_grep_file(out, "\"label\":\"cgi-term\""));
	ck_assert(!h_grep_file(errf, "PANIC"));
}
END_TEST

/*
 * Closing storage waits for the register file's scan lock (byte 1 of
 * __db.register, what an opening process holds while it checks who is
 * alive): held here, the CGI program answers but does not finish closing
 * until it is released.  Berkeley DB alone empties its slot without it,
 * and a scan racing that close takes the process for dead (recovery,
 * panics).
 */
START_TEST(cgi_close_waits_for_register_scan)
{
	char		 out[700], errf[700], body[256], reg[700];
	int		 in, st, hst, rfd, blocked, alive;
	pid_t		 pid;
	struct flock	 fl;

	snprintf(out, sizeof(out), "%s/cgi-reg.out", E.dir);
	snprintf(errf, sizeof(errf), "%s/cgi-reg.err", E.dir);
	snprintf(reg, sizeof(reg), "%s/__db.register", E.data_dir);
	blocked = cgi_spawn("cgi-reg", out, errf, &pid, &in, body,
	    sizeof(body));
	ck_assert(blocked);
	/* a child holds the lock: fcntl locks are per process */
	{
		int	 hold[2];
		pid_t	 holder;
		char	 c;

		ck_assert_int_eq(pipe(hold), 0);
		holder = fork();
		ck_assert_int_ne(holder, -1);
		if (holder == 0) {
			close(hold[0]);
			rfd = open(reg, O_RDWR);
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			fl.l_start = 1;
			fl.l_len = 1;
			if (rfd == -1 || fcntl(rfd, F_SETLKW, &fl) == -1)
				_exit(1);
			(void)!write(hold[1], "l", 1);
			sleep(1);	/* hold it a second, then exit */
			_exit(0);
		}
		close(hold[1]);
		ck_assert_int_eq(read(hold[0], &c, 1), 1);
		close(hold[0]);
		ck_assert(write(in, body, strlen(body)) ==
		    (ssize_t)strlen(body));
		close(in);
		usleep(500000);
		/* answered, but still waiting to close storage */
		alive = waitpid(pid, &st, WNOHANG) == 0;
		ck_assert_msg(alive,
		    "the CGI program closed storage during a scan");
		ck_assert_int_eq(waitpid(holder, &hst, 0), holder);
		ck_assert(WIFEXITED(hst) && WEXITSTATUS(hst) == 0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "CGI program ended with status %#x", st);
	ck_assert(h_grep_file(out, "Status: 201"));
	ck_assert(!h_grep_file(errf, "PANIC"));
}
END_TEST

/* A token of tenant with role (malloc'd, one line). */
static char *
tenant_token(const char *sub, const char *tenant, const char *role)
{
	char	*tok = NULL, *nl;

	ck_assert_int_eq(h_admin(&E, &tok, "token", "--sub", sub, "--tenant",
	    tenant, "--role", role, NULL), 0);
	if ((nl = strchr(tok, '\n')) != NULL)
		*nl = '\0';
	return tok;
}

/* Stores one credential for tok at provider; its id into id. */
static void
store_one(const char *tok, const char *provider, const char *body, char *id,
    size_t idlen)
{
	struct h_resp		 r;
	struct json_object	*o;
	char			 path[128];

	snprintf(path, sizeof(path), "/v1/integrations/%s/credentials",
	    provider);
	req("POST", path, tok, JSON, body, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	o = h_json(&r);
	snprintf(id, idlen, "%s", jstr(o, "credentialId"));
	json_object_put(o);
	h_resp_free(&r);
	usleep(3000);	/* a later millisecond: a later id */
}

/*
 * GET path with tok: the ids of the page as "id,id," into ids, the
 * nextCursor ("" when null) into cur.
 */
static void
list_page(const char *path, const char *tok, char *ids, size_t idslen,
    char *cur, size_t curlen)
{
	struct h_resp		 r;
	struct json_object	*o, *d, *nc;
	size_t			 i, n, len = 0;

	req("GET", path, tok, NULL, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body);
	ck_assert(strstr(r.body, "SECRETVAL") == NULL);
	o = h_json(&r);
	ck_assert(json_object_object_get_ex(o, "data", &d));
	ck_assert(json_object_object_get_ex(o, "nextCursor", &nc));
	ids[0] = '\0';
	n = json_object_array_length(d);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(ids + len, idslen - len, "%s,",
		    jstr(json_object_array_get_idx(d, i), "credentialId"));
	snprintf(cur, curlen, "%s", nc ? json_object_get_string(nc) : "");
	json_object_put(o);
	h_resp_free(&r);
}

/* Follows nextCursor from base (a query, may be "") until null. */
static void
list_all_pages(const char *base, const char *tok, char *ids, size_t idslen,
    int *pages)
{
	char	 path[512], page[512], cur[256] = "";
	size_t	 len = 0;

	ids[0] = '\0';
	*pages = 0;
	do {
		snprintf(path, sizeof(path), "/v1/integrations/credentials?"
		    "%s%s%s", base, cur[0] ? "&cursor=" : "", cur);
		list_page(path, tok, page, sizeof(page), cur, sizeof(cur));
		len += (size_t)snprintf(ids + len, idslen - len, "%s", page);
		ck_assert_int_lt(++*pages, 20);
	} while (cur[0] != '\0');
}

/*
 * GET /v1/integrations/credentials: every credential of the tenant, by
 * provider, newest first; filters, pages across providers, isolation.
 */
START_TEST(list_all_credentials)
{
	struct h_resp	 r;
	char		*adm = tenant_token("lea", "lister", "admin");
	char		*rd = tenant_token("leo", "lister", "viewer");
	char		*oth = tenant_token("lou", "lister2", "admin");
	char		 a[64], b[64], c[64], d[64], want[512], ids[512],
			 cur[256];
	int		 pages;
	const char	*dd = "{\"credentials\":{\"api_key\":\"SECRETVAL-dd-good\","
	    "\"application_key\":\"SECRETVAL-all\"}}";
	const char	*sn = "{\"credentials\":{\"auth_token\":\"SECRETVAL-sn\"}}";
	const char	*bad[] = { "provider=nope", "provider=credentials",
	    "status=bogus", "status=", "limit=0", "limit=101", "cursor=zz",
	    "cursor=Y3JkXzAx", "color=red" };
	size_t		 i;

	setup_routes();
	store_one(adm, "sentry", sn, a, sizeof(a));
	store_one(adm, "datadog", dd, b, sizeof(b));
	store_one(adm, "sentry", sn, c, sizeof(c));
	store_one(adm, "datadog", dd, d, sizeof(d));
	/* by provider (datadog before sentry), newest first; a reader */
	snprintf(want, sizeof(want), "%s,%s,%s,%s,", d, b, c, a);
	list_page("/v1/integrations/credentials", rd, ids, sizeof(ids), cur,
	    sizeof(cur));
	ck_assert_str_eq(ids, want);
	ck_assert_str_eq(cur, "");
	/* one at a time, across the providers */
	list_all_pages("limit=1", rd, ids, sizeof(ids), &pages);
	ck_assert_str_eq(ids, want);
	ck_assert_int_eq(pages, 4);
	list_all_pages("limit=3", adm, ids, sizeof(ids), &pages);
	ck_assert_str_eq(ids, want);
	ck_assert_int_eq(pages, 2);
	/* filters */
	snprintf(want, sizeof(want), "%s,%s,", c, a);
	list_all_pages("provider=sentry&limit=1", rd, ids, sizeof(ids), &pages);
	ck_assert_str_eq(ids, want);
	list_all_pages("status=unverified&limit=1", rd, ids, sizeof(ids),
	    &pages);
	ck_assert_str_eq(ids, want);
	ck_assert_int_eq(pages, 2);
	snprintf(want, sizeof(want), "%s,%s,", d, b);
	list_all_pages("status=validated", rd, ids, sizeof(ids), &pages);
	ck_assert_str_eq(ids, want);
	list_all_pages("provider=datadog&status=unverified", rd, ids,
	    sizeof(ids), &pages);
	ck_assert_str_eq(ids, "");
	list_all_pages("status=rejected", rd, ids, sizeof(ids), &pages);
	ck_assert_str_eq(ids, "");
	/* another tenant sees nothing */
	list_all_pages("", oth, ids, sizeof(ids), &pages);
	ck_assert_str_eq(ids, "");
	/* hostile or wrong queries */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[256];

		snprintf(path, sizeof(path), "/v1/integrations/credentials?%s",
		    bad[i]);
		req("GET", path, rd, NULL, NULL, NULL, &r);
		ck_assert_msg(r.status == 400, "%s: %ld", bad[i], r.status);
		assert_error(&r, 400, "validation_error");
		h_resp_free(&r);
	}
	req("GET", "/v1/integrations/credentials", NULL, NULL, NULL, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	h_resp_free(&r);
	req("POST", "/v1/integrations/credentials", adm, JSON, dd, NULL, &r);
	assert_error(&r, 405, "method_not_allowed");
	h_resp_free(&r);
	free(adm);
	free(rd);
	free(oth);
}
END_TEST

/*
 * Idempotency compares the parsed request: member order, white space and
 * the form encoding of the same values replay the 201; a changed value
 * or label is a conflict.
 */
START_TEST(idempotency_parsed)
{
	struct h_resp		 a, b;
	struct json_object	*oa, *ob;
	const char		*k[] = { "Idempotency-Key: retry-canon", NULL };
	const char		*same[] = {
	    "{ \"label\" : \"Canon\",\n  \"credentials\" : {\n"
	    "    \"application_key\" : \"SECRETVAL-canon\",\n"
	    "    \"api_key\" : \"SECRETVAL-dd-good\" } }\n",
	    "{\"credentials\":{\"api_key\":\"SECRETVAL-dd-good\","
	    "\"application_key\":\"SECRETVAL-canon\"},\"label\":\"Canon\"}" };
	const char		*form = "label=Canon&credentials%5Bapplication_key"
	    "%5D=SECRETVAL-canon&credentials%5Bapi_key%5D=SECRETVAL-dd-good";
	const char		*diff[] = {
	    "{\"credentials\":{\"api_key\":\"SECRETVAL-dd-good\","
	    "\"application_key\":\"SECRETVAL-canoN\"},\"label\":\"Canon\"}",
	    "{\"credentials\":{\"api_key\":\"SECRETVAL-dd-good\","
	    "\"application_key\":\"SECRETVAL-canon\"},\"label\":\"Canon2\"}",
	    "{\"credentials\":{\"api_key\":\"SECRETVAL-dd-good\","
	    "\"application_key\":\"SECRETVAL-canon\"}}" };
	size_t			 before, i;

	setup_routes();
	before = count_records(NULL);
	req("POST", DD, E.tok_admin, JSON, "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-dd-good\",\"application_key\":\"SECRETVAL-canon\"},"
	    "\"label\":\"Canon\"}", k, &a);
	ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
	oa = h_json(&a);
	for (i = 0; i < 3; i++) {
		req("POST", DD, E.tok_admin, i < 2 ? JSON : FORM,
		    i < 2 ? same[i] : form, k, &b);
		ck_assert_msg(b.status == 201, "%zu: %ld %s", i, b.status,
		    b.body);
		ck_assert_str_eq(h_header(&b, "Idempotent-Replayed"), "true");
		ob = h_json(&b);
		ck_assert_str_eq(jstr(oa, "credentialId"),
		    jstr(ob, "credentialId"));
		json_object_put(ob);
		h_resp_free(&b);
	}
	ck_assert_uint_eq(count_records(NULL), before + 1);
	for (i = 0; i < sizeof(diff) / sizeof(diff[0]); i++) {
		req("POST", DD, E.tok_admin, JSON, diff[i], k, &b);
		assert_error(&b, 409, "idempotency_conflict");
		h_resp_free(&b);
	}
	ck_assert_uint_eq(count_records(NULL), before + 1);
	json_object_put(oa);
	h_resp_free(&a);
}
END_TEST

/*
 * The line of the server's error log that holds both a and b, polled for
 * up to 3 s (lighttpd writes it after the answer).  Returns a malloc'd
 * copy of the line or NULL.
 */
static char *
log_line_with(const char *a, const char *b)
{
	char	 line[4096];
	FILE	*f;
	int	 tries;

	for (tries = 0; tries < 30; tries++) {
		if ((f = fopen(E.errlog, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (strstr(line, a) != NULL &&
				    strstr(line, b) != NULL) {
					fclose(f);
					return strdup(line);
				}
			fclose(f);
		}
		usleep(100000);
	}
	return NULL;
}

#define ULID_RE	"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"

/* A route row's path as the OpenAPI document writes it. */
static void
route_path(const struct route_def *d, char *out, size_t n)
{
	size_t	i, len = 0;

	out[0] = '\0';
	for (i = 0; i < ROUTE_SEGS_MAX && d->seg[i] != NULL; i++)
		len += (size_t)snprintf(out + len, n - len, "/%s",
		    strcmp(d->seg[i], "{p}") == 0 ? "{provider}" :
		    strcmp(d->seg[i], "{c}") == 0 ? "{credentialId}" :
		    d->seg[i][0] == '{' ? "{path}" : d->seg[i]);
	ck_assert_uint_lt(len, n);
}

/*
 * GET /v1/openapi.json: no token, 200, JSON, the etc/openapi.json it was
 * built from, OpenAPI 3.1, and every route and method of api.c's table
 * in its paths
 * (HEAD aside: a GET route answers it, the document says so once).
 */
START_TEST(openapi_document)
{
	struct h_resp			 r;
	struct json_object		*o, *f, *paths, *item, *op, *v;
	const struct route_def		*d;
	char				 path[700], m[16], *file;
	size_t				 i, j, k, nops = 0;

	req("GET", "/v1/openapi.json", NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_header(&r, "Content-Type"), "application/json");
	ck_assert_ptr_nonnull(h_header(&r, "Request-Id"));
	/* the document of the source tree (a proxy may write it compact) */
	snprintf(path, sizeof(path), "%s/etc/openapi.json", E.srcdir);
	ck_assert_ptr_nonnull(file = h_slurp(path, NULL));
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert_ptr_nonnull(f = json_tokener_parse(file));
	ck_assert(json_object_equal(o, f));
	json_object_put(f);
	free(file);
	ck_assert(json_object_object_get_ex(o, "openapi", &v));
	ck_assert_int_eq(strncmp(json_object_get_string(v), "3.1.", 4), 0);
	ck_assert(json_object_object_get_ex(o, "paths", &paths));
	for (i = 0; i < api_routes.n; i++) {
		d = &api_routes.rows[i];
		route_path(d, path, sizeof(path));
		ck_assert_msg(json_object_object_get_ex(paths, path, &item),
		    "route %s: %s is not in the document", d->name, path);
		for (j = 0; j < HM__MAX; j++) {
			if (d->fn[j] == NULL || j == HM_HEAD)
				continue;
			snprintf(m, sizeof(m), "%s",
			    http_method_name((enum http_method)j));
			for (k = 0; m[k] != '\0'; k++)
				m[k] = (char)(m[k] - 'A' + 'a');
			ck_assert_msg(json_object_object_get_ex(item, m, &op) &&
			    json_object_object_get_ex(op, "responses", &v),
			    "route %s: %s %s is not in the document", d->name,
			    m, path);
			nops++;
		}
	}
	/* the routes of the table when this was written, at least */
	ck_assert_uint_ge(api_routes.n, 9);
	ck_assert_uint_ge(nops, 15);
	json_object_put(o);
	h_resp_free(&r);
	/* HEAD answers the headers; other methods are 405 */
	req("HEAD", "/v1/openapi.json", NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, 0);
	h_resp_free(&r);
	req("POST", "/v1/openapi.json", NULL, JSON, "{}", NULL, &r);
	assert_error(&r, 405, "method_not_allowed");
	ck_assert_str_eq(h_header(&r, "Allow"), "GET, HEAD");
	h_resp_free(&r);
}
END_TEST

/* A 200, a 401, a 404, a 405 and a 400 each carry a new Request-Id. */
START_TEST(request_id_on_every_answer)
{
	static const struct {
		const char	*method, *path, *body;
		int		 auth;
		long		 status;
	} rows[] = {
		{ "GET", "/healthz", NULL, 0, 200 },
		{ "GET", DD, NULL, 0, 401 },
		{ "GET", "/v1/nowhere", NULL, 1, 404 },
		{ "PUT", DD, NULL, 1, 405 },
		{ "POST", DD, "{\"credentials\":{}}", 1, 400 },
	};
	struct h_resp	 r;
	char		 first[64] = "";
	const char	*id;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		req(rows[i].method, rows[i].path,
		    rows[i].auth ? E.tok_admin : NULL,
		    rows[i].body ? JSON : NULL, rows[i].body, NULL, &r);
		ck_assert_msg(r.status == rows[i].status, "%s %s: %ld %s",
		    rows[i].method, rows[i].path, r.status, r.body);
		id = h_header(&r, "Request-Id");
		ck_assert_msg(id != NULL && matches(ULID_RE, id),
		    "%s %s: Request-Id %s", rows[i].method, rows[i].path,
		    id ? id : "(none)");
		/* a new one each time: nothing of a previous request stays */
		ck_assert_str_ne(id, first);
		snprintf(first, sizeof(first), "%s", id);
		h_resp_free(&r);
	}
}
END_TEST

/*
 * The client's Request-Id is echoed when sane, replaced when not; the
 * debug-level request line of the log names it.
 */
START_TEST(request_id_from_client)
{
	static const struct {
		const char	*hdr;
		int		 kept;
	} rows[] = {
		{ "Request-Id: abc.DEF_12-3", 1 },
		{ "Request-Id: a", 1 },
		{ "Request-Id: 1234567890123456789012345678901234567890123456789"
		    "012345678901234", 1 },
		{ "Request-Id: 1234567890123456789012345678901234567890123456789"
		    "0123456789012345", 0 },
		{ "Request-Id: a b", 0 },
		{ "Request-Id: a;b", 0 },
		{ "Request-Id: a/b", 0 },
		{ "Request-Id: caf\xc3\xa9", 0 },
		{ "Request-Id: x\"y", 0 },
	};
	struct h_resp	 r;
	const char	*hdrs[2] = { NULL, NULL };
	const char	*id, *sent;
	char		*line, want[80];
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		hdrs[0] = rows[i].hdr;
		sent = rows[i].hdr + strlen("Request-Id: ");
		req("GET", "/healthz", NULL, NULL, NULL, hdrs, &r);
		ck_assert_int_eq(r.status, 200);
		id = h_header(&r, "Request-Id");
		ck_assert_ptr_nonnull(id);
		if (rows[i].kept)
			ck_assert_str_eq(id, sent);
		else
			ck_assert_msg(matches(ULID_RE, id), "'%s' -> '%s'",
			    sent, id);
		h_resp_free(&r);
	}
	hdrs[0] = "Request-Id: e2e-debug-line-1";
	req("GET", "/v1/nowhere", E.tok_admin, NULL, NULL, hdrs, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(h_header(&r, "Request-Id"), "e2e-debug-line-1");
	h_resp_free(&r);
	snprintf(want, sizeof(want), "req=%s ", "e2e-debug-line-1");
	line = log_line_with(want, "GET /v1/nowhere -> 404 tenant=-");
	ck_assert_msg(line != NULL, "no request line names the Request-Id");
	ck_assert_ptr_nonnull(strstr(line, "debug: req=e2e-debug-line-1 "));
	free(line);
}
END_TEST

/*
 * A 503 and a timeout each log, at info, why the credential is
 * unverified: the reason code, provider, tenant and credential id.
 */
START_TEST(unverified_reason_logged)
{
	static const struct {
		const char	*key, *reqid, *reason;
	} rows[] = {
		{ "SECRETVAL-dd-5xx", "e2e-unverified-503", "reason=status_503" },
		{ "SECRETVAL-dd-hang", "e2e-unverified-hang", "reason=timeout" },
	};
	struct h_resp		 r;
	struct json_object	*o;
	const char		*hdrs[2] = { NULL, NULL };
	char			 hdr[80], body[200], want[80], *line;
	size_t			 i;

	setup_routes();
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(hdr, sizeof(hdr), "Request-Id: %s", rows[i].reqid);
		hdrs[0] = hdr;
		snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":"
		    "\"%s\",\"application_key\":\"SECRETVAL-a\"}}", rows[i].key);
		req("POST", DD, E.tok_admin, JSON, body, hdrs, &r);
		ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
		o = h_json(&r);
		ck_assert_str_eq(jstr(o, "status"), "unverified");
		snprintf(want, sizeof(want), "info: req=%s ", rows[i].reqid);
		line = log_line_with(want, rows[i].reason);
		ck_assert_msg(line != NULL, "no info line with %s",
		    rows[i].reason);
		ck_assert(matches(ID_RE, jstr(o, "credentialId")));
		ck_assert_ptr_nonnull(strstr(line, jstr(o, "credentialId")));
		ck_assert_ptr_nonnull(strstr(line, "provider=datadog"));
		ck_assert_ptr_nonnull(strstr(line, "tenant=acme"));
		ck_assert_ptr_null(strstr(line, "SECRETVAL"));
		free(line);
		json_object_put(o);
		h_resp_free(&r);
	}
}
END_TEST

int
main(void)
{
	Suite		*s;
	TCase		*tc;
	SRunner		*sr;
	int		 failed;
	char		 path[700];
	struct h_opts	 o = { .procs = 2 };

	signal(SIGPIPE, SIG_IGN);
	h_setup(&E, &o);
	snprintf(path, sizeof(path), "%s/responses.log", E.dir);
	responses = fopen(path, "w");
	s = suite_create("e2e_store");
	tc = tcase_create("store");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, healthz_ok);
	tcase_add_test(tc, store_validated);
	tcase_add_test(tc, store_unverified_no_check);
	tcase_add_test(tc, store_unverified_5xx_and_timeout);
	tcase_add_test(tc, cgi_mode_sigterm_finishes);
	tcase_add_test(tc, cgi_close_waits_for_register_scan);
	tcase_add_test(tc, store_rejected_422_nothing_stored);
	tcase_add_test(tc, slack_body_condition);
	tcase_add_test(tc, auth_errors);
	tcase_add_test(tc, token_size_limit);
	tcase_add_test(tc, not_found_and_method);
	tcase_add_test(tc, validation_errors);
	tcase_add_test(tc, form_post_access_token);
	tcase_add_test(tc, idempotency);
	tcase_add_test(tc, idempotency_race);
	tcase_add_loop_test(tc, store_redirect_not_followed, 0,
	    (int)(sizeof(redirects) / sizeof(redirects[0])));
	tcase_add_test(tc, tenant_isolation);
	tcase_add_test(tc, concurrency_400);
	tcase_add_test(tc, crash_kill9);
	tcase_add_test(tc, cgi_mode_unavailable);
	tcase_add_test(tc, cgi_catalog_checked_once);
	tcase_add_test(tc, list_all_credentials);
	tcase_add_test(tc, idempotency_parsed);
	tcase_add_test(tc, openapi_document);
	/* logs: before the two last, which stop the server in some builds */
	tcase_add_test(tc, request_id_on_every_answer);
	tcase_add_test(tc, request_id_from_client);
	tcase_add_test(tc, unverified_reason_logged);
	tcase_add_test(tc, no_plaintext_anywhere);
	tcase_add_test(tc, sanitizers_quiet);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	fclose(responses);
	h_teardown(&E);
	return failed == 0 ? 0 : 1;
}
