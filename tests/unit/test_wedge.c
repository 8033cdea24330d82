/*
 * A thread stuck inside the storage (src/wedge.c): the watchdog's
 * question, and a reopen that cannot have the environment to itself
 * ending the process when STORE_EXIT_WEDGED asks for it.
 */
#include "cs_build.h"

#include <sys/wait.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <db.h>

#include "store.h"
#include "store_int.h"	/* dbenv_enter: a thread that stays inside */
#include "ck_run.h"

static char		 home[] = "/tmp/test_wedge.XXXXXX";
static struct store	*st;
static int		 in[2];		/* the stuck thread says it is in */
static int		 out[2];	/* and leaves on a byte here */
static int		 ready[2];	/* the child is about to ping */

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(home));
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(ready), 0);
}

static void
teardown(void)
{
	char cmd[128];

	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
	close(ready[0]);
	close(ready[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(home + strlen(home) - 6, "XXXXXX", 6);
}

/* Enters the storage, says so, and stays until a byte comes on out. */
static void *
stay_inside(void *arg)
{
	char	c = 'x';
	ssize_t	n;

	(void)arg;
	if (dbenv_enter(st) == -1)
		return NULL;
	n = write(in[1], &c, 1);
	n = read(out[0], &c, 1) + n;
	(void)n;
	dbenv_leave(st);
	return NULL;
}

static void
open_store(int flags)
{
	char err[256];

	ck_assert_int_eq(store_open_flags(home, DUR_NOSYNC, flags, &st, err,
	    sizeof(err)), 0);
}

/* store_wedged: how long a thread has been inside, this thread not. */
START_TEST(test_time_inside)
{
	pthread_t	t;
	char		c;

	open_store(0);
	ck_assert_int_eq(store_wedged(0), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, stay_inside, NULL), 0);
	ck_assert_int_eq(read(in[0], &c, 1), 1);
	usleep(300000);
	ck_assert_int_eq(store_wedged(100), 1);
	ck_assert_int_eq(store_wedged(60000), 0);
	ck_assert_int_eq(write(out[1], &c, 1), 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(store_wedged(0), 0);
	/* a thread that entered after now was read is not "inside long" */
	ck_assert_int_eq(store_wedged(0), 0);
	/* this thread inside: counted too, and out again */
	ck_assert_int_eq(dbenv_enter(st), 0);
	usleep(150000);
	ck_assert_int_eq(store_wedged(100), 1);
	dbenv_leave(st);
	ck_assert_int_eq(store_wedged(0), 0);
	store_close(st);
}
END_TEST

/*
 * In a child: a thread stays inside, the environment panics (as when
 * another process ran recovery after one died), and this thread's ping
 * must reopen.  Returns the child's wait status, or -1 when it was
 * still running after wait_ms (then it is killed).  Its standard error
 * goes to log.
 */
static int
wedge_child(int flags, int wait_ms, const char *log)
{
	pthread_t	t;
	pid_t		pid;
	char		c;
	int		status, i, fd;

	if ((pid = fork()) == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
		    dup2(fd, 2) == -1)
			_exit(3);
		open_store(flags);
		store_set_reopen_wait(st, 300);
		if (pthread_create(&t, NULL, stay_inside, NULL) != 0 ||
		    read(in[0], &c, 1) != 1)
			_exit(4);
		(void)st->env->set_flags(st->env, DB_PANIC_ENVIRONMENT, 1);
		if (write(ready[1], &c, 1) != 1)
			_exit(5);
		(void)store_ping(st);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	/* timed from the ping on: opening may be slow (TSan, load) */
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	for (i = 0; i < wait_ms / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return -1;
}

static int
file_has(const char *path, const char *s)
{
	char	buf[4096];
	size_t	n;
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

/* STORE_EXIT_WEDGED: the reopen gives up after its wait; status 1. */
START_TEST(test_reopen_exits)
{
	char	log[64];
	int	status;

	snprintf(log, sizeof(log), "%s/child.log", home);
	status = wedge_child(STORE_EXIT_WEDGED, 10000, log);
	ck_assert_msg(status != -1, "the wedged child did not end");
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 1);
	ck_assert_msg(file_has(log, "ending this process so that it is "
	    "started again"), "no log line of why");
}
END_TEST

/* Without it, the reopen waits for the thread inside, as before. */
START_TEST(test_reopen_waits_without_flag)
{
	char	log[64];

	snprintf(log, sizeof(log), "%s/child.log", home);
	ck_assert_int_eq(wedge_child(0, 1500, log), -1);
	ck_assert(!file_has(log, "ending this process"));
}
END_TEST

static Suite *
wedge_suite(void)
{
	Suite	*s = suite_create("wedge");
	TCase	*tc;

	tc = tcase_create("wedge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_time_inside);
	tcase_add_test(tc, test_reopen_exits);
	tcase_add_test(tc, test_reopen_waits_without_flag);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(wedge_suite());
}
