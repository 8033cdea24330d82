/*
 * test_log: the line log.c writes (level, Request-Id, one line per event)
 * and the names of its targets and syslog facilities.  Lines are caught
 * with log_set_sink; the test owns the buffer they land in.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>

#include "log.h"
#include "ck_run.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char	got[4096];
static size_t	ngot;
static int	nlines;

static void
catch_line(const char *line, size_t len, void *arg)
{
	(void)arg;
	if (len >= sizeof(got))
		len = sizeof(got) - 1;
	memcpy(got, line, len);
	got[len] = '\0';
	ngot = len;
	nlines++;
}

static void
setup(void)
{
	got[0] = '\0';
	ngot = 0;
	nlines = 0;
	log_set_level(LOG_LVL_DEBUG);
	log_set_target(LOG_TO_STDERR, LOG_AUTHPRIV);
	log_set_request_id(NULL);
	log_set_sink(catch_line, NULL);
}

static void
teardown(void)
{
	log_set_sink(NULL, NULL);
	log_set_request_id(NULL);
}

START_TEST(test_plain_line)
{
	log_info("stored %s", "c1");
	ck_assert_int_eq(nlines, 1);
	ck_assert_ptr_nonnull(strstr(got, " credstore["));
	ck_assert_msg(strstr(got, "] info: stored c1\n") != NULL, "%s", got);
	ck_assert_ptr_null(strstr(got, "req="));
	ck_assert_int_eq(got[ngot - 1], '\n');
}
END_TEST

START_TEST(test_request_id)
{
	log_set_request_id("abc-123._X");
	log_warn("slow");
	ck_assert_msg(strstr(got, "] warn: req=abc-123._X slow\n") != NULL,
	    "%s", got);
	/* reset between requests: the next line names no request */
	log_set_request_id(NULL);
	log_warn("idle");
	ck_assert_msg(strstr(got, "] warn: idle\n") != NULL, "%s", got);
	log_set_request_id("r2");
	log_set_request_id("");
	log_error("none");
	ck_assert_msg(strstr(got, "] error: none\n") != NULL, "%s", got);
}
END_TEST

START_TEST(test_request_id_longest)
{
	char id[LOG_REQID_MAX + 1], want[LOG_REQID_MAX + 16];

	memset(id, 'a', LOG_REQID_MAX);
	id[LOG_REQID_MAX] = '\0';
	log_set_request_id(id);
	log_info("x");
	snprintf(want, sizeof(want), "req=%s x\n", id);
	ck_assert_msg(strstr(got, want) != NULL, "%s", got);
}
END_TEST

START_TEST(test_one_line)
{
	log_set_request_id("r1");
	log_info("a\nb\rc\x7f" "d");
	ck_assert_int_eq(nlines, 1);
	ck_assert_msg(strstr(got, "req=r1 a?b?c?d\n") != NULL, "%s", got);
	ck_assert_ptr_eq(strchr(got, '\n'), got + ngot - 1);
}
END_TEST

START_TEST(test_level_filter)
{
	log_set_level(LOG_LVL_INFO);
	log_debug("hidden");
	ck_assert_int_eq(nlines, 0);
	log_info("shown");
	ck_assert_int_eq(nlines, 1);
}
END_TEST

static const struct {
	const char	*name;
	int		 ok;
	int		 facility;
} facs[] = {
	{ "authpriv", 1, LOG_AUTHPRIV }, { "daemon", 1, LOG_DAEMON },
	{ "user", 1, LOG_USER }, { "local0", 1, LOG_LOCAL0 },
	{ "local1", 1, LOG_LOCAL1 }, { "local2", 1, LOG_LOCAL2 },
	{ "local3", 1, LOG_LOCAL3 }, { "local4", 1, LOG_LOCAL4 },
	{ "local5", 1, LOG_LOCAL5 }, { "local6", 1, LOG_LOCAL6 },
	{ "local7", 1, LOG_LOCAL7 }, { "local8", 0, 0 }, { "kern", 0, 0 },
	{ "AUTHPRIV", 0, 0 }, { "", 0, 0 }, { "auth priv", 0, 0 },
};

START_TEST(test_facility)
{
	int f = -12345;

	if (!facs[_i].ok) {
		ck_assert_int_eq(log_facility_parse(facs[_i].name, &f), -1);
		ck_assert_int_eq(f, -12345);
		return;
	}
	ck_assert_int_eq(log_facility_parse(facs[_i].name, &f), 0);
	ck_assert_int_eq(f, facs[_i].facility);
}
END_TEST

START_TEST(test_target)
{
	enum log_target t = LOG_TARGET__MAX;

	ck_assert_int_eq(log_target_parse("stderr", &t), 0);
	ck_assert_int_eq(t, LOG_TO_STDERR);
	ck_assert_int_eq(log_target_parse("syslog", &t), 0);
	ck_assert_int_eq(t, LOG_TO_SYSLOG);
	ck_assert_int_eq(log_target_parse("file", &t), -1);
	ck_assert_int_eq(log_target_parse("", &t), -1);
	ck_assert_int_eq(t, LOG_TO_SYSLOG);
}
END_TEST

/* With syslog as target, no line reaches the stderr sink. */
START_TEST(test_syslog_bypasses_sink)
{
	log_set_target(LOG_TO_SYSLOG, LOG_LOCAL7);
	log_debug("to syslog");
	ck_assert_int_eq(nlines, 0);
	log_set_target(LOG_TO_STDERR, LOG_LOCAL7);
	log_debug("to the sink");
	ck_assert_int_eq(nlines, 1);
}
END_TEST

/* The bytes in stderr's file (a temporary file during the test). */
static size_t
err_size(int fd)
{
	off_t n = lseek(fd, 0, SEEK_END);

	ck_assert_int_ge(n, 0);
	return (size_t)n;
}

/*
 * log_batch (issue 14): a request's info and debug lines wait for its
 * end and go with one write; a warning takes them and itself at once.
 */
START_TEST(test_batch)
{
	char	 path[] = "/tmp/test_log.XXXXXX", buf[1024];
	int	 fd, saved;
	size_t	 n;
	ssize_t	 r;

	log_set_sink(NULL, NULL);
	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_ge(saved = dup(STDERR_FILENO), 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	log_batch(1);
	log_info("one");
	log_debug("two");
	n = err_size(fd);
	log_batch(0);
	ck_assert_uint_eq(n, 0);			/* nothing before the end */
	n = err_size(fd);
	log_batch(1);
	log_info("three");
	log_warn("four");
	ck_assert_uint_gt(err_size(fd), n);		/* the warning: at once */
	log_info("five");
	log_set_request_id(NULL);
	ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	log_batch(0);		/* "five" goes to the test's own stderr */
	r = pread(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(r, 0);
	buf[r] = '\0';
	close(fd);
	unlink(path);
	ck_assert_ptr_nonnull(strstr(buf, "info: one\n"));
	ck_assert_ptr_nonnull(strstr(buf, "debug: two\n"));
	ck_assert_ptr_nonnull(strstr(buf, "warn: four\n"));
	ck_assert(strstr(buf, "info: three\n") < strstr(buf, "warn: four\n"));
	ck_assert_ptr_null(strstr(buf, "five"));
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("line");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_line);
	tcase_add_test(tc, test_request_id);
	tcase_add_test(tc, test_request_id_longest);
	tcase_add_test(tc, test_one_line);
	tcase_add_test(tc, test_level_filter);
	tcase_add_loop_test(tc, test_facility, 0, (int)NELEM(facs));
	tcase_add_test(tc, test_target);
	tcase_add_test(tc, test_syslog_bypasses_sink);
	tcase_add_test(tc, test_batch);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(log_suite());
}
