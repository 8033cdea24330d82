/*
 * store_conn: the connections of the storage module (store.h, SPEC
 * section 2): a tenant's integration of a provider, pointing at one of its
 * credentials.  Each change is one transaction with its audit event.
 */
#include "cs_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <db.h>

#include "record.h"
#include "store.h"
#include "store_int.h"

struct conn_args {
	const char		*tenant, *provider, *cred_id;
	const struct audit_ev	*ev;
	struct conn_rec		*out;
	enum store_rc		*result;
};

static int
conn_put_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct conn_args	*a = arg;
	DBT			 d;
	char			*k, *ck = NULL, *v = NULL;
	size_t			 klen, cklen, vlen = 0;
	int			 rc;

	/* the credential must exist; reading it with RMW orders us with a delete */
	if ((k = dbenv_key(a->tenant, a->provider, a->cred_id, &klen)) == NULL)
		return ENOMEM;
	rc = dbenv_get(st->db[DBI_CREDS], txn, k, klen, &d, DB_RMW);
	free(k);
	if (rc == DB_NOTFOUND) {
		*a->result = STORE_NOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	free(d.data);
	memset(a->out, 0, sizeof(*a->out));
	snprintf(a->out->cred_id, sizeof(a->out->cred_id), "%s", a->cred_id);
	snprintf(a->out->status, sizeof(a->out->status), "active");
	a->out->connected = a->ev->time;
	if ((ck = dbenv_key(a->tenant, a->provider, NULL, &cklen)) == NULL ||
	    (v = record_conn_write(a->out, &vlen)) == NULL) {
		free(ck);
		return ENOMEM;
	}
	rc = dbenv_put(st->db[DBI_CONN], txn, ck, cklen, v, vlen, 0);
	if (rc == 0)
		rc = audit_append(st, txn, a->ev);
	free(ck);
	free(v);
	return rc;
}

enum store_rc
store_conn_put(struct store *st, const char *tenant, const char *provider,
    const char *cred_id, const struct audit_ev *ev, struct conn_rec *out)
{
	struct conn_args	a;
	enum store_rc		result;

	a.tenant = tenant;
	a.provider = provider;
	a.cred_id = cred_id;
	a.ev = ev;
	a.out = out;
	a.result = &result;
	return dbenv_run_txn(st, conn_put_body, &a, &result);
}

enum store_rc
store_conn_get(struct store *st, const char *tenant, const char *provider,
    struct conn_rec *out)
{
	DBT		 d;
	enum store_rc	 src;

	memset(out, 0, sizeof(*out));
	if ((src = dbenv_read(st, DBI_CONN, tenant, provider, NULL, &d)) !=
	    STORE_OK)
		return src;
	src = record_conn_read(d.data, d.size, out);
	free(d.data);
	return src;
}

static int
conn_del_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct conn_args	*a = arg;
	char			*k;
	size_t			 klen;
	int			 rc;

	if ((k = dbenv_key(a->tenant, a->provider, NULL, &klen)) == NULL)
		return ENOMEM;
	rc = dbenv_del(st->db[DBI_CONN], txn, k, klen);
	free(k);
	if (rc == DB_NOTFOUND) {
		*a->result = STORE_NOTFOUND;
		return 0;
	}
	if (rc == 0)
		rc = audit_append(st, txn, a->ev);
	return rc;
}

enum store_rc
store_conn_delete(struct store *st, const char *tenant, const char *provider,
    const struct audit_ev *ev)
{
	struct conn_args	a;
	enum store_rc		result;

	memset(&a, 0, sizeof(a));
	a.tenant = tenant;
	a.provider = provider;
	a.ev = ev;
	a.result = &result;
	return dbenv_run_txn(st, conn_del_body, &a, &result);
}
