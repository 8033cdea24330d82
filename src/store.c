/*
 * store: the credential, connection and idempotency operations of the
 * storage module (store.h, SPEC section 8).  Each change is one
 * transaction with its audit event (audit.c); the environment and its
 * retries are dbenv.c's, the text of the records record.c's.  Records
 * returned to the caller are the caller's (cred_rec_free, idem_rec_free).
 */
#include "cs_build.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <db.h>

#include "log.h"
#include "record.h"
#include "store.h"
#include "store_batch_int.h"
#include "store_int.h"

#define IDEM_TTL	(24 * 3600)
#define KEY_RETIRED	"key.retired"	/* meta: KEY_RETIRED \0 id \0 */
#define CRED_COUNT	"cred.count"	/* meta: CRED_COUNT \0 tenant: be64 */

/*
 * Whether key_id was retired (store_key_retire), read under txn with a
 * write lock: a retirement that has not committed yet waits for this
 * transaction, so it counts the record this transaction writes.  Every
 * write of sealed values asks it after its audit append (which holds the
 * meta database's lock already).  0, or a code; *retired set.
 */
static int
key_retired(struct store *st, DB_TXN *txn, const char *key_id, int *retired)
{
	DBT	 d;
	char	*k;
	size_t	 klen;
	int	 rc;

	*retired = 0;
	if ((k = dbenv_key(KEY_RETIRED, key_id, NULL, &klen)) == NULL)
		return ENOMEM;
	rc = dbenv_get(st->db[DBI_META], txn, k, klen, &d, DB_RMW);
	free(k);
	if (rc == 0) {
		free(d.data);
		*retired = 1;
	}
	return rc == DB_NOTFOUND ? 0 : rc;
}

/* What the MAC of the credential record at key k binds (record.h). */
static struct record_key
rec_key(const struct store *st, const void *k, size_t klen)
{
	struct record_key rk;

	rk.key = k;
	rk.klen = klen;
	rk.mac = st->mac;
	rk.arg = st->mac_arg;
	return rk;
}

/*
 * Reads the credential record d at key k (its MAC checked), logging a
 * record that fails: its id (the key's last part), never a value, and
 * what to do when an older credstore wrote it (format 1).
 */
static enum store_rc
cred_read(const struct store *st, const void *k, size_t klen, const DBT *d,
    struct cred_rec *r, int sealed)
{
	struct record_key	 rk = rec_key(st, k, klen);
	const char		*id = "?";
	enum store_rc		 rc;
	size_t			 i;
	int			 old;

	if ((rc = record_cred_read(d->data, d->size, &rk, r, sealed)) ==
	    STORE_OK)
		return rc;
	if (klen >= CREDENTIAL_ID_LEN) {
		id = (const char *)k + klen - CREDENTIAL_ID_LEN;
		for (i = 0; i < CREDENTIAL_ID_LEN; i++)
			if (!isalnum((unsigned char)id[i]) && id[i] != '_')
				id = "?";
	}
	old = record_cred_read_v1(d->data, d->size, r) == STORE_OK;
	cred_rec_free(r);
	log_error("storage: credential %.*s %s", id[0] == '?' ? 1 :
	    CREDENTIAL_ID_LEN, id, old ? "written by an older credstore: run "
	    "credstore-admin upgrade" : "fails its integrity check: not served");
	return rc;
}

/* Record r as written at key k (its version and MAC); malloc'd or NULL. */
static char *
cred_write(const struct store *st, const void *k, size_t klen,
    const struct cred_rec *r, size_t *vlen)
{
	struct record_key rk = rec_key(st, k, klen);

	return record_cred_write(r, &rk, vlen);
}

enum store_rc
store_idem_get(struct store *st, const char *tenant, const char *key,
    struct idem_rec *out)
{
	DBT		 d;
	enum store_rc	 src;

	memset(out, 0, sizeof(*out));
	if ((src = dbenv_read(st, DBI_IDEM, tenant, key, NULL, &d)) != STORE_OK)
		return src;
	src = record_idem_read(d.data, d.size, out);
	free(d.data);
	if (src == STORE_OK && out->created + IDEM_TTL < time(NULL)) {
		idem_rec_free(out);
		return STORE_NOTFOUND;
	}
	return src;
}

void
store_set_cred_cap(struct store *st, size_t cap)
{
	st->cred_cap = cap;
}

/* The number of credentials of tenant, by a walk over its keys. */
static int
count_scan(struct store *st, DB_TXN *txn, const char *tenant, uint64_t *n)
{
	DBC	*c;
	DBT	 k, d;
	char	*pfx;
	size_t	 plen;
	int	 rc;

	*n = 0;
	if ((pfx = dbenv_key(tenant, NULL, NULL, &plen)) == NULL)
		return ENOMEM;
	if ((rc = st->db[DBI_CREDS]->cursor(st->db[DBI_CREDS], txn, &c, 0)) != 0)
		goto out;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_PARTIAL;	/* keys only */
	k.data = pfx;
	k.size = (u_int32_t)plen;
	for (rc = c->get(c, &k, &d, DB_SET_RANGE); rc == 0 &&
	    k.size >= plen && memcmp(k.data, pfx, plen) == 0;
	    rc = c->get(c, &k, &d, DB_NEXT))
		(*n)++;
	c->close(c);
	if (rc == 0 || rc == DB_NOTFOUND)
		rc = 0;
out:
	free(pfx);
	return rc;
}

/*
 * Moves tenant's credential count (meta, CRED_COUNT) by delta under txn,
 * before the create or after the delete.  A tenant without a count gets
 * one, counted once, when a cap is set; without a cap an absent count
 * stays absent (no walk on the hot path).  *over is set, and nothing
 * written, when a create would pass the cap.  0 or a code.
 */
static int
count_move(struct store *st, DB_TXN *txn, const char *tenant, int delta,
    int *over)
{
	unsigned char	 b[8];
	uint64_t	 n = 0;
	DBT		 d;
	char		*k;
	size_t		 klen, i;
	int		 rc;

	*over = 0;
	if ((k = dbenv_key(CRED_COUNT, tenant, NULL, &klen)) == NULL)
		return ENOMEM;
	rc = dbenv_get(st->db[DBI_META], txn, k, klen, &d, DB_RMW);
	if (rc == 0) {
		for (i = 0; i < 8 && d.size == 8; i++)
			n = n << 8 | ((unsigned char *)d.data)[i];
		free(d.data);
	} else if (rc == DB_NOTFOUND && delta > 0 && st->cred_cap > 0)
		rc = count_scan(st, txn, tenant, &n);
	else if (rc == DB_NOTFOUND) {
		rc = 0;
		delta = 0;
	}
	if (rc != 0 || delta == 0)
		goto out;
	if (delta > 0 && st->cred_cap > 0 && n >= st->cred_cap) {
		*over = 1;
		goto out;
	}
	n = delta > 0 ? n + 1 : n > 0 ? n - 1 : 0;
	for (i = 8; i > 0; i--, n >>= 8)
		b[i - 1] = (unsigned char)(n & 0xff);
	rc = dbenv_put(st->db[DBI_META], txn, k, klen, b, sizeof(b), 0);
out:
	free(k);
	return rc;
}

struct create_args {
	char			*ck, *cv, *ik, *iv;	/* malloc'd */
	size_t			 cklen, cvlen, iklen, ivlen;
	const char		*key_id;	/* of the sealed values */
	const struct audit_ev	*ev;
	const char		*tenant;
	struct idem_rec		*existing;
	enum store_rc		*result;
};

/*
 * Claims the idempotency key under txn: writes the new idempotency
 * record, unless another request's live one is there (*taken set, that
 * record in a->existing).  0 or a Berkeley DB code.
 */
static int
idem_claim(struct store *st, DB_TXN *txn, struct create_args *a, int *taken)
{
	DBT		d;
	int		rc;
	enum store_rc	prc;

	*taken = 0;
	rc = dbenv_get(st->db[DBI_IDEM], txn, a->ik, a->iklen, &d, DB_RMW);
	if (rc == 0) {
		prc = record_idem_read(d.data, d.size, a->existing);
		free(d.data);
		if (prc == STORE_OK &&
		    a->existing->created + IDEM_TTL >= time(NULL)) {
			*taken = 1;
			return 0;
		}
		idem_rec_free(a->existing);
	} else if (rc != DB_NOTFOUND)
		return rc;
	return dbenv_put(st->db[DBI_IDEM], txn, a->ik, a->iklen, a->iv,
	    a->ivlen, 0);
}

static int
create_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct create_args	*a = arg;
	int			 rc, taken;

	if (a->ik != NULL) {
		if ((rc = idem_claim(st, txn, a, &taken)) != 0)
			goto out;
		if (taken) {
			*a->result = STORE_EXISTS;
			return 0;
		}
	}
	if ((rc = count_move(st, txn, a->tenant, 1, &taken)) != 0)
		goto out;
	if (taken) {
		*a->result = STORE_LIMIT;
		return 0;
	}
	if ((rc = dbenv_put(st->db[DBI_CREDS], txn, a->ck, a->cklen, a->cv,
	    a->cvlen, DB_NOOVERWRITE)) == 0 &&
	    (rc = audit_append(st, txn, a->ev)) == 0 &&
	    (rc = key_retired(st, txn, a->key_id, &taken)) == 0 && taken)
		*a->result = STORE_KEY_RETIRED;
out:
	/* not found is no answer for a create: the storage failed */
	return rc == DB_NOTFOUND ? EINVAL : rc;
}

enum store_rc
store_cred_create(struct store *st, const struct cred_rec *r,
    const char *idem_key, const struct idem_rec *idem,
    const struct audit_ev *ev, struct idem_rec *existing)
{
	struct create_args	a;
	struct audit_ev		e = *ev;
	struct cred_rec		w = *r;		/* borrowed strings */
	enum store_rc		out = STORE_UNAVAILABLE, result;

	memset(existing, 0, sizeof(*existing));
	memset(&a, 0, sizeof(a));
	if (dbenv_ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	if ((a.ck = dbenv_key(r->tenant, r->provider, r->id, &a.cklen)) ==
	    NULL)
		goto out;
	w.ver = 1;			/* a new credential's first version */
	if ((a.cv = cred_write(st, a.ck, a.cklen, &w, &a.cvlen)) == NULL)
		goto out;
	if (idem_key != NULL &&
	    ((a.ik = dbenv_key(r->tenant, idem_key, NULL, &a.iklen)) == NULL ||
	    (a.iv = record_idem_write(idem, &a.ivlen)) == NULL))
		goto out;
	a.key_id = r->sealed.key_id;
	a.tenant = r->tenant;
	e.version = w.ver;
	a.ev = &e;
	a.existing = existing;
	a.result = &result;
	out = dbenv_run_txn(st, create_body, &a, &result);
out:
	free(a.ck);
	free(a.cv);
	free(a.ik);
	free(a.iv);
	return out;
}

enum store_rc
store_cred_get(struct store *st, const char *tenant, const char *provider,
    const char *id, struct cred_rec *out)
{
	DBT		 d;
	char		*k;
	size_t		 klen;
	enum store_rc	 src;

	memset(out, 0, sizeof(*out));
	if ((src = dbenv_read(st, DBI_CREDS, tenant, provider, id, &d)) !=
	    STORE_OK)
		return src;
	if ((k = dbenv_key(tenant, provider, id, &klen)) == NULL)
		src = STORE_UNAVAILABLE;
	else
		src = cred_read(st, k, klen, &d, out, 1);
	free(k);
	free(d.data);
	if (src == STORE_OK && (strcmp(out->tenant, tenant) != 0 ||
	    strcmp(out->provider, provider) != 0 || strcmp(out->id, id) != 0)) {
		cred_rec_free(out);
		return STORE_CORRUPT;
	}
	return src;
}

/*
 * Walks the credentials database with a cursor.  With tenant and provider
 * set the walk goes backwards from the end of their key range (newest
 * first); otherwise forwards over the tenant's prefix or everything.
 */
enum store_rc
store_cred_list(struct store *st, const char *tenant, const char *provider,
    const char *after_id, size_t limit, store_cred_cb cb, void *arg)
{
	return store_cred_walk(st, tenant, provider, after_id, limit, 0, cb, arg);
}

/* Where a walk over the credentials goes: see walk_init. */
struct walk {
	char		*pfx, *start;	/* malloc'd or NULL */
	size_t		 plen, slen;
	int		 backwards;
	char		*after;		/* forwards: resume past this key */
	size_t		 alen;
};

/*
 * Remembers key k, the last record a walk handed out: a walk that meets
 * a deadlock (threads of one process too) goes on from there with a new
 * cursor, backwards from just before it, forwards from just after it, so
 * no record is handed out twice.  0 or -1.
 */
static int
walk_resume(struct walk *w, const DBT *k)
{
	char *copy;

	if ((copy = malloc(k->size + 1)) == NULL)
		return -1;
	memcpy(copy, k->data, k->size);
	if (w->backwards) {
		free(w->start);
		w->start = copy;
		w->slen = k->size;
	} else {
		free(w->after);
		w->after = copy;
		w->alen = k->size;
	}
	return 0;
}

/*
 * With tenant and provider set the walk goes backwards from just before
 * prefix + after_id, or from the end of their key range (newest first);
 * otherwise forwards over the tenant's prefix or everything.  0 or -1.
 */
static int
walk_init(struct walk *w, const char *tenant, const char *provider,
    const char *after_id)
{
	memset(w, 0, sizeof(*w));
	w->backwards = (tenant != NULL && provider != NULL);
	if (tenant != NULL &&
	    (w->pfx = dbenv_key(tenant, provider, NULL, &w->plen)) == NULL)
		return -1;
	if (!w->backwards)
		return 0;
	/* start at prefix + after_id, or just past the range */
	if ((w->start = malloc(w->plen + CREDENTIAL_ID_LEN + 2)) == NULL)
		return -1;
	memcpy(w->start, w->pfx, w->plen);
	if (after_id != NULL) {
		memcpy(w->start + w->plen, after_id, strlen(after_id));
		w->slen = w->plen + strlen(after_id);
	} else {
		w->start[w->plen] = (char)0xff;
		w->slen = w->plen + 1;
	}
	return 0;
}

/* Puts cursor c on the walk's first record; *op takes it on.  0 or a code. */
static int
walk_first(const struct walk *w, DBC *c, DBT *k, DBT *d, u_int32_t *op)
{
	int rc;

	memset(k, 0, sizeof(*k));
	memset(d, 0, sizeof(*d));
	*op = DB_NEXT;
	if (w->backwards) {
		k->data = w->start;
		k->size = (u_int32_t)w->slen;
		k->flags = 0;
		rc = c->get(c, k, d, DB_SET_RANGE);
		if (rc == DB_NOTFOUND) {
			memset(k, 0, sizeof(*k));
			rc = c->get(c, k, d, DB_LAST);
		} else if (rc == 0)
			rc = c->get(c, k, d, DB_PREV);
		*op = DB_PREV;
		return rc;
	}
	if (w->after != NULL) {
		k->data = w->after;
		k->size = (u_int32_t)w->alen;
		rc = c->get(c, k, d, DB_SET_RANGE);
		if (rc == 0 && k->size == w->alen &&
		    memcmp(k->data, w->after, w->alen) == 0)
			rc = c->get(c, k, d, DB_NEXT);
		return rc;
	}
	if (w->pfx != NULL) {
		k->data = w->pfx;
		k->size = (u_int32_t)w->plen;
		return c->get(c, k, d, DB_SET_RANGE);
	}
	return c->get(c, k, d, DB_FIRST);
}

enum store_rc
store_cred_walk(struct store *st, const char *tenant, const char *provider,
    const char *after_id, size_t limit, int need_sealed, store_cred_cb cb,
    void *arg)
{
	struct walk	 w;
	DBC		*c = NULL;
	DBT		 k, d;
	size_t		 n = 0;
	int		 rc, attempt = 0;
	u_int32_t	 op;
	struct cred_rec	 r;
	enum store_rc	 out = STORE_OK;

	if (dbenv_enter(st) == -1)
		return STORE_UNAVAILABLE;
	if (walk_init(&w, tenant, provider, after_id) == -1) {
		out = STORE_UNAVAILABLE;
		goto out;
	}
again:
	if ((rc = st->db[DBI_CREDS]->cursor(st->db[DBI_CREDS], NULL, &c, 0)) != 0)
		goto dberr;
	for (rc = walk_first(&w, c, &k, &d, &op); rc == 0 && n < limit;
	    rc = c->get(c, &k, &d, op)) {
		if (w.pfx != NULL && (k.size < w.plen ||
		    memcmp(k.data, w.pfx, w.plen) != 0))
			break;
		if (cred_read(st, k.data, k.size, &d, &r, need_sealed) !=
		    STORE_OK) {
			out = STORE_CORRUPT;
			continue;
		}
		n++;
		/* where to go on from after a deadlock */
		if (walk_resume(&w, &k) == -1) {
			cred_rec_free(&r);
			rc = ENOMEM;
			break;
		}
		rc = cb(&r, arg);
		cred_rec_free(&r);
		if (rc != 0) {
			rc = 0;
			break;
		}
	}
	if (rc == DB_NOTFOUND)
		rc = 0;
	c->close(c);
	c = NULL;
	if (rc != 0)
		goto dberr;
	goto out;
dberr:
	if (c != NULL)
		c->close(c);
	c = NULL;
	if (dbenv_retry(st, rc, attempt++))
		goto again;
	out = dbenv_map_rc(rc);
out:
	/* what the callbacks saw may be another's unflushed change */
	if (out != STORE_UNAVAILABLE && dbenv_durable(st) != STORE_OK)
		out = STORE_UNAVAILABLE;
	dbenv_leave(st);
	free(w.pfx);
	free(w.start);
	free(w.after);
	return out;
}

struct modify_args {
	const char		*tenant, *provider, *id;
	store_modify_cb		 cb;
	void			*arg;
	struct audit_ev		*ev;
	enum store_rc		*result;
};

/*
 * Deletes the credential at key k under txn with its audit event, unless
 * the provider's connection uses it (then STORE_IN_USE in *m->result).
 */
static int
modify_delete(struct store *st, DB_TXN *txn, struct modify_args *m,
    const char *k, size_t klen)
{
	struct conn_rec	 c;
	DBT		 d;
	char		*ck;
	size_t		 cklen;
	int		 rc, over;
	enum store_rc	 crc;

	if ((ck = dbenv_key(m->tenant, m->provider, NULL, &cklen)) == NULL)
		return ENOMEM;
	rc = dbenv_get(st->db[DBI_CONN], txn, ck, cklen, &d, DB_RMW);
	free(ck);
	if (rc == 0) {
		crc = record_conn_read(d.data, d.size, &c);
		free(d.data);
		if (crc == STORE_OK && strcmp(c.cred_id, m->id) == 0) {
			*m->result = STORE_IN_USE;
			return 0;
		}
	} else if (rc != DB_NOTFOUND)
		return rc;
	if ((rc = dbenv_del(st->db[DBI_CREDS], txn, k, klen)) == 0 &&
	    (rc = count_move(st, txn, m->tenant, -1, &over)) == 0)
		rc = audit_append(st, txn, m->ev);
	return rc;
}

/* Writes r at key k under txn, one version on, with its audit event. */
static int
modify_write(struct store *st, DB_TXN *txn, struct modify_args *m,
    struct cred_rec *r, const char *k, size_t klen)
{
	char	*v;
	size_t	 vlen = 0;
	int	 rc, retired;

	r->ver++;
	m->ev->version = r->ver;
	if ((v = cred_write(st, k, klen, r, &vlen)) == NULL)
		return ENOMEM;
	if ((rc = dbenv_put(st->db[DBI_CREDS], txn, k, klen, v, vlen, 0)) == 0 &&
	    (rc = audit_append(st, txn, m->ev)) == 0 &&
	    (rc = key_retired(st, txn, r->sealed.key_id, &retired)) == 0 &&
	    retired)
		*m->result = STORE_KEY_RETIRED;
	free(v);
	return rc;
}

static int
modify_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct modify_args	*m = arg;
	struct cred_rec		 r;
	DBT			 d;
	char			*k;
	size_t			 klen;
	int			 rc = 0;
	enum store_rc		 src;

	if ((k = dbenv_key(m->tenant, m->provider, m->id, &klen)) == NULL)
		return ENOMEM;
	if ((rc = dbenv_get(st->db[DBI_CREDS], txn, k, klen, &d, DB_RMW)) != 0) {
		if (rc == DB_NOTFOUND) {
			*m->result = STORE_NOTFOUND;
			rc = 0;
		}
		goto out;
	}
	src = cred_read(st, k, klen, &d, &r, 1);
	free(d.data);
	if (src != STORE_OK) {
		*m->result = STORE_CORRUPT;
		goto out;
	}
	switch (m->cb(&r, m->arg)) {
	case STORE_OP_NONE:
		*m->result = STORE_EXISTS;	/* "nothing to do" for the caller */
		break;
	case STORE_OP_ERROR:
		*m->result = STORE_ERROR;
		break;
	case STORE_OP_CONFLICT:
		*m->result = STORE_CONFLICT;
		break;
	case STORE_OP_DELETE:
		m->ev->version = r.ver;
		rc = modify_delete(st, txn, m, k, klen);
		break;
	case STORE_OP_WRITE:
		rc = modify_write(st, txn, m, &r, k, klen);
		break;
	}
	cred_rec_free(&r);
out:
	free(k);
	return rc;
}

struct touch_args {
	const char	*tenant, *provider, *id;
	time_t		 now, every;
	enum store_rc	*result;
};

/*
 * lastUsedAt: read and written in one transaction, so a concurrent change
 * (PUT, re-test) is never undone; not a change of the credential, so no
 * new version and no audit event.
 */
static int
touch_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct touch_args	*t = arg;
	struct cred_rec		 r;
	DBT			 d;
	char			*k, *v = NULL;
	size_t			 klen, vlen = 0;
	int			 rc = 0;

	if ((k = dbenv_key(t->tenant, t->provider, t->id, &klen)) == NULL)
		return ENOMEM;
	if ((rc = dbenv_get(st->db[DBI_CREDS], txn, k, klen, &d, DB_RMW)) != 0) {
		if (rc == DB_NOTFOUND) {
			*t->result = STORE_NOTFOUND;
			rc = 0;
		}
		goto out;
	}
	if (cred_read(st, k, klen, &d, &r, 1) != STORE_OK) {
		free(d.data);
		*t->result = STORE_CORRUPT;
		goto out;
	}
	free(d.data);
	if (r.used != 0 && r.used <= t->now && t->now - r.used < t->every) {
		*t->result = STORE_EXISTS;	/* recent enough: nothing */
		cred_rec_free(&r);
		goto out;
	}
	r.used = t->now;
	if ((v = cred_write(st, k, klen, &r, &vlen)) == NULL)
		rc = ENOMEM;
	else
		rc = dbenv_put(st->db[DBI_CREDS], txn, k, klen, v, vlen, 0);
	cred_rec_free(&r);
	free(v);
out:
	free(k);
	return rc;
}

enum store_rc
store_cred_touch(struct store *st, const char *tenant, const char *provider,
    const char *id, time_t now, time_t every)
{
	struct touch_args	t;
	enum store_rc		result, rc;

	t.tenant = tenant;
	t.provider = provider;
	t.id = id;
	t.now = now;
	t.every = every;
	t.result = &result;
	rc = dbenv_run_txn(st, touch_body, &t, &result);
	return rc == STORE_EXISTS ? STORE_OK : rc;
}

enum store_rc
store_cred_modify(struct store *st, const char *tenant, const char *provider,
    const char *id, store_modify_cb cb, void *arg, struct audit_ev *ev)
{
	struct modify_args	m;
	enum store_rc		result, rc;

	m.tenant = tenant;
	m.provider = provider;
	m.id = id;
	m.cb = cb;
	m.arg = arg;
	m.ev = ev;
	m.result = &result;
	rc = dbenv_run_txn(st, modify_body, &m, &result);
	return rc == STORE_EXISTS ? STORE_OK : rc;
}

/*
 * One record of a batch at cursor c (key k, value d): calls the callback,
 * writes the record back when it changed it and remembers k as pending.
 * 0, or a code; *stop set when the callback asked to stop (the result is
 * then in *a->result).
 */
static int
rewrap_one(struct store_batch *a, DBC *c, DBT *k, DBT *d, int *stop)
{
	struct cred_rec	 r;
	char		*v;
	size_t		 vlen = 0;
	int		 rc = 0, cbrc, retired;

	if (cred_read(a->st, k->data, k->size, d, &r, 1) != STORE_OK)
		return EINVAL;
	cbrc = a->cb(&r, a->arg);
	if (cbrc < 0) {
		*a->result = STORE_CORRUPT;
		*stop = 1;
		goto out;
	}
	if (cbrc > 0) {
		if ((rc = key_retired(a->st, a->txn, r.sealed.key_id,
		    &retired)) != 0)
			goto out;
		if (retired) {
			*a->result = STORE_KEY_RETIRED;
			*stop = 1;
			goto out;
		}
		v = cred_write(a->st, k->data, k->size, &r, &vlen);
		if ((rc = store_batch_put(c, k, d, v, vlen)) != 0)
			goto out;
		a->changed++;
	}
	rc = store_batch_mark(a, k);
out:
	cred_rec_free(&r);
	return rc;
}

enum store_rc
store_rewrap_all(struct store *st, store_rewrap_cb cb, void *arg,
    size_t *seen, size_t *changed)
{
	struct store_batch	a;
	size_t			sum[3];
	enum store_rc		rc;

	memset(&a, 0, sizeof(a));
	a.one = rewrap_one;
	a.cb = cb;
	a.arg = arg;
	rc = store_batch_run(st, &a, sum);
	*seen = sum[0];
	*changed = sum[1];
	return rc;
}

/*
 * One record of an upgrade batch: left when the current reader takes it;
 * written again in the current format (version 1) when it is of format 1
 * and names the key it is stored at; else counted failed and left.
 */
static int
upgrade_one(struct store_batch *a, DBC *c, DBT *k, DBT *d, int *stop)
{
	struct record_key	 rk = rec_key(a->st, k->data, k->size);
	struct cred_rec		 r;
	char			*ok, *v;
	size_t			 oklen = 0, vlen = 0;
	int			 rc;

	(void)stop;
	if (record_cred_read(d->data, d->size, &rk, &r, 0) == STORE_OK) {
		cred_rec_free(&r);
		return store_batch_mark(a, k);
	}
	if (record_cred_read_v1(d->data, d->size, &r) != STORE_OK) {
		a->failed++;
		return store_batch_mark(a, k);
	}
	ok = dbenv_key(r.tenant, r.provider, r.id, &oklen);
	if (ok == NULL || oklen != k->size || memcmp(ok, k->data, oklen) != 0)
		a->failed++;
	else {
		r.ver = 1;
		v = record_cred_write(&r, &rk, &vlen);
		if ((rc = store_batch_put(c, k, d, v, vlen)) != 0)
			goto out;
		a->changed++;
	}
	rc = store_batch_mark(a, k);
out:
	free(ok);
	cred_rec_free(&r);
	return rc;
}

enum store_rc
store_cred_upgrade_all(struct store *st, size_t *seen, size_t *upgraded,
    size_t *failed)
{
	struct store_batch	a;
	size_t			sum[3];
	enum store_rc		rc;

	if (dbenv_ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	memset(&a, 0, sizeof(a));
	a.one = upgrade_one;
	rc = store_batch_run(st, &a, sum);
	*seen = sum[0];
	*upgraded = sum[1];
	*failed = sum[2];
	return rc;
}

struct retire_args {
	const char	*key_id;
	size_t		*in_use;
	enum store_rc	*result;
};

/* Marks the key retired, then counts the records still sealed with it. */
static int
retire_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct retire_args	*a = arg;
	struct cred_rec		 r;
	DBC			*c;
	DBT			 k, d;
	char			*mk;
	size_t			 mklen;
	int			 rc;

	*a->in_use = 0;
	if ((mk = dbenv_key(KEY_RETIRED, a->key_id, NULL, &mklen)) == NULL)
		return ENOMEM;
	rc = dbenv_put(st->db[DBI_META], txn, mk, mklen, "1", 1, 0);
	free(mk);
	if (rc != 0 ||
	    (rc = st->db[DBI_CREDS]->cursor(st->db[DBI_CREDS], txn, &c, 0)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		if (cred_read(st, k.data, k.size, &d, &r, 1) != STORE_OK) {
			rc = EINVAL;
			break;
		}
		if (strcmp(r.sealed.key_id, a->key_id) == 0)
			(*a->in_use)++;
		cred_rec_free(&r);
	}
	c->close(c);
	if (rc == DB_NOTFOUND && *a->in_use > 0)
		*a->result = STORE_IN_USE;	/* the mark is undone */
	return rc == DB_NOTFOUND ? 0 : rc;
}

enum store_rc
store_key_retire(struct store *st, const char *key_id, size_t *in_use)
{
	struct retire_args	a;
	enum store_rc		result;

	if (dbenv_ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	a.key_id = key_id;
	a.in_use = in_use;
	a.result = &result;
	return dbenv_run_txn(st, retire_body, &a, &result);
}
