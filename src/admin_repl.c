/*
 * admin_repl: `credstore-admin repl-serve` (the replication process of a
 * site: it runs recovery, owns the listening socket, elections and
 * message threads, and announces itself when it becomes the master) and
 * `credstore-admin repl-status` (SPEC section 11).  repl-serve never
 * forks.
 */
#include "cs_build.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "admin.h"
#include "crypto.h"
#include "log.h"
#include "repl.h"
#include "store.h"

#define TICK_NS		(200 * 1000 * 1000)

static volatile sig_atomic_t stop_sig;

static void
on_stop(int sig)
{
	stop_sig = sig;
}

static void
catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

int
admin_cmd_repl_serve(struct config *cfg, int argc, char **argv)
{
	struct timespec	 ts = { 0, TICK_NS };
	struct store	*st;
	char		 err[512];
	int		 announced = 0, rc = EX_OK;

	(void)argc;
	(void)argv;
	if (cfg->repl_self == NULL)
		return admin_fail("%s: repl_self is not set: a single site has "
		    "no replication to serve", cfg->path);
	log_set_level(cfg->log_level);
	if (repl_configure(cfg, 1, err, sizeof(err)) == -1)
		return admin_fail("%s", err);
	catch_stop();
	if (store_open(cfg->data_dir, cfg->durability, &st, err,
	    sizeof(err)) == -1)
		return admin_fail("%s", err);
	if (repl_serve_lock(cfg->data_dir, err, sizeof(err)) == -1) {
		store_close(st);
		return admin_fail("%s", err);
	}
	log_info("replication: %s serving, peers %s, ack policy %s",
	    repl_self(), cfg->repl_peers, repl_ack_name(cfg->repl_ack_policy));
	while (!stop_sig) {
		(void)nanosleep(&ts, NULL);
		if (repl_panicked()) {
			log_error("replication: stopping after a panic; "
			    "start repl-serve again (it recovers)");
			rc = EX_FAIL;
			break;
		}
		(void)store_repl_tick(st, &announced);
		store_repl_keys_tick(st, cfg->keyring);
		repl_nodelay();
	}
	if (stop_sig)
		log_info("replication: %s stopping (signal %d)", repl_self(),
		    (int)stop_sig);
	store_repl_keys_stop();
	store_close(st);
	return rc;
}

int
admin_cmd_repl_status(struct config *cfg, int argc, char **argv)
{
	struct repl_status	 s;
	struct json_object	*o;
	struct store		*st;

	(void)argc;
	(void)argv;
	if (cfg->repl_self == NULL) {
		printf("{\"role\":\"single\"}\n");
		return EX_OK;
	}
	if (admin_open_store(cfg, &st) == -1)
		return EX_FAIL;
	if (store_repl_status(st, &s) != STORE_OK) {
		store_close(st);
		return admin_fail("%s: replication status unavailable",
		    cfg->data_dir);
	}
	store_close(st);
	o = json_object_new_object();
	repl_status_json(&s, o, 1);
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return EX_OK;
}

struct without {
	struct store	*st;
	const char	*fp;		/* "ID:FP" */
	char		*out;
	size_t		 len, n;
};

/* Whether a list "ID:FP,ID:FP..." holds fp as one of its items. */
static int
has_item(const char *list, const char *fp)
{
	size_t		 fl = strlen(fp);
	const char	*p = list;

	while ((p = strstr(p, fp)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[fl] == ',' || p[fl] == '\0'))
			return 1;
		p += fl;
	}
	return 0;
}

static int
site_without(const char *host, unsigned port, void *arg)
{
	struct without	*w = arg;
	char		 site[REPL_ADDRLEN], keys[REPL_KEYS_LEN];
	size_t		 l = strlen(w->out);

	snprintf(site, sizeof(site), "%s:%u", host, port);
	if (store_repl_site_keys(w->st, site, keys, sizeof(keys)) == STORE_OK &&
	    has_item(keys, w->fp))
		return 0;
	snprintf(w->out + l, w->len - l, "%s%s", l > 0 ? ", " : "", site);
	w->n++;
	return 0;
}

size_t
admin_repl_sites_without(struct config *cfg, struct store *st,
    const struct keyring *kr, char *out, size_t len)
{
	struct without	 w;
	char		 fps[REPL_KEYS_LEN];
	const char	*last;

	out[0] = '\0';
	memset(&w, 0, sizeof(w));
	if (keyring_fingerprints(kr, fps, sizeof(fps)) == -1) {
		snprintf(out, len, "(the keyring is too large)");
		return 1;
	}
	last = strrchr(fps, ',');
	w.st = st;
	w.fp = last != NULL ? last + 1 : fps;
	w.out = out;
	w.len = len;
	(void)config_hostports(cfg->repl_peers, site_without, &w);
	return w.n;
}

int
admin_repl_is_master(struct store *st)
{
	struct repl_status s;

	return store_repl_status(st, &s) == STORE_OK &&
	    s.role == REPL_ROLE_MASTER;
}
