/*
 * credstore-admin: the operators' command-line tool (SPEC section 7).
 * Exit 0 on success, 1 on failure, 2 on bad usage; errors are one line on
 * stderr.  Works on the same configuration, keyring and Berkeley DB
 * environment as the web binary, concurrently with it.
 */
#include "cs_build.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>

#include "catalog.h"
#include "config.h"
#include "credmeta.h"
#include "credset.h"
#include "credsvc.h"
#include "crypto.h"
#include "jwt.h"
#include "jsonx.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2

static const char *progname = "credstore-admin";

static void
usage(void)
{
	fprintf(stderr,
	    "usage: %s [-c CONFIG] COMMAND [ARGS]\n"
	    "commands:\n"
	    "  init\n"
	    "  token --sub S --tenant T [--role R]... [--ttl SECONDS]\n"
	    "  list [--tenant T] [--provider P]\n"
	    "  keys\n"
	    "  verify [--expect-head SEQ:MAC]\n"
	    "  rotate-key\n"
	    "  retire-key ID\n"
	    "  shred\n"
	    "  backup DIR\n"
	    "  audit [--tenant T]\n", progname);
}

static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void	close_store(struct store *);

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EX_FAIL;
}

/* mkdir -p with mode for the directories it creates. */
static int
mkdirs(const char *path, mode_t mode)
{
	char	*p, *s;
	int	 rc = 0;

	if ((p = strdup(path)) == NULL)
		return -1;
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, mode) == -1 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static int
create_secret(const char *path, char *err, size_t errlen)
{
	unsigned char	 s[48];
	int		 fd;
	ssize_t		 w;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, s, sizeof(s)) != 0) {
		close(fd);
		unlink(path);
		snprintf(err, errlen, "random generator failed");
		return -1;
	}
	w = write(fd, s, sizeof(s));
	secure_wipe(s, sizeof(s));
	if (w != (ssize_t)sizeof(s) || fsync(fd) == -1) {
		close(fd);
		unlink(path);
		snprintf(err, errlen, "%s: write failed", path);
		return -1;
	}
	close(fd);
	return 0;
}

static int
cmd_init(struct config *cfg)
{
	struct keyring	*kr;
	struct store	*st;
	char		 err[512];
	struct stat	 sb;

	if (mkdirs(cfg->data_dir, 0700) == -1)
		return fail("%s: cannot create data_dir: %s", cfg->data_dir,
		    strerror(errno));
	if (stat(cfg->keyring, &sb) == -1) {
		if (errno != ENOENT)
			return fail("%s: %s", cfg->keyring, strerror(errno));
		if (keyring_create(cfg->keyring, err, sizeof(err)) == -1)
			return fail("%s", err);
		printf("created keyring %s\n", cfg->keyring);
	}
	if (keyring_load(cfg->keyring, &kr, err, sizeof(err)) == -1)
		return fail("%s", err);
	keyring_free(kr);
	if (cfg->jwt_secret_file != NULL &&
	    stat(cfg->jwt_secret_file, &sb) == -1) {
		if (errno != ENOENT)
			return fail("%s: %s", cfg->jwt_secret_file,
			    strerror(errno));
		if (create_secret(cfg->jwt_secret_file, err, sizeof(err)) == -1)
			return fail("%s", err);
		printf("created JWT secret %s\n", cfg->jwt_secret_file);
	}
	if (store_open(cfg->data_dir, cfg->durability, &st, err,
	    sizeof(err)) == -1)
		return fail("%s", err);
	close_store(st);
	printf("ready: data_dir %s\n", cfg->data_dir);
	return EX_OK;
}

static int
cmd_token(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sub", required_argument, NULL, 's' },
		{ "tenant", required_argument, NULL, 't' },
		{ "role", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*sub = NULL, *tenant = NULL;
	struct json_object	*claims, *roles;
	unsigned char		*secret;
	size_t			 slen;
	long			 ttl = 3600;
	char			 err[512], *tok;
	int			 ch, nroles = 0;
	time_t			 now = time(NULL);

	roles = json_object_new_array();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sub = optarg;
			break;
		case 't':
			tenant = optarg;
			break;
		case 'r':
			json_object_array_add(roles, json_object_new_string(optarg));
			nroles++;
			break;
		case 'l':
			if (parse_long(optarg, 1, 366L * 86400, &ttl) == -1) {
				json_object_put(roles);
				fprintf(stderr, "%s: --ttl must be 1-31622400 seconds\n",
				    progname);
				return EX_USAGE;
			}
			break;
		default:
			json_object_put(roles);
			usage();
			return EX_USAGE;
		}
	}
	if (sub == NULL || tenant == NULL || optind != argc) {
		json_object_put(roles);
		fprintf(stderr, "%s: token needs --sub and --tenant\n", progname);
		return EX_USAGE;
	}
	if (cfg->jwt_secret_file == NULL) {
		json_object_put(roles);
		return fail("%s: jwt_secret_file is not set", cfg->path);
	}
	if (jwt_secret_load(cfg->jwt_secret_file, &secret, &slen, NULL, err,
	    sizeof(err)) == -1) {
		json_object_put(roles);
		return fail("%s", err);
	}
	claims = json_object_new_object();
	json_object_object_add(claims, "sub", json_object_new_string(sub));
	json_object_object_add(claims, cfg->tenant_claim,
	    json_object_new_string(tenant));
	if (nroles == 1) {
		json_object_object_add(claims, cfg->jwt_role_claim,
		    json_object_get(json_object_array_get_idx(roles, 0)));
		json_object_put(roles);
	} else
		json_object_object_add(claims, cfg->jwt_role_claim, roles);
	if (cfg->jwt_issuer != NULL)
		json_object_object_add(claims, "iss",
		    json_object_new_string(cfg->jwt_issuer));
	if (cfg->jwt_audience != NULL)
		json_object_object_add(claims, "aud",
		    json_object_new_string(cfg->jwt_audience));
	json_object_object_add(claims, "iat", json_object_new_int64(now));
	json_object_object_add(claims, "exp", json_object_new_int64(now + ttl));
	tok = jwt_sign_hs256(secret, slen, json_object_to_json_string_ext(claims,
	    JSON_C_TO_STRING_PLAIN));
	jwt_secret_free(secret);
	json_object_put(claims);
	if (tok == NULL)
		return fail("cannot sign the token");
	printf("%s\n", tok);
	free(tok);
	return EX_OK;
}

static int
print_rec(const struct cred_rec *r, void *arg)
{
	struct json_object	*o;

	if (arg != NULL && strcmp(r->provider, (const char *)arg) != 0)
		return 0;
	o = credmeta_json(r);
	json_object_object_add(o, "tenant", json_object_new_string(r->tenant));
	json_object_object_add(o, "keyId",
	    json_object_new_string(r->sealed.key_id));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static int
open_store(struct config *cfg, struct store **st)
{
	char err[512];

	if (store_open(cfg->data_dir, cfg->durability, st, err,
	    sizeof(err)) == -1) {
		fail("%s", err);
		return -1;
	}
	return 0;
}

/* A checkpoint first: the files alone are then consistent (db_dump). */
static void
close_store(struct store *st)
{
	store_checkpoint(st);
	store_close(st);
}

/* The store's MAC, keyed as the server keys it (app.c). */
static int
store_mac(const char *label, const void *p, size_t n,
    unsigned char out[STORE_MAC_LEN], void *arg)
{
	return crypto_mac(arg, label, p, n, out);
}

/* Keyring and storage, with the audit chain keyed as the server does. */
static int
open_all(struct config *cfg, struct keyring **kr, struct store **st)
{
	char err[512];

	if (keyring_load(cfg->keyring, kr, err, sizeof(err)) == -1) {
		fail("%s", err);
		return -1;
	}
	if (open_store(cfg, st) == -1) {
		keyring_free(*kr);
		return -1;
	}
	store_set_mac(*st, store_mac, *kr);
	return 0;
}

static void
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

static int
cmd_list(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "provider", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*tenant = NULL, *provider = NULL;
	struct keyring	*kr;
	struct store	*st;
	enum store_rc	 rc;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			tenant = optarg;
			break;
		case 'p':
			provider = optarg;
			break;
		default:
			usage();
			return EX_USAGE;
		}
	}
	if (optind != argc || (provider != NULL &&
	    validate_scalar(VK_PROVIDER, provider, strlen(provider)) != NULL)) {
		usage();
		return EX_USAGE;
	}
	/* the keyring keys the records' MACs */
	if (open_all(cfg, &kr, &st) == -1)
		return EX_FAIL;
	/* without a tenant, a full walk filtered by provider in print_rec */
	rc = store_cred_list(st, tenant, tenant ? provider : NULL, NULL,
	    (size_t)-1, print_rec,
	    tenant ? NULL : (void *)(uintptr_t)provider);
	close_store(st);
	keyring_free(kr);
	if (rc != STORE_OK)
		return fail("list: %s", store_strerror(rc));
	return EX_OK;
}

/* The last audited change of one credential id. */
struct audited {
	char		 id[CREDENTIAL_ID_LEN + 1];
	size_t		 order;		/* of the event in the chain */
	uint64_t	 ver;		/* 0: the event carries none */
	int		 deleted, created;
};

struct verify_acc {
	struct keyring	*kr;
	size_t		 total, ok, bad;
	struct audited	*ev;		/* the chain's credential events */
	size_t		 nev, cap;
};

/* Collects one audit event of a credential (create, update, delete...). */
static int
collect_audit(const char *json, void *arg)
{
	struct verify_acc	*v = arg;
	struct json_object	*o, *x;
	struct audited		*a;
	const char		*id, *act;

	if ((o = json_tokener_parse(json)) == NULL)
		return 0;
	id = jsonx_get_str(o, "credentialId");
	act = jsonx_get_str(o, "action");
	if (id == NULL || act == NULL || strncmp(act, "credential.", 11) != 0 ||
	    strlen(id) != CREDENTIAL_ID_LEN)
		goto out;
	if (v->nev == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 256;
		if ((a = reallocarray(v->ev, v->cap, sizeof(*a))) == NULL) {
			json_object_put(o);
			return -1;
		}
		v->ev = a;
	}
	a = &v->ev[v->nev];
	memset(a, 0, sizeof(*a));
	memcpy(a->id, id, CREDENTIAL_ID_LEN + 1);
	a->order = v->nev++;
	a->deleted = strcmp(act, "credential.delete") == 0;
	a->created = strcmp(act, "credential.create") == 0;
	if ((x = jsonx_get(o, "version", json_type_int)) != NULL)
		a->ver = (uint64_t)json_object_get_int64(x);
out:
	json_object_put(o);
	return 0;
}

static int
cmp_audited(const void *a, const void *b)
{
	const struct audited	*x = a, *y = b;
	int			 c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Sorts the events by id, oldest first, and folds each id's into its
 * last event: created set when any was a create, ver the highest seen.
 */
static void
fold_audit(struct verify_acc *v)
{
	size_t i, j = 0;

	if (v->nev == 0)
		return;
	qsort(v->ev, v->nev, sizeof(*v->ev), cmp_audited);
	for (i = 1; i < v->nev; i++) {
		if (strcmp(v->ev[i].id, v->ev[j].id) != 0) {
			v->ev[++j] = v->ev[i];
			continue;
		}
		v->ev[i].created |= v->ev[j].created;
		if (v->ev[i].ver < v->ev[j].ver)
			v->ev[i].ver = v->ev[j].ver;
		v->ev[j] = v->ev[i];
	}
	v->nev = j + 1;
}

static int
cmp_id(const void *key, const void *e)
{
	return strcmp(key, ((const struct audited *)e)->id);
}

/* The record against the audit trail: 0, or -1 with a line printed. */
static int
cross_check(const struct verify_acc *v, const struct cred_rec *r)
{
	const struct audited	*a;
	const char		*why = NULL;

	a = v->nev ? bsearch(r->id, v->ev, v->nev, sizeof(*v->ev), cmp_id) :
	    NULL;
	if (a == NULL || !a->created)
		why = "has no audited create";
	else if (a->deleted)
		why = "was deleted: a deleted record was put back";
	else if (r->ver < a->ver)
		why = "is older than its last audited version: an older value "
		    "was put back";
	if (why == NULL)
		return 0;
	fprintf(stderr, "%s: record %s (tenant %s, provider %s, version %llu) "
	    "%s\n", progname, r->id, r->tenant, r->provider,
	    (unsigned long long)r->ver, why);
	return -1;
}

static int
verify_rec(const struct cred_rec *r, void *arg)
{
	struct verify_acc	*v = arg;
	struct credset		 cs;

	v->total++;
	if (credsvc_open(v->kr, r, &cs) == -1) {
		v->bad++;
		fprintf(stderr, "%s: record %s (tenant %s, provider %s) does not "
		    "decrypt\n", progname, r->id, r->tenant, r->provider);
		return 0;
	}
	credset_free(&cs);
	if (cross_check(v, r) == -1)
		v->bad++;
	else
		v->ok++;
	return 0;
}

/*
 * --expect-head SEQ:MAC (MAC a prefix of at least 8 hex digits of the
 * chain MAC of record SEQ, as the server logs it): the chain must reach
 * SEQ and record SEQ must have that MAC.  0, or -1 with a line printed.
 */
static int
check_head(struct store *st, const char *expect, size_t naudit)
{
	unsigned char	 mac[STORE_MAC_LEN];
	char		 hex[2 * STORE_MAC_LEN + 1], *end;
	const char	*m;
	unsigned long long seq;
	size_t		 i, n;

	errno = 0;
	seq = strtoull(expect, &end, 10);
	m = end + 1;
	n = strlen(m);
	if (errno != 0 || end == expect || *end != ':' || seq == 0 || n < 8 ||
	    n > 2 * STORE_MAC_LEN || strspn(m, "0123456789abcdef") != n) {
		fail("verify: --expect-head: SEQ:MAC, MAC 8 to 64 hex digits");
		return -1;
	}
	if (naudit < seq) {
		fail("verify: the audit chain ends at %zu, before the expected "
		    "head %llu: it was cut", naudit, seq);
		return -1;
	}
	if (store_audit_mac_at(st, seq, mac) != STORE_OK) {
		fail("verify: audit record %llu cannot be read", seq);
		return -1;
	}
	for (i = 0; i < STORE_MAC_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	if (strncmp(hex, m, n) != 0) {
		fail("verify: audit record %llu has MAC %.16s, not the expected "
		    "%s", seq, hex, m);
		return -1;
	}
	return 0;
}

static int
cmd_verify(struct config *cfg, const char *expect)
{
	struct verify_acc	 v;
	struct store		*st;
	char			 why[256];
	enum store_rc		 rc, arc;
	size_t			 naudit;
	uint64_t		 bad;
	int			 head = 0;

	memset(&v, 0, sizeof(v));
	if (open_all(cfg, &v.kr, &st) == -1)
		return EX_FAIL;
	rc = store_audit_list(st, collect_audit, &v);
	fold_audit(&v);
	if (rc == STORE_OK)
		rc = store_cred_walk(st, NULL, NULL, NULL, (size_t)-1, 1,
		    verify_rec, &v);
	arc = store_audit_verify(st, &naudit, &bad, why, sizeof(why));
	if (arc == STORE_OK && expect != NULL)
		head = check_head(st, expect, naudit);
	close_store(st);
	keyring_free(v.kr);
	free(v.ev);
	printf("records: %zu\nok: %zu\nfailed: %zu\naudit records: %zu\n"
	    "audit chain: %s\n", v.total, v.ok, v.bad, naudit,
	    arc == STORE_OK ? "ok" : "BROKEN");
	if (rc != STORE_OK)
		return fail("verify: %s", store_strerror(rc));
	if (arc != STORE_OK)
		return fail("verify: audit trail: %s", why);
	return v.bad == 0 && head == 0 ? EX_OK : EX_FAIL;
}

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
		    progname, r->id, r->sealed.key_id);
		a->failed++;
		return 0;
	}
	return rc;
}

/*
 * Re-wraps every record with the active key, again each second (at most
 * five passes) while a pass still finds records sealed with an older key
 * by a request that loaded the keyring before the rotation.
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
		if (pass > 0 && c2 == 0)
			break;
	}
	return rc;
}

/*
 * rotate-key: a new active key, then every data key re-wrapped.  Running
 * servers notice the new keyring on their next request; a request that
 * sealed with the old key just before is caught by a second pass.
 */
static int
cmd_rotate(struct config *cfg)
{
	struct rewrap_acc	 a;
	struct store		*st;
	struct audit_ev		 ev;
	char			 err[512];
	size_t			 seen = 0, changed = 0;
	enum store_rc		 rc;

	memset(&a, 0, sizeof(a));
	if (open_all(cfg, &a.kr, &st) == -1)
		return EX_FAIL;
	if (keyring_add_key(cfg->keyring, a.kr, err, sizeof(err)) == -1) {
		close_store(st);
		keyring_free(a.kr);
		return fail("%s", err);
	}
	printf("%s\n", keyring_active(a.kr)->id);
	fflush(stdout);
	rc = rewrap_passes(st, &a, &seen, &changed);
	admin_event(&ev, "key.rotate", rc == STORE_OK && a.failed == 0 ?
	    "ok" : "failed");
	ev.cred_id = keyring_active(a.kr)->id;
	(void)store_audit_event(st, &ev);
	close_store(st);
	keyring_free(a.kr);
	printf("records: %zu\nrewrapped: %zu\nfailed: %zu\n", seen, changed,
	    a.failed);
	if (rc != STORE_OK)
		return fail("rotate-key: %s", store_strerror(rc));
	return a.failed == 0 ? EX_OK : EX_FAIL;
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
			fail("retire-key: %s", store_strerror(rc));
		else
			fail("key %s is still used by %zu records; run "
			    "rotate-key first", id, uses);
		return -1;
	}
	admin_event(&ev, "key.retire", "ok");
	ev.cred_id = id;
	if (keyring_remove_key(cfg->keyring, kr, id, err, sizeof(err)) == -1) {
		fail("%s", err);
		return -1;
	}
	(void)store_audit_event(st, &ev);
	return 0;
}

static int
cmd_retire(struct config *cfg, const char *id)
{
	struct keyring		*kr;
	struct store		*st;
	const struct kr_key	*k;
	int			 rc;

	if (open_all(cfg, &kr, &st) == -1)
		return EX_FAIL;
	if ((k = keyring_find(kr, id)) == NULL || k == keyring_active(kr)) {
		close_store(st);
		keyring_free(kr);
		return fail(k == NULL ? "%s: no key %s" :
		    "%s: key %s is the active key", cfg->keyring, id);
	}
	rc = retire_one(cfg, kr, st, id);
	close_store(st);
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
static int
cmd_shred(struct config *cfg)
{
	struct rewrap_acc	 a;
	struct store		*st;
	struct audit_ev		 ev;
	char			 err[512], id[CRYPTO_KEYID_MAX];
	size_t			 seen, changed, retired = 0, logs = 0;
	enum store_rc		 rc;
	int			 ok = 0;

	memset(&a, 0, sizeof(a));
	if (open_all(cfg, &a.kr, &st) == -1)
		return EX_FAIL;
	if (keyring_add_key(cfg->keyring, a.kr, err, sizeof(err)) == -1) {
		fail("%s", err);
		goto out;
	}
	printf("new key: %s\n", keyring_active(a.kr)->id);
	rc = rewrap_passes(st, &a, &seen, &changed);
	printf("records: %zu\nrewrapped: %zu\n", seen, changed);
	if (rc != STORE_OK || a.failed != 0) {
		fail("shred: %zu records cannot be re-wrapped%s%s", a.failed,
		    rc != STORE_OK ? ": " : "", rc != STORE_OK ?
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
		fail("%s", err);
		goto out;
	}
	printf("keys retired: %zu\nlog files removed: %zu\n", retired, logs);
	ok = 1;
out:
	close_store(st);
	keyring_free(a.kr);
	return ok ? EX_OK : EX_FAIL;
}

static int
cmd_backup(struct config *cfg, const char *dir)
{
	struct store	*st;
	char		 err[512];
	enum store_rc	 rc;

	if (open_store(cfg, &st) == -1)
		return EX_FAIL;
	rc = store_backup(st, dir, err, sizeof(err));
	close_store(st);
	if (rc != STORE_OK)
		return fail("%s", err);
	printf("backup written to %s (the keyring is not in it: keep a copy "
	    "of %s apart)\n", dir, cfg->keyring);
	return EX_OK;
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

static int
cmd_keys(struct config *cfg)
{
	struct keys_acc	 k;
	struct store	*st;
	char		 err[512], ts[21];
	size_t		 i;

	if (keyring_load(cfg->keyring, &k.kr, err, sizeof(err)) == -1)
		return fail("%s", err);
	if ((k.uses = calloc(k.kr->nkeys, sizeof(size_t))) == NULL ||
	    open_store(cfg, &st) == -1) {
		free(k.uses);
		keyring_free(k.kr);
		return EX_FAIL;
	}
	store_set_mac(st, store_mac, k.kr);
	(void)store_cred_list(st, NULL, NULL, NULL, (size_t)-1, count_key, &k);
	close_store(st);
	for (i = 0; i < k.kr->nkeys; i++) {
		fmt_time(k.kr->keys[i].created, ts);
		printf("%s %s %s records=%zu\n", k.kr->keys[i].id,
		    i + 1 == k.kr->nkeys ? "active" : "inactive", ts, k.uses[i]);
	}
	free(k.uses);
	keyring_free(k.kr);
	return EX_OK;
}

static int
print_audit(const char *json, void *arg)
{
	const char		*tenant = arg, *t;
	struct json_object	*o;

	if (tenant != NULL) {
		o = json_tokener_parse(json);
		t = o ? json_object_get_string(json_object_object_get(o,
		    "tenant")) : NULL;
		if (t == NULL || strcmp(t, tenant) != 0) {
			json_object_put(o);
			return 0;
		}
		json_object_put(o);
	}
	printf("%s\n", json);
	return 0;
}

static int
cmd_audit(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*tenant = NULL;
	struct store	*st;
	enum store_rc	 rc;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 't') {
			usage();
			return EX_USAGE;
		}
		tenant = optarg;
	}
	if (optind != argc) {
		usage();
		return EX_USAGE;
	}
	if (open_store(cfg, &st) == -1)
		return EX_FAIL;
	rc = store_audit_list(st, print_audit, (void *)(uintptr_t)tenant);
	close_store(st);
	return rc == STORE_OK ? EX_OK : fail("audit: %s", store_strerror(rc));
}

int
main(int argc, char **argv)
{
	const char	*cpath = NULL, *cmd;
	struct config	 cfg;
	char		 err[CONFIG_ERRLEN];
	int		 ch, rc;

	log_set_level(LOG_LVL_WARN);
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		default:
			usage();
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage();
		return EX_USAGE;
	}
	cmd = argv[0];
	if (strcmp(cmd, "init") != 0 && strcmp(cmd, "token") != 0 &&
	    strcmp(cmd, "list") != 0 && strcmp(cmd, "verify") != 0 &&
	    strcmp(cmd, "keys") != 0 && strcmp(cmd, "audit") != 0 &&
	    strcmp(cmd, "rotate-key") != 0 && strcmp(cmd, "retire-key") != 0 &&
	    strcmp(cmd, "backup") != 0 && strcmp(cmd, "shred") != 0) {
		fprintf(stderr, "%s: unknown command '%.32s'\n", progname, cmd);
		return EX_USAGE;
	}
	if (cpath == NULL)
		cpath = config_path_from_env();
	if (config_load(cpath, &cfg, err, sizeof(err)) == -1)
		return fail("%s", err);
	log_set_level(cfg.log_level < LOG_LVL_WARN ? cfg.log_level : LOG_LVL_WARN);
	if (strcmp(cmd, "init") == 0)
		rc = argc == 1 ? cmd_init(&cfg) : (usage(), EX_USAGE);
	else if (strcmp(cmd, "token") == 0)
		rc = cmd_token(&cfg, argc, argv);
	else if (strcmp(cmd, "list") == 0)
		rc = cmd_list(&cfg, argc, argv);
	else if (strcmp(cmd, "verify") == 0)
		rc = argc == 1 ? cmd_verify(&cfg, NULL) : argc == 3 &&
		    strcmp(argv[1], "--expect-head") == 0 ?
		    cmd_verify(&cfg, argv[2]) : (usage(), EX_USAGE);
	else if (strcmp(cmd, "keys") == 0)
		rc = argc == 1 ? cmd_keys(&cfg) : (usage(), EX_USAGE);
	else if (strcmp(cmd, "rotate-key") == 0)
		rc = argc == 1 ? cmd_rotate(&cfg) : (usage(), EX_USAGE);
	else if (strcmp(cmd, "retire-key") == 0)
		rc = argc == 2 ? cmd_retire(&cfg, argv[1]) : (usage(), EX_USAGE);
	else if (strcmp(cmd, "shred") == 0)
		rc = argc == 1 ? cmd_shred(&cfg) : (usage(), EX_USAGE);
	else if (strcmp(cmd, "backup") == 0)
		rc = argc == 2 ? cmd_backup(&cfg, argv[1]) : (usage(), EX_USAGE);
	else
		rc = cmd_audit(&cfg, argc, argv);
	config_free(&cfg);
	return rc;
}
