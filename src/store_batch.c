/*
 * store_batch: the walk over every credential record in batches of
 * transactions (store_batch_int.h); what a record becomes is the caller's
 * function's.
 */
#include "cs_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <db.h>

#include "store.h"
#include "store_batch_int.h"
#include "store_int.h"

#define STORE_BATCH_SIZE	64

/* Remembers k, the key of the record just done, as pending: 0 or ENOMEM. */
int
store_batch_mark(struct store_batch *a, const DBT *k)
{
	char *nk;

	if ((nk = malloc(k->size)) == NULL)
		return ENOMEM;
	memcpy(nk, k->data, k->size);
	free(a->pending);
	a->pending = nk;
	a->pendinglen = k->size;
	return 0;
}

/* Writes v (vlen bytes) over the record at cursor c: 0 or a code. */
int
store_batch_put(DBC *c, DBT *k, DBT *d, char *v, size_t vlen)
{
	int rc;

	if (v == NULL)
		return ENOMEM;
	memset(d, 0, sizeof(*d));
	d->data = v;
	d->size = (u_int32_t)vlen;
	rc = c->put(c, k, d, DB_CURRENT);
	free(v);
	return rc;
}

/* One batch: up to STORE_BATCH_SIZE records after a->last. */
static int
batch_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct store_batch	*a = arg;
	DBC			*c;
	DBT			 k, d;
	size_t			 n = 0;
	int			 rc, stop = 0;

	a->seen = a->changed = a->failed = 0;
	a->st = st;
	a->txn = txn;
	if ((rc = st->db[DBI_CREDS]->cursor(st->db[DBI_CREDS], txn, &c, 0)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	if (a->last == NULL)
		rc = c->get(c, &k, &d, DB_FIRST | DB_RMW);
	else {
		k.data = a->last;
		k.size = (u_int32_t)a->lastlen;
		rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW);
		if (rc == 0 && k.size == a->lastlen &&
		    memcmp(k.data, a->last, a->lastlen) == 0)
			rc = c->get(c, &k, &d, DB_NEXT | DB_RMW);
	}
	for (; rc == 0 && n < STORE_BATCH_SIZE; rc = c->get(c, &k, &d,
	    DB_NEXT | DB_RMW)) {
		n++;
		a->seen++;
		if ((rc = a->one(a, c, &k, &d, &stop)) != 0 || stop)
			break;
	}
	if (rc == DB_NOTFOUND) {
		a->done = 1;
		rc = 0;
	}
	c->close(c);
	return rc;
}

/* Every record, a->one on each, in batches; the counts summed in *sum. */
enum store_rc
store_batch_run(struct store *st, struct store_batch *a, size_t sum[3])
{
	enum store_rc	rc, result;

	a->result = &result;
	sum[0] = sum[1] = sum[2] = 0;
	for (;;) {
		a->done = 0;
		rc = dbenv_run_txn(st, batch_body, a, &result);
		if (rc != STORE_OK)
			break;
		sum[0] += a->seen;
		sum[1] += a->changed;
		sum[2] += a->failed;
		if (a->pending != NULL) {
			free(a->last);
			a->last = a->pending;
			a->lastlen = a->pendinglen;
			a->pending = NULL;
		}
		if (a->done)
			break;
	}
	free(a->last);
	free(a->pending);
	return rc;
}
