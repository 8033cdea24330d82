#include "cs_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "crypto.h"
#include "session.h"
#include "util.h"
#include "ck_run.h"

/*
 * Unit tests of the admin page's session (session.c): the Set-Cookie line
 * and its attributes (Secure only over HTTPS), sealing and opening the
 * cookie (a tampered, truncated, foreign or expired cookie is refused),
 * the CSRF token and the Cookie header parser.  The keyring lives in
 * memory: a fixed MAC key, from which the session's box key derives.
 */

#define NOW	((time_t)1700000000)		/* 2023-11-14T22:13:20Z */
#define EXP	((time_t)1700000600)		/* ten minutes later */
#define EXP_DATE "Tue, 14 Nov 2023 22:23:20 GMT"
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define TOKEN	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"

static struct keyring	kr, kr_other;
static struct kr_key	key, key_other;

static void
setup(void)
{
	memset(&kr, 0, sizeof(kr));
	memset(&kr_other, 0, sizeof(kr_other));
	memset(kr.mac_key, 7, sizeof(kr.mac_key));
	kr.keys = &key;
	kr.nkeys = 1;
	memset(kr_other.mac_key, 8, sizeof(kr_other.mac_key));
	kr_other.keys = &key_other;
	kr_other.nkeys = 1;
}

static void
make_id(struct jwt_identity *id, const char *sub, time_t exp)
{
	memset(id, 0, sizeof(*id));
	id->sub = (char *)(uintptr_t)sub;
	id->tenant = (char *)(uintptr_t)"acme";
	id->is_admin = 1;
	id->exp = exp;
}

/*
 * The attributes of a Set-Cookie line after its value, each without the
 * "; " that leads it; *value and *vlen get the cookie value.  Returns the
 * count.  The value is base64url, so it holds no ';' to confuse this.
 */
static size_t
split_attrs(const char *line, const char **value, size_t *vlen,
    char attrs[][64], size_t max)
{
	static const char	 pfx0[] = "Set-Cookie: " SESSION_COOKIE "=";
	static const char	 pfx1[] = "Set-Cookie: " SESSION_COOKIE_HOST "=";
	static const char	 pfx2[] = "Set-Cookie: " SESSION_COOKIE_SECURE "=";
	const char		*p, *pfx;
	size_t			 n, na = 0, len = strlen(line);

	/*
	 * over HTTPS (Secure) the name has the __Host- prefix at the root,
	 * __Secure- below a mount point (Path=/ is the root's)
	 */
	pfx = strstr(line, "; Secure") == NULL ? pfx0 :
	    strstr(line, "; Path=/;") != NULL ? pfx1 : pfx2;
	ck_assert_msg(strncmp(line, pfx, strlen(pfx)) == 0, "%s", line);
	ck_assert(len >= 2 && strcmp(line + len - 2, "\r\n") == 0);
	len -= 2;
	p = line + strlen(pfx);
	*value = p;
	*vlen = strcspn(p, ";\r");
	p += *vlen;
	while (p < line + len) {
		ck_assert_msg(strncmp(p, "; ", 2) == 0, "at: %s", p);
		p += 2;
		n = strcspn(p, ";\r");
		ck_assert_uint_lt(n, 64);
		ck_assert_uint_lt(na, max);
		memcpy(attrs[na], p, n);
		attrs[na][n] = '\0';
		na++;
		p += n;
	}
	return na;
}

static int
has_attr(char attrs[][64], size_t n, const char *want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(attrs[i], want) == 0)
			return 1;
	return 0;
}

/*
 * The base64url character whose value differs in the sextet's top bit,
 * which every character carries (the last one's low bits may be padding).
 */
static char
b64_flip(char c)
{
	static const char	 a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char		*p = strchr(a, c);

	ck_assert(c != '\0' && p != NULL);
	return a[(p - a) ^ 32];
}

/* Issues a session for id at NOW; *line is malloc'd. */
static void
issue_at(const struct jwt_identity *id, int https, const char *mount,
    char **line, char sid[SESSION_SID_LEN + 1])
{
	*line = session_issue(&kr, id, TOKEN, NOW, https, mount, sid);
	ck_assert_ptr_nonnull(*line);
	ck_assert_uint_eq(strlen(sid), SESSION_SID_LEN);
}

/* Issues a session for id at NOW at the root; *line is malloc'd. */
static void
issue(const struct jwt_identity *id, int https, char **line,
    char sid[SESSION_SID_LEN + 1])
{
	*line = session_issue(&kr, id, TOKEN, NOW, https, "", sid);
	ck_assert_ptr_nonnull(*line);
	ck_assert_uint_eq(strlen(sid), SESSION_SID_LEN);
}

/* the scheme, the mount point, and the Path the cookies must carry */
static const struct {
	int		 https;
	const char	*mount;
	const char	*path;
	size_t		 nattrs;
} cookie_cases[] = {
	{ 0, "", "Path=/", 5 },
	{ 1, "", "Path=/", 6 },
	{ 0, "/credstore", "Path=/credstore", 5 },
	{ 1, "/credstore", "Path=/credstore", 6 },
	{ 1, "/cgi-bin/credstore.fcgi", "Path=/cgi-bin/credstore.fcgi", 6 },
};

/* Path, HttpOnly, SameSite, an expiry tied to exp; Secure iff https. */
START_TEST(test_issue_attrs)
{
	struct jwt_identity	 id;
	char			*line, sid[SESSION_SID_LEN + 1], attrs[8][64];
	const char		*v;
	size_t			 vlen, n;
	int			 https = cookie_cases[_i].https;

	make_id(&id, "alice", EXP);
	issue_at(&id, https, cookie_cases[_i].mount, &line, sid);
	n = split_attrs(line, &v, &vlen, attrs, 8);
	ck_assert_uint_gt(vlen, SESSION_SID_LEN);
	ck_assert_uint_le(vlen, SESSION_MAX_COOKIE);
	ck_assert_int_eq(has_attr(attrs, n, "Secure"), https);
	ck_assert(has_attr(attrs, n, cookie_cases[_i].path));
	ck_assert_str_eq(session_cookie_name(https, cookie_cases[_i].mount),
	    !https ? SESSION_COOKIE : *cookie_cases[_i].mount ?
	    "__Secure-cs_session" : "__Host-cs_session");
	ck_assert(has_attr(attrs, n, "HttpOnly"));
	ck_assert(has_attr(attrs, n, "SameSite=Strict"));
	ck_assert(has_attr(attrs, n, "Max-Age=600"));
	ck_assert(has_attr(attrs, n, "Expires=" EXP_DATE));
	ck_assert_uint_eq(n, cookie_cases[_i].nattrs);	/* nothing else */
	free(line);
}
END_TEST

/* The sign-out line clears the cookie with the same attributes. */
START_TEST(test_clear_attrs)
{
	char		 attrs[8][64], line[SESSION_CLEAR_MAX];
	const char	*v;
	size_t		 vlen, n;
	int		 https = cookie_cases[_i].https;

	session_clear_header(https, cookie_cases[_i].mount, line);
	n = split_attrs(line, &v, &vlen, attrs, 8);
	ck_assert_uint_eq(vlen, 0);
	ck_assert_int_eq(has_attr(attrs, n, "Secure"), https);
	ck_assert(has_attr(attrs, n, cookie_cases[_i].path));
	ck_assert(has_attr(attrs, n, "HttpOnly"));
	ck_assert(has_attr(attrs, n, "SameSite=Strict"));
	ck_assert(has_attr(attrs, n, "Max-Age=0"));
	ck_assert(has_attr(attrs, n, "Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
	ck_assert_uint_eq(n, cookie_cases[_i].nattrs);
}
END_TEST

/* No session outlives, or starts with, an expired token. */
START_TEST(test_issue_expired)
{
	struct jwt_identity	id;
	char			sid[SESSION_SID_LEN + 1];

	make_id(&id, "alice", NOW);
	ck_assert_ptr_null(session_issue(&kr, &id, TOKEN, NOW, 1, "", sid));
	make_id(&id, "alice", NOW - 1);
	ck_assert_ptr_null(session_issue(&kr, &id, TOKEN, NOW, 0, "", sid));
}
END_TEST

/* What is sealed opens again, with every field, until exp. */
START_TEST(test_open_roundtrip)
{
	struct jwt_identity	 id;
	struct session		 s;
	char			*line, *line2, attrs[8][64];
	char			 sid[SESSION_SID_LEN + 1], sid2[SESSION_SID_LEN + 1];
	const char		*v;
	size_t			 vlen;

	make_id(&id, "alice", EXP);
	issue(&id, 1, &line, sid);
	(void)split_attrs(line, &v, &vlen, attrs, 8);
	ck_assert_int_eq(session_open(&kr, v, vlen, NOW, &s), 0);
	ck_assert_str_eq(s.sid, sid);
	ck_assert_str_eq(s.id.tenant, "acme");
	ck_assert_str_eq(s.id.sub, "alice");
	ck_assert_int_eq(s.id.is_admin, 1);
	ck_assert_int_eq((long long)s.id.exp, (long long)EXP);
	ck_assert_str_eq(s.token, TOKEN);	/* verified again at each use */
	session_free(&s);
	ck_assert_int_eq(session_open(&kr, v, vlen, EXP - 1, &s), 0);
	session_free(&s);
	/* a token without sub; each session gets a fresh id */
	make_id(&id, NULL, EXP);
	id.is_admin = 0;
	issue(&id, 0, &line2, sid2);
	ck_assert_str_ne(sid, sid2);
	(void)split_attrs(line2, &v, &vlen, attrs, 8);
	ck_assert_int_eq(session_open(&kr, v, vlen, NOW, &s), 0);
	ck_assert_ptr_null(s.id.sub);
	ck_assert_int_eq(s.id.is_admin, 0);
	session_free(&s);
	free(line2);
	free(line);
}
END_TEST

/* Expired, tampered, truncated, foreign and empty cookies do not open. */
START_TEST(test_open_refused)
{
	struct jwt_identity	 id;
	struct session		 s;
	char			*line, sid[SESSION_SID_LEN + 1], attrs[8][64];
	char			*copy;
	const char		*v;
	size_t			 vlen, i;

	make_id(&id, "alice", EXP);
	issue(&id, 1, &line, sid);
	(void)split_attrs(line, &v, &vlen, attrs, 8);
	ck_assert_int_eq(session_open(&kr, v, vlen, EXP, &s), -1);
	ck_assert_ptr_null(s.id.tenant);
	ck_assert_int_eq(session_open(&kr, v, vlen, EXP + 3600, &s), -1);
	ck_assert_int_eq(session_open(&kr_other, v, vlen, NOW, &s), -1);
	ck_assert_int_eq(session_open(&kr, v, vlen - 1, NOW, &s), -1);
	ck_assert_int_eq(session_open(&kr, v, 0, NOW, &s), -1);
	copy = malloc(SESSION_MAX_COOKIE + 1);
	ck_assert_ptr_nonnull(copy);
	memset(copy, 'A', SESSION_MAX_COOKIE + 1);
	ck_assert_int_eq(session_open(&kr, copy, SESSION_MAX_COOKIE + 1, NOW,
	    &s), -1);
	free(copy);
	copy = strndup(v, vlen);
	ck_assert_ptr_nonnull(copy);
	/* one character changed anywhere: nonce, ciphertext or tag */
	for (i = 0; i < vlen; i++) {
		copy[i] = b64_flip(copy[i]);
		ck_assert_msg(session_open(&kr, copy, vlen, NOW, &s) == -1,
		    "tampered at %zu opened", i);
		copy[i] = v[i];
	}
	ck_assert_int_eq(session_open(&kr, copy, vlen, NOW, &s), 0);
	session_free(&s);
	free(copy);
	free(line);
}
END_TEST

/* The CSRF token: its own passes, one byte off or another's fails. */
START_TEST(test_csrf)
{
	static const char	 sid[] = "AAAAAAAAAAAAAAAAAAAAAA";
	static const char	 sid2[] = "AAAAAAAAAAAAAAAAAAAAAB";
	char			 tok[SESSION_CSRF_LEN + 1];
	char			 tok2[SESSION_CSRF_LEN + 1];
	char			 bad[SESSION_CSRF_LEN + 2];
	size_t			 i;

	ck_assert_int_eq(session_csrf(&kr, sid, tok), 0);
	ck_assert_uint_eq(strlen(tok), SESSION_CSRF_LEN);
	ck_assert_int_eq(session_csrf_ok(&kr, sid, tok), 1);
	ck_assert_int_eq(session_csrf(&kr, sid2, tok2), 0);
	ck_assert_str_ne(tok, tok2);
	ck_assert_int_eq(session_csrf_ok(&kr, sid, tok2), 0);
	ck_assert_int_eq(session_csrf_ok(&kr_other, sid, tok), 0);
	ck_assert_int_eq(session_csrf_ok(&kr, sid, NULL), 0);
	ck_assert_int_eq(session_csrf_ok(&kr, sid, ""), 0);
	for (i = 0; i < SESSION_CSRF_LEN; i++) {
		memcpy(bad, tok, sizeof(tok));
		bad[i] = bad[i] == 'x' ? 'y' : 'x';
		ck_assert_msg(session_csrf_ok(&kr, sid, bad) == 0,
		    "byte %zu off passed", i);
	}
	memcpy(bad, tok, sizeof(tok));
	bad[SESSION_CSRF_LEN - 1] = '\0';		/* one short */
	ck_assert_int_eq(session_csrf_ok(&kr, sid, bad), 0);
	memcpy(bad, tok, SESSION_CSRF_LEN);
	bad[SESSION_CSRF_LEN] = 'A';			/* one long */
	bad[SESSION_CSRF_LEN + 1] = '\0';
	ck_assert_int_eq(session_csrf_ok(&kr, sid, bad), 0);
}
END_TEST

static const struct {
	const char	*header;
	const char	*value;		/* NULL: not found */
} find_cases[] = {
	{ "cs_session=abc", "abc" },
	{ "a=1; cs_session=abc; b=2", "abc" },
	{ "a=1;cs_session=abc  ;b=2", "abc" },
	{ "xcs_session=abc", NULL },
	{ "cs_sessionx=abc", NULL },
	{ "cs_session", NULL },
	{ "cs_session=", "" },
	{ "", NULL },
	{ "a=cs_session=abc", NULL },
	{ "cs_session=first; cs_session=second", "first" },
};

START_TEST(test_cookie_find)
{
	const char	*v;
	size_t		 len = 0;

	v = session_cookie_find(find_cases[_i].header, SESSION_COOKIE, &len);
	if (find_cases[_i].value == NULL) {
		ck_assert_msg(v == NULL, "found in \"%s\"",
		    find_cases[_i].header);
		return;
	}
	ck_assert_msg(v != NULL, "not found in \"%s\"", find_cases[_i].header);
	ck_assert_uint_eq(len, strlen(find_cases[_i].value));
	ck_assert(strncmp(v, find_cases[_i].value, len) == 0);
}
END_TEST

/* A token too long for a cookie makes no session (issue 12, finding 7). */
START_TEST(test_issue_long_token)
{
	struct jwt_identity	 id;
	char			*tok, *line, sid[SESSION_SID_LEN + 1];

	make_id(&id, "alice", EXP);
	tok = malloc(SESSION_MAX_TOKEN + 2);
	ck_assert_ptr_nonnull(tok);
	memset(tok, 'a', SESSION_MAX_TOKEN + 1);
	tok[SESSION_MAX_TOKEN + 1] = '\0';
	ck_assert_ptr_null(session_issue(&kr, &id, tok, NOW, 1, "", sid));
	tok[SESSION_MAX_TOKEN] = '\0';		/* the longest that fits */
	line = session_issue(&kr, &id, tok, NOW, 1, "", sid);
	ck_assert_ptr_nonnull(line);
	ck_assert_uint_le(strlen(line), 4096);
	ck_assert_ptr_null(session_issue(&kr, &id, NULL, NOW, 1, "", sid));
	free(line);
	free(tok);
}
END_TEST

/*
 * The sign-in form's pre-session token (issue 12, finding 5): the MAC of
 * the nonce cookie passes; another nonce, another key, the wrong cookie
 * name for the scheme, or none at all fails.
 */
START_TEST(test_login_token)
{
	char		 csrf[SESSION_CSRF_LEN + 1], csrf2[SESSION_CSRF_LEN + 1];
	char		*line, *line2, hdr[SESSION_CLEAR_MAX], hdr2[256];
	const char	*v;
	size_t		 n;

	line = session_login_issue(&kr, 1, "", csrf);
	ck_assert_ptr_nonnull(line);
	ck_assert(strncmp(line, "Set-Cookie: " SESSION_LOGIN_COOKIE_HOST "=",
	    12 + strlen(SESSION_LOGIN_COOKIE_HOST) + 1) == 0);
	ck_assert(strstr(line, "; Path=/; HttpOnly; SameSite=Strict; "
	    "Max-Age=900; Secure\r\n") != NULL);
	ck_assert(strstr(line, "Domain") == NULL);
	v = line + strlen("Set-Cookie: ");
	n = strcspn(v, ";");
	snprintf(hdr, sizeof(hdr), "a=1; %.*s; b=2", (int)n, v);
	ck_assert_int_eq(session_login_ok(&kr, hdr, 1, "", csrf), 1);
	ck_assert_int_eq(session_login_ok(&kr, hdr, 0, "", csrf), 0);
	ck_assert_int_eq(session_login_ok(&kr_other, hdr, 1, "", csrf), 0);
	ck_assert_int_eq(session_login_ok(&kr, NULL, 1, "", csrf), 0);
	ck_assert_int_eq(session_login_ok(&kr, hdr, 1, "", NULL), 0);
	ck_assert_int_eq(session_login_ok(&kr, hdr, 1, "", ""), 0);
	line2 = session_login_issue(&kr, 0, "", csrf2);
	ck_assert_ptr_nonnull(line2);
	ck_assert(strstr(line2, "Secure") == NULL);
	ck_assert_str_ne(csrf, csrf2);
	ck_assert_int_eq(session_login_ok(&kr, hdr, 1, "", csrf2), 0);
	v = line2 + strlen("Set-Cookie: ");
	n = strcspn(v, ";");
	snprintf(hdr2, sizeof(hdr2), "%.*s", (int)n, v);
	ck_assert(strncmp(hdr2, SESSION_LOGIN_COOKIE "=", 9) == 0);
	ck_assert_int_eq(session_login_ok(&kr, hdr2, 0, "", csrf2), 1);
	ck_assert_int_eq(session_login_ok(&kr, hdr2, 0, "", csrf), 0);
	csrf2[0] = csrf2[0] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(session_login_ok(&kr, hdr2, 0, "", csrf2), 0);
	session_login_clear_header(1, "", hdr);
	ck_assert(strstr(hdr, "Max-Age=0") != NULL);
	ck_assert(strstr(hdr, SESSION_LOGIN_COOKIE_HOST "=; Path=/;") != NULL);
	/* below a mount point over HTTPS: __Secure-, Path=mount */
	free(line2);
	line2 = session_login_issue(&kr, 1, "/cgi-bin/credstore.fcgi", csrf2);
	ck_assert_ptr_nonnull(line2);
	ck_assert(strncmp(line2, "Set-Cookie: " SESSION_LOGIN_COOKIE_SECURE "=",
	    12 + strlen(SESSION_LOGIN_COOKIE_SECURE) + 1) == 0);
	ck_assert(strstr(line2, "; Path=/cgi-bin/credstore.fcgi; HttpOnly; "
	    "SameSite=Strict; Max-Age=900; Secure\r\n") != NULL);
	v = line2 + strlen("Set-Cookie: ");
	n = strcspn(v, ";");
	snprintf(hdr2, sizeof(hdr2), "%.*s", (int)n, v);
	ck_assert_int_eq(session_login_ok(&kr, hdr2, 1, "/cgi-bin/credstore.fcgi",
	    csrf2), 1);
	/* the root's __Host- name is another cookie */
	ck_assert_int_eq(session_login_ok(&kr, hdr2, 1, "", csrf2), 0);
	session_login_clear_header(1, "/cgi-bin/credstore.fcgi", hdr);
	ck_assert(strstr(hdr, SESSION_LOGIN_COOKIE_SECURE "=; "
	    "Path=/cgi-bin/credstore.fcgi;") != NULL);
	free(line2);
	free(line);
}
END_TEST

static const struct {
	const char		*origin, *referer;
	int			 https;
	const char		*host;
	enum session_origin	 want;
} origin_cases[] = {
	{ "http://127.0.0.1:8080", NULL, 0, "127.0.0.1:8080", SO_SAME },
	{ "http://127.0.0.1:8081", NULL, 0, "127.0.0.1:8080", SO_FOREIGN },
	{ "https://127.0.0.1:8080", NULL, 0, "127.0.0.1:8080", SO_FOREIGN },
	{ "http://cs.example", NULL, 0, "cs.example", SO_SAME },
	{ "http://cs.example:80", NULL, 0, "cs.example", SO_SAME },
	{ "http://cs.example", NULL, 0, "cs.example:80", SO_SAME },
	{ "https://cs.example", NULL, 1, "cs.example", SO_SAME },
	{ "https://cs.example:443", NULL, 1, "cs.example", SO_SAME },
	{ "https://cs.example", NULL, 1, "cs.example:8443", SO_FOREIGN },
	{ "http://cs.example", NULL, 1, "cs.example", SO_FOREIGN },
	{ "HTTPS://CS.Example", NULL, 1, "cs.EXAMPLE", SO_SAME },
	{ "https://cs.example.evil", NULL, 1, "cs.example", SO_FOREIGN },
	{ "https://evil.example", NULL, 1, "cs.example", SO_FOREIGN },
	{ "https://cs.exampl", NULL, 1, "cs.example", SO_FOREIGN },
	/* opaque: what a no-referrer page's own posts carry */
	{ "null", NULL, 1, "cs.example", SO_ABSENT },
	{ "null", "https://cs.example/admin/login", 1, "cs.example", SO_SAME },
	{ "null", "https://evil.example/", 1, "cs.example", SO_FOREIGN },
	{ "Null", NULL, 1, "cs.example", SO_FOREIGN },
	{ "", NULL, 1, "cs.example", SO_FOREIGN },
	{ "https://cs.example/", NULL, 1, "cs.example", SO_FOREIGN },
	{ "https://user@cs.example", NULL, 1, "cs.example", SO_FOREIGN },
	{ "https://cs.example:", NULL, 1, "cs.example", SO_FOREIGN },
	{ "https://cs.example:0443", NULL, 1, "cs.example", SO_SAME },
	{ "https://cs.example:70000", NULL, 1, "cs.example", SO_FOREIGN },
	{ "https://cs.example:+443", NULL, 1, "cs.example", SO_FOREIGN },
	{ "http://[::1]:8080", NULL, 0, "[::1]:8080", SO_SAME },
	{ "http://[::1]", NULL, 0, "[::1]:80", SO_SAME },
	{ "http://[::2]:8080", NULL, 0, "[::1]:8080", SO_FOREIGN },
	{ "https://cs.example", NULL, 1, NULL, SO_FOREIGN },
	{ "https://cs.example", NULL, 1, "", SO_FOREIGN },
	{ NULL, "https://cs.example/admin/login?x=1", 1, "cs.example", SO_SAME },
	{ NULL, "https://cs.example", 1, "cs.example", SO_SAME },
	{ NULL, "https://cs.example:443#f", 1, "cs.example", SO_SAME },
	{ NULL, "https://evil.example/https://cs.example/", 1, "cs.example",
	    SO_FOREIGN },
	{ NULL, "https://cs.example.evil/", 1, "cs.example", SO_FOREIGN },
	{ NULL, "about:blank", 1, "cs.example", SO_FOREIGN },
	{ "https://cs.example", "https://evil.example/", 1, "cs.example",
	    SO_SAME },
	{ "https://evil.example", "https://cs.example/", 1, "cs.example",
	    SO_FOREIGN },
	{ NULL, NULL, 1, "cs.example", SO_ABSENT },
	{ NULL, "", 1, "cs.example", SO_ABSENT },
};

/* Origin, else Referer, against the request's own origin (finding 5). */
START_TEST(test_origin)
{
	enum session_origin got;

	got = session_origin_check(origin_cases[_i].origin,
	    origin_cases[_i].referer, origin_cases[_i].https,
	    origin_cases[_i].host);
	ck_assert_msg(got == origin_cases[_i].want,
	    "origin %s referer %s https %d host %s: %d, want %d",
	    origin_cases[_i].origin ? origin_cases[_i].origin : "(none)",
	    origin_cases[_i].referer ? origin_cases[_i].referer : "(none)",
	    origin_cases[_i].https,
	    origin_cases[_i].host ? origin_cases[_i].host : "(none)", got,
	    origin_cases[_i].want);
}
END_TEST

static Suite *
session_suite(void)
{
	Suite	*s = suite_create("session");
	TCase	*tc;

	tc = tcase_create("cookie");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_issue_attrs, 0, (int)NELEM(cookie_cases));
	tcase_add_loop_test(tc, test_clear_attrs, 0, (int)NELEM(cookie_cases));
	tcase_add_test(tc, test_issue_expired);
	tcase_add_test(tc, test_open_roundtrip);
	tcase_add_test(tc, test_open_refused);
	tcase_add_test(tc, test_issue_long_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("csrf");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_csrf);
	tcase_add_loop_test(tc, test_cookie_find, 0, (int)NELEM(find_cases));
	tcase_add_test(tc, test_login_token);
	tcase_add_loop_test(tc, test_origin, 0, (int)NELEM(origin_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(session_suite());
}
