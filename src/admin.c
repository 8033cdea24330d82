/*
 * admin: what the commands of credstore-admin share (admin.h): the one
 * error line, the usage text, the keyring and storage opened as the
 * server opens them, an operator's audit event.
 */
#include "cs_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "crypto.h"
#include "store.h"

const char admin_progname[] = "credstore-admin";

/* printf format: the program name twice */
#define USAGE_TEXT \
    "usage: %s [-c CONFIG] COMMAND [ARGS]\n" \
    "       %s --help | --version\n" \
    "commands:\n" \
    "  init [--user USER]\n" \
    "  token --sub S --tenant T [--role R]... [--ttl SECONDS]\n" \
    "  list [--tenant T] [--provider P]\n" \
    "  keys\n" \
    "  verify [--expect-head SEQ:MAC]\n" \
    "  rotate-key\n" \
    "  retire-key ID\n" \
    "  shred\n" \
    "  upgrade\n" \
    "  backup DIR\n" \
    "  audit [--tenant T]\n" \
    "  revalidate [--tenant T] [--provider P] [--older-than DURATION]\n" \
    "             [--jobs N]\n" \
    "  repl-serve\n" \
    "  repl-status\n"

void
admin_usage(void)
{
	fprintf(stderr, USAGE_TEXT, admin_progname, admin_progname);
}

void
admin_help(void)
{
	printf(USAGE_TEXT, admin_progname, admin_progname);
	printf("options:\n"
	    "  -c CONFIG      the configuration file (default: $CREDSTORE_CONFIG,\n"
	    "                 else %s)\n"
	    "  -h, --help     this text\n"
	    "  --version      the version\n"
	    "exit status: 0 success, 1 failure, 2 bad usage (revalidate: 3 when\n"
	    "a credential is now rejected); see credstore-admin(8)\n",
	    config_default_path());
}

int
admin_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", admin_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EX_FAIL;
}

/*
 * Run as root, credstore-admin acts as data_dir's owner while the storage
 * is open: the files Berkeley DB creates meanwhile (log files, regions)
 * then belong to the server's user, not to root, and the server can still
 * open them (issue 15).  Only the effective ids change; admin_priv_root
 * goes back to root for what must be done as root (the keyring keeps its
 * owner; a backup is written as root).
 */
static struct {
	int	active;
	uid_t	uid;
	gid_t	gid;
} owner;

static void
become_owner(const char *dir)
{
	struct stat sb;

	if (owner.active || getuid() != 0 || geteuid() != 0 ||
	    stat(dir, &sb) == -1 || sb.st_uid == 0)
		return;
	owner.uid = sb.st_uid;
	owner.gid = sb.st_gid;
	if (setegid(owner.gid) == -1)
		return;
	if (seteuid(owner.uid) == -1) {
		(void)setegid(0);
		return;
	}
	owner.active = 1;
}

void
admin_priv_root(void)
{
	if (owner.active && seteuid(0) == 0)
		(void)setegid(0);
}

void
admin_priv_owner(void)
{
	if (owner.active && setegid(owner.gid) == 0)
		(void)seteuid(owner.uid);
}

int
admin_open_store(struct config *cfg, struct store **st)
{
	char err[512];

	become_owner(cfg->data_dir);
	if (store_open(cfg->data_dir, cfg->durability, st, err,
	    sizeof(err)) == -1) {
		admin_priv_root();
		owner.active = 0;
		admin_fail("%s", err);
		return -1;
	}
	return 0;
}

/* A checkpoint first: the files alone are then consistent (db_dump). */
void
admin_close_store(struct store *st)
{
	store_checkpoint(st);
	store_close(st);
	admin_priv_root();
	owner.active = 0;
}

/* The store's MAC, keyed as the server keys it (app.c). */
static int
store_mac(const char *label, const void *p, size_t n,
    unsigned char out[STORE_MAC_LEN], void *arg)
{
	return crypto_mac(arg, label, p, n, out);
}

void
admin_set_mac(struct store *st, struct keyring *kr)
{
	store_set_mac(st, store_mac, kr);
}

int
admin_open_all(struct config *cfg, struct keyring **kr, struct store **st)
{
	char err[512];

	if (keyring_load(cfg->keyring, kr, err, sizeof(err)) == -1) {
		admin_fail("%s", err);
		return -1;
	}
	if (admin_open_store(cfg, st) == -1) {
		keyring_free(*kr);
		return -1;
	}
	admin_set_mac(*st, *kr);
	return 0;
}

void
admin_event(struct audit_ev *ev, const char *action, const char *outcome)
{
	const char *user = getenv("SUDO_USER");

	if (user == NULL)
		user = getenv("USER");
	memset(ev, 0, sizeof(*ev));
	ev->time = time(NULL);
	ev->subject = user != NULL ? user : "credstore-admin";
	ev->action = action;
	ev->outcome = outcome;
	ev->client = "credstore-admin";
}
