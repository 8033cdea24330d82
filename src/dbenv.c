/*
 * dbenv: the Berkeley DB environment of the storage module (SPEC section
 * 8): opening it (recovery, the DB_REGISTER close race, regions reserved
 * on disk), transactions with their retries, checkpoints and backups, and
 * the layout of keys.  Owns struct store (store_int.h); the other store
 * files reach the databases only through the helpers here (the log
 * files, backups and checkpoints on demand: store_logs.c).
 */
#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "log.h"
#include "repl.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define TXN_RETRIES	12
#define CKP_BYTES	(1024 * 1024)	/* log written before a checkpoint */
#define CKP_SECONDS	300		/* or time since the last one */
/* the subsystems of every open of the environment */
#define ENV_FLAGS	(DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | \
			 DB_INIT_MPOOL | DB_INIT_TXN | DB_THREAD)

/*
 * How deep this thread is in dbenv_enter, and the generation of the
 * environment it entered under (to tell whether another thread reopened
 * it meanwhile).
 */
static _Thread_local int		held;
static _Thread_local unsigned long	seen_gen;
/* The store whose checkpoint this thread's last write made due, or NULL. */
static _Thread_local struct store	*ckp_due;

static const char *const db_files[DBI__MAX] = {
	"credentials.db", "idempotency.db", "audit.db", "connections.db",
	"meta.db",
};

static const char *const rc_names[STORE__MAX] = {
	"ok", "not found", "exists", "storage unavailable", "corrupt record",
	"not the master site", "in use", "internal error", "key retired",
	"changed meanwhile", "limit reached",
};

const char *
store_strerror(enum store_rc rc)
{
	return rc < STORE__MAX ? rc_names[rc] : "?";
}

void
dbenv_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	log_error("bdb: %s%s%s", pfx ? pfx : "", pfx ? ": " : "", msg);
}

/*
 * Berkeley DB 5.3's DB_REGISTER has a race that many short-lived
 * processes (CGI) hit: a process opening the environment scans the
 * register file under its lock on byte 1, reading each slot and then
 * trying to lock it; a process closing its handle empties its slot and
 * drops the slot's lock without that byte-1 lock.  A slot read before it
 * was emptied and locked after it was dropped looks like a dead process,
 * and the opener runs recovery: every other process panics.  So the
 * close waits for the byte-1 lock (a scan in progress ends first) and
 * holds it while the handle is closed.  Returns the descriptor holding
 * it, or -1 (then the close goes ahead unguarded).  The lock is the
 * process's: Berkeley DB's close of its own descriptor drops it too, by
 * then with the slot empty.
 */
static int
register_lock(const char *home)
{
	char		path[4096];
	struct flock	fl;
	int		fd;

	if (snprintf(path, sizeof(path), "%s/__db.register", home) >=
	    (int)sizeof(path) ||
	    (fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 1;		/* env_register.c: REGISTRY_EXCL_LOCK */
	fl.l_len = 1;
	while (fcntl(fd, F_SETLKW, &fl) == -1)
		if (errno != EINTR) {
			(void)close(fd);
			return -1;
		}
	return fd;
}

void
dbenv_close_dbs(struct store *st)
{
	int i;

	/*
	 * DB_NOSYNC: a committed change is in the log (recovery replays it)
	 * and its pages stay in the shared cache for the next process or
	 * checkpoint to write.  Without it every close writes and syncs each
	 * database a request touched: four fdatasyncs per CGI request.
	 */
	for (i = 0; i < DBI__MAX; i++)
		if (st->db[i] != NULL) {
			st->db[i]->close(st->db[i], DB_NOSYNC);
			st->db[i] = NULL;
		}
}

static void
env_close(struct store *st)
{
	dbenv_close_dbs(st);
	if (st->env != NULL) {
		int rfd = register_lock(st->home);

		st->env->close(st->env, 0);
		st->env = NULL;
		if (rfd != -1)
			(void)close(rfd);
	}
}

/*
 * The shared regions are files in data_dir mapped at their full size but
 * grown lazily (Berkeley DB extends them as the cache fills).  Touching a
 * page that a full file system cannot back is a SIGBUS, in the middle of
 * a transaction.  So every mapped region file gets its blocks reserved
 * now (fallocate, size unchanged): a full disk is an error at open.
 */
static int
reserve_regions(const char *home, char *err, size_t errlen)
{
	FILE		*f;
	char		 line[4608], path[4096];
	unsigned long	 lo, hi;
	size_t		 hl = strlen(home);
	int		 fd, rc = 0;

	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		return 0;	/* not Linux: nothing to do */
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		/* most lines are libraries: no sscanf for them (CGI start-up) */
		if (strstr(line, "/__db.") == NULL ||
		    sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &lo, &hi,
		    path) != 3 || strncmp(path, home, hl) != 0 ||
		    strncmp(path + hl, "/__db.", 6) != 0 ||
		    strcmp(path + hl, "/__db.register") == 0)
			continue;
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
			continue;
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)(hi - lo)) == -1 &&
		    errno != EOPNOTSUPP) {
			snprintf(err, errlen, "%s: cannot reserve %lu bytes: %s",
			    path, hi - lo, errstr(errno));
			rc = -1;
		}
		close(fd);
	}
	fclose(f);
	return rc;
}

/*
 * The settings of a new environment handle before it is opened: deadlock
 * detection, lock timeout, cache, mutexes (many CGI processes at once)
 * and the durability of commits.  0 or a Berkeley DB code.
 */
static int
env_configure(DB_ENV *env, enum durability dur)
{
	int rc;

	if ((rc = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (rc = env->set_timeout(env, 3 * 1000000, DB_SET_LOCK_TIMEOUT)) != 0 ||
	    (rc = env->set_cachesize(env, 0, 2 * 1024 * 1024, 1)) != 0 ||
	    (rc = env->mutex_set_max(env, 8192)) != 0)
		return rc;
	/*
	 * The shared regions are memory-mapped files in data_dir.  Touching
	 * every page when the region is made means a full file system is an
	 * error at open, not a SIGBUS in the middle of a transaction later.
	 */
	if ((rc = env->set_flags(env, DB_REGION_INIT, 1)) != 0)
		return rc;
	if (dur == DUR_WRITE_NOSYNC &&
	    (rc = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0)
		return rc;
	if (dur == DUR_NOSYNC &&
	    (rc = env->set_flags(env, DB_TXN_NOSYNC, 1)) != 0)
		return rc;
	return 0;
}

/*
 * Opens (creating) every database of db_files in one transaction.  0 or
 * a Berkeley DB code; the handles opened so far stay in st->db for
 * env_close.
 */
int
dbenv_open_dbs(struct store *st)
{
	DB_TXN	*txn;
	int	 rc, i;

	if ((rc = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0)
		return rc;
	for (i = 0; i < DBI__MAX; i++) {
		if ((rc = db_create(&st->db[i], st->env, 0)) != 0)
			goto fail;
		rc = st->db[i]->open(st->db[i], txn, db_files[i], NULL,
		    DB_BTREE, DB_CREATE | DB_THREAD, 0600);
		if (rc != 0)
			goto fail;
	}
	/* opening changes no data: do not make every process wait on a flush */
	return txn->commit(txn, DB_TXN_NOSYNC);
fail:
	txn->abort(txn);
	return rc;
}

/*
 * 1 when the shared regions cannot be joined: the first region file is
 * missing or shorter than a region.  A recovery that failed halfway (no
 * room to create the regions again) leaves it so, and Berkeley DB then
 * takes it for a region another process is still creating: every open
 * waits for it and fails, and no opener sees a reason to recover.
 */
static int
regions_broken(const char *home)
{
	struct stat	sb;
	char		path[4096];

	if (snprintf(path, sizeof(path), "%s/__db.001", home) >=
	    (int)sizeof(path))
		return 0;
	return stat(path, &sb) == -1 || sb.st_size < 8192;
}

/*
 * After a panic (st->must_recover) with regions nobody can join, runs
 * recovery whether DB_REGISTER sees a dead process or not: an open
 * without DB_REGISTER but with DB_RECOVER, under the register file's scan
 * lock so that no other process registers meanwhile (and the check is
 * made again under it: another process may have recovered first).  The
 * handle is closed again; the caller then opens as always.  0, -1 with
 * err set.
 */
static int
force_recovery(struct store *st, char *err, size_t errlen)
{
	DB_ENV	*env;
	int	 rfd, rc = 0;

	if (!st->must_recover || repl_enabled() || !regions_broken(st->home))
		return 0;
	rfd = register_lock(st->home);
	if (regions_broken(st->home)) {
		log_warn("storage: %s: the regions cannot be joined after a "
		    "panic: running recovery", st->home);
		if ((rc = db_env_create(&env, 0)) == 0) {
			env->set_errcall(env, dbenv_errcall);
			env->set_errpfx(env, st->home);
			if ((rc = env_configure(env, st->dur)) == 0)
				rc = env->open(env, st->home,
				    ENV_FLAGS | DB_RECOVER, 0600);
			env->close(env, 0);
		}
	}
	if (rfd != -1)
		(void)close(rfd);
	if (rc != 0) {
		snprintf(err, errlen, "%s: recovery: %s", st->home,
		    db_strerror(rc));
		return -1;
	}
	return 0;
}

/* Opens environment and databases; recovery runs when a process died. */
static int
env_open(struct store *st, char *err, size_t errlen)
{
	DB_ENV		*env;
	u_int32_t	 flags;
	int		 rc;

	if (force_recovery(st, err, errlen) == -1)
		return -1;
	if ((rc = db_env_create(&env, 0)) != 0) {
		snprintf(err, errlen, "db_env_create: %s", db_strerror(rc));
		return -1;
	}
	st->env = env;
	env->set_errcall(env, dbenv_errcall);
	env->set_errpfx(env, st->home);
	if ((rc = env_configure(env, st->dur)) != 0 ||
	    (rc = repl_env_prepare(env)) != 0)
		goto dberr;
	/*
	 * DB_REGISTER notices a process that died with the environment open
	 * and then runs recovery, which rebuilds the shared regions.  No
	 * DB_FAILCHK: aborting a dead process's transaction in place must
	 * destroy pthread condition variables it may have been waiting on,
	 * and glibc's pthread_cond_destroy then blocks forever (seen under
	 * kill -9 in the crash test).
	 */
	flags = ENV_FLAGS | DB_REGISTER | DB_RECOVER;
	flags = repl_open_flags(flags);
	if ((rc = env->open(env, st->home, flags, 0600)) != 0)
		goto dberr;
	if (reserve_regions(st->home, err, errlen) == -1) {
		env_close(st);
		return -1;
	}
	/* logs no longer needed for recovery go; backups copy what is left */
	if ((rc = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0)
		goto dberr;
	if (repl_env_start(st, err, errlen) == -1) {
		env_close(st);
		return -1;
	}
	/* repl-serve opens them when it is the master (repl.c) */
	if (!repl_is_server() && !st->lazy_dbs && (rc = dbenv_open_dbs(st)) != 0)
		goto dberr;
	st->must_recover = 0;
	return 0;
dberr:
	snprintf(err, errlen, "%s: cannot open storage: %s", st->home,
	    db_strerror(rc));
	/* Berkeley DB waited for a creator that is not there: recover */
	if (rc == EAGAIN && regions_broken(st->home))
		st->must_recover = 1;
	env_close(st);
	return -1;
}

/*
 * Writers first: a reopen waits for the threads inside, not for every
 * request that comes after it.  Nested dbenv_enter never locks again, so
 * a waiting writer cannot deadlock a reader.
 */
static int
lock_init(pthread_rwlock_t *l)
{
	pthread_rwlockattr_t	a;
	int			rc;

	if ((rc = pthread_rwlockattr_init(&a)) != 0)
		return rc;
	(void)pthread_rwlockattr_setkind_np(&a,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(l, &a);
	pthread_rwlockattr_destroy(&a);
	return rc;
}

int
store_open(const char *home, enum durability dur, struct store **out,
    char *err, size_t errlen)
{
	return store_open_flags(home, dur, 0, out, err, errlen);
}

int
store_open_flags(const char *home, enum durability dur, int flags,
    struct store **out, char *err, size_t errlen)
{
	struct store	*st;
	struct stat	 sb;

	*out = NULL;
	if (stat(home, &sb) == -1) {
		if (errno == EACCES)
			snprintf(err, errlen, "permission denied on %s (or a "
			    "folder above it)", home);
		else
			snprintf(err, errlen, "%s: data_dir: %s%s", home,
			    errstr(errno), errno == ENOENT ?
			    " (credstore-admin init creates it)" : "");
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: data_dir is not a directory", home);
		return -1;
	}
	if (faccessat(AT_FDCWD, home, R_OK | W_OK | X_OK, AT_EACCESS) == -1 &&
	    errno == EACCES) {
		snprintf(err, errlen, "permission denied on %s (data_dir)", home);
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->home = strdup(home)) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->dur = dur;
	st->lazy_dbs = (flags & STORE_LAZY_DBS) != 0;
	st->defer_ckp = (flags & STORE_DEFER_CHECKPOINT) != 0;
	st->exit_wedged = (flags & STORE_EXIT_WEDGED) != 0;
	st->reopen_wait_ms = STORE_REOPEN_WAIT_MS;
	st->ckp_fd = -1;
	if (lock_init(&st->lock) != 0) {
		snprintf(err, errlen, "out of memory");
		goto free_st;
	}
	if (wlock_init(&st->write_lock, WLOCK_STARVE_US) != 0) {
		snprintf(err, errlen, "out of memory");
		goto free_lock;
	}
	pthread_mutex_init(&st->ckp_lock, NULL);
	if (env_open(st, err, errlen) == -1) {
		pthread_mutex_destroy(&st->ckp_lock);
		wlock_destroy(&st->write_lock);
		goto free_lock;
	}
	*out = st;
	return 0;
free_lock:
	pthread_rwlock_destroy(&st->lock);
free_st:
	free(st->home);
	free(st);
	return -1;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	env_close(st);
	if (ckp_due == st)
		ckp_due = NULL;
	if (st->ckp_fd != -1)
		close(st->ckp_fd);
	pthread_mutex_destroy(&st->ckp_lock);
	wlock_destroy(&st->write_lock);
	pthread_rwlock_destroy(&st->lock);
	free(st->home);
	free(st);
}

/*
 * Closes and opens the environment again, called by the outermost
 * dbenv_enter of this thread (the read lock held once): the lock is
 * taken for writing, and when no other thread reopened it since this one
 * entered, this one does.  Returns with the read lock held again; 0 when
 * the environment is open.
 */
static int
reopen(struct store *st, int panicked)
{
	char err[256];

	pthread_rwlock_unlock(&st->lock);
	wedge_wrlock(st);
	if (panicked)
		st->must_recover = 1;
	if (st->gen == seen_gen) {
		env_close(st);
		if (env_open(st, err, sizeof(err)) == -1)
			log_error("storage: %s", err);
		st->gen++;
	}
	st->reopening = 0;
	pthread_rwlock_unlock(&st->lock);
	pthread_rwlock_rdlock(&st->lock);
	seen_gen = st->gen;
	return st->env != NULL ? 0 : -1;
}

/* dbenv_enter without the databases (store_ping needs none). */
static int
env_enter(struct store *st)
{
	if (held++ > 0)
		return 0;
	wedge_enter();
	pthread_rwlock_rdlock(&st->lock);
	seen_gen = st->gen;
	if (st->env == NULL && reopen(st, 0) == -1) {
		dbenv_leave(st);
		return -1;
	}
	return 0;
}

int
dbenv_enter(struct store *st)
{
	int rc;

	if (env_enter(st) == -1)
		return -1;
	/* STORE_LAZY_DBS: now (one thread); a reopen then opens them too */
	if (st->lazy_dbs && st->db[0] == NULL) {
		if ((rc = dbenv_open_dbs(st)) != 0) {
			log_error("%s: cannot open storage: %s", st->home,
			    db_strerror(rc));
			dbenv_close_dbs(st);
			dbenv_leave(st);
			return -1;
		}
		st->lazy_dbs = 0;
	}
	return 0;
}

void
dbenv_leave(struct store *st)
{
	if (--held == 0) {
		pthread_rwlock_unlock(&st->lock);
		wedge_leave();
	}
}

/*
 * After a deadlock the two (or more) losers wait a random while before
 * they try again, up to 1 ms doubled at each attempt (at most 32 ms), so
 * that they do not meet again at once: with many threads, and processes,
 * on the same pages an immediate retry deadlocks again.  The randomness
 * only spreads the retries: the time of day and a thread's address.
 */
static void
backoff(int attempt)
{
	static _Thread_local uint64_t	x;
	struct timespec			ts;
	long				us;

	if (x == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)(uintptr_t)&x ^
		    (uint64_t)ts.tv_sec;
		x |= 1;
	}
	x ^= x << 13;		/* xorshift64 */
	x ^= x >> 7;
	x ^= x << 17;
	us = (long)(x % (uint64_t)(1000L << (attempt < 5 ? attempt : 5)));
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Decides what to do after a failed operation: 1 to retry (deadlock, lock
 * timeout, or a panic after which the environment was reopened), 0 to give
 * up.
 */
int
dbenv_retry(struct store *st, int rc, int attempt)
{
	if (attempt >= TXN_RETRIES)
		return 0;
	if (rc == DB_LOCK_DEADLOCK) {
		backoff(attempt);
		return 1;
	}
	if (rc == DB_LOCK_NOTGRANTED || rc == DB_RUNRECOVERY ||
	    rc == DB_REP_HANDLE_DEAD || rc == DB_REP_LOCKOUT) {
		/*
		 * A lock held too long usually means a process died holding
		 * it; DB_RUNRECOVERY means another process ran recovery.
		 * Reopening the environment with DB_REGISTER recovers.
		 */
		if (held != 1)
			return 0;	/* not this deep: the caller gives up */
		log_warn("storage: %s, reopening the environment",
		    db_strerror(rc));
		return reopen(st, rc == DB_RUNRECOVERY) == 0;
	}
	return 0;
}

enum store_rc
dbenv_map_rc(int rc)
{
	switch (rc) {
	case 0:
		return STORE_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return STORE_NOTFOUND;
	default:
		log_error("storage: %s", db_strerror(rc));
		return STORE_UNAVAILABLE;
	}
}

int
dbenv_ensure_open(struct store *st)
{
	if (dbenv_enter(st) == -1)
		return -1;
	dbenv_leave(st);
	return 0;
}

enum store_rc
store_ping(struct store *st)
{
	DB_TXN		*txn;
	int		 rc;
	enum store_rc	 out = STORE_UNAVAILABLE;

	if (env_enter(st) == -1)
		return STORE_UNAVAILABLE;
	if (repl_enabled() && !repl_serving(st->home)) {
		dbenv_leave(st);		/* its replication process */
		return STORE_UNAVAILABLE;
	}
	if ((rc = st->env->txn_begin(st->env, NULL, &txn, DB_TXN_NOWAIT)) != 0) {
		if (rc == DB_RUNRECOVERY)
			(void)dbenv_retry(st, rc, 0);
	} else {
		txn->abort(txn);
		out = STORE_OK;
	}
	dbenv_leave(st);
	return out;
}

/* key = a \0 b \0 c (c may be NULL: prefix "a\0b\0"). */
char *
dbenv_key(const char *a, const char *b, const char *c, size_t *len)
{
	size_t	 la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;
	size_t	 lc = c ? strlen(c) : 0;
	char	*k;

	if ((k = malloc(la + lb + lc + 1)) == NULL)
		return NULL;
	memcpy(k, a, la);
	if (b != NULL)
		memcpy(k + la, b, lb);
	if (c != NULL)
		memcpy(k + la + lb, c, lc);
	*len = la + lb + lc;
	return k;
}


/*
 * Bounds recovery time: a checkpoint per MiB of log or 5 minutes.
 * txn_checkpoint(1 MB, 5 min) would decide the same, but with
 * DB_LOG_AUTO_REMOVE every call, checkpoint or not, reads the log back to
 * find the files it may remove: an open, a 32 KB read and a close per
 * commit.  The two counters live in the shared regions.
 */
int
dbenv_checkpoint_due(struct store *st)
{
	DB_LOG_STAT	*ls;
	DB_TXN_STAT	*ts;
	uint64_t	 written;
	time_t		 last;

	if (st->env->log_stat(st->env, &ls, 0) != 0)
		return 0;
	written = (uint64_t)ls->st_wc_mbytes * 1048576 + ls->st_wc_bytes;
	free(ls);
	if (written >= CKP_BYTES)
		return 1;
	if (st->env->txn_stat(st->env, &ts, 0) != 0)
		return 0;
	last = ts->st_time_ckp;
	free(ts);
	return time(NULL) - last >= CKP_SECONDS;
}

/* data_dir/checkpoint.lock, a regular file: its fd, or -1. */
static int
ckp_lock_open(const char *home)
{
	struct stat	 sb;
	char		 path[4096];
	int		 fd;

	if (snprintf(path, sizeof(path), "%s/checkpoint.lock", home) >=
	    (int)sizeof(path))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
	    0600);
	if (fd != -1 && (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))) {
		log_warn("storage: %s is not a regular file", path);
		close(fd);
		fd = -1;
	}
	return fd;
}

/* F_SETLK on the whole file, never waiting: 0, or -1 when another has it. */
static int
ckp_flock(int fd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

/*
 * Berkeley DB 5.3's checkpoint sleeps a whole second each time its pass
 * over the cache meets a dirty page that a writer holds (mp_sync.c,
 * __memp_sync_int), which under a steady load of another process's
 * writes is most checkpoints, and a second checkpoint waits for the
 * first.  Seen as every request of both processes stalled for a second,
 * when one checkpointed holding the process's write lock and the other
 * waited for it.  So a checkpoint never runs under the write lock nor,
 * where avoidable, before an answer (STORE_DEFER_CHECKPOINT); and one
 * runs at a time: a thread that finds another one running skips its
 * own (the next commit decides again).
 */
void
dbenv_checkpoint(struct store *st)
{
	int rc, locked;

	if (pthread_mutex_trylock(&st->ckp_lock) != 0)
		return;
	if (st->ckp_fd == -1)
		st->ckp_fd = ckp_lock_open(st->home);
	/* without the file (a read-only data_dir), only the process's lock */
	locked = st->ckp_fd != -1 && ckp_flock(st->ckp_fd, F_WRLCK) == 0;
	if (st->ckp_fd != -1 && !locked) {
		pthread_mutex_unlock(&st->ckp_lock);
		return;
	}
	/* the one another process just ran may have made it not due */
	if (dbenv_checkpoint_due(st) &&
	    (rc = st->env->txn_checkpoint(st->env, 0, 0, 0)) != 0)
		log_warn("storage: checkpoint: %s", db_strerror(rc));
	if (locked)
		(void)ckp_flock(st->ckp_fd, F_UNLCK);
	pthread_mutex_unlock(&st->ckp_lock);
}

int
store_maintain_due(void)
{
	return ckp_due != NULL;
}

void
store_maintain(struct store *st)
{
	if (ckp_due != st)
		return;
	ckp_due = NULL;
	if (env_enter(st) != 0)
		return;
	dbenv_checkpoint(st);
	dbenv_leave(st);
}

/*
 * A commit carries the durability of the environment flags, except with
 * sync: then it commits without one (DB_TXN_NOSYNC: the commit record
 * goes to the log buffer and the transaction's locks go at once) and the
 * caller flushes the log with dbenv_durable before it answers.  A sync
 * commit would flush while it holds its locks, and every store takes the
 * same ones (the tenant's newest B-tree page, the audit chain's head):
 * stores would queue behind each other's fsync instead of sharing one.
 */
u_int32_t
dbenv_commit_flags(const struct store *st)
{
	return st->dur == DUR_SYNC ? DB_TXN_NOSYNC : 0;
}

/*
 * With durability sync, what this thread is about to show (its own
 * commit, or a record it read that another thread or process committed
 * and has not flushed yet) is on disk when this returns STORE_OK:
 * DB_ENV->log_flush writes and syncs the log up to its end, and callers
 * that arrive while a flush runs wait for it and share the next one.
 * When nothing is waiting it returns without a system call.
 *
 * A failed flush is not retried: after a failed fsync the kernel may have
 * dropped the dirty pages, so a second fsync that succeeds proves
 * nothing.  The environment is marked panicked instead (Berkeley DB does
 * that itself when the fsync fails, not when the write before it does):
 * every process then gets DB_RUNRECOVERY and reopens it with recovery
 * (dbenv_retry), which keeps exactly what the log on disk holds.  The
 * answer is a 503; a commit lost that way is a store the client retries
 * with its Idempotency-Key, as after a crash.  Called inside dbenv_enter.
 */
enum store_rc
dbenv_durable(struct store *st)
{
	int rc;

	if (st->dur != DUR_SYNC)
		return STORE_OK;
	if ((rc = st->env->log_flush(st->env, NULL)) == 0)
		return STORE_OK;
	log_error("storage: flushing the log: %s; the environment is "
	    "reopened with recovery", db_strerror(rc));
	(void)st->env->set_flags(st->env, DB_PANIC_ENVIRONMENT, 1);
	return STORE_UNAVAILABLE;
}

/*
 * Reads the value of key a\0b\0c (c may be NULL) from one database,
 * retrying as dbenv_retry says; STORE_OK with *d malloc'd.
 */
enum store_rc
dbenv_read(struct store *st, enum dbi i, const char *a, const char *b,
    const char *c, DBT *d)
{
	DBT		 k;
	char		*kb;
	size_t		 klen;
	int		 rc, attempt = 0;
	enum store_rc	 out;

	if ((kb = dbenv_key(a, b, c, &klen)) == NULL)
		return STORE_UNAVAILABLE;
	if (dbenv_enter(st) == -1) {
		free(kb);
		return STORE_UNAVAILABLE;
	}
	for (;;) {
		memset(&k, 0, sizeof(k));
		memset(d, 0, sizeof(*d));
		k.data = kb;
		k.size = (u_int32_t)klen;
		d->flags = DB_DBT_MALLOC;
		rc = st->db[i]->get(st->db[i], NULL, &k, d, 0);
		if (rc == 0 || !dbenv_retry(st, rc, attempt++))
			break;
	}
	out = rc == 0 ? STORE_OK : dbenv_map_rc(rc);
	/* found or not, the answer may show another's unflushed change */
	if ((out == STORE_OK || out == STORE_NOTFOUND) &&
	    dbenv_durable(st) != STORE_OK) {
		if (out == STORE_OK)
			free(d->data);
		memset(d, 0, sizeof(*d));
		out = STORE_UNAVAILABLE;
	}
	dbenv_leave(st);
	free(kb);
	return out;
}

/* dbenv_run_txn inside dbenv_enter. */
static enum store_rc
run_txn(struct store *st, dbenv_txn_body body, void *arg,
    enum store_rc *result)
{
	DB_TXN	*txn;
	int	 rc, attempt = 0;

	for (;;) {
		*result = STORE_OK;
		audit_forget();
		if ((rc = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0) {
			if (dbenv_retry(st, rc, attempt++))
				continue;
			return dbenv_map_rc(rc);
		}
		rc = body(st, txn, arg);
		if (rc == 0 && *result == STORE_OK) {
			repl_commit_begin();
			rc = txn->commit(txn, dbenv_commit_flags(st));
			if (rc == 0) {
				audit_log_committed();
				if (dbenv_checkpoint_due(st))
					ckp_due = st;
				return repl_commit_rc();
			}
		} else
			txn->abort(txn);
		if (rc == 0)		/* the body decided: no change */
			return *result;
		if (repl_enabled() && repl_not_master(st->env, rc))
			return STORE_NOT_MASTER;
		if (!dbenv_retry(st, rc, attempt++))
			return dbenv_map_rc(rc);
	}
}

/*
 * Runs body in a transaction, retrying on deadlock, lock timeout and
 * after a panic (see dbenv_retry).  A positive STORE_* result that the
 * body stores in *result aborts the transaction without an error.
 */
enum store_rc
dbenv_run_txn(struct store *st, dbenv_txn_body body, void *arg,
    enum store_rc *result)
{
	enum store_rc	 out = STORE_UNAVAILABLE;
	int		 outer = held == 0;

	/* nested in a walk (held), a thread may not wait for another writer:
	 * that one may be reopening the environment, waiting for this walk */
	if (outer)
		wlock_lock(&st->write_lock);
	if (dbenv_enter(st) != 0) {
		if (outer)
			wlock_unlock(&st->write_lock);
		return out;
	}
	out = run_txn(st, body, arg, result);
	/*
	 * The flush comes after the write lock goes, so that the process's
	 * next writer commits meanwhile and shares the next flush.  It
	 * follows every transaction that ended with an answer: a commit,
	 * and a body's own result too, which may show a record that another
	 * process committed and has not flushed (an idempotent replay).
	 */
	if (outer)
		wlock_unlock(&st->write_lock);
	if (out != STORE_UNAVAILABLE && out != STORE_NOT_MASTER &&
	    dbenv_durable(st) != STORE_OK)
		out = STORE_UNAVAILABLE;
	/* not nested: a walk's cursor may hold a page the checkpoint wants */
	if (ckp_due == st && outer && !st->defer_ckp) {
		ckp_due = NULL;
		dbenv_checkpoint(st);
	}
	dbenv_leave(st);
	return out;
}

int
dbenv_get(DB *db, DB_TXN *txn, const void *key, size_t klen, DBT *d,
    u_int32_t flags)
{
	DBT k;

	memset(&k, 0, sizeof(k));
	memset(d, 0, sizeof(*d));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	d->flags = DB_DBT_MALLOC;
	return db->get(db, txn, &k, d, flags);
}

int
dbenv_put(DB *db, DB_TXN *txn, const void *key, size_t klen, const void *val,
    size_t vlen, u_int32_t flags)
{
	DBT k, d;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	d.data = (void *)(uintptr_t)val;
	d.size = (u_int32_t)vlen;
	return db->put(db, txn, &k, &d, flags);
}

int
dbenv_del(DB *db, DB_TXN *txn, const void *key, size_t klen)
{
	DBT k;

	memset(&k, 0, sizeof(k));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	return db->del(db, txn, &k, 0);
}
