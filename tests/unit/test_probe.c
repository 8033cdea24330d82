#include "cs_build.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <ifaddrs.h>
#include <sched.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "catalog.h"
#include "credset.h"
#include "curlapi.h"
#include "fence.h"
#include "probe.h"
#include "util.h"
#include "ck_run.h"

/*
 * Unit tests of the pieces of the provider check (probe.c) that need no
 * server: template rendering, the origin override, the address fence,
 * JSON pointers, the verdict rules on a given outcome, and the verdicts
 * reached before any byte is sent.  The
 * checks against a live provider are in the end-to-end suite.
 */

#define NROWS(a)	((int)(sizeof(a) / sizeof((a)[0])))

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

#define REPORT_INIT(r)	memset((r), 0, sizeof(*(r)))
#define REPORT_END(r)	ck_assert_msg((r)->n == 0, "%d row(s) failed:\n%s", \
			    (r)->n, (r)->text)

/* --- probe_render ----------------------------------------------------- */

static void
fill_credset(struct credset *cs)
{
	credset_init(cs);
	ck_assert_int_eq(credset_add(cs, "api_key", "k-123", 5), 0);
	ck_assert_int_eq(credset_add(cs, "site", "us5.datadoghq.com", 17), 0);
	ck_assert_int_eq(credset_add(cs, "sp", "a b/c", 5), 0);
	ck_assert_int_eq(credset_add(cs, "amp", "x&y=z?#%+", 9), 0);
	ck_assert_int_eq(credset_add(cs, "unreserved", "A-z_0.9~", 8), 0);
	ck_assert_int_eq(credset_add(cs, "utf", "\xc3\xa9", 2), 0);
	ck_assert_int_eq(credset_add(cs, "empty", "", 0), 0);
	ck_assert_int_eq(credset_add(cs, "cr", "a\rb", 3), 0);
	ck_assert_int_eq(credset_add(cs, "lf", "a\nb", 3), 0);
	ck_assert_int_eq(credset_add(cs, "crlf", "a\r\nX-Evil: 1", 13), 0);
	ck_assert_int_eq(credset_add(cs, "nul", "a\0b", 3), 0);
	ck_assert_int_eq(credset_add(cs, "dot", ".", 1), 0);
	ck_assert_int_eq(credset_add(cs, "dotdot", "..", 2), 0);
	ck_assert_int_eq(credset_add(cs, "dots", "../x/..", 7), 0);
}

static const struct {
	const char	*tmpl;
	int		 urlenc;
	const char	*want;		/* NULL: refused */
} render_rows[] = {
	{ "https://api.{{site}}/v1?k={{api_key}}", 1,
	    "https://api.us5.datadoghq.com/v1?k=k-123" },
	{ "{{sp}}", 1, "a%20b%2Fc" },
	{ "{{sp}}", 0, "a b/c" },
	{ "/q?v={{amp}}", 1, "/q?v=x%26y%3Dz%3F%23%25%2B" },
	{ "{{amp}}", 0, "x&y=z?#%+" },
	{ "{{unreserved}}", 1, "A-z_0.9~" },
	{ "{{utf}}", 1, "%C3%A9" },
	{ "{{utf}}", 0, "\xc3\xa9" },
	{ "Bearer {{api_key}}", 0, "Bearer k-123" },
	{ "{{api_key}}{{site}}", 0, "k-123us5.datadoghq.com" },
	{ "{{sp}}{{sp}}", 1, "a%20b%2Fca%20b%2Fc" },
	{ "{{api_key}}-{{api_key}}", 0, "k-123-k-123" },
	{ "[{{empty}}]", 0, "[]" },
	{ "[{{empty}}]", 1, "[]" },
	{ "no placeholders", 0, "no placeholders" },
	{ "no placeholders / here", 1, "no placeholders / here" },
	{ "", 0, "" },
	{ "x{{api_key", 0, "x{{api_key" },
	{ "{ {api_key}}", 0, "{ {api_key}}" },
	{ "a}}b{{api_key}}", 0, "a}}bk-123" },
	{ "{{missing}}", 0, NULL },
	{ "{{missing}}", 1, NULL },
	{ "ok {{api_key}} then {{missing}}", 0, NULL },
	{ "{{API_KEY}}", 0, NULL },
	{ "{{ api_key }}", 0, NULL },
	{ "{{}}", 0, NULL },
	{ "{{cr}}", 0, NULL },
	{ "{{cr}}", 1, NULL },
	{ "{{lf}}", 0, NULL },
	{ "{{lf}}", 1, NULL },
	{ "X: {{crlf}}", 0, NULL },
	{ "{{nul}}", 0, NULL },
	{ "{{nul}}", 1, NULL },
	/* issue 12, finding 11: no dot segment from a value in the path */
	{ "https://api.example.com/a/{{dotdot}}/b", 1, NULL },
	{ "https://api.example.com/a/{{dot}}/b", 1, NULL },
	{ "https://api.example.com/a/{{dots}}/b", 1,
	    "https://api.example.com/a/%2E%2E%2Fx%2F%2E%2E/b" },
	{ "https://api.example.com/a/{{unreserved}}", 1,
	    "https://api.example.com/a/A-z_0%2E9~" },
	{ "https://api.example.com/a?x={{dotdot}}", 1, NULL },
	{ "https://{{site}}/x", 1, "https://us5.datadoghq.com/x" },
	{ "https://{{site}}/{{site}}", 1,
	    "https://us5.datadoghq.com/us5%2Edatadoghq%2Ecom" },
	{ "{{dotdot}}", 0, ".." },
};

START_TEST(test_render)
{
	struct report	 r;
	struct credset	 cs;
	const char	*want;
	char		*got;
	int		 row;

	REPORT_INIT(&r);
	fill_credset(&cs);
	for (row = 0; row < NROWS(render_rows); row++) {
		want = render_rows[row].want;
		got = probe_render(render_rows[row].tmpl, &cs,
		    render_rows[row].urlenc);
		if (want == NULL ? got != NULL : (got == NULL ||
		    got == render_rows[row].tmpl || strcmp(got, want) != 0))
			report_add(&r, "row %d '%s' (urlenc %d): want '%s', "
			    "got '%s'", row, render_rows[row].tmpl,
			    render_rows[row].urlenc, want ? want : "(refused)",
			    got ? got : "(refused)");
		secure_free_str(got);
	}
	credset_free(&cs);
	REPORT_END(&r);
}
END_TEST

START_TEST(test_render_empty_credset)
{
	struct credset	 cs;
	char		*got;

	credset_init(&cs);
	got = probe_render("https://example.com/", &cs, 1);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "https://example.com/");
	free(got);
	ck_assert_ptr_null(probe_render("{{api_key}}", &cs, 0));
}
END_TEST

/* --- probe_apply_origin ----------------------------------------------- */

#define ORIGIN	"http://127.0.0.1:8081"

static const struct {
	const char	*url;
	const char	*want;
} origin_rows[] = {
	{ "https://api.datadoghq.com/api/v2/validate_keys?x=1",
	    ORIGIN "/api/v2/validate_keys?x=1" },
	{ "https://api.example.com", ORIGIN },
	{ "https://api.example.com/", ORIGIN "/" },
	{ "https://api.example.com:8443/p/q", ORIGIN "/p/q" },
	{ "https://api.example.com?x=1", ORIGIN "?x=1" },
	{ "https://api.example.com#frag", ORIGIN "#frag" },
	{ "https://user:pw@api.example.com/x", ORIGIN "/x" },
	{ "https://h/a://b", ORIGIN "/a://b" },
	{ "api.example.com/x", NULL },
	{ "https:/api.example.com/x", NULL },
	{ "", NULL },
};

START_TEST(test_apply_origin)
{
	struct report	 r;
	const char	*want;
	char		*got;
	int		 row;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(origin_rows); row++) {
		want = origin_rows[row].want;
		got = probe_apply_origin(origin_rows[row].url, ORIGIN);
		if (want == NULL ? got != NULL : (got == NULL ||
		    strcmp(got, want) != 0))
			report_add(&r, "'%s': want '%s', got '%s'",
			    origin_rows[row].url, want ? want : "(refused)",
			    got ? got : "(refused)");
		free(got);
	}
	REPORT_END(&r);
}
END_TEST

START_TEST(test_apply_origin_other)
{
	char *got;

	got = probe_apply_origin("https://api.example.com/v1",
	    "https://staging.example.net:9443");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "https://staging.example.net:9443/v1");
	free(got);
}
END_TEST

/* --- fence_refused (fence.c) ------------------------------------------ */

static const struct {
	const char	*addr;
	int		 fenced;
} fence_rows[] = {
	{ "127.0.0.1", 1 },
	{ "127.255.255.254", 1 },
	{ "10.1.2.3", 1 },
	{ "10.255.255.255", 1 },
	{ "172.16.0.1", 1 },
	{ "172.31.255.255", 1 },
	{ "192.168.1.1", 1 },
	{ "169.254.169.254", 1 },
	{ "100.64.0.1", 1 },
	{ "100.127.255.255", 1 },
	{ "0.0.0.0", 1 },
	{ "0.1.2.3", 1 },
	{ "224.0.0.1", 1 },
	{ "239.255.255.250", 1 },
	{ "240.0.0.1", 1 },
	{ "255.255.255.255", 1 },
	{ "8.8.8.8", 0 },
	{ "1.1.1.1", 0 },
	{ "172.32.0.1", 0 },
	{ "172.15.255.255", 0 },
	{ "9.255.255.255", 0 },
	{ "11.0.0.1", 0 },
	{ "126.255.255.255", 0 },
	{ "128.0.0.1", 0 },
	{ "100.63.255.255", 0 },
	{ "100.128.0.1", 0 },
	{ "169.253.255.255", 0 },
	{ "169.255.0.1", 0 },
	{ "192.167.255.255", 0 },
	{ "192.169.0.1", 0 },
	{ "223.255.255.255", 0 },
	{ "::1", 1 },
	{ "::", 1 },
	{ "fe80::1", 1 },
	{ "febf:ffff::1", 1 },
	{ "fc00::1", 1 },
	{ "fd12:3456::1", 1 },
	{ "ff02::1", 1 },
	{ "ff0e::1", 1 },
	{ "::ffff:127.0.0.1", 1 },
	{ "::ffff:10.0.0.1", 1 },
	{ "::ffff:169.254.169.254", 1 },
	{ "::ffff:192.168.0.1", 1 },
	{ "::ffff:0.0.0.0", 1 },
	{ "64:ff9b::127.0.0.1", 1 },
	{ "64:ff9b::169.254.169.254", 1 },
	{ "2606:4700::1111", 0 },
	{ "2001:4860:4860::8888", 0 },
	{ "::ffff:8.8.8.8", 0 },
	{ "64:ff9b::8.8.8.8", 0 },
	{ "fe00::1", 0 },
	/* issue 12, finding 12: the special-purpose registries in full */
	{ "::7f00:1", 1 },			/* IPv4-compatible ::127.0.0.1 */
	{ "::8.8.8.8", 1 },			/* IPv4-compatible: all of ::/96 */
	{ "::ffff:0:127.0.0.1", 1 },		/* SIIT */
	{ "::ffff:0:10.1.2.3", 1 },
	{ "::ffff:0:8.8.8.8", 0 },
	{ "64:ff9b:1::a00:1", 1 },		/* local-use NAT64 */
	{ "64:ff9b:1:ffff::8.8.8.8", 1 },
	{ "2002:7f00:1::1", 1 },		/* 6to4 of 127.0.0.1 */
	{ "2002:a9fe:a9fe::1", 1 },		/* 6to4 of 169.254.169.254 */
	{ "2002:0808:0808::1", 0 },		/* 6to4 of 8.8.8.8 */
	{ "2001:0:4136:e378:8000:63bf:80ff:fffe", 1 },	/* Teredo, client 127.0.0.1 */
	{ "2001:0:7f00:1:8000:63bf:f7f7:f7f7", 1 },	/* Teredo, server 127.0.0.1 */
	{ "2001:0:4136:e378:8000:63bf:f7f7:f7f7", 0 },	/* Teredo, both public */
	{ "192.0.2.1", 1 },			/* TEST-NET-1 */
	{ "198.51.100.7", 1 },			/* TEST-NET-2 */
	{ "203.0.113.200", 1 },			/* TEST-NET-3 */
	{ "198.19.255.255", 1 },		/* benchmarking */
	{ "192.88.99.1", 1 },			/* 6to4 relay anycast */
	{ "192.0.0.170", 1 },
	{ "203.0.114.1", 0 },
	{ "198.20.0.1", 0 },
	{ "100::1", 1 },			/* discard-only */
	{ "100::1:0:0:0:1", 0 },		/* past 100::/64 */
	{ "2001:db8::1", 1 },			/* documentation */
	{ "3fff::1", 1 },
	{ "3fff:1000::1", 0 },
	{ "2001:2::1", 1 },			/* benchmarking */
	{ "2001:10::1", 1 },			/* ORCHID */
	{ "5f00::1", 1 },
	{ "fec0::1", 1 },			/* site local */
	{ "2a00:1450:4001::200e", 0 },
};

START_TEST(test_addr_fenced)
{
	struct report		 r;
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	const struct sockaddr	*sa;
	const char		*a;
	int			 row, got;

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(fence_rows); row++) {
		a = fence_rows[row].addr;
		memset(&s4, 0, sizeof(s4));
		memset(&s6, 0, sizeof(s6));
		if (strchr(a, ':') == NULL) {
			s4.sin_family = AF_INET;
			s4.sin_port = htons(443);
			ck_assert_int_eq(inet_pton(AF_INET, a, &s4.sin_addr), 1);
			sa = (const struct sockaddr *)(const void *)&s4;
		} else {
			s6.sin6_family = AF_INET6;
			s6.sin6_port = htons(443);
			ck_assert_int_eq(inet_pton(AF_INET6, a, &s6.sin6_addr),
			    1);
			sa = (const struct sockaddr *)(const void *)&s6;
		}
		if ((got = fence_refused(sa)) != fence_rows[row].fenced)
			report_add(&r, "%s: want %s, got %d", a,
			    fence_rows[row].fenced ? "fenced" : "allowed", got);
	}
	REPORT_END(&r);
}
END_TEST

/* This host's own interface addresses are refused, whatever they are. */
START_TEST(test_addr_fenced_own)
{
	struct ifaddrs	*ifa, *p;
	int		 n = 0;

	ck_assert_int_eq(getifaddrs(&ifa), 0);
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL || (p->ifa_addr->sa_family != AF_INET &&
		    p->ifa_addr->sa_family != AF_INET6))
			continue;
		ck_assert_msg(fence_refused(p->ifa_addr) == 1,
		    "address of interface %s allowed", p->ifa_name);
		n++;
	}
	freeifaddrs(ifa);
	ck_assert_int_ge(n, 1);		/* lo at least */
}
END_TEST

/*
 * An address no registry fences becomes refused once this host has it:
 * in a network namespace of its own (root), 203.0.114.9 is put on lo.
 * Skipped, loudly, where namespaces cannot be made.
 */
START_TEST(test_addr_fenced_own_public)
{
	struct sockaddr_in	 mine, other;
	pid_t			 pid;
	int			 st;

	memset(&mine, 0, sizeof(mine));
	mine.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, "203.0.114.9", &mine.sin_addr), 1);
	other = mine;
	ck_assert_int_eq(inet_pton(AF_INET, "203.0.114.10", &other.sin_addr), 1);
	/* the child reads the interface list first (fresh from Check's fork) */
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) == -1)
			_exit(77);
		if (system("ip link set lo up && "
		    "ip addr add 203.0.114.9/32 dev lo") != 0)
			_exit(78);
		_exit(fence_refused((struct sockaddr *)(void *)&mine) == 1 &&
		    fence_refused((struct sockaddr *)(void *)&other) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77 || WEXITSTATUS(st) == 78) {
		fprintf(stderr, "test_addr_fenced_own_public: SKIPPED: no "
		    "network namespace (needs root and iproute2)\n");
		return;
	}
	ck_assert_msg(WEXITSTATUS(st) == 0, "own address 203.0.114.9 allowed");
	/* out here it is nobody's address */
	ck_assert_int_eq(fence_refused((struct sockaddr *)(void *)&mine), 0);
}
END_TEST

START_TEST(test_addr_fenced_family)
{
	struct sockaddr_un un;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/x.sock");
	ck_assert_int_eq(fence_refused((const struct sockaddr *)
	    (const void *)&un), 1);
}
END_TEST

/* --- probe_json_pointer (RFC 6901 section 5, plus arrays) ------------- */

static const char pointer_doc[] =
    "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, "
    "\"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, "
    "\"m~n\": 8, \"~1\": 9, "
    "\"nested\": {\"ok\": true, \"list\": [1, {\"deep\": \"x\"}]}}";

static const struct {
	const char	*ptr;
	const char	*want;		/* JSON text; NULL: absent */
} pointer_rows[] = {
	{ "/foo", "[\"bar\", \"baz\"]" },
	{ "/foo/0", "\"bar\"" },
	{ "/foo/1", "\"baz\"" },
	{ "/", "0" },
	{ "/a~1b", "1" },
	{ "/c%d", "2" },
	{ "/e^f", "3" },
	{ "/g|h", "4" },
	{ "/i\\j", "5" },
	{ "/k\"l", "6" },
	{ "/ ", "7" },
	{ "/m~0n", "8" },
	{ "/~01", "9" },			/* "~01" is "~1", not "/" */
	{ "/nested/ok", "true" },
	{ "/nested/list/0", "1" },
	{ "/nested/list/1/deep", "\"x\"" },
	{ "/nested", "{\"ok\": true, \"list\": [1, {\"deep\": \"x\"}]}" },
	{ "/foo/01", NULL },
	{ "/foo/00", NULL },
	{ "/foo/2", NULL },
	{ "/foo/-", NULL },
	{ "/foo/-1", NULL },
	{ "/foo/-0", NULL },
	{ "/foo/+1", NULL },
	{ "/foo/ 1", NULL },
	{ "/foo/1x", NULL },
	{ "/foo/", NULL },
	{ "/foo/0/x", NULL },
	{ "/missing", NULL },
	{ "/nested/ok/", NULL },
	{ "/nested/missing/x", NULL },
	{ "/a/b", NULL },
	{ "//", NULL },
	{ "foo", NULL },
	{ "#/foo", NULL },
	{ "/~2", NULL },
	{ "/~", NULL },
	{ "/m~n", NULL },
	{ "/a~1b/", NULL },
};

START_TEST(test_json_pointer)
{
	struct report		 r;
	struct json_object	*doc, *got, *want;
	const char		*ptr;
	int			 row;

	REPORT_INIT(&r);
	doc = json_tokener_parse(pointer_doc);
	ck_assert_ptr_nonnull(doc);
	for (row = 0; row < NROWS(pointer_rows); row++) {
		ptr = pointer_rows[row].ptr;
		got = probe_json_pointer(doc, ptr);
		if (pointer_rows[row].want == NULL) {
			if (got != NULL)
				report_add(&r, "'%s': want absent, got %s", ptr,
				    json_object_to_json_string(got));
			continue;
		}
		want = json_tokener_parse(pointer_rows[row].want);
		ck_assert_ptr_nonnull(want);
		if (got == NULL || !json_object_equal(got, want))
			report_add(&r, "'%s': want %s, got %s", ptr,
			    pointer_rows[row].want, got ?
			    json_object_to_json_string(got) : "(absent)");
		json_object_put(want);
	}
	json_object_put(doc);
	REPORT_END(&r);
}
END_TEST

START_TEST(test_json_pointer_whole)
{
	struct json_object *doc, *arr;

	doc = json_tokener_parse(pointer_doc);
	ck_assert_ptr_nonnull(doc);
	ck_assert_ptr_eq(probe_json_pointer(doc, ""), doc);
	arr = json_tokener_parse("[true, false]");
	ck_assert_ptr_eq(probe_json_pointer(arr, ""), arr);
	ck_assert(json_object_get_boolean(probe_json_pointer(arr, "/0")));
	ck_assert(!json_object_get_boolean(probe_json_pointer(arr, "/1")));
	ck_assert_ptr_null(probe_json_pointer(arr, "/2"));
	ck_assert_ptr_null(probe_json_pointer(arr, "/ok"));
	json_object_put(arr);
	json_object_put(doc);
}
END_TEST

/* --- probe_classify: the verdict rules of SPEC section 9 -------------- */

#define TIMEOUT		"Timeout was reached"
#define NO_DNS		"Could not resolve hostname"
#define NEITHER(st)	"provider answered " #st ", neither valid nor rejected"
#define NOT_JSON	"response is not the JSON expected"
#define EXPECTED	"provider answered with the expected value"
#define UNEXPECTED	"provider answered without the expected value"

enum { PLAIN, EXPECT };		/* which check a row classifies against */

static const struct {
	int		 check;
	int		 fenced;
	const char	*neterr;
	long		 status;
	const char	*body;
	int		 truncated;
	enum probe_verdict want;
	const char	*why;
} classify_rows[] = {
	/* validStatus [200, 204], rejectStatus [401, 403], no expect */
	{ PLAIN, 0, NULL, 200, "", 0, PROBE_VALID, "provider answered 200" },
	{ PLAIN, 0, NULL, 204, NULL, 0, PROBE_VALID, "provider answered 204" },
	{ PLAIN, 0, NULL, 200, "not json", 0, PROBE_VALID,
	    "provider answered 200" },
	{ PLAIN, 0, NULL, 200, "{}", 1, PROBE_VALID, "provider answered 200" },
	{ PLAIN, 0, NULL, 401, "{}", 0, PROBE_REJECTED,
	    "provider answered 401" },
	{ PLAIN, 0, NULL, 403, NULL, 0, PROBE_REJECTED,
	    "provider answered 403" },
	{ PLAIN, 0, NULL, 201, NULL, 0, PROBE_UNVERIFIED, NEITHER(201) },
	{ PLAIN, 0, NULL, 202, NULL, 0, PROBE_UNVERIFIED, NEITHER(202) },
	{ PLAIN, 0, NULL, 301, NULL, 0, PROBE_UNVERIFIED, NEITHER(301) },
	{ PLAIN, 0, NULL, 400, NULL, 0, PROBE_UNVERIFIED, NEITHER(400) },
	{ PLAIN, 0, NULL, 404, NULL, 0, PROBE_UNVERIFIED, NEITHER(404) },
	{ PLAIN, 0, NULL, 429, NULL, 0, PROBE_UNVERIFIED, NEITHER(429) },
	{ PLAIN, 0, NULL, 500, NULL, 0, PROBE_UNVERIFIED, NEITHER(500) },
	{ PLAIN, 0, NULL, 502, NULL, 0, PROBE_UNVERIFIED, NEITHER(502) },
	{ PLAIN, 0, NULL, 503, NULL, 0, PROBE_UNVERIFIED, NEITHER(503) },
	{ PLAIN, 0, NULL, 599, NULL, 0, PROBE_UNVERIFIED, NEITHER(599) },
	/* no answer: the transport's reason, whatever the status says */
	{ PLAIN, 0, TIMEOUT, 0, NULL, 0, PROBE_UNVERIFIED,
	    "check failed: " TIMEOUT },
	{ PLAIN, 0, NO_DNS, 0, NULL, 0, PROBE_UNVERIFIED,
	    "check failed: " NO_DNS },
	{ PLAIN, 0, TIMEOUT, 200, NULL, 0, PROBE_UNVERIFIED,
	    "check failed: " TIMEOUT },
	{ PLAIN, 0, TIMEOUT, 401, NULL, 0, PROBE_UNVERIFIED,
	    "check failed: " TIMEOUT },
	{ EXPECT, 0, TIMEOUT, 200, "{\"ok\": true}", 0, PROBE_UNVERIFIED,
	    "check failed: " TIMEOUT },
	/* the fence comes first */
	{ PLAIN, 1, NULL, 0, NULL, 0, PROBE_UNVERIFIED,
	    "check target is a private address" },
	{ PLAIN, 1, "Couldn't connect to server", 0, NULL, 0, PROBE_UNVERIFIED,
	    "check target is a private address" },
	{ EXPECT, 1, NULL, 200, "{\"ok\": true}", 0, PROBE_UNVERIFIED,
	    "check target is a private address" },
	/* validStatus [200], rejectStatus [401], expect /ok == true */
	{ EXPECT, 0, NULL, 200, "{\"ok\": true}", 0, PROBE_VALID, EXPECTED },
	{ EXPECT, 0, NULL, 200, "{\"ok\": true, \"user\": \"x\"}", 0,
	    PROBE_VALID, EXPECTED },
	{ EXPECT, 0, NULL, 200, "{\"ok\": false}", 0, PROBE_REJECTED,
	    UNEXPECTED },
	{ EXPECT, 0, NULL, 200, "{\"ok\": \"true\"}", 0, PROBE_REJECTED,
	    UNEXPECTED },
	{ EXPECT, 0, NULL, 200, "{\"ok\": 1}", 0, PROBE_REJECTED, UNEXPECTED },
	{ EXPECT, 0, NULL, 200, "{\"ok\": null}", 0, PROBE_REJECTED,
	    UNEXPECTED },
	{ EXPECT, 0, NULL, 200, "{\"error\": \"invalid_auth\"}", 0,
	    PROBE_REJECTED, UNEXPECTED },
	{ EXPECT, 0, NULL, 200, "{\"data\": {\"ok\": true}}", 0,
	    PROBE_REJECTED, UNEXPECTED },
	{ EXPECT, 0, NULL, 200, "[true]", 0, PROBE_REJECTED, UNEXPECTED },
	{ EXPECT, 0, NULL, 200, "true", 0, PROBE_REJECTED, UNEXPECTED },
	{ EXPECT, 0, NULL, 200, "not json", 0, PROBE_REJECTED, NOT_JSON },
	{ EXPECT, 0, NULL, 200, "{\"ok\": tru", 0, PROBE_REJECTED, NOT_JSON },
	{ EXPECT, 0, NULL, 200, "", 0, PROBE_REJECTED, NOT_JSON },
	{ EXPECT, 0, NULL, 200, NULL, 0, PROBE_REJECTED, NOT_JSON },
	{ EXPECT, 0, NULL, 200, "{\"ok\": true}", 1, PROBE_UNVERIFIED,
	    "response body over 64 KiB" },
	{ EXPECT, 0, NULL, 401, "{\"ok\": true}", 0, PROBE_REJECTED,
	    "provider answered 401" },
	{ EXPECT, 0, NULL, 204, "{\"ok\": true}", 0, PROBE_UNVERIFIED,
	    NEITHER(204) },
	{ EXPECT, 0, NULL, 429, "{\"ok\": true}", 0, PROBE_UNVERIFIED,
	    NEITHER(429) },
	{ EXPECT, 0, NULL, 500, "{\"ok\": true}", 0, PROBE_UNVERIFIED,
	    NEITHER(500) },
};

START_TEST(test_classify)
{
	struct report		 r;
	struct cat_check	 checks[2];
	struct probe_outcome	 out;
	struct probe_result	 res;
	const char		*body;
	int			 row;

	memset(checks, 0, sizeof(checks));
	checks[PLAIN].valid[0] = 200;
	checks[PLAIN].valid[1] = 204;
	checks[PLAIN].nvalid = 2;
	checks[PLAIN].reject[0] = 401;
	checks[PLAIN].reject[1] = 403;
	checks[PLAIN].nreject = 2;
	checks[EXPECT].valid[0] = 200;
	checks[EXPECT].nvalid = 1;
	checks[EXPECT].reject[0] = 401;
	checks[EXPECT].nreject = 1;
	checks[EXPECT].expect_pointer = "/ok";
	checks[EXPECT].expect_value = json_object_new_boolean(1);
	ck_assert_ptr_nonnull(checks[EXPECT].expect_value);

	REPORT_INIT(&r);
	for (row = 0; row < NROWS(classify_rows); row++) {
		body = classify_rows[row].body;
		memset(&out, 0, sizeof(out));
		out.fenced = classify_rows[row].fenced;
		out.neterr = classify_rows[row].neterr;
		out.status = classify_rows[row].status;
		out.body = body;
		out.body_len = body != NULL ? strlen(body) : 0;
		out.truncated = classify_rows[row].truncated;
		memset(&res, 0x5a, sizeof(res));
		probe_classify(&checks[classify_rows[row].check], &out, &res);
		if (res.verdict != classify_rows[row].want ||
		    res.http_status != classify_rows[row].status ||
		    memchr(res.why, '\0', sizeof(res.why)) == NULL ||
		    strcmp(res.why, classify_rows[row].why) != 0)
			report_add(&r, "row %d: want %s (%ld) '%s', got %s (%ld) "
			    "'%.*s'", row,
			    probe_verdict_name(classify_rows[row].want),
			    classify_rows[row].status, classify_rows[row].why,
			    probe_verdict_name(res.verdict), res.http_status,
			    (int)sizeof(res.why), res.why);
	}
	json_object_put(checks[EXPECT].expect_value);
	REPORT_END(&r);
}
END_TEST

START_TEST(test_classify_expect_values)
{
	struct cat_check	 k;
	struct probe_outcome	 out;
	struct probe_result	 res;
	static const char	 body[] =
	    "{\"team\": {\"plan\": \"pro\", \"ids\": [7, 8]}}";

	/* expect compares any JSON value, not just booleans */
	memset(&k, 0, sizeof(k));
	k.valid[0] = 200;
	k.nvalid = 1;
	memset(&out, 0, sizeof(out));
	out.status = 200;
	out.body = body;
	out.body_len = strlen(body);

	k.expect_pointer = "/team/plan";
	k.expect_value = json_object_new_string("pro");
	probe_classify(&k, &out, &res);
	ck_assert_int_eq(res.verdict, PROBE_VALID);
	json_object_put(k.expect_value);

	k.expect_value = json_object_new_string("free");
	probe_classify(&k, &out, &res);
	ck_assert_int_eq(res.verdict, PROBE_REJECTED);
	json_object_put(k.expect_value);

	k.expect_pointer = "/team/ids/1";
	k.expect_value = json_object_new_int(8);
	probe_classify(&k, &out, &res);
	ck_assert_int_eq(res.verdict, PROBE_VALID);
	json_object_put(k.expect_value);

	k.expect_pointer = "/team/ids";
	k.expect_value = json_tokener_parse("[7, 8]");
	probe_classify(&k, &out, &res);
	ck_assert_int_eq(res.verdict, PROBE_VALID);
	json_object_put(k.expect_value);

	/* a missing member is not the value, not even null */
	k.expect_pointer = "/missing";
	k.expect_value = NULL;
	probe_classify(&k, &out, &res);
	ck_assert_int_eq(res.verdict, PROBE_REJECTED);
}
END_TEST

/* --- probe_check verdicts reached without a server -------------------- */

static const char check_catalog[] =
    "{\"providers\": ["
    "{\"id\": \"nocheck\", \"name\": \"No check\", \"authType\": \"api_key\", "
    " \"requiredFields\": [\"api_key\"], "
    " \"fields\": {\"api_key\": {\"label\": \"Key\", \"secret\": true}}}, "
    "{\"id\": \"local\", \"name\": \"Local\", \"authType\": \"api_key\", "
    " \"requiredFields\": [\"api_key\"], \"optionalFields\": [\"region\"], "
    " \"fields\": {\"api_key\": {\"label\": \"Key\", \"secret\": true}, "
    "   \"region\": {\"label\": \"Region\", \"secret\": false}}, "
    " \"validation\": {\"method\": \"GET\", "
    "   \"url\": \"https://127.0.0.1:PORT/check?k={{api_key}}\", "
    "   \"headers\": {\"X-Key\": \"{{api_key}}\", "
    "     \"X-Region\": \"{{region}}\"}, "
    "   \"validStatus\": [200], \"rejectStatus\": [401]}}]}";

#define SECRET_VALUE	"SECRET-KEY-0123456789"

static struct catalog *cat;
static int closed_fd = -1;
static char closed_port[8];

/*
 * A loopback port that refuses connections: a TCP socket bound but not
 * listening.  If the fence ever let a check through, it would end on
 * "connection refused" here, never on a server.
 */
static void
check_setup(void)
{
	struct sockaddr_in	 a;
	socklen_t		 alen = sizeof(a);
	char			*text, *p, err[256];
	size_t			 len;

	closed_fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(closed_fd, -1);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(closed_fd, (struct sockaddr *)(void *)&a,
	    sizeof(a)), 0);
	ck_assert_int_eq(getsockname(closed_fd, (struct sockaddr *)(void *)&a,
	    &alen), 0);
	snprintf(closed_port, sizeof(closed_port), "%u",
	    (unsigned)ntohs(a.sin_port));

	/* the catalog with PORT replaced */
	len = strlen(check_catalog);
	text = malloc(len + 8);
	ck_assert_ptr_nonnull(text);
	p = strstr(check_catalog, "PORT");
	ck_assert_ptr_nonnull(p);
	snprintf(text, len + 8, "%.*s%s%s", (int)(p - check_catalog),
	    check_catalog, closed_port, p + 4);
	cat = catalog_parse(text, strlen(text), "probe-catalog", err,
	    sizeof(err));
	ck_assert_msg(cat != NULL, "%s", err);
	free(text);
	ck_assert_int_eq(probe_init(), 0);
}

static void
check_teardown(void)
{
	catalog_free(cat);
	cat = NULL;
	if (closed_fd != -1)
		close(closed_fd);
	closed_fd = -1;
}

static void
assert_clean_why(const struct probe_result *res)
{
	ck_assert(strstr(res->why, SECRET_VALUE) == NULL);
	ck_assert(strstr(res->why, "SECRET") == NULL);
	ck_assert(memchr(res->why, '\0', sizeof(res->why)) != NULL);
}

START_TEST(test_check_no_validation)
{
	const struct cat_provider	*p = catalog_find(cat, "nocheck");
	struct probe_opts		 o = { 1000, NULL };
	struct probe_result		 res;
	struct credset			 cs;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(p->check);
	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "api_key", SECRET_VALUE,
	    strlen(SECRET_VALUE)), 0);
	memset(&res, 0x5a, sizeof(res));
	probe_check(p, &cs, &o, &res);
	ck_assert_int_eq(res.verdict, PROBE_UNVERIFIED);
	ck_assert_int_eq(res.http_status, 0);
	ck_assert(res.why[0] != '\0');
	assert_clean_why(&res);
	ck_assert_str_eq(probe_verdict_name(res.verdict), "unverified");

	/* the same with an origin override: still nothing to ask */
	o.origin_override = "http://127.0.0.1:1";
	probe_check(p, &cs, &o, &res);
	ck_assert_int_eq(res.verdict, PROBE_UNVERIFIED);
	ck_assert_int_eq(res.http_status, 0);
	credset_free(&cs);
}
END_TEST

START_TEST(test_check_missing_field)
{
	const struct cat_provider	*p = catalog_find(cat, "local");
	struct probe_opts		 o = { 1000, NULL };
	struct probe_result		 res;
	struct credset			 cs;

	/* region is used by a header and absent: no request is made */
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p->check);
	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "api_key", SECRET_VALUE,
	    strlen(SECRET_VALUE)), 0);
	probe_check(p, &cs, &o, &res);
	ck_assert_int_eq(res.verdict, PROBE_UNVERIFIED);
	ck_assert_int_eq(res.http_status, 0);
	ck_assert(res.why[0] != '\0');
	assert_clean_why(&res);
	credset_free(&cs);

	/* a header value with CR LF is refused before anything is sent */
	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "api_key", SECRET_VALUE,
	    strlen(SECRET_VALUE)), 0);
	ck_assert_int_eq(credset_add(&cs, "region", "eu\r\nX-Evil: 1", 13), 0);
	probe_check(p, &cs, &o, &res);
	ck_assert_int_eq(res.verdict, PROBE_UNVERIFIED);
	ck_assert_int_eq(res.http_status, 0);
	assert_clean_why(&res);
	credset_free(&cs);
}
END_TEST

START_TEST(test_check_fenced)
{
	const struct cat_provider	*p = catalog_find(cat, "local");
	struct probe_opts		 o = { 1000, NULL };
	struct probe_result		 res;
	struct credset			 cs;

	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "api_key", SECRET_VALUE,
	    strlen(SECRET_VALUE)), 0);
	ck_assert_int_eq(credset_add(&cs, "region", "eu", 2), 0);
	probe_check(p, &cs, &o, &res);
	ck_assert_int_eq(res.verdict, PROBE_UNVERIFIED);
	ck_assert_int_eq(res.http_status, 0);
	ck_assert_str_eq(res.why, "check target is a private address");
	assert_clean_why(&res);
	credset_free(&cs);
}
END_TEST

START_TEST(test_check_override_reaches_loopback)
{
	const struct cat_provider	*p = catalog_find(cat, "local");
	struct probe_opts		 o = { 1000, NULL };
	struct probe_result		 res;
	struct credset			 cs;
	char				 origin[64];

	/*
	 * The override may point at loopback: the connection is attempted
	 * (and refused by the bound, non-listening port), not fenced.
	 */
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%s", closed_port);
	o.origin_override = origin;
	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "api_key", SECRET_VALUE,
	    strlen(SECRET_VALUE)), 0);
	ck_assert_int_eq(credset_add(&cs, "region", "eu", 2), 0);
	probe_check(p, &cs, &o, &res);
	ck_assert_int_eq(res.verdict, PROBE_UNVERIFIED);
	ck_assert_int_eq(res.http_status, 0);
	ck_assert_msg(strncmp(res.why, "check failed: ", 14) == 0, "%s",
	    res.why);
	assert_clean_why(&res);
	credset_free(&cs);
}
END_TEST

START_TEST(test_check_plain_http_refused)
{
	struct cat_provider	*p = &cat->providers[1];
	struct probe_opts	 o = { 1000, NULL };
	struct probe_result	 res;
	struct credset		 cs;
	char			 url[96];

	/* a plain http check URL without an override is never fetched */
	ck_assert_str_eq(p->id, "local");
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/check", closed_port);
	free(p->check->url);
	p->check->url = strdup(url);
	ck_assert_ptr_nonnull(p->check->url);
	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "api_key", SECRET_VALUE,
	    strlen(SECRET_VALUE)), 0);
	ck_assert_int_eq(credset_add(&cs, "region", "eu", 2), 0);
	probe_check(p, &cs, &o, &res);
	ck_assert_int_eq(res.verdict, PROBE_UNVERIFIED);
	ck_assert_int_eq(res.http_status, 0);
	ck_assert_msg(strncmp(res.why, "check failed: ", 14) == 0, "%s",
	    res.why);
	ck_assert(strstr(res.why, "onnect") == NULL);	/* not even tried */
	assert_clean_why(&res);
	credset_free(&cs);
}
END_TEST

START_TEST(test_verdict_names)
{
	ck_assert_str_eq(probe_verdict_name(PROBE_VALID), "validated");
	ck_assert_str_eq(probe_verdict_name(PROBE_REJECTED), "rejected");
	ck_assert_str_eq(probe_verdict_name(PROBE_UNVERIFIED), "unverified");
	ck_assert_str_eq(probe_verdict_name(PROBE__MAX), "?");
	ck_assert_int_eq(probe_init(), 0);
	ck_assert_int_eq(probe_init(), 0);	/* idempotent */
}
END_TEST

/*
 * Loading libcurl starts no OpenSSL: Debian's libcurl-gnutls brings in
 * OpenSSL's libcrypto through libssh2, whose libssh2_init(0) (called by
 * curl_global_init) loads libcrypto's built-in engines.  curlapi makes
 * the first libssh2_init one without crypto (src/curlapi.c), so the
 * engine list stays empty.  Without libcrypto in the process (another
 * libcurl build) there is nothing to check.
 */
START_TEST(test_curl_starts_no_openssl)
{
	const struct curlapi	*cu;
	const char		*why = NULL;
	void			*crypto, *sym, *free_sym, *engine;
	void			*(*first)(void);
	int			(*engine_free)(void *);

	ck_assert_ptr_nonnull(cu = curlapi_get(&why));
	ck_assert_ptr_nonnull(cu->easy_init);
	if ((crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_NOLOAD)) == NULL) {
		printf("test_curl_starts_no_openssl: libcurl brings no "
		    "libcrypto.so.3: nothing to check\n");
		return;
	}
	sym = dlsym(crypto, "ENGINE_get_first");
	free_sym = dlsym(crypto, "ENGINE_free");
	engine = NULL;
	if (sym != NULL && free_sym != NULL) {
		memcpy(&first, &sym, sizeof(sym));
		memcpy(&engine_free, &free_sym, sizeof(free_sym));
		if ((engine = first()) != NULL)
			(void)engine_free(engine);
	} else
		printf("test_curl_starts_no_openssl: libcrypto.so.3 has no "
		    "engines: nothing to check\n");
	dlclose(crypto);
	ck_assert_ptr_null(engine);
}
END_TEST

static Suite *
probe_suite(void)
{
	Suite	*s = suite_create("probe");
	TCase	*tc;

	tc = tcase_create("render");
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_render_empty_credset);
	tcase_add_test(tc, test_apply_origin);
	tcase_add_test(tc, test_apply_origin_other);
	suite_add_tcase(s, tc);

	tc = tcase_create("fence");
	tcase_add_test(tc, test_addr_fenced);
	tcase_add_test(tc, test_addr_fenced_family);
	tcase_add_test(tc, test_addr_fenced_own);
	tcase_add_test(tc, test_addr_fenced_own_public);
	suite_add_tcase(s, tc);

	tc = tcase_create("pointer");
	tcase_add_test(tc, test_json_pointer);
	tcase_add_test(tc, test_json_pointer_whole);
	suite_add_tcase(s, tc);

	tc = tcase_create("classify");
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_classify_expect_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, check_setup, check_teardown);
	tcase_add_test(tc, test_check_no_validation);
	tcase_add_test(tc, test_check_missing_field);
	tcase_add_test(tc, test_check_fenced);
	tcase_add_test(tc, test_check_override_reaches_loopback);
	tcase_add_test(tc, test_check_plain_http_refused);
	tcase_add_test(tc, test_verdict_names);
	tcase_add_test(tc, test_curl_starts_no_openssl);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	 failed;

	/* proxies from the environment must not matter to these tests */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	if (probe_init() != 0) {
		fprintf(stderr, "probe_init failed\n");
		return 1;
	}
	failed = ck_run(probe_suite());
	probe_cleanup();
	return failed == 0 ? 0 : 1;
}
