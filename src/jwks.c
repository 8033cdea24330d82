#include "cs_build.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "filestamp.h"
#include "jsonx.h"
#include "jwa.h"
#include "jwks.h"
#include "log.h"
#include "util.h"

#define JWKS_DEPTH	8	/* {"keys":[{"x5c":[...]}]} is three */
#define JWKS_ECC_MAX	48	/* bytes of a P-384 coordinate */
#define JWKS_E_MAX	32	/* bytes of e: below 2^256, SP 800-56B */

/* What a key is; decides which algorithms it can ever verify. */
enum jwk_kind {
	JWK_NONE = 0,	/* HS*: never a JWKS key */
	JWK_RSA,
	JWK_P256,
	JWK_P384,
	JWK_ED25519
};

struct jwk {
	char			*kid;	/* NULL when the JWK has none */
	enum jwk_kind		 kind;
	int			 alg;	/* -1: any of its kind, else jwa_alg */
	size_t			 siglen;	/* RSA: modulus bytes */
	gnutls_pubkey_t		 pk;
};

struct jwks {
	struct jwk	*keys;
	size_t		 n;
};

/*
 * PS*: GnuTLS checks that the salt is as long as the hash (RFC 7518
 * 3.5); the flag says so once more, in case a default ever changes.
 */
#define PSS_FIXED	GNUTLS_VERIFY_RSA_PSS_FIXED_SALT_LENGTH

/* The kind of key an algorithm needs; JWK_NONE for HS*. */
static enum jwk_kind
alg_kind(const struct jwa_info *a)
{
	switch (a->family) {
	case JWA_FAM_RSA_PKCS1:
	case JWA_FAM_RSA_PSS:
		return JWK_RSA;
	case JWA_FAM_ECDSA:
		if (a->curve == GNUTLS_ECC_CURVE_SECP256R1)
			return JWK_P256;
		if (a->curve == GNUTLS_ECC_CURVE_SECP384R1)
			return JWK_P384;
		return JWK_NONE;
	case JWA_FAM_EDDSA:
		return a->curve == GNUTLS_ECC_CURVE_ED25519 ? JWK_ED25519 :
		    JWK_NONE;
	case JWA_FAM_HMAC:
	default:
		return JWK_NONE;
	}
}

#define ED25519_KEY	32

/*
 * The group orders n of P-256 and P-384 (FIPS 186-4 D.1.2).  r and s
 * must lie in 1..n-1; checking it here, before GnuTLS, keeps zero and
 * out-of-range values (CVE-2022-21449, "psychic signatures") a hard
 * rejection whatever the library underneath does with them.
 */
static const unsigned char order_p256[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
static const unsigned char order_p384[48] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
	0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a,
	0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};

/* Members that only a private key has (RFC 7518 6.2.2, 6.3.2, 6.4). */
static const char *const private_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k",
};

/* A parse in progress: where messages go and which key is at fault. */
struct pctx {
	char		*err;
	size_t		 errlen;
	size_t		 idx;
	const char	*kid;	/* of keys[idx], for messages; may be NULL */
};

/*
 * "keys[3] (kid "abc"): " then the message.  The kid is shown only when
 * it is short printable ASCII, so a log line stays one clean line.
 */
static void
key_err(struct pctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
key_err(struct pctx *p, const char *fmt, ...)
{
	char	 what[256];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->kid != NULL && strlen(p->kid) <= 64 &&
	    is_printable_ascii(p->kid, strlen(p->kid)))
		set_errf(p->err, p->errlen, "keys[%zu] (kid \"%s\"): %s",
		    p->idx, p->kid, what);
	else
		set_errf(p->err, p->errlen, "keys[%zu]: %s", p->idx, what);
}

static void
key_skip(struct pctx *p, const char *why, const char *val)
{
	if (val == NULL || strlen(val) > 64 ||
	    !is_printable_ascii(val, strlen(val)))
		val = "(unprintable)";
	if (p->kid != NULL && strlen(p->kid) <= 64 &&
	    is_printable_ascii(p->kid, strlen(p->kid)))
		log_info("jwks: keys[%zu] (kid \"%s\") skipped: %s \"%s\"",
		    p->idx, p->kid, why, val);
	else
		log_info("jwks: keys[%zu] skipped: %s \"%s\"", p->idx, why,
		    val);
}

/* Member `name` of o as a string with no NUL inside, or NULL. */
static const char *
get_str(struct json_object *o, const char *name, int *present, int *bad)
{
	struct json_object	*v;
	const char		*s;
	size_t			 n;

	*present = json_object_object_get_ex(o, name, &v);
	*bad = 0;
	if (!*present)
		return NULL;
	if (v == NULL || !json_object_is_type(v, json_type_string)) {
		*bad = 1;
		return NULL;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', n) != NULL) {
		*bad = 1;
		return NULL;
	}
	return s;
}

/*
 * Decodes the required base64url member `name` into a malloc'd buffer
 * (caller frees).  Returns NULL after a message when it is absent, not a
 * string or not strict unpadded base64url.
 */
static unsigned char *
get_b64(struct pctx *p, struct json_object *o, const char *name,
    size_t *len)
{
	const char	*s;
	unsigned char	*out;
	int		 present, bad;

	s = get_str(o, name, &present, &bad);
	if (!present) {
		key_err(p, "\"%s\" is missing", name);
		return NULL;
	}
	if (bad) {
		key_err(p, "\"%s\" is not a string", name);
		return NULL;
	}
	if (*s == '\0' || (out = b64url_decode(s, strlen(s), len)) == NULL) {
		key_err(p, "\"%s\" is not base64url (RFC 7515 section 2)",
		    name);
		return NULL;
	}
	return out;
}

static int
bit_length(const unsigned char *p, size_t n)
{
	int		 bits;
	unsigned	 top;

	if (n == 0)
		return 0;
	for (bits = 0, top = p[0]; top != 0; top >>= 1)
		bits++;
	return (int)((n - 1) * 8) + bits;
}

/*
 * The RSA public key n, e (RFC 7518 6.3.1), a tolerated leading zero
 * octet already stripped: n of 2048 to 8192 bits and odd, e odd, at least 65537 and
 * below 2^256 (NIST SP 800-56B).  0, or -1 after a message.
 */
static int
rsa_check(struct pctx *p, const unsigned char *np, size_t nlen,
    const unsigned char *ep, size_t elen)
{
	uint32_t	 ev;
	int		 bits;
	size_t		 i;

	if (np[0] == 0) {
		key_err(p, "RSA modulus has more than one leading zero byte");
		return -1;
	}
	bits = bit_length(np, nlen);
	if (bits < JWKS_RSA_MIN_BITS || bits > JWKS_RSA_MAX_BITS) {
		key_err(p, "RSA modulus of %d bits; %d to %d are allowed",
		    bits, JWKS_RSA_MIN_BITS, JWKS_RSA_MAX_BITS);
		return -1;
	}
	if ((np[nlen - 1] & 1) == 0) {
		key_err(p, "RSA modulus is even");
		return -1;
	}
	if (elen > JWKS_E_MAX || ep[0] == 0 || (ep[elen - 1] & 1) == 0) {
		key_err(p, "RSA exponent must be odd, at least 65537 and "
		    "below 2^256");
		return -1;
	}
	if (elen <= 3) {
		for (ev = 0, i = 0; i < elen; i++)
			ev = ev << 8 | ep[i];
		if (ev < 65537) {
			key_err(p, "RSA exponent must be odd, at least 65537 "
			    "and below 2^256");
			return -1;
		}
	}
	return 0;
}

/*
 * RSA (RFC 7518 6.3.1), checked by rsa_check.  One leading zero octet in
 * n or e is tolerated: RFC 7518 warns that some libraries emit it.
 */
static int
parse_rsa(struct pctx *p, struct json_object *o, struct jwk *k)
{
	unsigned char	*n = NULL, *e = NULL, *np, *ep;
	size_t		 nlen = 0, elen = 0;
	gnutls_datum_t	 dn, de;
	int		 rc = -1, grc;

	if ((n = get_b64(p, o, "n", &nlen)) == NULL ||
	    (e = get_b64(p, o, "e", &elen)) == NULL)
		goto out;
	np = n;
	ep = e;
	if (nlen > 1 && np[0] == 0) {
		np++;
		nlen--;
	}
	if (elen > 1 && ep[0] == 0) {
		ep++;
		elen--;
	}
	if (rsa_check(p, np, nlen, ep, elen) == -1)
		goto out;
	dn.data = np;
	dn.size = (unsigned)nlen;
	de.data = ep;
	de.size = (unsigned)elen;
	if ((grc = gnutls_pubkey_import_rsa_raw(k->pk, &dn, &de)) < 0) {
		key_err(p, "gnutls_pubkey_import_rsa_raw: %s",
		    gnutls_strerror(grc));
		goto out;
	}
	k->kind = JWK_RSA;
	k->siglen = nlen;
	rc = 0;
out:
	free(n);
	free(e);
	return rc;
}

/* EC (RFC 7518 6.2.1) on P-256 or P-384: x and y at full length. */
static int
parse_ec(struct pctx *p, struct json_object *o, enum jwk_kind kind,
    struct jwk *k)
{
	unsigned char		*x = NULL, *y = NULL;
	size_t			 xlen = 0, ylen = 0, want;
	gnutls_ecc_curve_t	 curve;
	gnutls_datum_t		 dx, dy;
	int			 rc = -1, grc;

	want = kind == JWK_P256 ? 32 : 48;
	curve = kind == JWK_P256 ? GNUTLS_ECC_CURVE_SECP256R1 :
	    GNUTLS_ECC_CURVE_SECP384R1;
	if ((x = get_b64(p, o, "x", &xlen)) == NULL ||
	    (y = get_b64(p, o, "y", &ylen)) == NULL)
		goto out;
	if (xlen != want || ylen != want) {
		key_err(p, "EC coordinates must be %zu bytes each, not %zu "
		    "and %zu", want, xlen, ylen);
		goto out;
	}
	dx.data = x;
	dx.size = (unsigned)xlen;
	dy.data = y;
	dy.size = (unsigned)ylen;
	if ((grc = gnutls_pubkey_import_ecc_raw(k->pk, curve, &dx, &dy)) < 0) {
		key_err(p, "gnutls_pubkey_import_ecc_raw: %s",
		    gnutls_strerror(grc));
		goto out;
	}
	/* an off-curve point would never verify: say so at load instead */
	if ((grc = gnutls_pubkey_verify_params(k->pk)) < 0) {
		key_err(p, "(x, y) is not a point of %s: %s",
		    kind == JWK_P256 ? "P-256" : "P-384",
		    gnutls_strerror(grc));
		goto out;
	}
	k->kind = kind;
	rc = 0;
out:
	free(x);
	free(y);
	return rc;
}

/* OKP (RFC 8037 2) with crv Ed25519: x is the 32-byte public key. */
static int
parse_ed25519(struct pctx *p, struct json_object *o, struct jwk *k)
{
	unsigned char	*x = NULL;
	size_t		 xlen = 0;
	gnutls_datum_t	 dx;
	int		 rc = -1, grc;

	if ((x = get_b64(p, o, "x", &xlen)) == NULL)
		goto out;
	if (xlen != ED25519_KEY) {
		key_err(p, "Ed25519 key must be %d bytes, not %zu",
		    ED25519_KEY, xlen);
		goto out;
	}
	dx.data = x;
	dx.size = (unsigned)xlen;
	if ((grc = gnutls_pubkey_import_ecc_raw(k->pk,
	    GNUTLS_ECC_CURVE_ED25519, &dx, NULL)) < 0) {
		key_err(p, "gnutls_pubkey_import_ecc_raw: %s",
		    gnutls_strerror(grc));
		goto out;
	}
	k->kind = JWK_ED25519;
	rc = 0;
out:
	free(x);
	return rc;
}

/* 1 when key_ops is absent or lists "verify"; -1 when malformed. */
static int
ops_allow_verify(struct json_object *o)
{
	struct json_object	*v, *e;
	size_t			 i, n;
	int			 found = 0;

	if (!json_object_object_get_ex(o, "key_ops", &v))
		return 1;
	if (v == NULL || !json_object_is_type(v, json_type_array))
		return -1;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		if (e == NULL || !json_object_is_type(e, json_type_string))
			return -1;
		if (strcmp(json_object_get_string(e), "verify") == 0)
			found = 1;
	}
	return found;
}

/*
 * The kind a (kty, crv) pair names (kty is not "oct"), JWK_NONE when
 * credstore cannot use it (the key is then skipped), or -1 after a
 * message when malformed.
 */
static int
kind_of(struct pctx *p, struct json_object *o, const char *kty)
{
	const char	*crv;
	int		 present, bad;

	if (strcmp(kty, "RSA") == 0)
		return JWK_RSA;
	if (strcmp(kty, "EC") != 0 && strcmp(kty, "OKP") != 0) {
		key_skip(p, "kty not supported:", kty);
		return JWK_NONE;
	}
	crv = get_str(o, "crv", &present, &bad);
	if (!present || bad) {
		key_err(p, "\"crv\" is %s", present ? "not a string" :
		    "missing");
		return -1;
	}
	if (strcmp(kty, "EC") == 0 && strcmp(crv, "P-256") == 0)
		return JWK_P256;
	if (strcmp(kty, "EC") == 0 && strcmp(crv, "P-384") == 0)
		return JWK_P384;
	if (strcmp(kty, "OKP") == 0 && strcmp(crv, "Ed25519") == 0)
		return JWK_ED25519;
	key_skip(p, "curve not supported:", crv);
	return JWK_NONE;
}

/* The members of one JWK that decide whether and how it is used. */
struct members {
	const char	*kid;	/* NULL when absent */
	const char	*kty;
	const char	*use;	/* NULL when absent */
	const char	*alg;	/* NULL when absent */
	int		 ops;	/* ops_allow_verify */
};

/*
 * A leaked private key is an incident, whatever the key is for: 1 after
 * a message when o holds private key material.
 */
static int
holds_private(struct pctx *p, struct json_object *o)
{
	size_t i;

	for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]);
	    i++)
		if (json_object_object_get_ex(o, private_members[i], NULL)) {
			key_err(p, "holds private key material (\"%s\"); a "
			    "JWKS for verification has public keys only",
			    private_members[i]);
			return 1;
		}
	return 0;
}

/*
 * Reads the members of keys[p->idx] into m (strings point into o) and
 * refuses what no JWKS may hold: a symmetric or a private key.  0, or -1
 * after a message.
 */
static int
read_members(struct pctx *p, struct json_object *o, struct members *m)
{
	int present, bad;

	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		key_err(p, "not a JSON object");
		return -1;
	}
	m->kid = get_str(o, "kid", &present, &bad);
	if (bad || (present && (*m->kid == '\0' ||
	    strlen(m->kid) > JWKS_KID_MAX))) {
		key_err(p, "\"kid\" must be a string of 1 to %d bytes",
		    JWKS_KID_MAX);
		return -1;
	}
	p->kid = m->kid;
	m->kty = get_str(o, "kty", &present, &bad);
	if (!present || bad) {
		key_err(p, "\"kty\" is %s", present ? "not a string" :
		    "missing");
		return -1;
	}
	m->use = get_str(o, "use", &present, &bad);
	if (bad) {
		key_err(p, "\"use\" is not a string");
		return -1;
	}
	m->alg = get_str(o, "alg", &present, &bad);
	if (bad) {
		key_err(p, "\"alg\" is not a string");
		return -1;
	}
	if ((m->ops = ops_allow_verify(o)) == -1) {
		key_err(p, "\"key_ops\" is not an array of strings");
		return -1;
	}
	if (strcmp(m->kty, "oct") == 0) {
		key_err(p, "a symmetric key (kty \"oct\") does not belong in "
		    "a JWKS; HS* tokens use jwt_secret_file");
		return -1;
	}
	return holds_private(p, o) ? -1 : 0;
}

/*
 * The key's "alg" into k->alg (-1: any algorithm of its kind).  1 when it
 * fits, 0 when credstore does not know it (the key is skipped), -1 after
 * a message when it can never fit a key of this kind.
 */
static int
check_alg(struct pctx *p, const struct members *m, enum jwk_kind kind,
    struct jwk *k)
{
	enum jwa_alg	 a;
	enum jwk_kind	 need;

	k->alg = -1;
	if (m->alg == NULL)
		return 1;
	if (jwa_parse(m->alg, strlen(m->alg), &a) == -1) {
		key_skip(p, "alg not supported:", m->alg);
		return 0;
	}
	need = alg_kind(jwa_get(a));
	if (need == JWK_NONE) {
		key_err(p, "alg \"%s\" is an HMAC algorithm; a public "
		    "key must never be used as an HMAC secret", m->alg);
		return -1;
	}
	if (need != kind) {
		key_err(p, "alg \"%s\" does not fit a %s%s%s key", m->alg,
		    m->kty, kind == JWK_RSA ? "" : " ",
		    kind == JWK_P256 ? "P-256" : kind == JWK_P384 ?
		    "P-384" : kind == JWK_ED25519 ? "Ed25519" : "");
		return -1;
	}
	k->alg = (int)a;
	return 1;
}

/* The public key of o, of kind, into k->pk: 0, or -1 after a message. */
static int
import_key(struct pctx *p, struct json_object *o, enum jwk_kind kind,
    struct jwk *k)
{
	int grc;

	if ((grc = gnutls_pubkey_init(&k->pk)) < 0) {
		key_err(p, "gnutls_pubkey_init: %s", gnutls_strerror(grc));
		return -1;
	}
	switch (kind) {
	case JWK_RSA:
		return parse_rsa(p, o, k);
	case JWK_P256:
	case JWK_P384:
		return parse_ec(p, o, kind, k);
	case JWK_ED25519:
		return parse_ed25519(p, o, k);
	case JWK_NONE:
	default:
		key_err(p, "internal: kind %d", (int)kind);
		return -1;
	}
}

/*
 * Parses keys[p->idx] into k.  Returns 1 when the key is usable, 0 when
 * it is skipped, -1 after a message when it is malformed.
 */
static int
parse_key(struct pctx *p, struct json_object *o, struct jwk *k)
{
	struct members	 m;
	int		 kind, rc;

	if (read_members(p, o, &m) == -1)
		return -1;
	if ((kind = kind_of(p, o, m.kty)) == -1)
		return -1;
	if (kind == JWK_NONE)
		return 0;
	if (m.use != NULL && strcmp(m.use, "sig") != 0) {
		key_skip(p, "use is", m.use);
		return 0;
	}
	if (m.ops == 0) {
		key_skip(p, "key_ops lacks", "verify");
		return 0;
	}
	if ((rc = check_alg(p, &m, (enum jwk_kind)kind, k)) != 1)
		return rc;
	if (import_key(p, o, (enum jwk_kind)kind, k) == -1)
		return -1;
	if (m.kid != NULL && (k->kid = strdup(m.kid)) == NULL) {
		key_err(p, "out of memory");
		return -1;
	}
	return 1;
}

/* 1 when some algorithm fits both keys. */
static int
overlap(const struct jwk *a, const struct jwk *b)
{
	return a->kind == b->kind &&
	    (a->alg == -1 || b->alg == -1 || a->alg == b->alg);
}

static void
key_clear(struct jwk *k)
{
	if (k->pk != NULL)
		gnutls_pubkey_deinit(k->pk);
	free(k->kid);
	memset(k, 0, sizeof(*k));
}

void
jwks_free(struct jwks *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		key_clear(&ks->keys[i]);
	free(ks->keys);
	free(ks);
}

size_t
jwks_nkeys(const struct jwks *ks)
{
	return ks == NULL ? 0 : ks->n;
}

/*
 * The "keys" array of json[0..n), of 1 to JWKS_MAX_KEYS entries; *rootp
 * holds it (caller puts, also on failure).  NULL after a message.
 */
static struct json_object *
keys_array(const char *json, size_t n, struct json_object **rootp,
    char *err, size_t errlen)
{
	struct json_object	*arr;
	const char		*jerr = NULL;
	size_t			 nkeys;

	*rootp = NULL;
	if (n > JWKS_MAX_FILE) {
		set_errf(err, errlen, "larger than %d bytes", JWKS_MAX_FILE);
		return NULL;
	}
	if ((*rootp = jsonx_parse(json, n, JWKS_DEPTH, 0, &jerr)) == NULL) {
		set_errf(err, errlen, "not valid JSON: %s",
		    jerr != NULL ? jerr : "parse error");
		return NULL;
	}
	if (!json_object_is_type(*rootp, json_type_object) ||
	    (arr = jsonx_get(*rootp, "keys", json_type_array)) == NULL) {
		set_errf(err, errlen, "not a JWKS: no \"keys\" array "
		    "(RFC 7517 section 5)");
		return NULL;
	}
	nkeys = json_object_array_length(arr);
	if (nkeys == 0) {
		set_errf(err, errlen, "\"keys\" is empty: no token could be "
		    "verified");
		return NULL;
	}
	if (nkeys > JWKS_MAX_KEYS) {
		set_errf(err, errlen, "%zu keys; at most %d are allowed",
		    nkeys, JWKS_MAX_KEYS);
		return NULL;
	}
	return arr;
}

/*
 * Adds the usable key k to ks, which takes it over (k is zeroed): 0, or
 * -1 after a message when a key before it has the same kid and fits the
 * same algorithm (k is left to the caller).
 */
static int
add_key(struct pctx *p, struct jwks *ks, struct jwk *k)
{
	size_t j;

	/* one kid, two keys for one algorithm: which one is meant? */
	for (j = 0; j < ks->n; j++)
		if (k->kid != NULL && ks->keys[j].kid != NULL &&
		    strcmp(k->kid, ks->keys[j].kid) == 0 &&
		    overlap(k, &ks->keys[j])) {
			key_err(p, "another key before it has the "
			    "same kid and fits the same algorithm");
			return -1;
		}
	ks->keys[ks->n++] = *k;
	memset(k, 0, sizeof(*k));
	return 0;
}

struct jwks *
jwks_parse(const char *json, size_t n, char *err, size_t errlen)
{
	struct json_object	*root = NULL, *arr;
	struct jwks		*ks = NULL;
	struct jwk		 k;
	struct pctx		 p;
	size_t			 i, nkeys, skipped = 0;
	int			 rc;

	memset(&k, 0, sizeof(k));
	if ((arr = keys_array(json, n, &root, err, errlen)) == NULL)
		goto fail;
	nkeys = json_object_array_length(arr);
	if ((ks = calloc(1, sizeof(*ks))) == NULL ||
	    (ks->keys = calloc(nkeys, sizeof(*ks->keys))) == NULL) {
		set_errf(err, errlen, "out of memory");
		goto fail;
	}
	p.err = err;
	p.errlen = errlen;
	for (i = 0; i < nkeys; i++) {
		p.idx = i;
		p.kid = NULL;
		memset(&k, 0, sizeof(k));
		rc = parse_key(&p, json_object_array_get_idx(arr, i), &k);
		if (rc == -1)
			goto fail;
		if (rc == 0) {
			key_clear(&k);
			skipped++;
			continue;
		}
		if (add_key(&p, ks, &k) == -1)
			goto fail;
	}
	if (ks->n == 0) {
		set_errf(err, errlen, "no usable key (%zu skipped): no token "
		    "could be verified", skipped);
		goto fail;
	}
	json_object_put(root);
	return ks;
fail:
	key_clear(&k);
	jwks_free(ks);
	json_object_put(root);
	return NULL;
}

/*
 * Reads at most JWKS_MAX_FILE + 1 bytes, so an oversized file costs
 * nothing.  The stamp comes from the descriptor that was read: a file
 * replaced between stat() and open() cannot be mistaken for the old one.
 */
struct jwks *
jwks_load(const char *path, struct filestamp *stamp, char *err,
    size_t errlen)
{
	struct jwks	*ks = NULL;
	unsigned char	*buf = NULL;
	char		 msg[512];
	size_t		 n = 0;

	if (filestamp_read(path, JWKS_MAX_FILE, FILESTAMP_REGULAR, &buf, &n,
	    stamp, err, errlen) == -1)
		goto out;
	if (n > JWKS_MAX_FILE) {
		set_errf(err, errlen, "%s: larger than %d bytes", path,
		    JWKS_MAX_FILE);
		goto out;
	}
	msg[0] = '\0';
	if ((ks = jwks_parse((const char *)buf, n, msg, sizeof(msg))) == NULL)
		set_errf(err, errlen, "%s: %s", path, msg);
out:
	free(buf);
	return ks;
}

/* 1 when k may verify alg: its kind, its alg if it names one. */
static int
fits(const struct jwk *k, enum jwa_alg alg)
{
	enum jwk_kind need = alg_kind(jwa_get(alg));

	return need != JWK_NONE && k->kind == need &&
	    (k->alg == -1 || k->alg == (int)alg);
}

static const struct jwk *
find_key(const struct jwks *ks, enum jwa_alg alg, const char *kid)
{
	const struct jwk	*found = NULL;
	size_t			 i, count = 0;

	for (i = 0; i < ks->n; i++) {
		if (kid != NULL && (ks->keys[i].kid == NULL ||
		    strcmp(ks->keys[i].kid, kid) != 0))
			continue;
		if (!fits(&ks->keys[i], alg))
			continue;
		found = &ks->keys[i];
		count++;
	}
	return count == 1 ? found : NULL;
}

static int
all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* One integer of a raw r || s without its leading zero bytes. */
static gnutls_datum_t
trim(const unsigned char *p, size_t n)
{
	gnutls_datum_t d;

	while (n > 1 && *p == 0) {
		p++;
		n--;
	}
	d.data = (unsigned char *)(uintptr_t)p;
	d.size = (unsigned)n;
	return d;
}

/*
 * The signature sig[0..siglen) as GnuTLS wants it for key k and
 * algorithm a: the same bytes (RSA, Ed25519), or r || s encoded as DER
 * (ECDSA; *dup set, caller gnutls_free()s sd->data).  Every signature
 * has one size; anything else is not one.
 */
static enum jwks_err
sig_datum(const struct jwk *k, const struct jwa_info *a,
    const unsigned char *sig, size_t siglen, gnutls_datum_t *sd, int *dup)
{
	const unsigned char	*order;
	gnutls_datum_t		 r, s;
	size_t			 coord = a->siglen / 2;
	int			 grc;

	*dup = 0;
	sd->data = (unsigned char *)(uintptr_t)sig;
	sd->size = (unsigned)siglen;
	switch (k->kind) {
	case JWK_RSA:
		/* RFC 8017 8.2.2: the signature is exactly k octets */
		return siglen == k->siglen ? JWKS_OK : JWKS_ERR_SIGNATURE;
	case JWK_ED25519:
		return siglen == a->siglen ? JWKS_OK : JWKS_ERR_SIGNATURE;
	case JWK_P256:
	case JWK_P384:
		break;
	case JWK_NONE:
	default:
		return JWKS_ERR_KEY;
	}
	if (siglen != a->siglen)
		return JWKS_ERR_SIGNATURE;
	order = k->kind == JWK_P256 ? order_p256 : order_p384;
	/* memcmp of equal-length big-endian numbers orders them */
	if (all_zero(sig, coord) || all_zero(sig + coord, coord) ||
	    memcmp(sig, order, coord) >= 0 ||
	    memcmp(sig + coord, order, coord) >= 0)
		return JWKS_ERR_SIGNATURE;
	r = trim(sig, coord);
	s = trim(sig + coord, coord);
	sd->data = NULL;
	sd->size = 0;
	if ((grc = gnutls_encode_rs_value(sd, &r, &s)) < 0)
		return grc == GNUTLS_E_MEMORY_ERROR ? JWKS_ERR_NOMEM :
		    JWKS_ERR_SIGNATURE;
	*dup = 1;
	return JWKS_OK;
}

enum jwks_err
jwks_verify(const struct jwks *ks, enum jwa_alg alg, const char *kid,
    const void *input, size_t ilen, const unsigned char *sig,
    size_t siglen)
{
	const struct jwa_info	*a;
	const struct jwk	*k;
	gnutls_datum_t		 data, sd;
	int			 grc, dup;
	enum jwks_err		 rc;

	if (ks == NULL || (a = jwa_get(alg)) == NULL)
		return JWKS_ERR_KEY;
	if ((k = find_key(ks, alg, kid)) == NULL)
		return JWKS_ERR_KEY;
	if ((rc = sig_datum(k, a, sig, siglen, &sd, &dup)) != JWKS_OK)
		return rc;
	data.data = (unsigned char *)(uintptr_t)input;
	data.size = (unsigned)ilen;
	grc = gnutls_pubkey_verify_data2(k->pk, a->sign,
	    a->family == JWA_FAM_RSA_PSS ? PSS_FIXED : 0, &data, &sd);
	if (grc >= 0)
		rc = JWKS_OK;
	else if (grc == GNUTLS_E_MEMORY_ERROR)
		rc = JWKS_ERR_NOMEM;
	else
		rc = JWKS_ERR_SIGNATURE;	/* fail closed on any other error */
	if (dup)
		gnutls_free(sd.data);
	return rc;
}
