/*
 * bdb_store: the fair storage ceiling of a credential store (issue #14).
 * Raw Berkeley DB transactions that do exactly the reads and writes of
 * one credstore store (src/store.c create_body, src/audit.c
 * audit_append), with the environment of src/dbenv.c, from one or more
 * processes:
 *
 *   - the idempotency record (-i BYTES): get for update, then put
 *     (idem_claim; only when the request carries an Idempotency-Key);
 *   - the per-tenant count in meta.db: get for update, and with -c (a
 *     max_credentials_per_tenant cap) a put of 8 bytes (count_move);
 *   - the credential record in credentials.db, key tenant\0provider\0
 *     crd_ULID (time-ordered), put with DB_NOOVERWRITE;
 *   - the audit append: a cursor on the last record of audit.db for
 *     update, a put of the next big-endian sequence number, and the
 *     chain head (72 bytes) in meta.db (audit_append, audit_put_head);
 *   - the retired-key check: a get for update in meta.db (key_retired);
 *   - the commit with the environment's durability, then the checkpoint
 *     decision of dbenv_checkpoint (log_stat, txn_stat, a checkpoint per
 *     MiB of log or 5 minutes); with sync, as dbenv_run_txn does it since
 *     issue 14, the commit does not sync (DB_TXN_NOSYNC: its locks go at
 *     once) and DB_ENV->log_flush follows, shared by concurrent stores.
 * A deadlock aborts and retries the transaction, as dbenv_run_txn does.
 * No JSON, no MAC, no sealing: only what Berkeley DB does.
 *
 * usage: bdb_store -h HOME [-p PROCS] [-t SECONDS | -n COMMITS]
 *                  [-s CRED_BYTES] [-a AUDIT_BYTES] [-i IDEM_BYTES] [-c]
 *                  [-d sync|write_nosync|nosync]
 *
 * Prints one line: procs=.. commits=.. seconds=.. rate=.. p50_ms=..
 * p99_ms=.. retries=.. (rate in stores a second over all processes;
 * latency of one begin..commit and checkpoint decision, retries
 * included).  Exit 0 on success, 1 on a storage error, 2 on bad usage.
 */
#define _DEFAULT_SOURCE	/* sigaction, MAP_ANONYMOUS, fallocate: glibc */
#define _GNU_SOURCE

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
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
#define TXN_RETRIES	8		/* dbenv.c */
#define CKP_BYTES	(1024 * 1024)	/* dbenv.c */
#define CKP_SECONDS	300
#define HEAD_LEN	(8 + 2 * 32)	/* audit.c: seq, chain MAC, head MAC */
#define TENANT		"bench"		/* bench.sh's store-sync token */
#define PROVIDER	"openai"
#define KEY_ID		"k1"		/* the key id of credstore-admin init */

enum dur {
	DUR_SYNC,
	DUR_WRITE_NOSYNC,
	DUR_NOSYNC
};

/* The databases of src/dbenv.c, in its order. */
enum dbi {
	DBI_CREDS = 0,
	DBI_IDEM,
	DBI_AUDIT,
	DBI_CONN,
	DBI_META,
	DBI__MAX
};

static const char *const db_files[DBI__MAX] = {
	"credentials.db", "idempotency.db", "audit.db", "connections.db",
	"meta.db",
};

struct opts {
	const char	*home;
	enum dur	 dur;
	double		 secs;
	uint64_t	 count;
	size_t		 cred, audit, idem;
	int		 counted;
};

/* One per process, in memory shared with the parent. */
struct slot {
	uint64_t	commits;
	uint64_t	retries;
	double		seconds;
	int		failed;
	uint64_t	hist[BUCKETS + 1];
};

static pid_t	kids[PROCS_MAX];
static int	nkids;

static void
signal_ready(int fd, char c)
{
	while (write(fd, &c, 1) == -1 && errno == EINTR)
		;
}

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

static void
errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	fprintf(stderr, "bdb_store: %s%s%s\n", pfx ? pfx : "", pfx ? ": " : "",
	    msg);
}

/* dbenv.c reserve_regions: blocks of every mapped region file reserved. */
static void
reserve_regions(const char *home)
{
	FILE		*f;
	char		 line[4608], path[4096];
	unsigned long	 lo, hi;
	size_t		 hl = strlen(home);
	int		 fd;

	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &lo, &hi,
		    path) != 3 || strncmp(path, home, hl) != 0 ||
		    strncmp(path + hl, "/__db.", 6) != 0 ||
		    strcmp(path + hl, "/__db.register") == 0)
			continue;
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
			continue;
		(void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)(hi - lo));
		close(fd);
	}
	fclose(f);
}

/*
 * The settings and flags of src/dbenv.c env_configure() and env_open(),
 * the five databases opened in one transaction.  0, or -1 with a message.
 */
static int
env_open(const char *home, enum dur dur, DB_ENV **envp, DB *db[DBI__MAX])
{
	DB_ENV		*env = NULL;
	DB_TXN		*txn = NULL;
	u_int32_t	 flags;
	int		 rc, i;

	memset(db, 0, sizeof(*db) * DBI__MAX);
	if ((rc = db_env_create(&env, 0)) != 0)
		goto fail;
	env->set_errcall(env, errcall);
	env->set_errpfx(env, home);
	if ((rc = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (rc = env->set_timeout(env, 3 * 1000000, DB_SET_LOCK_TIMEOUT)) != 0 ||
	    (rc = env->set_cachesize(env, 0, 2 * 1024 * 1024, 1)) != 0 ||
	    (rc = env->mutex_set_max(env, 8192)) != 0 ||
	    (rc = env->set_flags(env, DB_REGION_INIT, 1)) != 0)
		goto fail;
	if (dur == DUR_WRITE_NOSYNC &&
	    (rc = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0)
		goto fail;
	if (dur == DUR_NOSYNC &&
	    (rc = env->set_flags(env, DB_TXN_NOSYNC, 1)) != 0)
		goto fail;
	flags = DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_THREAD | DB_REGISTER | DB_RECOVER;
	if ((rc = env->open(env, home, flags, 0600)) != 0)
		goto fail;
	reserve_regions(home);
	if ((rc = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0)
		goto fail;
	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
		goto fail;
	for (i = 0; i < DBI__MAX; i++) {
		if ((rc = db_create(&db[i], env, 0)) != 0 ||
		    (rc = db[i]->open(db[i], txn, db_files[i], NULL, DB_BTREE,
		    DB_CREATE | DB_THREAD, 0600)) != 0)
			goto fail;
	}
	rc = txn->commit(txn, DB_TXN_NOSYNC);
	txn = NULL;
	if (rc != 0)
		goto fail;
	*envp = env;
	return 0;
fail:
	fprintf(stderr, "bdb_store: %s: %s\n", home, db_strerror(rc));
	if (txn != NULL)
		txn->abort(txn);
	for (i = 0; i < DBI__MAX; i++)
		if (db[i] != NULL)
			db[i]->close(db[i], DB_NOSYNC);
	if (env != NULL)
		env->close(env, 0);
	return -1;
}

static void
env_close(DB_ENV *env, DB *db[DBI__MAX])
{
	int i;

	for (i = 0; i < DBI__MAX; i++)
		db[i]->close(db[i], DB_NOSYNC);
	env->close(env, 0);
}

static void
dbt(DBT *t, const void *p, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->data = (void *)(uintptr_t)p;
	t->size = (u_int32_t)n;
}

/* A get for update (DB_RMW) as credstore's: the value malloc'd, freed. */
static int
get_rmw(DB *db, DB_TXN *txn, const void *key, size_t klen)
{
	DBT	k, d;
	int	rc;

	dbt(&k, key, klen);
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_MALLOC;
	rc = db->get(db, txn, &k, &d, DB_RMW);
	if (rc == 0)
		free(d.data);
	return rc;
}

static int
put(DB *db, DB_TXN *txn, const void *key, size_t klen, const void *val,
    size_t vlen, u_int32_t flags)
{
	DBT k, d;

	dbt(&k, key, klen);
	dbt(&d, val, vlen);
	return db->put(db, txn, &k, &d, flags);
}

/* a \0 b \0 c, as dbenv_key; the length. */
static size_t
mkkey(char *buf, size_t n, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a) + 1, lb = strlen(b) + 1, lc = strlen(c);

	if (la + lb + lc > n)
		abort();
	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	memcpy(buf + la + lb, c, lc);
	return la + lb + lc;
}

/* A ULID: 48-bit milliseconds, 80 random bits, Crockford base32. */
static void
ulid(char out[27], uint64_t *rnd)
{
	static const char	alpha[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	struct timespec		ts;
	unsigned char		b[16];
	uint64_t		t;
	int			i, j, bit, v;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (i = 5; i >= 0; i--, t >>= 8)
		b[i] = (unsigned char)(t & 0xff);
	for (i = 6; i < 16; i++) {
		*rnd ^= *rnd << 13;
		*rnd ^= *rnd >> 7;
		*rnd ^= *rnd << 17;
		b[i] = (unsigned char)(*rnd >> 32);
	}
	for (i = 0; i < 26; i++) {
		v = 0;
		for (j = 0; j < 5; j++) {
			bit = i * 5 + j - 2;
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = alpha[v];
	}
	out[26] = '\0';
}

/* The bodies of one store, each a buffer of its record size. */
struct bufs {
	char		*cred, *audit, *idem;
	uint64_t	 rnd;
};

/* audit_append: the last record for update, the next one, the head. */
static int
audit_append(DB *db[DBI__MAX], DB_TXN *txn, const struct opts *o,
    struct bufs *b)
{
	DBC		*c;
	DBT		 k, d;
	unsigned char	 kb[8], head[HEAD_LEN];
	uint64_t	 seq = 0;
	int		 rc, i;

	if ((rc = db[DBI_AUDIT]->cursor(db[DBI_AUDIT], txn, &c, 0)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	rc = c->get(c, &k, &d, DB_LAST | DB_RMW);
	if (rc == 0 && k.size == 8)
		for (i = 0; i < 8; i++)
			seq = seq << 8 | ((unsigned char *)k.data)[i];
	c->close(c);
	if (rc != 0 && rc != DB_NOTFOUND)
		return rc;
	seq++;
	for (i = 7; i >= 0; i--, seq >>= 8)
		kb[i] = (unsigned char)(seq & 0xff);
	memcpy(b->audit + 8, kb, 8);	/* the JSON holds its seq */
	if ((rc = put(db[DBI_AUDIT], txn, kb, sizeof(kb), b->audit, o->audit,
	    DB_NOOVERWRITE)) != 0)
		return rc;
	memset(head, 0, sizeof(head));
	memcpy(head, kb, 8);
	memcpy(head + 8, b->audit, 16);
	return put(db[DBI_META], txn, "audit.head", sizeof("audit.head") - 1,
	    head, sizeof(head), 0);
}

/* The body of store_cred_create's transaction (create_body). */
static int
store_body(DB *db[DBI__MAX], DB_TXN *txn, const struct opts *o,
    struct bufs *b, uint64_t n)
{
	char		 id[4 + 27], ck[128], mk[64], ik[128], idem[40];
	unsigned char	 cnt[8];
	size_t		 cklen, mklen, iklen;
	int		 rc, i;

	memcpy(id, "crd_", 4);
	ulid(id + 4, &b->rnd);
	if (o->idem > 0) {
		snprintf(idem, sizeof(idem), "bench-%d-%llu", (int)getpid(),
		    (unsigned long long)n);
		iklen = mkkey(ik, sizeof(ik), TENANT, idem, "");
		if ((rc = get_rmw(db[DBI_IDEM], txn, ik, iklen)) != DB_NOTFOUND)
			return rc == 0 ? EEXIST : rc;
		if ((rc = put(db[DBI_IDEM], txn, ik, iklen, b->idem, o->idem,
		    0)) != 0)
			return rc;
	}
	mklen = mkkey(mk, sizeof(mk), "cred.count", TENANT, "");
	rc = get_rmw(db[DBI_META], txn, mk, mklen);
	if (rc != 0 && rc != DB_NOTFOUND)
		return rc;
	if (o->counted) {
		for (i = 7; i >= 0; i--)
			cnt[i] = (unsigned char)((n >> (8 * (7 - i))) & 0xff);
		if ((rc = put(db[DBI_META], txn, mk, mklen, cnt, sizeof(cnt),
		    0)) != 0)
			return rc;
	}
	cklen = mkkey(ck, sizeof(ck), TENANT, PROVIDER, id);
	memcpy(b->cred + 16, id, 30);	/* the record names its id */
	if ((rc = put(db[DBI_CREDS], txn, ck, cklen, b->cred, o->cred,
	    DB_NOOVERWRITE)) != 0 ||
	    (rc = audit_append(db, txn, o, b)) != 0)
		return rc;
	mklen = mkkey(mk, sizeof(mk), "key.retired", KEY_ID, "");
	rc = get_rmw(db[DBI_META], txn, mk, mklen);
	return rc == DB_NOTFOUND ? 0 : rc == 0 ? EINVAL : rc;
}

/* dbenv_checkpoint: a checkpoint per MiB of log or 5 minutes. */
static void
checkpoint(DB_ENV *env)
{
	DB_LOG_STAT	*ls;
	DB_TXN_STAT	*ts;
	uint64_t	 written;
	time_t		 last;

	if (env->log_stat(env, &ls, 0) != 0)
		return;
	written = (uint64_t)ls->st_wc_mbytes * 1048576 + ls->st_wc_bytes;
	free(ls);
	if (written < CKP_BYTES) {
		if (env->txn_stat(env, &ts, 0) != 0)
			return;
		last = ts->st_time_ckp;
		free(ts);
		if (time(NULL) - last < CKP_SECONDS)
			return;
	}
	(void)env->txn_checkpoint(env, 0, 0, 0);
}

/* One store as dbenv_run_txn runs it: 0, or a Berkeley DB code. */
static int
store_one(DB_ENV *env, DB *db[DBI__MAX], const struct opts *o,
    struct bufs *b, uint64_t n, uint64_t *retries)
{
	DB_TXN	*txn;
	int	 rc, attempt;

	for (attempt = 0; ; attempt++) {
		if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
			return rc;
		if ((rc = store_body(db, txn, o, b, n)) == 0) {
			/* sync: commit without it, flush after (dbenv.c) */
			if ((rc = txn->commit(txn, o->dur == DUR_SYNC ?
			    DB_TXN_NOSYNC : 0)) == 0) {
				checkpoint(env);
				return o->dur == DUR_SYNC ?
				    env->log_flush(env, NULL) : 0;
			}
		} else
			txn->abort(txn);
		if (rc != DB_LOCK_DEADLOCK || attempt >= TXN_RETRIES)
			return rc;
		(*retries)++;
	}
}

/* Printable bytes, like the JSON of the records. */
static char *
filled(size_t n, int idx)
{
	char	*p;
	size_t	 i;

	if (n == 0 || (p = malloc(n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		p[i] = (char)('A' + (i * 7 + (size_t)idx) % 26);
	return p;
}

/*
 * One process's loop: opens its environment, says so on ready, waits
 * for the start signal (EOF on gate), then stores until the deadline or
 * the count, recording each latency.
 */
static void
run(const struct opts *o, int ready, int gate, int idx, struct slot *s)
{
	DB_ENV		*env;
	DB		*db[DBI__MAX];
	struct bufs	 b;
	char		 c;
	double		 t0, t, end;
	uint64_t	 us;
	int		 rc;

	s->failed = 1;
	b.cred = filled(o->cred, idx);
	b.audit = filled(o->audit, idx);
	b.idem = filled(o->idem, idx);
	b.rnd = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)getpid() << 16) ^
	    (uint64_t)idx;
	if (b.cred == NULL || b.audit == NULL || (o->idem > 0 && b.idem == NULL) ||
	    env_open(o->home, o->dur, &env, db) == -1) {
		signal_ready(ready, 'f');
		goto out;
	}
	signal_ready(ready, 'r');
	while (read(gate, &c, 1) == -1 && errno == EINTR)
		;
	t0 = now();
	end = t0 + o->secs;
	for (;;) {
		if (o->count > 0 ? s->commits >= o->count : now() >= end)
			break;
		t = now();
		if ((rc = store_one(env, db, o, &b,
		    s->commits * PROCS_MAX + (uint64_t)idx, &s->retries)) != 0) {
			fprintf(stderr, "bdb_store: store: %s\n",
			    db_strerror(rc));
			env_close(env, db);
			goto out;
		}
		us = (uint64_t)((now() - t) * 1e6);
		s->hist[us / BUCKET_US < BUCKETS ? us / BUCKET_US : BUCKETS]++;
		s->commits++;
	}
	s->seconds = now() - t0;
	s->failed = 0;
	env_close(env, db);
out:
	free(b.cred);
	free(b.audit);
	free(b.idem);
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
	fprintf(stderr, "usage: bdb_store -h HOME [-p PROCS] "
	    "[-t SECONDS | -n COMMITS] [-s CRED_BYTES] [-a AUDIT_BYTES] "
	    "[-i IDEM_BYTES] [-c] [-d sync|write_nosync|nosync]\n");
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

static void
parse(int argc, char *argv[], struct opts *o, int *procs)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->secs = 10;
	o->cred = 600;
	o->audit = 300;
	*procs = 1;
	while ((ch = getopt(argc, argv, "h:p:t:n:s:a:i:cd:")) != -1) {
		switch (ch) {
		case 'h':
			o->home = optarg;
			break;
		case 'p':
			*procs = (int)num(optarg, 1, PROCS_MAX);
			break;
		case 't':
			o->secs = (double)num(optarg, 1, 86400);
			break;
		case 'n':
			o->count = (uint64_t)num(optarg, 1, 1000000000LL);
			break;
		case 's':
			o->cred = (size_t)num(optarg, 64, RECORD_MAX);
			break;
		case 'a':
			o->audit = (size_t)num(optarg, 32, RECORD_MAX);
			break;
		case 'i':
			o->idem = (size_t)num(optarg, 0, RECORD_MAX);
			break;
		case 'c':
			o->counted = 1;
			break;
		case 'd':
			if (strcmp(optarg, "sync") == 0)
				o->dur = DUR_SYNC;
			else if (strcmp(optarg, "write_nosync") == 0)
				o->dur = DUR_WRITE_NOSYNC;
			else if (strcmp(optarg, "nosync") == 0)
				o->dur = DUR_NOSYNC;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (o->home == NULL || optind != argc)
		usage();
}

/* Starts procs processes at once, waits for them; 0 or 1 (bad). */
static int
spawn(const struct opts *o, int procs, struct slot *slots)
{
	struct sigaction sa;
	int		 i, gate[2], ready[2], st, bad = 0;
	char		 c;

	if (pipe(gate) == -1 || pipe(ready) == -1) {
		fprintf(stderr, "bdb_store: %s\n", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < procs; i++) {
		if ((kids[i] = fork()) == -1) {
			fprintf(stderr, "bdb_store: fork: %s\n", strerror(errno));
			on_term(SIGTERM);
		}
		if (kids[i] == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			close(gate[1]);
			close(ready[0]);
			run(o, ready[1], gate[0], i, &slots[i]);
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
	return bad;
}

int
main(int argc, char *argv[])
{
	struct opts	 o;
	int		 procs, i, bad;
	double		 maxsecs = 0;
	uint64_t	 total = 0, retries = 0, *hist;
	struct slot	*slots;
	DB_ENV		*env;
	DB		*db[DBI__MAX];
	struct stat	 sb;
	size_t		 b;

	parse(argc, argv, &o, &procs);
	if (stat(o.home, &sb) == -1 && mkdir(o.home, 0700) == -1) {
		fprintf(stderr, "bdb_store: %s: %s\n", o.home, strerror(errno));
		return 1;
	}
	/* create the environment and databases once, as credstore-admin init */
	if (env_open(o.home, o.dur, &env, db) == -1)
		return 1;
	env_close(env, db);
	slots = mmap(NULL, sizeof(*slots) * (size_t)procs,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		fprintf(stderr, "bdb_store: %s\n", strerror(errno));
		return 1;
	}
	memset(slots, 0, sizeof(*slots) * (size_t)procs);
	bad = spawn(&o, procs, slots);
	hist = slots[0].hist;
	for (i = 0; i < procs; i++) {
		total += slots[i].commits;
		retries += slots[i].retries;
		if (slots[i].seconds > maxsecs)
			maxsecs = slots[i].seconds;
		for (b = 0; i > 0 && b <= BUCKETS; b++)
			hist[b] += slots[i].hist[b];
	}
	if (bad || total == 0 || maxsecs <= 0) {
		fprintf(stderr, "bdb_store: a process failed\n");
		return 1;
	}
	printf("procs=%d commits=%llu seconds=%.3f rate=%.1f p50_ms=%.3f "
	    "p99_ms=%.3f retries=%llu cred_bytes=%zu audit_bytes=%zu "
	    "idem_bytes=%zu counted=%d durability=%s\n", procs,
	    (unsigned long long)total, maxsecs, (double)total / maxsecs,
	    quantile(hist, total, 0.50), quantile(hist, total, 0.99),
	    (unsigned long long)retries, o.cred, o.audit, o.idem, o.counted,
	    o.dur == DUR_SYNC ? "sync" : o.dur == DUR_WRITE_NOSYNC ?
	    "write_nosync" : "nosync");
	return 0;
}
