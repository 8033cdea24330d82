/*
 * The command-line behaviour of both programs (SPEC section 7, issue 18):
 * --help and --version on stdout with exit 0, a reader of stdout that
 * goes away (list | head -1) is a quiet end, a failing command prints one
 * error line; the built manuals name the configured paths.  Runs the
 * built binaries directly; no web server, but for the key commands run as
 * root (issue 15): rotate-key and retire-key keep the keyring's owner,
 * group and mode, refuse as a user who could not keep them, and init
 * --user gives everything it creates to that user.
 */
#include "cs_build.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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

/* run_prog's child runs as this user when not 0 (a forked setuid) */
static uid_t	run_uid;

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
		if (run_uid != 0 && (setgroups(0, NULL) == -1 ||
		    setgid((gid_t)run_uid) == -1 || setuid(run_uid) == -1))
			_exit(126);
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
	ck_assert(strstr(r.out, "\n  init [--user USER]\n") != NULL);
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


/* ---- the key commands and init --user, as root (issue 15) ---- */

/* A folder of its own: mode, a configuration naming data, keyring, secret. */
static void
own_setup(char *dir, size_t dlen, char *conf, size_t clen, mode_t mode)
{
	char	 text[2048];
	FILE	*f;

	snprintf(dir, dlen, "/tmp/credstore-cli-own-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, mode), 0);
	snprintf(conf, clen, "%s/credstore.conf", dir);
	snprintf(text, sizeof(text), "data_dir = data\nkeyring = keyring\n"
	    "jwt_secret_file = jwt.secret\ncatalog = %s/etc/catalog.json\n",
	    E.srcdir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(conf, 0644), 0);
}

static void
own_admin(struct run *r, const char *conf, const char *a1, const char *a2,
    const char *a3)
{
	char *argv[] = { E.admin, (char *)"-c", (char *)conf, (char *)a1,
	    (char *)a2, (char *)a3, NULL };

	run_prog(r, argv, 0, NULL);
}

/* path's owner, group and mode bits are uid, gid, mode */
static void
assert_owned(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat sb;

	ck_assert_msg(stat(path, &sb) == 0, "%s missing", path);
	ck_assert_msg(sb.st_uid == uid && sb.st_gid == gid,
	    "%s: %lu:%lu, want %lu:%lu", path, (unsigned long)sb.st_uid,
	    (unsigned long)sb.st_gid, (unsigned long)uid, (unsigned long)gid);
	ck_assert_msg((sb.st_mode & 07777) == mode, "%s: mode %04o, want %04o",
	    path, (unsigned)(sb.st_mode & 07777), (unsigned)mode);
}

/* every file in dir belongs to uid; returns how many there are */
static int
assert_all_owned(const char *dir, uid_t uid)
{
	struct dirent	*de;
	struct stat	 sb;
	char		 path[1024];
	DIR		*d;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_int_eq(lstat(path, &sb), 0);
		ck_assert_msg(sb.st_uid == uid, "%s belongs to %lu, not %lu",
		    path, (unsigned long)sb.st_uid, (unsigned long)uid);
		n++;
	}
	closedir(d);
	return n;
}

static void
rm_tree(const char *dir)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * rotate-key and retire-key as root on a keyring that belongs to 65534
 * (mode 0640): the new file keeps owner, group and mode, and the server
 * answers 200 before and after.
 */
START_TEST(rotate_keeps_owner)
{
	struct run	 r;
	struct h_resp	 resp;
	char		 kr[700];

	snprintf(kr, sizeof(kr), "%s/keyring", E.dir);
	ck_assert_int_eq(chown(kr, 65534, 65534), 0);
	ck_assert_int_eq(chmod(kr, 0640), 0);
	ck_assert_int_eq(h_start_server(&E, 200), 200);
	ck_assert_int_eq(h_req(&E, "GET", "/v1/integrations/datadog/credentials",
	    E.tok_admin, NULL, NULL, NULL, &resp), 0);
	ck_assert_int_eq(resp.status, 200);
	h_resp_free(&resp);

	admin(&r, 0, "rotate-key", NULL);
	assert_clean_exit(&r, 0);
	assert_owned(kr, 65534, 65534, 0640);
	ck_assert(h_grep_file(kr, "key k2 "));
	ck_assert_int_eq(h_req(&E, "GET", "/v1/integrations/datadog/credentials",
	    E.tok_admin, NULL, NULL, NULL, &resp), 0);
	ck_assert_int_eq(resp.status, 200);
	h_resp_free(&resp);

	admin(&r, 0, "retire-key", "k1");
	assert_clean_exit(&r, 0);
	ck_assert_str_eq(r.out, "retired k1\n");
	assert_owned(kr, 65534, 65534, 0640);
	ck_assert(!h_grep_file(kr, "key k1 "));
	ck_assert_int_eq(h_req(&E, "GET", "/v1/integrations/datadog/credentials",
	    E.tok_admin, NULL, NULL, NULL, &resp), 0);
	ck_assert_int_eq(resp.status, 200);
	h_resp_free(&resp);
	h_stop_server(&E);
	ck_assert_int_eq(chown(kr, 0, 0), 0);
	ck_assert_int_eq(chmod(kr, 0600), 0);
}
END_TEST

/*
 * As an unprivileged user (65533, in a forked child) on a keyring of
 * 65534's: rotate-key and retire-key refuse with one line naming the
 * cause, and nothing changes: not the keyring, not its owner, no
 * keyring.tmp.  Once where the folder is writable (the owner cannot be
 * kept), once where it is not (permission denied on the folder).
 */
START_TEST(rotate_refused_unprivileged)
{
	struct run	 r;
	char		 dir[256], conf[512], kr[700], tmp[700], *before, *after;
	int		 pass;

	own_setup(dir, sizeof(dir), conf, sizeof(conf), 0755);
	own_admin(&r, conf, "init", NULL, NULL);
	assert_clean_exit(&r, 0);
	own_admin(&r, conf, "rotate-key", NULL, NULL);	/* k1 and k2 */
	assert_clean_exit(&r, 0);
	snprintf(kr, sizeof(kr), "%s/keyring", dir);
	snprintf(tmp, sizeof(tmp), "%s/keyring.tmp", dir);
	ck_assert_int_eq(chown(kr, 65534, 65534), 0);
	ck_assert_ptr_nonnull(before = h_slurp(kr, NULL));
	for (pass = 0; pass < 2; pass++) {
		/* pass 0: folder writable by all; 1: root's 0755 */
		ck_assert_int_eq(chmod(dir, pass == 0 ? 0777 : 0755), 0);
		run_uid = 65533;
		own_admin(&r, conf, "rotate-key", NULL, NULL);
		run_uid = 0;
		ck_assert(r.exited);
		ck_assert_int_eq(r.status, 1);
		ck_assert_str_eq(r.out, "");
		ck_assert_uint_eq(h_lines(r.err), 1);
		ck_assert_msg(strstr(r.err, pass == 0 ? "rotate-key: " : dir) !=
		    NULL && strstr(r.err, pass == 0 ?
		    "cannot keep the keyring's owner 65534:65534" :
		    "permission denied on ") != NULL, "%s", r.err);
		ck_assert(strstr(r.err, "nothing changed") != NULL);
		run_uid = 65533;
		own_admin(&r, conf, "retire-key", "k1", NULL);
		run_uid = 0;
		ck_assert_int_eq(r.status, 1);
		ck_assert_uint_eq(h_lines(r.err), 1);
		ck_assert_msg(strstr(r.err, "retire-key: ") != NULL, "%s", r.err);
		assert_owned(kr, 65534, 65534, 0600);
		ck_assert_ptr_nonnull(after = h_slurp(kr, NULL));
		ck_assert_str_eq(after, before);
		free(after);
		ck_assert_int_eq(access(tmp, F_OK), -1);
	}
	/* root can: both keys are still there to retire */
	own_admin(&r, conf, "retire-key", "k1", NULL);
	assert_clean_exit(&r, 0);
	assert_owned(kr, 65534, 65534, 0600);
	free(before);
	rm_tree(dir);
}
END_TEST

/*
 * init --user nobody: data_dir, keyring, JWT secret and the storage's
 * files belong to nobody and nobody's group, modes as without --user; a
 * root rotate-key afterwards leaves every file nobody's (the storage is
 * opened as data_dir's owner); init again replaces nothing.
 */
START_TEST(init_user_nobody)
{
	struct run	 r;
	struct passwd	*pw;
	char		 dir[256], conf[512], p[700], *k1, *k2;
	uid_t		 uid;
	gid_t		 gid;

	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	own_setup(dir, sizeof(dir), conf, sizeof(conf), 0755);
	own_admin(&r, conf, "init", "--user", "nobody");
	assert_clean_exit(&r, 0);
	snprintf(p, sizeof(p), "%s/data", dir);
	assert_owned(p, uid, gid, 0700);
	ck_assert_int_gt(assert_all_owned(p, uid), 0);
	snprintf(p, sizeof(p), "%s/keyring", dir);
	assert_owned(p, uid, gid, 0600);
	snprintf(p, sizeof(p), "%s/jwt.secret", dir);
	assert_owned(p, uid, gid, 0600);

	own_admin(&r, conf, "rotate-key", NULL, NULL);
	assert_clean_exit(&r, 0);
	snprintf(p, sizeof(p), "%s/keyring", dir);
	assert_owned(p, uid, gid, 0600);
	snprintf(p, sizeof(p), "%s/data", dir);
	ck_assert_int_gt(assert_all_owned(p, uid), 0);

	snprintf(p, sizeof(p), "%s/keyring", dir);
	ck_assert_ptr_nonnull(k1 = h_slurp(p, NULL));
	own_admin(&r, conf, "init", "--user", "nobody");
	assert_clean_exit(&r, 0);
	ck_assert_ptr_nonnull(k2 = h_slurp(p, NULL));
	ck_assert_str_eq(k1, k2);
	free(k1);
	free(k2);
	/* an unknown user: one line, exit 1 */
	own_admin(&r, conf, "init", "--user", "no-such-user-cs");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "credstore-admin: init: no user 'no-such-user-cs'\n");
	rm_tree(dir);
}
END_TEST

/*
 * A data_dir and a keyring the user may not open: "permission denied on
 * PATH", not "data_dir is not a directory".
 */
START_TEST(data_dir_permission_named)
{
	struct run	 r;
	char		 dir[256], conf[512], p[700];

	own_setup(dir, sizeof(dir), conf, sizeof(conf), 0755);
	own_admin(&r, conf, "init", NULL, NULL);
	assert_clean_exit(&r, 0);
	snprintf(p, sizeof(p), "%s/data", dir);
	ck_assert_int_eq(chmod(p, 0700), 0);
	ck_assert_int_eq(chmod(conf, 0644), 0);
	run_uid = 65533;
	own_admin(&r, conf, "audit", NULL, NULL);	/* the storage only */
	run_uid = 0;
	ck_assert_int_eq(r.status, 1);
	ck_assert_uint_eq(h_lines(r.err), 1);
	snprintf(p, sizeof(p), "credstore-admin: permission denied on %s/data",
	    dir);
	ck_assert_msg(strncmp(r.err, p, strlen(p)) == 0 &&
	    strstr(r.err, "not a directory") == NULL, "%s", r.err);
	run_uid = 65533;
	own_admin(&r, conf, "list", NULL, NULL);	/* keyring first */
	run_uid = 0;
	ck_assert_int_eq(r.status, 1);
	snprintf(p, sizeof(p), "credstore-admin: permission denied on "
	    "%s/keyring (keyring)\n", dir);
	ck_assert_str_eq(r.err, p);
	rm_tree(dir);
}
END_TEST

/* No configuration file: the error names the path and says -c. */
START_TEST(missing_config_hint)
{
	struct run	 r;

	own_admin(&r, "/nonexistent/credstore.conf", "init", NULL, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_uint_eq(h_lines(r.err), 1);
	ck_assert_msg(strstr(r.err, "/nonexistent/credstore.conf: cannot open")
	    != NULL && strstr(r.err, "-c FILE") != NULL, "%s", r.err);
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
	tcase_add_test(tc, missing_config_hint);
	if (geteuid() == 0) {	/* chown and setuid: CI runs as root */
		tcase_add_test(tc, rotate_keeps_owner);
		tcase_add_test(tc, rotate_refused_unprivileged);
		tcase_add_test(tc, init_user_nobody);
		tcase_add_test(tc, data_dir_permission_named);
	} else
		fprintf(stderr, "e2e_cli: not root: the ownership tests are "
		    "not run\n");
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_teardown(&E);
	return failed == 0 ? 0 : 1;
}
