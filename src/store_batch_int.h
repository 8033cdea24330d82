/*
 * store_batch: a walk over every credential record in batches of
 * transactions, for the storage operations that rewrite records in
 * place (store_rewrap_all, store_cred_upgrade_all in store.c).  Each
 * batch is one transaction over up to STORE_BATCH_SIZE records after the
 * last one done; a retried batch starts again from that record.  Include
 * only from the storage module's files.
 */
#ifndef CS_STORE_BATCH_INT_H
#define CS_STORE_BATCH_INT_H

#include <stddef.h>

#include <db.h>

#include "store.h"

struct store_batch;
/*
 * One record of a batch at cursor c (key k, value d, read with a write
 * lock): 0 or a code; *stop set to end the walk (the result then in
 * *a->result).  It calls store_batch_mark when it is done with k.
 */
typedef int	(*store_batch_fn)(struct store_batch *, DBC *, DBT *k, DBT *d,
		    int *stop);

struct store_batch {
	struct store	*st;
	DB_TXN		*txn;
	store_batch_fn	 one;
	store_rewrap_cb	 cb;
	void		*arg;
	char		*last;		/* key of the last record done */
	size_t		 lastlen;
	char		*pending;	/* last key of the running batch */
	size_t		 pendinglen;
	size_t		 seen, changed, failed;	/* of this batch */
	int		 done;
	enum store_rc	*result;
};

/* Remembers k, the key of the record just done: 0 or ENOMEM. */
int		 store_batch_mark(struct store_batch *, const DBT *k);
/* Writes v (malloc'd, freed here; NULL: ENOMEM) over c's record:
   0 or a code. */
int		 store_batch_put(DBC *c, DBT *k, DBT *d, char *v, size_t vlen);
/*
 * Calls a->one on every record (a->one, a->cb and a->arg set, the rest
 * zero), in batches; sums seen, changed and failed into sum[0..2].
 */
enum store_rc	 store_batch_run(struct store *, struct store_batch *a,
		    size_t sum[3]);

#endif
