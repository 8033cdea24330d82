/*
 * The proxy's pure rules (proxy.h): the path rules as a table, the
 * query, the header filters both ways, and redaction.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "credset.h"
#include "proxy.h"
#include "util.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The client's {path} (the rest after ".../proxy/"), and the verdict. */
static const struct {
	const char	*rest;
	int		 ok;
} paths[] = {
	{ "api/v1/query", 1 },
	{ "api/v1/", 1 },			/* one last "/" */
	{ "a", 1 },
	{ "a/b.c/d..e/...", 1 },		/* dots inside names */
	{ "a/%41%62", 1 },			/* encoded letters */
	{ "a/caf%C3%A9", 1 },			/* encoded UTF-8 */
	{ "users/a%40b.test", 1 },		/* an encoded "@" is data */
	{ "a/b;v=1", 1 },			/* params on a name */
	{ "a/100%25", 1 },			/* a literal "%" */
	{ "a/%2541", 1 },			/* "%41" once decoded: not a trick */
	{ "a/-_.~!$&'()*+,=:", 1 },
	/* dot segments, plain and encoded */
	{ "..", 0 }, { ".", 0 }, { "a/..", 0 }, { "a/.", 0 }, { "../a", 0 },
	{ "a/../b", 0 }, { "a/./b", 0 }, { "%2e%2e/a", 0 }, { "%2E%2E/a", 0 },
	{ "%2e%2E/a", 0 }, { ".%2e/a", 0 }, { "%2e./a", 0 }, { "%2e/a", 0 },
	{ "a/%2E", 0 },
	/* double and triple encoded */
	{ "%252e%252e/a", 0 }, { "%252E%252E/a", 0 }, { "%25252e%25252e/a", 0 },
	{ "a/%252f", 0 }, { "a/%255c", 0 }, { "a/%2525252e%2525252e", 0 },
	/* with ";params": Tomcat's "..;" */
	{ "a/..;/b", 0 }, { "a/.;x/b", 0 }, { "a/%2e%2e;/b", 0 },
	{ "a/%2e%2e%3b/b", 0 },
	/* empty segments */
	{ "a//b", 0 }, { "/a", 0 }, { "//host/a", 0 }, { "a//", 0 },
	/* slashes and backslashes */
	{ "a%2fb", 0 }, { "a%2Fb", 0 }, { "a%5cb", 0 }, { "a%5Cb", 0 },
	{ "a\\b", 0 }, { "..\\a", 0 },
	/* "@", controls, bytes outside printable ASCII, malformed escapes */
	{ "a@b", 0 }, { "@evil.test/a", 0 }, { "a%00b", 0 }, { "a%0a", 0 },
	{ "a%0D%0AX:1", 0 }, { "a%1f", 0 }, { "a%7f", 0 }, { "a%7F", 0 },
	{ "a\tb", 0 }, { "a b", 0 }, { "a\x01", 0 }, { "a\x7f", 0 },
	{ "a\xc3\xa9", 0 }, { "a#b", 0 }, { "a%", 0 }, { "a%4", 0 },
	{ "a%zz", 0 }, { "a%g1", 0 }, { "", 0 },
};

START_TEST(test_path_rules)
{
	const char *r = paths[_i].rest;

	ck_assert_msg((proxy_path_ok(r, strlen(r)) == 0) == paths[_i].ok,
	    "\"%s\": want %s", r, paths[_i].ok ? "ok" : "bad_path");
}
END_TEST

START_TEST(test_path_limits)
{
	char	*p = malloc(PROXY_PATH_MAX + 2);
	char	 nul[] = "a\0b";

	memset(p, 'a', PROXY_PATH_MAX + 1);
	p[PROXY_PATH_MAX + 1] = '\0';
	ck_assert_int_eq(proxy_path_ok(p, PROXY_PATH_MAX), 0);
	ck_assert_int_eq(proxy_path_ok(p, PROXY_PATH_MAX + 1), -1);
	/* a NUL inside the length */
	ck_assert_int_eq(proxy_path_ok(nul, 3), -1);
	ck_assert_int_eq(proxy_path_ok(NULL, 0), -1);
	free(p);
}
END_TEST

START_TEST(test_query_rules)
{
	char *q = malloc(PROXY_QUERY_MAX + 2);

	ck_assert_int_eq(proxy_query_ok(NULL), 0);
	ck_assert_int_eq(proxy_query_ok("a=1&b=%20"), 0);
	ck_assert_int_eq(proxy_query_ok("a=1 2"), -1);
	ck_assert_int_eq(proxy_query_ok("a=\x01"), -1);
	ck_assert_int_eq(proxy_query_ok("a=1#x"), -1);
	memset(q, 'q', PROXY_QUERY_MAX + 1);
	q[PROXY_QUERY_MAX] = '\0';
	ck_assert_int_eq(proxy_query_ok(q), 0);
	q[PROXY_QUERY_MAX] = 'q';
	q[PROXY_QUERY_MAX + 1] = '\0';
	ck_assert_int_eq(proxy_query_ok(q), -1);
	free(q);
}
END_TEST

START_TEST(test_build_query)
{
	struct cat_header	 inj[2] = { { (char *)"api_key", (char *)"{{k}}" },
	    { (char *)"app", (char *)"x-{{k}}" } };
	struct credset		 cs;
	struct buf		 b;

	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "k", "s/e c&=t", 8), 0);
	buf_init(&b, 8192, 1);
	ck_assert_int_eq(proxy_build_query("a=1&api_key=evil&api%5Fkey=e2&"
	    "api_key&b=2&&app=z&apps=ok", inj, 2, &cs, &b), 0);
	ck_assert_str_eq(b.data, "a=1&b=2&apps=ok&api_key=s%2Fe%20c%26%3Dt&"
	    "app=x-s%2Fe%20c%26%3Dt");
	buf_reset(&b);
	buf_init(&b, 8192, 1);
	ck_assert_int_eq(proxy_build_query(NULL, NULL, 0, &cs, &b), 0);
	ck_assert_str_eq(b.data, "");
	buf_reset(&b);
	/* a field the template needs is missing */
	inj[0].value = (char *)"{{nope}}";
	buf_init(&b, 8192, 1);
	ck_assert_int_eq(proxy_build_query("a=1", inj, 1, &cs, &b), -1);
	buf_reset(&b);
	credset_free(&cs);
}
END_TEST

START_TEST(test_header_filters)
{
	static const char *const pass[] = { "Content-Type", "etag", "ETag",
	    "Last-Modified", "Retry-After", "Link", "Location", "RateLimit",
	    "RateLimit-Policy", "ratelimit-remaining", "X-RateLimit-Remaining",
	    "x-ratelimit-reset" };
	static const char *const block[] = { "Set-Cookie", "set-cookie",
	    "Server", "X-Internal", "Content-Length", "Transfer-Encoding",
	    "X-RateLimit-", "RateLimit-", "Connection", "WWW-Authenticate",
	    "Content-Encoding", "Locations", "X-RateLimit-a b",
	    "X-RateLimit-a\x01", "RateLimit-x:y", "x-ratelimit-\xc3\xa9" };
	char	*fwd[] = { (char *)"X-Custom" };
	size_t	 i;

	for (i = 0; i < NELEM(pass); i++)
		ck_assert_msg(proxy_answer_header_ok(pass[i], strlen(pass[i])),
		    "%s", pass[i]);
	for (i = 0; i < NELEM(block); i++)
		ck_assert_msg(!proxy_answer_header_ok(block[i],
		    strlen(block[i])), "%s", block[i]);
	ck_assert(proxy_request_header_ok("accept", fwd, 1));
	ck_assert(proxy_request_header_ok("Content-Type", fwd, 1));
	ck_assert(proxy_request_header_ok("If-None-Match", fwd, 1));
	ck_assert(proxy_request_header_ok("If-Modified-Since", fwd, 1));
	ck_assert(proxy_request_header_ok("x-custom", fwd, 1));
	ck_assert(!proxy_request_header_ok("X-Custom", fwd, 0));
	ck_assert(!proxy_request_header_ok("Authorization", fwd, 1));
	ck_assert(!proxy_request_header_ok("Cookie", fwd, 1));
	ck_assert(!proxy_request_header_ok("Host", fwd, 1));
	ck_assert(!proxy_request_header_ok("X-Forwarded-For", fwd, 1));
}
END_TEST

/* Redacts s with the values of cs; the result (static). */
static const char *
redacted(const char *s, const struct credset *cs)
{
	static char	 out[4096];
	struct buf	 b;

	buf_init(&b, 1024, 1);
	ck_assert_int_eq(buf_adds(&b, s), 0);
	ck_assert_int_eq(proxy_redact(&b, cs), 0);
	snprintf(out, sizeof(out), "%s", b.len ? b.data : "");
	buf_reset(&b);
	return out;
}

START_TEST(test_redact)
{
	struct credset	 cs;

	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "a", "abcdefgh", 8), 0);
	ck_assert_int_eq(credset_add(&cs, "short", "1234567", 7), 0);
	ck_assert_int_eq(credset_add(&cs, "long", "xxabcdefghyy", 12), 0);
	ck_assert_int_eq(credset_add(&cs, "enc", "k/e y+1=2", 9), 0);
	ck_assert_str_eq(redacted("", &cs), "");
	ck_assert_str_eq(redacted("abcdefgh", &cs), "[REDACTED]");
	ck_assert_str_eq(redacted("<abcdefgh><abcdefgh>", &cs),
	    "<[REDACTED]><[REDACTED]>");
	ck_assert_str_eq(redacted("abcdefg", &cs), "abcdefg");
	/* shorter than 8 bytes: left */
	ck_assert_str_eq(redacted("1234567", &cs), "1234567");
	/* the longer value first: nothing of it is left */
	ck_assert_str_eq(redacted("-xxabcdefghyy-", &cs), "-[REDACTED]-");
	/* verbatim and percent-encoded */
	ck_assert_str_eq(redacted("k/e y+1=2 k%2Fe%20y%2B1%3D2", &cs),
	    "[REDACTED] [REDACTED]");
	ck_assert_str_eq(redacted("abcdefgabcdefgh", &cs), "abcdefg[REDACTED]");
	credset_free(&cs);
}
END_TEST

static Suite *
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc = tcase_create("rules");

	tcase_add_loop_test(tc, test_path_rules, 0, (int)NELEM(paths));
	tcase_add_test(tc, test_path_limits);
	tcase_add_test(tc, test_query_rules);
	tcase_add_test(tc, test_build_query);
	tcase_add_test(tc, test_header_filters);
	tcase_add_test(tc, test_redact);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(proxy_suite());
}
