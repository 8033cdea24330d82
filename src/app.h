/*
 * app: the process-wide state (configuration, catalog, keyring, JWT keys,
 * storage, HTTP client), loaded once per process and reused by every
 * request.  When something cannot be loaded the process stays up, answers
 * 503 and tries again at most once a second.
 */
#ifndef CS_APP_H
#define CS_APP_H

#include <sys/types.h>
#include <pthread.h>
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

/* The parts of a loaded state, each shared by the states that hold it. */
enum app_part_kind {
	APP_PART_CFG = 0,	/* struct config (its strings) */
	APP_PART_CAT,
	APP_PART_KR,
	APP_PART_JWKS,
	APP_PART_SECRET,
	APP_PART_CACHE,		/* the verified-token cache of these keys */
	APP_PART__MAX
};

struct app_part;
struct app_proc;

/*
 * What one request sees (its ctx's app): a loaded state, never changed
 * once published.  A reload publishes a new one that shares the parts
 * it did not reload; a state is freed when the process and the last
 * request that acquired it let go, so a reload never frees what a running
 * request uses.  The not-ready view has ready 0 and every pointer NULL.
 */
struct app {
	struct app_proc	*proc;
	int		 refs;		/* under the process's lock */
	int		 ready;
	struct config	 cfg;		/* strings owned by part APP_PART_CFG */
	struct catalog	*cat;
	struct keyring	*kr;
	struct jwt_keys	 jk;
	struct store	*st;		/* the process's */
	struct app_part	*part[APP_PART__MAX];
};

/*
 * The process-wide state, shared by the threads of a FastCGI process:
 * the published state, the storage (one environment per process, opened
 * by the first load and kept until app_free), the admin page's
 * templates, and what the reload checks remember.
 */
struct app_proc {
	pthread_mutex_t	 lock;		/* cur and every refs count */
	pthread_mutex_t	 reload;	/* one load or refresh at a time, and
					 * the members from flags down */
	pthread_mutex_t	 tmpl_lock;	/* tmpl, css, tmpl_tried */
	struct app	*cur;		/* NULL: not ready */
	struct app	 down;		/* the not-ready view */
	struct store	*st;
	struct tmpl_set	*tmpl;		/* NULL: admin pages unavailable */
	char		*css;		/* the admin page's stylesheet */
	size_t		 csslen;
	int		 tmpl_tried;
	int		 flags;		/* APP_* */
	char		*config_path;
	struct filestamp keyring_id;	/* to notice a rotation */
	time_t		 keyring_checked; /* when its stamp was last looked at */
	struct filestamp jwks_seen;	/* the JWKS file last read */
	struct filestamp secret_seen;	/* the JWT secret file last read */
	time_t		 secret_checked;
	time_t		 jwks_checked;	/* when its stamp was last looked at */
	char		 why[512];	/* why not ready (logged, not shown) */
	time_t		 last_try;
};

/*
 * APP_CGI: one request per process; load only what a request needs (the
 * catalog's patterns are compiled when first used).
 */
#define APP_CGI	0x1

/* Loads everything; returns 0 when ready.  Never exits. */
int	 app_init(struct app_proc *, const char *config_path, int flags);
/*
 * The state for one request, from any thread; app_release gives it back.
 * Before, it retries a failed load (at most once a second) and re-reads
 * files that changed under a running process (the keyring after
 * rotate-key, the JWKS and the JWT secret, each looked at at most once a
 * second: a rotation, or a keyring gone, is seen within a second), unless
 * another thread is doing that right now.  Never NULL: the not-ready view
 * when nothing is loaded.
 */
struct app *app_acquire(struct app_proc *);
void	 app_release(struct app *);
/*
 * The admin page's templates, loaded on first use (an API request in CGI
 * mode never reads them); NULL when they cannot be loaded.  app_css: the
 * stylesheet that goes with them (NULL, 0 when none).
 */
const struct tmpl_set *app_tmpl(struct app *);
const char *app_css(struct app *, size_t *len);
/*
 * Work a request left for after its answer (a storage checkpoint):
 * called by a thread once the answer went out, before it takes another
 * request.  Costs nothing when there is none.
 */
void	 app_maintain(struct app_proc *);
/* After every thread that acquired a state has ended. */
void	 app_free(struct app_proc *);

#endif
