/*
 * replkeys: which keys each site's keyring holds (SPEC section 11, key
 * rotation across sites).  Every site's repl-serve reads its keyring file
 * every 2 s and, on a replica, sends the keys' fingerprints
 * (keyring_fingerprints: ids and hashes, never a key) to the master over
 * a Replication Manager channel.  The master's repl-serve receives them
 * in a message thread and records each site's list, its own included, in
 * the replicated meta database (key "repl\0keys\0SITE"), where rotate-key
 * reads them (store_repl_site_keys) and every site can show them.
 */
#include "cs_build.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <db.h>

#include "crypto.h"
#include "log.h"
#include "repl.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define KEYS_A		"repl"
#define KEYS_B		"keys"
#define SEND_EVERY	2	/* seconds */

struct site_keys {
	char	site[REPL_ADDRLEN];
	char	keys[REPL_KEYS_LEN];
	int	dirty;		/* not yet in the meta database */
};

/* the master's repl-serve: filled by message threads, written by its tick */
static pthread_mutex_t	 got_lock = PTHREAD_MUTEX_INITIALIZER;
static struct site_keys	 got[REPL_PEERS_MAX + 1];
static size_t		 ngot;

static void
note_keys(const char *site, size_t slen, const char *keys, size_t klen)
{
	size_t i;

	if (slen == 0 || slen >= REPL_ADDRLEN || klen >= REPL_KEYS_LEN ||
	    memchr(site, '\0', slen) != NULL || memchr(keys, '\0', klen) != NULL)
		return;
	pthread_mutex_lock(&got_lock);
	for (i = 0; i < ngot; i++)
		if (strlen(got[i].site) == slen &&
		    memcmp(got[i].site, site, slen) == 0)
			break;
	if (i == ngot && ngot < sizeof(got) / sizeof(got[0])) {
		memcpy(got[i].site, site, slen);
		got[i].site[slen] = '\0';
		got[i].keys[0] = '\0';
		got[i].dirty = 1;
		ngot++;
	}
	if (i < ngot && (strlen(got[i].keys) != klen ||
	    memcmp(got[i].keys, keys, klen) != 0)) {
		memcpy(got[i].keys, keys, klen);
		got[i].keys[klen] = '\0';
		got[i].dirty = 1;
	}
	pthread_mutex_unlock(&got_lock);
}

/* A message thread of the master's repl-serve: "SITE\nKEYS". */
void
repl_keys_dispatch(DB_ENV *env, DB_CHANNEL *ch, DBT *req, u_int32_t n,
    u_int32_t flags)
{
	const char	*p, *nl;

	(void)env;
	if (n == 1 && req[0].data != NULL && (nl = memchr(req[0].data, '\n',
	    req[0].size)) != NULL) {
		p = req[0].data;
		note_keys(p, (size_t)(nl - p), nl + 1,
		    req[0].size - (size_t)(nl - p) - 1);
	}
	if (flags & DB_REPMGR_NEED_RESPONSE)	/* we never ask for one */
		(void)ch->send_msg(ch, NULL, 0, 0);
}

static int
put_keys(struct store *st, DB_TXN *txn, void *arg)
{
	const struct site_keys	*s = arg;
	char			*k;
	size_t			 klen;
	int			 rc;

	if ((k = dbenv_key(KEYS_A, KEYS_B, s->site, &klen)) == NULL)
		return ENOMEM;
	rc = dbenv_put(st->db[DBI_META], txn, k, klen, s->keys,
	    strlen(s->keys), 0);
	free(k);
	return rc;
}

/* The master: every list not yet written goes to the meta database. */
static void
write_dirty(struct store *st)
{
	struct site_keys	 s;
	enum store_rc		 res, rc;
	size_t			 i;
	int			 dbrc;

	for (i = 0; i < REPL_PEERS_MAX + 1; i++) {
		pthread_mutex_lock(&got_lock);
		if (i >= ngot || !got[i].dirty) {
			pthread_mutex_unlock(&got_lock);
			continue;
		}
		s = got[i];
		got[i].dirty = 0;
		pthread_mutex_unlock(&got_lock);
		if (st->db[0] == NULL && (dbrc = dbenv_open_dbs(st)) != 0) {
			dbenv_close_dbs(st);
			log_warn("replication: opening the databases: %s",
			    db_strerror(dbrc));
			rc = STORE_UNAVAILABLE;
		} else
			rc = dbenv_run_txn(st, put_keys, &s, &res);
		dbenv_close_dbs(st);
		if (rc != STORE_OK) {
			log_warn("replication: recording the keys of %s: %s",
			    s.site, store_strerror(rc));
			pthread_mutex_lock(&got_lock);
			got[i].dirty = 1;
			pthread_mutex_unlock(&got_lock);
			return;
		}
		log_info("replication: site %s holds the keys %s", s.site,
		    s.keys);
	}
}

/*
 * A replica: its list goes to the master from a thread of its own.  A
 * channel to the master makes a connection of its own, with a blocking
 * connect(2): to a master cut off by the network it blocks until the
 * network is back, and repl-serve's loop (the master's announcement)
 * must not wait on it.  store_repl_keys_stop interrupts it (SIGUSR1,
 * no SA_RESTART) so that the environment can be closed.
 */
static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	pthread_t	 tid;
	int		 started, stop, busy, pending;
	struct store	*st;
	char		 msg[REPL_ADDRLEN + REPL_KEYS_LEN + 1];
} S = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void
on_usr1(int sig)
{
	(void)sig;
}

static void *
sender(void *arg)
{
	DB_CHANNEL	*ch = NULL;
	DBT		 d;
	char		 msg[sizeof(S.msg)];
	int		 rc;

	(void)arg;
	pthread_mutex_lock(&S.lock);
	for (;;) {
		while (!S.stop && !S.pending)
			pthread_cond_wait(&S.cond, &S.lock);
		if (S.stop)
			break;
		memcpy(msg, S.msg, sizeof(msg));
		S.pending = 0;
		S.busy = 1;
		pthread_mutex_unlock(&S.lock);
		rc = ch == NULL ? S.st->env->repmgr_channel(S.st->env,
		    DB_EID_MASTER, &ch, 0) : 0;
		if (rc == 0) {
			memset(&d, 0, sizeof(d));
			d.data = msg;
			d.size = (u_int32_t)strlen(msg);
			rc = ch->send_msg(ch, &d, 1, 0);
		}
		if (rc != 0) {
			log_debug("replication: sending this site's keys: %s",
			    db_strerror(rc));
			if (ch != NULL)
				(void)ch->close(ch, 0);
			ch = NULL;
		}
		pthread_mutex_lock(&S.lock);
		S.busy = 0;
		pthread_cond_broadcast(&S.cond);
	}
	pthread_mutex_unlock(&S.lock);
	if (ch != NULL)
		(void)ch->close(ch, 0);
	return NULL;
}

static void
send_keys(struct store *st, const char *keys)
{
	struct sigaction	sa;

	pthread_mutex_lock(&S.lock);
	if (!S.started) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;	/* no SA_RESTART: EINTR */
		sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGUSR1, &sa, NULL);
		S.st = st;
		S.started = pthread_create(&S.tid, NULL, sender, NULL) == 0;
	}
	if (S.started && snprintf(S.msg, sizeof(S.msg), "%s\n%s", repl_self(),
	    keys) < (int)sizeof(S.msg)) {
		S.pending = 1;
		pthread_cond_broadcast(&S.cond);
	}
	pthread_mutex_unlock(&S.lock);
}

void
store_repl_keys_stop(void)
{
	struct timespec	ts;
	int		i;

	pthread_mutex_lock(&S.lock);
	if (!S.started) {
		pthread_mutex_unlock(&S.lock);
		return;
	}
	S.stop = 1;
	pthread_cond_broadcast(&S.cond);
	for (i = 0; S.busy && i < 50; i++) {	/* blocked: interrupt it */
		(void)pthread_kill(S.tid, SIGUSR1);
		ts = deadline_in(CLOCK_REALTIME, 100);
		(void)pthread_cond_timedwait(&S.cond, &S.lock, &ts);
	}
	pthread_mutex_unlock(&S.lock);
	(void)pthread_join(S.tid, NULL);
	S.started = 0;
}

void
store_repl_keys_tick(struct store *st, const char *keyring_path)
{
	static time_t	 last;
	struct keyring	*kr;
	char		 keys[REPL_KEYS_LEN], err[512];
	time_t		 now = time(NULL);
	int		 master;

	if (!repl_enabled())
		return;
	master = repl_env_is_master(st->env);
	if (now - last >= SEND_EVERY) {
		last = now;
		if (keyring_load(keyring_path, &kr, err, sizeof(err)) == -1) {
			log_warn("replication: %s", err);
			return;
		}
		if (keyring_fingerprints(kr, keys, sizeof(keys)) == 0) {
			if (master)
				note_keys(repl_self(), strlen(repl_self()),
				    keys, strlen(keys));
			else
				send_keys(st, keys);
		}
		keyring_free(kr);
	}
	if (master)
		write_dirty(st);
}

enum store_rc
store_repl_site_keys(struct store *st, const char *site, char *keys,
    size_t len)
{
	DBT		d;
	enum store_rc	rc;

	if ((rc = dbenv_read(st, DBI_META, KEYS_A, KEYS_B, site, &d)) !=
	    STORE_OK)
		return rc;
	rc = STORE_OK;
	if (d.size >= len)
		rc = STORE_CORRUPT;
	else {
		memcpy(keys, d.data, d.size);
		keys[d.size] = '\0';
	}
	free(d.data);
	return rc;
}
