/*
 * bdb_commit: the storage ceiling of the benchmark.  Opens a Berkeley DB
 * environment with exactly the settings and open flags of credstore's
 * src/store.c env_open(), one B-tree, and commits transactions that each
 * put one new record of the size of a stored credential, from one or
 * more processes.  Each process opens its own environment after the
 * fork, as credstore's FastCGI and CGI processes do, so several
 * processes show Berkeley DB's group commit.
 *
 * usage: bdb_commit -h HOME [-p PROCS] [-t SECONDS | -n COMMITS]
 *                   [-s RECORD_BYTES] [-d sync|write_nosync|nosync]
 *
 * Prints one line: procs=.. commits=.. seconds=.. rate=.. p50_ms=..
 * p99_ms=.. (rate in commits a second, over all processes; latency of
 * one begin+put+commit).  Exit 0 on success, 1 on a storage error, 2 on
 * bad usage.
 */
#define _DEFAULT_SOURCE	/* sigaction, MAP_ANONYMOUS: glibc in -std=c11 */

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#define PROCS_MAX	64
#define BUCKET_US	10		/* latency histogram resolution */
#define BUCKETS		20000		/* 0 .. 200 ms, then one overflow */
#define RECORD_MAX	65536
#define TXN_RETRIES	12		/* as src/dbenv.c */

enum dur {
	DUR_SYNC,
	DUR_WRITE_NOSYNC,
	DUR_NOSYNC
};

/* One per process, in memory shared with the parent. */
struct slot {
	uint64_t	commits;
	double		seconds;
	int		failed;
	uint64_t	hist[BUCKETS + 1];
};

/* Tells the parent this process is ready (r) or gave up (f). */
static void
signal_ready(int fd, char c)
{
	while (write(fd, &c, 1) == -1 && errno == EINTR)
		;
}

static pid_t	kids[PROCS_MAX];
static int	nkids;

/* The parent passes SIGTERM and SIGINT on to its processes. */
static void
on_term(int sig)
{
	int i;

	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
isalive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	(void)env;
	(void)tid;
	(void)flags;
	return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM;
}

static void
errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	fprintf(stderr, "bdb_commit: %s%s%s\n", pfx ? pfx : "", pfx ? ": " : "",
	    msg);
}

/*
 * The settings and flags of src/store.c env_open(), one database
 * "bench.db".  Returns 0, or -1 with a message on stderr.
 */
static int
env_open(const char *home, enum dur dur, DB_ENV **envp, DB **dbp)
{
	DB_ENV		*env = NULL;
	DB		*db = NULL;
	DB_TXN		*txn = NULL;
	u_int32_t	 flags;
	int		 rc;

	if ((rc = db_env_create(&env, 0)) != 0)
		goto fail;
	env->set_errcall(env, errcall);
	env->set_errpfx(env, home);
	if ((rc = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (rc = env->set_timeout(env, 3 * 1000000, DB_SET_LOCK_TIMEOUT)) != 0 ||
	    (rc = env->set_cachesize(env, 0, 2 * 1024 * 1024, 1)) != 0 ||
	    (rc = env->set_thread_count(env, 256)) != 0 ||
	    (rc = env->set_isalive(env, isalive)) != 0)
		goto fail;
	if (dur == DUR_WRITE_NOSYNC &&
	    (rc = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0)
		goto fail;
	if (dur == DUR_NOSYNC &&
	    (rc = env->set_flags(env, DB_TXN_NOSYNC, 1)) != 0)
		goto fail;
	flags = DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_THREAD | DB_REGISTER | DB_RECOVER | DB_FAILCHK;
	if ((rc = env->open(env, home, flags, 0600)) != 0)
		goto fail;
	if ((rc = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 0)) != 0)
		goto fail;
	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
		goto fail;
	if ((rc = db_create(&db, env, 0)) != 0)
		goto fail;
	if ((rc = db->open(db, txn, "bench.db", NULL, DB_BTREE,
	    DB_CREATE | DB_THREAD, 0600)) != 0)
		goto fail;
	rc = txn->commit(txn, 0);
	txn = NULL;
	if (rc != 0)
		goto fail;
	*envp = env;
	*dbp = db;
	return 0;
fail:
	fprintf(stderr, "bdb_commit: %s: %s\n", home, db_strerror(rc));
	if (txn != NULL)
		txn->abort(txn);
	if (db != NULL)
		db->close(db, 0);
	if (env != NULL)
		env->close(env, 0);
	return -1;
}

/*
 * One process's loop: opens its environment, says so on ready, waits
 * for the start signal (EOF on gate), then commits until the deadline or
 * the count, recording each latency.
 */
static void
run(const char *home, enum dur dur, int ready, int gate, int idx,
    double secs, uint64_t count, size_t recsz, struct slot *s)
{
	DB_ENV		*env;
	DB		*db;
	DB_TXN		*txn;
	DBT		 k, d;
	char		 key[96], *val, c;
	double		 t0, t1, t, end;
	uint64_t	 us;
	size_t		 i;
	int		 rc, klen, attempt;

	s->failed = 1;
	if ((val = malloc(recsz)) == NULL) {
		signal_ready(ready, 'f');
		return;
	}
	/* printable, like the JSON of a stored credential */
	for (i = 0; i < recsz; i++)
		val[i] = (char)('A' + (i * 7 + (size_t)idx) % 26);
	if (env_open(home, dur, &env, &db) == -1) {
		signal_ready(ready, 'f');
		free(val);
		return;
	}
	signal_ready(ready, 'r');
	while (read(gate, &c, 1) == -1 && errno == EINTR)
		;
	t0 = now();
	end = t0 + secs;
	for (;;) {
		if (count > 0 ? s->commits >= count : now() >= end)
			break;
		/* tenant \0 provider \0 id, like credentials.db keys */
		klen = snprintf(key, sizeof(key),
		    "bench-tenant%cbench%ccrd_%08d%016llu", '\0', '\0',
		    (int)getpid(), (unsigned long long)s->commits);
		if (klen < 0 || (size_t)klen >= sizeof(key))
			goto out;
		memcpy(val, key + klen - 16, 16);
		memset(&k, 0, sizeof(k));
		memset(&d, 0, sizeof(d));
		k.data = key;
		k.size = (u_int32_t)klen;
		d.data = val;
		d.size = (u_int32_t)recsz;
		t = now();
		/* a deadlock (4 processes splitting the same pages) is
		 * retried, as credstore's transactions are (src/dbenv.c) */
		for (attempt = 0; ; attempt++) {
			if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
				goto dberr;
			if ((rc = db->put(db, txn, &k, &d,
			    DB_NOOVERWRITE)) == 0) {
				if ((rc = txn->commit(txn, 0)) == 0)
					break;
			} else
				txn->abort(txn);
			if (rc != DB_LOCK_DEADLOCK || attempt >= TXN_RETRIES)
				goto dberr;
		}
		t1 = now();
		us = (uint64_t)((t1 - t) * 1e6);
		s->hist[us / BUCKET_US < BUCKETS ? us / BUCKET_US : BUCKETS]++;
		s->commits++;
	}
	s->seconds = now() - t0;
	s->failed = 0;
	goto out;
dberr:
	fprintf(stderr, "bdb_commit: commit: %s\n", db_strerror(rc));
out:
	db->close(db, 0);
	env->close(env, 0);
	free(val);
}

/* The q-quantile of the merged histogram, in milliseconds. */
static double
quantile(const uint64_t *h, uint64_t total, double q)
{
	uint64_t	want = (uint64_t)((double)total * q), seen = 0;
	size_t		i;

	for (i = 0; i <= BUCKETS; i++) {
		seen += h[i];
		if (seen > want)
			return (double)((i + 1) * BUCKET_US) / 1000.0;
	}
	return (double)(BUCKETS * BUCKET_US) / 1000.0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bdb_commit -h HOME [-p PROCS] "
	    "[-t SECONDS | -n COMMITS] [-s RECORD_BYTES] "
	    "[-d sync|write_nosync|nosync]\n");
	exit(2);
}

static long long
num(const char *s, long long lo, long long hi)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	const char	*home = NULL;
	enum dur	 dur = DUR_SYNC;
	int		 procs = 1, ch, i, gate[2], ready[2], st, bad = 0;
	char		 c;
	double		 secs = 10, maxsecs = 0;
	uint64_t	 count = 0, total = 0, *hist;
	size_t		 recsz = 600;
	struct slot	*slots;
	struct sigaction sa;
	DB_ENV		*env;
	DB		*db;
	struct stat	 sb;

	while ((ch = getopt(argc, argv, "h:p:t:n:s:d:")) != -1) {
		switch (ch) {
		case 'h':
			home = optarg;
			break;
		case 'p':
			procs = (int)num(optarg, 1, PROCS_MAX);
			break;
		case 't':
			secs = (double)num(optarg, 1, 86400);
			break;
		case 'n':
			count = (uint64_t)num(optarg, 1, 1000000000LL);
			break;
		case 's':
			recsz = (size_t)num(optarg, 16, RECORD_MAX);
			break;
		case 'd':
			if (strcmp(optarg, "sync") == 0)
				dur = DUR_SYNC;
			else if (strcmp(optarg, "write_nosync") == 0)
				dur = DUR_WRITE_NOSYNC;
			else if (strcmp(optarg, "nosync") == 0)
				dur = DUR_NOSYNC;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (home == NULL || optind != argc)
		usage();
	if (stat(home, &sb) == -1 && mkdir(home, 0700) == -1) {
		fprintf(stderr, "bdb_commit: %s: %s\n", home, strerror(errno));
		return 1;
	}
	/* create the environment and database once, as credstore-admin init */
	if (env_open(home, dur, &env, &db) == -1)
		return 1;
	db->close(db, 0);
	env->close(env, 0);

	slots = mmap(NULL, sizeof(*slots) * (size_t)procs,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED || pipe(gate) == -1 || pipe(ready) == -1) {
		fprintf(stderr, "bdb_commit: %s\n", strerror(errno));
		return 1;
	}
	memset(slots, 0, sizeof(*slots) * (size_t)procs);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < procs; i++) {
		if ((kids[i] = fork()) == -1) {
			fprintf(stderr, "bdb_commit: fork: %s\n", strerror(errno));
			on_term(SIGTERM);
		}
		if (kids[i] == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			close(gate[1]);
			close(ready[0]);
			run(home, dur, ready[1], gate[0], i, secs, count, recsz,
			    &slots[i]);
			_exit(slots[i].failed);
		}
		nkids = i + 1;
	}
	/* let every process open its environment, then start them at once */
	close(ready[1]);
	for (i = 0; i < procs; i++)
		if (read(ready[0], &c, 1) != 1)
			break;
	close(ready[0]);
	close(gate[1]);
	for (i = 0; i < procs; i++)
		if (waitpid(kids[i], &st, 0) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bad = 1;
	hist = slots[0].hist;
	for (i = 0; i < procs; i++) {
		total += slots[i].commits;
		if (slots[i].seconds > maxsecs)
			maxsecs = slots[i].seconds;
		if (i > 0) {
			size_t b;

			for (b = 0; b <= BUCKETS; b++)
				hist[b] += slots[i].hist[b];
		}
	}
	if (bad || total == 0 || maxsecs <= 0) {
		fprintf(stderr, "bdb_commit: a process failed\n");
		return 1;
	}
	printf("procs=%d commits=%llu seconds=%.3f rate=%.1f p50_ms=%.3f "
	    "p99_ms=%.3f record_bytes=%zu durability=%s\n", procs,
	    (unsigned long long)total, maxsecs, (double)total / maxsecs,
	    quantile(hist, total, 0.50), quantile(hist, total, 0.99), recsz,
	    dur == DUR_SYNC ? "sync" : dur == DUR_WRITE_NOSYNC ?
	    "write_nosync" : "nosync");
	return 0;
}
