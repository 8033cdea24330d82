/*
 * Fault injection (issue #7): the real lighttpd and credstore.fcgi with
 * their storage, keyring or provider made to fail.  Each test has an
 * environment of its own, set up by the test and torn down by the
 * fixture even when the test fails.
 *
 * Storage faults need a file system that refuses writes, and the tests
 * run as root, for whom file modes mean nothing: a small tmpfs is mounted
 * over data_dir, then remounted read-only, or filled.  Where mount(2) is
 * not permitted the two storage tests fail with that reason, unless
 * CREDSTORE_E2E_NO_MOUNT=1 says to skip them.
 */
#include "cs_build.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "harness.h"

#define JSON	"application/json"
#define DD	"/v1/integrations/datadog/credentials"
#define SENTRY	"/v1/integrations/sentry/credentials"
#define FORM	"application/x-www-form-urlencoded"

static struct h_env	E;
static int		live;		/* E is set up */
static char		mounted[700];	/* a tmpfs of this test, or "" */

/* --- environment */

static void
env_up(const char *conf_extra, int procs, int start)
{
	struct h_opts o = { .conf_extra = conf_extra, .procs = procs };

	h_setup_stopped(&E, &o);
	live = 1;
	if (start)
		ck_assert_int_eq(h_start_server(&E, 200), 200);
}

/*
 * FastCGI processes of E still alive wait_s seconds after lighttpd
 * stopped: stuck ones (a Berkeley DB mutex whose holder died), which
 * would otherwise live on as orphans.  They are killed; returns how many.
 */
static int
leftovers(int wait_s)
{
	pid_t	pids[32];
	int	i, n = 0;

	/* under valgrind the leak check at exit takes a while */
	if (getenv("CREDSTORE_FCGI_WRAPPER") != NULL)
		wait_s *= 6;
	for (i = 0; i <= wait_s * 10; i++) {
		if ((n = h_env_pids(&E, pids, 32)) == 0)
			return 0;
		usleep(100000);
	}
	for (i = 0; i < n; i++) {
		fprintf(stderr, "process %ld of %s outlived lighttpd: killed\n",
		    (long)pids[i], E.dir);
		kill(pids[i], SIGKILL);
	}
	return n;
}

/*
 * The end of a test: lighttpd stops, every FastCGI process exits (none is
 * stuck), and no sanitizer (LeakSanitizer runs at exit) has a report.
 */
static void
finish(void)
{
	h_stop_server(&E);
	ck_assert_msg(leftovers(10) == 0,
	    "FastCGI processes hung, outliving lighttpd");
	ck_assert_msg(!h_sanitizer_report(&E), "sanitizer report in %s",
	    E.errlog);
}

/* The checked fixture's teardown: runs after a failed test too. */
static void
env_down(void)
{
	char path[700];

	if (!live)
		return;
	h_stop_server(&E);
	(void)leftovers(10);
	if (mounted[0] != '\0') {
		if (umount2(mounted, MNT_DETACH) == -1)
			fprintf(stderr, "umount %s: %s\n", mounted,
			    strerror(errno));
		mounted[0] = '\0';
	}
	/* a test may have left the keyring renamed, moved or opened up */
	snprintf(path, sizeof(path), "%s/keyring", E.dir);
	chmod(path, 0600);
	h_teardown(&E);
	live = 0;
}

static void
req(const char *method, const char *path, const char *token,
    const char *ctype, const char *body, const char *const *hdrs,
    struct h_resp *r)
{
	ck_assert_msg(h_req(&E, method, path, token, ctype, body, hdrs, r) == 0,
	    "%s %s: transport error", method, path);
}

static size_t
count_records(const char *tenant)
{
	char	*out = NULL;
	size_t	 n;
	int	 rc;

	rc = h_admin(&E, &out, "list", "--tenant", tenant, NULL);
	ck_assert_msg(rc == 0, "credstore-admin list: exit %d", rc);
	n = h_lines(out);
	free(out);
	return n;
}

static void
assert_verify(void)
{
	char	*out = NULL;
	int	 rc = h_admin(&E, &out, "verify", NULL);

	ck_assert_msg(rc == 0, "credstore-admin verify: exit %d: %s", rc, out);
	free(out);
}

/* 503, JSON, Retry-After, code (or /healthz status) unavailable. */
static void
assert_unavailable(const struct h_resp *r, const char *what)
{
	const char *ct = h_header(r, "Content-Type");

	ck_assert_msg(r->status == 503, "%s: status %ld, want 503: %s", what,
	    r->status, r->body);
	ck_assert_msg(ct != NULL && strcmp(ct, JSON) == 0,
	    "%s: Content-Type %s", what, ct ? ct : "(none)");
	ck_assert_msg(h_header(r, "Retry-After") != NULL, "%s: no Retry-After",
	    what);
	if (strstr(r->body, "\"error\"") != NULL)
		ck_assert_str_eq(h_errcode(r), "unavailable");
	else
		ck_assert_str_eq(r->body, "{\"status\":\"unavailable\"}");
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* 1 when needle is in the file after byte offset off. */
static int
grep_from(const char *path, long off, const char *needle)
{
	FILE	*f;
	char	*s;
	long	 n;
	int	 found;

	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f) - off;
	if (n <= 0) {
		fclose(f);
		return 0;
	}
	fseek(f, off, SEEK_SET);
	s = malloc((size_t)n + 1);
	n = (long)fread(s, 1, (size_t)n, f);
	s[n] = '\0';
	fclose(f);
	found = memmem(s, (size_t)n, needle, strlen(needle)) != NULL;
	free(s);
	return found;
}

/* Stores one sentry credential; returns the status, the id into id. */
static long
store_one(const char *tok, const char *value, char *id, size_t idlen)
{
	struct h_resp		 r;
	struct json_object	*o;
	char			 body[512];
	long			 st;

	snprintf(body, sizeof(body),
	    "{\"credentials\":{\"auth_token\":\"%s\"}}", value);
	if (h_req(&E, "POST", SENTRY, tok, JSON, body, NULL, &r) != 0) {
		h_resp_free(&r);
		return 0;
	}
	st = r.status;
	if (id != NULL && idlen > 0)
		id[0] = '\0';
	if (st == 201 && id != NULL && (o = h_json(&r)) != NULL) {
		snprintf(id, idlen, "%s", json_object_get_string(
		    json_object_object_get(o, "credentialId")));
		json_object_put(o);
	}
	h_resp_free(&r);
	return st;
}

static void
wait_healthy(void)
{
	struct h_resp	r;
	long		st = 0;
	int		i;

	for (i = 0; i < 100 && st != 200; i++) {
		if (i > 0)
			usleep(100000);
		req("GET", "/healthz", NULL, NULL, NULL, NULL, &r);
		st = r.status;
		h_resp_free(&r);
	}
	ck_assert_msg(st == 200, "the service did not recover: %ld", st);
}

/* A tmpfs of the given size over data_dir, then `credstore-admin init`. */
static int
mount_data_dir(const char *size)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
	if (mount("tmpfs", E.data_dir, "tmpfs", 0, opts) == -1) {
		if (getenv("CREDSTORE_E2E_NO_MOUNT") != NULL) {
			fprintf(stderr, "SKIPPED: mount: %s\n",
			    strerror(errno));
			return -1;
		}
		ck_abort_msg("mount tmpfs on %s: %s (CREDSTORE_E2E_NO_MOUNT=1 "
		    "skips the storage fault tests)", E.data_dir,
		    strerror(errno));
	}
	snprintf(mounted, sizeof(mounted), "%s", E.data_dir);
	ck_assert_int_eq(h_admin(&E, NULL, "init", NULL), 0);
	return 0;
}

static int
remount(int ro, const char *size)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "size=%s", size);
	return mount("tmpfs", mounted, "tmpfs",
	    MS_REMOUNT | (ro ? MS_RDONLY : 0), opts);
}

/*
 * (a) data_dir on a read-only file system: every request that needs the
 * store is 503 with Retry-After, /healthz too, nothing partial is left;
 * made writable again, the service recovers without a restart.
 */
START_TEST(readonly_data_dir)
{
	struct h_resp	 r;
	char		 id[64], path[300];
	long		 off;
	int		 i, rc;

	env_up(NULL, 2, 0);
	if (mount_data_dir("8m") == -1)
		return;
	ck_assert_int_eq(h_start_server(&E, 200), 200);
	ck_assert_int_eq(store_one(E.tok_admin, "FAULT-ro-1", id, sizeof(id)),
	    201);
	snprintf(path, sizeof(path), "%s/%s", SENTRY, id);

	/*
	 * While the FastCGI processes hold the environment open for writing
	 * the kernel refuses to remount read-only (EBUSY): stop, remount,
	 * start afresh.
	 */
	if (remount(1, "8m") == 0)
		fprintf(stderr, "readonly: remounted while running\n");
	else {
		fprintf(stderr, "readonly: remount while running: %s; "
		    "restarting on the read-only file system\n",
		    strerror(errno));
		h_stop_server(&E);
		/* FastCGI processes may outlive lighttpd a moment (valgrind) */
		for (i = 0; (rc = remount(1, "8m")) == -1 && errno == EBUSY &&
		    i < 300; i++)
			usleep(100000);
		ck_assert_msg(rc == 0, "remount ro: %s", strerror(errno));
		off = file_size(E.errlog);
		ck_assert_int_eq(h_start_server(&E, 0), 503);
		ck_assert(grep_from(E.errlog, off, "Read-only file system"));
	}
	for (i = 0; i < 4; i++) {
		req("GET", "/healthz", NULL, NULL, NULL, NULL, &r);
		assert_unavailable(&r, "healthz");
		h_resp_free(&r);
		req("POST", SENTRY, E.tok_admin, JSON,
		    "{\"credentials\":{\"auth_token\":\"FAULT-ro-2\"}}",
		    NULL, &r);
		assert_unavailable(&r, "store");
		h_resp_free(&r);
		req("GET", path, E.tok_admin, NULL, NULL, NULL, &r);
		assert_unavailable(&r, "read");
		h_resp_free(&r);
	}
	/* read-write again: the running service recovers by itself */
	ck_assert_msg(remount(0, "8m") == 0, "remount rw: %s", strerror(errno));
	/* nothing partial: one record */
	ck_assert_uint_eq(count_records("acme"), 1);
	wait_healthy();
	for (i = 0; i < 4; i++) {
		req("GET", path, E.tok_admin, NULL, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		h_resp_free(&r);
	}
	h_stop_server(&E);
	ck_assert_uint_eq(count_records("acme"), 1);
	assert_verify();
	ck_assert(!h_grep_tree(E.data_dir, "FAULT-ro"));
	finish();
}
END_TEST

/*
 * (b) The file system fills up under load: stores answer 201 until they
 * answer 503 with Retry-After, and no FastCGI process dies; every 201 is
 * readable, nothing else was stored, and `verify` passes.  With room
 * again the service recovers by itself.  Problems are collected so that
 * one run reports all of them.
 */
START_TEST(disk_full)
{
	struct h_resp	 r;
	struct statvfs	 vfs;
	char		 filler[700], path[400], value[64], lerr[700];
	char		 probs[4096] = "";
	char		(*ids)[64];
	long		 st, other = 0;
	size_t		 n201 = 0, n503 = 0, i, avail, after = 0, len;
	FILE		*f;
	char		 block[4096];

#define PROBLEM(...) do {						\
		len = strlen(probs);					\
		snprintf(probs + len, sizeof(probs) - len, __VA_ARGS__);\
	} while (0)

	env_up(NULL, 2, 0);
	/*
	 * 32 MiB: a failed flush panics the environment, and the recovery
	 * that follows makes the regions again (about 4 MiB) while the
	 * processes that panicked still map the old ones, unlinked, until
	 * they exit (Berkeley DB does not unmap a panicked environment).
	 */
	if (mount_data_dir("32m") == -1)
		return;
	ck_assert_int_eq(h_start_server(&E, 200), 200);
	/* warm up: the regions and the first log pages exist */
	ck_assert_int_eq(store_one(E.tok_admin, "FAULT-full-warm", NULL, 0),
	    201);
	/* fill all but 256 KiB */
	snprintf(filler, sizeof(filler), "%s/filler", E.data_dir);
	ck_assert_int_eq(statvfs(E.data_dir, &vfs), 0);
	avail = (size_t)vfs.f_bavail * vfs.f_frsize;
	ck_assert_ptr_nonnull(f = fopen(filler, "w"));
	memset(block, 'F', sizeof(block));
	for (i = 0; i + sizeof(block) + 256 * 1024 < avail; i += sizeof(block))
		if (fwrite(block, 1, sizeof(block), f) != sizeof(block))
			break;
	fclose(f);
	ck_assert_int_eq(statvfs(E.data_dir, &vfs), 0);
	fprintf(stderr, "disk full: %lu bytes left\n",
	    (unsigned long)vfs.f_bavail * vfs.f_frsize);

	ids = calloc(4000, sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	for (i = 0; i < 4000 && n503 < 20; i++) {
		snprintf(value, sizeof(value), "FAULT-full-%04zu-pad", i);
		st = store_one(E.tok_admin, value, ids[n201], sizeof(ids[0]));
		if (st == 201)
			n201++;
		else if (st == 503)
			n503++;
		else {
			other++;
			fprintf(stderr, "disk full: store %zu answered %ld\n",
			    i, st);
		}
	}
	fprintf(stderr, "disk full: %zu stores, %zu answered 201, %zu 503, "
	    "%ld other\n", i, n201, n503, other);
	ck_assert_msg(n503 > 0, "the file system never filled up");
	if (other > 0)
		PROBLEM("%ld stores answered neither 201 nor 503; ", other);
	/*
	 * With durability sync a store commits without a sync and then
	 * flushes the log (issue 14): the first write that finds no room
	 * is that flush (a store's log records fit the log buffer, and
	 * nothing here fills the cache or reaches a checkpoint).  Its
	 * commit is undone by the recovery that the panic brings.
	 */
	if (!grep_from(E.errlog, 0, "flushing the log: No space left"))
		PROBLEM("no store failed at its log flush; ");
	/* lighttpd notes a backend that died of a signal (SIGBUS: 7) */
	snprintf(lerr, sizeof(lerr), "%s/www/error.log", E.dir);
	if (h_grep_file(lerr, "child signalled"))
		PROBLEM("a FastCGI process died of a signal (%s); ", lerr);
	for (i = 0; i < 4; i++) {
		req("POST", SENTRY, E.tok_admin, JSON,
		    "{\"credentials\":{\"auth_token\":\"FAULT-full-last\"}}",
		    NULL, &r);
		if (r.status != 503 || h_header(&r, "Retry-After") == NULL ||
		    strcmp(h_errcode(&r), "unavailable") != 0)
			PROBLEM("store on a full disk: %ld %.100s; ", r.status,
			    r.body);
		h_resp_free(&r);
	}

	/* room again: within 10 s ten stores in a row succeed */
	ck_assert_int_eq(unlink(filler), 0);
	for (i = 0; i < 100 && after < 10; i++) {
		if (store_one(E.tok_admin, "FAULT-full-after", NULL, 0) == 201)
			after++;
		else {
			after = 0;
			usleep(100000);
		}
	}
	if (after < 10)
		PROBLEM("with room again the stores still fail; ");
	/* every 201 is there */
	for (i = 0, st = 0; i < n201; i++) {
		snprintf(path, sizeof(path), "%s/%s", SENTRY, ids[i]);
		req("GET", path, E.tok_admin, NULL, NULL, NULL, &r);
		if (r.status != 200)
			st++;
		h_resp_free(&r);
	}
	if (st > 0)
		PROBLEM("%ld of %zu 201s could not be read back; ", st, n201);
	h_stop_server(&E);
	if ((st = leftovers(10)) > 0)
		PROBLEM("%ld FastCGI processes hung, outliving lighttpd; ", st);
	if (h_sanitizer_report(&E))
		PROBLEM("a sanitizer report in %s; ", E.errlog);
	/* nothing else was stored: the warm-up, the 201s, the ones after */
	st = (long)count_records("acme");
	fprintf(stderr, "disk full: %ld records, %zu expected\n", st,
	    n201 + 1 + after);
	if ((size_t)st != n201 + 1 + after)
		PROBLEM("%ld records, want %zu; ", st, n201 + 1 + after);
	assert_verify();
	free(ids);
	ck_assert_msg(probs[0] == '\0', "%s", probs);
#undef PROBLEM
}
END_TEST

/*
 * Requests that all must be 503 while the keyring cannot be used.  A
 * process looks at the keyring's file at most once a second (issue 14):
 * 1.1 s after the change, every process's next request looks.
 */
static void
assert_all_unavailable(const char *why)
{
	struct h_resp	r;
	int		i;

	usleep(1100000);

	/* several rounds: each FastCGI process must answer */
	for (i = 0; i < 6; i++) {
		req("GET", "/healthz", NULL, NULL, NULL, NULL, &r);
		assert_unavailable(&r, why);
		h_resp_free(&r);
		req("POST", SENTRY, E.tok_admin, JSON,
		    "{\"credentials\":{\"auth_token\":\"FAULT-kr\"}}",
		    NULL, &r);
		assert_unavailable(&r, why);
		h_resp_free(&r);
		req("GET", SENTRY, E.tok_admin, NULL, NULL, NULL, &r);
		assert_unavailable(&r, why);
		h_resp_free(&r);
	}
}


/*
 * (c) The keyring file disappears or becomes unreadable while the
 * service runs: 503 on every request and on /healthz, with a log line
 * that names the keyring; back in place, the service recovers.
 */
START_TEST(keyring_gone)
{
	char	 kr[700], away[700];
	long	 off;

	env_up(NULL, 2, 1);
	ck_assert_int_eq(store_one(E.tok_admin, "FAULT-kr-1", NULL, 0), 201);
	snprintf(kr, sizeof(kr), "%s/keyring", E.dir);
	snprintf(away, sizeof(away), "%s/keyring.away", E.dir);

	/* renamed away */
	off = file_size(E.errlog);
	ck_assert_int_eq(rename(kr, away), 0);
	assert_all_unavailable("keyring renamed away");
	ck_assert_msg(grep_from(E.errlog, off, kr),
	    "no log line names %s", kr);
	ck_assert_int_eq(rename(away, kr), 0);
	wait_healthy();
	ck_assert_int_eq(store_one(E.tok_admin, "FAULT-kr-2", NULL, 0), 201);

	/* unreadable even for root: a directory in its place */
	off = file_size(E.errlog);
	ck_assert_int_eq(rename(kr, away), 0);
	ck_assert_int_eq(mkdir(kr, 0700), 0);
	assert_all_unavailable("keyring a directory");
	ck_assert_msg(grep_from(E.errlog, off, kr),
	    "no log line names %s", kr);
	ck_assert_int_eq(rmdir(kr), 0);
	ck_assert_int_eq(rename(away, kr), 0);
	wait_healthy();
	ck_assert_uint_eq(count_records("acme"), 2);
	assert_verify();
	finish();
}
END_TEST

/*
 * (d) A world-readable (or group-writable) keyring is refused at start:
 * 503 on /healthz and on the API, and the log names the mode.  Fixed,
 * the service comes up without a restart.
 */
START_TEST(keyring_world_readable)
{
	static const struct {
		mode_t		 mode;
		const char	*text;
	} modes[] = {
		{ 0644, "keyring mode 0644" },
		{ 0604, "keyring mode 0604" },
		{ 0660, "keyring mode 0660" },
	};
	struct h_resp	 r;
	char		 kr[700];
	long		 off;
	size_t		 i;

	env_up(NULL, 2, 0);
	snprintf(kr, sizeof(kr), "%s/keyring", E.dir);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ck_assert_int_eq(chmod(kr, modes[i].mode), 0);
		off = file_size(E.errlog);
		ck_assert_int_eq(h_start_server(&E, 0), 503);
		req("GET", "/healthz", NULL, NULL, NULL, NULL, &r);
		assert_unavailable(&r, modes[i].text);
		ck_assert(strstr(r.body, "keyring") == NULL);	/* no detail */
		h_resp_free(&r);
		req("POST", SENTRY, E.tok_admin, JSON,
		    "{\"credentials\":{\"auth_token\":\"FAULT-mode\"}}",
		    NULL, &r);
		assert_unavailable(&r, modes[i].text);
		h_resp_free(&r);
		ck_assert_msg(grep_from(E.errlog, off, modes[i].text),
		    "the log does not name the mode: %s", modes[i].text);
		/* fixed: loading is retried, no restart needed */
		ck_assert_int_eq(chmod(kr, 0600), 0);
		wait_healthy();
		h_stop_server(&E);
	}
	ck_assert_uint_eq(count_records("acme"), 0);
	finish();
}
END_TEST

/*
 * The keyring becomes world-readable while the service runs: from the
 * next request on it is refused as it would be at start (503, the log
 * names the mode); closed again, the service comes back.
 */
START_TEST(keyring_opened_up_while_running)
{
	struct h_resp	 r;
	char		 kr[700];
	long		 off;

	env_up(NULL, 2, 1);
	ck_assert_int_eq(store_one(E.tok_admin, "FAULT-open-1", NULL, 0), 201);
	snprintf(kr, sizeof(kr), "%s/keyring", E.dir);
	off = file_size(E.errlog);
	ck_assert_int_eq(chmod(kr, 0644), 0);
	usleep(1100000);	/* a reload is tried at most once a second */
	assert_all_unavailable("keyring made world-readable");
	ck_assert_msg(grep_from(E.errlog, off, "keyring mode 0644"),
	    "the log does not name the mode");
	ck_assert_int_eq(chmod(kr, 0600), 0);
	wait_healthy();
	req("POST", SENTRY, E.tok_admin, JSON,
	    "{\"credentials\":{\"auth_token\":\"FAULT-open-2\"}}", NULL,
	    &r);
	ck_assert_int_eq(r.status, 201);
	h_resp_free(&r);
	ck_assert_uint_eq(count_records("acme"), 2);
	finish();
}
END_TEST

/* VmHWM (peak resident set) of a process, in KiB; -1 when unknown. */
static long
vmhwm_kib(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kib = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* 1 when the process's memory is not all ours: sanitizers, valgrind. */
static int
sanitized(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	return h_grep_file(path, "libasan") || h_grep_file(path, "libubsan") ||
	    h_grep_file(path, "libtsan") ||
	    getenv("CREDSTORE_FCGI_WRAPPER") != NULL;
}

/*
 * The room a sanitizer needs on top of the 8 MiB: ASan's quarantine keeps
 * freed memory; TSan adds its state for each thread that served one of
 * the requests (a FastCGI process has fcgi_threads of them).  In KiB.
 */
static long
sanitizer_room(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	if (h_grep_file(path, "libtsan"))
		return 96 * 1024;
	return sanitized(pid) ? 24 * 1024 : 8 * 1024;
}

/*
 * (e) A provider that sends 10 MiB, trickles its body, or closes in the
 * middle of its answer: each store ends within probe_timeout_ms + 1 s,
 * the FastCGI process's peak memory stays small, and the verdict is the
 * documented one.
 */
START_TEST(hostile_provider)
{
	static const struct {
		const char	*name;
		const char	*path;		/* store endpoint */
		const char	*body;
		const char	*status;	/* expected "status" */
	} cases[] = {
		/* slack needs the body (expect /ok): over 64 KiB, no verdict */
		{ "10 MiB body, verdict needs it",
		    "/v1/integrations/slack/credentials",
		  "{\"credentials\":{\"bot_token\":\"FAULT-big\"}}",
		      "unverified" },
		/* datadog decides by status: 200 is enough, the body is cut */
		{ "10 MiB body, verdict by status", DD,
		  "{\"credentials\":{\"api_key\":\"FAULT-big\","
		  "\"application_key\":\"FAULT-a\"}}", "validated" },
		{ "10 MiB body with 500", DD,
		  "{\"credentials\":{\"api_key\":\"FAULT-big500\","
		  "\"application_key\":\"FAULT-a\"}}", "unverified" },
		{ "trickled body", DD,
		  "{\"credentials\":{\"api_key\":\"FAULT-trickle\","
		  "\"application_key\":\"FAULT-a\"}}", "unverified" },
		{ "closed mid-response", DD,
		  "{\"credentials\":{\"api_key\":\"FAULT-close\","
		  "\"application_key\":\"FAULT-a\"}}", "unverified" },
	};
	struct h_resp		 r;
	struct json_object	*o;
	char			 route[1024], pad[1001];
	pid_t			 pids[8], pid0;
	long			 before[8], after;
	int			 np, i, round;
	size_t			 c;
	double			 limit = 1.5 + 1.0;	/* timeout + 1 s */

	env_up(NULL, 1, 1);
	memset(pad, 'x', 1000);
	pad[1000] = '\0';
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/auth.test\","
	    "\"match\":{\"header\":\"Authorization\",\"equals\":"
	    "\"Bearer FAULT-big\"},\"status\":200,\"mode\":\"big\","
	    "\"bigBytes\":10485760}"), 0);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"FAULT-big\"},"
	    "\"status\":200,\"mode\":\"big\",\"bigBytes\":10485760}"), 0);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"FAULT-big500\"},"
	    "\"status\":500,\"mode\":\"big\",\"bigBytes\":10485760}"), 0);
	snprintf(route, sizeof(route), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\","
	    "\"equals\":\"FAULT-trickle\"},"
	    "\"status\":200,\"mode\":\"trickle\",\"trickleMs\":100,"
	    "\"body\":\"%.100s\"}", pad);
	ck_assert_int_eq(h_mock_route(&E, route), 0);
	snprintf(route, sizeof(route), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"FAULT-close\"},"
	    "\"status\":200,\"mode\":\"close\",\"body\":\"%.400s\"}", pad);
	ck_assert_int_eq(h_mock_route(&E, route), 0);

	/* one ordinary store first: the baseline of the process's memory */
	ck_assert_int_eq(store_one(E.tok_admin, "FAULT-base", NULL, 0), 201);
	np = h_fcgi_pids(&E, pids, 8);
	ck_assert_int_eq(np, 1);
	pid0 = pids[0];
	before[0] = vmhwm_kib(pids[0]);
	for (round = 0; round < 3; round++)
		for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			req("POST", cases[c].path, E.tok_admin, JSON,
			    cases[c].body, NULL, &r);
			ck_assert_msg(r.status == 201, "%s: %ld %s",
			    cases[c].name, r.status, r.body);
			ck_assert_msg(r.seconds <= limit, "%s: %.2f s",
			    cases[c].name, r.seconds);
			o = h_json(&r);
			ck_assert_str_eq(json_object_get_string(
			    json_object_object_get(o, "status")),
			    cases[c].status);
			json_object_put(o);
			fprintf(stderr, "provider %s: %.2f s\n", cases[c].name,
			    r.seconds);
			h_resp_free(&r);
		}
	np = h_fcgi_pids(&E, pids, 8);
	ck_assert_int_eq(np, 1);
	ck_assert_msg(pids[0] == pid0, "the FastCGI process was restarted");
	for (i = 0; i < np; i++) {
		after = vmhwm_kib(pids[i]);
		fprintf(stderr,
		    "provider: FastCGI VmHWM %ld KiB before, %ld KiB "
		    "after\n", before[i], after);
		ck_assert(after > 0);
		/* the response bodies (10 MiB each) were never held */
		/* sanitizers keep memory of their own: more room */
		ck_assert_msg(after - before[i] < sanitizer_room(pids[i]),
		    "VmHWM grew by %ld KiB",
		    after - before[i]);
		if (!sanitized(pids[i]))
			ck_assert_msg(after < 32 * 1024, "VmHWM %ld KiB",
			    after);
	}
	finish();
}
END_TEST

/* One client of the kill test: n stores, one result line each. */
static void
kill_client(int client, int n, const char *tok, const char *out)
{
	FILE			*f = fopen(out, "w");
	struct h_resp		 r;
	struct json_object	*o;
	char			 body[256], key[128], hdr[160];
	const char		*h[] = { hdr, NULL };
	int			 j, rc;

	if (f == NULL)
		_exit(2);
	for (j = 0; j < n; j++) {
		snprintf(key, sizeof(key), "kill-%d-%d", client, j);
		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
		snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":"
		    "\"FAULT-dd-good\",\"application_key\":\"FAULT-k%d-%d\"}}",
		    client, j);
		rc = h_req(&E, "POST", DD, tok, JSON, body, h, &r);
		if (rc == 0 && r.status == 201 && (o = h_json(&r)) != NULL) {
			fprintf(f, "%s 201 %s %lld\n", key,
			    json_object_get_string(json_object_object_get(o,
			    "credentialId")), h_now_ms());
			json_object_put(o);
		} else
			fprintf(f, "%s %ld - %lld\n", key,
			    rc == 0 ? r.status : 0L, h_now_ms());
		fflush(f);
		h_resp_free(&r);
	}
	fclose(f);
	_exit(0);
}

#define KILL_CLIENTS	8
#define KILL_STORES	1000

struct kill_ev {
	long long	t;	/* ms, CLOCK_MONOTONIC, when the answer came */
	int		ok;	/* answered 201 */
};

static int
kill_ev_cmp(const void *a, const void *b)
{
	const struct kill_ev	*x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/*
 * How long the service was out during the kill test, from the m answers
 * of all clients (sorted here by time): an outage runs from the first
 * failed answer after a 201 to the next 201.  The count of 201s says little, because
 * the clients do not back off: a refused request takes a millisecond,
 * so one second without a back-end burns hundreds of stores.
 */
static void
kill_outage(struct kill_ev *ev, size_t m, long long *total,
    long long *longest, long long *span, int *outages)
{
	long long	 start = -1;
	size_t		 k;

	*total = *longest = *span = 0;
	*outages = 0;
	qsort(ev, m, sizeof(*ev), kill_ev_cmp);
	for (k = 0; k < m; k++) {
		if (!ev[k].ok && start < 0)
			start = ev[k].t;
		if ((ev[k].ok || k + 1 == m) && start >= 0) {
			*total += ev[k].t - start;
			if (ev[k].t - start > *longest)
				*longest = ev[k].t - start;
			(*outages)++;
			start = -1;
		}
	}
	if (m > 0)
		*span = ev[m - 1].t - ev[0].t;
}

/*
 * (f) kill -9 of FastCGI processes at random moments during 1,000 stores
 * from 8 clients.  Every 201 survives and decrypts; the records of the
 * tenant are the 201s plus, at most, stores whose answer was lost with
 * the killed process.  Each failed store is then retried with its
 * Idempotency-Key: afterwards there is exactly one record per key.
 */
START_TEST(kill9_under_load)
{
	pid_t		 kids[KILL_CLIENTS], pids[16];
	char		 out[KILL_CLIENTS][700], line[512], key[128], id[64];
	char		 path[300], *tok, *list = NULL, *p;
	char		(*ids)[64], (*failed)[128];
	long		 st, *fstat;
	int		 i, np, kills = 0, running, status;
	size_t		 n201 = 0, nfail = 0, nrec, unseen = 0, replayed = 0;
	size_t		 k, j, hist[6] = { 0 }, n503 = 0;
	long long	 out_ms, out_max, span_ms, t, t0;
	int		 outages;
	struct kill_ev	*ev;
	size_t		 nev = 0;
	FILE		*f;
	struct h_resp	 r;
	unsigned	 seed = (unsigned)time(NULL) ^ (unsigned)getpid();

#if defined(__SANITIZE_THREAD__) || defined(CS_TSAN)
	/*
	 * Under TSan this test once ended with a report in the server's
	 * output (an earlier CI run; the report was not kept, and 27 runs
	 * since found none: README, Known gaps).  It runs in the normal and
	 * ASan builds; CS_TSAN_KILL=1 runs it under TSan anyway, and the
	 * harness now copies any report into the test's output.
	 */
	if (getenv("CS_TSAN_KILL") == NULL) {
		fprintf(stderr, "kill9_under_load: SKIPPED under TSan\n");
		return;
	}
#endif
	env_up(getenv("KILL_CONF"), 4, 1);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"status\":200,\"body\":\"{}\"}"), 0);
	ck_assert_int_eq(h_admin(&E, &tok, "token", "--sub", "killer",
	    "--tenant", "kill", "--role", "admin", "--ttl", "7200", NULL), 0);
	tok[strcspn(tok, "\n")] = '\0';
	for (i = 0; i < KILL_CLIENTS; i++) {
		snprintf(out[i], sizeof(out[i]), "%s/kill-client-%d", E.dir, i);
		if ((kids[i] = fork()) == 0)
			kill_client(i, KILL_STORES / KILL_CLIENTS, tok, out[i]);
		ck_assert_int_gt(kids[i], 0);
	}
	/* kill a random FastCGI process every 50-500 ms while clients run */
	fprintf(stderr, "kill test: seed %u\n", seed);
	srand(seed);
	for (running = KILL_CLIENTS; running > 0; ) {
		usleep(50000 + (useconds_t)(rand() % 450000));
		np = h_fcgi_pids(&E, pids, 16);
		if (np > 0 && kill(pids[rand() % np], SIGKILL) == 0)
			kills++;
		for (i = 0, running = 0; i < KILL_CLIENTS; i++)
			if (kids[i] > 0) {
				if (waitpid(kids[i], &status,
				    WNOHANG) == kids[i])
					kids[i] = 0;
				else
					running++;
			}
	}
	wait_healthy();

	ids = calloc(KILL_STORES, sizeof(*ids));
	failed = calloc(KILL_STORES, sizeof(*failed));
	fstat = calloc(KILL_STORES, sizeof(*fstat));
	ck_assert_ptr_nonnull(ev = calloc(KILL_STORES, sizeof(*ev)));
	for (i = 0; i < KILL_CLIENTS; i++) {
		ck_assert_ptr_nonnull(f = fopen(out[i], "r"));
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "%127s %ld %63s %lld", key, &st, id,
			    &t) != 4)
				continue;
			if (nev < KILL_STORES) {
				ev[nev].t = t;
				ev[nev++].ok = st == 201;
			}
			if (st == 201) {
				snprintf(ids[n201++], sizeof(ids[0]), "%s", id);
				continue;
			}
			fstat[nfail] = st;
			snprintf(failed[nfail++], sizeof(failed[0]), "%s", key);
			hist[st >= 100 && st < 600 ? st / 100 : 0]++;
			if (st == 503)
				n503++;
		}
		fclose(f);
	}
	ck_assert_uint_eq(n201 + nfail, KILL_STORES);
	nrec = count_records("kill");
	/* records the clients never heard of */
	ck_assert_int_eq(h_admin(&E, &list, "list", "--tenant", "kill", NULL),
	    0);
	for (p = list; (p = strstr(p, "\"credentialId\":\"")) != NULL;
	    p += 16) {
		for (k = 0; k < n201; k++)
			if (strncmp(p + 16, ids[k], 30) == 0)
				break;
		if (k == n201)
			unseen++;
	}
	free(list);
	fprintf(stderr, "kill test: %d stores, %d kills, %zu answered 201, "
	    "%zu failed (%zu no answer, %zu 4xx, %zu 5xx of which %zu 503), "
	    "%zu records found, %zu committed without a 201\n",
	    KILL_STORES, kills, n201, nfail, hist[0], hist[4], hist[5], n503,
	    nrec, unseen);
	kill_outage(ev, nev, &out_ms, &out_max, &span_ms, &outages);
	fprintf(stderr, "kill test: out of service %lld ms of %lld ms in %d "
	    "outages, the longest %lld ms\n", out_ms, span_ms, outages,
	    out_max);
	/* a kill every 50-500 ms: how many depends on how fast the stores go */
	ck_assert_int_ge(kills, 2);
	ck_assert_uint_ge(nrec, n201);
	ck_assert_uint_le(nrec, n201 + nfail);
	ck_assert_uint_eq(nrec, n201 + unseen);
	/* every 201 is there and decrypts */
	t0 = h_now_ms();
	for (k = 0; k < n201; k++) {
		snprintf(path, sizeof(path), "%s/%s", DD, ids[k]);
		ck_assert_msg(h_req_recovered(&E, t0, "GET", path, tok, NULL,
		    NULL, NULL, &r) == 0, "GET %s: no answer but 502, 503 or "
		    "none from credstore after %d ms", path, H_RECOVER_MS);
		ck_assert_msg(r.status == 200, "%s lost: %ld %.300s", ids[k],
		    r.status, r.body != NULL ? r.body : "");
		h_resp_free(&r);
	}
	fprintf(stderr, "kill test: read back in %lld ms\n",
	    h_now_ms() - t0);
	assert_verify();

	/* the failed ones again, same key and body: one record per key */
	for (k = 0; k < nfail; k++) {
		char		 body[256], hdr[160];
		const char	*h[] = { hdr, NULL };
		int		 c, n;

		ck_assert_int_eq(sscanf(failed[k], "kill-%d-%d", &c, &n), 2);
		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", failed[k]);
		snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":"
		    "\"FAULT-dd-good\",\"application_key\":\"FAULT-k%d-%d\"}}",
		    c, n);
		req("POST", DD, tok, JSON, body, h, &r);
		ck_assert_msg(r.status == 201, "retry %s: %ld %s", failed[k],
		    r.status, r.body);
		if (h_header(&r, "Idempotent-Replayed") != NULL) {
			/* committed, but its first answer was lost */
			fprintf(stderr, "kill test: %s was stored although its "
			    "client got %ld: %s\n", failed[k], fstat[k],
			    h_header(&r, "Location"));
			replayed++;
		}
		h_resp_free(&r);
	}
	fprintf(stderr, "kill test: %zu retried, %zu of them replayed a "
	    "committed store\n", nfail, replayed);
	ck_assert_uint_eq(replayed, unseen);
	ck_assert_uint_eq(count_records("kill"), KILL_STORES);
	for (k = 0; k < n201; k++)
		for (j = k + 1; j < n201; j++)
			ck_assert_str_ne(ids[k], ids[j]);
	assert_verify();
	/* no process was left stuck by the ones that died */
	finish();
	free(ids);
	free(failed);
	free(fstat);
	free(ev);
	free(tok);
}
END_TEST

/*
 * A body of exactly n bytes for sentry: JSON or a form, the auth token
 * padded with 'x' to fill it (malloc'd).
 */
static char *
sized_body(int form, size_t n)
{
	static const char	 jpre[] = "{\"credentials\":{\"auth_token\":"
	    "\"SECRETVAL-limit-", jpost[] = "\"}}";
	static const char	 fpre[] = "credentials%5Bauth_token%5D="
	    "SECRETVAL-limit-";
	const char		*pre = form ? fpre : jpre, *post = form ? "" : jpost;
	size_t			 fixed = strlen(pre) + strlen(post);
	char			*b;

	ck_assert_uint_gt(n, fixed);
	ck_assert_ptr_nonnull(b = malloc(n + 1));
	memcpy(b, pre, strlen(pre));
	memset(b + strlen(pre), 'x', n - fixed);
	memcpy(b + n - strlen(post), post, strlen(post) + 1);
	ck_assert_uint_eq(strlen(b), n);
	return b;
}

#define LIMIT	2048

/*
 * max_body_bytes is the largest body accepted: exactly that many bytes
 * is stored (201), one more is 413 payload_too_large and stores nothing,
 * for JSON and for form bodies alike.
 */
START_TEST(body_limit_boundary)
{
	struct h_opts	 o = { .procs = 1, .max_body_bytes = LIMIT };
	struct h_resp	 r;
	char		*b;
	int		 form;
	size_t		 n;

	h_setup_stopped(&E, &o);
	live = 1;
	ck_assert_int_eq(h_start_server(&E, 200), 200);
	for (form = 0; form < 2; form++) {
		n = count_records("acme");
		b = sized_body(form, LIMIT);
		req("POST", SENTRY, E.tok_admin, form ? FORM : JSON, b, NULL, &r);
		ck_assert_msg(r.status == 201, "%s of %d bytes: %ld %s",
		    form ? "form" : "JSON", LIMIT, r.status, r.body);
		h_resp_free(&r);
		free(b);
		ck_assert_uint_eq(count_records("acme"), n + 1);
		b = sized_body(form, LIMIT + 1);
		req("POST", SENTRY, E.tok_admin, form ? FORM : JSON, b, NULL, &r);
		ck_assert_msg(r.status == 413, "%s of %d bytes: %ld %s",
		    form ? "form" : "JSON", LIMIT + 1, r.status, r.body);
		ck_assert_str_eq(h_errcode(&r), "payload_too_large");
		h_resp_free(&r);
		free(b);
		ck_assert_uint_eq(count_records("acme"), n + 1);
	}
	finish();
}
END_TEST

/* The id of tenant acme's datadog credential labelled label, into id. */
static void
find_labelled(const char *label, char id[64])
{
	struct h_resp	 r;
	char		 want[128];
	const char	*p;

	req("GET", "/v1/integrations/datadog/credentials?limit=100",
	    E.tok_admin, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "\"label\":\"%s\"", label);
	ck_assert_ptr_nonnull(p = strstr(r.body, want));
	while (p > r.body && strncmp(p, "\"credentialId\":\"", 16) != 0)
		p--;
	ck_assert_int_eq(strncmp(p, "\"credentialId\":\"", 16), 0);
	snprintf(id, 64, "%.30s", p + 16);
	h_resp_free(&r);
}

/*
 * A store in flight while its key is rotated away and retired (issue 12,
 * finding 1): the request loaded the keyring with k1 active, its provider
 * check takes 3 s, and meanwhile rotate-key and retire-key k1 run.  Its
 * commit finds k1 retired, seals again with k2, and the 201 names a record
 * that opens: verify passes, k1 is gone, and a re-test works.
 */
START_TEST(retire_during_store)
{
	struct h_opts	 o = { .procs = 1, .probe_timeout_ms = 20000 };
	struct h_resp	 r;
	pid_t		 kid;
	int		 st;
	char		*out, id[64], path[300];

	h_setup_stopped(&E, &o);
	live = 1;
	ck_assert_int_eq(h_start_server(&E, 200), 200);
	/* rotate-key and retire-key run in the check: far slower when
	 * sanitized (TSan), so the check is longer there */
	ck_assert_int_eq(h_mock_route(&E, h_sanitizer_build() ?
	    "{\"path\":\"/api/v2/validate_keys\","
	    "\"status\":200,\"delayMs\":12000,\"body\":\"{}\"}" :
	    "{\"path\":\"/api/v2/validate_keys\","
	    "\"status\":200,\"delayMs\":3000,\"body\":\"{}\"}"), 0);
	ck_assert_int_eq(h_admin(&E, &out, "keys", NULL), 0);
	ck_assert(strncmp(out, "k1 active", 9) == 0);
	free(out);
	if ((kid = fork()) == 0) {
		h_req(&E, "POST", "/v1/integrations/datadog/credentials",
		    E.tok_admin, JSON, "{\"credentials\":{\"api_key\":"
		    "\"SECRETVAL-dd-retire\",\"application_key\":\"SECRETVAL-ak\"},"
		    "\"label\":\"retire-race\"}", NULL, &r);
		fprintf(stderr, "retire_during_store: %ld %s\n", r.status,
		    r.body ? r.body : "");
		_exit(r.status == 201 && strstr(r.body, "\"validated\"") ? 0 : 1);
	}
	usleep(500000);		/* the store is in its provider check */
	ck_assert_int_eq(h_admin(&E, &out, "rotate-key", NULL), 0);
	ck_assert(strncmp(out, "k2\n", 3) == 0);
	free(out);
	ck_assert_int_eq(h_admin(&E, &out, "retire-key", "k1", NULL), 0);
	free(out);
	ck_assert_int_eq(waitpid(kid, &st, 0), kid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the store in flight did not answer 201 validated");
	/* the race happened: the commit found its key retired */
	ck_assert(h_grep_tree(E.dir, "key k1 was retired during the request"));
	ck_assert_int_eq(h_admin(&E, &out, "verify", NULL), 0);
	ck_assert_msg(strstr(out, "failed: 0") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(h_admin(&E, &out, "keys", NULL), 0);
	ck_assert_msg(strncmp(out, "k2 active ", 10) == 0 &&
	    strstr(out, " records=1\n") != NULL, "%s", out);
	ck_assert(strstr(out, "k1") == NULL);
	free(out);
	/* the record the 201 named opens: a re-test reaches the provider */
	find_labelled("retire-race", id);
	snprintf(path, sizeof(path), "/v1/integrations/datadog/credentials/%s/"
	    "validate", id);
	req("POST", path, E.tok_admin, NULL, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "re-test: %ld %s", r.status, r.body);
	h_resp_free(&r);
	finish();
}
END_TEST

/*
 * A provider whose answer never ends (64 KiB every 100 ms, 100 MiB in
 * all): the check stops reading at its 64 KiB cap and answers at once,
 * long before probe_timeout_ms (20 s here); it does not keep reading to
 * the timeout or the end.
 */
START_TEST(endless_body_not_read)
{
	struct h_opts	 o = { .procs = 1, .probe_timeout_ms = 20000 };
	struct h_resp	 r;

	h_setup_stopped(&E, &o);
	live = 1;
	ck_assert_int_eq(h_start_server(&E, 200), 200);
	ck_assert_int_eq(h_mock_route(&E, "{\"path\":\"/api/v2/validate_keys\","
	    "\"status\":200,\"mode\":\"big\",\"bigBytes\":104857600,"
	    "\"chunkMs\":100}"), 0);
	req("POST", "/v1/integrations/datadog/credentials", E.tok_admin, JSON,
	    "{\"credentials\":{\"api_key\":\"FAULT-endless\","
	    "\"application_key\":\"FAULT-ak\"}}", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_msg(r.seconds < 6.0, "the check read on for %.1f s", r.seconds);
	h_resp_free(&r);
	finish();
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	signal(SIGPIPE, SIG_IGN);
	s = suite_create("e2e_faults");
	/* one case per test: CK_RUN_CASE=disk_full runs that one alone */
#define CASE(t) do {							\
		tc = tcase_create(#t);					\
		tcase_set_timeout(tc, 600);				\
		tcase_add_checked_fixture(tc, NULL, env_down);		\
		tcase_add_test(tc, t);					\
		suite_add_tcase(s, tc);					\
	} while (0)
	CASE(readonly_data_dir);
	CASE(disk_full);
	CASE(keyring_gone);
	CASE(keyring_world_readable);
	CASE(keyring_opened_up_while_running);
	CASE(hostile_provider);
	CASE(kill9_under_load);
	CASE(body_limit_boundary);
	CASE(retire_during_store);
	CASE(endless_body_not_read);
#undef CASE
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
