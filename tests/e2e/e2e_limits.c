/*
 * Per-tenant limits end to end (issue 12, finding 6): the real lighttpd
 * with two FastCGI processes and credstore.fcgi, the mock provider made
 * slow.  One tenant's slow provider checks must not stall another
 * tenant's requests, and a tenant past its request rate gets 429 with
 * Retry-After.  Each test has an environment of its own.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "harness.h"

#define JSON	"application/json"
#define DD	"/v1/integrations/datadog/credentials"
#define SLOW	"SECRETVAL-dd-blackhole"
#define STORE_SLOW	"{\"credentials\":{\"api_key\":\"" SLOW "\"," \
	"\"application_key\":\"SECRETVAL-ak\"}}"

static struct h_env	E;
static int		live;

static void
env_up(const char *conf_extra, long probe_timeout_ms)
{
	struct h_opts o = { .conf_extra = conf_extra, .procs = 2,
	    .probe_timeout_ms = probe_timeout_ms };

	ck_assert_int_eq(h_setup(&E, &o), 0);
	live = 1;
}

static void
env_down(void)
{
	if (live)
		h_teardown(&E);
	live = 0;
}

static double
now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/*
 * The review's repro: four stores of tenant acme whose provider check
 * hangs 5 s (a blackholed domain), then a GET of tenant globex (before
 * the limit: 9 s).  With tenant_checks_in_flight = 1, acme holds one of
 * the two processes: the GET is served by the other at once, and acme's
 * stores that find its check in flight get 429 rate_limited with
 * Retry-After: 1, storing nothing.
 */
START_TEST(other_tenant_not_stalled)
{
	struct h_call	 k[4];
	struct h_resp	 r[4], g;
	pid_t		 kid;
	double		 t0, took;
	int		 i, st, ok = 0, limited = 0;
	struct json_object *o, *items;

	env_up("tenant_checks_in_flight = 1\n", 6000);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"status\":200,\"delayMs\":5000,\"body\":\"{\\\"valid\\\":true}\"}"), 0);
	if ((kid = fork()) == 0) {
		for (i = 0; i < 4; i++)
			k[i] = (struct h_call){ "POST", DD, E.tok_admin, JSON,
			    STORE_SLOW, NULL };
		if (h_req_many(&E, k, 4, r) != 0)
			_exit(99);
		for (i = 0; i < 4; i++) {
			fprintf(stderr, "store %d: %ld %s\n", i, r[i].status,
			    r[i].body ? r[i].body : "");
			if (r[i].status == 201)
				ok++;
			else if (r[i].status == 429 &&
			    strcmp(h_errcode(&r[i]), "rate_limited") == 0 &&
			    h_header(&r[i], "Retry-After") != NULL &&
			    strcmp(h_header(&r[i], "Retry-After"), "1") == 0)
				limited++;
			h_resp_free(&r[i]);
		}
		_exit(ok * 10 + limited);
	}
	usleep(700000);		/* acme's stores are in their checks */
	t0 = now_s();
	ck_assert_int_eq(h_req(&E, "GET", DD, E.tok_other, NULL, NULL, NULL,
	    &g), 0);
	took = now_s() - t0;
	ck_assert_int_eq(g.status, 200);
	h_resp_free(&g);
	ck_assert_int_eq(waitpid(kid, &st, 0), kid);
	ck_assert_msg(took < 0.8, "globex's GET took %.2f s", took);
	/*
	 * A store lighttpd queued behind the busy process gets its check
	 * once the first one ended: one or two 201, the others 429.
	 */
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) / 10 +
	    WEXITSTATUS(st) % 10 == 4 && WEXITSTATUS(st) % 10 >= 2,
	    "acme's stores: want 201 or 429, two 429 at least, got %d",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ok = WEXITSTATUS(st) / 10;
	/* the refused stores stored nothing */
	ck_assert_int_eq(h_req(&E, "GET", DD, E.tok_admin, NULL, NULL, NULL,
	    &g), 0);
	ck_assert_int_eq(g.status, 200);
	ck_assert_ptr_nonnull(o = h_json(&g));
	ck_assert(json_object_object_get_ex(o, "data", &items));
	ck_assert_int_eq(json_object_array_length(items), ok);
	json_object_put(o);
	h_resp_free(&g);
	env_down();
}
END_TEST

/*
 * A tenant past tenant_rate_burst requests at once: 429 rate_limited with
 * Retry-After in whole seconds; another tenant is not affected; a token
 * comes back after the wait.
 */
START_TEST(rate_limit_429)
{
	struct h_resp	 r;
	const char	*ra;
	int		 i;

	env_up("tenant_rate_limit = 1\ntenant_rate_burst = 3\n", 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(h_req(&E, "GET", DD, E.tok_admin, NULL, NULL,
		    NULL, &r), 0);
		ck_assert_msg(r.status == 200, "request %d: %ld", i, r.status);
		h_resp_free(&r);
	}
	ck_assert_int_eq(h_req(&E, "GET", DD, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 429);
	ck_assert_str_eq(h_errcode(&r), "rate_limited");
	ck_assert_ptr_nonnull(ra = h_header(&r, "Retry-After"));
	ck_assert_str_eq(ra, "1");
	h_resp_free(&r);
	/* the reader of the same tenant shares its bucket */
	ck_assert_int_eq(h_req(&E, "GET", DD, E.tok_reader, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 429);
	h_resp_free(&r);
	ck_assert_int_eq(h_req(&E, "GET", DD, E.tok_other, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	/* unauthenticated requests are not counted against a tenant */
	ck_assert_int_eq(h_req(&E, "GET", "/healthz", NULL, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	sleep(1);
	ck_assert_int_eq(h_req(&E, "GET", DD, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	env_down();
}
END_TEST

static void
teardown(void)
{
	env_down();
}

int
main(void)
{
	Suite	*s = suite_create("e2e_limits");
	TCase	*tc = tcase_create("limits");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, other_tenant_not_stalled);
	tcase_add_test(tc, rate_limit_429);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
