/*
 * store_logs: what the storage module does with Berkeley DB's log files
 * on an operator's demand (credstore-admin backup, checkpoint, shred):
 * a hot backup, a checkpoint, and removing every log file that recovery
 * no longer needs (after a key is retired).  Split from dbenv.c, whose
 * helpers it uses.
 */
#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <db.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

enum store_rc
store_backup(struct store *st, const char *dir, char *err, size_t errlen)
{
	DB_ENV	*benv = NULL;
	int	 rc;

	if (dbenv_ensure_open(st) == -1) {
		snprintf(err, errlen, "storage unavailable");
		return STORE_UNAVAILABLE;
	}
	if ((rc = st->env->txn_checkpoint(st->env, 0, 0, 0)) != 0)
		goto dberr;
	if ((rc = st->env->backup(st->env, dir, DB_CREATE | DB_EXCL)) != 0)
		goto dberr;
	/* make the copy consistent now: catastrophic recovery in place */
	if ((rc = db_env_create(&benv, 0)) != 0)
		goto dberr;
	benv->set_errcall(benv, dbenv_errcall);
	if ((rc = benv->open(benv, dir, DB_CREATE | DB_INIT_LOCK |
	    DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN | DB_RECOVER_FATAL |
	    DB_PRIVATE, 0600)) != 0)
		goto dberr;
	rc = benv->close(benv, 0);
	benv = NULL;
	if (rc != 0)
		goto dberr;
	return STORE_OK;
dberr:
	snprintf(err, errlen, "%s: backup failed: %s", dir, db_strerror(rc));
	if (benv != NULL)
		benv->close(benv, 0);
	return STORE_UNAVAILABLE;
}

void
store_checkpoint(struct store *st)
{
	int rc;

	if (st->env != NULL &&
	    (rc = st->env->txn_checkpoint(st->env, 0, 0, 0)) != 0)
		log_warn("storage: checkpoint: %s", db_strerror(rc));
}

/* The number of the log file Berkeley DB is writing, or 0. */
static u_int32_t
log_cur_file(DB_ENV *env)
{
	DB_LOG_STAT	*ls;
	u_int32_t	 f;

	if (env->log_stat(env, &ls, 0) != 0)
		return 0;
	f = ls->st_cur_file;
	free(ls);
	return f;
}

/* The number of log files in the environment: 0 or a Berkeley DB code. */
static int
log_count(DB_ENV *env, size_t *n)
{
	char	**list = NULL, **p;
	int	  rc;

	*n = 0;
	if ((rc = env->log_archive(env, &list, DB_ARCH_LOG)) != 0)
		return rc;
	for (p = list; p != NULL && *p != NULL; p++)
		(*n)++;
	free(list);
	return 0;
}

/*
 * Ends the log file being written: Berkeley DB has no call for that, so
 * debug records (log_printf, a record type recovery skips) are written
 * until it moves to the next file, at most one file's size.  0 or a
 * Berkeley DB code.
 */
static int
log_switch(DB_ENV *env)
{
	char		 pad[1025];
	u_int32_t	 cur, max = 0;
	size_t		 i, n;
	int		 rc;

	if ((cur = log_cur_file(env)) == 0)
		return EINVAL;
	if ((rc = env->get_lg_max(env, &max)) != 0)
		return rc;
	memset(pad, '.', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	n = max / (sizeof(pad) - 1) + 2;
	for (i = 0; i < n && log_cur_file(env) == cur; i++)
		if ((rc = env->log_printf(env, NULL, "shred %s", pad)) != 0)
			return rc;
	if (log_cur_file(env) == cur)
		return EINVAL;
	return env->log_flush(env, NULL);
}

/*
 * Forgets what the log remembers: a forced checkpoint, the current log
 * file ended (log_switch), a second checkpoint, which lies in the new
 * file, then every file no longer needed for recovery removed
 * (log_archive with DB_ARCH_REMOVE).  A transaction still open in an old
 * file keeps it: the caller may run this again.
 */
enum store_rc
store_shred_logs(struct store *st, size_t *removed, char *err, size_t errlen)
{
	size_t	before, after;
	int	rc;

	*removed = 0;
	if (dbenv_ensure_open(st) == -1) {
		snprintf(err, errlen, "storage unavailable");
		return STORE_UNAVAILABLE;
	}
	/* DB_LOG_AUTO_REMOVE removes files at a checkpoint: count them */
	if ((rc = log_count(st->env, &before)) != 0 ||
	    (rc = st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE)) != 0 ||
	    (rc = log_switch(st->env)) != 0 ||
	    (rc = st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE)) != 0 ||
	    (rc = st->env->log_archive(st->env, NULL, DB_ARCH_REMOVE)) != 0 ||
	    (rc = log_count(st->env, &after)) != 0)
		goto dberr;
	*removed = before + 1 > after ? before + 1 - after : 0;
	return STORE_OK;
dberr:
	snprintf(err, errlen, "%s: shred: %s", st->home, db_strerror(rc));
	return STORE_UNAVAILABLE;
}
