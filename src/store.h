/*
 * store: the one module that reads and writes the Berkeley DB environment
 * (SPEC section 8).  One DB_ENV per process, opened after any fork, with
 * DB_THREAD; every write is a transaction that goes through here, so a
 * replication-aware build can refuse writes on a non-master site in one
 * place.  Knows nothing about HTTP; values arrive already encrypted.
 *
 * The module's files: dbenv.c (the environment, transactions, backup),
 * record.c (the text of the records), audit.c (the audit chain) and
 * store.c (credentials, connections, idempotency); store_int.h is what
 * they share.
 */
#ifndef CS_STORE_H
#define CS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "crypto.h"
#include "record.h"

/* One audit event; strings may be NULL. */
struct audit_ev {
	time_t		 time;
	const char	*tenant;
	const char	*subject;
	const char	*action;
	const char	*provider;
	const char	*cred_id;
	const char	*outcome;
	const char	*client;
	uint64_t	 version;	/* of the credential written or deleted;
					   0: none */
};

struct store;

/* Opens (creating when missing) the environment at home.  0 or -1 + err. */
int		 store_open(const char *home, enum durability,
		    struct store **out, char *err, size_t errlen);
/*
 * STORE_LAZY_DBS: the database files are opened by the first operation
 * that uses them, not by store_open (store_ping needs none of them: a
 * CGI /healthz).  One thread only: a CGI process.
 */
#define STORE_LAZY_DBS	0x1
/*
 * STORE_DEFER_CHECKPOINT: a write that makes a checkpoint due leaves it
 * to store_maintain, which the caller runs when no answer waits for it
 * (a FastCGI thread between requests).  Without it the write runs the
 * checkpoint itself, after its answer is durable.
 */
#define STORE_DEFER_CHECKPOINT	0x2
/*
 * STORE_EXIT_WEDGED: the process ends (status 1) when a thread is stuck
 * in the storage for good, waiting on a Berkeley DB mutex of a process
 * that died: when a reopen cannot have the environment to itself within
 * STORE_REOPEN_WAIT_MS (src/wedge.c).  For a process that is started
 * again when it ends (FastCGI).
 */
#define STORE_EXIT_WEDGED	0x4
#define STORE_REOPEN_WAIT_MS	30000
/* the reopen wait of STORE_EXIT_WEDGED (tests) */
void		 store_set_reopen_wait(struct store *, unsigned ms);
/*
 * 1 when a thread of this process has been inside the storage (in
 * dbenv_enter) for longer than ms: its watchdog's question.
 */
int		 store_wedged(uint64_t ms);
/* Logs why with what it means, and ends the process with status 1. */
void		 store_wedge_exit(const char *why)
		    __attribute__((noreturn));
int		 store_open_flags(const char *home, enum durability, int flags,
		    struct store **out, char *err, size_t errlen);
void		 store_close(struct store *);
/*
 * 1 when a write of this thread left a checkpoint for store_maintain,
 * which runs it unless another thread or process is running one.
 */
int		 store_maintain_due(void);
void		 store_maintain(struct store *);
/* Cheap liveness check for /healthz: STORE_OK or STORE_UNAVAILABLE. */
enum store_rc	 store_ping(struct store *);
const char	*store_strerror(enum store_rc);


/*
 * Looks up tenant's Idempotency-Key.  Records older than 24 h count as
 * absent.  STORE_OK fills *out (idem_rec_free), STORE_NOTFOUND otherwise.
 */
enum store_rc	 store_idem_get(struct store *, const char *tenant,
		    const char *key, struct idem_rec *out);

/*
 * Commits a new credential (its version 1), its audit event and (when idem_key is set)
 * the idempotency record in one transaction.  When another request
 * committed the same idempotency key first, returns STORE_EXISTS and that
 * record in *existing; nothing is written.
 */
enum store_rc	 store_cred_create(struct store *, const struct cred_rec *,
		    const char *idem_key, const struct idem_rec *idem,
		    const struct audit_ev *ev, struct idem_rec *existing);

/*
 * At most cap credentials per tenant (0: no cap): a create past it is
 * STORE_LIMIT and writes nothing.  The count is kept in the meta database
 * by every create and delete.
 */
void		 store_set_cred_cap(struct store *, size_t cap);

enum store_rc	 store_cred_get(struct store *, const char *tenant,
		    const char *provider, const char *id, struct cred_rec *out);

/*
 * Calls cb for up to limit credentials of tenant (all tenants when NULL)
 * and provider (all when NULL), newest first within a provider, starting
 * strictly after `after_id` when set.  cb returns 0 to go on, 1 to stop.
 */
typedef int	(*store_cred_cb)(const struct cred_rec *, void *);
enum store_rc	 store_cred_list(struct store *, const char *tenant,
		    const char *provider, const char *after_id, size_t limit,
		    store_cred_cb cb, void *arg);
/* The same, with r->sealed filled too when need_sealed (verify, keys). */
enum store_rc	 store_cred_walk(struct store *, const char *tenant,
		    const char *provider, const char *after_id, size_t limit,
		    int need_sealed, store_cred_cb cb, void *arg);
/* Checkpoint now: recovery after this has nothing to replay. */
void		 store_checkpoint(struct store *);

/*
 * Sets the MAC of the store: credential records ("record-v1"), the audit
 * chain ("audit-chain-v1") and its head ("audit-head-v1").  Without it
 * no credential can be written or read (STORE_CORRUPT).
 */
void		 store_set_mac(struct store *, store_mac_fn, void *arg);

/* Calls cb with each audit record's JSON, oldest first. */
typedef int	(*store_audit_cb)(const char *json, void *);
enum store_rc	 store_audit_list(struct store *, store_audit_cb, void *);

/*
 * Recomputes the audit chain with the configured MAC: every record's MAC,
 * consecutive sequence numbers from 1, and the stored head.  Returns
 * STORE_OK and *n records, or STORE_CORRUPT with the first bad seq in
 * *bad and a reason in why.
 */
enum store_rc	 store_audit_verify(struct store *, size_t *n, uint64_t *bad,
		    char *why, size_t whylen);

/* The chain MAC of audit record seq: STORE_OK, STORE_NOTFOUND. */
enum store_rc	 store_audit_mac_at(struct store *, uint64_t seq,
		    unsigned char mac[STORE_MAC_LEN]);

/*
 * Read-modify-write of one credential in one transaction with its audit
 * event; a write raises the record's version (ev->version is set to the
 * version written, or deleted).  cb may change *r (it is called again, on a fresh copy, when the
 * transaction is retried) and may set ev->outcome; its return value says
 * what to do.
 */
enum store_op {
	STORE_OP_WRITE = 0,
	STORE_OP_DELETE,
	STORE_OP_NONE,		/* change nothing, write no audit event */
	STORE_OP_ERROR,		/* the change failed (no memory): write nothing,
				   store_cred_modify returns STORE_ERROR */
	STORE_OP_CONFLICT	/* the record is not the version the caller
				   expected: write nothing, STORE_CONFLICT */
};
typedef enum store_op (*store_modify_cb)(struct cred_rec *r, void *arg);
enum store_rc	 store_cred_modify(struct store *, const char *tenant,
		    const char *provider, const char *id, store_modify_cb cb,
		    void *arg, struct audit_ev *ev);

/*
 * Sets lastUsedAt of a credential to now unless it was set less than
 * `every` seconds before, read and written in one transaction; no new
 * version, no audit event (a use is not a change).
 */
enum store_rc	 store_cred_touch(struct store *, const char *tenant,
		    const char *provider, const char *id, time_t now,
		    time_t every);

/* STORE_NOTFOUND when the credential does not exist. */
enum store_rc	 store_conn_put(struct store *, const char *tenant,
		    const char *provider, const char *cred_id,
		    const struct audit_ev *ev, struct conn_rec *out);
enum store_rc	 store_conn_get(struct store *, const char *tenant,
		    const char *provider, struct conn_rec *out);
enum store_rc	 store_conn_delete(struct store *, const char *tenant,
		    const char *provider, const struct audit_ev *ev);

/*
 * Key rotation: calls cb for every credential in batches of transactions;
 * cb returns 1 when it changed r->sealed (written back), 0 to leave it,
 * -1 to stop with an error.  Counts in *seen and *changed.
 */
typedef int	(*store_rewrap_cb)(struct cred_rec *r, void *arg);
enum store_rc	 store_rewrap_all(struct store *, store_rewrap_cb, void *arg,
		    size_t *seen, size_t *changed);
/*
 * `credstore-admin upgrade`: writes every credential record of format 1
 * (an older credstore's: no version counter, no MAC) again in the
 * current format, version 1, its MAC under the store's MAC; in batches
 * of transactions, as store_rewrap_all.  A record the current reader
 * takes is left; a record neither of format 1 nor readable (a format-2
 * record whose MAC fails was tampered with) or stored under another
 * record's key is counted in *failed and left.  *seen records in all,
 * *upgraded written.  Idempotent.
 */
enum store_rc	 store_cred_upgrade_all(struct store *, size_t *seen,
		    size_t *upgraded, size_t *failed);
/*
 * Retires keyring key key_id in storage, before it leaves the keyring
 * file: in one transaction, marks it retired and counts the records still
 * sealed with it.  STORE_IN_USE (count in *in_use, nothing marked) when
 * there are any.  Once marked, a write of values sealed with that key
 * (a store in flight that loaded the keyring before the rotation, a PUT,
 * a re-wrap) gets STORE_KEY_RETIRED and writes nothing, so no record can
 * name a key that is gone.  The mark stays: a retired key is never used
 * again.
 */
enum store_rc	 store_key_retire(struct store *, const char *key_id,
		    size_t *in_use);
/* Appends one audit event on its own (key rotation, retirement). */
enum store_rc	 store_audit_event(struct store *, const struct audit_ev *ev);

/*
 * Consistent hot backup of the environment into dir (created; must not
 * exist or be empty), made openable by catastrophic recovery there.
 */
enum store_rc	 store_backup(struct store *, const char *dir, char *err,
		    size_t errlen);

/*
 * After a shred: checkpoints, ends the current log file and removes every
 * log file recovery no longer needs, so the values they held (deleted or
 * replaced records, data keys wrapped with retired keys) leave data_dir.
 * *removed gets the count of files removed.
 */
enum store_rc	 store_shred_logs(struct store *, size_t *removed, char *err,
		    size_t errlen);

#endif
