/*
 * Hostile requests (issue #7): crafted requests sent byte for byte over
 * a raw socket to the real lighttpd and credstore.fcgi.  One table, one
 * row per request: what is sent, and the status and error code that must
 * come back.  Some malformed HTTP never reaches credstore: lighttpd
 * answers it itself (400, 411, 413, 431, 501); those rows say so and
 * expect no JSON, only the status.  After every row, and after the whole
 * table, the store holds exactly what it held before; at the end
 * `credstore-admin verify` passes.
 *
 * Every value sent here contains "HOSTILE" so that a response echoing one
 * is caught.  Requests that would pass every gate use a body that fails
 * validation (BADBODY): a token that wrongly authenticates then shows as
 * 400 instead of 401, and nothing is ever stored by mistake.
 */
#include "cs_build.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>

#include "harness.h"
#include "jwt.h"
#include "util.h"

static struct h_env E;

#define JSON	"application/json"
#define FORM	"application/x-www-form-urlencoded"
#define DD	"/v1/integrations/datadog/credentials"
#define CRED	DD "/"
/* a well-formed credential id that is in no store */
#define NOID	"crd_01HX9VTPQR3KF8MZWBYD5N6JCE"

/* A body that would be stored: used where another gate must refuse. */
#define GOOD	"{\"credentials\":{\"api_key\":\"HOSTILE-k\"," \
		"\"application_key\":\"HOSTILE-a\"}}"
/* A body that fails validation (unknown member) but parses. */
#define BADBODY	"{\"credentials\":{\"api_key\":\"HOSTILE-k\"," \
		"\"application_key\":\"HOSTILE-a\"},\"nope\":1}"
#define FGOOD	"credentials[api_key]=HOSTILE-k" \
		"&credentials[application_key]=HOSTILE-a"

/* Which Authorization header a row sends. */
enum tk {
	T_NONE = 0,		/* no Authorization header */
	T_ADMIN,		/* acme, admin: passes authentication */
	T_READER,		/* acme, viewer */
	T_OTHER,		/* globex, admin */
	T_MINTED,		/* control: minted here, valid */
	T_NONE_LOWER,		/* alg "none", empty signature */
	T_NONE_TITLE,		/* alg "None" */
	T_NONE_UPPER,		/* alg "NONE" */
	T_NONE_MIXED,		/* alg "nOnE" */
	T_NONE_SIGNED,		/* alg "none" with a real HS256 signature */
	T_CLAIMS_MODIFIED,	/* valid token, tenant changed, old signature */
	T_ROLE_ESCALATED,	/* reader token made admin, old signature */
	T_SIG_STRIPPED,		/* "h.p." */
	T_TWO_SEGMENTS,		/* "h.p" */
	T_FOUR_SEGMENTS,	/* "h.p.s.x" */
	T_FIVE_SEGMENTS,	/* JWE compact shape */
	T_B64_STD,		/* '+' and '/' of standard base64 */
	T_B64_PADDED,		/* '=' padding */
	T_B64_BADLEN,		/* header of 4k+1 characters, signed */
	T_KID_TRAVERSAL,	/* kid ../../dev/null, empty HMAC key */
	T_KID_SQLI,		/* kid with SQL, signed with the injected key */
	T_JKU,			/* jku header, correctly signed */
	T_X5U,
	T_X5C,
	T_JWK,
	T_CRIT,
	T_TYP_JWE,		/* typ neither JWT nor at+jwt */
	T_EXP_STRING,		/* exp "9999999999" */
	T_EXPIRED,		/* exp an hour ago */
	T_NO_EXP,
	T_NBF_FUTURE,
	T_HS512_HDR,		/* alg HS512, HS256 signature */
	T_RS256_HMAC,		/* alg RS256 signed with the HMAC secret */
	T_ALG_LOWER,		/* alg "hs256" */
	T_ALG_SPACE,		/* alg "HS256 " */
	T_HDR_DUP_ALG,		/* {"alg":"HS256","alg":"none"} */
	T_CLAIMS_DUP_ORG,	/* org_id twice */
	T_HDR_ARRAY,		/* header is a JSON array */
	T_WRONG_SECRET,
	T_ORG_NUMBER,		/* org_id 42 */
	T_TRUNCATED_MAC,	/* first 16 bytes of the MAC */
	T_WRONG_ISS_CASE,	/* iss in other letter case */
	T_AUD_ARRAY_OTHER,	/* aud ["other"] */
	T_OVERSIZE,		/* 8193 base64url characters */
	T__MAX
};

enum frame {
	FR_CL = 0,	/* Content-Length of the body (none without body) */
	FR_NONE,	/* the row's own headers frame the body, or nothing */
	FR_CHUNKED	/* Transfer-Encoding: chunked, 1000-byte chunks */
};

struct row {
	const char	*name;
	const char	*method;
	const char	*target;	/* request-target; NULL: *targetv */
	char *const	*targetv;
	enum tk		 tok;
	const char	*ctype;		/* NULL: no Content-Type */
	const char	*hdr;		/* raw header lines, any bytes */
	size_t		 hlen;
	char *const	*hdrv;		/* generated header lines */
	const char	*body;		/* any bytes */
	size_t		 blen;
	char *const	*bodyv;		/* generated body */
	enum frame	 frame;
	int		 flags;		/* H_RAW_SHUT_WR */
	long		 status;
	const char	*code;		/* NULL: answered by lighttpd itself */
	const char	*detail;	/* "field:reason" that must be listed */
};

#define R(n, m, t)	.name = (n), .method = (m), .target = (t)
#define RV(n, m, tv)	.name = (n), .method = (m), .targetv = &(tv)
#define BODY(s)		.body = (s), .blen = sizeof(s) - 1
#define HDR(s)		.hdr = (s), .hlen = sizeof(s) - 1
#define ERR(s, c)	.status = (s), .code = (c)
#define LIGHTTPD(s)	.status = (s), .code = NULL

static char *toks[T__MAX];

/* Generated requests parts (see make_parts). */
static char *tok_17000, *idem_256, *idem_20000, *filler_17000;
static char *many_headers, *ctype_long, *path_long, *query_long;
static char *prov_65, *prov_300, *cred_2000, *deep_8000, *open_3000;
static char *label_201, *label_201_multi, *value_4097, *keys_1100;
static char *form_tok2, *body_20000, *cursor_200;
static char *real_slash, *real_lower, *real_other_prov, *real_nul;
static char *real_dotdot, *real_put, *real_validate_trav;
static char real_id[40];

static const struct row rows[] = {
	/* --- path traversal and encoded slashes in {provider} */
	{ R("provider: /../ in the path", "POST",
	    "/v1/integrations/../integrations/datadog/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: %2e%2e", "POST", "/v1/integrations/%2e%2e/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: %2E%2E%2F", "POST",
	    "/v1/integrations/%2E%2E%2Fdatadog/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: encoded slash joins segments", "POST",
	    "/v1/integrations/datadog%2fcredentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: encoded slash inside", "POST",
	    "/v1/integrations/data%2Fdog/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: encoded backslash", "POST",
	    "/v1/integrations/datadog%5C/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: raw backslash traversal", "POST",
	    "/v1/integrations/datadog\\..\\/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: single dot", "POST", "/v1/integrations/./credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: double-encoded dots", "POST",
	    "/v1/integrations/%252e%252e/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: ../ chain to /etc/passwd", "POST",
	    "/v1/integrations/..%2f..%2f..%2fetc%2fpasswd/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: empty segment", "POST",
	    "/v1//integrations/datadog/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: dot-dot after the provider", "POST",
	    "/v1/integrations/datadog/../datadog/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: upper case", "POST",
	    "/v1/integrations/DataDog/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: encoded UTF-8", "POST",
	    "/v1/integrations/datad%C3%B6g/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	/* lighttpd's own answer: invalid UTF-8 in the decoded path: 400 */
	{ R("provider: overlong UTF-8 dots (lighttpd)", "POST",
	    "/v1/integrations/%C0%AE%C0%AE/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), LIGHTTPD(400) },
	/* lighttpd's own answer: an encoded control byte in the path: 400 */
	{ R("provider: encoded NUL (lighttpd)", "POST",
	    "/v1/integrations/datadog%00/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), LIGHTTPD(400) },
	/* lighttpd's own answer: an encoded control byte in the path: 400 */
	{ R("provider: encoded CR LF header injection (lighttpd)", "POST",
	    "/v1/integrations/datadog%0d%0aX-Injected:%201/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), LIGHTTPD(400) },
	/* lighttpd's own answer: an encoded control byte in the path: 400 */
	{ R("provider: encoded SOH (lighttpd)", "POST",
	    "/v1/integrations/%01/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), LIGHTTPD(400) },
	{ RV("provider: 65 characters", "POST", prov_65),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ RV("provider: 300 characters", "POST", prov_300),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: path parameter", "POST",
	    "/v1/integrations/datadog;jsessionid=1/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	/* lighttpd's own answer: invalid UTF-8 in the decoded path: 400 */
	{ R("provider: encoded 0xff (lighttpd)", "POST",
	    "/v1/integrations/%ff/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), LIGHTTPD(400) },
	{ R("provider: bad escape", "POST", "/v1/integrations/%zz/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: truncated escape", "POST",
	    "/v1/integrations/datadog%/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: encoded space", "POST",
	    "/v1/integrations/datadog%20/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	{ R("provider: raw UTF-8 bytes", "POST",
	    "/v1/integrations/d\xc3\xb6g/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), ERR(404, "not_found") },
	/* lighttpd's own answer: invalid UTF-8 in the path: 400 */
	{ R("provider: raw invalid UTF-8 (lighttpd)", "POST",
	    "/v1/integrations/\xff\xfe/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), LIGHTTPD(400) },
	/* lighttpd's own answer: a raw control byte in the request line: 400 */
	{ R("provider: raw control byte (lighttpd)", "POST",
	    "/v1/integrations/data\x01" "dog/credentials"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), LIGHTTPD(400) },

	/* --- {credentialId} */
	{ R("id: well formed, absent", "GET", CRED NOID),
	  .tok = T_READER, ERR(404, "not_found") },
	{ R("id: ..", "GET", CRED ".."), .tok = T_READER, ERR(404,
	  "not_found") },
	{ R("id: %2e%2e", "GET", CRED "%2e%2e"),
	  .tok = T_READER, ERR(404, "not_found") },
	{ R("id: ../ chain", "GET", CRED "..%2f..%2f..%2fetc%2fpasswd"),
	  .tok = T_READER, ERR(404, "not_found") },
	{ R("id: trailing encoded slash", "GET",
	    CRED "crd_01HX9VTPQR3KF8MZWBYD5N6JC%2F"),
	  .tok = T_READER, ERR(404, "not_found") },
	/* lighttpd's own answer: an encoded control byte in the path: 400 */
	{ R("id: encoded NUL (lighttpd)", "GET",
	    CRED "crd_01HX9VTPQR3KF8MZWBYD5N6JC%00"),
	  .tok = T_READER, LIGHTTPD(400) },
	{ R("id: lower case", "GET", CRED "crd_01hx9vtpqr3kf8mzwbyd5n6jce"),
	  .tok = T_READER, ERR(404, "not_found") },
	{ R("id: first digit 8 (over 128 bits)", "GET",
	    CRED "crd_81HX9VTPQR3KF8MZWBYD5N6JCE"),
	  .tok = T_READER, ERR(404, "not_found") },
	{ R("id: U is not Crockford", "GET",
	    CRED "crd_01HX9VTPQR3KF8MZWBYD5N6JCU"),
	  .tok = T_READER, ERR(404, "not_found") },
	{ R("id: 31 characters", "GET", CRED "crd_01HX9VTPQR3KF8MZWBYD5N6JCEE"),
	  .tok = T_READER, ERR(404, "not_found") },
	{ RV("id: 2000 characters", "GET", cred_2000),
	  .tok = T_READER, ERR(404, "not_found") },
	{ R("id: DELETE with encoded traversal", "DELETE",
	    CRED "..%2F..%2Fcatalog"),
	  .tok = T_ADMIN, ERR(404, "not_found") },
	/* lighttpd's own answer: an encoded control byte in the path: 400 */
	{ R("id: PUT with CR LF injection (lighttpd)", "PUT",
	    CRED "crd_%0d%0aSet-Cookie:x"),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), LIGHTTPD(400) },
	{ R("id: validate with traversal", "POST", CRED "%2e%2e/validate"),
	  .tok = T_ADMIN, ERR(404, "not_found") },
	{ R("id: encoded UTF-8", "GET",
	    CRED "crd_01HX9VTPQR3KF8MZWBYD5N6JC%C3%89"),
	  .tok = T_READER, ERR(404, "not_found") },
	/* lighttpd's own answer: invalid UTF-8 in the path: 400 */
	{ R("id: raw invalid UTF-8 (lighttpd)", "GET",
	    CRED "crd_01HX9VTPQR3KF8MZWBYD5N6J\xff\xfe"),
	  .tok = T_READER, LIGHTTPD(400) },
	{ R("id: PATCH single dot", "PATCH", CRED "%2e"),
	  .tok = T_ADMIN, .ctype = JSON, BODY("{\"label\":\"HOSTILE\"}"),
	  ERR(404, "not_found") },
	{ R("id: traversal to the catalog", "GET",
	    CRED NOID "/../../../catalog"),
	  .tok = T_READER, ERR(404, "not_found") },
	/* lighttpd's own answer: an encoded control byte in the path: 400 */
	{ R("id: encoded DEL (lighttpd)", "GET",
	    CRED "crd_01HX9VTPQR3KF8MZWBYD5N6JC%7f"),
	  .tok = T_READER, LIGHTTPD(400) },
	{ RV("id: real id plus encoded slash", "GET", real_slash),
	  .tok = T_READER, ERR(404, "not_found") },
	{ RV("id: real id in lower case", "GET", real_lower),
	  .tok = T_READER, ERR(404, "not_found") },
	{ RV("id: real id under another provider", "GET", real_other_prov),
	  .tok = T_READER, ERR(404, "not_found") },
	/* lighttpd's own answer: an encoded control byte in the path: 400 */
	{ RV("id: real id plus encoded NUL (lighttpd)", "DELETE", real_nul),
	  .tok = T_ADMIN, LIGHTTPD(400) },
	{ RV("id: ../<real id>", "DELETE", real_dotdot),
	  .tok = T_ADMIN, ERR(404, "not_found") },
	{ RV("id: real id, other tenant deletes", "DELETE", real_put),
	  .tok = T_OTHER, ERR(404, "not_found") },
	{ RV("id: real id, other tenant reads", "GET", real_put),
	  .tok = T_OTHER, ERR(404, "not_found") },
	{ RV("id: real id, reader deletes", "DELETE", real_put),
	  .tok = T_READER, ERR(403, "forbidden") },
	{ RV("id: real id, PUT with a NUL value", "PUT", real_put),
	  .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\\u0000x\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ RV("id: real id, validate with traversal suffix", "POST",
	    real_validate_trav), .tok = T_ADMIN, ERR(404, "not_found") },

	/* --- over-long headers and tokens */
	{ R("token: 8193 characters", "POST", DD), .tok = T_OVERSIZE,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * headers over server.max-request-field-size (16 KiB): 431
	 */
	{ R("token: 17000 characters (lighttpd)", "POST", DD), .tok = T_NONE,
	  .hdrv = &tok_17000, .ctype = JSON, BODY(BADBODY), LIGHTTPD(431) },
	{ R("Idempotency-Key: 256 characters", "POST", DD), .tok = T_ADMIN,
	  .hdrv = &idem_256, .ctype = JSON, BODY(GOOD),
	  ERR(400, "validation_error"), .detail = "Idempotency-Key:too_long" },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * headers over server.max-request-field-size (16 KiB): 431
	 */
	{ R("Idempotency-Key: 20000 characters (lighttpd)", "POST", DD),
	  .tok = T_ADMIN, .hdrv = &idem_20000, .ctype = JSON, BODY(GOOD),
	  LIGHTTPD(431) },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * headers over server.max-request-field-size (16 KiB): 431
	 */
	{ R("one 17000-byte header (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  .hdrv = &filler_17000, .ctype = JSON, BODY(GOOD), LIGHTTPD(431) },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * headers over server.max-request-field-size (16 KiB): 431
	 */
	{ R("300 headers, 18 KB (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  .hdrv = &many_headers, .ctype = JSON, BODY(GOOD), LIGHTTPD(431) },
	{ R("Content-Type: 5000 characters", "POST", DD), .tok = T_ADMIN,
	  .hdrv = &ctype_long, BODY(GOOD), ERR(415, "unsupported_media_type") },
	/* issue 12, finding 14: UTF-8 is the only charset read */
	{ R("Content-Type: JSON; charset=utf-16", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON "; charset=utf-16", BODY(GOOD),
	  ERR(415, "unsupported_media_type") },
	{ R("Content-Type: JSON; charset=\"UTF-16LE\"", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON "; charset=\"UTF-16LE\"", BODY(GOOD),
	  ERR(415, "unsupported_media_type") },
	{ R("Content-Type: JSON;CHARSET=ISO-8859-1", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON ";CHARSET=ISO-8859-1", BODY(GOOD),
	  ERR(415, "unsupported_media_type") },
	{ R("Content-Type: JSON; charset=utf-8; charset=utf-16", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON "; charset=utf-8; charset=utf-16",
	  BODY(GOOD), ERR(415, "unsupported_media_type") },
	{ R("Content-Type: JSON; charset=utf-8x", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON "; charset=utf-8x", BODY(GOOD),
	  ERR(415, "unsupported_media_type") },
	{ R("Content-Type: form; charset=utf-16", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM "; charset=utf-16", BODY(FGOOD),
	  ERR(415, "unsupported_media_type") },
	{ RV("Content-Type: PUT JSON; charset=utf-32", "PUT", real_put),
	  .tok = T_ADMIN, .ctype = JSON "; charset=utf-32", BODY(GOOD),
	  ERR(415, "unsupported_media_type") },
	{ RV("path: 5000 characters", "GET", path_long), .tok = T_READER,
	  ERR(404, "not_found") },
	{ RV("query: 9000 characters", "GET", query_long), .tok = T_READER,
	  ERR(400, "validation_error") },
	{ R("Authorization: two Bearer tokens", "POST", DD),
	  HDR("Authorization: Bearer a.b.c, Bearer d.e.f\r\n"), .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },

	/* --- NUL, control bytes and invalid UTF-8: credential values */
	{ R("value: \\u0000", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\\u0000x\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ R("value: raw NUL", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\0x\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("value: \\u0007", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\\u0007\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ R("value: raw 0x07", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\x07\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("value: \\u007f", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\\u007f\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ R("value: C1 control \\u0085", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\\u0085\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ R("value: raw 0xff", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\xff\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("value: overlong UTF-8", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\xc0\xaf\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("value: raw UTF-8 surrogate", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\xed\xa0\x80\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	/* json-c turns a lone surrogate escape into U+FFFD: never store that */
	{ R("value: lone surrogate escape", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\\ud800\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error") },
	{ R("value: \\n", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE\\nx\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ R("value: 4097 bytes", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  .bodyv = &value_4097, ERR(400, "validation_error"),
	  .detail = "credentials.api_key:too_long" },

	/* --- field names */
	{ R("name: \\u0000 inside", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api\\u0000key\":\"HOSTILE\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("name: \\u0001 suffix", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\\u0001\":\"HOSTILE\","
	    "\"api_key\":\"HOSTILE-k\",\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.?:unknown_field" },
	{ R("name: raw invalid UTF-8", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api\xfekey\":\"HOSTILE\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("name: lone surrogate", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"\\ud800\":\"HOSTILE\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("name: raw newline", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\n\":\"HOSTILE\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("name: HTML in an unknown name", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"<script>\":\"HOSTILE\",\"api_key\":\"HOS"
	    "TILE\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.?:unknown_field" },

	/* --- label */
	{ R("label: \\u0000", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":\"a\\u0000b\"}"),
	  ERR(400, "validation_error"), .detail = "label:invalid_characters" },
	{ R("label: ANSI escape", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":\"\\u001b[31mred\"}"),
	  ERR(400, "validation_error"), .detail = "label:invalid_characters" },
	{ R("label: raw 0xfe", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":\"\xfe\"}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("label: C1 control", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":\"\\u0085\"}"),
	  ERR(400, "validation_error"), .detail = "label:invalid_characters" },
	{ R("label: 201 characters", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  .bodyv = &label_201, ERR(400, "validation_error"),
	  .detail = "label:too_long" },
	{ R("label: 201 two-byte characters", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, .bodyv = &label_201_multi,
	  ERR(400, "validation_error"), .detail = "label:too_long" },
	{ R("label: an object", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":{\"a\":1}}"),
	  ERR(400, "validation_error"), .detail = "label:must_be_string" },

	/* --- issue 12, finding 14: bidi controls in a label */
	{ R("label: U+202E right-to-left override", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":\"pay\\u202egpj\"}"),
	  ERR(400, "validation_error"), .detail = "label:bidi_control" },
	{ R("label: U+202A raw UTF-8", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":\"a\xe2\x80\xaa" "b\"}"),
	  ERR(400, "validation_error"), .detail = "label:bidi_control" },
	{ R("form: label U+2066 isolate", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY(FGOOD "&label=a%E2%81%A6b"), ERR(400, "validation_error"),
	  .detail = "label:bidi_control" },
	{ R("form: label U+2069 pop isolate", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY(FGOOD "&label=%E2%81%A9"), ERR(400, "validation_error"),
	  .detail = "label:bidi_control" },

	/* --- form bodies */
	{ R("form: value %00", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY("credentials[api_key]=HOSTILE%00x&credentials[application_key"
	    "]=HOSTILE"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ R("form: name %00", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY("credentials[api%00key]=HOSTILE&credentials[application_key]="
	    "HOSTILE"),
	  ERR(400, "validation_error"), .detail = "body:malformed_form" },
	{ R("form: label %FF", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY(FGOOD "&label=%FF"), ERR(400, "validation_error"),
	  .detail = "label:invalid_characters" },
	{ R("form: value overlong UTF-8", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY("credentials[api_key]=HOSTILE%C0%AF&credentials[application_k"
	    "ey]=HOSTILE"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ R("form: label ANSI escape", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY(FGOOD "&label=%1B%5B31m"), ERR(400, "validation_error"),
	  .detail = "label:invalid_characters" },
	{ R("form: raw NUL in a value", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY("credentials[api_key]=HOSTILE\0x&credentials[application_key]"
	    "=HOSTILE"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },
	{ R("form: bad escape", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY("credentials[api_key]=HOSTILE%ZZ&credentials[application_key]"
	    "=HOSTILE"),
	  ERR(400, "validation_error"), .detail = "body:malformed_form" },
	{ R("form: truncated escape", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY("credentials[application_key]=HOSTILE&credentials[api_key]=HO"
	    "STILE%"),
	  ERR(400, "validation_error"), .detail = "body:malformed_form" },
	{ R("form: raw 0xff in a name", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY(FGOOD "&credentials[\xff]=HOSTILE"), ERR(400,
	  "validation_error"),
	  .detail = "credentials.?:unknown_field" },
	{ R("form: value %7F", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY("credentials[api_key]=HOSTILE%7F&credentials[application_key]"
	    "=HOSTILE"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:invalid_characters" },

	/* --- Idempotency-Key */
	/* lighttpd's own answer: a control byte in a header value: 400 */
	{ R("Idempotency-Key: SOH (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  HDR("Idempotency-Key: a\x01" "b\r\n"), .ctype = JSON, BODY(GOOD),
	  LIGHTTPD(400) },
	/* lighttpd's own answer: a control byte in a header value: 400 */
	{ R("Idempotency-Key: NUL (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  HDR("Idempotency-Key: a\0b\r\n"), .ctype = JSON, BODY(GOOD),
	  LIGHTTPD(400) },
	/* lighttpd's own answer: a control byte in a header value: 400 */
	{ R("Idempotency-Key: DEL (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  HDR("Idempotency-Key: key\x7f\r\n"), .ctype = JSON, BODY(GOOD),
	  LIGHTTPD(400) },
	{ R("Idempotency-Key: raw 0xff 0xfe", "POST", DD), .tok = T_ADMIN,
	  HDR("Idempotency-Key: \xff\xfe\r\n"), .ctype = JSON, BODY(GOOD),
	  ERR(400, "validation_error"),
	  .detail = "Idempotency-Key:invalid_characters" },
	{ R("Idempotency-Key: UTF-8", "POST", DD), .tok = T_ADMIN,
	  HDR("Idempotency-Key: caf\xc3\xa9\r\n"), .ctype = JSON, BODY(GOOD),
	  ERR(400, "validation_error"),
	  .detail = "Idempotency-Key:invalid_characters" },
	{ R("Idempotency-Key: inner tab", "POST", DD), .tok = T_ADMIN,
	  HDR("Idempotency-Key: a\tb\r\n"), .ctype = JSON, BODY(GOOD),
	  ERR(400, "validation_error"),
	  .detail = "Idempotency-Key:invalid_characters" },

	/* --- the query */
	/* lighttpd's own answer: an encoded control byte in the query: 400 */
	{ R("query: limit=%00 (lighttpd)", "GET", DD "?limit=%00"),
	  .tok = T_READER,
	  LIGHTTPD(400) },
	/* lighttpd's own answer: an encoded control byte in the query: 400 */
	{ R("query: limit=1%00 (lighttpd)", "GET", DD "?limit=1%00"),
	  .tok = T_READER,
	  LIGHTTPD(400) },
	/* lighttpd's own answer: invalid UTF-8 in the decoded query: 400 */
	{ R("query: cursor=%FF%FE (lighttpd)", "GET", DD "?cursor=%FF%FE"),
	  .tok = T_READER,
	  LIGHTTPD(400) },
	/* lighttpd's own answer: a raw control byte in the query: 400 */
	{ R("query: raw control byte (lighttpd)", "GET", DD "?limit=\x01"),
	  .tok = T_READER, LIGHTTPD(400) },
	/* lighttpd's own answer: invalid UTF-8 in the query: 400 */
	{ R("query: raw 0xff name (lighttpd)", "GET", DD "?\xff=1"),
	  .tok = T_READER,
	  LIGHTTPD(400) },
	{ R("query: huge limit", "GET", DD "?limit=99999999999999999999999"),
	  .tok = T_READER, ERR(400, "validation_error"),
	  .detail = "limit:out_of_range" },
	{ R("query: negative limit", "GET", DD "?limit=-1"), .tok = T_READER,
	  ERR(400, "validation_error"), .detail = "limit:out_of_range" },
	{ R("query: hex limit", "GET", DD "?limit=0x10"), .tok = T_READER,
	  ERR(400, "validation_error"), .detail = "limit:out_of_range" },
	{ RV("query: 200-character cursor", "GET", cursor_200), .tok = T_READER,
	  ERR(400, "validation_error"), .detail = "query:too_long" },
	{ R("query: cursor of ../../", "GET", DD "?cursor=Li4vLi4v"),
	  .tok = T_READER, ERR(400, "validation_error"),
	  .detail = "cursor:invalid" },
	/* lighttpd's own answer: an encoded control byte in the query: 400 */
	{ R("query: cursor %00 (lighttpd)", "GET", DD "?limit=1&cursor=%00"),
	  .tok = T_READER, LIGHTTPD(400) },
	{ R("query: limit with spaces", "GET", DD "?limit=%205"),
	  .tok = T_READER,
	  ERR(400, "validation_error"), .detail = "limit:out_of_range" },

	/* --- nesting, numbers, duplicate keys, other JSON */
	{ R("json: array nesting past the limit", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":[[[[[[[[[\"HOSTILE\"]]]]]]]]],"
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: 8000 nested arrays", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, .bodyv = &deep_8000, ERR(400, "validation_error"),
	  .detail = "body:malformed_json" },
	{ R("json: 3000 unclosed objects", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, .bodyv = &open_3000, ERR(400, "validation_error"),
	  .detail = "body:malformed_json" },
	{ R("json: object nesting in the label", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"label\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
	    "{\"a\":1}}}}}}}}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	/* control: eight levels are allowed, the type is what is wrong */
	{ R("json: eight levels (allowed)", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":[[[[[[1]]]]]],"
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:must_be_string" },
	{ R("json: 1e999", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":1e999,"
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: -1e999", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":-1e999,"
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: 39-digit integer label", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\",\"application_ke"
	    "y\":"
	    "\"HOSTILE-a\"},\"label\":12345678901234567890123456789012345678"
	      "9}"),
	  ERR(400, "validation_error"), .detail = "label:must_be_string" },
	{ R("json: exponent with 20 digits", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":1.0e+99999999999999999999,"
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: NaN", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":NaN,\"application_key\":\"HOST"
	    "ILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: -Infinity", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":-Infinity,"
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: hex number", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":0x10,\"application_key\":\"HOS"
	    "TILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: leading zero", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":01,\"application_key\":\"HOSTI"
	    "LE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: duplicate credentials", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\",\"application_ke"
	    "y\":"
	    "\"HOSTILE-a\"},\"credentials\":{\"api_key\":\"HOSTILE-2\","
	    "\"application_key\":\"HOSTILE-b\"}}"),
	  ERR(400, "validation_error"), .detail = "body:duplicate_key" },
	{ R("json: duplicate field", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\",\"api_key\":\"HO"
	    "STILE-2\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:duplicate_key" },
	{ R("json: duplicate field, escaped spelling", "POST", DD),
	  .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\",\"api\\u005fkey\":"
	    "\"HOSTILE-2\",\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:duplicate_key" },
	{ R("json: duplicate label", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"label\":\"a\",\"label\":\"b\",\"credentials\":{\"api_key\":"
	    "\"HOSTILE-k\",\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"), .detail = "body:duplicate_key" },
	{ R("json: duplicate key deep in an ignored member", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\",\"application_ke"
	    "y\":"
	    "\"HOSTILE-a\"},\"x\":[{\"k\":1,\"k\":2}]}"),
	  ERR(400, "validation_error"), .detail = "body:duplicate_key" },
	{ R("json: field name in another case", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\",\"API_KEY\":\"HO"
	    "STILE-2\","
	    "\"application_key\":\"HOSTILE-a\"}}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.API_KEY:unknown_field" },
	{ R("json: null", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("null"), ERR(400, "validation_error"),
	  .detail = "body:must_be_object" },
	{ R("json: array", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("[]"), ERR(400, "validation_error"),
	  .detail = "body:must_be_object" },
	{ R("json: trailing data", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY(GOOD " {}"), ERR(400, "validation_error"),
	  .detail = "body:malformed_json" },
	{ R("json: single quotes", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{'credentials':{'api_key':'HOSTILE'}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: byte order mark", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("\xef\xbb\xbf" GOOD), ERR(400, "validation_error"),
	  .detail = "body:malformed_json" },
	{ R("json: trailing comma", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\",}}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: comment", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"}/*c*/}"),
	  ERR(400, "validation_error"), .detail = "body:malformed_json" },
	{ R("json: empty body", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  BODY(""), ERR(400, "validation_error") },
	{ R("json: 1100 keys", "POST", DD), .tok = T_ADMIN, .ctype = JSON,
	  .bodyv = &keys_1100, ERR(400, "validation_error") },
	{ R("json: credentials a string", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, BODY("{\"credentials\":\"HOSTILE\"}"),
	  ERR(400, "validation_error"),
	  .detail = "credentials:must_be_object" },
	{ R("json: form body sent as JSON", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, BODY(FGOOD), ERR(400, "validation_error"),
	  .detail = "body:malformed_json" },

	/* --- Content-Length, chunked bodies, bodies larger than announced */
	/* lighttpd's own answer: a Content-Length that is not digits: 400 */
	{ R("Content-Length: abc (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, HDR("Content-Length: abc\r\n"), BODY(GOOD),
	  .frame = FR_NONE, LIGHTTPD(400) },
	/* lighttpd's own answer: a Content-Length that is not digits: 400 */
	{ R("Content-Length: -1 (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, HDR("Content-Length: -1\r\n"), BODY(GOOD),
	  .frame = FR_NONE, LIGHTTPD(400) },
	/* lighttpd's own answer: conflicting Content-Length headers: 400 */
	{ R("two different Content-Lengths (lighttpd)", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON,
	  HDR("Content-Length: 10\r\nContent-Length: 77\r\n"), BODY(GOOD),
	  .frame = FR_NONE, LIGHTTPD(400) },
	/* lighttpd's own answer: a Content-Length it cannot hold: 400 */
	{ R("Content-Length: 23 digits (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, HDR("Content-Length: 99999999999999999999999\r\n"),
	  BODY(GOOD), .frame = FR_NONE, LIGHTTPD(400) },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * a body over server.max-request-size (128 KiB): 413, unread
	 */
	{ R("Content-Length: over server.max-request-size (lighttpd)", "POST",
	    DD), .tok = T_ADMIN, .ctype = JSON,
	  HDR("Content-Length: 200000\r\n"), BODY(GOOD), .frame = FR_NONE,
	  LIGHTTPD(413) },
	{ R("Content-Length: over max_body_bytes", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, .bodyv = &body_20000, ERR(413, "payload_too_large") },
	/* the first 10 bytes are the body; the rest is a bogus next request */
	{ R("body larger than announced", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, HDR("Content-Length: 10\r\n"), BODY(GOOD),
	  .frame = FR_NONE, ERR(400, "validation_error"),
	  .detail = "body:malformed_json" },
	{ R("Content-Length: 0 with a body", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, HDR("Content-Length: 0\r\n"), BODY(GOOD),
	  .frame = FR_NONE, ERR(400, "validation_error") },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * the body never completes; at end of input lighttpd drops the
	 * connection unanswered (status 0), credstore is never called
	 */
	{ R("body shorter than announced (lighttpd)", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON, HDR("Content-Length: 500\r\n"),
	  BODY(GOOD), .frame = FR_NONE, .flags = H_RAW_SHUT_WR, LIGHTTPD(0) },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * a POST without Content-Length or chunked coding: 411
	 */
	{ R("POST without Content-Length (lighttpd)", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON, BODY(GOOD), .frame = FR_NONE,
	  LIGHTTPD(411) },
	{ R("chunked: reaches credstore", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, BODY(BADBODY), .frame = FR_CHUNKED,
	  ERR(400, "validation_error"), .detail = "nope:unknown_field" },
	{ R("chunked: over max_body_bytes", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, .bodyv = &body_20000, .frame = FR_CHUNKED,
	  ERR(413, "payload_too_large") },
	{ R("chunked: reader token", "POST", DD), .tok = T_READER,
	  .ctype = JSON, BODY(GOOD), .frame = FR_CHUNKED,
	  ERR(403, "forbidden") },
	/* lighttpd's own answer: malformed chunked coding: 400 */
	{ R("chunked: bad chunk size (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, HDR("Transfer-Encoding: chunked\r\n"),
	  BODY("zz\r\n" GOOD "\r\n0\r\n\r\n"), .frame = FR_NONE,
	  LIGHTTPD(400) },
	/* lighttpd's own answer: malformed chunked coding: 400 */
	{ R("chunked: chunk size overflow (lighttpd)", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON, HDR("Transfer-Encoding: chunked\r\n"),
	  BODY("ffffffffffffffffffff\r\n" GOOD "\r\n0\r\n\r\n"),
	  .frame = FR_NONE, LIGHTTPD(400) },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * Content-Length with Transfer-Encoding (request smuggling): 400
	 */
	{ R("chunked plus Content-Length (lighttpd)", "POST", DD),
	  .tok = T_ADMIN, .ctype = JSON,
	  HDR("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"),
	  BODY("4c\r\n" GOOD "\r\n0\r\n\r\n"), .frame = FR_NONE,
	  LIGHTTPD(400) },
	/*
	 * lighttpd's own answer, credstore never sees it:
	 * a transfer coding it does not implement: 501
	 */
	{ R("Transfer-Encoding: gzip (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, HDR("Transfer-Encoding: gzip\r\n"), BODY(GOOD),
	  .frame = FR_NONE, LIGHTTPD(501) },
	/* lighttpd's own answer: a Content-Length that is not digits: 400 */
	{ R("Content-Length: +76 (lighttpd)", "POST", DD), .tok = T_ADMIN,
	  .ctype = JSON, HDR("Content-Length: +76\r\n"), BODY(GOOD),
	  .frame = FR_NONE, LIGHTTPD(400) },

	/* --- repeated form fields and odd brackets */
	{ R("form: field twice", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY("credentials[api_key]=HOSTILE-1&credentials[api_key]=HOSTILE-2"
	    "&credentials[application_key]=HOSTILE-a"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:duplicate" },
	{ R("form: label twice", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY(FGOOD "&label=a&label=b"), ERR(400, "validation_error"),
	  .detail = "label:duplicate" },
	{ R("form: field twice, once encoded", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY(FGOOD "&credentials%5Bapi_key%5D=HOSTILE-2"),
	  ERR(400, "validation_error"),
	  .detail = "credentials.api_key:duplicate" },
	{ R("form: _method twice", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY(FGOOD "&_method=DELETE&_method=PUT"),
	  ERR(400, "validation_error"), .detail = "_method:duplicate" },
	{ R("form: access_token twice", "POST", DD), .tok = T_NONE,
	  .ctype = FORM, .bodyv = &form_tok2, ERR(400, "validation_error"),
	  .detail = "access_token:duplicate" },
	{ R("form: token in form and header", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM, BODY(FGOOD "&access_token=a.b.c"),
	  ERR(400, "validation_error"),
	  .detail = "access_token:duplicate_token" },
	{ R("form: credentials[ unclosed", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM, BODY(FGOOD "&credentials[api_key=HOSTILE"),
	  ERR(400, "validation_error"), .detail = "credentials:unknown_field" },
	{ R("form: credentials]x[", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY(FGOOD "&credentials]api_key[=HOSTILE"),
	  ERR(400, "validation_error"), .detail = "credentials:unknown_field" },
	{ R("form: credentials[[x]]", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY(FGOOD "&credentials[[api_key]]=HOSTILE"),
	  ERR(400, "validation_error"), .detail = "credentials:unknown_field" },
	{ R("form: credentials[x]]", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY(FGOOD "&credentials[api_key]]=HOSTILE"),
	  ERR(400, "validation_error"), .detail = "credentials:unknown_field" },
	{ R("form: credentials[]", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY(FGOOD "&credentials[]=HOSTILE"),
	  ERR(400, "validation_error"), .detail = "credentials:unknown_field" },
	{ R("form: credentials[x][y]", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM, BODY(FGOOD "&credentials[api_key][y]=HOSTILE"),
	  ERR(400, "validation_error"), .detail = "credentials:unknown_field" },
	{ R("form: bare credentials", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY(FGOOD "&credentials=HOSTILE"), ERR(400, "validation_error"),
	  .detail = "credentials:unknown_field" },
	{ R("form: credentials[%5B]", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY(FGOOD "&credentials[%5B]=HOSTILE"), ERR(400, "validation_error"),
	  .detail = "credentials:unknown_field" },
	{ R("form: pair without =", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY("credentials[api_key]&credentials[application_key]=HOSTILE"),
	  ERR(400, "validation_error"), .detail = "body:malformed_form" },
	{ R("form: empty names", "POST", DD), .tok = T_ADMIN, .ctype = FORM,
	  BODY(FGOOD "&&&=&&"), ERR(400, "validation_error"),
	  .detail = "?:unknown_field" },
	{ R("form: semicolon separators", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM,
	  BODY("credentials[api_key]=HOSTILE;credentials[application_key]=HO"
	    "STILE"),
	  ERR(400, "validation_error") },
	{ R("form: JSON sent as a form", "POST", DD), .tok = T_ADMIN,
	  .ctype = FORM, BODY(GOOD), ERR(400, "validation_error"),
	  .detail = "body:malformed_form" },

	/* --- methods */
	{ R("method: TRACE", "TRACE", DD), .tok = T_ADMIN,
	  ERR(405, "method_not_allowed") },
	{ R("method: OPTIONS", "OPTIONS", DD), .tok = T_ADMIN,
	  ERR(405, "method_not_allowed") },
	/* lighttpd answers itself,
	credstore never sees it: an unknown method: 501 */
	{ R("method: unknown token (lighttpd)", "BREW", DD), .tok = T_ADMIN,
	  LIGHTTPD(501) },
	{ R("media type: text/plain", "POST", DD), .tok = T_ADMIN,
	  .ctype = "text/plain", BODY(GOOD), ERR(415,
	  "unsupported_media_type") },
	{ R("media type: none", "POST", DD), .tok = T_ADMIN, BODY(GOOD),
	  ERR(415, "unsupported_media_type") },
	{ R("media type: multipart", "POST", DD), .tok = T_ADMIN,
	  .ctype = "multipart/form-data; boundary=x", BODY(GOOD),
	  ERR(415, "unsupported_media_type") },

	/* --- JWT attacks: 401 each; a token that wrongly passes gets 400 */
	{ R("jwt: control, a valid minted token", "POST", DD), .tok = T_MINTED,
	  .ctype = JSON, BODY(BADBODY), ERR(400, "validation_error"),
	  .detail = "nope:unknown_field" },
	{ R("jwt: alg none", "POST", DD), .tok = T_NONE_LOWER, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: alg None", "POST", DD), .tok = T_NONE_TITLE, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: alg NONE", "POST", DD), .tok = T_NONE_UPPER, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: alg nOnE", "POST", DD), .tok = T_NONE_MIXED, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: alg none with a real signature", "POST", DD),
	  .tok = T_NONE_SIGNED, .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: HS256, claims modified", "POST", DD),
	  .tok = T_CLAIMS_MODIFIED, .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: HS256, role escalated", "POST", DD),
	  .tok = T_ROLE_ESCALATED, .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: signature stripped", "POST", DD), .tok = T_SIG_STRIPPED,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: two segments", "POST", DD), .tok = T_TWO_SEGMENTS,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: four segments", "POST", DD), .tok = T_FOUR_SEGMENTS,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: five segments (JWE shape)", "POST", DD),
	  .tok = T_FIVE_SEGMENTS, .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: standard base64 alphabet", "POST", DD), .tok = T_B64_STD,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: base64 padding", "POST", DD), .tok = T_B64_PADDED,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: header of 4k+1 characters", "POST", DD), .tok = T_B64_BADLEN,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: kid traversal, empty key", "POST", DD),
	  .tok = T_KID_TRAVERSAL,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: kid SQL injection", "POST", DD), .tok = T_KID_SQLI,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: jku", "POST", DD), .tok = T_JKU, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: x5u", "POST", DD), .tok = T_X5U, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: x5c", "POST", DD), .tok = T_X5C, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: embedded jwk", "POST", DD), .tok = T_JWK, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: crit", "POST", DD), .tok = T_CRIT, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: typ JWE", "POST", DD), .tok = T_TYP_JWE, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: exp as a string", "POST", DD), .tok = T_EXP_STRING,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: expired", "POST", DD), .tok = T_EXPIRED, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: no exp", "POST", DD), .tok = T_NO_EXP, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: nbf in the future", "POST", DD), .tok = T_NBF_FUTURE,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: HS512 header, HS256 signature", "POST", DD),
	  .tok = T_HS512_HDR, .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: RS256 signed with the HMAC secret", "POST", DD),
	  .tok = T_RS256_HMAC, .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: alg hs256", "POST", DD), .tok = T_ALG_LOWER, .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: alg with a trailing space", "POST", DD), .tok = T_ALG_SPACE,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: alg twice in the header", "POST", DD), .tok = T_HDR_DUP_ALG,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: org_id twice in the claims", "POST", DD),
	  .tok = T_CLAIMS_DUP_ORG, .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: header an array", "POST", DD), .tok = T_HDR_ARRAY,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: another secret", "POST", DD), .tok = T_WRONG_SECRET,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: org_id a number", "POST", DD), .tok = T_ORG_NUMBER,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: truncated MAC", "POST", DD), .tok = T_TRUNCATED_MAC,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: iss in upper case", "POST", DD), .tok = T_WRONG_ISS_CASE,
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: aud array without credstore", "POST", DD),
	  .tok = T_AUD_ARRAY_OTHER, .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: Bearer and nothing", "POST", DD),
	  HDR("Authorization: Bearer\r\n"), .ctype = JSON, BODY(BADBODY),
	  ERR(401, "unauthorized") },
	{ R("jwt: token with an inner space", "POST", DD),
	  HDR("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9 .e30.x\r\n"),
	  .ctype = JSON, BODY(BADBODY), ERR(401, "unauthorized") },
	{ R("jwt: Basic scheme", "POST", DD),
	  HDR("Authorization: Basic YWRtaW46YWRtaW4=\r\n"), .ctype = JSON,
	  BODY(BADBODY), ERR(401, "unauthorized") },
	/* RFC 6750 2.3 (query) is not a supported way to send a token */
	{ R("jwt: access_token in the query", "GET",
	    DD "?access_token=eyJhbGciOiJub25lIn0.e30.x"), .tok = T_NONE,
	  ERR(401, "unauthorized") },
	{ R("jwt: reader token stores", "POST", DD), .tok = T_READER,
	  .ctype = JSON, BODY(GOOD), ERR(403, "forbidden") },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

/* --- tokens */

static unsigned char	*secret;
static size_t		 secret_len;

static char *
cat3(const char *a, const char *b, const char *c)
{
	size_t	 n = strlen(a) + strlen(b) + strlen(c) + 1;
	char	*s = malloc(n);

	ck_assert_ptr_nonnull(s);
	snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

/*
 * A JWS compact token of the raw header and claims texts, signed with key
 * (HMAC alg) or with an empty signature when key is NULL.  Malloc'd.
 */
static char *
mint(const char *hdr, const char *claims, const void *key, size_t klen,
    gnutls_mac_algorithm_t alg)
{
	char		*h, *c, *in, *sig, *tok;
	unsigned char	 mac[64];

	h = b64url_encode(hdr, strlen(hdr));
	c = b64url_encode(claims, strlen(claims));
	in = cat3(h, ".", c);
	if (key == NULL)
		sig = strdup("");
	else {
		ck_assert_int_eq(gnutls_hmac_fast(alg, key, klen, in,
		    strlen(in), mac), 0);
		sig = b64url_encode(mac, gnutls_hmac_get_len(alg));
	}
	tok = cat3(in, ".", sig);
	free(h);
	free(c);
	free(in);
	free(sig);
	return tok;
}

/* Signs an already encoded "header.claims" input with the real secret. */
static char *
sign_input(const char *in)
{
	unsigned char	 mac[32];
	char		*sig, *tok;

	ck_assert_int_eq(gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, secret_len,
	    in, strlen(in), mac), 0);
	sig = b64url_encode(mac, sizeof(mac));
	tok = cat3(in, ".", sig);
	free(sig);
	return tok;
}

static char *
claims(const char *tenant_json, const char *role, const char *exp_json,
    const char *extra)
{
	char	buf[1024];

	snprintf(buf, sizeof(buf), "{\"sub\":\"mallory\",\"org_id\":%s,"
	    "\"role\":\"%s\",\"iss\":\"https://issuer.test\","
	    "\"aud\":\"credstore\"%s%s%s}", tenant_json, role,
	    exp_json ? ",\"exp\":" : "", exp_json ? exp_json : "",
	    extra ? extra : "");
	return strdup(buf);
}

#define HS256	"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static void
make_tokens(void)
{
	char	 path[700], err[256], exp[32], past[32], nbf[64], *cl, *p;
	char	*a, *b, *in;
	time_t	 now = time(NULL);
	size_t	 i;

	snprintf(path, sizeof(path), "%s/jwt.secret", E.dir);
	ck_assert_int_eq(jwt_secret_load(path, &secret, &secret_len, NULL, err,
	    sizeof(err)), 0);
	snprintf(exp, sizeof(exp), "%ld", (long)now + 600);
	snprintf(past, sizeof(past), "%ld", (long)now - 3600);
	cl = claims("\"acme\"", "admin", exp, NULL);

	toks[T_ADMIN] = strdup(E.tok_admin);
	toks[T_READER] = strdup(E.tok_reader);
	toks[T_OTHER] = strdup(E.tok_other);
	toks[T_MINTED] = mint(HS256, cl, secret, secret_len, GNUTLS_MAC_SHA256);
	toks[T_NONE_LOWER] = mint("{\"alg\":\"none\",\"typ\":\"JWT\"}", cl,
	    NULL, 0, GNUTLS_MAC_SHA256);
	toks[T_NONE_TITLE] = mint("{\"alg\":\"None\",\"typ\":\"JWT\"}", cl,
	    NULL, 0, GNUTLS_MAC_SHA256);
	toks[T_NONE_UPPER] = mint("{\"alg\":\"NONE\",\"typ\":\"JWT\"}", cl,
	    NULL, 0, GNUTLS_MAC_SHA256);
	toks[T_NONE_MIXED] = mint("{\"alg\":\"nOnE\",\"typ\":\"JWT\"}", cl,
	    NULL, 0, GNUTLS_MAC_SHA256);
	toks[T_NONE_SIGNED] = mint("{\"alg\":\"none\",\"typ\":\"JWT\"}", cl,
	    secret, secret_len, GNUTLS_MAC_SHA256);

	/* the valid token's header and signature around other claims */
	{
		char *other = claims("\"globex\"", "admin", exp, NULL);
		char *o64 = b64url_encode(other, strlen(other));
		const char *d1 = strchr(toks[T_MINTED], '.');
		const char *d2 = strrchr(toks[T_MINTED], '.');
		size_t n = strlen(toks[T_MINTED]) + strlen(o64) + 4;

		toks[T_CLAIMS_MODIFIED] = malloc(n);
		snprintf(toks[T_CLAIMS_MODIFIED], n, "%.*s.%s%s",
		    (int)(d1 - toks[T_MINTED]), toks[T_MINTED], o64, d2);
		free(other);
		free(o64);
	}
	/* the reader's token with role admin, the reader's signature */
	{
		const char *d1 = strchr(E.tok_reader, '.');
		const char *d2 = strrchr(E.tok_reader, '.');
		size_t plen, n;
		unsigned char *pl = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1),
		    &plen);
		char *pls, *q, *o64;

		ck_assert_ptr_nonnull(pl);
		pls = (char *)pl;
		ck_assert_ptr_nonnull(q = strstr(pls, "\"viewer\""));
		memcpy(q, "\"admin\" ", 8);	/* same length, valid JSON */
		o64 = b64url_encode(pls, plen);
		n = strlen(E.tok_reader) + strlen(o64) + 4;
		toks[T_ROLE_ESCALATED] = malloc(n);
		snprintf(toks[T_ROLE_ESCALATED], n, "%.*s.%s%s",
		    (int)(d1 - E.tok_reader), E.tok_reader, o64, d2);
		free(pl);
		free(o64);
	}
	/* shapes */
	p = strrchr(toks[T_MINTED], '.');
	toks[T_SIG_STRIPPED] = strndup(toks[T_MINTED],
	    (size_t)(p - toks[T_MINTED]) + 1);
	toks[T_TWO_SEGMENTS] = strndup(toks[T_MINTED],
	    (size_t)(p - toks[T_MINTED]));
	toks[T_FOUR_SEGMENTS] = cat3(toks[T_MINTED], ".", "eA");
	toks[T_FIVE_SEGMENTS] = cat3(toks[T_SIG_STRIPPED], "eA.eA.", "eA");
	toks[T_B64_STD] = strdup(toks[T_MINTED]);
	for (i = 0, p = strrchr(toks[T_B64_STD], '.'); p[i] != '\0'; i++)
		if (p[i] == '-')
			p[i] = '+';
		else if (p[i] == '_')
			p[i] = '/';
	/* make sure the standard alphabet does show */
	p[1] = '+';
	toks[T_B64_PADDED] = cat3(toks[T_MINTED], "=", "");
	/* "eyJ" + 2 chars: 4k+1 base64 characters cannot be decoded */
	a = b64url_encode(HS256, strlen(HS256));
	b = b64url_encode(cl, strlen(cl));
	/* 27 header bytes are 36 characters: one more cannot be decoded */
	in = cat3(a, "A.", b);
	toks[T_B64_BADLEN] = sign_input(in);
	free(in);
	free(a);
	free(b);

	/* header parameters */
	toks[T_KID_TRAVERSAL] = mint("{\"alg\":\"HS256\",\"typ\":\"JWT\","
	    "\"kid\":\"../../../../../../dev/null\"}", cl, "", 0,
	    GNUTLS_MAC_SHA256);
	toks[T_KID_SQLI] = mint("{\"alg\":\"HS256\",\"typ\":\"JWT\","
	    "\"kid\":\"x' UNION SELECT 'k\"}", cl, "k", 1, GNUTLS_MAC_SHA256);
	toks[T_JKU] = mint("{\"alg\":\"HS256\",\"typ\":\"JWT\","
	    "\"jku\":\"http://127.0.0.1:9/jwks.json\"}", cl, secret, secret_len,
	    GNUTLS_MAC_SHA256);
	toks[T_X5U] = mint("{\"alg\":\"HS256\",\"typ\":\"JWT\","
	    "\"x5u\":\"http://127.0.0.1:9/cert.pem\"}", cl, secret, secret_len,
	    GNUTLS_MAC_SHA256);
	toks[T_X5C] = mint("{\"alg\":\"HS256\",\"typ\":\"JWT\","
	    "\"x5c\":[\"MIIB\"]}", cl, secret, secret_len, GNUTLS_MAC_SHA256);
	toks[T_JWK] = mint("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"jwk\":"
	    "{\"kty\":\"oct\",\"k\":\"AAAA\"}}", cl, secret, secret_len,
	    GNUTLS_MAC_SHA256);
	toks[T_CRIT] = mint("{\"alg\":\"HS256\",\"typ\":\"JWT\","
	    "\"crit\":[\"exp\"]}", cl, secret, secret_len, GNUTLS_MAC_SHA256);
	toks[T_TYP_JWE] = mint("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", cl,
	    secret, secret_len, GNUTLS_MAC_SHA256);

	/* claims */
	{
		char q[40], *c2;

		snprintf(q, sizeof(q), "\"%s\"", exp);
		c2 = claims("\"acme\"", "admin", q, NULL);
		toks[T_EXP_STRING] = mint(HS256, c2, secret, secret_len,
		    GNUTLS_MAC_SHA256);
		free(c2);
		c2 = claims("\"acme\"", "admin", past, NULL);
		toks[T_EXPIRED] = mint(HS256, c2, secret, secret_len,
		    GNUTLS_MAC_SHA256);
		free(c2);
		c2 = claims("\"acme\"", "admin", NULL, NULL);
		toks[T_NO_EXP] = mint(HS256, c2, secret, secret_len,
		    GNUTLS_MAC_SHA256);
		free(c2);
		snprintf(nbf, sizeof(nbf), ",\"nbf\":%ld", (long)now + 3600);
		c2 = claims("\"acme\"", "admin", exp, nbf);
		toks[T_NBF_FUTURE] = mint(HS256, c2, secret, secret_len,
		    GNUTLS_MAC_SHA256);
		free(c2);
		c2 = claims("\"acme\",\"org_id\":\"globex\"", "admin", exp,
		    NULL);
		toks[T_CLAIMS_DUP_ORG] = mint(HS256, c2, secret, secret_len,
		    GNUTLS_MAC_SHA256);
		free(c2);
		c2 = claims("42", "admin", exp, NULL);
		toks[T_ORG_NUMBER] = mint(HS256, c2, secret, secret_len,
		    GNUTLS_MAC_SHA256);
		free(c2);
		snprintf(q, sizeof(q), "%s", exp);
		c2 = malloc(512);
		snprintf(c2, 512, "{\"sub\":\"mallory\",\"org_id\":\"acme\","
		    "\"role\":\"admin\",\"iss\":\"HTTPS://ISSUER.TEST\","
		    "\"aud\":\"credstore\",\"exp\":%s}", q);
		toks[T_WRONG_ISS_CASE] = mint(HS256, c2, secret, secret_len,
		    GNUTLS_MAC_SHA256);
		snprintf(c2, 512, "{\"sub\":\"mallory\",\"org_id\":\"acme\","
		    "\"role\":\"admin\",\"iss\":\"https://issuer.test\","
		    "\"aud\":[\"other\"],\"exp\":%s}", q);
		toks[T_AUD_ARRAY_OTHER] = mint(HS256, c2, secret, secret_len,
		    GNUTLS_MAC_SHA256);
		free(c2);
	}
	/* algorithms */
	toks[T_HS512_HDR] = mint("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", cl,
	    secret, secret_len, GNUTLS_MAC_SHA256);
	toks[T_RS256_HMAC] = mint("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", cl,
	    secret, secret_len, GNUTLS_MAC_SHA256);
	toks[T_ALG_LOWER] = mint("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", cl,
	    secret, secret_len, GNUTLS_MAC_SHA256);
	toks[T_ALG_SPACE] = mint("{\"alg\":\"HS256 \",\"typ\":\"JWT\"}", cl,
	    secret, secret_len, GNUTLS_MAC_SHA256);
	toks[T_HDR_DUP_ALG] = mint("{\"alg\":\"HS256\",\"alg\":\"none\"}", cl,
	    secret, secret_len, GNUTLS_MAC_SHA256);
	toks[T_HDR_ARRAY] = mint("[\"HS256\"]", cl, secret, secret_len,
	    GNUTLS_MAC_SHA256);
	toks[T_WRONG_SECRET] = mint(HS256, cl,
	    "0123456789abcdef0123456789abcdef", 32, GNUTLS_MAC_SHA256);
	/* the first half of a valid MAC */
	p = strrchr(toks[T_MINTED], '.');
	toks[T_TRUNCATED_MAC] = strndup(toks[T_MINTED],
	    (size_t)(p - toks[T_MINTED]) + 1 + 22);
	/* 8193 base64url characters */
	toks[T_OVERSIZE] = malloc(8194);
	memset(toks[T_OVERSIZE], 'A', 8193);
	toks[T_OVERSIZE][8193] = '\0';
	memcpy(toks[T_OVERSIZE], toks[T_MINTED], strlen(toks[T_MINTED]));
	free(cl);
	for (i = 1; i < T__MAX; i++)
		ck_assert_msg(toks[i] != NULL, "token %zu not made", i);
}

/* --- generated request parts */

static char *
rep(const char *pre, char c, size_t n, const char *post)
{
	size_t	 lp = strlen(pre), lq = strlen(post);
	char	*s = malloc(lp + n + lq + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, pre, lp);
	memset(s + lp, c, n);
	memcpy(s + lp + n, post, lq + 1);
	return s;
}

static char *
repstr(const char *pre, const char *unit, size_t n, const char *post)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, 16 * 1024 * 1024, 0);
	buf_adds(&b, pre);
	for (i = 0; i < n; i++)
		buf_adds(&b, unit);
	buf_adds(&b, post);
	return buf_steal(&b, NULL);
}

static void
make_parts(void)
{
	struct buf	b;
	size_t		i;
	char		*t, lower[40];

	t = rep("", 'A', 17000, "");
	tok_17000 = cat3("Authorization: Bearer ", t, "\r\n");
	free(t);
	idem_256 = rep("Idempotency-Key: ", 'k', 256, "\r\n");
	idem_20000 = rep("Idempotency-Key: ", 'k', 20000, "\r\n");
	filler_17000 = rep("X-Filler: ", 'f', 17000, "\r\n");
	buf_init(&b, 1024 * 1024, 0);
	for (i = 0; i < 300; i++)
		buf_printf(&b, "X-Many-%03zu: %050zu\r\n", i, i);
	many_headers = buf_steal(&b, NULL);
	ctype_long = rep("Content-Type: application/json", 'x', 5000, "\r\n");
	path_long = rep("/v1/integrations/", 'a', 5000, "/credentials");
	query_long = rep(DD "?", 'q', 9000, "");
	prov_65 = rep("/v1/integrations/", 'a', 65, "/credentials");
	prov_300 = rep("/v1/integrations/", 'a', 300, "/credentials");
	cred_2000 = rep(CRED, 'A', 2000, "");
	/* both under max_body_bytes (16384): credstore parses them */
	t = repstr("", "[", 8000, "");
	deep_8000 = repstr(t, "]", 8000, "");
	free(t);
	open_3000 = repstr("", "{\"a\":", 3000, "");
	label_201 = rep("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":\"", 'L', 201, "\"}");
	label_201_multi = repstr("{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"},\"label\":\"", "\xc3\xa9", 201,
	    "\"}");
	/* a 4097-byte value */
	value_4097 = rep("{\"credentials\":{\"application_key\":\"HOSTILE-a\","
	    "\"api_key\":\"HOSTILE", 'v', 4097 - 7, "\"}}");
	buf_init(&b, 1024 * 1024, 0);
	buf_adds(&b, "{\"credentials\":{\"api_key\":\"HOSTILE-k\","
	    "\"application_key\":\"HOSTILE-a\"");
	for (i = 0; i < 1100; i++)
		buf_printf(&b, ",\"f%zu\":\"\"", i);
	buf_adds(&b, "}}");
	keys_1100 = buf_steal(&b, NULL);
	buf_init(&b, 1024 * 1024, 0);
	buf_printf(&b, FGOOD "&access_token=%s&access_token=%s", E.tok_admin,
	    E.tok_admin);
	form_tok2 = buf_steal(&b, NULL);
	body_20000 = rep("{\"credentials\":{\"application_key\":\"HOSTILE-a\","
	    "\"api_key\":\"HOSTILE", 'v', 20000, "\"}}");
	cursor_200 = rep(DD "?cursor=", 'Q', 200, "");

	/* around a record that exists */
	buf_init(&b, 4096, 0);
	buf_printf(&b, CRED "%s%%2F", real_id);
	real_slash = buf_steal(&b, NULL);
	for (i = 0; real_id[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = (char)((real_id[i] >= 'A' && real_id[i] <= 'Z') ?
		    real_id[i] - 'A' + 'a' : real_id[i]);
	lower[i] = '\0';
	real_lower = cat3(CRED, lower, "");
	real_other_prov = cat3("/v1/integrations/newrelic/credentials/",
	    real_id, "");
	real_nul = cat3(CRED, real_id, "%00");
	real_dotdot = cat3(CRED "..%2F", real_id, "");
	real_put = cat3(CRED, real_id, "");
	real_validate_trav = cat3(CRED, real_id, "/validate/..");
}

/* --- sending */

static char *
build(const struct row *w, size_t *len)
{
	struct buf	 b;
	const char	*target = w->target ? w->target : *w->targetv;
	const char	*body = w->bodyv ? *w->bodyv : w->body;
	size_t		 blen = w->bodyv ? strlen(*w->bodyv) : w->blen, i, n;
	int		 has_body = body != NULL;

	buf_init(&b, 64 * 1024 * 1024, 0);
	buf_printf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Connection: close\r\n", w->method, target, E.port);
	if (w->tok != T_NONE)
		buf_printf(&b, "Authorization: Bearer %s\r\n", toks[w->tok]);
	if (w->ctype != NULL)
		buf_printf(&b, "Content-Type: %s\r\n", w->ctype);
	if (w->hdr != NULL)
		buf_add(&b, w->hdr, w->hlen);
	if (w->hdrv != NULL)
		buf_adds(&b, *w->hdrv);
	switch (w->frame) {
	case FR_CL:
		if (has_body || strcmp(w->method, "POST") == 0 ||
		    strcmp(w->method, "PUT") == 0 ||
		    strcmp(w->method, "PATCH") == 0)
			buf_printf(&b, "Content-Length: %zu\r\n", blen);
		buf_adds(&b, "\r\n");
		if (has_body)
			buf_add(&b, body, blen);
		break;
	case FR_NONE:
		buf_adds(&b, "\r\n");
		if (has_body)
			buf_add(&b, body, blen);
		break;
	case FR_CHUNKED:
		buf_adds(&b, "Transfer-Encoding: chunked\r\n\r\n");
		for (i = 0; i < blen; i += n) {
			n = blen - i < 1000 ? blen - i : 1000;
			buf_printf(&b, "%zx\r\n", n);
			buf_add(&b, body + i, n);
			buf_adds(&b, "\r\n");
		}
		buf_adds(&b, "0\r\n\r\n");
		break;
	}
	return buf_steal(&b, len);
}

static size_t
count_records(const char *tenant)
{
	char	*out = NULL;
	size_t	 n;

	ck_assert_int_eq(h_admin(&E, &out, "list", "--tenant", tenant, NULL),
	    0);
	n = h_lines(out);
	free(out);
	return n;
}

/* The detail list of an error body as ",field:reason," text. */
static void
details(struct json_object *err, char *out, size_t outlen)
{
	struct json_object	*d, *x, *f, *r;
	size_t			 i, n, len;

	snprintf(out, outlen, ",");
	if (!json_object_object_get_ex(err, "details", &d) ||
	    !json_object_is_type(d, json_type_array))
		return;
	n = json_object_array_length(d);
	for (i = 0; i < n; i++) {
		x = json_object_array_get_idx(d, i);
		len = strlen(out);
		if (!json_object_object_get_ex(x, "field", &f) ||
		    !json_object_object_get_ex(x, "reason", &r))
			continue;
		snprintf(out + len, outlen - len, "%s:%s,",
		    json_object_get_string(f), json_object_get_string(r));
	}
}

/*
 * Checks one answer against its row; on a mismatch writes why into err
 * and returns -1.
 */
static int
check_row(const struct row *w, const struct h_resp *r, char *err, size_t n)
{
	struct json_object	*o = NULL, *e = NULL, *c, *m;
	const char		*ct;
	char			 det[4096], want[256];
	int			 rc = -1;

	if (r->status != w->status) {
		ct = h_header(r, "Content-Type");
		snprintf(err, n, "status %ld, want %ld (%s): %.200s", r->status,
		    w->status, ct ? ct : "no Content-Type",
		    ct && strcmp(ct, "application/json") == 0 ? r->body : "");
		return -1;
	}
	if (w->code == NULL)
		return 0;	/* lighttpd's own answer: the status is all */
	ct = h_header(r, "Content-Type");
	if (ct == NULL || strcmp(ct, "application/json") != 0) {
		snprintf(err, n, "Content-Type %s", ct ? ct : "(none)");
		return -1;
	}
	if ((o = json_tokener_parse(r->body)) == NULL ||
	    !json_object_object_get_ex(o, "error", &e) ||
	    !json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "code", &c) ||
	    !json_object_object_get_ex(e, "message", &m) ||
	    !json_object_is_type(m, json_type_string) ||
	    json_object_get_string_len(m) == 0) {
		snprintf(err, n, "not the error shape: %.300s", r->body);
		goto out;
	}
	if (strcmp(json_object_get_string(c), w->code) != 0) {
		snprintf(err, n, "code %s, want %s: %.300s",
		    json_object_get_string(c), w->code, r->body);
		goto out;
	}
	if (strstr(r->body, "HOSTILE") != NULL) {
		snprintf(err, n, "a submitted value is echoed: %.300s",
		    r->body);
		goto out;
	}
	if (w->status == 401) {
		const char *wa = h_header(r, "WWW-Authenticate");

		if (wa == NULL ||
		    strncmp(wa, "Bearer realm=\"credstore\"", 24) != 0) {
			snprintf(err, n, "WWW-Authenticate %s",
			    wa ? wa : "(none)");
			goto out;
		}
	}
	if (w->status == 405 && h_header(r, "Allow") == NULL) {
		snprintf(err, n, "405 without Allow");
		goto out;
	}
	if (w->detail != NULL) {
		details(e, det, sizeof(det));
		snprintf(want, sizeof(want), ",%s,", w->detail);
		if (strstr(det, want) == NULL) {
			snprintf(err, n, "details %s lack %s", det, w->detail);
			goto out;
		}
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

START_TEST(hostile_table)
{
	struct h_resp	 r, g;
	struct json_object *o;
	char		*req, err[1024];
	size_t		 len, i, before, now, failures = 0, lighttpd = 0;
	size_t		 before_all = 0;

	/* two records that must survive everything below */
	ck_assert_int_eq(h_req(&E, "POST", DD, E.tok_admin, JSON,
	    "{\"credentials\":{\"api_key\":\"HOSTILE-keep-1\","
	    "\"application_key\":\"HOSTILE-keep-a\"},\"label\":\"keep\"}", NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 201);
	o = h_json(&r);
	snprintf(real_id, sizeof(real_id), "%s", json_object_get_string(
	    json_object_object_get(o, "credentialId")));
	json_object_put(o);
	h_resp_free(&r);
	ck_assert_int_eq(h_req(&E, "POST",
	    "/v1/integrations/sentry/credentials", E.tok_admin, FORM,
	    "credentials[auth_token]=HOSTILE-keep-2", NULL, &r), 0);
	ck_assert_int_eq(r.status, 201);
	h_resp_free(&r);

	make_tokens();
	make_parts();
	before_all = before = count_records("acme");
	ck_assert_uint_eq(before, 2);
	fprintf(stderr, "hostile: %zu requests\n", NROWS);
	for (i = 0; i < NROWS; i++) {
		req = build(&rows[i], &len);
		(void)h_raw(&E, req, len, rows[i].flags,
		    rows[i].flags & H_RAW_SHUT_WR ? 3000 : 20000, &r, NULL,
		    NULL);
		free(req);
		if (check_row(&rows[i], &r, err, sizeof(err)) == -1) {
			fprintf(stderr, "FAIL row %zu \"%s\": %s\n", i,
			    rows[i].name, err);
			failures++;
		}
		if (rows[i].code == NULL)
			lighttpd++;
		h_resp_free(&r);
		now = count_records("acme");
		if (now != before) {
			fprintf(stderr, "FAIL row %zu \"%s\": the store "
			    "changed (%zu records, was %zu)\n", i, rows[i].name,
			    now, before);
			failures++;
			before = now;
		}
	}
	fprintf(stderr, "hostile: %zu requests, %zu answered by lighttpd "
	    "itself, %zu failures\n", NROWS, lighttpd, failures);

	/* the kept record still reads and decrypts; verify passes */
	ck_assert_int_eq(h_req(&E, "GET", real_put, E.tok_reader, NULL, NULL,
	    NULL, &g), 0);
	ck_assert_int_eq(g.status, 200);
	ck_assert(strstr(g.body, "\"label\":\"keep\"") != NULL);
	h_resp_free(&g);
	{
		char *out = NULL;

		ck_assert_int_eq(h_admin(&E, &out, "verify", NULL), 0);
		free(out);
	}
	/* the service still answers */
	ck_assert_int_eq(h_req(&E, "GET", "/healthz", NULL, NULL, NULL, NULL,
	    &g), 0);
	ck_assert_int_eq(g.status, 200);
	h_resp_free(&g);
	ck_assert_uint_ge(NROWS, 100);
	ck_assert_uint_eq(failures, 0);
	/* and the store is as it was */
	ck_assert_uint_eq(count_records("acme"), before_all);
}
END_TEST

/* No credential value in the logs, whatever was thrown at the service. */
START_TEST(logs_clean)
{
	char path[700];

	ck_assert(!h_grep_file(E.errlog, "HOSTILE"));
	snprintf(path, sizeof(path), "%s/www/error.log", E.dir);
	ck_assert(!h_grep_file(path, "HOSTILE"));
	ck_assert(!h_grep_tree(E.data_dir, "HOSTILE"));
	/* the log has the requests: the test can fail */
	ck_assert(h_grep_file(E.errlog, "-> 400"));
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
	size_t		 i;
	struct h_opts	 o = { .conf_extra = NULL, .procs = 2 };

	signal(SIGPIPE, SIG_IGN);
	h_setup(&E, &o);
	s = suite_create("e2e_hostile");
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, hostile_table);
	tcase_add_test(tc, logs_clean);
	tcase_add_test(tc, sanitizers_quiet);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_teardown(&E);
	for (i = 0; i < T__MAX; i++)
		free(toks[i]);
	if (secret != NULL)
		jwt_secret_free(secret);
	return failed == 0 ? 0 : 1;
}
