/*
 * e2e_threads: requests served at once by the threads of ONE FastCGI
 * process (fcgi_threads, SPEC section 4), behind lighttpd against the
 * mock provider.  Overlap is shown by the mock's own count of the calls
 * it was answering at once, never by wall time; the store must come out
 * consistent (the API's count and credstore-admin verify), and reloads
 * under load must not take the process down.
 */
#include "cs_build.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "harness.h"

#define JSON	"application/json"
#define DD	"/v1/integrations/datadog/credentials"
#define SLOW	"SECRETVAL-dd-slow"
#define GOOD	"SECRETVAL-dd-good"
#define BODY(key) "{\"credentials\":{\"api_key\":\"" key "\"," \
	"\"application_key\":\"SECRETVAL-app\"}}"

static void
routes(struct h_env *e)
{
	ck_assert_int_eq(h_mock_reset(e), 0);
	ck_assert_int_eq(h_mock_route(e, "{\"path\":\"/api/v2/validate_keys\","
	    "\"status\":404,\"body\":\"{}\"}"), 0);
	ck_assert_int_eq(h_mock_route(e, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"" GOOD "\"},"
	    "\"status\":200,\"body\":\"{\\\"valid\\\":true}\"}"), 0);
	/* a check that takes 500 ms */
	ck_assert_int_eq(h_mock_route(e, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"" SLOW "\"},"
	    "\"status\":200,\"delayMs\":500,\"body\":\"{\\\"valid\\\":true}\"}"),
	    0);
}

/*
 * The largest "inflight" the mock recorded for checks with API key key
 * (how many calls it was answering at once), and their number in *n.
 */
static int
max_inflight(struct h_env *e, const char *key, size_t *n)
{
	struct json_object	*reqs, *o, *hd, *v;
	size_t			 i, len;
	int			 max = 0, f;

	*n = 0;
	reqs = h_mock_requests(e);
	ck_assert_ptr_nonnull(reqs);
	len = json_object_array_length(reqs);
	for (i = 0; i < len; i++) {
		o = json_object_array_get_idx(reqs, i);
		hd = json_object_object_get(o, "headers");
		if (!json_object_object_get_ex(hd, "DD-API-KEY", &v) ||
		    strcmp(json_object_get_string(v), key) != 0)
			continue;
		(*n)++;
		f = json_object_get_int(json_object_object_get(o, "inflight"));
		if (f > max)
			max = f;
	}
	json_object_put(reqs);
	return max;
}

/* n slow stores at once (tenant acme); every answer must be 201. */
static void
slow_stores(struct h_env *e, size_t n)
{
	struct h_call	 k[16];
	struct h_resp	 r[16];
	size_t		 i;

	ck_assert_uint_le(n, 16);
	for (i = 0; i < n; i++) {
		k[i].method = "POST";
		k[i].path = DD;
		k[i].token = e->tok_admin;
		k[i].ctype = JSON;
		k[i].body = BODY(SLOW);
		k[i].hdrs = NULL;
	}
	ck_assert_int_eq(h_req_many(e, k, n, r), 0);
	for (i = 0; i < n; i++) {
		ck_assert_msg(r[i].status == 201, "store %zu: %ld %s", i,
		    r[i].status, r[i].body);
		h_resp_free(&r[i]);
	}
}

/* The FastCGI processes of e: exactly one, its pid. */
static pid_t
one_process(struct h_env *e)
{
	pid_t	pids[8];
	int	n = h_fcgi_pids(e, pids, 8);

	ck_assert_int_eq(n, 1);
	return pids[0];
}

/*
 * One process with 8 threads: 8 stores whose check takes 500 ms each are
 * all at the provider at once (one thread would have them one by one).
 */
START_TEST(eight_threads_overlap)
{
	struct h_env	 e;
	struct h_opts	 o = { .procs = 1, .conf_extra = "fcgi_threads = 8\n" };
	size_t		 n;
	int		 max;

	h_setup(&e, &o);
	routes(&e);
	(void)one_process(&e);
	slow_stores(&e, 8);
	max = max_inflight(&e, SLOW, &n);
	ck_assert_uint_eq(n, 8);
	ck_assert_msg(max >= 4, "at most %d checks at once", max);
	fprintf(stderr, "eight_threads_overlap: %d of 8 checks at once\n", max);
	ck_assert(!h_sanitizer_report(&e));
	h_teardown(&e);
}
END_TEST

/* fcgi_threads = 1: the same stores work, one at a time. */
START_TEST(one_thread_serial)
{
	struct h_env	 e;
	struct h_opts	 o = { .procs = 1, .conf_extra = "fcgi_threads = 1\n" };
	size_t		 n;

	h_setup(&e, &o);
	routes(&e);
	(void)one_process(&e);
	slow_stores(&e, 3);
	ck_assert_int_eq(max_inflight(&e, SLOW, &n), 1);
	ck_assert_uint_eq(n, 3);
	ck_assert(!h_sanitizer_report(&e));
	h_teardown(&e);
}
END_TEST

/* The ids of the tenant's datadog credentials, by the API (pages of 100). */
static size_t
api_ids(struct h_env *e, char ids[][64], size_t max)
{
	struct h_resp		 r;
	struct json_object	*o, *d, *c;
	char			 path[512];
	const char		*cur = NULL;
	char			 next[256] = "";
	size_t			 n = 0, i, len;

	for (;;) {
		snprintf(path, sizeof(path), DD "?limit=100%s%s",
		    cur ? "&cursor=" : "", cur ? cur : "");
		ck_assert_int_eq(h_req(e, "GET", path, e->tok_admin, NULL, NULL,
		    NULL, &r), 0);
		ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
		o = h_json(&r);
		ck_assert_ptr_nonnull(o);
		d = json_object_object_get(o, "data");
		len = json_object_array_length(d);
		for (i = 0; i < len; i++) {
			ck_assert_uint_lt(n, max);
			snprintf(ids[n++], 64, "%s", json_object_get_string(
			    json_object_object_get(json_object_array_get_idx(d,
			    i), "credentialId")));
		}
		c = json_object_object_get(o, "nextCursor");
		cur = NULL;
		if (c != NULL && json_object_get_string_len(c) > 0) {
			snprintf(next, sizeof(next), "%s",
			    json_object_get_string(c));
			cur = next;
		}
		json_object_put(o);
		h_resp_free(&r);
		if (cur == NULL)
			return n;
	}
}

#define MIXED		200
#define MIXED_DELETES	40

/*
 * 200 requests at once on 16 threads of one process: 80 stores, 80
 * lists, 40 deletes of credentials made before.  Afterwards the API
 * counts what was there plus the 201s minus the 204s, and
 * credstore-admin verify (records, MACs, audit chain) exits 0.
 */
START_TEST(mixed_load_consistent)
{
	static struct h_call	 k[MIXED];
	static struct h_resp	 r[MIXED];
	static char		 ids[400][64], paths[MIXED_DELETES][256];
	struct h_env		 e;
	struct h_opts		 o = { .procs = 1,
	    .conf_extra = "fcgi_threads = 16\n" };
	struct h_resp		 one;
	size_t			 i, before, after, made = 0, gone = 0;
	char			*out = NULL;
	int			 rc;

	h_setup(&e, &o);
	routes(&e);
	for (i = 0; i < MIXED_DELETES; i++) {
		ck_assert_int_eq(h_req(&e, "POST", DD, e.tok_admin, JSON,
		    BODY(GOOD), NULL, &one), 0);
		ck_assert_int_eq(one.status, 201);
		h_resp_free(&one);
	}
	before = api_ids(&e, ids, 400);
	ck_assert_uint_eq(before, MIXED_DELETES);
	for (i = 0; i < MIXED_DELETES; i++)
		snprintf(paths[i], sizeof(paths[i]), DD "/%.63s", ids[i]);
	for (i = 0; i < MIXED; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].token = e.tok_admin;
		if (i % 5 == 0 && i / 5 < MIXED_DELETES) {
			k[i].method = "DELETE";
			k[i].path = paths[i / 5];
		} else if (i % 5 == 1 || i % 5 == 3) {
			k[i].method = "GET";
			k[i].path = DD;
		} else {
			k[i].method = "POST";
			k[i].path = DD;
			k[i].ctype = JSON;
			k[i].body = BODY(GOOD);
		}
	}
	ck_assert_int_eq(h_req_many(&e, k, MIXED, r), 0);
	for (i = 0; i < MIXED; i++) {
		if (strcmp(k[i].method, "POST") == 0) {
			ck_assert_msg(r[i].status == 201, "POST %zu: %ld %s", i,
			    r[i].status, r[i].body);
			made++;
		} else if (strcmp(k[i].method, "DELETE") == 0) {
			ck_assert_msg(r[i].status == 204, "DELETE %zu: %ld %s",
			    i, r[i].status, r[i].body);
			gone++;
		} else
			ck_assert_msg(r[i].status == 200, "GET %zu: %ld %s", i,
			    r[i].status, r[i].body);
		h_resp_free(&r[i]);
	}
	ck_assert_uint_eq(made, 80);
	ck_assert_uint_eq(gone, MIXED_DELETES);
	after = api_ids(&e, ids, 400);
	ck_assert_uint_eq(after, before + made - gone);
	rc = h_admin(&e, &out, "verify", NULL);
	ck_assert_msg(rc == 0, "credstore-admin verify: exit %d: %s", rc,
	    out ? out : "");
	free(out);
	ck_assert(!h_sanitizer_report(&e));
	h_teardown(&e);
}
END_TEST

/* Touches path (a new mtime: the process sees a changed file). */
static void
touch(const char *path)
{
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };

	(void)utimensat(AT_FDCWD, path, ts, 0);
}

/*
 * The keyring and the JWT secret are touched every few milliseconds
 * while rounds of 40 requests run on 16 threads: every state a request
 * started with stays valid to its end (no crash, no 5xx), and the reloads
 * happened.
 */
START_TEST(reload_under_load)
{
	struct h_call	 k[40];
	struct h_resp	 r[40];
	struct h_env	 e;
	struct h_opts	 o = { .procs = 1, .conf_extra = "fcgi_threads = 16\n" };
	char		 kr[700], sec[700];
	pid_t		 fcgi, toucher;
	size_t		 i, round;
	int		 st;

	h_setup(&e, &o);
	routes(&e);
	fcgi = one_process(&e);
	snprintf(kr, sizeof(kr), "%s/keyring", e.dir);
	snprintf(sec, sizeof(sec), "%s/jwt.secret", e.dir);
	if ((toucher = fork()) == 0) {
		pid_t parent = getppid();

		/* bounded, and gone with its parent if a check fails */
		for (i = 0; i < 6000 && getppid() == parent; i++) {
			touch(kr);
			touch(sec);
			usleep(3000);
		}
		_exit(0);
	}
	ck_assert_int_gt(toucher, 0);
	for (i = 0; i < 40; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].token = e.tok_admin;
		k[i].path = DD;
		k[i].method = i % 2 ? "GET" : "POST";
		if (i % 2 == 0) {
			k[i].ctype = JSON;
			k[i].body = BODY(GOOD);
		}
	}
	/*
	 * At least 3 rounds, and on until both reloads were seen (the JWT
	 * secret is looked at once a second), at most 30.
	 */
	for (round = 0; round < 30 && (round < 3 ||
	    !h_grep_file(e.errlog, "keyring reloaded") ||
	    !h_grep_file(e.errlog, "jwt.secret re-read")); round++) {
		ck_assert_int_eq(h_req_many(&e, k, 40, r), 0);
		for (i = 0; i < 40; i++) {
			ck_assert_msg(r[i].status == (i % 2 ? 200 : 201),
			    "round %zu request %zu: %ld %s", round, i,
			    r[i].status, r[i].body);
			h_resp_free(&r[i]);
		}
	}
	kill(toucher, SIGKILL);
	waitpid(toucher, &st, 0);
	ck_assert_int_eq(one_process(&e), fcgi);	/* never restarted */
	ck_assert(h_grep_file(e.errlog, "keyring reloaded"));
	ck_assert(h_grep_file(e.errlog, "jwt.secret re-read"));
	ck_assert(!h_sanitizer_report(&e));
	h_teardown(&e);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("e2e_threads");
	TCase	*tc = tcase_create("threads");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, eight_threads_overlap);
	tcase_add_test(tc, one_thread_serial);
	tcase_add_test(tc, mixed_load_consistent);
	tcase_add_test(tc, reload_under_load);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
