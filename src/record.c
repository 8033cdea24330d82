/*
 * record: the stored text of credential, connection and idempotency
 * records (record.h).  Each kind is one table of members (name, type,
 * where it lives in its struct, required or optional); one writer and two
 * readers walk the tables, so a new member is one row:
 *
 * - text_write writes a record without a JSON tree, escaping as json-c
 *   does (credentials: one per change);
 * - tree_write builds a json-c object (idempotency and connection records
 *   keep json-c's bytes, "\/" and all);
 * - flat_read reads a record in place with jflat (credential listings);
 * - tree_read reads json-c's tree: the fallback for text flat_read does
 *   not take, and the reader of the json-c records.
 *
 * Strings returned in records are malloc'd; cred_rec_free and
 * idem_rec_free release them.
 */
#include "cs_build.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "jsonx.h"
#include "record.h"
#include "util.h"

enum rm_type {
	RM_VERSION,	/* the format version: written, and required on read */
	RM_ID,		/* char[size]: a string of exactly size - 1 bytes */
	RM_CHARS,	/* char[size]: a string shorter than size */
	RM_STR,		/* char *: a string, required */
	RM_OPT,		/* char *: a string, or null (NULL) */
	RM_LIST,	/* char *[size], size_t count at cnt: strings */
	RM_TIME,	/* time_t: an integer; anything else reads as 0 */
	RM_TIME0,	/* the same, written null when 0 */
	RM_INT,		/* int: an integer, required */
	RM_B64,		/* unsigned char[size]: base64 of exactly size bytes */
	RM_B64V,	/* unsigned char * (malloc'd), size_t length at cnt */
	RM_COUNT,	/* uint64_t: an integer of at least 1, required */
	RM_MAC,		/* the record's MAC in hex, last (checked first) */
	RM__MAX
};

#define RM_SEALED	0x1	/* read only when sealed values are asked for */
/*
 * RM_CHARS or RM_OPT: not written when empty (""; NULL), and absent reads
 * as empty: a member added later leaves the bytes of records without it
 * as they were, and older records read.
 */
#define RM_OMIT		0x2

struct rec_member {
	const char	*name;
	size_t		 namelen;
	enum rm_type	 type;
	size_t		 off;	/* of the member in its struct */
	size_t		 size;	/* RM_ID, RM_CHARS, RM_B64: bytes; RM_LIST: max */
	size_t		 cnt;	/* RM_LIST, RM_B64V: offset of the count */
	unsigned	 flags;
};

#define RM_MEMBERS_MAX	32	/* a bit each in flat_read */

struct rec_codec {
	const struct rec_member	*m;
	size_t			 n;
	int			 version;	/* of RM_VERSION */
	void			(*free)(void *);
};

#define FSIZE(t, f)	sizeof(((t *)0)->f)
#define ROW(t, name, type, f, size, cnt, flags) \
	{ name, sizeof(name) - 1, type, offsetof(t, f), size, cnt, flags }

/* ------------------------------------------------------------- tables */

enum cred_member {
	CM_V, CM_VER, CM_ID, CM_TENANT, CM_PROVIDER, CM_LABEL, CM_CREATED_BY,
	CM_STATUS, CM_FIELDS, CM_CREATED, CM_UPDATED, CM_VALIDATED, CM_CHECK,
	CM_USED, CM_KID, CM_WRAPPED, CM_NONCE, CM_CT, CM_MAC, CM__MAX
};

#define CRED(name, type, f, size, cnt, flags) \
	ROW(struct cred_rec, name, type, f, size, cnt, flags)
#define CREDSZ(f)	FSIZE(struct cred_rec, f)
/* In the order written: the bytes of a record follow this table. */
static const struct rec_member cred_members[CM__MAX] = {
	[CM_V] = CRED("v", RM_VERSION, id, 0, 0, 0),
	[CM_VER] = CRED("ver", RM_COUNT, ver, 0, 0, 0),
	[CM_ID] = CRED("id", RM_ID, id, CREDSZ(id), 0, 0),
	[CM_TENANT] = CRED("tenant", RM_STR, tenant, 0, 0, 0),
	[CM_PROVIDER] = CRED("provider", RM_STR, provider, 0, 0, 0),
	[CM_LABEL] = CRED("label", RM_OPT, label, 0, 0, 0),
	[CM_CREATED_BY] = CRED("createdBy", RM_OPT, created_by, 0, 0, 0),
	[CM_STATUS] = CRED("status", RM_CHARS, status, CREDSZ(status), 0, 0),
	[CM_FIELDS] = CRED("fields", RM_LIST, fields, CREDSET_MAX,
	    offsetof(struct cred_rec, nfields), 0),
	[CM_CREATED] = CRED("createdAt", RM_TIME, created, 0, 0, 0),
	[CM_UPDATED] = CRED("updatedAt", RM_TIME, updated, 0, 0, 0),
	[CM_VALIDATED] = CRED("lastValidatedAt", RM_TIME0, validated, 0, 0, 0),
	/* the last check's outcome, "result" or "result:reason" (rectypes.h) */
	[CM_CHECK] = CRED("check", RM_CHARS, check, CREDSZ(check), 0, RM_OMIT),
	/* the proxy's last use (SPEC 10); absent in older records: null */
	[CM_USED] = CRED("lastUsedAt", RM_TIME0, used, 0, 0, 0),
	[CM_KID] = CRED("kid", RM_CHARS, sealed.key_id, CREDSZ(sealed.key_id),
	    0, 0),
	[CM_WRAPPED] = CRED("wrapped", RM_B64, sealed.wrapped,
	    CREDSZ(sealed.wrapped), 0, RM_SEALED),
	[CM_NONCE] = CRED("nonce", RM_B64, sealed.nonce, CREDSZ(sealed.nonce),
	    0, RM_SEALED),
	[CM_CT] = CRED("ct", RM_B64V, sealed.ct, 0,
	    offsetof(struct cred_rec, sealed.ctlen), RM_SEALED),
	[CM_MAC] = CRED("mac", RM_MAC, id, 0, 0, 0),
};

enum idem_member {
	IM_HASH, IM_STATUS, IM_BODY, IM_LOCATION, IM_CREATED, IM_CHECK, IM__MAX
};

#define IDEM(name, type, f, size)	\
	ROW(struct idem_rec, name, type, f, size, 0, 0)
static const struct rec_member idem_members[IM__MAX] = {
	[IM_HASH] = IDEM("hash", RM_B64, hash, FSIZE(struct idem_rec, hash)),
	[IM_STATUS] = IDEM("status", RM_INT, status, 0),
	[IM_BODY] = IDEM("body", RM_OPT, body, 0),
	[IM_LOCATION] = IDEM("location", RM_OPT, location, 0),
	[IM_CREATED] = IDEM("created", RM_TIME, created, 0),
	[IM_CHECK] = ROW(struct idem_rec, "check", RM_OPT, check, 0, 0, RM_OMIT),
};

enum conn_member {
	NM_CRED_ID, NM_STATUS, NM_CONNECTED, NM__MAX
};

#define CONN(name, type, f)	\
	ROW(struct conn_rec, name, type, f, FSIZE(struct conn_rec, f), 0, 0)
static const struct rec_member conn_members[NM__MAX] = {
	[NM_CRED_ID] = CONN("credentialId", RM_ID, cred_id),
	[NM_STATUS] = CONN("status", RM_CHARS, status),
	[NM_CONNECTED] = CONN("connectedAt", RM_TIME, connected),
};

static void
cred_free(void *r)
{
	cred_rec_free(r);
}

static void
idem_free(void *r)
{
	idem_rec_free(r);
}

static void
conn_free(void *c)
{
	memset(c, 0, sizeof(struct conn_rec));
}

_Static_assert(CM__MAX <= RM_MEMBERS_MAX && IM__MAX <= RM_MEMBERS_MAX &&
    NM__MAX <= RM_MEMBERS_MAX, "a bit per member in flat_read");

static const struct rec_codec cred_codec = {
	cred_members, CM__MAX, RECORD_CRED_VERSION, cred_free
};
static const struct rec_codec idem_codec = {
	idem_members, IM__MAX, 0, idem_free
};
static const struct rec_codec conn_codec = {
	conn_members, NM__MAX, 0, conn_free
};

/* The member's storage in obj, by type. */
#define AT(obj, m, t)		((t *)(void *)((char *)(obj) + (m)->off))
#define CNT(obj, m)		((size_t *)(void *)((char *)(obj) + (m)->cnt))
#define CAT(obj, m, t)		((const t *)(const void *)( \
				    (const char *)(obj) + (m)->off))
#define CCNT(obj, m)		((const size_t *)(const void *)( \
				    (const char *)(obj) + (m)->cnt))

/* ------------------------------------------------------------ writers */

/* Base64 of the bytes of an RM_B64 / RM_B64V member; malloc'd or NULL. */
static char *
member_b64(const struct rec_member *m, const void *obj)
{
	if (m->type == RM_B64)
		return b64_encode(CAT(obj, m, unsigned char), m->size);
	return b64_encode(*CAT(obj, m, unsigned char *), *CCNT(obj, m));
}

/* An RM_OMIT member with nothing in it: not written. */
static int
member_omitted(const struct rec_member *m, const void *obj)
{
	if (!(m->flags & RM_OMIT))
		return 0;
	if (m->type == RM_CHARS)
		return CAT(obj, m, char)[0] == '\0';
	return m->type == RM_OPT && *CAT(obj, m, char *) == NULL;
}

/* One member's value as text: 0, or -1 (cap, no memory). */
static int
text_value(struct buf *b, const struct rec_codec *c,
    const struct rec_member *m, const void *obj)
{
	const time_t	*t;
	char		*s;
	size_t		 i;
	int		 rc;

	switch (m->type) {
	case RM_VERSION:
		return buf_printf(b, "%d", c->version);
	case RM_ID:
	case RM_CHARS:
		return jsonx_buf_str(b, CAT(obj, m, char));
	case RM_STR:
	case RM_OPT:
		return jsonx_buf_str(b, *CAT(obj, m, char *));
	case RM_LIST:
		if (buf_addc(b, '[') == -1)
			return -1;
		for (i = 0; i < *CCNT(obj, m); i++)
			if ((i > 0 && buf_addc(b, ',') == -1) ||
			    jsonx_buf_str(b, CAT(obj, m, char *)[i]) == -1)
				return -1;
		return buf_addc(b, ']');
	case RM_TIME:
	case RM_TIME0:
		t = CAT(obj, m, time_t);
		if (*t == 0 && m->type == RM_TIME0)
			return buf_adds(b, "null");
		return buf_printf(b, "%lld", (long long)*t);
	case RM_INT:
		return buf_printf(b, "%d", *CAT(obj, m, int));
	case RM_COUNT:
		return buf_printf(b, "%llu",
		    (unsigned long long)*CAT(obj, m, uint64_t));
	case RM_MAC:		/* text_write's */
		break;
	case RM_B64:
	case RM_B64V:
		/* base64 has no character to escape */
		if ((s = member_b64(m, obj)) == NULL)
			return -1;
		rc = buf_addc(b, '"') == -1 || buf_adds(b, s) == -1 ||
		    buf_addc(b, '"') == -1 ? -1 : 0;
		free(s);
		return rc;
	case RM__MAX:
		break;
	}
	return -1;
}

/*
 * The MAC of a record's text p[n] (up to its "mac" member) under k:
 * MAC(key \0 text).  0 or -1.
 */
static int
record_mac(const struct record_key *k, const void *p, size_t n,
    unsigned char out[STORE_MAC_LEN])
{
	unsigned char	*m;
	int		 rc;

	if (k == NULL || k->mac == NULL || (m = malloc(k->klen + 1 + n)) == NULL)
		return -1;
	memcpy(m, k->key, k->klen);
	m[k->klen] = '\0';
	memcpy(m + k->klen + 1, p, n);
	rc = k->mac(RECORD_MAC_LABEL, m, k->klen + 1 + n, out, k->arg);
	free(m);
	return rc;
}

/* Appends the MAC of the text's first `at` bytes, in hex: 0 or -1. */
static int
text_mac(struct buf *b, size_t at, const struct record_key *k)
{
	unsigned char	mac[STORE_MAC_LEN];
	char		h[2 * STORE_MAC_LEN + 1];

	if (record_mac(k, b->data, at, mac) == -1)
		return -1;
	hex_encode(mac, STORE_MAC_LEN, h);
	return buf_addc(b, '"') == -1 || buf_add(b, h, 2 * STORE_MAC_LEN) == -1 ||
	    buf_addc(b, '"') == -1 ? -1 : 0;
}

/*
 * A record as compact JSON text, members in table order, an RM_MAC member
 * the MAC under k of the text before it; malloc'd, or NULL.  The cap
 * leaves 64 KiB to the strings besides the base64 values.
 */
static char *
text_write(const struct rec_codec *c, const void *obj,
    const struct record_key *k, size_t *len)
{
	struct buf	 b;
	size_t		 i, cap = 1024 + 64 * 1024;
	size_t		 at;

	for (i = 0; i < c->n; i++)
		if (c->m[i].type == RM_B64V)
			cap += (*CCNT(obj, &c->m[i]) + 2) / 3 * 4;
	buf_init(&b, cap, 0);
	for (i = 0; i < c->n; i++) {
		if (member_omitted(&c->m[i], obj))
			continue;
		at = b.len;
		if (buf_addc(&b, at == 0 ? '{' : ',') == -1 ||
		    buf_addc(&b, '"') == -1 ||
		    buf_add(&b, c->m[i].name, c->m[i].namelen) == -1 ||
		    buf_adds(&b, "\":") == -1)
			goto fail;
		/* a MAC covers the text before its member */
		if ((c->m[i].type == RM_MAC ? text_mac(&b, at, k) :
		    text_value(&b, c, &c->m[i], obj)) == -1)
			goto fail;
	}
	if (buf_addc(&b, '}') == -1)
		goto fail;
	return buf_steal(&b, len);
fail:
	buf_reset(&b);
	return NULL;
}

static struct json_object *
new_str(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* One member's value as a json-c object (NULL: null). */
static struct json_object *
tree_value(const struct rec_codec *c, const struct rec_member *m,
    const void *obj)
{
	struct json_object	*a;
	char			*s;
	size_t			 i;

	switch (m->type) {
	case RM_VERSION:
		return json_object_new_int(c->version);
	case RM_ID:
	case RM_CHARS:
		return new_str(CAT(obj, m, char));
	case RM_STR:
	case RM_OPT:
		return new_str(*CAT(obj, m, char *));
	case RM_LIST:
		a = json_object_new_array();
		for (i = 0; i < *CCNT(obj, m); i++)
			json_object_array_add(a,
			    new_str(CAT(obj, m, char *)[i]));
		return a;
	case RM_TIME:
	case RM_TIME0:
		if (*CAT(obj, m, time_t) == 0 && m->type == RM_TIME0)
			return NULL;
		return json_object_new_int64(*CAT(obj, m, time_t));
	case RM_INT:
		return json_object_new_int(*CAT(obj, m, int));
	case RM_COUNT:
		return json_object_new_int64((int64_t)*CAT(obj, m, uint64_t));
	case RM_MAC:		/* only text_write writes one */
		break;
	case RM_B64:
	case RM_B64V:
		s = member_b64(m, obj);
		a = new_str(s);
		free(s);
		return a;
	case RM__MAX:
		break;
	}
	return NULL;
}

/* o (consumed) as json-c writes it, plain: malloc'd text, or NULL. */
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

/* A record written by json-c (its bytes); malloc'd text, or NULL. */
static char *
tree_write(const struct rec_codec *c, const void *obj, size_t *len)
{
	struct json_object	*o;
	size_t			 i;

	o = json_object_new_object();
	for (i = 0; i < c->n; i++)
		if (!member_omitted(&c->m[i], obj))
			json_object_object_add(o, c->m[i].name,
			    tree_value(c, &c->m[i], obj));
	return json_text(o, len);
}

/* ---------------------------------------------------- the flat reader */

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

/* An array of strings into list[max] and *n; -1 when too long or bad. */
static int
flat_list(const struct jflat_val *v, int seen, char **list, size_t max,
    size_t *n)
{
	struct jflat_val	e;
	size_t			pos = 0;
	int			rc;

	if (!seen || v->type != JFLAT_ARRAY)
		return -1;
	while ((rc = jflat_array_next(v, &pos, &e)) == 1) {
		if (*n == max || (list[*n] = jflat_strdup(&e)) == NULL)
			return -1;
		(*n)++;
	}
	return rc;
}

/* One member from its value v (seen: it was there): 0 or -1. */
static int
flat_member(const struct rec_codec *c, const struct rec_member *m,
    const struct jflat_val *v, int seen, void *obj)
{
	unsigned char	*p;
	size_t		 l = 0;

	switch (m->type) {
	case RM_VERSION:
		return seen && v->type == JFLAT_INT && v->num == c->version ?
		    0 : -1;
	case RM_ID:
		if (flat_str_into(v, seen, AT(obj, m, char), m->size) == -1)
			return -1;
		return strlen(AT(obj, m, char)) == m->size - 1 ? 0 : -1;
	case RM_CHARS:
		if (!seen && (m->flags & RM_OMIT))
			return 0;	/* zeroed: "" */
		return flat_str_into(v, seen, AT(obj, m, char), m->size);
	case RM_STR:
	case RM_OPT:
		if (flat_opt_str(v, seen, AT(obj, m, char *)) == -1)
			return -1;
		return m->type == RM_STR && *AT(obj, m, char *) == NULL ? -1 : 0;
	case RM_LIST:
		return flat_list(v, seen, AT(obj, m, char *), m->size,
		    CNT(obj, m));
	case RM_TIME:
	case RM_TIME0:
		*AT(obj, m, time_t) = seen && v->type == JFLAT_INT ?
		    (time_t)v->num : 0;
		return 0;
	case RM_INT:
		if (!seen || v->type != JFLAT_INT)
			return -1;
		*AT(obj, m, int) = (int)v->num;
		return 0;
	case RM_B64:
		p = flat_b64(v, seen, &l);
		return take_fixed(p, l, AT(obj, m, unsigned char), m->size);
	case RM_B64V:
		*AT(obj, m, unsigned char *) = flat_b64(v, seen, CNT(obj, m));
		return *AT(obj, m, unsigned char *) == NULL ? -1 : 0;
	case RM_COUNT:
		if (!seen || v->type != JFLAT_INT || v->num < 1)
			return -1;
		*AT(obj, m, uint64_t) = (uint64_t)v->num;
		return 0;
	case RM_MAC:		/* record_cred_read checks it first */
		return !seen || v->type == JFLAT_STRING ? 0 : -1;
	case RM__MAX:
		break;
	}
	return -1;
}

/*
 * Reads a record without a JSON tree: flat JSON as the writers write it,
 * read in place; members not in the table are skipped.  -1 when the text
 * is not of the shape it reads (a duplicate member, say; obj is then
 * zeroed): the caller lets json-c decide.  Else 0 and *out.
 */
static int
flat_read(const struct rec_codec *c, const void *data, size_t len,
    void *obj, size_t objsize, int sealed, enum store_rc *out)
{
	struct jflat		 j;
	struct jflat_val	 v[RM_MEMBERS_MAX], e;
	uint32_t		 seen = 0;
	const char		*key;
	size_t			 klen, k;
	int			 rc;

	memset(obj, 0, objsize);
	if (jflat_open(&j, data, len) == -1)
		return -1;
	while ((rc = jflat_next(&j, &key, &klen, &e)) == 1) {
		for (k = 0; k < c->n; k++)
			if (c->m[k].namelen == klen &&
			    memcmp(c->m[k].name, key, klen) == 0)
				break;
		if (k == c->n)
			continue;		/* a newer member */
		if (seen & (UINT32_C(1) << k))
			return -1;
		seen |= UINT32_C(1) << k;
		v[k] = e;
	}
	if (rc == -1)
		return -1;
	*out = STORE_OK;
	for (k = 0; k < c->n; k++) {
		if ((c->m[k].flags & RM_SEALED) && !sealed)
			continue;
		if (flat_member(c, &c->m[k], &v[k],
		    (seen & (UINT32_C(1) << k)) != 0, obj) == -1) {
			c->free(obj);
			*out = STORE_CORRUPT;
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------- the json-c reader */

/* A string or null member: NULL for absent or null, -1 for another type. */
static int
tree_opt_str(struct json_object *o, const char *k, char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, k, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	return (*out = strdup(json_object_get_string(v))) == NULL ? -1 : 0;
}

/* A string member copied into dst[n]: -1 when absent or not shorter. */
static int
tree_str_into(struct json_object *o, const char *k, char *dst, size_t n)
{
	const char *s = jsonx_get_str(o, k);

	if (s == NULL || strlen(s) >= n)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* An array member of strings into list[max] and *n: 0 or -1. */
static int
tree_list(struct json_object *o, const char *k, char **list, size_t max,
    size_t *n)
{
	struct json_object	*f, *e;
	size_t			 i, len;

	if ((f = jsonx_get(o, k, json_type_array)) == NULL ||
	    (len = json_object_array_length(f)) > max)
		return -1;
	for (i = 0; i < len; i++) {
		e = json_object_array_get_idx(f, i);
		if (!json_object_is_type(e, json_type_string) ||
		    (list[i] = strdup(json_object_get_string(e))) == NULL)
			return -1;
		(*n)++;
	}
	return 0;
}

/* One member of the tree o: 0 or -1. */
static int
tree_member(const struct rec_codec *c, const struct rec_member *m,
    struct json_object *o, void *obj)
{
	struct json_object	*v;
	const char		*s;
	unsigned char		*p;
	size_t			 l = 0;

	switch (m->type) {
	case RM_VERSION:
		v = jsonx_get(o, m->name, json_type_int);
		return v != NULL && json_object_get_int64(v) == c->version ?
		    0 : -1;
	case RM_ID:
		if (tree_str_into(o, m->name, AT(obj, m, char), m->size) == -1)
			return -1;
		return strlen(AT(obj, m, char)) == m->size - 1 ? 0 : -1;
	case RM_CHARS:
		if ((m->flags & RM_OMIT) &&
		    !json_object_object_get_ex(o, m->name, NULL)) {
			AT(obj, m, char)[0] = '\0';
			return 0;
		}
		return tree_str_into(o, m->name, AT(obj, m, char), m->size);
	case RM_STR:
	case RM_OPT:
		if (tree_opt_str(o, m->name, AT(obj, m, char *)) == -1)
			return -1;
		return m->type == RM_STR && *AT(obj, m, char *) == NULL ? -1 : 0;
	case RM_LIST:
		return tree_list(o, m->name, AT(obj, m, char *), m->size,
		    CNT(obj, m));
	case RM_TIME:
	case RM_TIME0:
		v = jsonx_get(o, m->name, json_type_int);
		*AT(obj, m, time_t) = v ? (time_t)json_object_get_int64(v) : 0;
		return 0;
	case RM_INT:
		if ((v = jsonx_get(o, m->name, json_type_int)) == NULL)
			return -1;
		*AT(obj, m, int) = json_object_get_int(v);
		return 0;
	case RM_B64:
		if ((s = jsonx_get_str(o, m->name)) == NULL)
			return -1;
		p = b64_decode(s, strlen(s), &l);
		return take_fixed(p, l, AT(obj, m, unsigned char), m->size);
	case RM_B64V:
		if ((s = jsonx_get_str(o, m->name)) == NULL)
			return -1;
		*AT(obj, m, unsigned char *) = b64_decode(s, strlen(s),
		    CNT(obj, m));
		return *AT(obj, m, unsigned char *) == NULL ? -1 : 0;
	case RM_COUNT:
		if ((v = jsonx_get(o, m->name, json_type_int)) == NULL ||
		    json_object_get_int64(v) < 1)
			return -1;
		*AT(obj, m, uint64_t) = (uint64_t)json_object_get_int64(v);
		return 0;
	case RM_MAC:		/* record_cred_read checks it first */
		return !json_object_object_get_ex(o, m->name, NULL) ||
		    jsonx_get_str(o, m->name) != NULL ? 0 : -1;
	case RM__MAX:
		break;
	}
	return -1;
}

/* Every member of the tree o (consumed) into obj: STORE_OK or CORRUPT. */
static enum store_rc
tree_read(const struct rec_codec *c, struct json_object *o, void *obj,
    int sealed)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if ((c->m[i].flags & RM_SEALED) && !sealed)
			continue;
		if (tree_member(c, &c->m[i], o, obj) == -1) {
			json_object_put(o);
			c->free(obj);
			return STORE_CORRUPT;
		}
	}
	json_object_put(o);
	return STORE_OK;
}

/* ------------------------------------------------------------ the API */

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
	free(r->check);
	memset(r, 0, sizeof(*r));
}

char *
record_cred_write(const struct cred_rec *r, const struct record_key *k,
    size_t *len)
{
	return text_write(&cred_codec, r, k, len);
}

int
record_cred_read_flat(const void *p, size_t n, struct cred_rec *r,
    int sealed, enum store_rc *out)
{
	return flat_read(&cred_codec, p, n, r, sizeof(*r), sealed, out);
}

/* Parses one JSON document of known length (no NUL needed). */
static struct json_object *
parse_len(const void *data, size_t len)
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

/*
 * The text is ours (written by record_cred_write or, before it, by
 * json-c), so json-c's own parser is enough here.
 */
/* format 1: format 2's members but the version counter and the MAC */
static struct rec_member	v1_members[CM__MAX];
static struct rec_codec		v1_codec;
static pthread_once_t		v1_once = PTHREAD_ONCE_INIT;

static void
v1_init(void)
{
	size_t i;

	for (i = 0; i < CM__MAX; i++)
		if (i != CM_VER && i != CM_MAC)
			v1_members[v1_codec.n++] = cred_members[i];
	v1_codec.m = v1_members;
	v1_codec.version = 1;
	v1_codec.free = cred_free;
}

enum store_rc
record_cred_read_v1(const void *p, size_t n, struct cred_rec *r)
{
	struct json_object *o;

	/* built once, by whichever thread reads a format 1 record first */
	pthread_once(&v1_once, v1_init);
	memset(r, 0, sizeof(*r));
	if (n > INT32_MAX || (o = parse_len(p, n)) == NULL)
		return STORE_CORRUPT;
	return tree_read(&v1_codec, o, r, 1);
}

enum store_rc
record_cred_read_json(const void *p, size_t n, struct cred_rec *r,
    int sealed)
{
	struct json_object *o;

	memset(r, 0, sizeof(*r));
	if (n > INT32_MAX || (o = parse_len(p, n)) == NULL)
		return STORE_CORRUPT;
	return tree_read(&cred_codec, o, r, sealed);
}

/* The text's closing member: ,"mac":"<hex>"} */
#define MAC_HEAD	",\"mac\":\""
#define MAC_TAIL_LEN	(sizeof(MAC_HEAD) - 1 + 2 * STORE_MAC_LEN + 2)

/*
 * Whether text p[n] ends with the MAC member and that MAC is the one of
 * the text before it under k: 1 or 0.
 */
static int
mac_check(const void *p, size_t n, const struct record_key *k)
{
	const char	*t = p, *h;
	unsigned char	 want[STORE_MAC_LEN], got[STORE_MAC_LEN];
	size_t		 i, at;
	int		 hi, lo;

	if (n < MAC_TAIL_LEN + 1)
		return 0;
	at = n - MAC_TAIL_LEN;
	h = t + at + sizeof(MAC_HEAD) - 1;
	if (memcmp(t + at, MAC_HEAD, sizeof(MAC_HEAD) - 1) != 0 ||
	    memcmp(h + 2 * STORE_MAC_LEN, "\"}", 2) != 0)
		return 0;
	for (i = 0; i < STORE_MAC_LEN; i++) {
		if ((hi = hex_digit(h[2 * i])) == -1 ||
		    (lo = hex_digit(h[2 * i + 1])) == -1)
			return 0;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	if (record_mac(k, p, at, want) == -1)
		return 0;
	return ct_equal(want, got, sizeof(got));
}

enum store_rc
record_cred_read(const void *p, size_t n, const struct record_key *k,
    struct cred_rec *r, int sealed)
{
	enum store_rc out;

	memset(r, 0, sizeof(*r));
	if (!mac_check(p, n, k))
		return STORE_CORRUPT;
	if (record_cred_read_flat(p, n, r, sealed, &out) == 0)
		return out;
	return record_cred_read_json(p, n, r, sealed);
}

char *
record_idem_write(const struct idem_rec *r, size_t *len)
{
	return tree_write(&idem_codec, r, len);
}

/* A strict parse (jsonx_parse) of a small record into obj. */
static enum store_rc
strict_read(const struct rec_codec *c, const void *p, size_t n, void *obj,
    size_t objsize)
{
	struct json_object	*o;
	const char		*jerr;

	memset(obj, 0, objsize);
	if ((o = jsonx_parse(p, n, 4, 0, &jerr)) == NULL)
		return STORE_CORRUPT;
	return tree_read(c, o, obj, 1);
}

enum store_rc
record_idem_read(const void *p, size_t n, struct idem_rec *r)
{
	return strict_read(&idem_codec, p, n, r, sizeof(*r));
}

char *
record_conn_write(const struct conn_rec *c, size_t *len)
{
	return tree_write(&conn_codec, c, len);
}

enum store_rc
record_conn_read(const void *p, size_t n, struct conn_rec *c)
{
	return strict_read(&conn_codec, p, n, c, sizeof(*c));
}
