/*
 * repl: the replication side of the storage module (SPEC section 11).
 * Process-wide settings taken from the configuration before the store
 * opens; the Replication Manager's configuration of a DB_ENV, its start,
 * its events; the site's role, master and lag.  Strictly off unless
 * repl_self is configured: then every function here is a no-op and the
 * store is a single site.
 *
 * Berkeley DB 5.3's rules for several processes (Programmer's Reference,
 * "Running Replication Manager in multiple processes"): the first process
 * to call repmgr_start opens the listening socket and runs elections and
 * message processing (the replication process: `credstore-admin
 * repl-serve`, which alone runs recovery); every other process joins the
 * environment without recovery and calls repmgr_start too (a subordinate:
 * it only opens outgoing connections to send the log records of its own
 * commits on a master).  Every handle has DB_THREAD.  Events reach only
 * the process where they happen; DB_EVENT_REP_PERM_FAILED reaches the
 * committing thread of any process.
 */
#ifndef CS_REPL_H
#define CS_REPL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rectypes.h"

enum repl_role {
	REPL_ROLE_SINGLE = 0,	/* no replication configured */
	REPL_ROLE_MASTER,
	REPL_ROLE_REPLICA,
	REPL_ROLE_NONE		/* starting, or electing: no role yet */
};

#define REPL_ADDRLEN	(REPL_HOSTLEN + 8)
/* a keyring's fingerprints (keyring_fingerprints), as sites report them */
#define REPL_KEYS_LEN	8192

struct repl_site {
	char		 addr[REPL_ADDRLEN];	/* host:port */
	int		 connected;
	int		 master;
};

struct repl_status {
	enum repl_role	 role;
	char		 self[REPL_ADDRLEN];
	char		 master[REPL_ADDRLEN];	/* "": no master known */
	int		 serving;	/* repl-serve holds its lock */
	int		 in_sync;	/* a replica done with start-up */
	uint64_t	 lag_bytes;	/* a replica's known gap in the log */
	struct repl_site sites[REPL_PEERS_MAX + 1];
	size_t		 nsites;
};

/*
 * Takes the replication settings of cfg for this process; server is 1
 * in repl-serve only.  0, or -1 and err.  Without repl_self: 0, off.
 */
int		 repl_configure(const struct config *cfg, int server,
		    char *err, size_t errlen);
int		 repl_enabled(void);
int		 repl_is_server(void);
const char	*repl_role_name(enum repl_role);
/* repl-serve's lock in data_dir: 1 while it runs, else 0. */
int		 repl_serving(const char *home);
/* repl-serve takes it (held until exit): 0, or -1 and err. */
int		 repl_serve_lock(const char *home, char *err, size_t errlen);

/* Around one commit: whether DB_EVENT_REP_PERM_FAILED came meanwhile. */
void		 repl_commit_begin(void);
int		 repl_commit_failed(void);
/* TCP_NODELAY on this process's replication sockets (at most once a s). */
void		 repl_nodelay(void);
/* repl-serve's main loop: set by the events. */
int		 repl_panicked(void);
/* This site's repl_self ("host:port") and repl_forward_url. */
const char	*repl_self(void);
const char	*repl_forward_url(void);

struct store;
/* This site's role, master, lag and sites (STORE_OK on a single site). */
enum store_rc	 store_repl_status(struct store *, struct repl_status *);
/*
 * repl-serve, a few times a second: once this site is the master, its
 * address and forward URL are written for the replicas (*announced set;
 * cleared when it is not the master).  0 or -1 (logged).
 */
int		 store_repl_tick(struct store *, int *announced);
/*
 * The forward URL the master `master` (host:port) announced: STORE_OK,
 * STORE_NOTFOUND when it has not (yet), or an error.
 */
/*
 * repl-serve, a few times a second (replkeys.c): every 2 s this site's
 * keyring fingerprints go to the master (on the master: recorded);
 * the master writes the sites' lists into the replicated meta database.
 */
void		 store_repl_keys_tick(struct store *, const char *keyring_path);
/* Before the store closes: ends the thread that sends the list. */
void		 store_repl_keys_stop(void);
/*
 * The fingerprints site (host:port) last reported: STORE_OK,
 * STORE_NOTFOUND when it never has.
 */
enum store_rc	 store_repl_site_keys(struct store *, const char *site,
		    char *keys, size_t len);
struct json_object;
/* s as JSON members of o: site, role, master, on a replica inSync and
 * lagBytes; with sites: serving and sites (repl-status). */
void		 repl_status_json(const struct repl_status *s,
		    struct json_object *o, int sites);
/* /healthz's members (nothing when the status cannot be read). */
void		 repl_health_json(struct store *, struct json_object *o);
enum store_rc	 store_repl_forward_url(struct store *, const char *master,
		    char *url, size_t urllen);

#endif
