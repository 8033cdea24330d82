#include "cs_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <gnutls/crypto.h>

#include <json-c/json.h>

#include "credmeta.h"
#include "mac_fixture.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define ID	"crd_01M8NP07NWZ340VMZAXT2VVK76"
#define A16	"AAAAAAAAAAAAAAAA"
#define WRAPPED	A16 A16 A16 A16 A16	/* 60 zero bytes */
#define NONCE	A16			/* 12 zero bytes */

/*
 * The bytes record_cred_write gives for known_rec() before its MAC: the
 * on-disk format (the MAC member follows, see with_mac).
 */
static const char known_text[] =
    "{\"v\":2,\"ver\":1,\"id\":\"" ID "\",\"tenant\":\"t\",\"provider\":\"sentry\","
    "\"label\":\"a \\\"q\\\" / caf\xc3\xa9\",\"createdBy\":null,"
    "\"status\":\"validated\",\"fields\":[\"api_key\",\"site\"],"
    "\"createdAt\":1764489600,\"updatedAt\":1764489601,"
    "\"lastValidatedAt\":null,\"lastUsedAt\":null,\"kid\":\"k1\","
    "\"wrapped\":\"" WRAPPED "\",\"nonce\":\"" NONCE "\",\"ct\":\"Zm9v\"}";

/* The same record as json-c would write it (slashes escaped, \u00e9). */
static const char jsonc_text[] =
    "{\"v\":2,\"ver\":1,\"id\":\"" ID "\",\"tenant\":\"t\",\"provider\":\"sentry\","
    "\"label\":\"a \\\"q\\\" \\/ caf\\u00e9\",\"createdBy\":null,"
    "\"status\":\"validated\",\"fields\":[\"api_key\",\"site\"],"
    "\"createdAt\":1764489600,\"updatedAt\":1764489601,"
    "\"lastValidatedAt\":null,\"kid\":\"k1\",\"wrapped\":\"" WRAPPED "\","
    "\"nonce\":\"" NONCE "\",\"ct\":\"Zm9v\"}";

#define KEY	"t\0sentry\0" ID
#define KEYLEN	(sizeof(KEY) - 1)


static const struct record_key rkey = { KEY, KEYLEN, test_mac, NULL };

/*
 * text (ending in "}") with its MAC member under k appended, as
 * record_cred_write writes it: malloc'd.  Other text is copied.
 */
static char *
with_mac_key(const char *text, size_t n, const struct record_key *k)
{
	unsigned char	 mac[STORE_MAC_LEN], *m;
	char		*t;
	size_t		 i, len;

	ck_assert_ptr_nonnull(t = malloc(n + 100));
	memcpy(t, text, n);
	t[n] = '\0';
	if (n == 0 || text[n - 1] != '}')
		return t;
	ck_assert_ptr_nonnull(m = malloc(k->klen + n));
	memcpy(m, k->key, k->klen);
	m[k->klen] = '\0';
	memcpy(m + k->klen + 1, text, n - 1);
	ck_assert_int_eq(test_mac("record-v1", m, k->klen + n, mac, NULL), 0);
	free(m);
	len = n - 1;
	len += (size_t)snprintf(t + len, 20, ",\"mac\":\"");
	for (i = 0; i < STORE_MAC_LEN; i++)
		len += (size_t)snprintf(t + len, 3, "%02x", mac[i]);
	snprintf(t + len, 3, "\"}");
	return t;
}

static char *
with_mac(const char *text, size_t n)
{
	return with_mac_key(text, n, &rkey);
}

static char *
xstrdup(const char *s)
{
	char *t = strdup(s);

	ck_assert_ptr_nonnull(t);
	return t;
}

/* Fills r with the known record (cred_rec_free). */
static void
known_rec(struct cred_rec *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", ID);
	r->tenant = xstrdup("t");
	r->provider = xstrdup("sentry");
	r->label = xstrdup("a \"q\" / caf\xc3\xa9");
	snprintf(r->status, sizeof(r->status), "validated");
	r->fields[r->nfields++] = xstrdup("api_key");
	r->fields[r->nfields++] = xstrdup("site");
	r->created = 1764489600;
	r->updated = 1764489601;
	r->ver = 1;
	snprintf(r->sealed.key_id, sizeof(r->sealed.key_id), "k1");
	r->sealed.ct = (unsigned char *)xstrdup("foo");
	r->sealed.ctlen = 3;
}

static void
assert_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

/* a and b hold the same record (sealed: the sealed values too). */
static void
assert_same(const struct cred_rec *a, const struct cred_rec *b, int sealed)
{
	size_t i;

	ck_assert_str_eq(a->id, b->id);
	assert_same_str(a->tenant, b->tenant);
	assert_same_str(a->provider, b->provider);
	assert_same_str(a->label, b->label);
	assert_same_str(a->created_by, b->created_by);
	ck_assert_str_eq(a->status, b->status);
	ck_assert_uint_eq(a->nfields, b->nfields);
	for (i = 0; i < a->nfields; i++)
		ck_assert_str_eq(a->fields[i], b->fields[i]);
	ck_assert_int_eq((long long)a->created, (long long)b->created);
	ck_assert_int_eq((long long)a->updated, (long long)b->updated);
	ck_assert_int_eq((long long)a->validated, (long long)b->validated);
	ck_assert_str_eq(a->check, b->check);
	ck_assert_uint_eq(a->ver, b->ver);
	ck_assert_str_eq(a->sealed.key_id, b->sealed.key_id);
	if (!sealed) {
		ck_assert_ptr_null(b->sealed.ct);
		return;
	}
	ck_assert_mem_eq(a->sealed.wrapped, b->sealed.wrapped,
	    sizeof(a->sealed.wrapped));
	ck_assert_mem_eq(a->sealed.nonce, b->sealed.nonce,
	    sizeof(a->sealed.nonce));
	ck_assert_uint_eq(a->sealed.ctlen, b->sealed.ctlen);
	ck_assert_mem_eq(a->sealed.ct, b->sealed.ct, a->sealed.ctlen);
}

/* Reads text with both readers (and record_cred_read): all must agree. */
static void
assert_reads_as(const char *text, const struct cred_rec *want, int flat_ok)
{
	struct cred_rec	r;
	enum store_rc	out;
	size_t		n = strlen(text);
	int		sealed;
	char		*m = with_mac(text, n);

	for (sealed = 0; sealed <= 1; sealed++) {
		if (flat_ok) {
			ck_assert_int_eq(record_cred_read_flat(text, n, &r,
			    sealed, &out), 0);
			ck_assert_int_eq(out, STORE_OK);
			assert_same(want, &r, sealed);
			cred_rec_free(&r);
		}
		ck_assert_int_eq(record_cred_read_json(text, n, &r, sealed),
		    STORE_OK);
		assert_same(want, &r, sealed);
		cred_rec_free(&r);
		ck_assert_int_eq(record_cred_read(m, strlen(m), &rkey, &r,
		    sealed), STORE_OK);
		assert_same(want, &r, sealed);
		cred_rec_free(&r);
	}
	free(m);
}

/* Both readers refuse text: STORE_CORRUPT (flat may also pass it on). */
static void
assert_refused(const char *text, size_t n)
{
	struct cred_rec	r;
	enum store_rc	out;
	int		sealed;
	char		*m = with_mac(text, n);

	for (sealed = 0; sealed <= 1; sealed++) {
		if (record_cred_read_flat(text, n, &r, sealed, &out) == 0)
			ck_assert_int_eq(out, STORE_CORRUPT);
		ck_assert_ptr_null(r.tenant);
		ck_assert_ptr_null(r.sealed.ct);
		ck_assert_int_eq(record_cred_read_json(text, n, &r, sealed),
		    STORE_CORRUPT);
		ck_assert_ptr_null(r.tenant);
		ck_assert_int_eq(record_cred_read(text, n, &rkey, &r, sealed),
		    STORE_CORRUPT);
		/* a valid MAC does not make bad text good */
		ck_assert_int_eq(record_cred_read(m, strlen(m), &rkey, &r,
		    sealed), STORE_CORRUPT);
	}
	free(m);
}

/* ------------------------------------------------------ credentials */

START_TEST(test_cred_bytes)
{
	struct cred_rec	 r;
	char		*t;
	size_t		 n = 0;

	char		*want;

	known_rec(&r);
	t = record_cred_write(&r, &rkey, &n);
	ck_assert_ptr_nonnull(t);
	want = with_mac(known_text, strlen(known_text));
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_str_eq(t, want);
	free(want);
	free(t);
	/* no MAC function: nothing is written */
	ck_assert_ptr_null(record_cred_write(&r, NULL, &n));

	/* lastValidatedAt is a number once set; a NULL label is null */
	r.validated = 1764489602;
	free(r.label);
	r.label = NULL;
	t = record_cred_write(&r, &rkey, &n);
	ck_assert_ptr_nonnull(strstr(t, ",\"lastValidatedAt\":1764489602,"));
	ck_assert_ptr_nonnull(strstr(t, ",\"label\":null,"));
	free(t);
	/* lastUsedAt (the proxy's) is a number once set */
	r.used = 1764489603;
	t = record_cred_write(&r, &rkey, &n);
	ck_assert_ptr_nonnull(strstr(t, ",\"lastValidatedAt\":1764489602,"
	    "\"lastUsedAt\":1764489603,\"kid\":"));
	free(t);
	cred_rec_free(&r);
}
END_TEST

/* A record written before lastUsedAt existed: its MAC holds, it reads 0. */
START_TEST(test_cred_before_last_used)
{
	static const char	 cut[] = "\"lastUsedAt\":null,";
	struct cred_rec		 r, want;
	char			*old, *p, *m;

	ck_assert_ptr_nonnull(old = strdup(known_text));
	ck_assert_ptr_nonnull(p = strstr(old, cut));
	memmove(p, p + strlen(cut), strlen(p + strlen(cut)) + 1);
	m = with_mac(old, strlen(old));
	ck_assert_int_eq(record_cred_read(m, strlen(m), &rkey, &r, 1),
	    STORE_OK);
	ck_assert_int_eq((long long)r.used, 0);
	known_rec(&want);
	ck_assert_str_eq(r.id, want.id);
	ck_assert_int_eq((long long)r.validated, 0);
	cred_rec_free(&r);
	cred_rec_free(&want);
	free(m);
	free(old);
}
END_TEST

START_TEST(test_cred_round_trip)
{
	struct cred_rec	 r;
	char		*t, name[16];
	size_t		 n = 0, i;

	known_rec(&r);
	assert_reads_as(known_text, &r, 1);

	/* every field, a set validation time, a creator, a longer value */
	for (i = r.nfields; i < CREDSET_MAX; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		r.fields[r.nfields++] = xstrdup(name);
	}
	r.validated = 1764489700;
	r.created_by = xstrdup("user/42\x01");
	free(r.sealed.ct);
	r.sealed.ctlen = 1000;
	ck_assert_ptr_nonnull(r.sealed.ct = malloc(r.sealed.ctlen));
	for (i = 0; i < r.sealed.ctlen; i++)
		r.sealed.ct[i] = (unsigned char)(i * 7);
	for (i = 0; i < sizeof(r.sealed.wrapped); i++)
		r.sealed.wrapped[i] = (unsigned char)(255 - i);
	memset(r.sealed.nonce, 0xfb, sizeof(r.sealed.nonce));
	t = record_cred_write(&r, &rkey, &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(n, strlen(t));
	assert_reads_as(t, &r, 1);
	free(t);
	cred_rec_free(&r);
}
END_TEST

START_TEST(test_cred_jsonc_written)
{
	struct cred_rec	 r;
	char		 text[2048];

	/* records written by json-c (older versions) read the same */
	known_rec(&r);
	assert_reads_as(jsonc_text, &r, 1);
	/* another member order, members a newer version may add */
	snprintf(text, sizeof(text), "{\"newer\":[\"x\"],\"ct\":\"Zm9v\","
	    "\"nonce\":\"%s\",\"wrapped\":\"%s\",\"kid\":\"k1\","
	    "\"lastValidatedAt\":null,\"updatedAt\":1764489601,"
	    "\"createdAt\":1764489600,\"fields\":[\"api_key\",\"site\"],"
	    "\"status\":\"validated\",\"createdBy\":null,"
	    "\"label\":\"a \\\"q\\\" / caf\xc3\xa9\",\"provider\":\"sentry\","
	    "\"tenant\":\"t\",\"id\":\"%s\",\"ver\":1,\"v\":2}", NONCE, WRAPPED,
	    ID);
	assert_reads_as(text, &r, 1);
	cred_rec_free(&r);
}
END_TEST

START_TEST(test_cred_duplicate)
{
	struct cred_rec	 r, got;
	enum store_rc	 out;
	char		 text[2048];

	/* a duplicate member is not flat: json-c decides (the last wins) */
	snprintf(text, sizeof(text), "%.*s,\"label\":\"second\"}",
	    (int)strlen(known_text) - 1, known_text);
	ck_assert_int_eq(record_cred_read_flat(text, strlen(text), &got, 1,
	    &out), -1);
	ck_assert_ptr_null(got.tenant);
	known_rec(&r);
	free(r.label);
	r.label = xstrdup("second");
	assert_reads_as(text, &r, 0);
	cred_rec_free(&r);
}
END_TEST

/* "v" is checked by both readers: missing or unknown is corrupt. */
static const char *const bad_versions[] = {
	"", "\"v\":1,", "\"v\":3,", "\"v\":0,", "\"v\":\"2\",", "\"v\":null,",
	"\"v\":-1,", "\"v\":[\"2\"],", "\"v\":2.0,",
};

START_TEST(test_cred_version)
{
	char text[2048];

	/* known_text starts {"v":2, (7 bytes) */
	ck_assert_int_eq(strncmp(known_text, "{\"v\":2,", 7), 0);
	snprintf(text, sizeof(text), "{%s%s", bad_versions[_i],
	    known_text + 7);
	assert_refused(text, strlen(text));
}
END_TEST

START_TEST(test_cred_truncated)
{
	size_t n;

	for (n = 0; n < strlen(known_text); n++)
		assert_refused(known_text, n);
}
END_TEST

/* Garbage, and records with one member wrong. */
static const char *const garbage[] = {
	"", "null", "[]", "{}", "\"v\"", "{\"v\":1}", "xyz", "{\"v\":1,",
	"{\"v\":1,\"id\":\"crd_1\"}",
	"{\"v\":2,\"ver\":1,\"id\":\"" ID "\",\"tenant\":null,\"provider\":\"p\","
	"\"status\":\"s\",\"fields\":[],\"kid\":\"k\",\"wrapped\":\"" WRAPPED
	"\",\"nonce\":\"" NONCE "\",\"ct\":\"\"}",
	"{\"v\":2,\"ver\":1,\"id\":\"" ID "\",\"tenant\":\"t\",\"provider\":\"p\","
	"\"status\":\"s\",\"fields\":[1],\"kid\":\"k\",\"wrapped\":\"" WRAPPED
	"\",\"nonce\":\"" NONCE "\",\"ct\":\"\"}",
	"{\"v\":2,\"ver\":1,\"id\":\"" ID "\",\"tenant\":\"t\",\"provider\":\"p\","
	"\"status\":\"much too long a status\",\"fields\":[],\"kid\":\"k\","
	"\"wrapped\":\"" WRAPPED "\",\"nonce\":\"" NONCE "\",\"ct\":\"\"}",
	"{\"v\":2,\"ver\":1,\"id\":\"" ID "\",\"tenant\":\"t\",\"provider\":\"p\","
	"\"status\":\"s\",\"fields\":[],\"wrapped\":\"" WRAPPED "\","
	"\"nonce\":\"" NONCE "\",\"ct\":\"\"}",
	"\x01\xff{{{",
};

START_TEST(test_cred_garbage)
{
	assert_refused(garbage[_i], strlen(garbage[_i]));
}
END_TEST

START_TEST(test_cred_unsealed_skips_values)
{
	struct cred_rec	r;
	enum store_rc	out;
	const char	text[] = "{\"v\":2,\"ver\":1,\"id\":\"" ID "\",\"tenant\":\"t\","
			    "\"provider\":\"p\",\"status\":\"s\",\"fields\":[],"
			    "\"kid\":\"k\",\"wrapped\":\"?\"}";

	/* a listing does not decode the sealed values, nor needs them */
	ck_assert_int_eq(record_cred_read_flat(text, strlen(text), &r, 0,
	    &out), 0);
	ck_assert_int_eq(out, STORE_OK);
	ck_assert_str_eq(r.tenant, "t");
	ck_assert_ptr_null(r.label);
	ck_assert_int_eq((long long)r.created, 0);
	cred_rec_free(&r);
	ck_assert_int_eq(record_cred_read_json(text, strlen(text), &r, 0),
	    STORE_OK);
	ck_assert_str_eq(r.provider, "p");
	cred_rec_free(&r);
	/* asked for them, the bad wrapped key and the missing rest are corrupt */
	ck_assert_int_eq(record_cred_read_flat(text, strlen(text), &r, 1,
	    &out), 0);
	ck_assert_int_eq(out, STORE_CORRUPT);
	ck_assert_int_eq(record_cred_read_json(text, strlen(text), &r, 1),
	    STORE_CORRUPT);
}
END_TEST

/* The MAC binds the text and the key: any change is corrupt. */
START_TEST(test_cred_mac)
{
	static const struct record_key	 other = { "u\0sentry\0" ID,
					    sizeof("u\0sentry\0" ID) - 1,
					    test_mac, NULL };
	struct cred_rec	 r, got;
	char		*t, *e, *p;
	size_t		 n = 0;

	known_rec(&r);
	ck_assert_ptr_nonnull(t = record_cred_write(&r, &rkey, &n));
	ck_assert_int_eq(record_cred_read(t, n, &rkey, &got, 1), STORE_OK);
	cred_rec_free(&got);
	/* no MAC function, another key (another tenant's) */
	ck_assert_int_eq(record_cred_read(t, n, NULL, &got, 1), STORE_CORRUPT);
	ck_assert_int_eq(record_cred_read(t, n, &other, &got, 1),
	    STORE_CORRUPT);
	ck_assert_ptr_null(got.tenant);
	/* a MAC digit changed */
	ck_assert_ptr_nonnull(e = strdup(t));
	e[n - 3] = e[n - 3] == '0' ? '1' : '0';
	ck_assert_int_eq(record_cred_read(e, n, &rkey, &got, 0), STORE_CORRUPT);
	free(e);
	/* the status edited, the MAC kept */
	ck_assert_ptr_nonnull(e = strdup(t));
	ck_assert_ptr_nonnull(p = strstr(e, "\"validated\""));
	memcpy(p, "\"rejected\" ", 11);
	ck_assert_int_eq(record_cred_read(e, n, &rkey, &got, 0), STORE_CORRUPT);
	free(e);
	/* the MAC member removed: a record as version 1 wrote it */
	ck_assert_ptr_nonnull(p = strstr(t, ",\"mac\":"));
	memcpy(p, "}", 2);
	ck_assert_int_eq(record_cred_read(t, strlen(t), &rkey, &got, 0),
	    STORE_CORRUPT);
	free(t);
	/* a version 1 record, MAC'd or not, is corrupt */
	t = with_mac("{\"v\":1,\"id\":\"" ID "\",\"tenant\":\"t\","
	    "\"provider\":\"sentry\",\"status\":\"s\",\"fields\":[],"
	    "\"kid\":\"k1\"}", 114);
	ck_assert_int_eq(record_cred_read(t, strlen(t), &rkey, &got, 0),
	    STORE_CORRUPT);
	free(t);
	cred_rec_free(&r);
}
END_TEST

/* "ver" is written and read back; missing or below 1 is corrupt. */
START_TEST(test_cred_ver)
{
	struct cred_rec	 r, got;
	char		*t, *bad;
	size_t		 n = 0;

	known_rec(&r);
	r.ver = 4000000000ULL;
	ck_assert_ptr_nonnull(t = record_cred_write(&r, &rkey, &n));
	ck_assert_ptr_nonnull(strstr(t, "\"ver\":4000000000,"));
	ck_assert_int_eq(record_cred_read(t, n, &rkey, &got, 0), STORE_OK);
	ck_assert_uint_eq(got.ver, 4000000000ULL);
	cred_rec_free(&got);
	free(t);
	r.ver = 0;
	ck_assert_ptr_nonnull(t = record_cred_write(&r, &rkey, &n));
	ck_assert_int_eq(record_cred_read(t, n, &rkey, &got, 0), STORE_CORRUPT);
	free(t);
	/* known_text without "ver" */
	ck_assert_ptr_nonnull(t = strdup(known_text));
	memmove(t + 7, t + 15, strlen(t + 15) + 1);
	bad = with_mac(t, strlen(t));
	ck_assert_int_eq(record_cred_read(bad, strlen(bad), &rkey, &got, 0),
	    STORE_CORRUPT);
	free(bad);
	free(t);
	cred_rec_free(&r);
}
END_TEST

/* ------------------------------------------- idempotency, connections */

/*
 * A record of format 1, as credstore wrote it before records had a
 * version counter and a MAC: the current readers refuse it, the upgrade's
 * reader reads every member, sealed values included.
 */
static const char v1_text[] =
    "{\"v\":1,\"id\":\"" ID "\",\"tenant\":\"t\",\"provider\":\"sentry\","
    "\"label\":\"a \\\"q\\\" \\/ caf\\u00e9\",\"createdBy\":null,"
    "\"status\":\"validated\",\"fields\":[\"api_key\",\"site\"],"
    "\"createdAt\":1764489600,\"updatedAt\":1764489601,"
    "\"lastValidatedAt\":null,\"kid\":\"k1\",\"wrapped\":\"" WRAPPED "\","
    "\"nonce\":\"" A16 "\",\"ct\":\"Zm9v\"}";

START_TEST(test_cred_v1_upgrade_reader)
{
	struct cred_rec	 want, got;
	enum store_rc	 out;

	known_rec(&want);
	want.ver = 0;		/* format 1 had none */
	ck_assert_int_eq(record_cred_read_v1(v1_text, strlen(v1_text), &got),
	    STORE_OK);
	assert_same(&want, &got, 1);
	cred_rec_free(&got);
	/* the current format's readers do not take it */
	ck_assert_int_eq(record_cred_read_json(v1_text, strlen(v1_text), &got,
	    1), STORE_CORRUPT);
	if (record_cred_read_flat(v1_text, strlen(v1_text), &got, 1, &out) == 0)
		ck_assert_int_eq(out, STORE_CORRUPT);
	/* and the upgrade's reader takes nothing but format 1 */
	ck_assert_int_eq(record_cred_read_v1("{\"v\":2}", 7, &got),
	    STORE_CORRUPT);
	ck_assert_int_eq(record_cred_read_v1(v1_text, strlen(v1_text) - 1, &got),
	    STORE_CORRUPT);
	cred_rec_free(&want);
}
END_TEST


/*
 * The check member: written after lastValidatedAt when set, read back
 * by both readers; a record without it (every record written before it
 * was kept, known_text among them) reads as "" and keeps its bytes.
 */
START_TEST(test_cred_check_member)
{
	static const char *const checks[] = {
		"validated", "rejected:status_401", "unreachable:dns_error",
		"unreachable:no_check", "unreachable:fenced",
	};
	struct cred_rec	 r, got;
	char		*t, *mac, want[128];
	size_t		 n = 0, i;

	for (i = 0; i < NELEM(checks); i++) {
		known_rec(&r);
		snprintf(r.check, sizeof(r.check), "%s", checks[i]);
		t = record_cred_write(&r, &rkey, &n);
		ck_assert_ptr_nonnull(t);
		snprintf(want, sizeof(want), ",\"lastValidatedAt\":null,"
		    "\"check\":\"%s\",\"lastUsedAt\":null,\"kid\":\"k1\",",
		    checks[i]);
		ck_assert_msg(strstr(t, want) != NULL, "%s", t);
		/* the MAC covers it: another value is refused */
		ck_assert_int_eq(record_cred_read(t, n, &rkey, &got, 0),
		    STORE_OK);
		ck_assert_str_eq(got.check, checks[i]);
		cred_rec_free(&got);
		t[strstr(t, "\"check\":\"") - t + 9] ^= 0x20;
		ck_assert_int_eq(record_cred_read(t, n, &rkey, &got, 0),
		    STORE_CORRUPT);
		free(t);
		/* the text before the MAC, with both readers */
		t = record_cred_write(&r, &rkey, &n);
		mac = strstr(t, ",\"mac\":");
		ck_assert_ptr_nonnull(mac);
		mac[0] = '}';
		mac[1] = '\0';
		assert_reads_as(t, &r, 1);
		free(t);
		cred_rec_free(&r);
	}
	/* written without it: "" (known_rec has none), the old bytes */
	known_rec(&r);
	ck_assert_str_eq(r.check, "");
	assert_reads_as(known_text, &r, 1);
	assert_reads_as(jsonc_text, &r, 1);
	t = record_cred_write(&r, &rkey, &n);
	ck_assert_ptr_null(strstr(t, "\"check\""));
	free(t);
	cred_rec_free(&r);
}
END_TEST

/* A check member that is not a short string is a corrupt record. */
static const char *const bad_checks[] = {
	"\"check\":null,", "\"check\":1,", "\"check\":[\"validated\"],",
	"\"check\":\"0123456789012345678901234567890123456789012345678\",",
};

START_TEST(test_cred_check_bad)
{
	char	text[2048];
	char	*at = strstr(known_text, "\"kid\"");

	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - known_text),
	    known_text, bad_checks[_i], at);
	assert_refused(text, strlen(text));
}
END_TEST

/* A record's "check" in the API: stored, or what an older record implies. */
START_TEST(test_credmeta_check)
{
	static const struct {
		const char	*status, *check, *result, *reason, *header;
	} rows[] = {
		{ "validated", "validated", "validated", "", "result=validated" },
		{ "rejected", "rejected:status_401", "rejected", "status_401",
		    "result=rejected; reason=status_401" },
		{ "unverified", "unreachable:timeout", "unreachable", "timeout",
		    "result=unreachable; reason=timeout" },
		/* written before the outcome was kept */
		{ "validated", "", "validated", "", "result=validated" },
		{ "rejected", "", "rejected", "not_recorded",
		    "result=rejected; reason=not_recorded" },
		{ "unverified", "", "unreachable", "not_recorded",
		    "result=unreachable; reason=not_recorded" },
	};
	struct credmeta_check	 ck;
	struct cred_rec		 r;
	struct json_object	*o;
	struct buf		 b;
	char			 hdr[80];
	size_t			 i;

	for (i = 0; i < NELEM(rows); i++) {
		known_rec(&r);
		snprintf(r.status, sizeof(r.status), "%s", rows[i].status);
		snprintf(r.check, sizeof(r.check), "%s", rows[i].check);
		credmeta_check(&r, &ck);
		ck_assert_str_eq(ck.result, rows[i].result);
		ck_assert_str_eq(ck.reason, rows[i].reason);
		ck_assert_int_eq(credmeta_check_header(&r, hdr, sizeof(hdr)), 0);
		ck_assert_str_eq(hdr, rows[i].header);
		ck_assert_int_eq(credmeta_check_header(&r, hdr, 8), -1);
		/* the listing's text and the json-c object: the same bytes */
		o = credmeta_json(&r);
		buf_init(&b, 4096, 0);
		ck_assert_int_eq(credmeta_write(&b, &r), 0);
		ck_assert_int_eq(buf_addc(&b, '\0'), 0);
		ck_assert_str_eq(b.data, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		ck_assert_uint_eq(json_object_object_length(json_object_object_get(
		    o, "check")), rows[i].reason[0] != '\0' ? 2 : 1);
		buf_reset(&b);
		json_object_put(o);
		cred_rec_free(&r);
	}
}
END_TEST

START_TEST(test_idem)
{
	struct idem_rec	 r, got;
	const char	*short_hash = "{\"hash\":\"AAAA\",\"status\":1}";
	char		*t, want[512];
	size_t		 n = 0;

	memset(&r, 0, sizeof(r));
	memset(r.hash, 0, sizeof(r.hash));
	r.status = 201;
	r.body = xstrdup("{\"a\":\"b/c\"}");
	r.location = NULL;
	r.created = 1764489600;
	t = record_idem_write(&r, &n);
	ck_assert_ptr_nonnull(t);
	/* json-c's bytes: slashes escaped */
	snprintf(want, sizeof(want), "{\"hash\":\"%s%s%s\",\"status\":201,"
	    "\"body\":\"{\\\"a\\\":\\\"b\\/c\\\"}\",\"location\":null,"
	    "\"created\":1764489600}", A16, A16, "AAAAAAAAAAA=");
	ck_assert_str_eq(t, want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_int_eq(record_idem_read(t, n, &got), STORE_OK);
	ck_assert_int_eq(got.status, 201);
	ck_assert_str_eq(got.body, r.body);
	ck_assert_ptr_null(got.location);
	ck_assert_int_eq((long long)got.created, 1764489600);
	ck_assert_mem_eq(got.hash, r.hash, sizeof(r.hash));
	idem_rec_free(&got);
	/* no status, or a short hash: corrupt */
	ck_assert_int_eq(record_idem_read(t, n - 1, &got), STORE_CORRUPT);
	ck_assert_int_eq(record_idem_read(short_hash, strlen(short_hash),
	    &got), STORE_CORRUPT);
	ck_assert_ptr_null(got.body);
	ck_assert_ptr_null(got.check);
	free(t);
	/* with the 201's Credential-Check: one more member, read back */
	r.check = xstrdup("result=unreachable; reason=dns_error");
	t = record_idem_write(&r, &n);
	ck_assert_ptr_nonnull(strstr(t, ",\"created\":1764489600,\"check\":"
	    "\"result=unreachable; reason=dns_error\"}"));
	ck_assert_int_eq(record_idem_read(t, n, &got), STORE_OK);
	ck_assert_str_eq(got.check, r.check);
	idem_rec_free(&got);
	free(t);
	idem_rec_free(&r);
}
END_TEST

START_TEST(test_conn)
{
	struct conn_rec	 c, got;
	char		*t;
	size_t		 n = 0;
	const char	*short_id = "{\"credentialId\":\"crd_1\","
			    "\"status\":\"active\"}";
	const char	 want[] = "{\"credentialId\":\"" ID "\",\"status\":"
			    "\"active\",\"connectedAt\":1764489600}";

	memset(&c, 0, sizeof(c));
	snprintf(c.cred_id, sizeof(c.cred_id), "%s", ID);
	snprintf(c.status, sizeof(c.status), "active");
	c.connected = 1764489600;
	t = record_conn_write(&c, &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_int_eq(record_conn_read(t, n, &got), STORE_OK);
	ck_assert_str_eq(got.cred_id, ID);
	ck_assert_str_eq(got.status, "active");
	ck_assert_int_eq((long long)got.connected, 1764489600);
	free(t);
	ck_assert_int_eq(record_conn_read(short_id, strlen(short_id), &got),
	    STORE_CORRUPT);
	ck_assert_int_eq(record_conn_read("{", 1, &got), STORE_CORRUPT);
}
END_TEST

static Suite *
record_suite(void)
{
	Suite	*s = suite_create("record");
	TCase	*tc;

	tc = tcase_create("cred");
	tcase_add_test(tc, test_cred_bytes);
	tcase_add_test(tc, test_cred_before_last_used);
	tcase_add_test(tc, test_cred_round_trip);
	tcase_add_test(tc, test_cred_jsonc_written);
	tcase_add_test(tc, test_cred_duplicate);
	tcase_add_loop_test(tc, test_cred_version, 0, (int)NELEM(bad_versions));
	tcase_add_test(tc, test_cred_truncated);
	tcase_add_test(tc, test_cred_mac);
	tcase_add_test(tc, test_cred_ver);
	tcase_add_test(tc, test_cred_v1_upgrade_reader);
	tcase_add_loop_test(tc, test_cred_garbage, 0, (int)NELEM(garbage));
	tcase_add_test(tc, test_cred_unsealed_skips_values);
	tcase_add_test(tc, test_cred_check_member);
	tcase_add_loop_test(tc, test_cred_check_bad, 0, (int)NELEM(bad_checks));
	tcase_add_test(tc, test_credmeta_check);
	suite_add_tcase(s, tc);

	tc = tcase_create("other");
	tcase_add_test(tc, test_idem);
	tcase_add_test(tc, test_conn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(record_suite());
}
