/*
 * The integrity of the stored data end to end (issue 12, findings 2, 3,
 * 4, 6 and 8): the review's attacks by someone who can write data_dir but
 * has no keyring.  Each edits the Berkeley DB files of a stopped server
 * with the Berkeley DB API (as db5.3_load would), restarts it, and checks
 * what the server serves and what `credstore-admin verify` says.  Then
 * the re-test/PUT race, the per-tenant cap, `credstore-admin shred` and
 * `credstore-admin upgrade` of an older credstore's records.
 * Each test has an environment of its own.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <db.h>
#include <json-c/json.h>

#include "crypto.h"
#include "harness.h"
#include "util.h"

#define JSON	"application/json"
#define DD	"/v1/integrations/datadog/credentials"

static struct h_env	E;
static int		live;

static void
env_up(const char *conf_extra, int procs, long probe_timeout_ms)
{
	struct h_opts o = { .conf_extra = conf_extra, .procs = procs,
	    .probe_timeout_ms = probe_timeout_ms };

	ck_assert_int_eq(h_setup(&E, &o), 0);
	live = 1;
}

static void
teardown(void)
{
	if (live)
		h_teardown(&E);
	live = 0;
}

/* One database of the stopped server's environment, opened as it does. */
struct dbx {
	DB_ENV	*env;
	DB	*db;
};

static void
dbx_open(struct dbx *x, const char *file)
{
	ck_assert_int_eq(db_env_create(&x->env, 0), 0);
	ck_assert_int_eq(x->env->open(x->env, E.data_dir, DB_CREATE |
	    DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN |
	    DB_REGISTER | DB_RECOVER, 0600), 0);
	ck_assert_int_eq(db_create(&x->db, x->env, 0), 0);
	ck_assert_int_eq(x->db->open(x->db, NULL, file, NULL, DB_BTREE,
	    DB_AUTO_COMMIT, 0), 0);
}

static void
dbx_close(struct dbx *x)
{
	x->db->close(x->db, 0);
	x->env->txn_checkpoint(x->env, 0, 0, 0);
	x->env->close(x->env, 0);
}

/* The value of key (malloc'd, NUL-terminated) or NULL. */
static char *
dbx_get(struct dbx *x, const void *key, size_t klen, size_t *vlen)
{
	DBT	 k, d;
	char	*v;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	d.flags = DB_DBT_MALLOC;
	if (x->db->get(x->db, NULL, &k, &d, 0) != 0)
		return NULL;
	ck_assert_ptr_nonnull(v = malloc(d.size + 1));
	memcpy(v, d.data, d.size);
	v[d.size] = '\0';
	free(d.data);
	if (vlen != NULL)
		*vlen = d.size;
	return v;
}

static void
dbx_put(struct dbx *x, const void *key, size_t klen, const void *v,
    size_t vlen)
{
	DBT k, d;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	d.data = (void *)(uintptr_t)v;
	d.size = (u_int32_t)vlen;
	ck_assert_int_eq(x->db->put(x->db, NULL, &k, &d, DB_AUTO_COMMIT), 0);
}

static void
dbx_del(struct dbx *x, const void *key, size_t klen)
{
	DBT k;

	memset(&k, 0, sizeof(k));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	ck_assert_int_eq(x->db->del(x->db, NULL, &k, DB_AUTO_COMMIT), 0);
}

/* The key of a credential: tenant \0 provider \0 id. */
static size_t
cred_key(char *k, size_t cap, const char *tenant, const char *id)
{
	size_t n = (size_t)snprintf(k, cap, "%s%cdatadog%c%s", tenant, 0, 0, id);

	ck_assert_uint_lt(n, cap);
	return n;
}

/* A stored credential's text, as the server wrote it (malloc'd). */
static char *
cred_text(const char *tenant, const char *id, size_t *len)
{
	struct dbx	 x;
	char		 k[128], *v;

	dbx_open(&x, "credentials.db");
	v = dbx_get(&x, k, cred_key(k, sizeof(k), tenant, id), len);
	dbx_close(&x);
	ck_assert_ptr_nonnull(v);
	return v;
}

static void
cred_write(const char *tenant, const char *id, const char *v, size_t len)
{
	struct dbx	x;
	char		k[128];

	dbx_open(&x, "credentials.db");
	dbx_put(&x, k, cred_key(k, sizeof(k), tenant, id), v, len);
	dbx_close(&x);
}

/* Route the datadog check: this API key gets this status after delay_ms. */
static void
dd_route(const char *key, int status, int delay_ms)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"%s\"},"
	    "\"status\":%d,\"delayMs\":%d,\"body\":\"{}\"}", key, status,
	    delay_ms);
	ck_assert_int_eq(h_mock_route(&E, json), 0);
}

/* Stores a datadog credential with this API key; its id (static). */
static const char *
store_dd(const char *token, const char *key, long want)
{
	static char		 id[64];
	struct h_resp		 r;
	struct json_object	*o, *v;
	char			 body[512];

	snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":\"%s\","
	    "\"application_key\":\"SECRETVAL-app\"},\"label\":\"L\"}", key);
	ck_assert_int_eq(h_req(&E, "POST", DD, token, JSON, body, NULL, &r), 0);
	ck_assert_msg(r.status == want, "store: %ld %s", r.status, r.body);
	id[0] = '\0';
	if (want == 201) {
		ck_assert_ptr_nonnull(o = h_json(&r));
		ck_assert(json_object_object_get_ex(o, "credentialId", &v));
		snprintf(id, sizeof(id), "%s", json_object_get_string(v));
		json_object_put(o);
	}
	h_resp_free(&r);
	return id;
}

/* A request's status; its body into *body when not NULL (malloc'd). */
static long
call(const char *method, const char *path, const char *token,
    const char *body, char **out)
{
	struct h_resp	r;
	long		st;

	ck_assert_int_eq(h_req(&E, method, path, token, body ? JSON : NULL,
	    body, NULL, &r), 0);
	st = r.status;
	if (out != NULL)
		*out = strdup(r.body ? r.body : "");
	h_resp_free(&r);
	return st;
}

/* The "status" member of a credential as GET answers it (static). */
static const char *
get_status(const char *id)
{
	static char		 s[32];
	struct json_object	*o, *v;
	char			 path[200], *body;

	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(call("GET", path, E.tok_admin, NULL, &body), 200);
	ck_assert_ptr_nonnull(o = json_tokener_parse(body));
	ck_assert(json_object_object_get_ex(o, "status", &v));
	snprintf(s, sizeof(s), "%s", json_object_get_string(v));
	json_object_put(o);
	free(body);
	return s;
}

/* Runs credstore-admin verify [--expect-head H]; stdout and stderr. */
static int
verify(const char *expect, char **out)
{
	char	cmd[2048];
	FILE	*p;
	size_t	n = 0;
	int	st;

	snprintf(cmd, sizeof(cmd), "'%s' -c '%s' verify %s%s 2>&1", E.admin,
	    E.conf, expect ? "--expect-head " : "", expect ? expect : "");
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	ck_assert_ptr_nonnull(*out = calloc(1, 65536));
	n = fread(*out, 1, 65535, p);
	(*out)[n] = '\0';
	st = pclose(p);
	fprintf(stderr, "verify %s: %s", expect ? expect : "", *out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void
restart(void)
{
	ck_assert_int_eq(h_start_server(&E, 200), 200);
}

/*
 * (a) A record edited to "status":"validated": its MAC no longer
 * matches, so GET and the list are 500 internal_error without a value,
 * the log names the id, and verify fails.
 */
START_TEST(edited_status)
{
	char	 path[200], *v, *p, *body, *out;
	size_t	 len;
	char	 id[64];

	env_up(NULL, 1, 0);
	dd_route("SECRETVAL-down", 500, 0);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-down",
	    201));
	ck_assert_str_eq(get_status(id), "unverified");
	h_stop_server(&E);
	v = cred_text("acme", id, &len);
	ck_assert_ptr_nonnull(p = strstr(v, "\"status\":\"unverified\""));
	memcpy(p, "\"status\":\"validated\" ", 21);	/* same length */
	cred_write("acme", id, v, len);
	free(v);
	restart();
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(call("GET", path, E.tok_admin, NULL, &body), 500);
	ck_assert_ptr_nonnull(strstr(body, "internal_error"));
	ck_assert_ptr_null(strstr(body, "validated"));
	ck_assert_ptr_null(strstr(body, "SECRETVAL"));
	free(body);
	/* the list is 500 too: never served, not even in part */
	ck_assert_int_eq(call("GET", DD, E.tok_admin, NULL, &body), 500);
	ck_assert_ptr_nonnull(strstr(body, "internal_error"));
	ck_assert_ptr_null(strstr(body, id));
	free(body);
	ck_assert(h_grep_file(E.errlog, id));
	h_stop_server(&E);
	ck_assert_int_eq(verify(NULL, &out), 1);
	free(out);
}
END_TEST

/*
 * (b) The values saved before a PUT put back: the old text carries a MAC
 * that matches (it was written by the server for this very key), so GET
 * serves it (200, version 1): only the audit trail knows a version 2 was
 * written.  verify fails, naming the older version.
 */
START_TEST(older_version_back)
{
	char	 path[200], *old, *out;
	size_t	 len;
	char	 id[64];

	env_up(NULL, 1, 0);
	dd_route("SECRETVAL-old", 200, 0);
	dd_route("SECRETVAL-new", 200, 0);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-old",
	    201));
	h_stop_server(&E);
	old = cred_text("acme", id, &len);
	restart();
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(call("PUT", path, E.tok_admin, "{\"credentials\":{"
	    "\"api_key\":\"SECRETVAL-new\",\"application_key\":\"SECRETVAL-n\"}}",
	    NULL), 200);
	h_stop_server(&E);
	cred_write("acme", id, old, len);
	free(old);
	ck_assert_int_eq(verify(NULL, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, id));
	ck_assert_ptr_nonnull(strstr(out, "older"));
	free(out);
}
END_TEST

/* (c) A record deleted through the API put back: verify fails. */
START_TEST(deleted_back)
{
	char	 path[200], *old, *out;
	size_t	 len;
	char	 id[64];

	env_up(NULL, 1, 0);
	dd_route("SECRETVAL-gone", 200, 0);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-gone",
	    201));
	h_stop_server(&E);
	old = cred_text("acme", id, &len);
	restart();
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(call("DELETE", path, E.tok_admin, NULL, NULL), 204);
	h_stop_server(&E);
	cred_write("acme", id, old, len);
	free(old);
	ck_assert_int_eq(verify(NULL, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, id));
	ck_assert_ptr_nonnull(strstr(out, "deleted"));
	free(out);
}
END_TEST

/*
 * (d) A record copied under another tenant's key: the MAC covers the
 * key, so globex's GET and its list are 500: never acme's
 * record.
 */
START_TEST(copied_to_tenant)
{
	char	 path[200], *v, *body, *out;
	size_t	 len;
	char	 id[64];

	env_up(NULL, 1, 0);
	dd_route("SECRETVAL-acme", 200, 0);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-acme",
	    201));
	h_stop_server(&E);
	v = cred_text("acme", id, &len);
	cred_write("globex", id, v, len);
	free(v);
	restart();
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(call("GET", path, E.tok_other, NULL, &body), 500);
	ck_assert_ptr_null(strstr(body, "SECRETVAL"));
	free(body);
	/* the list is 500 too (see edited_status) */
	ck_assert_int_eq(call("GET", DD, E.tok_other, NULL, &body), 500);
	ck_assert_ptr_null(strstr(body, id));
	free(body);
	/* acme's own record is untouched */
	ck_assert_str_eq(get_status(id), "validated");
	h_stop_server(&E);
	ck_assert_int_eq(verify(NULL, &out), 1);
	free(out);
}
END_TEST

/* The "seq:mac" of the last `audit: seq=` line of the server's log. */
static void
last_head(char *out, size_t cap)
{
	char		*s, *p, *q = NULL;
	unsigned long long seq;
	char		 mac[17];
	FILE		*f;
	long		 n;

	ck_assert_ptr_nonnull(f = fopen(E.errlog, "r"));
	ck_assert_ptr_nonnull(s = calloc(1, 1 << 22));
	n = (long)fread(s, 1, (1 << 22) - 1, f);
	fclose(f);
	ck_assert_int_gt(n, 0);
	for (p = s; (p = strstr(p, "audit: seq=")) != NULL; p++)
		q = p;
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(sscanf(q, "audit: seq=%llu mac=%16[0-9a-f]", &seq,
	    mac), 2);
	snprintf(out, cap, "%llu:%s", seq, mac);
	free(s);
}

static void
be64(unsigned char *b, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
}

/*
 * Cuts the audit chain after record n: records n+1..last deleted and the
 * head set to `head` (hlen bytes), or, when head is NULL, written from
 * record n as an attacker without the key can: seq n and record n's
 * chain MAC (in clear at the end of its value), the rest of the current
 * head kept.
 */
static void
cut_chain(uint64_t n, uint64_t last, const void *head, size_t hlen)
{
	struct dbx	 a, m;
	unsigned char	 kb[8], *mac, *h;
	char		*v, *nl;
	size_t		 vlen, maclen, cur;
	uint64_t	 s;

	dbx_open(&a, "audit.db");
	for (s = n + 1; s <= last; s++) {
		be64(kb, s);
		dbx_del(&a, kb, 8);
	}
	a.db->close(a.db, 0);
	ck_assert_int_eq(db_create(&m.db, a.env, 0), 0);
	ck_assert_int_eq(m.db->open(m.db, NULL, "meta.db", NULL, DB_BTREE,
	    DB_AUTO_COMMIT, 0), 0);
	m.env = a.env;
	if (head == NULL) {
		h = (unsigned char *)dbx_get(&m, "audit.head", 10, &cur);
		ck_assert_ptr_nonnull(h);
		ck_assert_uint_ge(cur, 40);
		/* record n's value: JSON \n base64 chain MAC */
		ck_assert_int_eq(db_create(&a.db, a.env, 0), 0);
		ck_assert_int_eq(a.db->open(a.db, NULL, "audit.db", NULL,
		    DB_BTREE, DB_AUTO_COMMIT, 0), 0);
		be64(kb, n);
		ck_assert_ptr_nonnull(v = dbx_get(&a, kb, 8, &vlen));
		a.db->close(a.db, 0);
		ck_assert_ptr_nonnull(nl = strrchr(v, '\n'));
		ck_assert_ptr_nonnull(mac = b64_decode(nl + 1, strlen(nl + 1),
		    &maclen));
		ck_assert_uint_eq(maclen, 32);
		be64(h, n);
		memcpy(h + 8, mac, 32);
		dbx_put(&m, "audit.head", 10, h, cur);
		free(mac);
		free(v);
		free(h);
	} else
		dbx_put(&m, "audit.head", 10, head, hlen);
	dbx_close(&m);
}

/*
 * (e) The newest audit records cut off.  The head written from record N
 * (seq and chain MAC copied in clear) fails verify: the head has a MAC
 * of its own.  An older head that the server wrote itself (meta.db
 * copied earlier and put back) is valid, so only the external anchor
 * catches that cut: `verify --expect-head SEQ:MAC` with the seq and MAC
 * of the last change's `audit: seq=` log line.
 */
START_TEST(audit_cut)
{
	struct dbx	 m;
	char		 id[64], path[200], head[64], *old, *out;
	size_t		 oldlen;
	unsigned long long last;

	env_up(NULL, 1, 0);
	dd_route("SECRETVAL-a", 200, 0);
	dd_route("SECRETVAL-b", 200, 0);
	store_dd(E.tok_admin, "SECRETVAL-a", 201);
	h_stop_server(&E);
	dbx_open(&m, "meta.db");	/* the head as an old meta.db has it */
	ck_assert_ptr_nonnull(old = dbx_get(&m, "audit.head", 10, &oldlen));
	dbx_close(&m);
	restart();
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-b",
	    201));
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(call("DELETE", path, E.tok_admin, NULL, NULL), 204);
	last_head(head, sizeof(head));
	h_stop_server(&E);
	ck_assert_int_eq(verify(head, &out), 0);
	free(out);
	last = strtoull(head, NULL, 10);
	ck_assert_uint_ge(last, 3);

	/* the delete's record cut, the head rewritten from the create's */
	cut_chain(last - 1, last, NULL, 0);
	ck_assert_int_eq(verify(NULL, &out), 1);
	free(out);
	ck_assert_int_eq(verify(head, &out), 1);
	free(out);

	/* back to the old meta.db's head: a valid chain, but shorter */
	cut_chain(last - 2, last - 1, old, oldlen);
	free(old);
	ck_assert_int_eq(verify(NULL, &out), 0);
	free(out);
	ck_assert_int_eq(verify(head, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "cut"));
	free(out);
}
END_TEST

/*
 * (f) A re-test of the old values races a PUT of new ones (finding 8):
 * the old key's check takes 1 s; the PUT lands during it with values the
 * provider cannot judge (unverified).  The stale verdict must not be
 * written over them: the re-test answers 409 conflict and the record
 * keeps the PUT's status and values.
 */
START_TEST(retest_races_put)
{
	char		 id[64], path[200], vpath[220], *body;
	struct json_object *reqs, *last, *h, *k;
	pid_t		 kid;
	int		 st;

	env_up(NULL, 2, 3000);
	dd_route("SECRETVAL-old", 200, 0);
	snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin, "SECRETVAL-old",
	    201));
	dd_route("SECRETVAL-old", 200, 1000);
	dd_route("SECRETVAL-new", 500, 0);
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	snprintf(vpath, sizeof(vpath), "%s/validate", path);
	if ((kid = fork()) == 0) {
		struct h_resp r;

		if (h_req(&E, "POST", vpath, E.tok_admin, NULL, NULL, NULL,
		    &r) != 0)
			_exit(99);
		fprintf(stderr, "re-test: %ld %s\n", r.status, r.body);
		_exit(r.status == 409 && strcmp(h_errcode(&r), "conflict") == 0 ?
		    0 : 1);
	}
	usleep(300000);
	ck_assert_int_eq(call("PUT", path, E.tok_admin, "{\"credentials\":{"
	    "\"api_key\":\"SECRETVAL-new\",\"application_key\":\"SECRETVAL-n\"}}",
	    &body), 200);
	free(body);
	ck_assert_int_eq(waitpid(kid, &st, 0), kid);
	ck_assert_str_eq(get_status(id), "unverified");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the stale re-test was not refused with 409 conflict");
	/* the values are the PUT's: a re-test sends the new key */
	ck_assert_int_eq(h_mock_reset(&E), 0);
	dd_route("SECRETVAL-new", 500, 0);
	call("POST", vpath, E.tok_admin, NULL, NULL);
	ck_assert_ptr_nonnull(reqs = h_mock_requests(&E));
	ck_assert_int_ge(json_object_array_length(reqs), 1);
	last = json_object_array_get_idx(reqs,
	    json_object_array_length(reqs) - 1);
	ck_assert(json_object_object_get_ex(last, "headers", &h));
	ck_assert(json_object_object_get_ex(h, "DD-API-KEY", &k));
	ck_assert_str_eq(json_object_get_string(k), "SECRETVAL-new");
	json_object_put(reqs);
}
END_TEST

/* The number of credentials a list answers for token. */
static size_t
count(const char *token)
{
	struct json_object	*o, *items;
	char			*body;
	size_t			 n;

	ck_assert_int_eq(call("GET", DD, token, NULL, &body), 200);
	ck_assert_ptr_nonnull(o = json_tokener_parse(body));
	ck_assert(json_object_object_get_ex(o, "data", &items));
	n = json_object_array_length(items);
	json_object_put(o);
	free(body);
	return n;
}

/*
 * (g) max_credentials_per_tenant = 3: the 4th store of acme is 409
 * limit_exceeded and stores nothing, globex is unaffected, a delete
 * frees a slot.
 */
START_TEST(tenant_cap)
{
	char	id[64], path[200], claims[256], *body, *tok2;
	int	i;

	env_up("max_credentials_per_tenant = 3\n", 1, 0);
	dd_route("SECRETVAL-cap", 200, 0);
	/*
	 * acme2 first, at its cap: acme's count, computed on its first store,
	 * covers acme's keys only, not those of a tenant its name prefixes
	 */
	snprintf(claims, sizeof(claims), "{\"sub\":\"erin\",\"org_id\":"
	    "\"acme2\",\"role\":\"admin\",\"iss\":\"https://issuer.test\","
	    "\"aud\":\"credstore\",\"exp\":%ld}", (long)time(NULL) + 3600);
	ck_assert_ptr_nonnull(tok2 = h_mint(&E, claims));
	for (i = 0; i < 3; i++)
		store_dd(tok2, "SECRETVAL-cap", 201);
	for (i = 0; i < 3; i++)
		snprintf(id, sizeof(id), "%s", store_dd(E.tok_admin,
		    "SECRETVAL-cap", 201));
	ck_assert_int_eq(call("POST", DD, E.tok_admin, "{\"credentials\":{"
	    "\"api_key\":\"SECRETVAL-cap\",\"application_key\":\"SECRETVAL-a\"}}",
	    &body), 409);
	ck_assert_ptr_nonnull(strstr(body, "limit_exceeded"));
	free(body);
	ck_assert_uint_eq(count(E.tok_admin), 3);
	store_dd(E.tok_other, "SECRETVAL-cap", 201);
	ck_assert_uint_eq(count(E.tok_other), 1);
	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(call("DELETE", path, E.tok_admin, NULL, NULL), 204);
	store_dd(E.tok_admin, "SECRETVAL-cap", 201);
	ck_assert_uint_eq(count(E.tok_admin), 3);
	ck_assert_uint_eq(count(tok2), 3);
	free(tok2);
}
END_TEST

/* The "wrapped" member of a record's text (malloc'd base64). */
static char *
wrapped_of(const char *text)
{
	const char	*p, *q;
	char		*w;

	ck_assert_ptr_nonnull(p = strstr(text, "\"wrapped\":\""));
	p += 11;
	ck_assert_ptr_nonnull(q = strchr(p, '"'));
	ck_assert_ptr_nonnull(w = strndup(p, (size_t)(q - p)));
	return w;
}

/* 1 when a log file of data_dir holds the n bytes at p. */
static int
in_logs(const void *p, size_t n)
{
	FILE	*f;
	char	 cmd[800], path[700];
	int	 found = 0;

	snprintf(cmd, sizeof(cmd), "ls '%s'/log.* 2>/dev/null", E.data_dir);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	while (!found && fgets(path, sizeof(path), f) != NULL) {
		path[strcspn(path, "\n")] = '\0';
		found = h_grep_bytes(path, p, n);
	}
	pclose(f);
	return found;
}

/*
 * Finding 4: after `shred`, no log file of data_dir holds the wrapped
 * data key of a deleted credential (neither its base64 nor its bytes),
 * the key that wrapped it is gone from the keyring file, verify passes and the
 * remaining credentials still open.
 */
START_TEST(shred)
{
	char		 keep[64], gone[64], path[200], kr[700], *t, *w, *out;
	char		 old_kid[64], line[80];
	unsigned char	*raw;
	size_t		 len, rawlen;
	const char	*p;

	env_up(NULL, 1, 0);
	dd_route("SECRETVAL-keep", 200, 0);
	dd_route("SECRETVAL-gone", 200, 0);
	snprintf(keep, sizeof(keep), "%s", store_dd(E.tok_admin,
	    "SECRETVAL-keep", 201));
	snprintf(gone, sizeof(gone), "%s", store_dd(E.tok_admin,
	    "SECRETVAL-gone", 201));
	h_stop_server(&E);
	t = cred_text("acme", gone, &len);
	w = wrapped_of(t);
	ck_assert_ptr_nonnull(p = strstr(t, "\"kid\":\""));
	ck_assert_int_eq(sscanf(p + 7, "%63[^\"]", old_kid), 1);
	free(t);
	ck_assert_ptr_nonnull(raw = b64_decode(w, strlen(w), &rawlen));
	restart();
	snprintf(path, sizeof(path), "%s/%s", DD, gone);
	ck_assert_int_eq(call("DELETE", path, E.tok_admin, NULL, NULL), 204);
	ck_assert(in_logs(w, strlen(w)));	/* the delete's log record */
	ck_assert_int_eq(h_admin(&E, &out, "shred", NULL), 0);
	fprintf(stderr, "shred: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "retired: "));
	ck_assert_ptr_null(strstr(out, "log files removed: 0"));
	free(out);
	h_stop_server(&E);
	ck_assert_msg(!in_logs(w, strlen(w)), "the wrapped key's base64 is "
	    "still in a log file of %s", E.data_dir);
	ck_assert(!in_logs(raw, rawlen));
	/*
	 * What a deletion leaves in the free space of a database page (or of
	 * a page in the cache region) stays until the page is rewritten; it
	 * names the old key, which is gone from the keyring file.
	 */
	snprintf(kr, sizeof(kr), "%s/keyring", E.dir);
	/* its line "key ID ..." (a bare "k1" may be in a key's base64) */
	snprintf(line, sizeof(line), "key %s ", old_kid);
	ck_assert(!h_grep_file(kr, line));
	{
		struct keyring	*k;
		char		 err[256];

		ck_assert_int_eq(keyring_load(kr, &k, err, sizeof(err)), 0);
		ck_assert_ptr_null(keyring_find(k, old_kid));
		ck_assert_uint_eq(k->nkeys, 1);
		keyring_free(k);
	}
	ck_assert_int_eq(verify(NULL, &out), 0);
	free(out);
	restart();
	ck_assert_str_eq(get_status(keep), "validated");
	snprintf(path, sizeof(path), "%s/%s/validate", DD, keep);
	ck_assert_int_eq(call("POST", path, E.tok_admin, NULL, NULL), 200);
	free(w);
	free(raw);
}
END_TEST

/*
 * The text an older credstore (format 1) wrote for the format-2 text t:
 * "v":1, no "ver" and no "mac" member (malloc'd, its length in *len).
 */
static char *
format1_of(const char *t, size_t *len)
{
	const char	*ver, *mac, *rest;
	char		*v;

	ck_assert(strncmp(t, "{\"v\":2,\"ver\":", 13) == 0);
	ver = t + 13 + strspn(t + 13, "0123456789");
	ck_assert_ptr_nonnull(mac = strstr(ver, ",\"mac\":\""));
	rest = mac + 8 + strspn(mac + 8, "0123456789abcdef");
	ck_assert_str_eq(rest, "\"}");
	ck_assert_ptr_nonnull(v = calloc(1, strlen(t) + 1));
	*len = (size_t)snprintf(v, strlen(t) + 1, "{\"v\":1%.*s}",
	    (int)(mac - ver), ver);
	return v;
}

/* The "label" and "status" of a credential as GET answers them (static). */
static const char *
get_meta(const char *id)
{
	static char		 s[256];
	struct json_object	*o, *l, *st;
	char			 path[200], *body;

	snprintf(path, sizeof(path), "%s/%s", DD, id);
	ck_assert_int_eq(call("GET", path, E.tok_admin, NULL, &body), 200);
	ck_assert_ptr_nonnull(o = json_tokener_parse(body));
	ck_assert(json_object_object_get_ex(o, "label", &l));
	ck_assert(json_object_object_get_ex(o, "status", &st));
	snprintf(s, sizeof(s), "%s/%s", json_object_get_string(l),
	    json_object_get_string(st));
	json_object_put(o);
	free(body);
	return s;
}

/* Runs credstore-admin upgrade: its exit status, stdout into *out. */
static int
upgrade(char **out)
{
	int rc = h_admin(&E, out, "upgrade", NULL);

	fprintf(stderr, "upgrade: %s", *out);
	return rc;
}

/*
 * Records an older credstore wrote (format 1: no version counter, no
 * MAC) are 500 with a log line saying what to do until `credstore-admin
 * upgrade` writes them again in the current format; then they are served
 * and open as before, verify passes and a second upgrade has nothing to
 * do.  A format-2 record whose MAC fails is not "upgraded": failed, exit
 * 1, still 500.
 */
START_TEST(upgrade_format1)
{
	char		 ids[2][64], meta[2][256], path[200], *t, *v, *out;
	size_t		 len;
	int		 i;

	env_up(NULL, 1, 0);
	dd_route("SECRETVAL-one", 200, 0);
	dd_route("SECRETVAL-two", 500, 0);
	snprintf(ids[0], sizeof(ids[0]), "%s", store_dd(E.tok_admin,
	    "SECRETVAL-one", 201));
	snprintf(ids[1], sizeof(ids[1]), "%s", store_dd(E.tok_admin,
	    "SECRETVAL-two", 201));
	for (i = 0; i < 2; i++)
		snprintf(meta[i], sizeof(meta[i]), "%s", get_meta(ids[i]));
	h_stop_server(&E);
	for (i = 0; i < 2; i++) {
		t = cred_text("acme", ids[i], &len);
		v = format1_of(t, &len);
		cred_write("acme", ids[i], v, len);
		free(t);
		free(v);
	}
	restart();
	snprintf(path, sizeof(path), "%s/%s", DD, ids[0]);
	ck_assert_int_eq(call("GET", path, E.tok_admin, NULL, NULL), 500);
	ck_assert(h_grep_file(E.errlog, "written by an older credstore: run "
	    "credstore-admin upgrade"));
	ck_assert(h_grep_file(E.errlog, ids[0]));
	ck_assert_int_eq(upgrade(&out), 0);
	ck_assert_ptr_nonnull(strstr(out, "records: 2\nupgraded: 2\n"
	    "failed: 0\n"));
	free(out);
	for (i = 0; i < 2; i++)
		ck_assert_str_eq(get_meta(ids[i]), meta[i]);
	snprintf(path, sizeof(path), "%s/%s/validate", DD, ids[0]);
	ck_assert_int_eq(call("POST", path, E.tok_admin, NULL, NULL), 200);
	ck_assert_str_eq(get_status(ids[0]), "validated");
	ck_assert_int_eq(upgrade(&out), 0);
	ck_assert_ptr_nonnull(strstr(out, "upgraded: 0\nfailed: 0\n"));
	free(out);
	h_stop_server(&E);
	ck_assert_int_eq(verify(NULL, &out), 0);
	free(out);
	/* a format-2 record whose MAC fails is tampered with, not old */
	t = cred_text("acme", ids[1], &len);
	ck_assert_ptr_nonnull(v = strstr(t, "\"label\":\"L\""));
	v[9] = 'M';
	cred_write("acme", ids[1], t, len);
	free(t);
	restart();
	ck_assert_int_eq(upgrade(&out), 1);
	ck_assert_ptr_nonnull(strstr(out, "upgraded: 0\nfailed: 1\n"));
	free(out);
	snprintf(path, sizeof(path), "%s/%s", DD, ids[1]);
	ck_assert_int_eq(call("GET", path, E.tok_admin, NULL, NULL), 500);
	ck_assert_str_eq(get_meta(ids[0]), "L/validated");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("e2e_integrity");
	TCase	*tc = tcase_create("integrity");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, edited_status);
	tcase_add_test(tc, older_version_back);
	tcase_add_test(tc, deleted_back);
	tcase_add_test(tc, copied_to_tenant);
	tcase_add_test(tc, audit_cut);
	tcase_add_test(tc, retest_races_put);
	tcase_add_test(tc, tenant_cap);
	tcase_add_test(tc, shred);
	tcase_add_test(tc, upgrade_format1);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
