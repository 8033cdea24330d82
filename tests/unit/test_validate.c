#include "cs_build.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "apierr.h"
#include "catalog.h"
#include "credset.h"
#include "http.h"
#include "validate.h"
#include "ck_run.h"

/*
 * Unit tests of the typed validators, the JSON and form body parsers and
 * the check of a parsed body against a catalog entry (validate.c).
 * Every credential value below contains "SECRET", no field name does:
 * after each check the error details are searched for that marker.
 */

#define NROWS(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define MARK		"SECRET"

/*
 * Table tests run every row in one test and report all mismatching rows
 * at the end (one fork per table instead of one per row keeps the program
 * fast; a failing row does not hide the rows after it).
 */
struct report {
	char	 text[6000];
	size_t	 len;
	int	 n;
};

static void	report_add(struct report *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
report_add(struct report *r, const char *fmt, ...)
{
	va_list	 ap;
	int	 w;

	r->n++;
	if (r->len + 2 >= sizeof(r->text))
		return;
	va_start(ap, fmt);
	w = vsnprintf(r->text + r->len, sizeof(r->text) - r->len - 1, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	r->len += (size_t)w;
	if (r->len > sizeof(r->text) - 2)
		r->len = sizeof(r->text) - 2;
	r->text[r->len++] = '\n';
	r->text[r->len] = '\0';
}

/* A detail's reason as the JSON says it. */
#define REASON(d)	apierr_reason_code((d).reason)

#define REPORT_INIT(r)	memset((r), 0, sizeof(*(r)))
#define REPORT_END(r)	ck_assert_msg((r)->n == 0, "%d row(s) failed:\n%s", \
			    (r)->n, (r)->text)

/* --- validate_scalar -------------------------------------------------- */

#define E_EMPTY		"empty"
#define E_LONG		"too_long"
#define E_SHORT		"too_short"
#define E_CHARS		"invalid_characters"

/*
 * One value: prefix, then `unit` repeated `reps` times, then suffix.
 * unitlen 0 means strlen(unit) (set it for units with a NUL byte).
 */
static const struct {
	enum vkind	 kind;
	const char	*prefix;
	const char	*unit;
	size_t		 unitlen;
	size_t		 reps;
	const char	*suffix;
	const char	*want;		/* NULL: valid */
} scalar_rows[] = {
	/* provider ids: [a-z0-9][a-z0-9_-]{0,63} */
	{ VK_PROVIDER, "", "datadog", 0, 1, "", NULL },
	{ VK_PROVIDER, "", "a", 0, 1, "", NULL },
	{ VK_PROVIDER, "", "0", 0, 1, "", NULL },
	{ VK_PROVIDER, "", "a0_b-c9", 0, 1, "", NULL },
	{ VK_PROVIDER, "", "a", 0, 64, "", NULL },
	{ VK_PROVIDER, "", "a", 0, 65, "", E_LONG },
	{ VK_PROVIDER, "", "", 0, 1, "", E_EMPTY },
	{ VK_PROVIDER, "", "Datadog", 0, 1, "", E_CHARS },
	{ VK_PROVIDER, "", "-abc", 0, 1, "", E_CHARS },
	{ VK_PROVIDER, "", "_abc", 0, 1, "", E_CHARS },
	{ VK_PROVIDER, "", "a.b", 0, 1, "", E_CHARS },
	{ VK_PROVIDER, "", "a b", 0, 1, "", E_CHARS },
	{ VK_PROVIDER, "", "../x", 0, 1, "", E_CHARS },
	{ VK_PROVIDER, "", "a\0b", 3, 1, "", E_CHARS },
	{ VK_PROVIDER, "", "d\xc3\xa4t", 0, 1, "", E_CHARS },

	/* credential ids: crd_ + 26 Crockford base32, first digit 0-7 */
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR3KF8MZWBYD5N6JCE", 0, 1, "",
	    NULL },
	{ VK_CREDENTIAL_ID, "crd_7", "Z", 0, 25, "", NULL },
	{ VK_CREDENTIAL_ID, "crd_0", "0", 0, 25, "", NULL },
	{ VK_CREDENTIAL_ID, "crd_8", "Z", 0, 25, "", E_CHARS },
	{ VK_CREDENTIAL_ID, "crd_Z", "0", 0, 25, "", E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd_01hx9vtpqr3kf8mzwbyd5n6jce", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR3KF8MZWBYD5N6JCI", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR3KF8MZWBYD5N6JCL", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR3KF8MZWBYD5N6JCO", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR3KF8MZWBYD5N6JCU", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR3KF8MZWBYD5N6JC-", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "CRD_01HX9VTPQR3KF8MZWBYD5N6JCE", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd-01HX9VTPQR3KF8MZWBYD5N6JCE", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "xyz_01HX9VTPQR3KF8MZWBYD5N6JCE", 0, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR\0KF8MZWBYD5N6JCE", 30, 1, "",
	    E_CHARS },
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR3KF8MZWBYD5N6JC", 0, 1, "",
	    E_SHORT },
	{ VK_CREDENTIAL_ID, "", "crd_01HX9VTPQR3KF8MZWBYD5N6JCEE", 0, 1, "",
	    E_LONG },
	{ VK_CREDENTIAL_ID, "", "", 0, 1, "", E_EMPTY },

	/* labels: 1-200 characters, a multi-byte character counts once */
	{ VK_LABEL, "", "Production", 0, 1, "", NULL },
	{ VK_LABEL, "", "Prod \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c\xac", 0, 1, "",
	    NULL },
	{ VK_LABEL, "", "a", 0, 200, "", NULL },
	{ VK_LABEL, "", "a", 0, 201, "", E_LONG },
	{ VK_LABEL, "", "\xc3\xa9", 0, 200, "", NULL },		/* 400 bytes */
	{ VK_LABEL, "", "\xc3\xa9", 0, 201, "", E_LONG },
	{ VK_LABEL, "", "\xe2\x82\xac", 0, 200, "", NULL },	/* 600 bytes */
	{ VK_LABEL, "", "\xe2\x82\xac", 0, 201, "", E_LONG },
	{ VK_LABEL, "", "\xf0\x9f\x98\x80", 0, 200, "", NULL },	/* 800 bytes */
	{ VK_LABEL, "", "\xf0\x9f\x98\x80", 0, 201, "", E_LONG },
	{ VK_LABEL, "", "a", 0, 199, "\xc3\xa9", NULL },
	{ VK_LABEL, "", "a", 0, 200, "\xc3\xa9", E_LONG },
	{ VK_LABEL, "", "\xf0\x9f\x98\x80", 0, 199, "a", NULL },
	{ VK_LABEL, "", "", 0, 1, "", E_EMPTY },
	{ VK_LABEL, "", "ab\x01", 0, 1, "", E_CHARS },
	{ VK_LABEL, "", "a\tb", 0, 1, "", E_CHARS },
	{ VK_LABEL, "", "a\nb", 0, 1, "", E_CHARS },
	{ VK_LABEL, "", "a\rb", 0, 1, "", E_CHARS },
	{ VK_LABEL, "", "a\x7f", 0, 1, "", E_CHARS },
	{ VK_LABEL, "", "a\0b", 3, 1, "", E_CHARS },
	{ VK_LABEL, "", "\xff", 0, 1, "", E_CHARS },
	{ VK_LABEL, "", "ab\xc3", 0, 1, "", E_CHARS },		/* truncated */
	{ VK_LABEL, "", "\xc0\xaf", 0, 1, "", E_CHARS },	/* overlong */
	{ VK_LABEL, "", "\xed\xa0\x80", 0, 1, "", E_CHARS },	/* surrogate */
	{ VK_LABEL, "", "\xc2\x85", 0, 1, "", E_CHARS },	/* C1 NEL */
	{ VK_LABEL, "", "\xf4\x90\x80\x80", 0, 1, "", E_CHARS },	/* > U+10FFFF */

	/* credential values: 1-4096 bytes of clean UTF-8 */
	{ VK_CRED_VALUE, "", "sk_live_+/=:@ !~", 0, 1, "", NULL },
	{ VK_CRED_VALUE, "", "x", 0, 4096, "", NULL },
	{ VK_CRED_VALUE, "", "x", 0, 4097, "", E_LONG },
	{ VK_CRED_VALUE, "", "\xc3\xa9", 0, 2048, "", NULL },
	{ VK_CRED_VALUE, "", "\xc3\xa9", 0, 2048, "a", E_LONG },
	{ VK_CRED_VALUE, "", "", 0, 1, "", E_EMPTY },
	{ VK_CRED_VALUE, "", "abc\x01", 0, 1, "", E_CHARS },
	{ VK_CRED_VALUE, "", "abc\n", 0, 1, "", E_CHARS },
	{ VK_CRED_VALUE, "", "abc\0", 4, 1, "", E_CHARS },
	{ VK_CRED_VALUE, "", "\xff\xfe", 0, 1, "", E_CHARS },

	/* idempotency keys: 1-255 printable ASCII */
	{ VK_IDEMPOTENCY_KEY, "", "k", 0, 255, "", NULL },
	{ VK_IDEMPOTENCY_KEY, "", "k", 0, 256, "", E_LONG },
	{ VK_IDEMPOTENCY_KEY, "", "key with spaces ~!{}", 0, 1, "", NULL },
	{ VK_IDEMPOTENCY_KEY, "", "", 0, 1, "", E_EMPTY },
	{ VK_IDEMPOTENCY_KEY, "", "a\tb", 0, 1, "", E_CHARS },
	{ VK_IDEMPOTENCY_KEY, "", "a\nb", 0, 1, "", E_CHARS },
	{ VK_IDEMPOTENCY_KEY, "", "a\x7f", 0, 1, "", E_CHARS },
	{ VK_IDEMPOTENCY_KEY, "", "a\0b", 3, 1, "", E_CHARS },
	{ VK_IDEMPOTENCY_KEY, "", "\xc3\xa9", 0, 1, "", E_CHARS },

	/* tokens: 1-8192 of base64url and dots */
	{ VK_TOKEN, "", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.ab-_Z9", 0, 1, "",
	    NULL },
	{ VK_TOKEN, "", "a", 0, 8192, "", NULL },
	{ VK_TOKEN, "", "a", 0, 8193, "", E_LONG },
	{ VK_TOKEN, "", "", 0, 1, "", E_EMPTY },
	{ VK_TOKEN, "", "a+b", 0, 1, "", E_CHARS },
	{ VK_TOKEN, "", "a/b", 0, 1, "", E_CHARS },
	{ VK_TOKEN, "", "a=", 0, 1, "", E_CHARS },
	{ VK_TOKEN, "", "a b", 0, 1, "", E_CHARS },
	{ VK_TOKEN, "", "a\0b", 3, 1, "", E_CHARS },
	{ VK_TOKEN, "", "\xc3\xa9", 0, 1, "", E_CHARS },
};

START_TEST(test_validate_scalar)
{
	struct report	 r;
	size_t		 ul, pl, sl, len, i;
	char		*s;
	const char	*got, *want;
	int		 row;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(scalar_rows); row++) {
		want = scalar_rows[row].want;
		ul = scalar_rows[row].unitlen ? scalar_rows[row].unitlen :
		    strlen(scalar_rows[row].unit);
		pl = strlen(scalar_rows[row].prefix);
		sl = strlen(scalar_rows[row].suffix);
		len = pl + ul * scalar_rows[row].reps + sl;
		s = malloc(len + 1);
		ck_assert_ptr_nonnull(s);
		memcpy(s, scalar_rows[row].prefix, pl);
		for (i = 0; i < scalar_rows[row].reps; i++)
			memcpy(s + pl + i * ul, scalar_rows[row].unit, ul);
		memcpy(s + pl + scalar_rows[row].reps * ul,
		    scalar_rows[row].suffix, sl);
		s[len] = '\0';
		got = validate_scalar(scalar_rows[row].kind, s, len);
		if (want == NULL ? got != NULL :
		    (got == NULL || strcmp(got, want) != 0))
			report_add(&r, "row %d (kind %d, %zu bytes): want %s, "
			    "got %s", row, (int)scalar_rows[row].kind, len,
			    want ? want : "valid", got ? got : "valid");
		free(s);
	}
	REPORT_END(&r);
}
END_TEST

START_TEST(test_validate_scalar_misuse)
{
	ck_assert_ptr_nonnull(validate_scalar(VK__MAX, "abc", 3));
	ck_assert_ptr_nonnull(validate_scalar(VK_LABEL, NULL, 0));
	ck_assert_ptr_nonnull(validate_scalar(VK_LABEL, NULL, 5));
	/* only len bytes are looked at */
	ck_assert_ptr_null(validate_scalar(VK_PROVIDER, "abc DEF", 3));
	ck_assert_str_eq(validate_scalar(VK_PROVIDER, "abc DEF", 4), E_CHARS);
}
END_TEST

/* --- helpers ---------------------------------------------------------- */

static void
dump_details(const struct apierr *e, char *out, size_t n)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < e->nd && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "[%s %s] ", e->d[i].field,
		    REASON(e->d[i]) ? REASON(e->d[i]) : "(null)");
}

/*
 * 0 when e holds exactly the details given as field/reason pairs ending
 * with NULL, in that order; else 1 with what differs in out.
 */
static int
details_differ(const struct apierr *e, const char *const *want, char *out,
    size_t outlen)
{
	char	 got[2048];
	size_t	 n = 0, i;

	while (want[2 * n] != NULL)
		n++;
	dump_details(e, got, sizeof(got));
	if (e->nd != n) {
		snprintf(out, outlen, "want %zu details, got %zu: %s", n, e->nd,
		    got);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (strcmp(e->d[i].field, want[2 * i]) != 0 ||
		    REASON(e->d[i]) == NULL ||
		    strcmp(REASON(e->d[i]), want[2 * i + 1]) != 0) {
			snprintf(out, outlen, "detail %zu: want [%s %s], got %s",
			    i, want[2 * i], want[2 * i + 1], got);
			return 1;
		}
	return 0;
}

static void
assert_details(const struct apierr *e, const char *const *want,
    const char *ctx)
{
	char diff[2300];

	ck_assert_msg(!details_differ(e, want, diff, sizeof(diff)), "%s: %s",
	    ctx, diff);
}

/* 1 when a detail or the message contains the marker of values. */
static int
secret_echoed(const struct apierr *e)
{
	size_t i;

	for (i = 0; i < e->nd; i++)
		if (strstr(e->d[i].field, MARK) != NULL ||
		    (REASON(e->d[i]) != NULL && strstr(REASON(e->d[i]), MARK)))
			return 1;
	return e->message != NULL && strstr(e->message, MARK) != NULL;
}

#define D(...)	((const char *const []){ __VA_ARGS__, NULL })
#define NONE	((const char *const []){ NULL })

static int
parse_json(const char *body, size_t len, struct req_input *in,
    struct apierr *e)
{
	input_init(in);
	apierr_init(e, AE_VALIDATION, NULL);
	return input_parse_json(body, len, in, e);
}

static int
parse_form(const char *body, size_t len, struct req_input *in,
    struct apierr *e)
{
	input_init(in);
	apierr_init(e, AE_VALIDATION, NULL);
	return input_parse_form(body, len, in, e);
}

/* --- input_parse_json ------------------------------------------------- */

START_TEST(test_json_valid)
{
	static const char body[] =
	    " {\"credentials\": {\"api_key\": \"SECRET-1\", "
	    "\"application_key\": \"SECRET-\\u00e9\\n\"}, "
	    "\"label\": \"Prod \\u00e9\"}\n";
	struct req_input	in;
	struct apierr		e;

	ck_assert_int_eq(parse_json(body, strlen(body), &in, &e), 0);
	assert_details(&e, NONE, "valid");
	ck_assert_ptr_null(e.message);
	ck_assert_int_eq(in.has_credentials, 1);
	ck_assert_uint_eq(in.nf, 2);
	ck_assert_str_eq(in.f[0].name, "api_key");
	ck_assert_str_eq(in.f[0].value, "SECRET-1");
	ck_assert_uint_eq(in.f[0].len, 8);
	ck_assert_int_eq(in.f[0].dup, 0);
	ck_assert_str_eq(in.f[1].name, "application_key");
	ck_assert_str_eq(in.f[1].value, "SECRET-\xc3\xa9\n");
	ck_assert_uint_eq(in.f[1].len, 10);
	ck_assert_int_eq(in.label_state, VS_STRING);
	ck_assert_str_eq(in.label, "Prod \xc3\xa9");
	ck_assert_uint_eq(in.label_len, 7);
	ck_assert_ptr_null(in.access_token);
	ck_assert_ptr_null(in.csrf_token);
	input_free(&in);
	ck_assert_uint_eq(in.nf, 0);
	ck_assert_ptr_null(in.label);
	input_free(&in);
}
END_TEST

START_TEST(test_json_nul_escape)
{
	static const char body[] = "{\"credentials\":{\"a\":\"x\\u0000y\"}}";
	struct req_input	in;
	struct apierr		e;

	ck_assert_int_eq(parse_json(body, strlen(body), &in, &e), 0);
	ck_assert_uint_eq(in.nf, 1);
	ck_assert_uint_eq(in.f[0].len, 3);
	ck_assert_mem_eq(in.f[0].value, "x\0y", 4);
	input_free(&in);
}
END_TEST

static const struct {
	const char	*body;
	size_t		 len;		/* 0: strlen */
	const char	*reason;
	const char	*message;
} json_bad_rows[] = {
	{ "", 0, "malformed_json", "Malformed JSON body" },
	{ "   ", 0, "malformed_json", "Malformed JSON body" },
	{ "{", 0, "malformed_json", "Malformed JSON body" },
	{ "{\"credentials\":}", 0, "malformed_json", "Malformed JSON body" },
	{ "{\"label\":\"a\",}", 0, "malformed_json", "Malformed JSON body" },
	{ "{'label':'a'}", 0, "malformed_json", "Malformed JSON body" },
	{ "{} {}", 0, "malformed_json", "Malformed JSON body" },
	{ "{}x", 0, "malformed_json", "Malformed JSON body" },
	{ "[1,]", 0, "malformed_json", "Malformed JSON body" },
	{ "nul", 0, "malformed_json", "Malformed JSON body" },
	{ "{\"label\":\"\xff\"}", 0, "malformed_json", "Malformed JSON body" },
	{ "{\"label\":\"a\0\"}", 13, "malformed_json", "Malformed JSON body" },
	{ "{\"credentials\":{\"a\":[[[[[[[[[[\"SECRET\"]]]]]]]]]]}}", 0,
	    "malformed_json", "Malformed JSON body" },
	{ "{\"label\":\"a\",\"label\":\"b\"}", 0, "duplicate_key",
	    "Malformed JSON body" },
	{ "{\"credentials\":{},\"credentials\":{}}", 0, "duplicate_key",
	    "Malformed JSON body" },
	{ "{\"credentials\":{\"api_key\":\"SECRET-1\",\"api_key\":\"SECRET-2\"}}",
	    0, "duplicate_key", "Malformed JSON body" },
	{ "{\"credentials\":{\"a\":{\"x\":1,\"x\":2}}}", 0, "duplicate_key",
	    "Malformed JSON body" },
	{ "[]", 0, "must_be_object", "The body must be a JSON object" },
	{ "\"SECRET\"", 0, "must_be_object", "The body must be a JSON object" },
	{ "[1]", 0, "must_be_object", "The body must be a JSON object" },
	{ "42\n", 0, "must_be_object", "The body must be a JSON object" },
	{ "42", 0, "must_be_object", "The body must be a JSON object" },
	{ "null ", 0, "must_be_object", "The body must be a JSON object" },
	{ "null", 0, "must_be_object", "The body must be a JSON object" },
	{ "true", 0, "must_be_object", "The body must be a JSON object" },
};

START_TEST(test_json_bad)
{
	struct report		 r;
	struct req_input	 in;
	struct apierr		 e;
	const char		*body;
	size_t			 len;
	char			 diff[2300];
	int			 row, rc;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(json_bad_rows); row++) {
		body = json_bad_rows[row].body;
		len = json_bad_rows[row].len ? json_bad_rows[row].len :
		    strlen(body);
		rc = parse_json(body, len, &in, &e);
		if (rc != -1)
			report_add(&r, "row %d %s: returned %d", row, body, rc);
		else if (details_differ(&e, D("body", json_bad_rows[row].reason),
		    diff, sizeof(diff)))
			report_add(&r, "row %d %s: %s", row, body, diff);
		else if (e.message == NULL ||
		    strcmp(e.message, json_bad_rows[row].message) != 0)
			report_add(&r, "row %d: message %s", row,
			    e.message ? e.message : "(null)");
		else if (in.nf != 0 || in.has_credentials)
			report_add(&r, "row %d: fields recorded", row);
		else if (secret_echoed(&e))
			report_add(&r, "row %d: value echoed", row);
		input_free(&in);
	}
	REPORT_END(&r);
}
END_TEST

static const char *const creds_not_object[] = {
	"\"SECRET\"", "[]", "[\"SECRET\"]", "null", "1", "true",
};

START_TEST(test_json_credentials_not_object)
{
	struct report		 r;
	struct req_input	 in;
	struct apierr		 e;
	char			 body[128], diff[2300];
	int			 row, rc;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(creds_not_object); row++) {
		snprintf(body, sizeof(body),
		    "{\"credentials\": %s, \"label\": \"x\"}",
		    creds_not_object[row]);
		rc = parse_json(body, strlen(body), &in, &e);
		if (rc != 0)
			report_add(&r, "%s: returned %d", body, rc);
		else if (details_differ(&e, D("credentials", "must_be_object"),
		    diff, sizeof(diff)))
			report_add(&r, "%s: %s", body, diff);
		else if (in.has_credentials || in.nf != 0 ||
		    in.label_state != VS_STRING)
			report_add(&r, "%s: wrong state", body);
		else if (secret_echoed(&e))
			report_add(&r, "%s: value echoed", body);
		input_free(&in);
	}
	REPORT_END(&r);
}
END_TEST

START_TEST(test_json_non_string_values)
{
	static const char body[] = "{\"credentials\":{\"a\":1,\"b\":null,"
	    "\"c\":true,\"d\":{},\"e\":[\"SECRET\"],\"f\":\"SECRET\",\"g\":1.5}}";
	static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g" };
	struct req_input	in;
	struct apierr		e;
	size_t			i;

	ck_assert_int_eq(parse_json(body, strlen(body), &in, &e), 0);
	assert_details(&e, NONE, "non-string");
	ck_assert_int_eq(in.has_credentials, 1);
	ck_assert_uint_eq(in.nf, 7);
	for (i = 0; i < 7; i++) {
		ck_assert_str_eq(in.f[i].name, names[i]);
		ck_assert_int_eq(in.f[i].dup, 0);
		if (i == 5) {
			ck_assert_str_eq(in.f[i].value, "SECRET");
			ck_assert_uint_eq(in.f[i].len, 6);
		} else {
			ck_assert_msg(in.f[i].value == NULL, "field %s", names[i]);
			ck_assert_uint_eq(in.f[i].len, 0);
		}
	}
	input_free(&in);
}
END_TEST

static const struct {
	const char		*label;		/* JSON text; NULL: absent */
	enum value_state	 state;
	const char		*value;
} label_rows[] = {
	{ NULL, VS_ABSENT, NULL },
	{ "null", VS_NULL, NULL },
	{ "5", VS_BAD_TYPE, NULL },
	{ "1.5", VS_BAD_TYPE, NULL },
	{ "true", VS_BAD_TYPE, NULL },
	{ "{}", VS_BAD_TYPE, NULL },
	{ "[\"x\"]", VS_BAD_TYPE, NULL },
	{ "\"Production\"", VS_STRING, "Production" },
	{ "\"\"", VS_STRING, "" },
};

START_TEST(test_json_label_states)
{
	struct report		 r;
	struct req_input	 in;
	struct apierr		 e;
	char			 body[128];
	const char		*want;
	int			 row, rc;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(label_rows); row++) {
		want = label_rows[row].value;
		if (label_rows[row].label != NULL)
			snprintf(body, sizeof(body),
			    "{\"label\":%s,\"credentials\":{}}",
			    label_rows[row].label);
		else
			snprintf(body, sizeof(body), "{\"credentials\":{}}");
		rc = parse_json(body, strlen(body), &in, &e);
		if (rc != 0 || e.nd != 0)
			report_add(&r, "%s: returned %d with %zu details", body,
			    rc, e.nd);
		else if (in.label_state != label_rows[row].state)
			report_add(&r, "%s: state %d, want %d", body,
			    (int)in.label_state, (int)label_rows[row].state);
		else if (want == NULL ? in.label != NULL : (in.label == NULL ||
		    strcmp(in.label, want) != 0 || in.label_len != strlen(want)))
			report_add(&r, "%s: label '%s'", body,
			    in.label ? in.label : "(null)");
		input_free(&in);
	}
	REPORT_END(&r);
}
END_TEST

static const struct {
	const char	*body;
	const char	*field;
} unknown_rows[] = {
	{ "{\"credentials\":{},\"extra\":\"SECRET\"}", "extra" },
	{ "{\"extra\":1,\"credentials\":{}}", "extra" },
	{ "{\"credentials\":{},\"Label\":\"x\"}", "Label" },
	{ "{\"credentials\":{},\"access_token\":\"SECRET\"}", "access_token" },
	{ "{\"credentials\":{},\"bad key!\":1}", "?" },
	{ "{\"credentials\":{},\"\":1}", "?" },
	{ "{\"credentials\":{},\"SECRET<script>\":1}", "?" },
};

START_TEST(test_json_unknown_field)
{
	struct report		 r;
	struct req_input	 in;
	struct apierr		 e;
	const char		*body;
	char			 diff[2300];
	int			 row, rc;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(unknown_rows); row++) {
		body = unknown_rows[row].body;
		rc = parse_json(body, strlen(body), &in, &e);
		if (rc != 0)
			report_add(&r, "%s: returned %d", body, rc);
		else if (details_differ(&e, D(unknown_rows[row].field,
		    "unknown_field"), diff, sizeof(diff)))
			report_add(&r, "%s: %s", body, diff);
		else if (!in.has_credentials || in.access_token != NULL)
			report_add(&r, "%s: wrong state", body);
		else if (secret_echoed(&e))
			report_add(&r, "%s: value echoed", body);
		input_free(&in);
	}
	REPORT_END(&r);
}
END_TEST

START_TEST(test_json_too_many_fields)
{
	char			*body;
	size_t			 o = 0, i, n = INPUT_MAX_FIELDS + 1;
	size_t			 cap = 32 * n + 64;
	struct req_input	 in;
	struct apierr		 e;

	body = malloc(cap);
	ck_assert_ptr_nonnull(body);
	o += (size_t)snprintf(body, cap, "{\"credentials\":{");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(body + o, cap - o, "%s\"f%zu\":\"v\"",
		    i ? "," : "", i);
	o += (size_t)snprintf(body + o, cap - o, "}}");
	ck_assert_uint_lt(o, cap);
	(void)parse_json(body, o, &in, &e);
	assert_details(&e, D("credentials", "too_many_fields"), "65 fields");
	ck_assert_uint_eq(in.nf, INPUT_MAX_FIELDS);
	input_free(&in);
	free(body);
}
END_TEST

/* --- input_parse_form ------------------------------------------------- */

START_TEST(test_form_valid)
{
	static const char body[] = "credentials%5Bapi_key%5D=a+b%20c%2B%26%3d"
	    "&credentials[site]=%c3%a9u&label=My+Label"
	    "&access_token=tok.en-_&csrf_token=c%2Fs";
	struct req_input	in;
	struct apierr		e;

	ck_assert_int_eq(parse_form(body, strlen(body), &in, &e), 0);
	assert_details(&e, NONE, "form");
	ck_assert_int_eq(in.has_credentials, 1);
	ck_assert_uint_eq(in.nf, 2);
	ck_assert_str_eq(in.f[0].name, "api_key");
	ck_assert_str_eq(in.f[0].value, "a b c+&=");
	ck_assert_uint_eq(in.f[0].len, 8);
	ck_assert_int_eq(in.f[0].dup, 0);
	ck_assert_str_eq(in.f[1].name, "site");
	ck_assert_str_eq(in.f[1].value, "\xc3\xa9u");
	ck_assert_int_eq(in.label_state, VS_STRING);
	ck_assert_str_eq(in.label, "My Label");
	ck_assert_uint_eq(in.label_len, 8);
	ck_assert_ptr_nonnull(in.access_token);
	ck_assert_str_eq(in.access_token, "tok.en-_");
	ck_assert_ptr_nonnull(in.csrf_token);
	ck_assert_str_eq(in.csrf_token, "c/s");
	input_free(&in);
	ck_assert_ptr_null(in.access_token);
}
END_TEST

START_TEST(test_form_empty_parts)
{
	struct req_input	in;
	struct apierr		e;

	ck_assert_int_eq(parse_form("", 0, &in, &e), 0);
	assert_details(&e, NONE, "empty");
	ck_assert_int_eq(in.has_credentials, 0);
	ck_assert_uint_eq(in.nf, 0);
	ck_assert_int_eq(in.label_state, VS_ABSENT);
	input_free(&in);

	ck_assert_int_eq(parse_form("&&label=x&&", 11, &in, &e), 0);
	assert_details(&e, NONE, "ampersands");
	ck_assert_str_eq(in.label, "x");
	input_free(&in);

	ck_assert_int_eq(parse_form("label=&credentials[a]=", 22, &in, &e), 0);
	assert_details(&e, NONE, "empty values");
	ck_assert_int_eq(in.label_state, VS_STRING);
	ck_assert_str_eq(in.label, "");
	ck_assert_uint_eq(in.label_len, 0);
	ck_assert_uint_eq(in.nf, 1);
	ck_assert_str_eq(in.f[0].value, "");
	ck_assert_uint_eq(in.f[0].len, 0);
	input_free(&in);

	/* only len bytes are read */
	ck_assert_int_eq(parse_form("label=abc&label=zzz", 9, &in, &e), 0);
	assert_details(&e, NONE, "bounded");
	ck_assert_str_eq(in.label, "abc");
	input_free(&in);
}
END_TEST

START_TEST(test_form_nul_value)
{
	struct req_input	in;
	struct apierr		e;

	ck_assert_int_eq(parse_form("credentials[a]=x%00y", 20, &in, &e), 0);
	ck_assert_uint_eq(in.nf, 1);
	ck_assert_uint_eq(in.f[0].len, 3);
	ck_assert_mem_eq(in.f[0].value, "x\0y", 4);
	input_free(&in);
}
END_TEST

static const char *const form_bad_rows[] = {
	"label=%zz",
	"label=%4",
	"label=%",
	"label=a%",
	"credentials[a]=SECRET%G0",
	"credentials[a]=SECRET%0",
	"credentials%5=x",
	"%=x",
	"label",
	"credentials[a]",
	"label=x&credentials[a]",
};

START_TEST(test_form_malformed)
{
	struct report		 r;
	struct req_input	 in;
	struct apierr		 e;
	const char		*body;
	char			 diff[2300];
	int			 row, rc;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(form_bad_rows); row++) {
		body = form_bad_rows[row];
		rc = parse_form(body, strlen(body), &in, &e);
		if (rc != -1)
			report_add(&r, "%s: returned %d", body, rc);
		else if (details_differ(&e, D("body", "malformed_form"), diff,
		    sizeof(diff)))
			report_add(&r, "%s: %s", body, diff);
		else if (e.message == NULL ||
		    strcmp(e.message, "Malformed form body") != 0)
			report_add(&r, "%s: message %s", body,
			    e.message ? e.message : "(null)");
		else if (secret_echoed(&e))
			report_add(&r, "%s: value echoed", body);
		input_free(&in);
	}
	REPORT_END(&r);
}
END_TEST

START_TEST(test_form_nul_in_name)
{
	struct req_input	in;
	struct apierr		e;

	ck_assert_int_eq(parse_form("lab%00el=x", 10, &in, &e), -1);
	assert_details(&e, D("body", "malformed_form"), "NUL in a name");
	ck_assert_ptr_null(in.label);
	input_free(&in);
	ck_assert_int_eq(parse_form("credentials[a%00b]=x", 20, &in, &e), -1);
	assert_details(&e, D("body", "malformed_form"), "NUL in a field");
	ck_assert_uint_eq(in.nf, 0);
	input_free(&in);
}
END_TEST

START_TEST(test_form_repeats)
{
	static const char creds[] = "credentials[a]=SECRET-1&credentials[b]=2"
	    "&credentials[a]=SECRET-3";
	static const char labels[] = "label=first&label=SECRET";
	static const char tokens[] = "access_token=one&csrf_token=c1"
	    "&access_token=SECRET&csrf_token=SECRET";
	struct req_input	in;
	struct apierr		e;

	ck_assert_int_eq(parse_form(creds, strlen(creds), &in, &e), 0);
	assert_details(&e, NONE, creds);
	ck_assert_uint_eq(in.nf, 2);
	ck_assert_str_eq(in.f[0].name, "a");
	ck_assert_int_eq(in.f[0].dup, 1);
	ck_assert_str_eq(in.f[0].value, "SECRET-1");
	ck_assert_str_eq(in.f[1].name, "b");
	ck_assert_int_eq(in.f[1].dup, 0);
	input_free(&in);

	ck_assert_int_eq(parse_form(labels, strlen(labels), &in, &e), 0);
	assert_details(&e, D("label", "duplicate"), labels);
	ck_assert_str_eq(in.label, "first");
	ck_assert_msg(!secret_echoed(&e), "%s: value echoed", labels);
	input_free(&in);

	ck_assert_int_eq(parse_form(tokens, strlen(tokens), &in, &e), 0);
	assert_details(&e, D("access_token", "duplicate", "csrf_token",
	    "duplicate"), tokens);
	ck_assert_str_eq(in.access_token, "one");
	ck_assert_str_eq(in.csrf_token, "c1");
	input_free(&in);
}
END_TEST

static const struct {
	const char	*body;
	const char	*field;
} form_unknown_rows[] = {
	{ "credentials[=SECRET", "credentials" },
	{ "credentials[a][b]=SECRET", "credentials" },
	{ "credentials[]=SECRET", "credentials" },
	{ "credentials=SECRET", "credentials" },
	{ "credentials[a=SECRET", "credentials" },
	{ "credentials]a[=SECRET", "credentials" },
	{ "credentials[a]b]=SECRET", "credentials" },
	{ "credentials[[a]=SECRET", "credentials" },
	{ "credentialsX[a]=SECRET", "credentials" },
	{ "foo=SECRET", "foo" },
	{ "Label=SECRET", "Label" },
	{ "bad+key=SECRET", "?" },
	{ "=SECRET", "?" },
};

START_TEST(test_form_unknown)
{
	struct report		 r;
	struct req_input	 in;
	struct apierr		 e;
	const char		*body;
	char			 diff[2300];
	int			 row, rc;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(form_unknown_rows); row++) {
		body = form_unknown_rows[row].body;
		rc = parse_form(body, strlen(body), &in, &e);
		if (rc != 0)
			report_add(&r, "%s: returned %d", body, rc);
		else if (details_differ(&e, D(form_unknown_rows[row].field,
		    "unknown_field"), diff, sizeof(diff)))
			report_add(&r, "%s: %s", body, diff);
		else if (in.nf != 0 || in.has_credentials)
			report_add(&r, "%s: a credential was recorded", body);
		else if (secret_echoed(&e))
			report_add(&r, "%s: value echoed", body);
		input_free(&in);
	}
	REPORT_END(&r);
}
END_TEST

/* --- input_validate --------------------------------------------------- */

static const char catalog_text[] =
    "{\"providers\": [{\"id\": \"acme\", \"name\": \"Acme\", "
    "\"authType\": \"api_key\", "
    "\"requiredFields\": [\"api_key\", \"application_key\"], "
    "\"optionalFields\": [\"site\", \"region\", \"tag\"], "
    "\"fields\": {"
    "\"api_key\": {\"label\": \"API key\", \"secret\": true}, "
    "\"application_key\": {\"label\": \"Application key\", \"secret\": true}, "
    "\"site\": {\"label\": \"Site\", \"secret\": false, "
    "  \"enum\": [\"us.example.com\", \"eu.example.com\"], "
    "  \"default\": \"us.example.com\"}, "
    "\"region\": {\"label\": \"Region\", \"secret\": false, "
    "  \"pattern\": \"^[a-z]{2}-[0-9]$\"}, "
    "\"tag\": {\"label\": \"Tag\", \"secret\": false, \"maxLength\": 8}}}]}";

static struct catalog *cat;
static const struct cat_provider *prov;

static void
catalog_setup(void)
{
	char err[256];

	cat = catalog_parse(catalog_text, strlen(catalog_text), "test-catalog",
	    err, sizeof(err));
	ck_assert_msg(cat != NULL, "%s", err);
	prov = catalog_find(cat, "acme");
	ck_assert_ptr_nonnull(prov);
	ck_assert_uint_eq(prov->nfields, 5);
	ck_assert_uint_eq(prov->nrequired, 2);
}

static void
catalog_teardown(void)
{
	catalog_free(cat);
	cat = NULL;
	prov = NULL;
}

#define A	"\"api_key\":\"SECRET-API-1234567\""
#define B	"\"application_key\":\"SECRET-APP-7654321\""
#define FA	"credentials[api_key]=SECRET-API-1234567"
#define FB	"credentials[application_key]=SECRET-APP-7654321"
#define CR(x)	"{\"credentials\":{" x "}}"

#define MSG_REQ	"Missing required credential fields"
#define MSG_BAD	"Invalid credential fields"

static const struct {
	int			 form;
	const char		*body;
	const char *const	*want;		/* details after parse+validate */
	const char		*message;	/* NULL: none expected */
} vrows[] = {
	/* required */
	{ 0, CR(A), D("credentials.application_key", "required"), MSG_REQ },
	{ 0, CR(B), D("credentials.api_key", "required"), MSG_REQ },
	{ 0, CR(""), D("credentials.api_key", "required",
	    "credentials.application_key", "required"), MSG_REQ },
	{ 0, "{}", D("credentials", "required"), MSG_REQ },
	{ 0, "{\"label\":\"x\"}", D("credentials", "required"), MSG_REQ },
	{ 1, "label=x", D("credentials", "required"), MSG_REQ },
	{ 1, FA, D("credentials.application_key", "required"), MSG_REQ },
	/* unknown_field */
	{ 0, CR(A "," B ",\"bogus\":\"SECRET-B\""),
	    D("credentials.bogus", "unknown_field"), MSG_BAD },
	{ 0, CR(A "," B ",\"API_KEY\":\"SECRET-B\""),
	    D("credentials.API_KEY", "unknown_field"), MSG_BAD },
	{ 0, CR(A "," B ",\"bad name!\":\"SECRET-B\""),
	    D("credentials.?", "unknown_field"), MSG_BAD },
	{ 1, FA "&" FB "&credentials[bad+name]=SECRET",
	    D("credentials.?", "unknown_field"), MSG_BAD },
	/* must_be_string */
	{ 0, CR("\"api_key\":12345," B),
	    D("credentials.api_key", "must_be_string"), MSG_BAD },
	{ 0, CR("\"api_key\":null,\"application_key\":[\"SECRET\"]"),
	    D("credentials.api_key", "must_be_string",
	    "credentials.application_key", "must_be_string"), MSG_BAD },
	{ 0, CR(A ",\"application_key\":{\"v\":\"SECRET\"}"),
	    D("credentials.application_key", "must_be_string"), MSG_BAD },
	/* empty */
	{ 0, CR("\"api_key\":\"\"," B), D("credentials.api_key", "empty"),
	    MSG_BAD },
	{ 1, "credentials[api_key]=&" FB, D("credentials.api_key", "empty"),
	    MSG_BAD },
	{ 0, CR(A "," B ",\"site\":\"\""), D("credentials.site", "empty"),
	    MSG_BAD },
	/* too_long (maxLength of the catalog) */
	{ 0, CR(A "," B ",\"tag\":\"SECRET123\""),
	    D("credentials.tag", "too_long"), MSG_BAD },
	/* invalid_characters */
	{ 0, CR("\"api_key\":\"SECRET\\u0001x\"," B),
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 0, CR("\"api_key\":\"SECRET\\u0000x\"," B),
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 0, CR("\"api_key\":\"SECRET\\nx\"," B),
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 0, CR("\"api_key\":\"SECRET\\u007f\"," B),
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 0, CR("\"api_key\":\"SECRET\\u0085\"," B),
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 1, "credentials[api_key]=SECRET%FF&" FB,
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 1, "credentials[api_key]=SECRET%C3&" FB,
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 1, "credentials[api_key]=SECRET%ED%A0%80&" FB,
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 1, "credentials[api_key]=SECRET%0D%0A&" FB,
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	{ 1, "credentials[api_key]=SECRET%00&" FB,
	    D("credentials.api_key", "invalid_characters"), MSG_BAD },
	/* not_allowed */
	{ 0, CR(A "," B ",\"site\":\"SECRET.example.com\""),
	    D("credentials.site", "not_allowed"), MSG_BAD },
	{ 0, CR(A "," B ",\"site\":\"US.EXAMPLE.COM\""),
	    D("credentials.site", "not_allowed"), MSG_BAD },
	{ 0, CR(A "," B ",\"site\":\"us.example.com \""),
	    D("credentials.site", "not_allowed"), MSG_BAD },
	/* pattern_mismatch */
	{ 0, CR(A "," B ",\"region\":\"SECRET\""),
	    D("credentials.region", "pattern_mismatch"), MSG_BAD },
	{ 0, CR(A "," B ",\"region\":\"eu-12\""),
	    D("credentials.region", "pattern_mismatch"), MSG_BAD },
	{ 0, CR(A "," B ",\"region\":\"xeu-1\""),
	    D("credentials.region", "pattern_mismatch"), MSG_BAD },
	/* duplicate */
	{ 1, FA "&" FB "&credentials[api_key]=SECRET-OTHER",
	    D("credentials.api_key", "duplicate"), MSG_BAD },
	{ 1, "credentials[api_key]=SECRET-1&credentials[api_key]=SECRET-2",
	    D("credentials.api_key", "duplicate",
	    "credentials.application_key", "required"), MSG_BAD },
	/* label */
	{ 0, "{\"label\":5," "\"credentials\":{" A "," B "}}",
	    D("label", "must_be_string"), MSG_BAD },
	{ 0, "{\"label\":\"a\\u0001\"," "\"credentials\":{" A "," B "}}",
	    D("label", "invalid_characters"), MSG_BAD },
	{ 0, "{\"label\":[]}", D("label", "must_be_string",
	    "credentials", "required"), MSG_BAD },
	/* several problems, in order: submitted fields, then required */
	{ 0, CR("\"api_key\":\"\",\"bogus\":\"SECRET\",\"site\":\"SECRET\""),
	    D("credentials.api_key", "empty", "credentials.bogus",
	    "unknown_field", "credentials.site", "not_allowed",
	    "credentials.application_key", "required"), MSG_BAD },
};

START_TEST(test_validate_rows)
{
	struct report		 r;
	struct req_input	 in;
	struct apierr		 e;
	struct credset		 cs;
	const char		*body;
	char			 diff[2300];
	int			 row, rc;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(vrows); row++) {
		body = vrows[row].body;
		rc = vrows[row].form ? parse_form(body, strlen(body), &in, &e) :
		    parse_json(body, strlen(body), &in, &e);
		if (rc != 0) {
			report_add(&r, "row %d %s: parse failed", row, body);
			input_free(&in);
			continue;
		}
		memset(&cs, 0x5a, sizeof(cs));
		rc = input_validate(prov, &in, &cs, &e);
		if (rc != -1) {
			report_add(&r, "row %d %s: accepted", row, body);
			credset_free(&cs);
		} else if (details_differ(&e, vrows[row].want, diff,
		    sizeof(diff)))
			report_add(&r, "row %d %s: %s", row, body, diff);
		else if (e.message == NULL ||
		    strcmp(e.message, vrows[row].message) != 0)
			report_add(&r, "row %d %s: message %s", row, body,
			    e.message ? e.message : "(null)");
		else if (cs.n != 0)
			report_add(&r, "row %d %s: credset not emptied", row,
			    body);
		else if (secret_echoed(&e))
			report_add(&r, "row %d %s: value echoed", row, body);
		input_free(&in);
	}
	REPORT_END(&r);
}
END_TEST

static void
assert_cred(const struct credset *cs, const char *name, const char *value)
{
	size_t		 len;
	const char	*v = credset_get(cs, name, &len);

	ck_assert_msg(v != NULL, "%s missing", name);
	ck_assert_str_eq(v, value);
	ck_assert_uint_eq(len, strlen(value));
}

START_TEST(test_validate_ok_default)
{
	static const char body[] = "{\"label\":\"Production\",\"credentials\":{"
	    A "," B "}}";
	struct req_input	 in;
	struct apierr		 e;
	struct credset		 cs;

	ck_assert_int_eq(parse_json(body, strlen(body), &in, &e), 0);
	ck_assert_int_eq(input_validate(prov, &in, &cs, &e), 0);
	assert_details(&e, NONE, body);
	ck_assert_ptr_null(e.message);
	ck_assert_uint_eq(cs.n, 3);
	assert_cred(&cs, "api_key", "SECRET-API-1234567");
	assert_cred(&cs, "application_key", "SECRET-APP-7654321");
	assert_cred(&cs, "site", "us.example.com");	/* the default */
	ck_assert_ptr_null(credset_get(&cs, "region", NULL));
	ck_assert_ptr_null(credset_get(&cs, "tag", NULL));
	credset_free(&cs);
	input_free(&in);
}
END_TEST

START_TEST(test_validate_ok_all_fields)
{
	static const char body[] = "credentials[tag]=12345678&" FA
	    "&credentials[site]=eu.example.com&credentials[region]=eu-1&" FB
	    "&label=&access_token=t";
	struct req_input	 in;
	struct apierr		 e;
	struct credset		 cs;

	ck_assert_int_eq(parse_form(body, strlen(body), &in, &e), 0);
	ck_assert_int_eq(input_validate(prov, &in, &cs, &e), 0);
	assert_details(&e, NONE, body);
	ck_assert_uint_eq(cs.n, 5);
	assert_cred(&cs, "site", "eu.example.com");
	assert_cred(&cs, "region", "eu-1");
	assert_cred(&cs, "tag", "12345678");
	assert_cred(&cs, "api_key", "SECRET-API-1234567");
	assert_cred(&cs, "application_key", "SECRET-APP-7654321");
	credset_free(&cs);
	input_free(&in);

	/* a null label is no label */
	ck_assert_int_eq(parse_json("{\"label\":null,\"credentials\":{" A "," B
	    "}}", strlen("{\"label\":null,\"credentials\":{" A "," B "}}"),
	    &in, &e), 0);
	ck_assert_int_eq(input_validate(prov, &in, &cs, &e), 0);
	assert_details(&e, NONE, "null label");
	credset_free(&cs);
	input_free(&in);
}
END_TEST

/* Builds {"label": L, "credentials": {api_key: V, application_key: ...}}. */
static char *
body_with(const char *label_unit, size_t label_reps, size_t value_len)
{
	size_t	 n = 256 + strlen(label_unit) * label_reps + value_len, o, i;
	char	*b = malloc(n);

	ck_assert_ptr_nonnull(b);
	o = (size_t)snprintf(b, n, "{\"label\":\"");
	for (i = 0; i < label_reps; i++)
		o += (size_t)snprintf(b + o, n - o, "%s", label_unit);
	o += (size_t)snprintf(b + o, n - o, "\",\"credentials\":{"
	    "\"application_key\":\"SECRET-APP\",\"api_key\":\"SECRET");
	for (i = 6; i < value_len; i++)
		b[o++] = 'x';
	o += (size_t)snprintf(b + o, n - o, "\"}}");
	ck_assert_uint_lt(o, n);
	return b;
}

static const struct {
	const char	*unit;
	size_t		 reps;
	size_t		 vlen;
	const char	*field;		/* NULL: valid */
	const char	*reason;
} size_rows[] = {
	{ "a", 200, 4096, NULL, NULL },
	{ "\xc3\xa9", 200, 10, NULL, NULL },
	{ "\xe2\x82\xac", 200, 10, NULL, NULL },
	{ "a", 201, 10, "label", "too_long" },
	{ "\xc3\xa9", 201, 10, "label", "too_long" },
	{ "\xf0\x9f\x98\x80", 201, 10, "label", "too_long" },
	{ "a", 1, 4097, "credentials.api_key", "too_long" },
	{ "a", 1, 8000, "credentials.api_key", "too_long" },
};

START_TEST(test_validate_sizes)
{
	struct req_input	 in;
	struct apierr		 e;
	struct credset		 cs;
	char			*body, ctx[64];
	size_t			 len;
	int			 rc;

	body = body_with(size_rows[_i].unit, size_rows[_i].reps,
	    size_rows[_i].vlen);
	snprintf(ctx, sizeof(ctx), "size row %d", _i);
	ck_assert_int_eq(parse_json(body, strlen(body), &in, &e), 0);
	rc = input_validate(prov, &in, &cs, &e);
	if (size_rows[_i].field == NULL) {
		ck_assert_msg(rc == 0, "%s refused", ctx);
		assert_details(&e, NONE, ctx);
		ck_assert_ptr_nonnull(credset_get(&cs, "api_key", &len));
		ck_assert_uint_eq(len, size_rows[_i].vlen);
		credset_free(&cs);
	} else {
		ck_assert_msg(rc == -1, "%s accepted", ctx);
		assert_details(&e, D(size_rows[_i].field, size_rows[_i].reason),
		    ctx);
		ck_assert_str_eq(e.message, MSG_BAD);
		ck_assert_msg(!secret_echoed(&e), "%s: value echoed", ctx);
	}
	input_free(&in);
	free(body);
}
END_TEST

/*
 * A body whose "credentials" is not an object: the parser reports it once;
 * the check must not add a second, contradicting "required" detail for the
 * same field (SPEC 1: one entry per problem).
 */
START_TEST(test_validate_credentials_not_object)
{
	struct report		 r;
	struct req_input	 in;
	struct apierr		 e;
	struct credset		 cs;
	char			 body[128], diff[2300];
	int			 row;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(creds_not_object); row++) {
		snprintf(body, sizeof(body), "{\"credentials\": %s}",
		    creds_not_object[row]);
		ck_assert_int_eq(parse_json(body, strlen(body), &in, &e), 0);
		credset_init(&cs);
		(void)input_validate(prov, &in, &cs, &e);
		if (details_differ(&e, D("credentials", "must_be_object"), diff,
		    sizeof(diff)))
			report_add(&r, "%s: %s", body, diff);
		else if (e.message != NULL && strcmp(e.message, MSG_REQ) == 0)
			report_add(&r, "%s: message %s", body, e.message);
		credset_free(&cs);
		input_free(&in);
	}
	REPORT_END(&r);
}
END_TEST

/* Nothing of any submitted value is in any detail, whatever went wrong. */
START_TEST(test_validate_no_echo)
{
	static const char body[] = "{\"label\":\"SECRET\\u0001\",\"credentials\":{"
	    "\"api_key\":\"SECRET-A\\u0002\",\"application_key\":\"\","
	    "\"site\":\"SECRET-S\",\"region\":\"SECRET-R\","
	    "\"tag\":\"SECRET-TAG-LONG\",\"nope\":\"SECRET-N\"}}";
	struct req_input	 in;
	struct apierr		 e;
	struct credset		 cs;

	ck_assert_int_eq(parse_json(body, strlen(body), &in, &e), 0);
	ck_assert_int_eq(input_validate(prov, &in, &cs, &e), -1);
	assert_details(&e, D("label", "invalid_characters",
	    "credentials.api_key", "invalid_characters",
	    "credentials.application_key", "empty",
	    "credentials.site", "not_allowed",
	    "credentials.region", "pattern_mismatch",
	    "credentials.tag", "too_long",
	    "credentials.nope", "unknown_field"), "no echo");
	ck_assert_msg(!secret_echoed(&e), "%s: value echoed", "no echo");
	input_free(&in);
}
END_TEST

/* The connect body: exactly {"credentialId": "crd_..."}. */
START_TEST(test_parse_connect)
{
	static const char ok[] = "{\"credentialId\":\"crd_01HX9VTPQR3KF8MZWBYD5N6JCE\"}";
	static const struct {
		const char	*body, *field, *reason;
	} bad[] = {
		{ "{", "body", "malformed_json" },
		{ "[]", "body", "must_be_object" },
		{ "{}", "credentialId", "required" },
		{ "{\"credentialId\":1}", "credentialId", "must_be_string" },
		{ "{\"credentialId\":\"crd_X\"}", "credentialId", "invalid" },
		{ "{\"credentialId\":\"crd_01HX9VTPQR3KF8MZWBYD5N6JCE\",\"x\":1}",
		    "x", "unknown_field" },
	};
	struct apierr	e;
	char		id[CREDENTIAL_ID_LEN + 1];
	size_t		i;

	ck_assert_int_eq(input_parse_connect(ok, strlen(ok), id, &e), 0);
	ck_assert_str_eq(id, "crd_01HX9VTPQR3KF8MZWBYD5N6JCE");
	ck_assert_uint_eq(e.nd, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(input_parse_connect(bad[i].body,
		    strlen(bad[i].body), id, &e), -1);
		ck_assert_uint_eq(e.nd, 1);
		ck_assert_str_eq(e.d[0].field, bad[i].field);
		ck_assert_str_eq(REASON(e.d[0]), bad[i].reason);
	}
}
END_TEST

/* A PATCH body: the label alone. */
START_TEST(test_check_label_patch)
{
	struct req_input	in;
	struct apierr		e;
	char			lbl[] = "fine", ctl[] = "bad\x01";

	input_init(&in);
	apierr_init(&e, AE_VALIDATION, NULL);
	ck_assert_int_eq(input_check_label_patch(&in, &e), -1);
	ck_assert_str_eq(e.d[0].field, "label");
	ck_assert_str_eq(REASON(e.d[0]), "required");
	apierr_init(&e, AE_VALIDATION, NULL);
	in.label_state = VS_NULL;
	ck_assert_int_eq(input_check_label_patch(&in, &e), 0);
	in.label_state = VS_BAD_TYPE;
	ck_assert_int_eq(input_check_label_patch(&in, &e), -1);
	ck_assert_str_eq(REASON(e.d[0]), "must_be_string");
	apierr_init(&e, AE_VALIDATION, NULL);
	in.label_state = VS_STRING;
	in.label = lbl;
	in.label_len = strlen(lbl);
	ck_assert_int_eq(input_check_label_patch(&in, &e), 0);
	in.label = ctl;
	in.label_len = strlen(ctl);
	ck_assert_int_eq(input_check_label_patch(&in, &e), -1);
	ck_assert_str_eq(REASON(e.d[0]), "invalid_characters");
	apierr_init(&e, AE_VALIDATION, NULL);
	in.label = lbl;
	in.label_len = strlen(lbl);
	in.has_credentials = 1;
	ck_assert_int_eq(input_check_label_patch(&in, &e), -1);
	ck_assert_str_eq(e.d[0].field, "credentials");
	ck_assert_str_eq(REASON(e.d[0]), "unknown_field");
}
END_TEST

static const struct {
	const char		*s;
	int			 bad;	/* 1: bidi_control */
} bidi_rows[] = {
	{ "a\xe2\x80\xaa" "b", 1 },	/* U+202A LRE */
	{ "a\xe2\x80\xab" "b", 1 },	/* U+202B RLE */
	{ "a\xe2\x80\xac" "b", 1 },	/* U+202C PDF */
	{ "a\xe2\x80\xad" "b", 1 },	/* U+202D LRO */
	{ "pay\xe2\x80\xae" "fdp.exe", 1 },	/* U+202E RLO */
	{ "\xe2\x81\xa6", 1 },		/* U+2066 LRI */
	{ "\xe2\x81\xa7", 1 },		/* U+2067 RLI */
	{ "\xe2\x81\xa8", 1 },		/* U+2068 FSI */
	{ "x\xe2\x81\xa9", 1 },		/* U+2069 PDI */
	{ "\xe2\x80\xa9", 0 },		/* U+2029: not a bidi control */
	{ "\xe2\x80\xaf", 0 },		/* U+202F narrow no-break space */
	{ "\xe2\x81\xa5", 0 },		/* U+2065 */
	{ "\xe2\x81\xaa", 0 },		/* U+206A */
	{ "\xe2\x80\x8e" "abc", 0 },	/* U+200E LRM: allowed */
	{ "\xe2\x80\x8f" "abc", 0 },	/* U+200F RLM: allowed */
	{ "\xd8\x9c" "abc", 0 },		/* U+061C ALM: allowed */
	{ "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", 0 },	/* Hebrew text */
	{ "plain label", 0 },
};

/*
 * Labels refuse the bidi embedding, override and isolate controls
 * (issue 12, finding 14); the marks and right-to-left text pass.
 */
START_TEST(test_label_bidi)
{
	enum input_reason	why;
	const char		*v = bidi_rows[_i].s;
	int			rc;

	rc = validate_value(VK_LABEL, v, strlen(v), &why);
	if (bidi_rows[_i].bad) {
		ck_assert_msg(rc == -1, "row %d passed", _i);
		ck_assert_str_eq(apierr_reason_code(why), "bidi_control");
	} else
		ck_assert_msg(rc == 0, "row %d: %s", _i,
		    apierr_reason_code(why));
	ck_assert_int_eq(validate_has_bidi_control(v, strlen(v)),
	    bidi_rows[_i].bad);
	/* the same through a PATCH body */
	{
		struct req_input	in;
		struct apierr		e;

		input_init(&in);
		apierr_init(&e, AE_VALIDATION, NULL);
		in.label_state = VS_STRING;
		in.label = (char *)(uintptr_t)v;
		in.label_len = strlen(v);
		ck_assert_int_eq(input_check_label_patch(&in, &e),
		    bidi_rows[_i].bad ? -1 : 0);
		if (bidi_rows[_i].bad)
			ck_assert_str_eq(REASON(e.d[0]), "bidi_control");
	}
}
END_TEST

static const struct {
	const char	*ctype;
	int		 ok;
} charset_rows[] = {
	{ NULL, 1 },
	{ "application/json", 1 },
	{ "application/json; charset=utf-8", 1 },
	{ "application/json; charset=UTF-8", 1 },
	{ "application/json;charset=\"UTF-8\"", 1 },
	{ "application/json; charset = utf-8 ", 1 },
	{ "application/x-www-form-urlencoded; charset=utf-8", 1 },
	{ "application/json; foo=bar", 1 },
	{ "application/json; charset=utf-16", 0 },
	{ "application/json; CHARSET=UTF-16LE", 0 },
	{ "application/json; charset=\"utf-16\"", 0 },
	{ "application/json; charset=iso-8859-1", 0 },
	{ "application/json; charset=utf8", 0 },
	{ "application/json; charset=utf-8x", 0 },
	{ "application/json; charset=", 0 },
	{ "application/json; charset=\"\"", 0 },
	{ "application/json; charset=utf-8; charset=utf-16", 0 },
	{ "application/json; foo=1; charset=utf-32", 0 },
	{ "application/x-www-form-urlencoded; charset=utf-16", 0 },
};

/* Only UTF-8 is read (issue 12, finding 14): any other charset is 415. */
START_TEST(test_ctype_charset)
{
	ck_assert_msg(http_ctype_charset_ok(charset_rows[_i].ctype) ==
	    charset_rows[_i].ok, "%s", charset_rows[_i].ctype ?
	    charset_rows[_i].ctype : "(none)");
}
END_TEST

/* ?limit=&cursor= of a listing. */
START_TEST(test_parse_list_query)
{
	struct apierr	 e;
	long		 limit;
	char		 after[CREDENTIAL_ID_LEN + 1];
	/* base64url of crd_01HX9VTPQR3KF8MZWBYD5N6JCE */
	const char	*cur = "Y3JkXzAxSFg5VlRQUVIzS0Y4TVpXQllENU42SkNF";
	char		 q[128];

	ck_assert_int_eq(input_parse_list_query(NULL, 50, 100, &limit, after,
	    sizeof(after), &e), 0);
	ck_assert_int_eq(limit, 50);
	ck_assert_str_eq(after, "");
	snprintf(q, sizeof(q), "limit=7&cursor=%s", cur);
	ck_assert_int_eq(input_parse_list_query(q, 50, 100, &limit, after,
	    sizeof(after), &e), 0);
	ck_assert_int_eq(limit, 7);
	ck_assert_str_eq(after, "crd_01HX9VTPQR3KF8MZWBYD5N6JCE");
	ck_assert_int_eq(input_parse_list_query("limit=101", 50, 100, &limit,
	    after, sizeof(after), &e), -1);
	ck_assert_str_eq(e.d[0].field, "limit");
	ck_assert_str_eq(REASON(e.d[0]), "out_of_range");
	ck_assert_int_eq(input_parse_list_query("cursor=eA", 50, 100, &limit,
	    after, sizeof(after), &e), -1);
	ck_assert_str_eq(e.d[0].field, "cursor");
	ck_assert_int_eq(input_parse_list_query("x=1", 50, 100, &limit,
	    after, sizeof(after), &e), -1);
	ck_assert_str_eq(REASON(e.d[0]), "unknown_parameter");
}
END_TEST

/* ?provider=&status=&limit=&cursor= of the tenant-wide listing. */
START_TEST(test_parse_list_all_query)
{
	struct list_all_query	 q;
	struct apierr		 e;
	size_t			 i;
	/* base64url of acme/crd_01HX9VTPQR3KF8MZWBYD5N6JCE */
	const char		*cur = "YWNtZS9jcmRfMDFIWDlWVFBRUjNLRjhNWldCWUQ1TjZKQ0U";
	char			 qs[256];
	static const struct {
		const char	*q, *field, *reason;
	} bad[] = {
		{ "provider=nosuch", "provider", "not_allowed" },
		{ "provider=", "provider", "not_allowed" },
		{ "provider=credentials", "provider", "not_allowed" },
		{ "provider=ACME", "provider", "not_allowed" },
		{ "status=valid", "status", "not_allowed" },
		{ "status=", "status", "not_allowed" },
		{ "status=Validated", "status", "not_allowed" },
		{ "limit=0", "limit", "out_of_range" },
		{ "limit=101", "limit", "out_of_range" },
		/* a per-provider cursor, a blank, a short id, garbage */
		{ "cursor=Y3JkXzAxSFg5VlRQUVIzS0Y4TVpXQllENU42SkNF", "cursor", "invalid" },
		{ "cursor=YWMgbWUvY3JkXzAxSFg5VlRQUVIzS0Y4TVpXQllENU42SkNF", "cursor", "invalid" },
		{ "cursor=YWNtZS9jcmRfMDFIWDlWVFBRUjNLRjhNWldCWUQ1TjZKQw", "cursor", "invalid" },
		{ "cursor=%%%", "cursor", "invalid" },
		{ "tenant=globex", "query", "unknown_parameter" },
	};

	ck_assert_int_eq(input_parse_list_all_query(NULL, cat, 50, 100, &q, &e),
	    0);
	ck_assert_int_eq(q.limit, 50);
	ck_assert_ptr_null(q.provider);
	ck_assert_ptr_null(q.status);
	ck_assert_str_eq(q.after_provider, "");
	ck_assert_str_eq(q.after, "");
	snprintf(qs, sizeof(qs), "provider=acme&status=unverified&limit=1"
	    "&cursor=%s", cur);
	ck_assert_int_eq(input_parse_list_all_query(qs, cat, 50, 100, &q, &e),
	    0);
	ck_assert_ptr_eq(q.provider, prov);
	ck_assert_str_eq(q.status, "unverified");
	ck_assert_int_eq(q.limit, 1);
	ck_assert_str_eq(q.after_provider, "acme");
	ck_assert_str_eq(q.after, "crd_01HX9VTPQR3KF8MZWBYD5N6JCE");
	/* a cursor may name a provider the catalog no longer has */
	ck_assert_int_eq(input_parse_list_all_query("cursor=Z29uZS1wcm92aWRlci9j"
	    "cmRfMDFIWDlWVFBRUjNLRjhNWldCWUQ1TjZKQ0U", cat, 50, 100, &q, &e), 0);
	ck_assert_str_eq(q.after_provider, "gone-provider");
	ck_assert_int_eq(input_parse_list_all_query("status=rejected&status="
	    "validated", cat, 50, 100, &q, &e), 0);
	ck_assert_str_eq(q.status, "validated");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(input_parse_list_all_query(bad[i].q, cat, 50, 100,
		    &q, &e) == -1, "%s", bad[i].q);
		ck_assert_uint_eq(e.nd, 1);
		ck_assert_str_eq(e.d[0].field, bad[i].field);
		ck_assert_str_eq(REASON(e.d[0]), bad[i].reason);
	}
	/* the per-provider listing knows no filter */
	ck_assert_int_eq(input_parse_list_query("provider=acme", 50, 100,
	    &q.limit, q.after, sizeof(q.after), &e), -1);
	ck_assert_str_eq(REASON(e.d[0]), "unknown_parameter");
}
END_TEST

/* --- the reason table ------------------------------------------------ */

/* Every reason has a code and a sentence; no two share a code. */
START_TEST(test_reason_table)
{
	int		 r, q;
	const char	*code;

	for (r = 0; r < IR__MAX; r++) {
		code = apierr_reason_code((enum input_reason)r);
		ck_assert_msg(code != NULL && code[0] != '\0', "reason %d: no code",
		    r);
		ck_assert_msg(strspn(code, "abcdefghijklmnopqrstuvwxyz_") ==
		    strlen(code), "reason %d: code %s", r, code);
		ck_assert_msg(apierr_reason_message((enum input_reason)r) != NULL &&
		    apierr_reason_message((enum input_reason)r)[0] != '\0',
		    "reason %s: no message", code);
		for (q = 0; q < r; q++)
			ck_assert_msg(strcmp(code,
			    apierr_reason_code((enum input_reason)q)) != 0,
			    "reasons %d and %d share the code %s", q, r, code);
	}
}
END_TEST

/* What the admin page says next to a field, for the reasons a form gets. */
START_TEST(test_reason_messages)
{
	static const struct {
		enum input_reason	 r;
		const char		*code, *message;
	} want[] = {
		{ IR_REQUIRED, "required", "This field is required." },
		{ IR_UNKNOWN_FIELD, "unknown_field",
		    "This field is not part of this integration." },
		{ IR_MUST_BE_STRING, "must_be_string", "This value must be text." },
		{ IR_EMPTY, "empty", "This field is required." },
		{ IR_TOO_LONG, "too_long", "This value is too long." },
		{ IR_INVALID_CHARACTERS, "invalid_characters",
		    "This value has characters that are not allowed." },
		{ IR_NOT_ALLOWED, "not_allowed",
		    "Choose one of the listed values." },
		{ IR_PATTERN_MISMATCH, "pattern_mismatch",
		    "This value does not have the expected format." },
		{ IR_DUPLICATE, "duplicate", "This field was sent twice." },
		{ IR_INVALID, "invalid", "This value is not valid." },
		{ IR_CATALOG_PATTERN_INVALID, "catalog_pattern_invalid",
		    "This value is not valid." },
		/* out of range: a safe code, never a crash */
		{ IR__MAX, "invalid", "This value is not valid." },
	};
	int i;

	for (i = 0; i < NROWS(want); i++) {
		ck_assert_str_eq(apierr_reason_code(want[i].r), want[i].code);
		ck_assert_str_eq(apierr_reason_message(want[i].r),
		    want[i].message);
	}
}
END_TEST

static Suite *
validate_suite(void)
{
	Suite	*s = suite_create("validate");
	TCase	*tc;

	tc = tcase_create("reasons");
	tcase_add_test(tc, test_reason_table);
	tcase_add_test(tc, test_reason_messages);
	suite_add_tcase(s, tc);

	tc = tcase_create("scalar");
	tcase_add_test(tc, test_validate_scalar);
	tcase_add_test(tc, test_validate_scalar_misuse);
	tcase_add_loop_test(tc, test_label_bidi, 0, NROWS(bidi_rows));
	tcase_add_loop_test(tc, test_ctype_charset, 0, NROWS(charset_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_json_valid);
	tcase_add_test(tc, test_json_nul_escape);
	tcase_add_test(tc, test_json_bad);
	tcase_add_test(tc, test_json_credentials_not_object);
	tcase_add_test(tc, test_json_non_string_values);
	tcase_add_test(tc, test_json_label_states);
	tcase_add_test(tc, test_json_unknown_field);
	tcase_add_test(tc, test_json_too_many_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("form");
	tcase_add_test(tc, test_form_valid);
	tcase_add_test(tc, test_form_empty_parts);
	tcase_add_test(tc, test_form_nul_value);
	tcase_add_test(tc, test_form_malformed);
	tcase_add_test(tc, test_form_nul_in_name);
	tcase_add_test(tc, test_form_repeats);
	tcase_add_test(tc, test_form_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("catalog");
	tcase_add_checked_fixture(tc, catalog_setup, catalog_teardown);
	tcase_add_test(tc, test_validate_rows);
	tcase_add_test(tc, test_validate_ok_default);
	tcase_add_test(tc, test_validate_ok_all_fields);
	tcase_add_loop_test(tc, test_validate_sizes, 0, NROWS(size_rows));
	tcase_add_test(tc, test_validate_credentials_not_object);
	tcase_add_test(tc, test_validate_no_echo);
	tcase_add_test(tc, test_parse_connect);
	tcase_add_test(tc, test_check_label_patch);
	tcase_add_test(tc, test_parse_list_query);
	tcase_add_test(tc, test_parse_list_all_query);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(validate_suite());
}
