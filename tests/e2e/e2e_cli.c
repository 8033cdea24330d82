/*
 * The command-line behaviour of both programs (SPEC section 7, issue 18):
 * --help and --version on stdout with exit 0, a reader of stdout that
 * goes away (list | head -1) is a quiet end, a failing command prints one
 * error line; the built manuals name the configured paths.  Runs the
 * built binaries directly; no web server.
 */
#include "cs_build.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

static struct h_env E;

/* What one run of a program left. */
struct run {
	int	 exited;	/* 1: exited (not killed) */
	int	 status;	/* exit status, or the signal */
	char	 out[16384];
	char	 err[16384];
};

static void
slurp(const char *path, char *dst, size_t cap)
{
	FILE	*f;
	size_t	 n = 0;

	dst[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return;
	n = fread(dst, 1, cap - 1, f);
	dst[n] = '\0';
	fclose(f);
}

/*
 * Runs argv with SIGPIPE at its default (as a shell starts a command),
 * stdout into a file, or into a pipe nobody reads when closed_stdout,
 * stderr into a file; env_config, when set, as CREDSTORE_CONFIG.
 */
static void
run_prog(struct run *r, char *const argv[], int closed_stdout,
    const char *env_config)
{
	char	 outp[700], errp[700];
	int	 pfd[2], st, fd;
	pid_t	 pid;

	snprintf(outp, sizeof(outp), "%s/cli.out", E.dir);
	snprintf(errp, sizeof(errp), "%s/cli.err", E.dir);
	ck_assert_int_eq(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (env_config != NULL)
			setenv("CREDSTORE_CONFIG", env_config, 1);
		if (closed_stdout)
			dup2(pfd[1], 1);
		else if ((fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) != -1)
			dup2(fd, 1);
		if ((fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
			dup2(fd, 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[0]);		/* the reader is gone before the first line */
	close(pfd[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r->exited = WIFEXITED(st);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
	if (closed_stdout)
		r->out[0] = '\0';
	else
		slurp(outp, r->out, sizeof(r->out));
	slurp(errp, r->err, sizeof(r->err));
}

static void
admin(struct run *r, int closed_stdout, const char *a1, const char *a2)
{
	char *argv[] = { E.admin, (char *)"-c", E.conf, (char *)a1,
	    (char *)a2, NULL };

	run_prog(r, argv, closed_stdout, NULL);
}

/* Exited with status, nothing on stderr. */
static void
assert_clean_exit(const struct run *r, int status)
{
	ck_assert_msg(r->exited, "killed by signal %d", r->status);
	ck_assert_int_eq(r->status, status);
	ck_assert_str_eq(r->err, "");
}

START_TEST(admin_help_version)
{
	struct run	 r;
	char		 want[128];
	char		*help[] = { E.admin, (char *)"--help", NULL };
	char		*h[] = { E.admin, (char *)"-h", NULL };
	char		*ver[] = { E.admin, (char *)"--version", NULL };

	run_prog(&r, help, 0, NULL);
	assert_clean_exit(&r, 0);
	ck_assert(strncmp(r.out, "usage: credstore-admin ", 23) == 0);
	ck_assert(strstr(r.out, "\n  init\n") != NULL);
	ck_assert(strstr(r.out, "\n  backup DIR\n") != NULL);
	ck_assert(strstr(r.out, "--version") != NULL);
	run_prog(&r, h, 0, NULL);
	assert_clean_exit(&r, 0);
	ck_assert(strncmp(r.out, "usage: credstore-admin ", 23) == 0);
	run_prog(&r, ver, 0, NULL);
	assert_clean_exit(&r, 0);
	snprintf(want, sizeof(want), "credstore-admin %s\n", PACKAGE_VERSION);
	ck_assert_str_eq(r.out, want);
	/* bad usage stays on stderr with 2 */
	admin(&r, 0, "--bogus", NULL);
	ck_assert(r.exited);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "");
}
END_TEST

START_TEST(fcgi_help_version)
{
	struct run	 r;
	char		 want[128];
	char		*help[] = { E.fcgi, (char *)"--help", NULL };
	char		*ver[] = { E.fcgi, (char *)"--version", NULL };
	char		*bad[] = { E.fcgi, (char *)"--bogus", NULL };

	/* before loading anything: an unreadable configuration is not read */
	run_prog(&r, help, 0, "/nonexistent/credstore.conf");
	assert_clean_exit(&r, 0);
	ck_assert(strstr(r.out, "FastCGI") != NULL);
	ck_assert(strstr(r.out, "CGI program") != NULL);
	ck_assert(strstr(r.out, "CREDSTORE_CONFIG") != NULL);
	ck_assert(strstr(r.out, "CREDSTORE_TEMPLATES") != NULL);
	run_prog(&r, ver, 0, "/nonexistent/credstore.conf");
	assert_clean_exit(&r, 0);
	snprintf(want, sizeof(want), "credstore.fcgi %s\n", PACKAGE_VERSION);
	ck_assert_str_eq(r.out, want);
	run_prog(&r, bad, 0, "/nonexistent/credstore.conf");
	ck_assert(r.exited);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "");
}
END_TEST

/* list | head -1, with the reader gone before the first line. */
START_TEST(stdout_reader_gone)
{
	struct run r;

	admin(&r, 0, "upgrade", NULL);	/* an audit event to print */
	assert_clean_exit(&r, 0);
	admin(&r, 1, "keys", NULL);
	assert_clean_exit(&r, 0);
	admin(&r, 1, "audit", NULL);
	assert_clean_exit(&r, 0);
	admin(&r, 1, "list", NULL);
	assert_clean_exit(&r, 0);
	admin(&r, 1, "--help", NULL);
	assert_clean_exit(&r, 0);
	/* the storage was left clean: verify still passes */
	admin(&r, 0, "verify", NULL);
	assert_clean_exit(&r, 0);
}
END_TEST

/* A failing backup: exit 1, exactly one line on stderr, with the reason. */
START_TEST(backup_fails_one_line)
{
	struct run	 r;
	char		 dir[700];

	snprintf(dir, sizeof(dir), "%s/no/such/folder", E.dir);
	admin(&r, 0, "backup", E.data_dir);	/* exists: refused */
	ck_assert(r.exited);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_uint_eq(h_lines(r.err), 1);
	ck_assert(strncmp(r.err, "credstore-admin: ", 17) == 0);
	ck_assert(strstr(r.err, "backup failed") != NULL);
	admin(&r, 0, "backup", dir);
	ck_assert(r.exited);
	ck_assert_int_eq(r.status, 1);
	ck_assert_uint_eq(h_lines(r.err), 1);
	ck_assert(strncmp(r.err, "credstore-admin: ", 17) == 0);
	ck_assert(strstr(r.err, "No such file or directory") != NULL);
}
END_TEST

/* The built manuals name the configured paths, no placeholder. */
START_TEST(man_pages_real_paths)
{
	static const char *const pages[] = { "credstore-admin.8",
	    "credstore.conf.5", "credstore.fcgi.8" };
	const char	*bld = getenv("top_builddir");
	char		 path[700], text[16384];
	size_t		 i;

	ck_assert_ptr_nonnull(bld);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		snprintf(path, sizeof(path), "%s/src/%s", bld, pages[i]);
		slurp(path, text, sizeof(text));
		ck_assert_msg(text[0] != '\0', "%s missing", path);
		ck_assert_msg(strstr(text, "$sysconfdir") == NULL &&
		    strstr(text, "$datadir") == NULL &&
		    strstr(text, "@sysconfdir@") == NULL &&
		    strstr(text, "@pkgdatadir@") == NULL &&
		    strstr(text, "@libexecdir@") == NULL, "%s: placeholder", path);
		ck_assert_msg(strstr(text, CS_SYSCONFDIR
		    "/credstore/credstore.conf") != NULL, "%s: no config path",
		    path);
	}
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	if (h_setup_stopped(&E, NULL) == -1)
		return 99;
	s = suite_create("e2e_cli");
	tc = tcase_create("cli");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, admin_help_version);
	tcase_add_test(tc, fcgi_help_version);
	tcase_add_test(tc, stdout_reader_gone);
	tcase_add_test(tc, backup_fails_one_line);
	tcase_add_test(tc, man_pages_real_paths);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_teardown(&E);
	return failed == 0 ? 0 : 1;
}
