/*
 * sessions: the server-side state of the admin page's sessions.  A
 * session lives in its sealed cookie (session.c); signing out records
 * its id here as ended, in the meta database under "session.end\0SID"
 * with the session's expiry, so the cookie stops working everywhere at
 * once.  Records of sessions past their expiry are pruned at sign-out.
 * Uses the storage module's environment (store_int.h); owns no memory
 * the caller sees.
 */
#ifndef CS_SESSIONS_H
#define CS_SESSIONS_H

#include <time.h>

#include "store.h"

/* Ends session sid, which would expire at exp.  STORE_OK or an error. */
enum store_rc	 sessions_end(struct store *, const char *sid, time_t exp,
		    time_t now);
/* STORE_OK and *ended (1 when sid was ended), or an error. */
enum store_rc	 sessions_ended(struct store *, const char *sid, int *ended);

#endif
