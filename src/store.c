#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <db.h>
#include <json-c/json.h>

#include "jsonx.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define IDEM_TTL	(24 * 3600)
#define TXN_RETRIES	8
#define CKP_BYTES	(1024 * 1024)	/* log written before a checkpoint */
#define CKP_SECONDS	300		/* or time since the last one */

enum dbi {
	DBI_CREDS = 0,
	DBI_IDEM,
	DBI_AUDIT,
	DBI_CONN,
	DBI_META,
	DBI__MAX
};

static const char *const db_files[DBI__MAX] = {
	"credentials.db", "idempotency.db", "audit.db", "connections.db",
	"meta.db",
};

struct store {
	char		*home;
	enum durability	 dur;
	DB_ENV		*env;
	DB		*db[DBI__MAX];
	store_mac_fn	 mac;		/* audit chain; NULL: no chain */
	void		*mac_arg;
};

static const char *const rc_names[STORE__MAX] = {
	"ok", "not found", "exists", "storage unavailable", "corrupt record",
	"not the master site", "in use", "internal error",
};

const char *
store_strerror(enum store_rc rc)
{
	return rc < STORE__MAX ? rc_names[rc] : "?";
}

static void
errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	log_error("bdb: %s%s%s", pfx ? pfx : "", pfx ? ": " : "", msg);
}

/*
 * Berkeley DB 5.3's DB_REGISTER has a race that many short-lived
 * processes (CGI) hit: a process opening the environment scans the
 * register file under its lock on byte 1, reading each slot and then
 * trying to lock it; a process closing its handle empties its slot and
 * drops the slot's lock without that byte-1 lock.  A slot read before it
 * was emptied and locked after it was dropped looks like a dead process,
 * and the opener runs recovery: every other process panics.  So the
 * close waits for the byte-1 lock (a scan in progress ends first) and
 * holds it while the handle is closed.  Returns the descriptor holding
 * it, or -1 (then the close goes ahead unguarded).  The lock is the
 * process's: Berkeley DB's close of its own descriptor drops it too, by
 * then with the slot empty.
 */
static int
register_lock(const char *home)
{
	char		path[4096];
	struct flock	fl;
	int		fd;

	if (snprintf(path, sizeof(path), "%s/__db.register", home) >=
	    (int)sizeof(path) ||
	    (fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 1;		/* env_register.c: REGISTRY_EXCL_LOCK */
	fl.l_len = 1;
	while (fcntl(fd, F_SETLKW, &fl) == -1)
		if (errno != EINTR) {
			(void)close(fd);
			return -1;
		}
	return fd;
}

static void
env_close(struct store *st)
{
	int i;

	/*
	 * DB_NOSYNC: a committed change is in the log (recovery replays it)
	 * and its pages stay in the shared cache for the next process or
	 * checkpoint to write.  Without it every close writes and syncs each
	 * database a request touched: four fdatasyncs per CGI request.
	 */
	for (i = 0; i < DBI__MAX; i++)
		if (st->db[i] != NULL) {
			st->db[i]->close(st->db[i], DB_NOSYNC);
			st->db[i] = NULL;
		}
	if (st->env != NULL) {
		int rfd = register_lock(st->home);

		st->env->close(st->env, 0);
		st->env = NULL;
		if (rfd != -1)
			(void)close(rfd);
	}
}

/*
 * The shared regions are files in data_dir mapped at their full size but
 * grown lazily (Berkeley DB extends them as the cache fills).  Touching a
 * page that a full file system cannot back is a SIGBUS, in the middle of
 * a transaction.  So every mapped region file gets its blocks reserved
 * now (fallocate, size unchanged): a full disk is an error at open.
 */
static int
reserve_regions(const char *home, char *err, size_t errlen)
{
	FILE		*f;
	char		 line[4608], path[4096];
	unsigned long	 lo, hi;
	size_t		 hl = strlen(home);
	int		 fd, rc = 0;

	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		return 0;	/* not Linux: nothing to do */
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &lo, &hi,
		    path) != 3 || strncmp(path, home, hl) != 0 ||
		    strncmp(path + hl, "/__db.", 6) != 0 ||
		    strcmp(path + hl, "/__db.register") == 0)
			continue;
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
			continue;
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)(hi - lo)) == -1 &&
		    errno != EOPNOTSUPP) {
			snprintf(err, errlen, "%s: cannot reserve %lu bytes: %s",
			    path, hi - lo, strerror(errno));
			rc = -1;
		}
		close(fd);
	}
	fclose(f);
	return rc;
}

/* Opens environment and databases; recovery runs when a process died. */
static int
env_open(struct store *st, char *err, size_t errlen)
{
	DB_ENV		*env;
	DB_TXN		*txn = NULL;
	u_int32_t	 flags;
	int		 rc, i;

	if ((rc = db_env_create(&env, 0)) != 0) {
		snprintf(err, errlen, "db_env_create: %s", db_strerror(rc));
		return -1;
	}
	st->env = env;
	env->set_errcall(env, errcall);
	env->set_errpfx(env, st->home);
	if ((rc = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (rc = env->set_timeout(env, 3 * 1000000, DB_SET_LOCK_TIMEOUT)) != 0 ||
	    (rc = env->set_cachesize(env, 0, 2 * 1024 * 1024, 1)) != 0 ||
	    (rc = env->mutex_set_max(env, 8192)) != 0)
		goto dberr;	/* mutexes: many CGI processes at once */
	/*
	 * The shared regions are memory-mapped files in data_dir.  Touching
	 * every page when the region is made means a full file system is an
	 * error at open, not a SIGBUS in the middle of a transaction later.
	 */
	if ((rc = env->set_flags(env, DB_REGION_INIT, 1)) != 0)
		goto dberr;
	if (st->dur == DUR_WRITE_NOSYNC &&
	    (rc = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0)
		goto dberr;
	if (st->dur == DUR_NOSYNC &&
	    (rc = env->set_flags(env, DB_TXN_NOSYNC, 1)) != 0)
		goto dberr;
	/*
	 * DB_REGISTER notices a process that died with the environment open
	 * and then runs recovery, which rebuilds the shared regions.  No
	 * DB_FAILCHK: aborting a dead process's transaction in place must
	 * destroy pthread condition variables it may have been waiting on,
	 * and glibc's pthread_cond_destroy then blocks forever (seen under
	 * kill -9 in the crash test).
	 */
	flags = DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_THREAD | DB_REGISTER | DB_RECOVER;
	if ((rc = env->open(env, st->home, flags, 0600)) != 0)
		goto dberr;
	if (reserve_regions(st->home, err, errlen) == -1) {
		env_close(st);
		return -1;
	}
	/* logs no longer needed for recovery go; backups copy what is left */
	if ((rc = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0)
		goto dberr;
	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
		goto dberr;
	for (i = 0; i < DBI__MAX; i++) {
		if ((rc = db_create(&st->db[i], env, 0)) != 0)
			goto dberr;
		rc = st->db[i]->open(st->db[i], txn, db_files[i], NULL,
		    DB_BTREE, DB_CREATE | DB_THREAD, 0600);
		if (rc != 0)
			goto dberr;
	}
	/* opening changes no data: do not make every process wait on a flush */
	if ((rc = txn->commit(txn, DB_TXN_NOSYNC)) != 0) {
		txn = NULL;
		goto dberr;
	}
	return 0;
dberr:
	snprintf(err, errlen, "%s: cannot open storage: %s", st->home,
	    db_strerror(rc));
	if (txn != NULL)
		txn->abort(txn);
	env_close(st);
	return -1;
}

int
store_open(const char *home, enum durability dur, struct store **out,
    char *err, size_t errlen)
{
	struct store	*st;
	struct stat	 sb;

	*out = NULL;
	if (stat(home, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: data_dir is not a directory", home);
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->home = strdup(home)) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->dur = dur;
	if (env_open(st, err, errlen) == -1) {
		free(st->home);
		free(st);
		return -1;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	env_close(st);
	free(st->home);
	free(st);
}

/*
 * Decides what to do after a failed operation: 1 to retry (deadlock, lock
 * timeout, or a panic after which the environment was reopened), 0 to give
 * up.
 */
static int
should_retry(struct store *st, int rc, int attempt)
{
	char err[256];

	if (attempt >= TXN_RETRIES)
		return 0;
	if (rc == DB_LOCK_DEADLOCK)
		return 1;
	if (rc == DB_LOCK_NOTGRANTED || rc == DB_RUNRECOVERY) {
		/*
		 * A lock held too long usually means a process died holding
		 * it; DB_RUNRECOVERY means another process ran recovery.
		 * Reopening the environment with DB_REGISTER recovers.
		 */
		log_warn("storage: %s, reopening the environment",
		    db_strerror(rc));
		env_close(st);
		if (env_open(st, err, sizeof(err)) == -1) {
			log_error("storage: %s", err);
			return 0;
		}
		return 1;
	}
	return 0;
}

static enum store_rc
map_rc(int rc)
{
	switch (rc) {
	case 0:
		return STORE_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return STORE_NOTFOUND;
	default:
		log_error("storage: %s", db_strerror(rc));
		return STORE_UNAVAILABLE;
	}
}

static int
ensure_open(struct store *st)
{
	char err[256];

	if (st->env != NULL)
		return 0;
	if (env_open(st, err, sizeof(err)) == -1) {
		log_error("storage: %s", err);
		return -1;
	}
	return 0;
}

enum store_rc
store_ping(struct store *st)
{
	DB_TXN	*txn;
	int	 rc;

	if (ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	if ((rc = st->env->txn_begin(st->env, NULL, &txn, DB_TXN_NOWAIT)) != 0) {
		if (rc == DB_RUNRECOVERY)
			(void)should_retry(st, rc, 0);
		return STORE_UNAVAILABLE;
	}
	txn->abort(txn);
	return STORE_OK;
}

void
cred_rec_free(struct cred_rec *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->tenant);
	free(r->provider);
	free(r->label);
	free(r->created_by);
	for (i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	sealed_free(&r->sealed);
	memset(r, 0, sizeof(*r));
}

void
idem_rec_free(struct idem_rec *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->location);
	memset(r, 0, sizeof(*r));
}

/* key = a \0 b \0 c (c may be NULL: prefix "a\0b\0"). */
static char *
make_key(const char *a, const char *b, const char *c, size_t *len)
{
	size_t	 la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;
	size_t	 lc = c ? strlen(c) : 0;
	char	*k;

	if ((k = malloc(la + lb + lc + 1)) == NULL)
		return NULL;
	memcpy(k, a, la);
	if (b != NULL)
		memcpy(k + la, b, lb);
	if (c != NULL)
		memcpy(k + la + lb, c, lc);
	*len = la + lb + lc;
	return k;
}

char *
store_record_ad(const char *tenant, const char *provider, const char *id,
    size_t *len)
{
	static const char	 pfx[] = "credstore-record-v1";
	char			*k, *ad;
	size_t			 klen;

	if ((k = make_key(tenant, provider, id, &klen)) == NULL)
		return NULL;
	if ((ad = malloc(sizeof(pfx) + klen)) == NULL) {
		free(k);
		return NULL;
	}
	memcpy(ad, pfx, sizeof(pfx));
	memcpy(ad + sizeof(pfx), k, klen);
	free(k);
	*len = sizeof(pfx) + klen;
	return ad;
}

/* Parses one JSON document of known length (no NUL needed). */
static struct json_object *
json_tokener_parse_ex_len(const void *data, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o;

	if ((tok = json_tokener_new()) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, data, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Serializes o (consumed) into malloc'd text; NULL on failure. */
static char *
json_text(struct json_object *o, size_t *len)
{
	const char	*s = json_object_to_json_string_ext(o,
			    JSON_C_TO_STRING_PLAIN);
	char		*out = s ? strdup(s) : NULL;

	if (out != NULL)
		*len = strlen(out);
	json_object_put(o);
	return out;
}

static void
add_b64(struct json_object *o, const char *k, const void *p, size_t n)
{
	char *s = b64_encode(p, n);

	json_object_object_add(o, k, s ? json_object_new_string(s) : NULL);
	free(s);
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* Serializes a credential record; returns malloc'd JSON text. */
static char *
rec_to_json(const struct cred_rec *r, size_t *len)
{
	struct buf	 b;
	char		*w = NULL, *n = NULL, *ct = NULL;
	size_t		 i;
	int		 ok;

	/*
	 * Written as text, as rec_parse_flat reads it: one of these per
	 * change, so no json-c tree.  Base64 has no character to escape.
	 */
	if ((w = b64_encode(r->sealed.wrapped, sizeof(r->sealed.wrapped))) ==
	    NULL || (n = b64_encode(r->sealed.nonce,
	    sizeof(r->sealed.nonce))) == NULL ||
	    (ct = b64_encode(r->sealed.ct, r->sealed.ctlen)) == NULL) {
		free(w);
		free(n);
		return NULL;
	}
	buf_init(&b, 1024 + strlen(ct) + 64 * 1024, 0);
	ok = buf_adds(&b, "{\"v\":1,\"id\":") == 0 &&
	    jsonx_buf_str(&b, r->id) == 0 &&
	    buf_adds(&b, ",\"tenant\":") == 0 &&
	    jsonx_buf_str(&b, r->tenant) == 0 &&
	    buf_adds(&b, ",\"provider\":") == 0 &&
	    jsonx_buf_str(&b, r->provider) == 0 &&
	    buf_adds(&b, ",\"label\":") == 0 &&
	    jsonx_buf_str(&b, r->label) == 0 &&
	    buf_adds(&b, ",\"createdBy\":") == 0 &&
	    jsonx_buf_str(&b, r->created_by) == 0 &&
	    buf_adds(&b, ",\"status\":") == 0 &&
	    jsonx_buf_str(&b, r->status) == 0 &&
	    buf_adds(&b, ",\"fields\":[") == 0;
	for (i = 0; ok && i < r->nfields; i++)
		ok = (i == 0 || buf_addc(&b, ',') == 0) &&
		    jsonx_buf_str(&b, r->fields[i]) == 0;
	ok = ok && buf_printf(&b, "],\"createdAt\":%lld,\"updatedAt\":%lld,"
	    "\"lastValidatedAt\":", (long long)r->created,
	    (long long)r->updated) == 0 &&
	    (r->validated ? buf_printf(&b, "%lld", (long long)r->validated) :
	    buf_adds(&b, "null")) == 0 &&
	    buf_adds(&b, ",\"kid\":") == 0 &&
	    jsonx_buf_str(&b, r->sealed.key_id) == 0 &&
	    buf_adds(&b, ",\"wrapped\":\"") == 0 && buf_adds(&b, w) == 0 &&
	    buf_adds(&b, "\",\"nonce\":\"") == 0 && buf_adds(&b, n) == 0 &&
	    buf_adds(&b, "\",\"ct\":\"") == 0 && buf_adds(&b, ct) == 0 &&
	    buf_adds(&b, "\"}") == 0;
	free(w);
	free(n);
	free(ct);
	if (!ok) {
		buf_reset(&b);
		return NULL;
	}
	return buf_steal(&b, len);
}

/* Moves decoded bytes p[l] (malloc'd or NULL) into dst[n]: -1 unless l == n. */
static int
take_fixed(unsigned char *p, size_t l, void *dst, size_t n)
{
	if (p == NULL)
		return -1;
	if (l != n) {
		free(p);
		return -1;
	}
	memcpy(dst, p, n);
	free(p);
	return 0;
}

static int
get_fixed_b64(struct json_object *o, const char *k, void *dst, size_t n)
{
	const char	*s = jsonx_get_str(o, k);
	unsigned char	*p;
	size_t		 l = 0;

	if (s == NULL)
		return -1;
	p = b64_decode(s, strlen(s), &l);
	return take_fixed(p, l, dst, n);
}

static int
dup_opt(struct json_object *o, const char *k, char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, k, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	return (*out = strdup(json_object_get_string(v))) == NULL ? -1 : 0;
}

static int64_t
get_time(struct json_object *o, const char *k)
{
	struct json_object *v = jsonx_get(o, k, json_type_int);

	return v ? json_object_get_int64(v) : 0;
}

/* Parses a stored record; STORE_CORRUPT on any surprise. */
static enum store_rc
rec_parse(const void *data, size_t len, struct cred_rec *r, int sealed);

static enum store_rc
rec_from_json(const void *data, size_t len, struct cred_rec *r)
{
	return rec_parse(data, len, r, 1);
}

/*
 * Parses a stored record; STORE_CORRUPT on any surprise.  Without sealed
 * the ciphertext is not decoded (metadata listings).  The text is ours,
 * written by rec_to_json, so json-c's own parser is enough here.
 */
/* The members of a stored record that rec_parse_flat reads. */
enum rec_key {
	RK_ID, RK_TENANT, RK_PROVIDER, RK_LABEL, RK_CREATED_BY, RK_STATUS,
	RK_FIELDS, RK_CREATED, RK_UPDATED, RK_VALIDATED, RK_KID, RK_WRAPPED,
	RK_NONCE, RK_CT, RK__MAX
};

#define RK(s)	{ s, sizeof(s) - 1 }
static const struct {
	const char	*name;
	size_t		 len;
} rec_keys[RK__MAX] = {
	RK("id"), RK("tenant"), RK("provider"), RK("label"), RK("createdBy"),
	RK("status"), RK("fields"), RK("createdAt"), RK("updatedAt"),
	RK("lastValidatedAt"), RK("kid"), RK("wrapped"), RK("nonce"), RK("ct")
};
#undef RK

/* An optional string member: absent or null is NULL, 0; else -1. */
static int
flat_opt_str(const struct jflat_val *v, int seen, char **out)
{
	*out = NULL;
	if (!seen || v->type == JFLAT_NULL)
		return 0;
	if (v->type != JFLAT_STRING)
		return -1;
	return (*out = jflat_strdup(v)) == NULL ? -1 : 0;
}

/* A required string member copied into dst[n]; -1 when absent or long. */
static int
flat_str_into(const struct jflat_val *v, int seen, char *dst, size_t n)
{
	char *t;

	if (!seen || v->type != JFLAT_STRING || (t = jflat_strdup(v)) == NULL)
		return -1;
	if (strlen(t) >= n) {
		free(t);
		return -1;
	}
	memcpy(dst, t, strlen(t) + 1);
	free(t);
	return 0;
}

/* Decodes a base64 string member (json-c writes '/' as "\/"). */
static unsigned char *
flat_b64(const struct jflat_val *v, int seen, size_t *outlen)
{
	unsigned char	*p;
	char		*t;

	if (!seen || v->type != JFLAT_STRING)
		return NULL;
	if (!v->escaped)
		return b64_decode(v->p, v->len, outlen);
	if ((t = jflat_strdup(v)) == NULL)
		return NULL;
	p = b64_decode(t, strlen(t), outlen);
	free(t);
	return p;
}

static int
flat_fixed_b64(const struct jflat_val *v, int seen, void *dst, size_t n)
{
	unsigned char	*p;
	size_t		 l = 0;

	p = flat_b64(v, seen, &l);
	return take_fixed(p, l, dst, n);
}

/*
 * rec_parse without a JSON tree: the record is flat JSON that json-c
 * wrote (rec_to_json), read in place.  The same checks as the json-c
 * path, member by member.  -1 when the text is not of the shape it reads
 * (a duplicate member, say): rec_parse then lets json-c decide.
 */
static int
rec_parse_flat(const void *data, size_t len, struct cred_rec *r, int sealed,
    enum store_rc *out)
{
	struct jflat		 j;
	struct jflat_val	 v[RK__MAX], e;
	unsigned		 seen = 0;
	const char		*key;
	size_t			 klen, pos;
	int			 k, rc;

	memset(r, 0, sizeof(*r));
	if (jflat_open(&j, data, len) == -1)
		return -1;
	while ((rc = jflat_next(&j, &key, &klen, &e)) == 1) {
		for (k = 0; k < RK__MAX; k++)
			if (rec_keys[k].len == klen &&
			    memcmp(rec_keys[k].name, key, klen) == 0)
				break;
		if (k == RK__MAX)
			continue;		/* "v", or a newer member */
		if (seen & (1u << k))
			return -1;
		seen |= 1u << k;
		v[k] = e;
	}
	if (rc == -1)
		return -1;
#define SEEN(k)	((seen & (1u << (k))) != 0)
	*out = STORE_CORRUPT;
	if (flat_str_into(&v[RK_ID], SEEN(RK_ID), r->id, sizeof(r->id)) == -1 ||
	    strlen(r->id) != CREDENTIAL_ID_LEN ||
	    flat_opt_str(&v[RK_TENANT], SEEN(RK_TENANT), &r->tenant) == -1 ||
	    r->tenant == NULL ||
	    flat_opt_str(&v[RK_PROVIDER], SEEN(RK_PROVIDER), &r->provider) == -1 ||
	    r->provider == NULL ||
	    flat_opt_str(&v[RK_LABEL], SEEN(RK_LABEL), &r->label) == -1 ||
	    flat_opt_str(&v[RK_CREATED_BY], SEEN(RK_CREATED_BY),
	    &r->created_by) == -1 ||
	    flat_str_into(&v[RK_STATUS], SEEN(RK_STATUS), r->status,
	    sizeof(r->status)) == -1 ||
	    !SEEN(RK_FIELDS) || v[RK_FIELDS].type != JFLAT_ARRAY)
		goto bad;
	pos = 0;
	while ((rc = jflat_array_next(&v[RK_FIELDS], &pos, &e)) == 1) {
		if (r->nfields == CREDSET_MAX ||
		    (r->fields[r->nfields] = jflat_strdup(&e)) == NULL)
			goto bad;
		r->nfields++;
	}
	if (rc == -1)
		goto bad;
	r->created = SEEN(RK_CREATED) && v[RK_CREATED].type == JFLAT_INT ?
	    (time_t)v[RK_CREATED].num : 0;
	r->updated = SEEN(RK_UPDATED) && v[RK_UPDATED].type == JFLAT_INT ?
	    (time_t)v[RK_UPDATED].num : 0;
	r->validated = SEEN(RK_VALIDATED) && v[RK_VALIDATED].type == JFLAT_INT ?
	    (time_t)v[RK_VALIDATED].num : 0;
	if (flat_str_into(&v[RK_KID], SEEN(RK_KID), r->sealed.key_id,
	    sizeof(r->sealed.key_id)) == -1)
		goto bad;
	if (sealed) {
		if (flat_fixed_b64(&v[RK_WRAPPED], SEEN(RK_WRAPPED),
		    r->sealed.wrapped, sizeof(r->sealed.wrapped)) == -1 ||
		    flat_fixed_b64(&v[RK_NONCE], SEEN(RK_NONCE), r->sealed.nonce,
		    sizeof(r->sealed.nonce)) == -1 ||
		    (r->sealed.ct = flat_b64(&v[RK_CT], SEEN(RK_CT),
		    &r->sealed.ctlen)) == NULL)
			goto bad;
	}
#undef SEEN
	*out = STORE_OK;
	return 0;
bad:
	cred_rec_free(r);
	return 0;
}

static enum store_rc
rec_parse(const void *data, size_t len, struct cred_rec *r, int sealed)
{
	struct json_object	*o, *f;
	const char		*s, *jerr;
	unsigned char		*ct;
	size_t			 i, n, ctlen;
	enum store_rc		 out;

	if (rec_parse_flat(data, len, r, sealed, &out) == 0)
		return out;
	memset(r, 0, sizeof(*r));
	(void)jerr;
	if (len > INT32_MAX || (o = json_tokener_parse_ex_len(data, len)) == NULL)
		return STORE_CORRUPT;
	if ((s = jsonx_get_str(o, "id")) == NULL ||
	    strlen(s) != CREDENTIAL_ID_LEN)
		goto bad;
	memcpy(r->id, s, CREDENTIAL_ID_LEN + 1);
	if (dup_opt(o, "tenant", &r->tenant) == -1 || r->tenant == NULL ||
	    dup_opt(o, "provider", &r->provider) == -1 || r->provider == NULL ||
	    dup_opt(o, "label", &r->label) == -1 ||
	    dup_opt(o, "createdBy", &r->created_by) == -1)
		goto bad;
	if ((s = jsonx_get_str(o, "status")) == NULL ||
	    strlen(s) >= sizeof(r->status))
		goto bad;
	snprintf(r->status, sizeof(r->status), "%s", s);
	if ((f = jsonx_get(o, "fields", json_type_array)) == NULL ||
	    (n = json_object_array_length(f)) > CREDSET_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(f, i);

		if (!json_object_is_type(e, json_type_string) ||
		    (r->fields[i] = strdup(json_object_get_string(e))) == NULL)
			goto bad;
		r->nfields++;
	}
	r->created = (time_t)get_time(o, "createdAt");
	r->updated = (time_t)get_time(o, "updatedAt");
	r->validated = (time_t)get_time(o, "lastValidatedAt");
	if ((s = jsonx_get_str(o, "kid")) == NULL ||
	    strlen(s) >= sizeof(r->sealed.key_id))
		goto bad;
	snprintf(r->sealed.key_id, sizeof(r->sealed.key_id), "%s", s);
	if (!sealed) {
		json_object_put(o);
		return STORE_OK;
	}
	if (get_fixed_b64(o, "wrapped", r->sealed.wrapped,
	    sizeof(r->sealed.wrapped)) == -1 ||
	    get_fixed_b64(o, "nonce", r->sealed.nonce,
	    sizeof(r->sealed.nonce)) == -1)
		goto bad;
	if ((s = jsonx_get_str(o, "ct")) == NULL ||
	    (ct = b64_decode(s, strlen(s), &ctlen)) == NULL)
		goto bad;
	r->sealed.ct = ct;
	r->sealed.ctlen = ctlen;
	json_object_put(o);
	return STORE_OK;
bad:
	json_object_put(o);
	cred_rec_free(r);
	return STORE_CORRUPT;
}

static char *
idem_to_json(const struct idem_rec *r, size_t *len)
{
	struct json_object	*o;

	o = json_object_new_object();
	add_b64(o, "hash", r->hash, sizeof(r->hash));
	json_object_object_add(o, "status", json_object_new_int(r->status));
	add_str(o, "body", r->body);
	add_str(o, "location", r->location);
	json_object_object_add(o, "created", json_object_new_int64(r->created));
	return json_text(o, len);
}

static enum store_rc
idem_from_json(const void *data, size_t len, struct idem_rec *r)
{
	struct json_object	*o, *v;
	const char		*jerr;

	memset(r, 0, sizeof(*r));
	if ((o = jsonx_parse(data, len, 4, 0, &jerr)) == NULL)
		return STORE_CORRUPT;
	if (get_fixed_b64(o, "hash", r->hash, sizeof(r->hash)) == -1 ||
	    (v = jsonx_get(o, "status", json_type_int)) == NULL ||
	    dup_opt(o, "body", &r->body) == -1 ||
	    dup_opt(o, "location", &r->location) == -1) {
		json_object_put(o);
		idem_rec_free(r);
		return STORE_CORRUPT;
	}
	r->status = json_object_get_int(v);
	r->created = (time_t)get_time(o, "created");
	json_object_put(o);
	return STORE_OK;
}

static char *
audit_to_json(const struct audit_ev *ev, uint64_t seq, size_t *len)
{
	struct json_object	*o;
	char			 ts[21];

	fmt_time(ev->time, ts);
	o = json_object_new_object();
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)seq));
	add_str(o, "time", ts);
	add_str(o, "tenant", ev->tenant);
	add_str(o, "subject", ev->subject);
	add_str(o, "action", ev->action);
	add_str(o, "provider", ev->provider);
	add_str(o, "credentialId", ev->cred_id);
	add_str(o, "outcome", ev->outcome);
	add_str(o, "client", ev->client);
	return json_text(o, len);
}

static void
put_be64(unsigned char b[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_be64(const unsigned char b[8])
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * The chain MAC of one audit record:
 * MAC(previous record's MAC | big-endian seq | the record's JSON).
 */
static int
audit_mac(struct store *st, const unsigned char prev[STORE_MAC_LEN],
    uint64_t seq, const char *json, size_t jlen,
    unsigned char out[STORE_MAC_LEN])
{
	unsigned char	*m;
	size_t		 n = STORE_MAC_LEN + 8 + jlen;
	int		 rc;

	if ((m = malloc(n)) == NULL)
		return -1;
	memcpy(m, prev, STORE_MAC_LEN);
	put_be64(m + STORE_MAC_LEN, seq);
	memcpy(m + STORE_MAC_LEN + 8, json, jlen);
	rc = st->mac(m, n, out, st->mac_arg);
	free(m);
	return rc;
}

/*
 * Splits a stored audit value "JSON\nBASE64(MAC)" (or just "JSON" when no
 * MAC key was configured).  Returns the JSON length; *has_mac says
 * whether mac was filled.
 */
static size_t
audit_split(const char *v, size_t n, unsigned char mac[STORE_MAC_LEN],
    int *has_mac)
{
	const char	*nl = memchr(v, '\n', n);
	unsigned char	*m;
	size_t		 mlen;

	*has_mac = 0;
	if (nl == NULL)
		return n;
	m = b64_decode(nl + 1, n - (size_t)(nl + 1 - v), &mlen);
	if (m != NULL && mlen == STORE_MAC_LEN) {
		memcpy(mac, m, STORE_MAC_LEN);
		*has_mac = 1;
	}
	free(m);
	return (size_t)(nl - v);
}

/*
 * Appends an audit record under txn: key = big-endian sequence number,
 * value = JSON and, when a MAC key is set, the chain MAC; the chain head
 * (last seq and MAC) is kept in the meta database too, so that removing
 * the newest record is noticed as well.
 */
static int
audit_append(struct store *st, DB_TXN *txn, const struct audit_ev *ev)
{
	DB		*db = st->db[DBI_AUDIT];
	DBC		*c;
	DBT		 k, d;
	uint64_t	 seq = 1;
	unsigned char	 kb[8], prev[STORE_MAC_LEN], mac[STORE_MAC_LEN];
	unsigned char	 head[8 + STORE_MAC_LEN];
	char		*json = NULL, *val = NULL, *m64 = NULL;
	size_t		 jlen = 0, vlen;
	int		 rc, has;

	memset(prev, 0, sizeof(prev));
	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	rc = c->get(c, &k, &d, DB_LAST | DB_RMW);
	if (rc == 0 && k.size == 8) {
		seq = get_be64(k.data) + 1;
		(void)audit_split(d.data, d.size, prev, &has);
	} else if (rc != 0 && rc != DB_NOTFOUND) {
		c->close(c);
		return rc;
	}
	c->close(c);
	put_be64(kb, seq);
	if ((json = audit_to_json(ev, seq, &jlen)) == NULL)
		return ENOMEM;
	val = json;
	vlen = jlen;
	if (st->mac != NULL) {
		if (audit_mac(st, prev, seq, json, jlen, mac) == -1 ||
		    (m64 = b64_encode(mac, sizeof(mac))) == NULL) {
			rc = EIO;
			goto out;
		}
		vlen = jlen + 1 + strlen(m64);
		if ((val = malloc(vlen + 1)) == NULL) {
			rc = ENOMEM;
			goto out;
		}
		snprintf(val, vlen + 1, "%s\n%s", json, m64);
	}
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = kb;
	k.size = sizeof(kb);
	d.data = val;
	d.size = (u_int32_t)vlen;
	if ((rc = db->put(db, txn, &k, &d, DB_NOOVERWRITE)) != 0)
		goto out;
	if (st->mac != NULL) {
		put_be64(head, seq);
		memcpy(head + 8, mac, STORE_MAC_LEN);
		memset(&k, 0, sizeof(k));
		memset(&d, 0, sizeof(d));
		k.data = (void *)(uintptr_t)"audit.head";
		k.size = sizeof("audit.head") - 1;
		d.data = head;
		d.size = sizeof(head);
		rc = st->db[DBI_META]->put(st->db[DBI_META], txn, &k, &d, 0);
	}
out:
	if (val != json)
		free(val);
	free(json);
	free(m64);
	return rc;
}

/* Bounds recovery time: a checkpoint per MiB of log or 5 minutes. */
static void
checkpoint(struct store *st)
{
	DB_LOG_STAT	*ls;
	DB_TXN_STAT	*ts;
	uint64_t	 written;
	time_t		 last;
	int		 rc;

	/*
	 * txn_checkpoint(1 MB, 5 min) would decide the same, but with
	 * DB_LOG_AUTO_REMOVE every call, checkpoint or not, reads the log
	 * back to find the files it may remove: an open, a 32 KB read and a
	 * close per commit.  The two counters live in the shared regions.
	 */
	if (st->env->log_stat(st->env, &ls, 0) != 0)
		return;
	written = (uint64_t)ls->st_wc_mbytes * 1048576 + ls->st_wc_bytes;
	free(ls);
	if (written < CKP_BYTES) {
		if (st->env->txn_stat(st->env, &ts, 0) != 0)
			return;
		last = ts->st_time_ckp;
		free(ts);
		if (time(NULL) - last < CKP_SECONDS)
			return;
	}
	if ((rc = st->env->txn_checkpoint(st->env, 0, 0, 0)) != 0)
		log_warn("storage: checkpoint: %s", db_strerror(rc));
}

/*
 * A commit carries the durability of the environment flags.  With sync
 * the log is flushed before the commit returns, under the transaction's
 * locks, which serialises concurrent stores on a shared page (the newest
 * credentials of a tenant, the audit chain's head).  Committing without a
 * sync and flushing after the locks are gone would let stores share
 * flushes, but a flush that then fails (a full disk) would leave a
 * committed record behind a 503: a failed sync commit, by contrast, is
 * aborted.  Correctness first.
 */
static u_int32_t
commit_flags(const struct store *st)
{
	(void)st;
	return 0;
}

/*
 * Reads the value of key a\0b\0c (c may be NULL) from one database,
 * retrying as should_retry says; STORE_OK with *d malloc'd.
 */
static enum store_rc
read_value(struct store *st, enum dbi i, const char *a, const char *b,
    const char *c, DBT *d)
{
	DBT	 k;
	char	*kb;
	size_t	 klen;
	int	 rc, attempt = 0;

	if (ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	if ((kb = make_key(a, b, c, &klen)) == NULL)
		return STORE_UNAVAILABLE;
	for (;;) {
		memset(&k, 0, sizeof(k));
		memset(d, 0, sizeof(*d));
		k.data = kb;
		k.size = (u_int32_t)klen;
		d->flags = DB_DBT_MALLOC;
		rc = st->db[i]->get(st->db[i], NULL, &k, d, 0);
		if (rc == 0 || !should_retry(st, rc, attempt++))
			break;
	}
	free(kb);
	return rc == 0 ? STORE_OK : map_rc(rc);
}

enum store_rc
store_idem_get(struct store *st, const char *tenant, const char *key,
    struct idem_rec *out)
{
	DBT		 d;
	enum store_rc	 src;

	memset(out, 0, sizeof(*out));
	if ((src = read_value(st, DBI_IDEM, tenant, key, NULL, &d)) != STORE_OK)
		return src;
	src = idem_from_json(d.data, d.size, out);
	free(d.data);
	if (src == STORE_OK && out->created + IDEM_TTL < time(NULL)) {
		idem_rec_free(out);
		return STORE_NOTFOUND;
	}
	return src;
}

enum store_rc
store_cred_create(struct store *st, const struct cred_rec *r,
    const char *idem_key, const struct idem_rec *idem,
    const struct audit_ev *ev, struct idem_rec *existing)
{
	DB_TXN		*txn = NULL;
	DBT		 k, d;
	char		*ck = NULL, *cv = NULL, *ik = NULL, *iv = NULL;
	size_t		 cklen, cvlen = 0, iklen = 0, ivlen = 0;
	int		 rc, attempt = 0;
	enum store_rc	 out = STORE_UNAVAILABLE;

	memset(existing, 0, sizeof(*existing));
	if (ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	if ((ck = make_key(r->tenant, r->provider, r->id, &cklen)) == NULL ||
	    (cv = rec_to_json(r, &cvlen)) == NULL)
		goto out;
	if (idem_key != NULL &&
	    ((ik = make_key(r->tenant, idem_key, NULL, &iklen)) == NULL ||
	    (iv = idem_to_json(idem, &ivlen)) == NULL))
		goto out;
retry:
	if ((rc = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0)
		goto dberr;
	if (ik != NULL) {
		memset(&k, 0, sizeof(k));
		memset(&d, 0, sizeof(d));
		k.data = ik;
		k.size = (u_int32_t)iklen;
		d.flags = DB_DBT_MALLOC;
		rc = st->db[DBI_IDEM]->get(st->db[DBI_IDEM], txn, &k, &d, DB_RMW);
		if (rc == 0) {
			enum store_rc prc = idem_from_json(d.data, d.size,
			    existing);

			free(d.data);
			if (prc == STORE_OK &&
			    existing->created + IDEM_TTL >= time(NULL)) {
				txn->abort(txn);
				txn = NULL;
				out = STORE_EXISTS;
				goto out;
			}
			idem_rec_free(existing);
		} else if (rc != DB_NOTFOUND)
			goto dberr;
		memset(&d, 0, sizeof(d));
		d.data = iv;
		d.size = (u_int32_t)ivlen;
		if ((rc = st->db[DBI_IDEM]->put(st->db[DBI_IDEM], txn, &k, &d,
		    0)) != 0)
			goto dberr;
	}
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = ck;
	k.size = (u_int32_t)cklen;
	d.data = cv;
	d.size = (u_int32_t)cvlen;
	if ((rc = st->db[DBI_CREDS]->put(st->db[DBI_CREDS], txn, &k, &d,
	    DB_NOOVERWRITE)) != 0)
		goto dberr;
	if ((rc = audit_append(st, txn, ev)) != 0)
		goto dberr;
	rc = txn->commit(txn, commit_flags(st));
	txn = NULL;
	if (rc != 0)
		goto dberr;
	checkpoint(st);
	out = STORE_OK;
	goto out;
dberr:
	if (txn != NULL) {
		txn->abort(txn);
		txn = NULL;
	}
	if (should_retry(st, rc, attempt++))
		goto retry;
	out = map_rc(rc == DB_NOTFOUND ? EINVAL : rc);
out:
	free(ck);
	free(cv);
	free(ik);
	free(iv);
	return out;
}

enum store_rc
store_cred_get(struct store *st, const char *tenant, const char *provider,
    const char *id, struct cred_rec *out)
{
	DBT		 d;
	enum store_rc	 src;

	memset(out, 0, sizeof(*out));
	if ((src = read_value(st, DBI_CREDS, tenant, provider, id, &d)) !=
	    STORE_OK)
		return src;
	src = rec_from_json(d.data, d.size, out);
	free(d.data);
	if (src == STORE_OK && (strcmp(out->tenant, tenant) != 0 ||
	    strcmp(out->provider, provider) != 0 || strcmp(out->id, id) != 0)) {
		cred_rec_free(out);
		return STORE_CORRUPT;
	}
	return src;
}

/*
 * Walks the credentials database with a cursor.  With tenant and provider
 * set the walk goes backwards from the end of their key range (newest
 * first); otherwise forwards over the tenant's prefix or everything.
 */
enum store_rc
store_cred_list(struct store *st, const char *tenant, const char *provider,
    const char *after_id, size_t limit, store_cred_cb cb, void *arg)
{
	return store_cred_walk(st, tenant, provider, after_id, limit, 0, cb, arg);
}

enum store_rc
store_cred_walk(struct store *st, const char *tenant, const char *provider,
    const char *after_id, size_t limit, int need_sealed, store_cred_cb cb,
    void *arg)
{
	DBC		*c = NULL;
	DBT		 k, d;
	char		*pfx = NULL, *start = NULL;
	size_t		 plen = 0, slen = 0, n = 0;
	int		 rc, backwards, attempt = 0;
	u_int32_t	 op;
	struct cred_rec	 r;
	enum store_rc	 out = STORE_OK;

	if (ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	backwards = (tenant != NULL && provider != NULL);
	if (tenant != NULL && (pfx = make_key(tenant, provider, NULL, &plen)) == NULL)
		return STORE_UNAVAILABLE;
	if (backwards) {
		/* start at prefix + after_id, or just past the range */
		if ((start = malloc(plen + CREDENTIAL_ID_LEN + 2)) == NULL) {
			free(pfx);
			return STORE_UNAVAILABLE;
		}
		memcpy(start, pfx, plen);
		if (after_id != NULL) {
			memcpy(start + plen, after_id, strlen(after_id));
			slen = plen + strlen(after_id);
		} else {
			start[plen] = (char)0xff;
			slen = plen + 1;
		}
	}
again:
	if ((rc = st->db[DBI_CREDS]->cursor(st->db[DBI_CREDS], NULL, &c, 0)) != 0)
		goto dberr;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	if (backwards) {
		k.data = start;
		k.size = (u_int32_t)slen;
		k.flags = 0;
		rc = c->get(c, &k, &d, DB_SET_RANGE);
		if (rc == DB_NOTFOUND) {
			memset(&k, 0, sizeof(k));
			rc = c->get(c, &k, &d, DB_LAST);
		} else if (rc == 0)
			rc = c->get(c, &k, &d, DB_PREV);
		op = DB_PREV;
	} else if (pfx != NULL) {
		k.data = pfx;
		k.size = (u_int32_t)plen;
		rc = c->get(c, &k, &d, DB_SET_RANGE);
		op = DB_NEXT;
	} else {
		rc = c->get(c, &k, &d, DB_FIRST);
		op = DB_NEXT;
	}
	for (; rc == 0 && n < limit; rc = c->get(c, &k, &d, op)) {
		if (pfx != NULL && (k.size < plen || memcmp(k.data, pfx, plen) != 0))
			break;
		if (rec_parse(d.data, d.size, &r, need_sealed) != STORE_OK) {
			log_error("storage: corrupt credential record skipped");
			out = STORE_CORRUPT;
			continue;
		}
		n++;
		rc = cb(&r, arg);
		cred_rec_free(&r);
		if (rc != 0) {
			rc = 0;
			break;
		}
	}
	if (rc == DB_NOTFOUND)
		rc = 0;
	c->close(c);
	c = NULL;
	if (rc != 0)
		goto dberr;
	free(pfx);
	free(start);
	return out;
dberr:
	if (c != NULL)
		c->close(c);
	if (n == 0 && should_retry(st, rc, attempt++))
		goto again;
	free(pfx);
	free(start);
	return map_rc(rc);
}

enum store_rc
store_audit_list(struct store *st, store_audit_cb cb, void *arg)
{
	DBC	*c;
	DBT	 k, d;
	char	*s;
	int	 rc;

	if (ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	if ((rc = st->db[DBI_AUDIT]->cursor(st->db[DBI_AUDIT], NULL, &c, 0)) != 0)
		return map_rc(rc);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		unsigned char	mac[STORE_MAC_LEN];
		int		has;
		size_t		jlen = audit_split(d.data, d.size, mac, &has);

		if ((s = malloc(jlen + 1)) == NULL) {
			rc = ENOMEM;
			break;
		}
		memcpy(s, d.data, jlen);
		s[jlen] = '\0';
		rc = cb(s, arg);
		free(s);
		if (rc != 0) {
			rc = 0;
			break;
		}
	}
	c->close(c);
	return rc == DB_NOTFOUND ? STORE_OK : map_rc(rc);
}

void
store_set_audit_mac(struct store *st, store_mac_fn fn, void *arg)
{
	st->mac = fn;
	st->mac_arg = arg;
}

/* A transaction body: 0 to commit, or a Berkeley DB / errno code. */
typedef int	(*txn_body)(struct store *, DB_TXN *, void *);

/*
 * Runs body in a transaction, retrying on deadlock, lock timeout and
 * after a panic (see should_retry).  A positive STORE_* result that the
 * body stores in *result aborts the transaction without an error.
 */
static enum store_rc
run_txn(struct store *st, txn_body body, void *arg, enum store_rc *result)
{
	DB_TXN	*txn;
	int	 rc, attempt = 0;

	if (ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	for (;;) {
		*result = STORE_OK;
		if ((rc = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0) {
			if (should_retry(st, rc, attempt++))
				continue;
			return map_rc(rc);
		}
		rc = body(st, txn, arg);
		if (rc == 0 && *result == STORE_OK) {
			rc = txn->commit(txn, commit_flags(st));
			if (rc == 0) {
				checkpoint(st);
				return STORE_OK;
			}
		} else
			txn->abort(txn);
		if (rc == 0)		/* the body decided: no change */
			return *result;
		if (!should_retry(st, rc, attempt++))
			return map_rc(rc);
	}
}

static int
get_dbt(DB *db, DB_TXN *txn, const void *key, size_t klen, DBT *d,
    u_int32_t flags)
{
	DBT k;

	memset(&k, 0, sizeof(k));
	memset(d, 0, sizeof(*d));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	d->flags = DB_DBT_MALLOC;
	return db->get(db, txn, &k, d, flags);
}

static int
put_dbt(DB *db, DB_TXN *txn, const void *key, size_t klen, const void *val,
    size_t vlen, u_int32_t flags)
{
	DBT k, d;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	d.data = (void *)(uintptr_t)val;
	d.size = (u_int32_t)vlen;
	return db->put(db, txn, &k, &d, flags);
}

static int
del_key(DB *db, DB_TXN *txn, const void *key, size_t klen)
{
	DBT k;

	memset(&k, 0, sizeof(k));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	return db->del(db, txn, &k, 0);
}

static char *
conn_to_json(const struct conn_rec *c, size_t *len)
{
	struct json_object	*o;

	o = json_object_new_object();
	add_str(o, "credentialId", c->cred_id);
	add_str(o, "status", c->status);
	json_object_object_add(o, "connectedAt",
	    json_object_new_int64(c->connected));
	return json_text(o, len);
}

static enum store_rc
conn_from_json(const void *data, size_t len, struct conn_rec *c)
{
	struct json_object	*o;
	const char		*jerr, *id, *status;

	memset(c, 0, sizeof(*c));
	if ((o = jsonx_parse(data, len, 4, 0, &jerr)) == NULL)
		return STORE_CORRUPT;
	id = jsonx_get_str(o, "credentialId");
	status = jsonx_get_str(o, "status");
	if (id == NULL || strlen(id) != CREDENTIAL_ID_LEN || status == NULL ||
	    strlen(status) >= sizeof(c->status)) {
		json_object_put(o);
		return STORE_CORRUPT;
	}
	memcpy(c->cred_id, id, CREDENTIAL_ID_LEN + 1);
	snprintf(c->status, sizeof(c->status), "%s", status);
	c->connected = (time_t)get_time(o, "connectedAt");
	json_object_put(o);
	return STORE_OK;
}

struct modify_args {
	const char		*tenant, *provider, *id;
	store_modify_cb		 cb;
	void			*arg;
	struct audit_ev		*ev;
	enum store_rc		*result;
};

static int
modify_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct modify_args	*m = arg;
	struct cred_rec		 r;
	struct conn_rec		 c;
	DBT			 d;
	char			*k = NULL, *ck = NULL, *v = NULL;
	size_t			 klen, cklen, vlen = 0;
	int			 rc;
	enum store_op		 op;

	if ((k = make_key(m->tenant, m->provider, m->id, &klen)) == NULL)
		return ENOMEM;
	if ((rc = get_dbt(st->db[DBI_CREDS], txn, k, klen, &d, DB_RMW)) != 0) {
		if (rc == DB_NOTFOUND) {
			*m->result = STORE_NOTFOUND;
			rc = 0;
		}
		goto out;
	}
	if (rec_from_json(d.data, d.size, &r) != STORE_OK) {
		free(d.data);
		*m->result = STORE_CORRUPT;
		rc = 0;
		goto out;
	}
	free(d.data);
	op = m->cb(&r, m->arg);
	switch (op) {
	case STORE_OP_NONE:
		*m->result = STORE_EXISTS;	/* "nothing to do" for the caller */
		rc = 0;
		break;
	case STORE_OP_ERROR:
		*m->result = STORE_ERROR;
		rc = 0;
		break;
	case STORE_OP_DELETE:
		if ((ck = make_key(m->tenant, m->provider, NULL, &cklen)) == NULL) {
			rc = ENOMEM;
			break;
		}
		rc = get_dbt(st->db[DBI_CONN], txn, ck, cklen, &d, DB_RMW);
		if (rc == 0) {
			enum store_rc crc = conn_from_json(d.data, d.size, &c);

			free(d.data);
			if (crc == STORE_OK && strcmp(c.cred_id, m->id) == 0) {
				*m->result = STORE_IN_USE;
				rc = 0;
				break;
			}
		} else if (rc != DB_NOTFOUND)
			break;
		if ((rc = del_key(st->db[DBI_CREDS], txn, k, klen)) == 0)
			rc = audit_append(st, txn, m->ev);
		break;
	case STORE_OP_WRITE:
		if ((v = rec_to_json(&r, &vlen)) == NULL) {
			rc = ENOMEM;
			break;
		}
		if ((rc = put_dbt(st->db[DBI_CREDS], txn, k, klen, v, vlen, 0)) == 0)
			rc = audit_append(st, txn, m->ev);
		break;
	}
	cred_rec_free(&r);
out:
	free(k);
	free(ck);
	free(v);
	return rc;
}

enum store_rc
store_cred_modify(struct store *st, const char *tenant, const char *provider,
    const char *id, store_modify_cb cb, void *arg, struct audit_ev *ev)
{
	struct modify_args	m;
	enum store_rc		result, rc;

	m.tenant = tenant;
	m.provider = provider;
	m.id = id;
	m.cb = cb;
	m.arg = arg;
	m.ev = ev;
	m.result = &result;
	rc = run_txn(st, modify_body, &m, &result);
	return rc == STORE_EXISTS ? STORE_OK : rc;
}

struct conn_args {
	const char		*tenant, *provider, *cred_id;
	const struct audit_ev	*ev;
	struct conn_rec		*out;
	enum store_rc		*result;
};

static int
conn_put_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct conn_args	*a = arg;
	DBT			 d;
	char			*k, *ck = NULL, *v = NULL;
	size_t			 klen, cklen, vlen = 0;
	int			 rc;

	/* the credential must exist; reading it with RMW orders us with a delete */
	if ((k = make_key(a->tenant, a->provider, a->cred_id, &klen)) == NULL)
		return ENOMEM;
	rc = get_dbt(st->db[DBI_CREDS], txn, k, klen, &d, DB_RMW);
	free(k);
	if (rc == DB_NOTFOUND) {
		*a->result = STORE_NOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	free(d.data);
	memset(a->out, 0, sizeof(*a->out));
	snprintf(a->out->cred_id, sizeof(a->out->cred_id), "%s", a->cred_id);
	snprintf(a->out->status, sizeof(a->out->status), "active");
	a->out->connected = a->ev->time;
	if ((ck = make_key(a->tenant, a->provider, NULL, &cklen)) == NULL ||
	    (v = conn_to_json(a->out, &vlen)) == NULL) {
		free(ck);
		return ENOMEM;
	}
	rc = put_dbt(st->db[DBI_CONN], txn, ck, cklen, v, vlen, 0);
	if (rc == 0)
		rc = audit_append(st, txn, a->ev);
	free(ck);
	free(v);
	return rc;
}

enum store_rc
store_conn_put(struct store *st, const char *tenant, const char *provider,
    const char *cred_id, const struct audit_ev *ev, struct conn_rec *out)
{
	struct conn_args	a;
	enum store_rc		result;

	a.tenant = tenant;
	a.provider = provider;
	a.cred_id = cred_id;
	a.ev = ev;
	a.out = out;
	a.result = &result;
	return run_txn(st, conn_put_body, &a, &result);
}

enum store_rc
store_conn_get(struct store *st, const char *tenant, const char *provider,
    struct conn_rec *out)
{
	DBT		 d;
	enum store_rc	 src;

	memset(out, 0, sizeof(*out));
	if ((src = read_value(st, DBI_CONN, tenant, provider, NULL, &d)) !=
	    STORE_OK)
		return src;
	src = conn_from_json(d.data, d.size, out);
	free(d.data);
	return src;
}

static int
conn_del_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct conn_args	*a = arg;
	char			*k;
	size_t			 klen;
	int			 rc;

	if ((k = make_key(a->tenant, a->provider, NULL, &klen)) == NULL)
		return ENOMEM;
	rc = del_key(st->db[DBI_CONN], txn, k, klen);
	free(k);
	if (rc == DB_NOTFOUND) {
		*a->result = STORE_NOTFOUND;
		return 0;
	}
	if (rc == 0)
		rc = audit_append(st, txn, a->ev);
	return rc;
}

enum store_rc
store_conn_delete(struct store *st, const char *tenant, const char *provider,
    const struct audit_ev *ev)
{
	struct conn_args	a;
	enum store_rc		result;

	memset(&a, 0, sizeof(a));
	a.tenant = tenant;
	a.provider = provider;
	a.ev = ev;
	a.result = &result;
	return run_txn(st, conn_del_body, &a, &result);
}

static int
event_body(struct store *st, DB_TXN *txn, void *arg)
{
	return audit_append(st, txn, arg);
}

enum store_rc
store_audit_event(struct store *st, const struct audit_ev *ev)
{
	enum store_rc result;

	return run_txn(st, event_body, (void *)(uintptr_t)ev, &result);
}

#define REWRAP_BATCH	64

struct rewrap_args {
	store_rewrap_cb	 cb;
	void		*arg;
	char		*last;		/* key of the last record done */
	size_t		 lastlen;
	char		*pending;	/* last key of the running batch */
	size_t		 pendinglen;
	size_t		 seen, changed;	/* of this batch */
	int		 done;
	enum store_rc	*result;
};

/* One batch: up to REWRAP_BATCH records after a->last. */
static int
rewrap_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct rewrap_args	*a = arg;
	DBC			*c;
	DBT			 k, d;
	struct cred_rec		 r;
	char			*v, *nk;
	size_t			 vlen = 0, n = 0;
	int			 rc, cbrc;

	a->seen = a->changed = 0;
	if ((rc = st->db[DBI_CREDS]->cursor(st->db[DBI_CREDS], txn, &c, 0)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	if (a->last == NULL)
		rc = c->get(c, &k, &d, DB_FIRST | DB_RMW);
	else {
		k.data = a->last;
		k.size = (u_int32_t)a->lastlen;
		rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW);
		if (rc == 0 && k.size == a->lastlen &&
		    memcmp(k.data, a->last, a->lastlen) == 0)
			rc = c->get(c, &k, &d, DB_NEXT | DB_RMW);
	}
	for (; rc == 0 && n < REWRAP_BATCH; rc = c->get(c, &k, &d,
	    DB_NEXT | DB_RMW)) {
		n++;
		a->seen++;
		if (rec_from_json(d.data, d.size, &r) != STORE_OK) {
			rc = EINVAL;
			break;
		}
		cbrc = a->cb(&r, a->arg);
		if (cbrc < 0) {
			cred_rec_free(&r);
			*a->result = STORE_CORRUPT;
			rc = 0;
			break;
		}
		if (cbrc > 0) {
			if ((v = rec_to_json(&r, &vlen)) == NULL) {
				cred_rec_free(&r);
				rc = ENOMEM;
				break;
			}
			memset(&d, 0, sizeof(d));
			d.data = v;
			d.size = (u_int32_t)vlen;
			rc = c->put(c, &k, &d, DB_CURRENT);
			free(v);
			if (rc != 0) {
				cred_rec_free(&r);
				break;
			}
			a->changed++;
		}
		cred_rec_free(&r);
		if ((nk = malloc(k.size)) == NULL) {
			rc = ENOMEM;
			break;
		}
		memcpy(nk, k.data, k.size);
		free(a->pending);
		a->pending = nk;
		a->pendinglen = k.size;
	}
	if (rc == DB_NOTFOUND) {
		a->done = 1;
		rc = 0;
	}
	c->close(c);
	return rc;
}

enum store_rc
store_rewrap_all(struct store *st, store_rewrap_cb cb, void *arg,
    size_t *seen, size_t *changed)
{
	struct rewrap_args	a;
	enum store_rc		rc, result;

	memset(&a, 0, sizeof(a));
	a.cb = cb;
	a.arg = arg;
	a.result = &result;
	*seen = *changed = 0;
	for (;;) {
		a.done = 0;
		rc = run_txn(st, rewrap_body, &a, &result);
		if (rc != STORE_OK)
			break;
		*seen += a.seen;
		*changed += a.changed;
		if (a.pending != NULL) {
			free(a.last);
			a.last = a.pending;
			a.lastlen = a.pendinglen;
			a.pending = NULL;
		}
		if (a.done)
			break;
	}
	free(a.last);
	free(a.pending);
	return rc;
}

enum store_rc
store_audit_verify(struct store *st, size_t *n, uint64_t *bad, char *why,
    size_t whylen)
{
	DBC		*c;
	DBT		 k, d, hd;
	unsigned char	 prev[STORE_MAC_LEN], mac[STORE_MAC_LEN];
	unsigned char	 want[STORE_MAC_LEN];
	uint64_t	 seq, expect = 1;
	size_t		 jlen;
	int		 rc, has;
	enum store_rc	 out = STORE_OK;

	*n = 0;
	*bad = 0;
	why[0] = '\0';
	if (st->mac == NULL) {
		snprintf(why, whylen, "no audit MAC key");
		return STORE_UNAVAILABLE;
	}
	if (ensure_open(st) == -1)
		return STORE_UNAVAILABLE;
	memset(prev, 0, sizeof(prev));
	if ((rc = st->db[DBI_AUDIT]->cursor(st->db[DBI_AUDIT], NULL, &c, 0)) != 0)
		return map_rc(rc);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		seq = k.size == 8 ? get_be64(k.data) : 0;
		if (seq != expect) {
			*bad = expect;
			snprintf(why, whylen, "record %llu is missing",
			    (unsigned long long)expect);
			out = STORE_CORRUPT;
			break;
		}
		jlen = audit_split(d.data, d.size, mac, &has);
		if (!has || audit_mac(st, prev, seq, d.data, jlen, want) == -1 ||
		    !ct_equal(mac, want, sizeof(mac))) {
			*bad = seq;
			snprintf(why, whylen, "record %llu does not match its MAC",
			    (unsigned long long)seq);
			out = STORE_CORRUPT;
			break;
		}
		memcpy(prev, mac, sizeof(prev));
		expect++;
		(*n)++;
	}
	c->close(c);
	if (out != STORE_OK)
		return out;
	if (rc != DB_NOTFOUND)
		return map_rc(rc);
	/* the head: the newest record cannot be removed unnoticed */
	rc = get_dbt(st->db[DBI_META], NULL, "audit.head", 10, &hd, 0);
	if (rc == DB_NOTFOUND && *n == 0)
		return STORE_OK;
	if (rc != 0 || hd.size != 8 + STORE_MAC_LEN ||
	    get_be64(hd.data) != expect - 1 ||
	    !ct_equal((unsigned char *)hd.data + 8, prev, STORE_MAC_LEN)) {
		*bad = expect;
		snprintf(why, whylen, "the chain head does not match record %llu",
		    (unsigned long long)(expect - 1));
		out = STORE_CORRUPT;
	}
	if (rc == 0)
		free(hd.data);
	return out;
}

enum store_rc
store_backup(struct store *st, const char *dir, char *err, size_t errlen)
{
	DB_ENV	*benv = NULL;
	int	 rc;

	if (ensure_open(st) == -1) {
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
	benv->set_errcall(benv, errcall);
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

int
store_cred_meta_write(struct buf *b, const struct cred_rec *r)
{
	size_t i;

	if (buf_adds(b, "{\"credentialId\":") == -1 ||
	    jsonx_buf_str(b, r->id) == -1 ||
	    buf_adds(b, ",\"provider\":") == -1 ||
	    jsonx_buf_str(b, r->provider) == -1 ||
	    buf_adds(b, ",\"label\":") == -1 ||
	    jsonx_buf_str(b, r->label) == -1 ||
	    buf_adds(b, ",\"status\":") == -1 ||
	    jsonx_buf_str(b, r->status) == -1 ||
	    buf_adds(b, ",\"fields\":[") == -1)
		return -1;
	for (i = 0; i < r->nfields; i++)
		if ((i > 0 && buf_addc(b, ',') == -1) ||
		    jsonx_buf_str(b, r->fields[i]) == -1)
			return -1;
	if (buf_adds(b, "],\"createdAt\":") == -1 ||
	    jsonx_buf_time(b, r->created) == -1 ||
	    buf_adds(b, ",\"updatedAt\":") == -1 ||
	    jsonx_buf_time(b, r->updated) == -1 ||
	    buf_adds(b, ",\"lastValidatedAt\":") == -1 ||
	    jsonx_buf_time(b, r->validated) == -1 ||
	    buf_addc(b, '}') == -1)
		return -1;
	return 0;
}

struct json_object *
store_cred_meta_json(const struct cred_rec *r)
{
	struct json_object	*o, *f;
	size_t			 i;

	o = json_object_new_object();
	json_object_object_add(o, "credentialId", json_object_new_string(r->id));
	json_object_object_add(o, "provider",
	    json_object_new_string(r->provider));
	json_object_object_add(o, "label",
	    r->label ? json_object_new_string(r->label) : NULL);
	json_object_object_add(o, "status", json_object_new_string(r->status));
	f = json_object_new_array();
	for (i = 0; i < r->nfields; i++)
		json_object_array_add(f, json_object_new_string(r->fields[i]));
	json_object_object_add(o, "fields", f);
	jsonx_add_time(o, "createdAt", r->created);
	jsonx_add_time(o, "updatedAt", r->updated);
	jsonx_add_time(o, "lastValidatedAt", r->validated);
	return o;
}
