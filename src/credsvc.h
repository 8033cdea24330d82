/*
 * credsvc: the credential service, between the front ends (the HTTP API,
 * the admin pages, credstore-admin) and the core (store, crypto, probe).
 * It owns how values are sealed to their record and opened again, key
 * rotation's re-wrap, and the flows that change a credential: create,
 * replace, re-test, relabel, delete, each committed with its audit event.
 * It knows nothing of HTTP: results are a credsvc_rc the caller maps.
 * Plaintext values live only in the caller's credset and in short-lived
 * buffers here, wiped before they are freed.
 */
#ifndef CS_CREDSVC_H
#define CS_CREDSVC_H

#include <stddef.h>
#include <time.h>

#include "catalog.h"
#include "credset.h"
#include "crypto.h"
#include "probe.h"
#include "store.h"
#include "tenantlimit.h"

enum credsvc_rc {
	CSVC_OK = 0,
	CSVC_NOTFOUND,		/* no such credential */
	CSVC_REJECTED,		/* the provider said no (see each flow) */
	CSVC_REPLAY,		/* idempotency: the same request again */
	CSVC_IDEM_CONFLICT,	/* idempotency: the key, another request */
	CSVC_IN_USE,		/* a connection uses the credential */
	CSVC_CORRUPT,		/* a stored record fails its integrity check */
	CSVC_CONFLICT,		/* the credential changed during a re-test */
	CSVC_LIMIT,		/* the tenant's credential cap is reached */
	CSVC_INTERNAL,		/* no memory, cannot seal or open */
	CSVC_UNAVAILABLE,	/* storage cannot be used now */
	CSVC_LIMITED,		/* the tenant has its most checks in flight */
	CSVC__MAX
};

/* What the service works with; every pointer is borrowed. */
struct credsvc {
	struct store		*st;
	const struct keyring	*kr;
	/*
	 * The keyring file, read again when the key kr sealed with was
	 * retired while the request ran; NULL: such a change fails.
	 */
	const char		*keyring_path;
	struct probe_opts	 po;
	/* checks in flight per tenant; NULL: no limit */
	struct tenantlimit	*lim;
	/* allocation in the change callback; NULL: malloc (tests fail it) */
	void			*(*alloc)(size_t);
};

/* Who acts, for records and audit events; strings borrowed, may be NULL. */
struct credsvc_actor {
	const char	*tenant;	/* never NULL */
	const char	*subject;
	const char	*client;
};

/* Associated data binding a ciphertext to its record (malloc'd). */
char	*credsvc_record_ad(const char *tenant, const char *provider,
	    const char *id, size_t *len);
/* Encrypts cs for record (tenant, provider, id) into *s (sealed_free). */
int	 credsvc_seal(const struct keyring *, const char *tenant,
	    const char *provider, const char *id, const struct credset *cs,
	    struct sealed *s);
/*
 * Decrypts r's values into cs (credset_free); -1 when they do not open.
 * A key the loaded keyring lacks (a rotation this process has not seen
 * yet: it looks at the file once a second) is looked for in the keyring
 * file at keyring_path, unless that is NULL.
 */
int	 credsvc_open(const struct keyring *, const char *keyring_path,
	    const struct cred_rec *r, struct credset *cs);
/*
 * Re-wraps r's data key with the active key, ciphertext untouched: 1 when
 * changed, 0 when already under the active key, -1 when it cannot.
 */
int	 credsvc_rewrap(const struct keyring *, struct cred_rec *r);

/* An audit event of who doing action, outcome "ok", time now. */
void	 credsvc_audit_init(const struct credsvc_actor *who,
	    struct audit_ev *ev, const char *action, const char *provider,
	    const char *id);
/* "validated", "rejected" or "unverified". */
const char *credsvc_status_name(enum probe_verdict);
/* The "result" of SPEC section 2's check: validated, rejected, unreachable. */
const char *credsvc_check_result(enum probe_verdict);
/*
 * A check's outcome as a record keeps it (rectypes.h, cred_rec.check):
 * "validated" or "result:reason", into out[n].
 */
void	 credsvc_check_text(const struct probe_result *, char *out, size_t n);
/*
 * Runs the provider's check of cs for tenant and fills *pr: CSVC_OK, or
 * CSVC_LIMITED (no check, *pr untouched) when the tenant has its most
 * checks in flight already.
 */
enum credsvc_rc credsvc_probe(const struct credsvc *, const char *tenant,
	    const struct cat_provider *, const struct credset *cs,
	    struct probe_result *pr);

/*
 * A create in two steps, so that the caller can write its answer (kept
 * for an idempotent replay) between them.  The record's strings are
 * borrowed from the actor, the provider and the credset.
 */
struct credsvc_new {
	struct cred_rec		 rec;	/* id, status, times, sealed values */
	struct probe_result	 pr;
	struct idem_rec		 prior;	/* CSVC_REPLAY: the remembered answer */
};

void	 credsvc_new_init(struct credsvc_new *);
void	 credsvc_new_free(struct credsvc_new *);
/*
 * Before any work: the answer remembered for the tenant's idempotency
 * key.  CSVC_OK when there is none, CSVC_REPLAY (n->prior) when it was
 * this request (hash), CSVC_IDEM_CONFLICT, CSVC_UNAVAILABLE.
 */
enum credsvc_rc credsvc_idem_check(const struct credsvc *,
	    const struct credsvc_actor *, const char *idem_key,
	    const unsigned char hash[CRYPTO_MAC_LEN], struct credsvc_new *n);
/*
 * Probes cs, then builds and seals the new record in n->rec.  label NULL
 * is none.  CSVC_REJECTED (nothing to commit) or CSVC_INTERNAL.
 */
enum credsvc_rc credsvc_create_prepare(const struct credsvc *,
	    const struct credsvc_actor *, const struct cat_provider *,
	    const struct credset *cs, const char *label, struct credsvc_new *n);
/*
 * Commits n->rec with its audit event and, when idem is set, the answer
 * to remember.  CSVC_REPLAY or CSVC_IDEM_CONFLICT when a concurrent
 * request with the same key won (hash tells which), CSVC_UNAVAILABLE.
 */
enum credsvc_rc credsvc_create_commit(const struct credsvc *,
	    const struct credsvc_actor *, struct credsvc_new *n,
	    const char *idem_key, const struct idem_rec *idem);

/* A label change: set 0 leaves it, label NULL removes it. */
struct credsvc_label {
	int		 set;
	const char	*label;
};

/*
 * Replaces the values of (tenant, provider, id): CSVC_NOTFOUND before the
 * provider is asked, CSVC_REJECTED with the old values kept; same id, new
 * data key, updatedAt moves.
 */
enum credsvc_rc credsvc_replace(const struct credsvc *,
	    const struct credsvc_actor *, const struct cat_provider *,
	    const char *id, const struct credset *cs,
	    const struct credsvc_label *, struct probe_result *pr);
/*
 * Tests the stored values again and records the status.  CSVC_REJECTED
 * when the provider now rejects them (the record stays, "rejected").
 */
enum credsvc_rc credsvc_retest(const struct credsvc *,
	    const struct credsvc_actor *, const struct cat_provider *,
	    const char *id, struct probe_result *pr);
enum credsvc_rc credsvc_relabel(const struct credsvc *,
	    const struct credsvc_actor *, const char *provider, const char *id,
	    const struct credsvc_label *);
/* CSVC_IN_USE when a connection uses it. */
enum credsvc_rc credsvc_delete(const struct credsvc *,
	    const struct credsvc_actor *, const char *provider, const char *id);

/* The service result of a storage result. */
enum credsvc_rc credsvc_rc_of(enum store_rc);

#endif
