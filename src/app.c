#include "cs_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "repl.h"
#include "probe.h"
#include "secmem.h"
#include "util.h"

/*
 * The store's MAC (records, audit chain, audit head): HMAC-SHA256 under a
 * key derived from the keyring for label.
 */
static int
store_mac(const char *label, const void *p, size_t n,
    unsigned char out[STORE_MAC_LEN], void *arg)
{
	struct app *a = arg;

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

/*
 * The admin page's templates and stylesheet.  Their absence is logged and
 * makes only the admin page unavailable; the API does not need them.
 */
static void
load_templates(struct app *a)
{
	char		 err[512], path[4096];
	const char	*dir = app_templates_dir();
	FILE		*f;
	struct buf	 b;
	char		 chunk[4096];
	size_t		 n;

	if ((a->tmpl = tmpl_load_dir(dir, err, sizeof(err))) == NULL) {
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
	a->css = buf_steal(&b, &a->csslen);
}

static void
unload(struct app *a)
{
	tmpl_set_free(a->tmpl);
	a->tmpl = NULL;
	a->tmpl_tried = 0;
	free(a->css);
	a->css = NULL;
	a->csslen = 0;
	store_close(a->st);
	a->st = NULL;
	keyring_free(a->kr);
	a->kr = NULL;
	catalog_free(a->cat);
	a->cat = NULL;
	jwt_secret_free(a->jk.hs_secret);
	a->jk.hs_secret = NULL;
	a->jk.hs_len = 0;
	jwks_free(a->jk.jwks);
	a->jk.jwks = NULL;
	jwt_cache_free(a->jk.cache);
	a->jk.cache = NULL;
	if (a->have_cfg)
		config_free(&a->cfg);
	a->have_cfg = 0;
	a->ready = 0;
}

static int
load(struct app *a)
{
	char err[512];

	if (config_load(a->config_path, &a->cfg, err, sizeof(err)) == -1)
		goto fail;
	a->have_cfg = 1;
	log_set_level(a->cfg.log_level);
	log_set_target(a->cfg.log_target, a->cfg.log_facility);
	if ((a->cat = catalog_load_flags(a->cfg.catalog,
	    (a->flags & APP_CGI) ? CATALOG_LAZY : 0, err, sizeof(err))) == NULL)
		goto fail;
	(void)filestamp_get(a->cfg.keyring, &a->keyring_id);
	if (keyring_load(a->cfg.keyring, &a->kr, err, sizeof(err)) == -1)
		goto fail;
	if (a->cfg.jwt_secret_file != NULL &&
	    jwt_secret_load(a->cfg.jwt_secret_file, &a->jk.hs_secret,
	    &a->jk.hs_len, &a->secret_seen, err, sizeof(err)) == -1)
		goto fail;
	/* A malformed JWKS is not ready, never a partial set of keys. */
	if (a->cfg.jwt_jwks_file != NULL &&
	    (a->jk.jwks = jwks_load(a->cfg.jwt_jwks_file, &a->jwks_seen, err,
	    sizeof(err))) == NULL)
		goto fail;
	a->jwks_checked = time(NULL);
	/* tokens verified under these keys and this policy (jwt.h); a CGI
	 * process sees one token */
	if (!(a->flags & APP_CGI) && (a->jk.cache = jwt_cache_new()) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (a->cfg.jwt_secret_file == NULL && a->cfg.jwt_jwks_file == NULL) {
		snprintf(err, sizeof(err), "%s: neither jwt_secret_file nor "
		    "jwt_jwks_file is set: no token can be verified",
		    a->config_path);
		goto fail;
	}
	if (repl_configure(&a->cfg, 0, err, sizeof(err)) == -1 ||
	    store_open(a->cfg.data_dir, a->cfg.durability, &a->st, err,
	    sizeof(err)) == -1)
		goto fail;
	store_set_mac(a->st, store_mac, a);
	store_set_cred_cap(a->st, a->cfg.max_credentials_per_tenant);
	/* libcurl is loaded by the first check, templates by the first page */
	a->ready = 1;
	a->why[0] = '\0';
	return 0;
fail:
	snprintf(a->why, sizeof(a->why), "%s", err);
	log_error("not ready: %s", err);
	unload(a);
	return -1;
}

const struct tmpl_set *
app_tmpl(struct app *a)
{
	if (!a->tmpl_tried) {
		a->tmpl_tried = 1;
		load_templates(a);
	}
	return a->tmpl;
}

int
app_init(struct app *a, const char *config_path, int flags)
{
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	/* it holds keys: no core dump, no ptrace by other users */
	if (secmem_no_dumps() == -1)
		log_warn("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	if ((a->config_path = strdup(config_path)) == NULL)
		return -1;
	a->last_try = time(NULL);
	return load(a);
}

/*
 * Re-reads the keyring when its file changed (key rotation, retirement).
 * A keyring that no longer loads keeps the old one in use, logged.
 */
static void
refresh(struct app *a)
{
	struct filestamp id;
	struct keyring	*kr;
	char		 err[512];

	if (filestamp_get(a->cfg.keyring, &id) == -1) {
		/* a keyring that went away: no more service with a stale copy */
		snprintf(a->why, sizeof(a->why), "%s: keyring is gone",
		    a->cfg.keyring);
		log_error("not ready: %s", a->why);
		unload(a);
		return;
	}
	if (filestamp_eq(&id, &a->keyring_id))
		return;
	if (keyring_load(a->cfg.keyring, &kr, err, sizeof(err)) == -1) {
		snprintf(a->why, sizeof(a->why), "%s", err);
		log_error("not ready: keyring changed and cannot be loaded: %s",
		    err);
		unload(a);
		return;
	}
	keyring_free(a->kr);
	a->kr = kr;
	a->keyring_id = id;
	log_info("keyring reloaded: %zu keys, active %s", kr->nkeys,
	    keyring_active(kr)->id);
}

/*
 * Re-reads the JWT secret when its file changed (a new secret takes
 * effect without a restart), looking at most once a second.
 * A secret that no longer loads (gone, too short, opened up to others)
 * is no secret: HS* tokens are refused until the file is right again.
 */
static void
refresh_secret(struct app *a)
{
	struct filestamp	 now_st;
	unsigned char		*s;
	size_t			 n;
	char			 err[512];
	time_t			 now = time(NULL);

	if (a->cfg.jwt_secret_file == NULL || now == a->secret_checked)
		return;
	a->secret_checked = now;
	(void)filestamp_get(a->cfg.jwt_secret_file, &now_st);
	if (filestamp_eq(&now_st, &a->secret_seen))
		return;
	if (jwt_secret_load(a->cfg.jwt_secret_file, &s, &n, &a->secret_seen,
	    err, sizeof(err)) == -1) {
		log_error("jwt: HS* tokens refused until the secret loads: %s",
		    err);
		s = NULL;
		n = 0;
	} else
		log_info("jwt: %s re-read", a->cfg.jwt_secret_file);
	jwt_secret_free(a->jk.hs_secret);
	a->jk.hs_secret = s;
	a->jk.hs_len = n;
	jwt_cache_clear(a->jk.cache);	/* verified under the old secret */
}

/*
 * Re-reads the JWKS when its file was replaced or rewritten, looking at
 * most once a second.  A new file that does not load leaves the old keys
 * in place (a typo must not lock every user out) and is logged once; the
 * next change of the file is tried again.
 */
static void
refresh_jwks(struct app *a)
{
	struct filestamp	 now_st, read_st;
	struct jwks		*ks;
	char			 err[512];
	time_t			 now;

	if (a->cfg.jwt_jwks_file == NULL)
		return;
	now = time(NULL);
	if (now == a->jwks_checked)
		return;
	a->jwks_checked = now;
	(void)filestamp_get(a->cfg.jwt_jwks_file, &now_st);
	if (filestamp_eq(&now_st, &a->jwks_seen))
		return;
	ks = jwks_load(a->cfg.jwt_jwks_file, &read_st, err, sizeof(err));
	a->jwks_seen = read_st;
	if (ks == NULL) {
		log_error("jwks: keeping the %zu keys loaded before: %s",
		    jwks_nkeys(a->jk.jwks), err);
		return;
	}
	jwks_free(a->jk.jwks);
	a->jk.jwks = ks;
	jwt_cache_clear(a->jk.cache);	/* verified under the old keys */
	log_info("jwks: %s re-read: %zu usable keys", a->cfg.jwt_jwks_file,
	    jwks_nkeys(ks));
}

int
app_ensure(struct app *a)
{
	time_t now;

	if (a->ready) {
		/* a stat per request: rotation must be seen at once */
		refresh(a);
		/* refresh() may have unloaded everything, the config too */
		if (a->ready) {
			refresh_jwks(a);
			refresh_secret(a);
			return 1;
		}
	}
	now = time(NULL);
	if (now == a->last_try)
		return 0;
	a->last_try = now;
	return load(a) == 0;
}

void
app_free(struct app *a)
{
	unload(a);
	probe_cleanup();
	free(a->config_path);
	a->config_path = NULL;
}
