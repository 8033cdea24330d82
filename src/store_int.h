/*
 * store_int: what the files of the storage module share and nobody else
 * sees (the public API is store.h).  dbenv.c owns struct store, the
 * environment and its transactions (open, retry, checkpoint, backup) and
 * the key layout; audit.c owns the audit chain; record.c the text of the
 * records; store.c the credential, connection and idempotency operations.
 * Include only from those files.
 */
#ifndef CS_STORE_INT_H
#define CS_STORE_INT_H

#include <pthread.h>
#include <stddef.h>

#include <db.h>

#include "store.h"
#include "wlock.h"

/* The databases of the environment, one file each. */
enum dbi {
	DBI_CREDS = 0,
	DBI_IDEM,
	DBI_AUDIT,
	DBI_CONN,
	DBI_META,
	DBI__MAX
};

struct store {
	char		*home;
	enum durability	 dur;
	/*
	 * The threads of a process share the environment.  Every use of env
	 * and db holds lock for reading (dbenv_enter); reopening them after
	 * a panic holds it for writing, so no thread has a handle, cursor or
	 * transaction open then.  gen counts the reopens.
	 */
	pthread_rwlock_t lock;
	unsigned long	 gen;
	/* the environment panicked and no open succeeded since (lock) */
	int		 must_recover;
	/*
	 * One write transaction per process at a time (dbenv_run_txn): every
	 * write ends on the same pages (the tenant's count, the audit chain
	 * and its head), so more writers of one process only wait in, and
	 * deadlock in, Berkeley DB's lock manager.  Reads do not take it.
	 * A waiter of WLOCK_STARVE_US is handed it in turn (wlock.h).
	 */
	struct wlock	 write_lock;
	DB_ENV		*env;
	DB		*db[DBI__MAX];
	store_mac_fn	 mac;		/* records, audit chain; NULL: none */
	void		*mac_arg;
	size_t		 cred_cap;	/* credentials per tenant; 0: no cap */
	int		 lazy_dbs;	/* db[] not open yet (STORE_LAZY_DBS) */
	int		 defer_ckp;	/* STORE_DEFER_CHECKPOINT */
	/*
	 * One checkpoint at a time: ckp_lock in the process, and a write
	 * lock on ckp_fd (data_dir/checkpoint.lock, opened at the first;
	 * -1 before) among processes, both only tried.
	 */
	pthread_mutex_t	 ckp_lock;
	int		 ckp_fd;
	/* STORE_EXIT_WEDGED, and how long a reopen waits then (wedge.c) */
	int		 exit_wedged;
	unsigned	 reopen_wait_ms;
	_Atomic int	 reopening;	/* a thread holds lock to reopen */
};

/* wedge.c: time inside the storage, and the reopen's write lock */
void		 wedge_enter(void);
void		 wedge_leave(void);
void		 wedge_wrlock(struct store *);

/* key = a \0 b \0 c (c may be NULL: prefix "a\0b\0"); malloc'd. */
char		*dbenv_key(const char *a, const char *b, const char *c,
		    size_t *len);

/*
 * dbenv_enter: from here to dbenv_leave this thread may use st->env and
 * st->db (nested calls are counted; one store per thread at a time).
 * Reopens a closed environment first: 0, or -1 (logged) with nothing
 * held.  dbenv_ensure_open: the same check, holding nothing after.
 */
int		 dbenv_enter(struct store *);
void		 dbenv_leave(struct store *);
int		 dbenv_ensure_open(struct store *);
/* Berkeley DB's messages to our log (set_errcall of every handle). */
void		 dbenv_errcall(const DB_ENV *, const char *, const char *);
/*
 * After a failed operation: 1 to retry (deadlock, lock timeout, or a
 * panic after which the environment was reopened), 0 to give up.  Called
 * inside dbenv_enter, with no cursor or transaction open; a reopen needs
 * the outermost dbenv_enter of the thread (else 0).
 */
int		 dbenv_retry(struct store *, int rc, int attempt);
/* A Berkeley DB result as a store_rc (other errors are logged). */
enum store_rc	 dbenv_map_rc(int rc);
/* The flags of every commit. */
u_int32_t	 dbenv_commit_flags(const struct store *);
/*
 * With durability sync, flushes the log (shared with concurrent callers)
 * so that what this thread wrote or read is on disk; a failure marks the
 * environment for recovery: STORE_UNAVAILABLE.  Inside dbenv_enter.
 */
enum store_rc	 dbenv_durable(struct store *);
/*
 * After a commit: 1 when enough log was written or time went by since the
 * last checkpoint.  dbenv_checkpoint then runs one, unless another thread
 * or process is running one (outside the write lock).
 */
int		 dbenv_checkpoint_due(struct store *);
void		 dbenv_checkpoint(struct store *);

/* A transaction body: 0 to commit, or a Berkeley DB / errno code. */
typedef int	(*dbenv_txn_body)(struct store *, DB_TXN *, void *);
/*
 * Runs body in a transaction, retrying as dbenv_retry says.  A result
 * other than STORE_OK that the body stores in *result aborts the
 * transaction without an error and is returned.
 */
enum store_rc	 dbenv_run_txn(struct store *, dbenv_txn_body body, void *arg,
		    enum store_rc *result);

/* get with DB_DBT_MALLOC (*d's data is the caller's), put, del of a key. */
int		 dbenv_get(DB *, DB_TXN *, const void *key, size_t klen, DBT *d,
		    u_int32_t flags);
int		 dbenv_put(DB *, DB_TXN *, const void *key, size_t klen,
		    const void *val, size_t vlen, u_int32_t flags);
int		 dbenv_del(DB *, DB_TXN *, const void *key, size_t klen);
/*
 * Reads the value of key a\0b\0c (c may be NULL) outside a transaction,
 * retrying; STORE_OK with d->data malloc'd.
 */
enum store_rc	 dbenv_read(struct store *, enum dbi, const char *a,
		    const char *b, const char *c, DBT *d);

/* Opens (creating on a master) or closes the databases; 0 or a DB code. */
int		 dbenv_open_dbs(struct store *);
void		 dbenv_close_dbs(struct store *);

/* repl.c, the DB_ENV side of replication (no-ops on a single site) */
int		 repl_env_prepare(DB_ENV *);
u_int32_t	 repl_open_flags(u_int32_t flags);
int		 repl_env_start(struct store *, char *err, size_t errlen);
int		 repl_env_is_master(DB_ENV *);
/* after a failed write: 1 when it failed because this is a replica */
int		 repl_not_master(DB_ENV *, int rc);
/* after a commit: STORE_OK, or STORE_UNAVAILABLE when not acknowledged */
enum store_rc	 repl_commit_rc(void);
/* replkeys.c: repl-serve's message threads (a replica's list of keys) */
void		 repl_keys_dispatch(DB_ENV *, DB_CHANNEL *, DBT *, u_int32_t n,
		    u_int32_t flags);

/*
 * audit.c: appends ev to the chain under txn; 0 or a DB / errno code.
 * ev must outlive the transaction: audit_log_committed logs it (its
 * sequence number and chain MAC prefix) after the commit; audit_forget
 * drops it when a transaction starts.  Per thread.
 */
int		 audit_append(struct store *, DB_TXN *, const struct audit_ev *);
void		 audit_forget(void);
void		 audit_log_committed(void);

#endif
