/*
 * app: the process-wide state (configuration, catalog, keyring, JWT keys,
 * storage, HTTP client), loaded once per process and reused by every
 * request.  When something cannot be loaded the process stays up, answers
 * 503 and tries again at most once a second.
 */
#ifndef CS_APP_H
#define CS_APP_H

#include <sys/types.h>
#include <time.h>

#include "catalog.h"
#include "config.h"
#include "crypto.h"
#include "filestamp.h"
#include "jwks.h"
#include "jwt.h"
#include "store.h"
#include "tmpl.h"

/* Where the admin page's templates are, unless CREDSTORE_TEMPLATES says. */
const char	*app_templates_dir(void);

struct app {
	int		 flags;		/* APP_* */
	char		*config_path;
	struct config	 cfg;
	int		 have_cfg;
	struct catalog	*cat;
	struct keyring	*kr;
	struct jwt_keys	 jk;
	struct store	*st;
	struct tmpl_set	*tmpl;		/* NULL: admin pages unavailable */
	char		*css;		/* the admin page's stylesheet */
	size_t		 csslen;
	int		 tmpl_tried;
	struct filestamp keyring_id;	/* to notice a rotation */
	time_t		 last_refresh;
	struct filestamp jwks_seen;	/* the JWKS file last read */
	struct filestamp secret_seen;	/* the JWT secret file last read */
	time_t		 secret_checked;
	time_t		 jwks_checked;	/* when its stamp was last looked at */
	int		 ready;
	char		 why[512];	/* why not ready (logged, not shown) */
	time_t		 last_try;
};

/*
 * APP_CGI: one request per process; load only what a request needs (the
 * catalog's patterns are compiled when first used).
 */
#define APP_CGI	0x1

/* Loads everything; returns 0 when ready.  Never exits. */
int	 app_init(struct app *, const char *config_path, int flags);
/*
 * Retries a failed load (at most once a second) and re-reads files that
 * changed under a running process (the keyring after rotate-key, the
 * JWKS after a key rotation at the identity provider, looked at at most
 * once a second); 1 when ready.
 */
int	 app_ensure(struct app *);
/*
 * The admin page's templates, loaded on first use (an API request in CGI
 * mode never reads them); NULL when they cannot be loaded.
 */
const struct tmpl_set *app_tmpl(struct app *);
void	 app_free(struct app *);

#endif
