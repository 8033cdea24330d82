/*
 * The command-line behaviour of both programs (SPEC section 7, issue 18):
 * --help and --version on stdout with exit 0, a reader of stdout that
 * goes away (list | head -1) is a quiet end, a failing command prints one
 * error line; the built manuals name the configured paths.  Runs the
 * built binaries directly; no web server, but for the key commands run as
 * root (issue 15): rotate-key and retire-key keep the keyring's owner,
 * group and mode, run while stores run without one 5xx, refuse as a user
 * who could not keep them, and init --user gives everything it creates
 * to that user.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

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
 * ThreadSanitizer prints this line, and no report, when its lock-order
 * graph holds a cycle of 20 or more mutexes (DD::ReportDeadlock in the
 * sanitizer runtime).  In credstore-admin that is Berkeley DB's page
 * latches, taken in either order inside libdb (tests/tsan.supp: shorter
 * cycles of theirs are suppressed, a cycle too long to report cannot
 * be).  A TSan build's stderr loses the line; any other output stays.
 */
static void
drop_tsan_long_cycle(char *err)
{
	static const char	 line[] = "WARNING: too long mutex cycle found\n";
	char			*p;

	if (!h_sanitizer_build())
		return;
	while ((p = strstr(err, line)) != NULL)
		memmove(p, p + sizeof(line) - 1,
		    strlen(p + sizeof(line) - 1) + 1);
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
	drop_tsan_long_cycle(r->err);
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
	ck_assert(strstr(r.out, "\n  revalidate [--tenant T] [--provider P] "
	    "[--older-than DURATION]\n") != NULL);
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

/* ------------------------------------------------ revalidate (issue 13) */

#define DD	"/v1/integrations/datadog/credentials"

/* The web server, started by the first test that needs it. */
static void
need_server(void)
{
	if (E.lighttpd == 0)
		ck_assert_int_eq(h_start_server(&E, 200), 200);
}

/* An admin token of tenant (malloc'd). */
static char *
tenant_token(const char *tenant)
{
	char *tok;

	ck_assert_int_eq(h_admin(&E, &tok, "token", "--sub", "ops", "--tenant",
	    tenant, "--role", "admin", NULL), 0);
	tok[strcspn(tok, "\n")] = '\0';
	return tok;
}

/* The mock answers the datadog check of this API key with status. */
static void
dd_route(const char *key, int status, int delay_ms)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"%s\"},"
	    "\"status\":%d,\"delayMs\":%d,\"body\":\"{}\"}", key, status,
	    delay_ms);
	ck_assert_int_eq(h_mock_route(&E, json), 0);
}

/* Stores a datadog credential with API key key; its id into id[64]. */
static void
store_dd(const char *tok, const char *key, long want, char *id)
{
	struct h_resp		 r;
	struct json_object	*o, *v;
	char			 body[256];

	snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":\"%s\","
	    "\"application_key\":\"SECRETVAL-rv-app\"}}", key);
	ck_assert_int_eq(h_req(&E, "POST", DD, tok, "application/json", body,
	    NULL, &r), 0);
	ck_assert_msg(r.status == want, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(o = h_json(&r));
	ck_assert(json_object_object_get_ex(o, "credentialId", &v));
	snprintf(id, 64, "%s", json_object_get_string(v));
	json_object_put(o);
	h_resp_free(&r);
}

static size_t
mock_count(void)
{
	struct json_object	*a = h_mock_requests(&E);
	size_t			 n;

	ck_assert_ptr_nonnull(a);
	n = json_object_array_length(a);
	json_object_put(a);
	return n;
}

/* credstore-admin -c CONF revalidate ARGS... (NULL-terminated, up to 8). */
static void
revalidate(struct run *r, const char *a1, const char *a2, const char *a3,
    const char *a4, const char *a5, const char *a6)
{
	char *argv[] = { E.admin, (char *)"-c", E.conf, (char *)"revalidate",
	    (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5,
	    (char *)a6, NULL };

	run_prog(r, argv, 0, NULL);
}

static const char *
jget(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/*
 * The line of credential id in out: its members checked (tenant,
 * provider, before, after, ms, check as "result" or "result/reason");
 * NULL when absent.  Returns the line's "after".
 */
static const char *
rv_line(const char *out, const char *id, const char *tenant,
    const char *before, const char *check)
{
	static char		 after[32];
	struct json_object	*o, *ck, *ms;
	const char		*p = out, *nl;
	char			 line[2048], want[128];
	size_t			 found = 0;

	after[0] = '\0';
	for (; *p != '\0'; p = nl + 1) {
		ck_assert_ptr_nonnull(nl = strchr(p, '\n'));
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		ck_assert_msg((o = json_tokener_parse(line)) != NULL, "%s", line);
		if (strcmp(jget(o, "credentialId"), id) != 0) {
			json_object_put(o);
			continue;
		}
		found++;
		ck_assert_str_eq(jget(o, "tenant"), tenant);
		ck_assert_str_eq(jget(o, "provider"), "datadog");
		ck_assert_str_eq(jget(o, "before"), before);
		ck_assert(json_object_object_get_ex(o, "ms", &ms));
		ck_assert(json_object_is_type(ms, json_type_int));
		ck_assert_int_ge(json_object_get_int64(ms), 0);
		ck_assert(json_object_object_get_ex(o, "check", &ck));
		snprintf(want, sizeof(want), "%s%s%s", jget(ck, "result"),
		    jget(ck, "reason") ? "/" : "",
		    jget(ck, "reason") ? jget(ck, "reason") : "");
		ck_assert_str_eq(want, check);
		ck_assert_ptr_null(jget(o, "error"));
		snprintf(after, sizeof(after), "%s", jget(o, "after"));
		json_object_put(o);
	}
	ck_assert_msg(found == 1, "%s: %zu lines in %s", id, found, out);
	return after;
}

/* The status and check of a credential through the API. */
static void
api_state(const char *tok, const char *id, const char *status,
    const char *check)
{
	struct h_resp		 r;
	struct json_object	*o, *ck;
	char			 path[256], got[128];

	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(h_req(&E, "GET", path, tok, NULL, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	o = h_json(&r);
	ck_assert_str_eq(jget(o, "status"), status);
	ck_assert(json_object_object_get_ex(o, "check", &ck));
	snprintf(got, sizeof(got), "%s%s%s", jget(ck, "result"),
	    jget(ck, "reason") ? "/" : "",
	    jget(ck, "reason") ? jget(ck, "reason") : "");
	ck_assert_str_eq(got, check);
	json_object_put(o);
	h_resp_free(&r);
}

/* Audit events credential.validate of id by the tool, with outcome. */
static size_t
rv_audited(const char *tenant, const char *id, const char *outcome)
{
	struct json_object	*o;
	char			*out, *p, *nl;
	size_t			 n = 0;

	ck_assert_int_eq(h_admin(&E, &out, "audit", "--tenant", tenant, NULL), 0);
	for (p = out; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		ck_assert_ptr_nonnull(o = json_tokener_parse(p));
		if (strcmp(jget(o, "action"), "credential.validate") == 0 &&
		    strcmp(jget(o, "credentialId"), id) == 0 &&
		    strcmp(jget(o, "outcome"), outcome) == 0 &&
		    strcmp(jget(o, "client"), "credstore-admin") == 0 &&
		    jget(o, "subject") != NULL)
			n++;
		json_object_put(o);
	}
	free(out);
	return n;
}

/*
 * With stderr on a terminal (script(1) gives it a pseudo-terminal), the
 * progress shows there ("\rrevalidate: N/3"), then the summary line;
 * stdout, a file, has the three lines only.
 */
static void
progress_on_terminal(void)
{
	char	 cmd[4096], ts[700], out[700], *text;
	int	 st;

	snprintf(ts, sizeof(ts), "%s/typescript", E.dir);
	snprintf(out, sizeof(out), "%s/rv-tty.out", E.dir);
	snprintf(cmd, sizeof(cmd), "script -qec '%s -c %s revalidate --tenant "
	    "rv1 >%s' %s >/dev/null </dev/null", E.admin, E.conf, out, ts);
	st = system(cmd);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 3);	/* b is still rejected */
	ck_assert_ptr_nonnull(text = h_slurp(ts, NULL));
	ck_assert_msg(strstr(text, "\rrevalidate: 1/3") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\rrevalidate: 3/3\r\nrevalidate: 3 checked, "
	    "1 validated, 1 rejected, 1 unreachable, 0 skipped, 0 failed") !=
	    NULL, "%s", text);
	free(text);
	ck_assert_ptr_nonnull(text = h_slurp(out, NULL));
	ck_assert_uint_eq(h_lines(text), 3);
	ck_assert_ptr_null(strstr(text, "revalidate:"));
	free(text);
}

/*
 * Two credentials re-tested: exit 0 while the provider accepts both;
 * once it answers 401 for one, exit 3, the line says so, the API shows
 * it rejected and the audit trail has the tool's event.  --older-than
 * then skips what was validated within the hour; --provider filters.
 */
START_TEST(revalidate_rejected)
{
	struct run	 r;
	char		 a[64], b[64], c[64], *tok;

	need_server();
	ck_assert_int_eq(h_mock_reset(&E), 0);
	tok = tenant_token("rv1");
	dd_route("SECRETVAL-rv-a", 200, 0);
	dd_route("SECRETVAL-rv-b", 200, 0);
	store_dd(tok, "SECRETVAL-rv-a", 201, a);
	store_dd(tok, "SECRETVAL-rv-b", 201, b);

	revalidate(&r, "--tenant", "rv1", NULL, NULL, NULL, NULL);
	ck_assert(r.exited);
	ck_assert_msg(r.status == 0, "%d %s", r.status, r.err);
	ck_assert_uint_eq(h_lines(r.out), 2);
	ck_assert_str_eq(rv_line(r.out, a, "rv1", "validated", "validated"),
	    "validated");
	ck_assert_str_eq(rv_line(r.out, b, "rv1", "validated", "validated"),
	    "validated");
	/* stderr is no terminal: the summary line alone */
	ck_assert_str_eq(r.err, "revalidate: 2 checked, 2 validated, "
	    "0 rejected, 0 unreachable, 0 skipped, 0 failed\n");

	/* the provider now rejects b */
	dd_route("SECRETVAL-rv-b", 401, 0);
	revalidate(&r, "--tenant", "rv1", "--jobs", "2", NULL, NULL);
	ck_assert(r.exited);
	ck_assert_msg(r.status == 3, "%d %s", r.status, r.err);
	ck_assert_str_eq(rv_line(r.out, a, "rv1", "validated", "validated"),
	    "validated");
	ck_assert_str_eq(rv_line(r.out, b, "rv1", "validated",
	    "rejected/status_401"), "rejected");
	ck_assert_str_eq(r.err, "revalidate: 2 checked, 1 validated, "
	    "1 rejected, 0 unreachable, 0 skipped, 0 failed\n");
	api_state(tok, b, "rejected", "rejected/status_401");
	api_state(tok, a, "validated", "validated");
	ck_assert_uint_eq(rv_audited("rv1", b, "rejected"), 1);
	ck_assert_uint_eq(rv_audited("rv1", b, "validated"), 1);
	ck_assert_uint_eq(rv_audited("rv1", a, "validated"), 2);

	/* c: a 503 at its store, never validated */
	dd_route("SECRETVAL-rv-c", 503, 0);
	store_dd(tok, "SECRETVAL-rv-c", 201, c);
	revalidate(&r, "--tenant", "rv1", "--older-than", "1h", NULL, NULL);
	ck_assert(r.exited);
	ck_assert_msg(r.status == 0, "%d %s", r.status, r.err);
	ck_assert_uint_eq(h_lines(r.out), 1);
	ck_assert_str_eq(rv_line(r.out, c, "rv1", "unverified",
	    "unreachable/status_503"), "unverified");
	ck_assert_str_eq(r.err, "revalidate: 1 checked, 0 validated, "
	    "0 rejected, 1 unreachable, 2 skipped, 0 failed\n");
	api_state(tok, c, "unverified", "unreachable/status_503");
	/* a few seconds ago is older than 1s: every one again */
	sleep(2);
	revalidate(&r, "--tenant", "rv1", "--older-than", "1s", NULL, NULL);
	ck_assert_int_eq(r.status, 3);
	ck_assert_uint_eq(h_lines(r.out), 3);
	/* another provider, another tenant: nothing */
	revalidate(&r, "--tenant", "rv1", "--provider", "sentry", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "");
	revalidate(&r, "--tenant", "nobody-here", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "revalidate: 0 checked, 0 validated, "
	    "0 rejected, 0 unreachable, 0 skipped, 0 failed\n");
	/* every tenant, datadog only: rv1's three are among them */
	revalidate(&r, "--provider", "datadog", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 3);
	rv_line(r.out, c, "rv1", "unverified", "unreachable/status_503");
	admin(&r, 0, "verify", NULL);
	ck_assert_int_eq(r.status, 0);
	progress_on_terminal();
	free(tok);
}
END_TEST

/*
 * A Ctrl-C (SIGINT to the process group) in the middle of a run: the
 * workers finish the checks they hold and close their environments;
 * exit 1 with the summary and one "interrupted" line, only whole lines
 * on stdout, no process left, the store verifies and the web service
 * answers without a recovery.
 */
static void
interrupted_run(void)
{
	char		 outp[700], errp[700], out[16384], err[4096];
	char		*argv[] = { E.admin, (char *)"-c", E.conf,
			    (char *)"revalidate", (char *)"--tenant",
			    (char *)"rv2", (char *)"--jobs", (char *)"2", NULL };
	struct h_resp	 r;
	struct run	 v;
	pid_t		 pid;
	int		 st, fd;
	size_t		 n;

	snprintf(outp, sizeof(outp), "%s/rv-int.out", E.dir);
	snprintf(errp, sizeof(errp), "%s/rv-int.err", E.dir);
	if ((pid = fork()) == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		if ((fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
			dup2(fd, 1);
		if ((fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
			dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	usleep(900 * 1000);	/* the workers hold their second checks */
	ck_assert_int_eq(kill(-pid, SIGINT), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 1);
	slurp(outp, out, sizeof(out));
	slurp(errp, err, sizeof(err));
	n = h_lines(out);
	ck_assert_msg(n >= 2 && n < 20, "%zu lines", n);
	ck_assert(out[strlen(out) - 1] == '\n');
	ck_assert_msg(h_lines(err) == 2, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "revalidate: "));
	ck_assert_ptr_nonnull(strstr(err, "\ncredstore-admin: revalidate: "
	    "interrupted after "));
	ck_assert_int_eq(kill(-pid, 0), -1);	/* the group is gone */
	admin(&v, 0, "verify", NULL);
	ck_assert_int_eq(v.status, 0);
	ck_assert_int_eq(h_req(&E, "GET", "/healthz", NULL, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert(!h_grep_file(E.errlog, "reopening the environment"));
	ck_assert(!h_grep_file(E.errlog, "PANIC"));
}

/*
 * --jobs 8 over 20 credentials whose check takes 400 ms: every one
 * tested once (20 lines, 20 distinct ids, 20 checks at the provider), in
 * well under the 8 s one at a time would take.
 */
START_TEST(revalidate_jobs)
{
	struct run	 r;
	struct timeval	 t0, t1;
	char		 ids[20][64], *tok;
	double		 secs;
	size_t		 i, n;

	need_server();
	ck_assert_int_eq(h_mock_reset(&E), 0);
	tok = tenant_token("rv2");
	dd_route("SECRETVAL-rv-many", 200, 0);
	for (i = 0; i < 20; i++)
		store_dd(tok, "SECRETVAL-rv-many", 201, ids[i]);
	dd_route("SECRETVAL-rv-many", 200, 400);	/* the newer route wins */
	n = mock_count();
	gettimeofday(&t0, NULL);
	revalidate(&r, "--tenant", "rv2", "--jobs", "8", NULL, NULL);
	gettimeofday(&t1, NULL);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	ck_assert(r.exited);
	ck_assert_msg(r.status == 0, "%d %s", r.status, r.err);
	ck_assert_uint_eq(h_lines(r.out), 20);
	for (i = 0; i < 20; i++)	/* each exactly once */
		ck_assert_str_eq(rv_line(r.out, ids[i], "rv2", "validated",
		    "validated"), "validated");
	ck_assert_uint_eq(mock_count(), n + 20);
	ck_assert_str_eq(r.err, "revalidate: 20 checked, 20 validated, "
	    "0 rejected, 0 unreachable, 0 skipped, 0 failed\n");
	fprintf(stderr, "revalidate_jobs: 20 checks of 400 ms with --jobs 8 "
	    "in %.2f s\n", secs);
	ck_assert_msg(secs < 6.5, "took %.2f s", secs);
	admin(&r, 0, "verify", NULL);
	ck_assert_int_eq(r.status, 0);
	interrupted_run();
	free(tok);
}
END_TEST

/* Bad usage: exit 2, one line on stderr, nothing tested. */
START_TEST(revalidate_bad_usage)
{
	static const char *const bad[][2] = {
		{ "--jobs", "0" }, { "--jobs", "65" }, { "--jobs", "x" },
		{ "--jobs", "" }, { "--older-than", "5" },
		{ "--older-than", "5y" }, { "--older-than", "m" },
		{ "--older-than", "-5m" }, { "--older-than", "1.5h" },
		{ "--older-than", "0d" }, { "--older-than", "99999d" },
		{ "--provider", "Not/A/Provider" }, { "--tenant", "" },
		{ "--bogus", NULL }, { "extra", NULL },
	};
	struct run	 r;
	size_t		 i, n = mock_count();

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		revalidate(&r, bad[i][0], bad[i][1], NULL, NULL, NULL, NULL);
		ck_assert(r.exited);
		ck_assert_msg(r.status == 2, "%s %s: %d", bad[i][0],
		    bad[i][1] ? bad[i][1] : "", r.status);
		ck_assert_str_eq(r.out, "");
		ck_assert_msg(h_lines(r.err) == 1, "%s", r.err);
		ck_assert(strncmp(r.err, "credstore-admin: ", 17) == 0);
	}
	/* storage that cannot be opened: 1, one line */
	{
		char	 conf[700];
		char	*argv[] = { E.admin, (char *)"-c", conf,
		    (char *)"revalidate", NULL };
		FILE	*f;

		snprintf(conf, sizeof(conf), "%s/nodata.conf", E.dir);
		ck_assert_ptr_nonnull(f = fopen(conf, "w"));
		fprintf(f, "data_dir = /nonexistent/credstore-data\n"
		    "keyring = keyring\ncatalog = %s/etc/catalog.json\n",
		    E.srcdir);
		fclose(f);
		run_prog(&r, argv, 0, NULL);
		ck_assert(r.exited);
		ck_assert_msg(r.status == 1, "%d %s", r.status, r.err);
		ck_assert_str_eq(r.out, "");
		ck_assert_msg(h_lines(r.err) == 1, "%s", r.err);
	}
	/* the largest values allowed */
	revalidate(&r, "--jobs", "64", "--older-than", "3650d", "--tenant",
	    "nobody-here");
	ck_assert_msg(r.status == 0, "%d %s", r.status, r.err);
	ck_assert_uint_eq(mock_count(), n);
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
	h_stop_server(&E);	/* need_server's, if any: not orphaned */
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
 * What the request loop of rotate_under_load saw (shared with its child):
 * the ids of the last LOAD_MAX_IDS stores (a ring: the ones sealed around
 * the last rotations; verify opens every record anyway).
 */
#define LOAD_MAX_IDS	4096
struct load {
	volatile int	stop;		/* set by the parent */
	volatile long	n;		/* requests answered */
	volatile long	n5xx;		/* 5xx answers, and failed requests */
	volatile long	stores;
	volatile long	created;	/* stores answered 201 */
	volatile long	nids;		/* ids held: min(created, LOAD_MAX_IDS) */
	char		ids[LOAD_MAX_IDS][40];
};

/* The child: POSTs and GETs, one after the other, until told to stop. */
static void
load_loop(struct load *ld)
{
	struct h_resp		 r;
	struct json_object	*o, *v;
	const char		*body = "{\"credentials\":{\"api_key\":"
	    "\"SECRETVAL-rot-load\",\"application_key\":\"SECRETVAL-rot-app\"}}";
	time_t			 end = time(NULL) + 90;	/* a failed parent */
	int			 rc;

	while ((!ld->stop || ld->n < 60) && time(NULL) < end) {
		rc = h_req(&E, "POST", DD, E.tok_admin, "application/json", body,
		    NULL, &r);
		ld->stores++;
		if (rc != 0 || r.status >= 500)
			ld->n5xx++;
		if (rc == 0 && r.status == 201) {
			if ((o = h_json(&r)) != NULL &&
			    json_object_object_get_ex(o, "credentialId", &v)) {
				snprintf(ld->ids[ld->created % LOAD_MAX_IDS],
				    sizeof(ld->ids[0]), "%s",
				    json_object_get_string(v));
				if (ld->nids < LOAD_MAX_IDS)
					ld->nids++;
			}
			ld->created++;
			json_object_put(o);
		}
		if (rc == 0)
			h_resp_free(&r);
		ld->n++;
		rc = h_req(&E, "GET", DD "?limit=5", E.tok_admin, NULL, NULL,
		    NULL, &r);
		if (rc != 0 || r.status >= 500)
			ld->n5xx++;
		if (rc == 0)
			h_resp_free(&r);
		ld->n++;
	}
}

/* The active key's id from `credstore-admin keys` into id[32]. */
static void
active_key(char *id, size_t cap)
{
	struct run	 r;
	const char	*l, *sp;

	admin(&r, 0, "keys", NULL);
	assert_clean_exit(&r, 0);
	ck_assert_ptr_nonnull(l = strstr(r.out, " active "));
	while (l > r.out && l[-1] != '\n')
		l--;
	ck_assert_ptr_nonnull(sp = strchr(l, ' '));
	ck_assert_uint_lt((size_t)(sp - l), cap);
	snprintf(id, cap, "%.*s", (int)(sp - l), l);
}

/*
 * Issue 15: rotate-key, then retire-key of the old key, run as root on a
 * keyring owned by the web user (65534, 0640) while a child process
 * stores and lists without a pause: three rounds; not one 5xx, every
 * store 201, the keyring's owner, group and mode kept, verify clean, and
 * every credential stored meanwhile readable and usable (its check runs
 * with the values decrypted under the new key).
 */
START_TEST(rotate_under_load)
{
	struct load	*ld;
	struct run	 r;
	struct h_resp	 resp;
	char		 kr[700], old[32], want[64], path[300];
	long		 i, during = 0, before;
	int		 round, st;
	pid_t		 pid;

	snprintf(kr, sizeof(kr), "%s/keyring", E.dir);
	ck_assert_int_eq(chown(kr, 65534, 65534), 0);
	ck_assert_int_eq(chmod(kr, 0640), 0);
	h_stop_server(&E);	/* need_server's, if any: not orphaned */
	ck_assert_int_eq(h_start_server(&E, 200), 200);
	dd_route("SECRETVAL-rot-load", 200, 0);
	ld = mmap(NULL, sizeof(*ld), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(ld, MAP_FAILED);
	memset(ld, 0, sizeof(*ld));
	if ((pid = fork()) == 0) {
		load_loop(ld);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	while (ld->n < 10 && waitpid(pid, &st, WNOHANG) == 0)
		usleep(10000);
	for (round = 0; round < 3; round++) {
		active_key(old, sizeof(old));
		before = ld->n;
		admin(&r, 0, "rotate-key", NULL);
		assert_clean_exit(&r, 0);
		ck_assert_str_ne(r.out, "");
		admin(&r, 0, "retire-key", old);
		during += ld->n - before;
		assert_clean_exit(&r, 0);
		snprintf(want, sizeof(want), "retired %s\n", old);
		ck_assert_str_eq(r.out, want);
		assert_owned(kr, 65534, 65534, 0640);
		snprintf(want, sizeof(want), "key %s ", old);
		ck_assert(!h_grep_file(kr, want));
	}
	ld->stop = 1;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fprintf(stderr, "rotate_under_load: %ld requests (%ld while the key "
	    "commands ran), %ld stores, %ld 201, %ld 5xx\n", ld->n, during,
	    ld->stores, ld->created, ld->n5xx);
	ck_assert_int_ge(ld->n, 50);
	ck_assert_int_eq(ld->n5xx, 0);
	ck_assert_int_eq(ld->created, ld->stores);
	ck_assert_int_eq(ld->nids, ld->created < LOAD_MAX_IDS ? ld->created :
	    LOAD_MAX_IDS);
	assert_owned(kr, 65534, 65534, 0640);
	admin(&r, 0, "verify", NULL);
	ck_assert_msg(r.exited && r.status == 0, "verify: %d %s", r.status, r.err);
	for (i = 0; i < ld->nids; i++) {
		snprintf(path, sizeof(path), "%s/%s", DD, ld->ids[i]);
		ck_assert_int_eq(h_req(&E, "GET", path, E.tok_admin, NULL, NULL,
		    NULL, &resp), 0);
		ck_assert_msg(resp.status == 200, "%s: %ld", path, resp.status);
		h_resp_free(&resp);
	}
	for (i = 0; i < ld->nids; i += ld->nids / 5 + 1) {
		snprintf(path, sizeof(path), "%s/%s/validate", DD, ld->ids[i]);
		ck_assert_int_eq(h_req(&E, "POST", path, E.tok_admin, NULL, NULL,
		    NULL, &resp), 0);
		ck_assert_msg(resp.status == 200, "%s: %ld %s", path,
		    resp.status, resp.body);
		h_resp_free(&resp);
	}
	munmap(ld, sizeof(*ld));
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
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, admin_help_version);
	tcase_add_test(tc, fcgi_help_version);
	tcase_add_test(tc, stdout_reader_gone);
	tcase_add_test(tc, backup_fails_one_line);
	tcase_add_test(tc, man_pages_real_paths);
	tcase_add_test(tc, revalidate_bad_usage);
	tcase_add_test(tc, revalidate_rejected);
	tcase_add_test(tc, revalidate_jobs);
	tcase_add_test(tc, missing_config_hint);
	if (geteuid() == 0) {	/* chown and setuid: CI runs as root */
		tcase_add_test(tc, rotate_keeps_owner);
		tcase_add_test(tc, rotate_under_load);
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
