#include "cs_build.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <gnutls/crypto.h>

#include "config.h"
#include "tenantlimit.h"
#include "ck_run.h"

/*
 * The shared table of per-tenant limits with the time given by the test
 * (nanoseconds of an imaginary monotonic clock): no sleeps.  Each test
 * has a fresh table file in a mkdtemp folder.
 */

#define S	1000000000ULL
#define MS	1000000ULL
#define T0	(1000 * S)	/* a clock some time after boot */

static char	dir[64], path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tlim.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, TENANTLIMIT_FILE);
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static struct tenantlimit *
open_with(long rate, long burst, long checks, long lease_ms)
{
	struct tenantlimit_conf	 c = { rate, burst, checks, lease_ms };
	struct tenantlimit	*t;
	char			 err[256];

	t = tenantlimit_open(path, &c, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	return t;
}

/* The home slot of a tenant, as tenantlimit.c computes it. */
static unsigned
home_of(const char *tenant)
{
	unsigned char	d[32];
	uint64_t	h = 0;
	int		i;

	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, tenant,
	    strlen(tenant), d), 0);
	for (i = 0; i < 8; i++)
		h = (h << 8) | d[i];
	return (unsigned)(h & (TENANTLIMIT_SLOTS - 1));
}

/* n tenant names ("c<number>") that share one home slot, into names. */
static void
same_home(char names[][16], int n)
{
	unsigned	want;
	int		i, got = 1;

	snprintf(names[0], 16, "c0");
	want = home_of(names[0]);
	for (i = 1; got < n; i++) {
		snprintf(names[got], 16, "c%d", i);
		if (home_of(names[got]) == want)
			got++;
	}
}

START_TEST(test_bucket)
{
	struct tenantlimit	*t = open_with(10, 3, 2, 1000);
	int			 i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	/* past the burst: a token in 100 ms, so Retry-After 1 (at least 1) */
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 1);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + 99 * MS), 1);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + 100 * MS), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + 100 * MS), 1);
	/* another tenant has a bucket of its own */
	ck_assert_int_eq(tenantlimit_request(t, "globex", T0), 0);
	/* idle for long: the bucket is full again, never more than burst */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + 60 * S), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + 60 * S), 1);
	tenantlimit_close(t);
}
END_TEST

/* Retry-After is the whole seconds until a token comes back. */
START_TEST(test_bucket_retry_after)
{
	struct tenantlimit *t = open_with(1, 1, 2, 1000);

	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 1);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + S / 2), 1);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + S), 0);
	tenantlimit_close(t);
	/* a slow rate: 1 per second, used up by 5 at once, then 5 s back */
	unlink(path);
	t = open_with(1, 5, 2, 1000);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 1);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + S / 2), 1);
	tenantlimit_close(t);
}
END_TEST

START_TEST(test_bucket_off)
{
	struct tenantlimit	*t = open_with(0, 1, 2, 1000);
	int			 i;

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	tenantlimit_close(t);
	/* no table (it could not be mapped): fail open */
	ck_assert_int_eq(tenantlimit_request(NULL, "acme", T0), 0);
}
END_TEST

/* A bucket time from a past boot (clock far ahead) does not block. */
START_TEST(test_bucket_past_boot)
{
	struct tenantlimit *t = open_with(1, 2, 2, 1000);

	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + 3600 * S), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + 3600 * S), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0 + 3600 * S), 1);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	tenantlimit_close(t);
}
END_TEST

START_TEST(test_leases)
{
	struct tenantlimit	 *t = open_with(0, 1, 2, 1000);
	struct tenantlimit_lease  a, b, c, d;

	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &a), 0);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &b), 0);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &c), -1);
	/* another tenant is not affected */
	ck_assert_int_eq(tenantlimit_check_begin(t, "globex", T0, &d), 0);
	tenantlimit_check_end(&d);
	tenantlimit_check_end(&a);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &c), 0);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &a), -1);
	tenantlimit_check_end(&b);
	tenantlimit_check_end(&c);
	tenantlimit_check_end(&c);	/* twice: a no-op */
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &a), 0);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &b), 0);
	tenantlimit_check_end(&a);
	tenantlimit_check_end(&b);
	tenantlimit_close(t);
	/* no table, or no limit: nothing to end */
	ck_assert_int_eq(tenantlimit_check_begin(NULL, "acme", T0, &a), 0);
	tenantlimit_check_end(&a);
}
END_TEST

/*
 * A lease not ended (its process died) expires lease_ms after it began;
 * ending it late does not free the check that took its place.
 */
START_TEST(test_lease_expires)
{
	struct tenantlimit	 *t = open_with(0, 1, 1, 1000);
	struct tenantlimit_lease  a, b, c;

	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &a), 0);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0 + 999 * MS,
	    &b), -1);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0 + 1000 * MS,
	    &b), 0);
	tenantlimit_check_end(&a);	/* late: b stays */
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0 + 1001 * MS,
	    &c), -1);
	tenantlimit_check_end(&b);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0 + 1001 * MS,
	    &c), 0);
	tenantlimit_check_end(&c);
	/* a lease from a past boot (clock far ahead) does not count */
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0 + 3600 * S,
	    &a), 0);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0, &b), 0);
	tenantlimit_close(t);
}
END_TEST

/*
 * Two processes share the table: a child takes the tenant's only check
 * and is killed during it; the parent is refused until the lease
 * expires.  The child's requests use up the bucket the parent sees.
 */
START_TEST(test_two_processes)
{
	struct tenantlimit	 *t = open_with(1, 2, 1, 5000);
	struct tenantlimit_lease  l;
	int			  p[2], st;
	pid_t			  kid;
	char			  ch;

	ck_assert_int_eq(pipe(p), 0);
	if ((kid = fork()) == 0) {
		struct tenantlimit *k = open_with(1, 2, 1, 5000);
		int ok;

		close(p[0]);
		ok = tenantlimit_check_begin(k, "acme", T0, &l) == 0 &&
		    tenantlimit_request(k, "acme", T0) == 0 &&
		    tenantlimit_request(k, "acme", T0) == 0;
		ch = ok ? 'y' : 'n';
		if (write(p[1], &ch, 1) != 1)
			_exit(1);
		pause();	/* killed in its check */
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &ch, 1), 1);
	close(p[0]);
	ck_assert_int_eq(ch, 'y');
	ck_assert_int_eq(kill(kid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(kid, &st, 0), kid);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0 + S, &l), -1);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 1);
	ck_assert_int_eq(tenantlimit_check_begin(t, "acme", T0 + 5 * S, &l), 0);
	tenantlimit_check_end(&l);
	tenantlimit_close(t);
}
END_TEST

/* Tenants with one home slot each get a slot of their own. */
START_TEST(test_collision)
{
	struct tenantlimit	 *t = open_with(1, 1, 1, 1000);
	struct tenantlimit_lease  a, b;
	char			  names[3][16];

	same_home(names, 3);
	ck_assert_int_eq(tenantlimit_check_begin(t, names[0], T0, &a), 0);
	ck_assert_int_eq(tenantlimit_check_begin(t, names[1], T0, &b), 0);
	ck_assert_uint_ne(a.slot, b.slot);
	ck_assert_int_eq(tenantlimit_check_begin(t, names[0], T0, &b), -1);
	ck_assert_int_eq(tenantlimit_request(t, names[1], T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, names[1], T0), 1);
	ck_assert_int_eq(tenantlimit_request(t, names[0], T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, names[2], T0), 0);
	tenantlimit_close(t);
}
END_TEST

/*
 * A window full of busy tenants: the next one is not limited (fail open,
 * no lease taken).  Once a tenant of the window is idle, its slot is
 * taken over and the newcomer is limited again.
 */
START_TEST(test_full_window)
{
	struct tenantlimit	 *t = open_with(1, 1, 1, 1000);
	struct tenantlimit_lease  l[TENANTLIMIT_WINDOW], x, y;
	char			  names[TENANTLIMIT_WINDOW + 1][16];
	const char		 *last = names[TENANTLIMIT_WINDOW];
	int			  i;

	same_home(names, TENANTLIMIT_WINDOW + 1);
	for (i = 0; i < TENANTLIMIT_WINDOW; i++) {
		ck_assert_int_eq(tenantlimit_check_begin(t, names[i], T0,
		    &l[i]), 0);
		ck_assert_uint_ne(l[i].val, 0);
	}
	ck_assert_int_eq(tenantlimit_check_begin(t, last, T0, &x), 0);
	ck_assert_uint_eq(x.val, 0);
	ck_assert_int_eq(tenantlimit_check_begin(t, last, T0, &x), 0);
	ck_assert_int_eq(tenantlimit_request(t, last, T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, last, T0), 0);
	/* one tenant's check ends and its bucket is full: slot taken over */
	tenantlimit_check_end(&l[5]);
	ck_assert_int_eq(tenantlimit_check_begin(t, last, T0, &x), 0);
	ck_assert_uint_ne(x.val, 0);
	ck_assert_uint_eq(x.slot, l[5].slot);
	ck_assert_int_eq(tenantlimit_check_begin(t, last, T0, &y), -1);
	tenantlimit_check_end(&x);
	for (i = 0; i < TENANTLIMIT_WINDOW; i++)
		tenantlimit_check_end(&l[i]);
	tenantlimit_close(t);
}
END_TEST

START_TEST(test_open_errors)
{
	struct tenantlimit_conf	 c = { 1, 1, 1, 1000 };
	char			 err[256];
	int			 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "not a table", 11), 11);
	close(fd);
	ck_assert_ptr_null(tenantlimit_open(path, &c, err, sizeof(err)));
	ck_assert_msg(strstr(err, "unexpected size") != NULL, "%s", err);
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_ptr_null(tenantlimit_open(path, &c, err, sizeof(err)));
	rmdir(path);
	tenantlimit_close(NULL);
}
END_TEST

/* The process's table from the config: opened once, in data_dir. */
START_TEST(test_of_config)
{
	struct config		 cfg;
	struct tenantlimit	*t;

	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.tenant_rate_limit = 1;
	cfg.tenant_rate_burst = 1;
	cfg.tenant_checks_in_flight = 1;
	cfg.probe_timeout_ms = 1000;
	ck_assert_ptr_nonnull(t = tenantlimit_of_config(&cfg));
	ck_assert_ptr_eq(tenantlimit_of_config(&cfg), t);
	ck_assert_int_eq(access(path, R_OK | W_OK), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 0);
	ck_assert_int_eq(tenantlimit_request(t, "acme", T0), 1);
	ck_assert_uint_gt(tenantlimit_now(), 0);
}
END_TEST

static Suite *
tenantlimit_suite(void)
{
	Suite	*s = suite_create("tenantlimit");
	TCase	*tc = tcase_create("bucket");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bucket);
	tcase_add_test(tc, test_bucket_retry_after);
	tcase_add_test(tc, test_bucket_off);
	tcase_add_test(tc, test_bucket_past_boot);
	suite_add_tcase(s, tc);
	tc = tcase_create("leases");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_leases);
	tcase_add_test(tc, test_lease_expires);
	tcase_add_test(tc, test_two_processes);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_collision);
	tcase_add_test(tc, test_full_window);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_of_config);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(tenantlimit_suite());
}
