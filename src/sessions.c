/*
 * sessions: ended admin page sessions in the meta database (sessions.h).
 */
#include "cs_build.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sessions.h"
#include "store_int.h"

#define ENDED		"session.end"	/* meta: ENDED \0 sid -> expiry */
#define PRUNE_MAX	64		/* stale records removed per sign-out */

struct end_arg {
	const char	*sid;
	time_t		 exp, now;
};

/* Deletes up to PRUNE_MAX records of sessions expired by now. */
static int
prune(struct store *st, DB_TXN *txn, time_t now)
{
	DB		*db = st->db[DBI_META];
	DBC		*c;
	DBT		 k, d;
	char		 v[32], *end;
	size_t		 plen = sizeof(ENDED), n = 0;
	long long	 exp;
	int		 rc, crc;

	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)(uintptr_t)ENDED;
	k.size = (u_int32_t)plen;
	for (rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW);
	    rc == 0 && n < PRUNE_MAX; rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) {
		if (k.size < plen || memcmp(k.data, ENDED, plen) != 0)
			break;
		snprintf(v, sizeof(v), "%.*s", (int)d.size, (const char *)d.data);
		exp = strtoll(v, &end, 10);
		if (*end == '\0' && exp > (long long)now)
			continue;
		if ((rc = c->del(c, 0)) != 0)
			break;
		n++;
	}
	if ((crc = c->close(c)) != 0 && (rc == 0 || rc == DB_NOTFOUND))
		rc = crc;
	return rc == DB_NOTFOUND ? 0 : rc;
}

static int
end_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct end_arg	*a = arg;
	char		*k, v[32];
	size_t		 klen;
	int		 rc;

	if ((k = dbenv_key(ENDED, a->sid, NULL, &klen)) == NULL)
		return ENOMEM;
	snprintf(v, sizeof(v), "%lld", (long long)a->exp);
	rc = dbenv_put(st->db[DBI_META], txn, k, klen, v, strlen(v), 0);
	free(k);
	return rc != 0 ? rc : prune(st, txn, a->now);
}

enum store_rc
sessions_end(struct store *st, const char *sid, time_t exp, time_t now)
{
	struct end_arg	a = { sid, exp, now };
	enum store_rc	result, rc;

	rc = dbenv_run_txn(st, end_body, &a, &result);
	if (rc != STORE_OK)
		log_error("sessions: cannot record a sign-out: %s",
		    store_strerror(rc));
	return rc;
}

enum store_rc
sessions_ended(struct store *st, const char *sid, int *ended)
{
	DBT		d;
	enum store_rc	rc;

	*ended = 0;
	rc = dbenv_read(st, DBI_META, ENDED, sid, NULL, &d);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc == STORE_OK) {
		*ended = 1;
		free(d.data);
	}
	return rc;
}
