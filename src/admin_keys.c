/*
 * admin_keys: the key commands of credstore-admin (admin.h): keys (the
 * keyring and each key's record count), rotate-key, retire-key and shred,
 * with the passes that re-wrap every record's data key with the active
 * key.  The keyring file is keyring_add_key's and keyring_remove_key's to
 * write, as root when run as root (the file keeps its owner, group and
 * mode); a command that could not write it refuses before it changes
 * anything (keyring_check_rewrite).  Each command audits what it did.
 */
#include "cs_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "credsvc.h"
#include "crypto.h"
#include "store.h"
#include "util.h"

struct rewrap_acc {
	struct keyring	*kr;
	size_t		 failed;
};

/* Re-wraps a record's data key with the active key; ciphertext unchanged. */
static int
rewrap_rec(struct cred_rec *r, void *arg)
{
	struct rewrap_acc	*a = arg;
	int			 rc;

	if ((rc = credsvc_rewrap(a->kr, r)) == -1) {
		fprintf(stderr, "%s: record %s cannot be re-wrapped (key %s)\n",
		    admin_progname, r->id, r->sealed.key_id);
		a->failed++;
		return 0;
	}
	return rc;
}

/*
 * Re-wraps every record with the active key, then again each second (at
 * most five passes): twice at least, since a web process looks at the
 * keyring's file once a second and may seal with the older key for up to
 * a second after the rotation; more while a pass still finds some.
 */
static enum store_rc
rewrap_passes(struct store *st, struct rewrap_acc *a, size_t *seen,
    size_t *changed)
{
	enum store_rc	rc = STORE_OK;
	size_t		s2, c2;
	int		pass;

	*seen = *changed = 0;
	for (pass = 0; pass < 5; pass++) {
		if (pass > 0)
			sleep(1);
		if ((rc = store_rewrap_all(st, rewrap_rec, a, &s2, &c2)) !=
		    STORE_OK)
			break;
		if (pass == 0)
			*seen = s2;
		*changed += c2;
		if (pass > 1 && c2 == 0)
			break;
	}
	return rc;
}

/*
 * Refuses, with the one error line, when the keyring file could not be
 * replaced keeping its owner, group and mode: 0 or -1.
 */
static int
check_rewrite(struct config *cfg, const char *cmd)
{
	char err[512];

	if (keyring_check_rewrite(cfg->keyring, err, sizeof(err)) == -1) {
		admin_fail("%s: %s", cmd, err);
		return -1;
	}
	return 0;
}

/* keyring_add_key or keyring_remove_key (id non-NULL), as root if root */
static int
rewrite(struct config *cfg, struct keyring *kr, const char *id, char *err,
    size_t errlen)
{
	int rc;

	admin_priv_root();
	rc = id == NULL ? keyring_add_key(cfg->keyring, kr, err, errlen) :
	    keyring_remove_key(cfg->keyring, kr, id, err, errlen);
	admin_priv_owner();
	return rc;
}

/*
 * Opens the keyring and the storage and adds a new active key to the
 * keyring file: 0 (a->kr and *st the caller's), or -1 with the error
 * printed and nothing open.
 */
static int
open_new_key(struct config *cfg, struct rewrap_acc *a, struct store **st,
    const char *cmd)
{
	char err[512];

	memset(a, 0, sizeof(*a));
	if (check_rewrite(cfg, cmd) == -1 ||
	    admin_open_all(cfg, &a->kr, st) == -1)
		return -1;
	if (rewrite(cfg, a->kr, NULL, err, sizeof(err)) == -1) {
		admin_close_store(*st);
		keyring_free(a->kr);
		admin_fail("%s", err);
		return -1;
	}
	return 0;
}

/* The active key announced, every record re-wrapped with it, audited. */
static int
rotate_finish(struct rewrap_acc *a, struct store *st)
{
	struct audit_ev	ev;
	size_t		seen = 0, changed = 0;
	enum store_rc	rc;

	printf("%s\n", keyring_active(a->kr)->id);
	fflush(stdout);
	rc = rewrap_passes(st, a, &seen, &changed);
	admin_event(&ev, "key.rotate", rc == STORE_OK && a->failed == 0 ?
	    "ok" : "failed");
	ev.cred_id = keyring_active(a->kr)->id;
	(void)store_audit_event(st, &ev);
	admin_close_store(st);
	keyring_free(a->kr);
	printf("records: %zu\nrewrapped: %zu\nfailed: %zu\n", seen, changed,
	    a->failed);
	if (rc != STORE_OK)
		return admin_fail("rotate-key: %s", store_strerror(rc));
	return a->failed == 0 ? EX_OK : EX_FAIL;
}

struct old_acc {
	const char	*active;
	size_t		 n;
};

static int
count_old(const struct cred_rec *r, void *arg)
{
	struct old_acc *o = arg;

	if (strcmp(r->sealed.key_id, o->active) != 0)
		o->n++;
	return 0;
}

/*
 * An activation that stopped after the rename (the re-wrap failed: a
 * commit not acknowledged in time) left records under older keys: the
 * next run finishes it, once every site still reports the active key.
 * 1: finish, 0: stage a new key, -1: refused (printed).
 */
static int
rotate_unfinished(struct config *cfg, struct keyring *kr, struct store *st)
{
	struct old_acc	o = { keyring_active(kr)->id, 0 };
	char		missing[1024];

	if (store_cred_list(st, NULL, NULL, NULL, (size_t)-1, count_old, &o) !=
	    STORE_OK || o.n == 0)
		return 0;
	if (admin_repl_sites_without(cfg, st, kr, missing, sizeof(missing)) >
	    0) {
		admin_fail("rotate-key: %zu records are not yet wrapped with "
		    "%s, which %s does not report; nothing changed", o.n,
		    o.active, missing);
		return -1;
	}
	fprintf(stderr, "%s: finishing the rotation to %s: %zu records to "
	    "re-wrap\n", admin_progname, o.active, o.n);
	return 1;
}

/*
 * rotate-key on a replicated site (SPEC section 11): the keyring is a
 * file per host, so the new key must be on every site before a record
 * is wrapped with it.  The first run (on the master) writes KEYRING.next,
 * the keyring plus a new key, and changes nothing else; the operator
 * copies it over every other site's keyring.  A later run activates it
 * only when every other site's repl-serve reports a keyring holding that
 * key (the same id and fingerprint); otherwise it refuses, naming them.
 */
static int
rotate_repl(struct config *cfg, struct rewrap_acc *a, struct store *st)
{
	struct keyring	*next;
	char		 path[4096], err[512], missing[1024];
	int		 rc;

	if (snprintf(path, sizeof(path), "%s.next", cfg->keyring) >=
	    (int)sizeof(path) || !admin_repl_is_master(st)) {
		admin_close_store(st);
		keyring_free(a->kr);
		return admin_fail("rotate-key: this site is not the master "
		    "(repl-status names it); nothing changed");
	}
	if (access(path, F_OK) == -1 &&
	    (rc = rotate_unfinished(cfg, a->kr, st)) != 0) {
		if (rc == 1)
			return rotate_finish(a, st);
		admin_close_store(st);
		keyring_free(a->kr);
		return EX_FAIL;
	}
	if (access(path, F_OK) == -1) {
		admin_priv_root();
		rc = keyring_add_key_to(cfg->keyring, path, a->kr, err,
		    sizeof(err));
		admin_priv_owner();
		admin_close_store(st);
		if (rc == 0)
			printf("%s\nstaged in %s: copy it over the keyring file "
			    "of every other site, then run rotate-key again "
			    "here\n", keyring_active(a->kr)->id, path);
		keyring_free(a->kr);
		return rc == 0 ? EX_OK : admin_fail("rotate-key: %s", err);
	}
	if (keyring_load(path, &next, err, sizeof(err)) == -1) {
		admin_close_store(st);
		keyring_free(a->kr);
		return admin_fail("rotate-key: %s", err);
	}
	admin_set_mac(st, next);	/* the same MAC key; st keeps a pointer */
	keyring_free(a->kr);
	a->kr = next;
	if (admin_repl_sites_without(cfg, st, next, missing,
	    sizeof(missing)) > 0) {
		admin_close_store(st);
		rc = admin_fail("rotate-key: key %s is not in the keyring of %s "
		    "yet (each repl-serve reports its keys every 2 s): copy %s "
		    "there; nothing changed", keyring_active(next)->id, missing,
		    path);
		keyring_free(next);
		return rc;
	}
	admin_priv_root();
	rc = rename(path, cfg->keyring);
	admin_priv_owner();
	if (rc == -1) {
		admin_close_store(st);
		keyring_free(next);
		return admin_fail("rotate-key: %s: %s", path, errstr(errno));
	}
	return rotate_finish(a, st);
}

/*
 * rotate-key: a new active key, then every data key re-wrapped.  Running
 * servers notice the new keyring on their next request; a request that
 * sealed with the old key just before is caught by a second pass.  On a
 * replicated site, in two runs (rotate_repl).
 */
int
admin_cmd_rotate(struct config *cfg, int argc, char **argv)
{
	struct rewrap_acc	 a;
	struct store		*st;

	(void)argc;
	(void)argv;
	if (cfg->repl_self != NULL) {
		memset(&a, 0, sizeof(a));
		if (check_rewrite(cfg, "rotate-key") == -1 ||
		    admin_open_all(cfg, &a.kr, &st) == -1)
			return EX_FAIL;
		return rotate_repl(cfg, &a, st);
	}
	if (open_new_key(cfg, &a, &st, "rotate-key") == -1)
		return EX_FAIL;
	return rotate_finish(&a, st);
}

/*
 * Retires key id: marked retired in storage first, counting its records
 * in the same transaction, so a store in flight that sealed with it is
 * refused at its commit and seals again and no record is left naming a
 * key that is gone (issue 12, finding 1); then out of the keyring file,
 * audited.  0, or -1 with the error printed.
 */
static int
retire_one(struct config *cfg, struct keyring *kr, struct store *st,
    const char *id)
{
	struct audit_ev	ev;
	char		err[512];
	size_t		uses = 0;
	enum store_rc	rc;

	if ((rc = store_key_retire(st, id, &uses)) != STORE_OK) {
		if (rc != STORE_IN_USE)
			admin_fail("retire-key: %s", store_strerror(rc));
		else
			admin_fail("key %s is still used by %zu records; run "
			    "rotate-key first", id, uses);
		return -1;
	}
	admin_event(&ev, "key.retire", "ok");
	ev.cred_id = id;
	if (rewrite(cfg, kr, id, err, sizeof(err)) == -1) {
		admin_fail("%s", err);
		return -1;
	}
	(void)store_audit_event(st, &ev);
	return 0;
}

int
admin_cmd_retire(struct config *cfg, int argc, char **argv)
{
	struct keyring		*kr;
	struct store		*st;
	const struct kr_key	*k;
	const char		*id = argv[1];
	int			 rc;

	(void)argc;
	if (check_rewrite(cfg, "retire-key") == -1 ||
	    admin_open_all(cfg, &kr, &st) == -1)
		return EX_FAIL;
	if ((k = keyring_find(kr, id)) == NULL || k == keyring_active(kr)) {
		admin_close_store(st);
		keyring_free(kr);
		return admin_fail(k == NULL ? "%s: no key %s" :
		    "%s: key %s is the active key", cfg->keyring, id);
	}
	rc = retire_one(cfg, kr, st, id);
	admin_close_store(st);
	keyring_free(kr);
	if (rc == -1)
		return EX_FAIL;
	printf("retired %s\n", id);
	return EX_OK;
}

/*
 * shred: a new active key, every record re-wrapped with it, every other
 * key retired and removed from the keyring file, then the log files
 * that still hold old values removed.  What a deleted or replaced record
 * left behind (log files, free space of the database files, backups)
 * was sealed under keys that are now gone.
 */
int
admin_cmd_shred(struct config *cfg, int argc, char **argv)
{
	struct rewrap_acc	 a;
	struct store		*st;
	struct audit_ev		 ev;
	char			 err[512], id[CRYPTO_KEYID_MAX];
	size_t			 seen, changed, retired = 0, logs = 0;
	enum store_rc		 rc;
	int			 ok = 0;

	(void)argc;
	(void)argv;
	/* a new key on this site only: the replicas could not open a record */
	if (cfg->repl_self != NULL)
		return admin_fail("shred: not available on a replicated site "
		    "yet (the new key would reach no other site)");
	if (open_new_key(cfg, &a, &st, "shred") == -1)
		return EX_FAIL;
	printf("new key: %s\n", keyring_active(a.kr)->id);
	rc = rewrap_passes(st, &a, &seen, &changed);
	printf("records: %zu\nrewrapped: %zu\n", seen, changed);
	if (rc != STORE_OK || a.failed != 0) {
		admin_fail("shred: %zu records cannot be re-wrapped%s%s",
		    a.failed, rc != STORE_OK ? ": " : "", rc != STORE_OK ?
		    store_strerror(rc) : "");
		goto out;
	}
	while (a.kr->nkeys > 1) {
		snprintf(id, sizeof(id), "%s", a.kr->keys[0].id);
		if (retire_one(cfg, a.kr, st, id) == -1)
			goto out;
		printf("retired: %s\n", id);
		retired++;
	}
	admin_event(&ev, "key.shred", "ok");
	ev.cred_id = keyring_active(a.kr)->id;
	(void)store_audit_event(st, &ev);
	if (store_shred_logs(st, &logs, err, sizeof(err)) != STORE_OK) {
		admin_fail("%s", err);
		goto out;
	}
	printf("keys retired: %zu\nlog files removed: %zu\n", retired, logs);
	ok = 1;
out:
	admin_close_store(st);
	keyring_free(a.kr);
	return ok ? EX_OK : EX_FAIL;
}

struct keys_acc {
	struct keyring	*kr;
	size_t		*uses;
};

static int
count_key(const struct cred_rec *r, void *arg)
{
	struct keys_acc	*k = arg;
	size_t		 i;

	for (i = 0; i < k->kr->nkeys; i++)
		if (strcmp(k->kr->keys[i].id, r->sealed.key_id) == 0)
			k->uses[i]++;
	return 0;
}

int
admin_cmd_keys(struct config *cfg, int argc, char **argv)
{
	struct keys_acc	 k;
	struct store	*st;
	char		 err[512], ts[21];
	size_t		 i;

	(void)argc;
	(void)argv;
	if (keyring_load(cfg->keyring, &k.kr, err, sizeof(err)) == -1)
		return admin_fail("%s", err);
	if ((k.uses = calloc(k.kr->nkeys, sizeof(size_t))) == NULL ||
	    admin_open_store(cfg, &st) == -1) {
		free(k.uses);
		keyring_free(k.kr);
		return EX_FAIL;
	}
	admin_set_mac(st, k.kr);
	(void)store_cred_list(st, NULL, NULL, NULL, (size_t)-1, count_key, &k);
	admin_close_store(st);
	for (i = 0; i < k.kr->nkeys; i++) {
		fmt_time(k.kr->keys[i].created, ts);
		printf("%s %s %s records=%zu\n", k.kr->keys[i].id,
		    i + 1 == k.kr->nkeys ? "active" : "inactive", ts, k.uses[i]);
	}
	free(k.uses);
	keyring_free(k.kr);
	return EX_OK;
}
