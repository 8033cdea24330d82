/*
 * admin_revalidate: `credstore-admin revalidate` (SPEC section 7).  The
 * stored credentials, filtered by tenant, provider and the age of their
 * last validation, are tested again against their providers through the
 * credential service's re-test flow (credsvc_retest: the same status,
 * lastValidatedAt, check outcome and audit event as POST .../validate).
 *
 * N checks run at once in N worker processes.  The parent lists the
 * credentials and closes its Berkeley DB environment before it forks;
 * each worker then opens an environment of its own (SPEC section 8: one
 * DB_ENV per process, opened after any fork) and its own libcurl handle.
 * The parent hands out one credential at a time (its index in the list
 * both share since the fork) over a pipe, and reads each result back over
 * another; it alone writes stdout: one JSON line per credential, a
 * progress line on a terminal's stderr, the summary on stderr.
 *
 * Exit status: 0; 3 when any credential is now rejected; 1 when a
 * credential could not be re-tested for a fault of storage, keyring or
 * worker (this wins over 3), or on an interruption; 2 on bad usage.
 *
 * SIGINT, SIGTERM and SIGHUP (a Ctrl-C reaches the whole process group)
 * are ignored by the workers and stop the parent from handing out more
 * work: each worker finishes the check it holds, closes its environment
 * and exits, so that no process dies with the environment open and the
 * web processes never have to recover it.
 */
#include "cs_build.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "catalog.h"
#include "credsvc.h"
#include "probe.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#define RV_JOBS_DEFAULT	4
#define RV_JOBS_MAX	64
#define RV_LIST_MAX	(16UL * 1024 * 1024)	/* credentials in one run */
#define EX_REJECTED	3

/* One credential to test again. */
struct rv_job {
	char		*tenant;
	char		*provider;
	char		 id[CREDENTIAL_ID_LEN + 1];
	char		 before[STORE_STATUS_MAX];
};

/* What a worker sends back: one write, under PIPE_BUF. */
struct rv_result {
	uint32_t	 idx;
	int32_t		 rc;		/* enum credsvc_rc; -1: unknown provider */
	int32_t		 verdict;	/* enum probe_verdict */
	int64_t		 ms;
	char		 check[STORE_CHECK_MAX];
};

struct rv_opts {
	const char	*tenant, *provider;
	long		 older_than;	/* seconds; 0: every credential */
	long		 jobs;
};

struct rv_list {
	struct rv_job	*v;
	size_t		 n, cap, skipped;
	const char	*provider;	/* filter of a walk over every tenant */
	time_t		 newer;		/* validated after this: skipped */
	int		 full;
};

/* A worker as the parent sees it. */
struct rv_worker {
	pid_t		 pid;
	int		 job_fd, res_fd;	/* -1: closed */
	long		 busy;			/* the job it holds; -1: none */
};

struct rv_tally {
	size_t		 checked, validated, rejected, unreachable, failed;
	size_t		 done, total;
	int		 storage_error;
	int		 tty;
};

/* Set by SIGINT, SIGTERM or SIGHUP in the parent: hand out no more. */
static volatile sig_atomic_t rv_stop;

static void
rv_on_signal(int sig)
{
	(void)sig;
	rv_stop = 1;
}

/* The stop signals: to the handler (parent) or ignored (worker). */
static void
rv_signals(int worker)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction	 sa;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker ? SIG_IGN : rv_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* ------------------------------------------------------------ options */

/*
 * A duration: digits then s, m, h or d ("30m", "12h", "7d"), up to ten
 * years.  Seconds in *out: 0, or -1 when malformed.
 */
static int
parse_duration(const char *s, long *out)
{
	static const struct {
		char	 unit;
		long	 secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char	 num[16];
	size_t	 len = strlen(s), i;
	long	 n;

	if (len < 2 || len > sizeof(num))
		return -1;
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	for (i = 0; i < len - 1; i++)
		if (num[i] < '0' || num[i] > '9')
			return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit != s[len - 1])
			continue;
		if (parse_long(num, 1, 3650L * 86400 / units[i].secs, &n) == -1)
			return -1;
		*out = n * units[i].secs;
		return 0;
	}
	return -1;
}

/* One line on stderr, EX_USAGE. */
static int
rv_usage(const char *what, const char *arg)
{
	fprintf(stderr, "%s: revalidate: %s%s%s\n", admin_progname, what,
	    arg != NULL ? ": " : "", arg != NULL ? arg : "");
	return EX_USAGE;
}

/* The options into *o: 0, or EX_USAGE after the error line. */
static int
rv_parse(int argc, char **argv, struct rv_opts *o)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "provider", required_argument, NULL, 'p' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->jobs = RV_JOBS_DEFAULT;
	optind = 1;
	opterr = 0;		/* one error line, ours */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			o->tenant = optarg;
			if (*optarg == '\0' || strlen(optarg) > STORE_TENANT_MAX)
				return rv_usage("bad --tenant", NULL);
			break;
		case 'p':
			o->provider = optarg;
			if (validate_scalar(VK_PROVIDER, optarg,
			    strlen(optarg)) != NULL)
				return rv_usage("bad --provider", NULL);
			break;
		case 'o':
			if (parse_duration(optarg, &o->older_than) == -1)
				return rv_usage("--older-than wants a duration "
				    "such as 30m, 12h or 7d, not", optarg);
			break;
		case 'j':
			if (parse_long(optarg, 1, RV_JOBS_MAX, &o->jobs) == -1)
				return rv_usage("--jobs wants 1-64, not", optarg);
			break;
		default:
			return rv_usage("unknown option or missing value "
			    "(revalidate [--tenant T] [--provider P] "
			    "[--older-than DURATION] [--jobs N])",
			    argv[optind - 1]);
		}
	}
	if (optind != argc)
		return rv_usage("unexpected argument", argv[optind]);
	return 0;
}

/* ------------------------------------------------------------ the list */

static void
rv_list_free(struct rv_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].tenant);
		free(l->v[i].provider);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* store_cred_list's callback: a credential to test, or one skipped. */
static int
rv_collect(const struct cred_rec *r, void *arg)
{
	struct rv_list	*l = arg;
	struct rv_job	*j, *nv;
	size_t		 ncap;

	if (l->provider != NULL && strcmp(r->provider, l->provider) != 0)
		return 0;
	if (l->newer != 0 && r->validated > l->newer) {
		l->skipped++;
		return 0;
	}
	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 64;
		if (ncap > RV_LIST_MAX || (nv = reallocarray(l->v, ncap,
		    sizeof(*nv))) == NULL) {
			l->full = 1;
			return 1;
		}
		l->v = nv;
		l->cap = ncap;
	}
	j = &l->v[l->n];
	memset(j, 0, sizeof(*j));
	if ((j->tenant = strdup(r->tenant)) == NULL ||
	    (j->provider = strdup(r->provider)) == NULL) {
		free(j->tenant);
		l->full = 1;
		return 1;
	}
	snprintf(j->id, sizeof(j->id), "%s", r->id);
	snprintf(j->before, sizeof(j->before), "%s", r->status);
	l->n++;
	return 0;
}

/* Lists what to test, the environment closed again: 0 or EX_FAIL. */
static int
rv_list_load(struct config *cfg, struct keyring *kr, const struct rv_opts *o,
    struct rv_list *l)
{
	struct store	*st;
	enum store_rc	 rc;

	memset(l, 0, sizeof(*l));
	if (o->older_than > 0)
		l->newer = time(NULL) - o->older_than;
	/* without a tenant, a walk over all of them filtered here */
	l->provider = o->tenant == NULL ? o->provider : NULL;
	if (admin_open_store(cfg, &st) == -1)
		return EX_FAIL;
	admin_set_mac(st, kr);
	rc = store_cred_list(st, o->tenant, o->tenant ? o->provider : NULL,
	    NULL, (size_t)-1, rv_collect, l);
	admin_close_store(st);
	if (rc != STORE_OK)
		return admin_fail("revalidate: %s", store_strerror(rc));
	if (l->full)
		return admin_fail("revalidate: out of memory listing credentials");
	return EX_OK;
}

/* ------------------------------------------------------------- a worker */

/* Reads or writes exactly n bytes: 1, 0 at end of file, -1 on error. */
static int
full_io(int fd, void *p, size_t n, int writing)
{
	char	*c = p;
	ssize_t	 k;

	while (n > 0) {
		k = writing ? write(fd, c, n) : read(fd, c, n);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 ? 0 : -1;
		c += k;
		n -= (size_t)k;
	}
	return 1;
}

static int64_t
rv_now_ms(void)
{
	return (int64_t)(mono_ns() / 1000000);
}

/* One re-test, as POST .../validate does it. */
static void
rv_one(const struct credsvc *svc, const struct catalog *cat,
    const struct rv_job *j, struct rv_result *res)
{
	const struct cat_provider	*p;
	struct credsvc_actor		 who;
	struct probe_result		 pr;
	const char			*user = getenv("SUDO_USER");
	int64_t				 t0 = rv_now_ms();

	if (user == NULL)
		user = getenv("USER");
	memset(&pr, 0, sizeof(pr));
	who.tenant = j->tenant;
	who.subject = user != NULL ? user : admin_progname;
	who.client = admin_progname;
	if ((p = catalog_find(cat, j->provider)) == NULL)
		res->rc = -1;
	else
		res->rc = (int32_t)credsvc_retest(svc, &who, p, j->id, &pr);
	res->verdict = (int32_t)pr.verdict;
	if (res->rc == CSVC_OK || res->rc == CSVC_REJECTED)
		credsvc_check_text(&pr, res->check, sizeof(res->check));
	res->ms = rv_now_ms() - t0;
}

/*
 * A worker: its own environment and HTTP client, then one job per index
 * read from job_fd until it closes.  Never returns; never writes stdout.
 */
static void __attribute__((noreturn))
rv_worker_main(struct config *cfg, struct keyring *kr,
    const struct catalog *cat, const struct rv_list *l, int job_fd,
    int res_fd)
{
	struct credsvc		svc;
	struct store		*st;
	struct rv_result	res;
	uint32_t		idx;
	int			code = EX_OK;

	rv_signals(1);
	if (admin_open_store(cfg, &st) == -1)
		_exit(EX_FAIL);
	admin_set_mac(st, kr);
	memset(&svc, 0, sizeof(svc));
	svc.st = st;
	svc.kr = kr;
	svc.keyring_path = cfg->keyring;
	svc.po.timeout_ms = cfg->probe_timeout_ms;
	svc.po.origin_override = cfg->probe_origin_override;
	while (full_io(job_fd, &idx, sizeof(idx), 0) == 1 && idx < l->n) {
		memset(&res, 0, sizeof(res));
		res.idx = idx;
		rv_one(&svc, cat, &l->v[idx], &res);
		if (full_io(res_fd, &res, sizeof(res), 1) != 1) {
			code = EX_FAIL;
			break;
		}
	}
	probe_cleanup();
	admin_close_store(st);
	_exit(code);
}

/* ------------------------------------------------------------ the parent */

static void
rv_close(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/*
 * Forks n workers (w[0..n)); each child closes the parent's ends of the
 * workers before it.  The number started (0 when none could be).
 */
static size_t
rv_spawn(struct config *cfg, struct keyring *kr, const struct catalog *cat,
    const struct rv_list *l, struct rv_worker *w, size_t n)
{
	int	 jp[2], rp[2];
	size_t	 i, k;

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < n; i++) {
		if (pipe(jp) == -1)
			break;
		if (pipe(rp) == -1) {
			close(jp[0]);
			close(jp[1]);
			break;
		}
		if ((w[i].pid = fork()) == -1) {
			close(jp[0]);
			close(jp[1]);
			close(rp[0]);
			close(rp[1]);
			break;
		}
		if (w[i].pid == 0) {
			for (k = 0; k < i; k++) {
				rv_close(&w[k].job_fd);
				rv_close(&w[k].res_fd);
			}
			close(jp[1]);
			close(rp[0]);
			rv_worker_main(cfg, kr, cat, l, jp[0], rp[1]);
		}
		close(jp[0]);
		close(rp[1]);
		w[i].job_fd = jp[1];
		w[i].res_fd = rp[0];
		w[i].busy = -1;
	}
	if (i < n)
		admin_fail("revalidate: cannot start a worker: %s",
		    errstr(errno));
	return i;
}

/* The line of one credential on stdout; counts it. */
static void
rv_report(const struct rv_job *j, const struct rv_result *res,
    struct rv_tally *t)
{
	struct json_object	*o = json_object_new_object(), *ck;
	const char		*after = NULL, *err = NULL, *colon;

	if (res->rc == CSVC_OK || res->rc == CSVC_REJECTED) {
		after = credsvc_status_name((enum probe_verdict)res->verdict);
		t->checked++;
		if (res->verdict == PROBE_VALID)
			t->validated++;
		else if (res->verdict == PROBE_REJECTED)
			t->rejected++;
		else
			t->unreachable++;
	} else {
		t->failed++;
		err = res->rc == -1 ? "unknown_provider" :
		    res->rc == CSVC_NOTFOUND ? "not_found" :
		    res->rc == CSVC_CONFLICT ? "changed" :
		    res->rc == CSVC_LIMITED ? "limited" : "storage_error";
		if (strcmp(err, "storage_error") == 0)
			t->storage_error = 1;
	}
	json_object_object_add(o, "credentialId", json_object_new_string(j->id));
	json_object_object_add(o, "tenant", json_object_new_string(j->tenant));
	json_object_object_add(o, "provider",
	    json_object_new_string(j->provider));
	json_object_object_add(o, "before", json_object_new_string(j->before));
	json_object_object_add(o, "after",
	    after ? json_object_new_string(after) : NULL);
	json_object_object_add(o, "ms", json_object_new_int64(res->ms));
	ck = NULL;
	if (after != NULL) {
		ck = json_object_new_object();
		colon = strchr(res->check, ':');
		json_object_object_add(ck, "result", json_object_new_string_len(
		    res->check, colon ? (int)(colon - res->check) :
		    (int)strnlen(res->check, sizeof(res->check))));
		if (colon != NULL)
			json_object_object_add(ck, "reason",
			    json_object_new_string(colon + 1));
	}
	json_object_object_add(o, "check", ck);
	if (err != NULL)
		json_object_object_add(o, "error", json_object_new_string(err));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	t->done++;
	if (t->tty)
		fprintf(stderr, "\rrevalidate: %zu/%zu", t->done, t->total);
}

/* Gives worker w the next job, or closes its job pipe when none is left. */
static void
rv_dispatch(struct rv_worker *w, size_t *next, size_t n)
{
	uint32_t idx;

	w->busy = -1;
	if (!rv_stop && *next < n && w->job_fd != -1) {
		idx = (uint32_t)*next;
		if (full_io(w->job_fd, &idx, sizeof(idx), 1) == 1) {
			w->busy = (long)*next;
			(*next)++;
			return;
		}
	}
	rv_close(&w->job_fd);
}

/* Worker w ended (or broke): its job, if it held one, failed. */
static void
rv_lost(struct rv_worker *w, const struct rv_list *l, struct rv_tally *t)
{
	struct rv_result res;

	if (w->busy >= 0) {
		memset(&res, 0, sizeof(res));
		res.idx = (uint32_t)w->busy;
		res.rc = CSVC_UNAVAILABLE;
		rv_report(&l->v[w->busy], &res, t);
	}
	w->busy = -1;
	rv_close(&w->job_fd);
	rv_close(&w->res_fd);
}

/* Hands out every job and reads every result; the workers then end. */
static void
rv_run(struct rv_worker *w, size_t nw, const struct rv_list *l,
    struct rv_tally *t)
{
	struct pollfd		pfd[RV_JOBS_MAX];
	struct rv_result	res;
	size_t			next = 0, i, live;
	int			k;

	for (i = 0; i < nw; i++)
		rv_dispatch(&w[i], &next, l->n);
	for (;;) {
		for (i = 0, live = 0; i < nw; i++) {
			pfd[i].fd = w[i].res_fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			live += w[i].res_fd != -1;
		}
		if (live == 0)
			break;
		if ((k = poll(pfd, nw, -1)) == -1 && errno == EINTR) {
			for (i = 0; rv_stop && i < nw; i++)
				if (w[i].busy < 0)	/* idle: let it end */
					rv_close(&w[i].job_fd);
			continue;
		}
		for (i = 0; k > 0 && i < nw; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (full_io(w[i].res_fd, &res, sizeof(res), 0) != 1 ||
			    (long)res.idx != w[i].busy) {
				rv_lost(&w[i], l, t);
				continue;
			}
			res.check[sizeof(res.check) - 1] = '\0';
			rv_report(&l->v[res.idx], &res, t);
			rv_dispatch(&w[i], &next, l->n);
		}
	}
	/* jobs no worker could take (every worker gone); none when stopped */
	for (; !rv_stop && next < l->n; next++) {
		memset(&res, 0, sizeof(res));
		res.rc = CSVC_UNAVAILABLE;
		rv_report(&l->v[next], &res, t);
	}
}

/* Waits for the workers; 1 when any ended other than with 0. */
static int
rv_reap(struct rv_worker *w, size_t nw)
{
	size_t	i;
	int	st, bad = 0;

	for (i = 0; i < nw; i++) {
		while (waitpid(w[i].pid, &st, 0) == -1 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	}
	return bad;
}

/* Runs the list in min(jobs, n) workers; the exit status. */
static int
rv_execute(struct config *cfg, struct keyring *kr, const struct catalog *cat,
    const struct rv_list *l, long jobs)
{
	struct rv_worker	w[RV_JOBS_MAX];
	struct rv_tally		t;
	size_t			nw = 0, want;

	memset(&t, 0, sizeof(t));
	t.total = l->n;
	t.tty = isatty(STDERR_FILENO);
	want = l->n < (size_t)jobs ? l->n : (size_t)jobs;
	if (want > 0 && (nw = rv_spawn(cfg, kr, cat, l, w, want)) == 0)
		return EX_FAIL;
	rv_run(w, nw, l, &t);
	if (rv_reap(w, nw))
		t.storage_error = 1;
	if (t.tty && t.done > 0)
		fputc('\n', stderr);
	fprintf(stderr, "revalidate: %zu checked, %zu validated, %zu rejected, "
	    "%zu unreachable, %zu skipped, %zu failed\n", t.checked,
	    t.validated, t.rejected, t.unreachable, l->skipped, t.failed);
	if (rv_stop)
		return admin_fail("revalidate: interrupted after %zu of %zu",
		    t.done, t.total);
	if (t.storage_error)
		return EX_FAIL;
	return t.rejected > 0 ? EX_REJECTED : EX_OK;
}

int
admin_cmd_revalidate(struct config *cfg, int argc, char **argv)
{
	struct rv_opts	 o;
	struct rv_list	 l;
	struct keyring	*kr;
	struct catalog	*cat;
	char		 err[512];
	int		 rc;

	if ((rc = rv_parse(argc, argv, &o)) != 0)
		return rc;
	if ((cat = catalog_load(cfg->catalog, err, sizeof(err))) == NULL)
		return admin_fail("%s", err);
	if (keyring_load(cfg->keyring, &kr, err, sizeof(err)) == -1) {
		catalog_free(cat);
		return admin_fail("%s", err);
	}
	rv_signals(0);
	/* the environment is closed again before any worker is forked */
	if ((rc = rv_list_load(cfg, kr, &o, &l)) == EX_OK)
		rc = rv_execute(cfg, kr, cat, &l, o.jobs);
	rv_list_free(&l);
	keyring_free(kr);
	catalog_free(cat);
	return rc;
}
