#include "cs_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "catcache.h"
#include "log.h"
#include "repl.h"
#include "probe.h"
#include "proxy.h"
#include "secmem.h"
#include "util.h"

/* One part of a state and how many published states hold it. */
struct app_part {
	int	 refs;			/* under the process's lock */
	void	*p;
	void	(*free_fn)(void *);
};

/*
 * The state the running request of this thread acquired: the store's MAC
 * callback has no request argument, and a request's records must be
 * MACed under the keyring the request sealed them with.
 */
static _Thread_local const struct app *tl_view;

/*
 * The store's MAC (records, audit chain, audit head): HMAC-SHA256 under a
 * key derived from the keyring for label.
 */
static int
store_mac(const char *label, const void *p, size_t n,
    unsigned char out[STORE_MAC_LEN], void *arg)
{
	const struct app *a = tl_view;

	(void)arg;
	if (a == NULL || a->kr == NULL)
		return -1;
	return crypto_mac(a->kr, label, p, n, out);
}

#ifndef CS_DATADIR
#define CS_DATADIR "/usr/share"
#endif

const char *
app_templates_dir(void)
{
	const char *d = getenv("CREDSTORE_TEMPLATES");

	return (d != NULL && *d != '\0') ? d : CS_DATADIR "/credstore/templates";
}

static void
free_config(void *p)
{
	config_free(p);
	free(p);
}

static void
free_catalog(void *p)
{
	catalog_free(p);
}

static void
free_keyring(void *p)
{
	keyring_free(p);
}

static void
free_jwks(void *p)
{
	jwks_free(p);
}

static void
free_secret(void *p)
{
	jwt_secret_free(p);
}

static void
free_cache(void *p)
{
	jwt_cache_free(p);
}

static void (*const part_free[APP_PART__MAX])(void *) = {
	free_config, free_catalog, free_keyring, free_jwks, free_secret,
	free_cache,
};

/*
 * Makes p part kind of state a (one reference); a part already there is
 * let go.  A NULL p leaves the part empty.  0, or -1 without memory (p is
 * then freed).  Under the process's lock when a is published.
 */
static int
part_set(struct app *a, enum app_part_kind kind, void *p)
{
	struct app_part *ap = NULL;

	if (p != NULL) {
		if ((ap = calloc(1, sizeof(*ap))) == NULL) {
			part_free[kind](p);
			return -1;
		}
		ap->refs = 1;
		ap->p = p;
		ap->free_fn = part_free[kind];
	}
	if (a->part[kind] != NULL && --a->part[kind]->refs == 0) {
		a->part[kind]->free_fn(a->part[kind]->p);
		free(a->part[kind]);
	}
	a->part[kind] = ap;
	return 0;
}

/* Drops one reference to a; frees it at the last.  Under proc->lock. */
static void
state_unref(struct app *a)
{
	int i;

	if (a == NULL || a == &a->proc->down || --a->refs > 0)
		return;
	for (i = 0; i < APP_PART__MAX; i++)
		(void)part_set(a, (enum app_part_kind)i, NULL);
	free(a);
}

/* Lets go of a state that was never published (NULL is fine). */
static void
state_drop(struct app_proc *p, struct app *a)
{
	pthread_mutex_lock(&p->lock);
	state_unref(a);
	pthread_mutex_unlock(&p->lock);
}

/* Makes a the published state (NULL: not ready); the old one is let go. */
static void
publish(struct app_proc *p, struct app *a)
{
	pthread_mutex_lock(&p->lock);
	state_unref(p->cur);
	p->cur = a;
	pthread_mutex_unlock(&p->lock);
}

/*
 * A copy of the published state, sharing every part (one more reference
 * each), for a refresh to replace one part of; NULL without memory.
 */
static struct app *
state_copy(struct app_proc *p)
{
	struct app	*a;
	int		 i;

	if ((a = malloc(sizeof(*a))) == NULL)
		return NULL;
	pthread_mutex_lock(&p->lock);
	*a = *p->cur;
	a->refs = 1;
	for (i = 0; i < APP_PART__MAX; i++)
		if (a->part[i] != NULL)
			a->part[i]->refs++;
	pthread_mutex_unlock(&p->lock);
	return a;
}

/*
 * The admin page's templates and stylesheet.  Their absence is logged and
 * makes only the admin page unavailable; the API does not need them.
 * Under tmpl_lock.
 */
static void
load_templates(struct app_proc *p)
{
	char		 err[512], path[4096];
	const char	*dir = app_templates_dir();
	FILE		*f;
	struct buf	 b;
	char		 chunk[4096];
	size_t		 n;

	if ((p->tmpl = tmpl_load_dir(dir, err, sizeof(err))) == NULL) {
		log_error("admin page unavailable: %s", err);
		return;
	}
	snprintf(path, sizeof(path), "%s/style.css", dir);
	if ((f = fopen(path, "r")) == NULL) {
		log_warn("admin page: %s: no stylesheet", path);
		return;
	}
	buf_init(&b, 256 * 1024, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(&b, chunk, n) == -1)
			break;
	fclose(f);
	p->css = buf_steal(&b, &p->csslen);
}

/* Not ready any more: why is logged and kept. */
static void
unload(struct app_proc *p, const char *why)
{
	snprintf(p->why, sizeof(p->why), "%s", why);
	publish(p, NULL);
}

/* The keyring into a (its stamp noted for refresh); 0 or -1. */
static int
load_keyring(struct app_proc *p, struct app *a, char *err, size_t errlen)
{
	(void)filestamp_get(a->cfg.keyring, &p->keyring_id);
	p->keyring_checked = time(NULL);
	if (keyring_load(a->cfg.keyring, &a->kr, err, errlen) == -1 ||
	    part_set(a, APP_PART_KR, a->kr) == -1)
		return -1;
	return 0;
}

/* Catalog, then keyring: the first error is the catalog's. */
static int
load_catalog_keyring(struct app_proc *p, struct app *a, char *err,
    size_t errlen)
{
	if ((a->cat = catalog_load(a->cfg.catalog, err, errlen)) == NULL ||
	    part_set(a, APP_PART_CAT, a->cat) == -1)
		return -1;
	return load_keyring(p, a, err, errlen);
}

/*
 * A CGI process's catalog goes through catcache, which needs the keyring:
 * the keyring is loaded first, and when it fails the catalog is checked
 * anyway, so that the error logged is the one a FastCGI process gives.
 */
static int
load_cgi_catalog(struct app_proc *p, struct app *a, char *err, size_t errlen)
{
	struct catalog	*c;
	char		 cerr[512];
	int		 indexed;

	if (load_keyring(p, a, err, errlen) == -1) {
		if ((c = catalog_load(a->cfg.catalog, cerr, sizeof(cerr))) == NULL)
			snprintf(err, errlen, "%s", cerr);
		catalog_free(c);
		return -1;
	}
	if ((a->cat = catcache_load(a->cfg.catalog, a->cfg.data_dir, a->kr,
	    &indexed, err, errlen)) == NULL ||
	    part_set(a, APP_PART_CAT, a->cat) == -1)
		return -1;
	log_debug("catalog: %s%s", a->cfg.catalog, indexed ?
	    " (indexed: its text passed every check before)" : "");
	return 0;
}

/*
 * The files of a new state: configuration, catalog, keyring, JWT keys.
 * 0, or -1 with the reason in err.
 */
static int
load_files(struct app_proc *p, struct app *a, char *err, size_t errlen)
{
	struct config	*cfg;
	unsigned char	*s = NULL;
	size_t		 slen = 0;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (config_load(p->config_path, cfg, err, errlen) == -1) {
		free(cfg);
		return -1;
	}
	a->cfg = *cfg;
	if (part_set(a, APP_PART_CFG, cfg) == -1)
		goto nomem;
	log_set_level(a->cfg.log_level);
	log_set_target(a->cfg.log_target, a->cfg.log_facility);
	if (((p->flags & APP_CGI) ? load_cgi_catalog(p, a, err, errlen) :
	    load_catalog_keyring(p, a, err, errlen)) == -1)
		return -1;
	if (a->cfg.jwt_secret_file != NULL) {
		if (jwt_secret_load(a->cfg.jwt_secret_file, &s, &slen,
		    &p->secret_seen, err, errlen) == -1 ||
		    part_set(a, APP_PART_SECRET, s) == -1)
			return -1;
		a->jk.hs_secret = s;
		a->jk.hs_len = slen;
		p->secret_checked = time(NULL);
	}
	/* A malformed JWKS is not ready, never a partial set of keys. */
	if (a->cfg.jwt_jwks_file != NULL &&
	    ((a->jk.jwks = jwks_load(a->cfg.jwt_jwks_file, &p->jwks_seen, err,
	    errlen)) == NULL || part_set(a, APP_PART_JWKS, a->jk.jwks) == -1))
		return -1;
	p->jwks_checked = time(NULL);
	/* tokens verified under these keys and this policy (jwt.h); a CGI
	 * process sees one token */
	if (!(p->flags & APP_CGI) && ((a->jk.cache = jwt_cache_new()) == NULL ||
	    part_set(a, APP_PART_CACHE, a->jk.cache) == -1))
		goto nomem;
	if (a->cfg.jwt_secret_file == NULL && a->cfg.jwt_jwks_file == NULL) {
		snprintf(err, errlen, "%s: neither jwt_secret_file nor "
		    "jwt_jwks_file is set: no token can be verified",
		    p->config_path);
		return -1;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/*
 * Loads a whole new state and publishes it.  The storage is opened by the
 * first load that gets that far and stays open (with that load's data_dir
 * and durability) until app_free.  Under the reload lock.
 */
static int
load(struct app_proc *p)
{
	struct app	*a;
	char		 err[512];

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	a->proc = p;
	a->refs = 1;
	if (load_files(p, a, err, sizeof(err)) == -1)
		goto fail;
	if (p->st == NULL) {
		/* replication is the process's: set once, with the store */
		if (repl_configure(&a->cfg, 0, err, sizeof(err)) == -1 ||
		    store_open_flags(a->cfg.data_dir, a->cfg.durability,
		    ((p->flags & APP_CGI) ? STORE_LAZY_DBS : STORE_EXIT_WEDGED) |
		    STORE_DEFER_CHECKPOINT, &p->st, err,
		    sizeof(err)) == -1)
			goto fail;
		store_set_mac(p->st, store_mac, NULL);
		store_set_cred_cap(p->st, a->cfg.max_credentials_per_tenant);
	}
	a->st = p->st;
	a->ready = 1;
	/* libcurl is loaded by the first check, templates by the first page */
	pthread_mutex_lock(&p->tmpl_lock);
	if (p->tmpl == NULL)
		p->tmpl_tried = 0;	/* a new state tries them again */
	pthread_mutex_unlock(&p->tmpl_lock);
	p->why[0] = '\0';
	publish(p, a);
	return 0;
fail:
	log_error("not ready: %s", err);
	state_drop(p, a);
	unload(p, err);
	return -1;
}

const struct tmpl_set *
app_tmpl(struct app *a)
{
	struct app_proc		*p = a->proc;
	const struct tmpl_set	*t;

	pthread_mutex_lock(&p->tmpl_lock);
	if (!p->tmpl_tried) {
		p->tmpl_tried = 1;
		load_templates(p);
	}
	t = p->tmpl;
	pthread_mutex_unlock(&p->tmpl_lock);
	return t;
}

const char *
app_css(struct app *a, size_t *len)
{
	struct app_proc	*p = a->proc;
	const char	*css;

	pthread_mutex_lock(&p->tmpl_lock);
	css = p->css;
	*len = p->csslen;
	pthread_mutex_unlock(&p->tmpl_lock);
	return css;
}

int
app_init(struct app_proc *p, const char *config_path, int flags)
{
	int rc;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->reload, NULL);
	pthread_mutex_init(&p->tmpl_lock, NULL);
	p->down.proc = p;
	p->flags = flags;
	/* it holds keys: no core dump, no ptrace by other users */
	if (secmem_no_dumps() == -1)
		log_warn("prctl(PR_SET_DUMPABLE): %s", errstr(errno));
	if ((p->config_path = strdup(config_path)) == NULL)
		return -1;
	p->last_try = time(NULL);
	pthread_mutex_lock(&p->reload);
	rc = load(p);
	pthread_mutex_unlock(&p->reload);
	return rc;
}

/*
 * Re-reads the keyring when its file changed (key rotation, retirement).
 * A keyring that no longer loads makes the process not ready (logged).
 */
static void
refresh(struct app_proc *p)
{
	struct filestamp id;
	struct keyring	*kr;
	struct app	*a;
	char		 err[512];

	if (filestamp_get(p->cur->cfg.keyring, &id) == -1) {
		/* a keyring that went away: no more service with a stale copy */
		snprintf(err, sizeof(err), "%s: keyring is gone",
		    p->cur->cfg.keyring);
		log_error("not ready: %s", err);
		unload(p, err);
		return;
	}
	if (filestamp_eq(&id, &p->keyring_id))
		return;
	if (keyring_load(p->cur->cfg.keyring, &kr, err, sizeof(err)) == -1) {
		log_error("not ready: keyring changed and cannot be loaded: %s",
		    err);
		unload(p, err);
		return;
	}
	if ((a = state_copy(p)) == NULL) {
		keyring_free(kr);
		return;			/* tried again at the next request */
	}
	pthread_mutex_lock(&p->lock);
	if (part_set(a, APP_PART_KR, kr) == -1)
		kr = NULL;
	pthread_mutex_unlock(&p->lock);
	if (kr == NULL) {
		state_drop(p, a);
		return;
	}
	a->kr = kr;
	p->keyring_id = id;
	publish(p, a);
	log_info("keyring reloaded: %zu keys, active %s", kr->nkeys,
	    keyring_active(kr)->id);
}

/*
 * A copy of the published state with new JWT keys (secret or JWKS) in
 * part kind (the secret is len bytes), and a new token cache (the old
 * one holds tokens verified under the old keys); published.  v is freed
 * when that fails.
 */
static void
publish_keys(struct app_proc *p, enum app_part_kind kind, void *v,
    size_t len)
{
	struct jwt_cache	*cache = NULL;
	struct app		*a;
	int			 rc;

	if ((a = state_copy(p)) == NULL ||
	    (!(p->flags & APP_CGI) && (cache = jwt_cache_new()) == NULL)) {
		if (v != NULL)
			part_free[kind](v);
		state_drop(p, a);
		return;
	}
	pthread_mutex_lock(&p->lock);
	rc = part_set(a, kind, v);
	if (rc == 0 && cache != NULL)
		rc = part_set(a, APP_PART_CACHE, cache);
	else if (cache != NULL)
		jwt_cache_free(cache);
	pthread_mutex_unlock(&p->lock);
	if (rc == -1) {
		state_drop(p, a);
		return;
	}
	a->jk.cache = cache;
	if (kind == APP_PART_JWKS)
		a->jk.jwks = v;
	else {
		a->jk.hs_secret = v;
		a->jk.hs_len = len;
	}
	publish(p, a);
}

/*
 * Re-reads the JWT secret when its file changed (a new secret takes
 * effect without a restart), looking at most once a second.
 * A secret that no longer loads (gone, too short, opened up to others)
 * is no secret: HS* tokens are refused until the file is right again.
 */
static void
refresh_secret(struct app_proc *p)
{
	struct filestamp	 now_st;
	unsigned char		*s;
	size_t			 n;
	char			 err[512];
	time_t			 now = time(NULL);

	if (p->cur->cfg.jwt_secret_file == NULL || now == p->secret_checked)
		return;
	p->secret_checked = now;
	(void)filestamp_get(p->cur->cfg.jwt_secret_file, &now_st);
	if (filestamp_eq(&now_st, &p->secret_seen))
		return;
	if (jwt_secret_load(p->cur->cfg.jwt_secret_file, &s, &n,
	    &p->secret_seen, err, sizeof(err)) == -1) {
		log_error("jwt: HS* tokens refused until the secret loads: %s",
		    err);
		s = NULL;
		n = 0;
	} else
		log_info("jwt: %s re-read", p->cur->cfg.jwt_secret_file);
	publish_keys(p, APP_PART_SECRET, s, n);
}

/*
 * Re-reads the JWKS when its file was replaced or rewritten, looking at
 * most once a second.  A new file that does not load leaves the old keys
 * in place (a typo must not lock every user out) and is logged once; the
 * next change of the file is tried again.
 */
static void
refresh_jwks(struct app_proc *p)
{
	struct filestamp	 now_st, read_st;
	struct jwks		*ks;
	char			 err[512];
	const char		*path = p->cur->cfg.jwt_jwks_file;
	time_t			 now;

	if (path == NULL)
		return;
	now = time(NULL);
	if (now == p->jwks_checked)
		return;
	p->jwks_checked = now;
	(void)filestamp_get(path, &now_st);
	if (filestamp_eq(&now_st, &p->jwks_seen))
		return;
	ks = jwks_load(path, &read_st, err, sizeof(err));
	p->jwks_seen = read_st;
	if (ks == NULL) {
		log_error("jwks: keeping the %zu keys loaded before: %s",
		    jwks_nkeys(p->cur->jk.jwks), err);
		return;
	}
	log_info("jwks: %s re-read: %zu usable keys", path, jwks_nkeys(ks));
	publish_keys(p, APP_PART_JWKS, ks, 0);
}

/*
 * The checks of app_acquire, under the reload lock: p->cur changes only
 * here (and in app_init, app_free), so reading it needs no other lock.
 */
static void
check(struct app_proc *p)
{
	time_t now;

	if (p->cur != NULL) {
		/*
		 * The keyring's file is looked at once a second (time() is
		 * no system call), not at every request.  A value sealed
		 * meanwhile with the key before a rotation is re-wrapped by
		 * rotate-key's later passes (or sealed again at its commit,
		 * when that key was retired); a value under a key this
		 * process has not loaded yet opens with the file's keyring
		 * (credsvc_open).
		 */
		now = time(NULL);
		if (now != p->keyring_checked) {
			p->keyring_checked = now;
			refresh(p);
		}
		/* refresh() may have unloaded everything */
		if (p->cur != NULL)
			refresh_jwks(p);
		if (p->cur != NULL)
			refresh_secret(p);
		return;
	}
	now = time(NULL);
	if (now == p->last_try)
		return;
	p->last_try = now;
	(void)load(p);
}

struct app *
app_acquire(struct app_proc *p)
{
	struct app *a;

	/* a thread that finds another one checking uses what is published */
	if (pthread_mutex_trylock(&p->reload) == 0) {
		check(p);
		pthread_mutex_unlock(&p->reload);
	}
	pthread_mutex_lock(&p->lock);
	if ((a = p->cur) != NULL)
		a->refs++;
	else
		a = &p->down;
	pthread_mutex_unlock(&p->lock);
	tl_view = a;
	return a;
}

void
app_release(struct app *a)
{
	struct app_proc *p;

	if (a == NULL)
		return;
	tl_view = NULL;
	p = a->proc;
	pthread_mutex_lock(&p->lock);
	state_unref(a);
	pthread_mutex_unlock(&p->lock);
}

void
app_maintain(struct app_proc *p)
{
	struct store *st;

	if (!store_maintain_due())
		return;
	/* the store stays open until app_free, after every thread */
	pthread_mutex_lock(&p->lock);
	st = p->cur != NULL ? p->cur->st : NULL;
	pthread_mutex_unlock(&p->lock);
	if (st != NULL)
		store_maintain(st);
}

void
app_free(struct app_proc *p)
{
	publish(p, NULL);
	tmpl_set_free(p->tmpl);
	p->tmpl = NULL;
	free(p->css);
	p->css = NULL;
	store_close(p->st);
	p->st = NULL;
	proxy_thread_end();
	probe_cleanup();
	free(p->config_path);
	p->config_path = NULL;
	pthread_mutex_destroy(&p->tmpl_lock);
	pthread_mutex_destroy(&p->reload);
	pthread_mutex_destroy(&p->lock);
}
