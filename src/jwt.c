#include "cs_build.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "filestamp.h"
#include "jsonx.h"
#include "jwks.h"
#include "jwt.h"
#include "secmem.h"
#include "util.h"

#define JWT_HDR_DEPTH		8	/* jsonx_parse depth: header */
#define JWT_CLAIMS_DEPTH	16	/* and claims */
#define JWT_KID_MAX		256	/* bytes */
#define JWT_SUB_MAX		256	/* bytes */
#define JWT_TENANT_MAX		128	/* bytes */
#define JWT_MAC_MAX		64	/* HMAC-SHA512 */
#define JWT_SECRET_MIN		32	/* bytes of HMAC secret */
#define JWT_SECRET_MAX		4096

/* Short, fixed texts: they reach logs, so they never quote the token. */
static const char *const errs[] = {
	[JWT_OK] = "ok",
	[JWT_ERR_TOO_LARGE] = "token too large",
	[JWT_ERR_MALFORMED] = "malformed token",
	[JWT_ERR_ALG] = "algorithm not allowed",
	[JWT_ERR_HEADER] = "header not allowed",
	[JWT_ERR_KEY] = "no key for the algorithm",
	[JWT_ERR_SIGNATURE] = "bad signature",
	[JWT_ERR_EXPIRED] = "token expired",
	[JWT_ERR_NOT_YET_VALID] = "token not yet valid",
	[JWT_ERR_ISSUER] = "wrong issuer",
	[JWT_ERR_AUDIENCE] = "wrong audience",
	[JWT_ERR_CLAIMS] = "bad claims",
	[JWT_ERR_TENANT] = "missing or bad tenant",
	[JWT_ERR_NOMEM] = "out of memory",
};
_Static_assert(sizeof(errs) / sizeof(errs[0]) == JWT_ERR__MAX,
    "one errs[] row per enum jwt_err");

/* Header parameters that would let the token pick its own key or rules. */
static const char *const forbidden_hdr[] = {
	"crit", "jku", "x5u", "x5c", "jwk",
};

/*
 * A NumericDate claim.  Integers keep their exact value (json-c clamps
 * integers beyond int64 to its bounds); doubles are kept as they are and
 * compared exactly against integer times by num_cmp.
 */
struct numdate {
	int	 is_double;
	int64_t	 i;
	double	 d;
};

const char *
jwt_strerror(enum jwt_err e)
{
	if ((unsigned)e >= JWT_ERR__MAX || errs[e] == NULL)
		return "unknown error";
	return errs[e];
}

/* 1 when s[0..n) has exactly the bytes of the C string lit. */
static int
str_eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Like str_eq, ASCII letters folded; locale-independent on purpose. */
static int
str_caseeq(const char *s, size_t n, const char *lit)
{
	size_t	 i;
	int	 a, b;

	if (strlen(lit) != n)
		return 0;
	for (i = 0; i < n; i++) {
		a = (unsigned char)s[i];
		b = (unsigned char)lit[i];
		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a != b)
			return 0;
	}
	return 1;
}

/*
 * The string value of v with its length, or NULL when v is not a string.
 * JSON strings may hold "\u0000", so every comparison uses the length.
 */
static const char *
json_str(struct json_object *v, size_t *n)
{
	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	*n = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* Returns a malloc'd NUL-terminated copy of s[0..n), or NULL. */
static char *
dup_str(const char *s, size_t n)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int
b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Checks that token[0..len) is three non-empty runs of base64url characters
 * joined by two dots, and returns the dot offsets.  Anything else (a space,
 * a NUL, '=', '+', a third dot) is JWT_ERR_MALFORMED.
 */
static enum jwt_err
split_token(const char *token, size_t len, size_t *d1, size_t *d2)
{
	size_t	 i, dots[2], ndots = 0;

	for (i = 0; i < len; i++) {
		if (token[i] == '.') {
			if (ndots == 2)
				return JWT_ERR_MALFORMED;
			dots[ndots++] = i;
		} else if (!b64url_char((unsigned char)token[i]))
			return JWT_ERR_MALFORMED;
	}
	if (ndots != 2 || dots[0] == 0 || dots[1] == dots[0] + 1 ||
	    dots[1] + 1 == len)
		return JWT_ERR_MALFORMED;
	*d1 = dots[0];
	*d2 = dots[1];
	return JWT_OK;
}

/*
 * Parses and checks the JOSE header.  On JWT_OK *hdrp holds the parsed
 * object (caller puts), *algp the algorithm and *kidp the kid or NULL
 * (pointing into *hdrp).
 */
static enum jwt_err
check_header(const unsigned char *raw, size_t n, struct json_object **hdrp,
    enum jwa_alg *algp, const char **kidp)
{
	struct json_object	*hdr, *v;
	const char		*s, *err;
	size_t			 i, sn;
	enum jwt_err		 rc;

	*hdrp = NULL;
	*kidp = NULL;
	hdr = jsonx_parse((const char *)raw, n, JWT_HDR_DEPTH, 0, &err);
	if (hdr == NULL || !json_object_is_type(hdr, json_type_object)) {
		rc = JWT_ERR_MALFORMED;
		goto out;
	}

	/* "none", "None" and any other name off the list end here */
	rc = JWT_ERR_ALG;
	if (!json_object_object_get_ex(hdr, "alg", &v) ||
	    (s = json_str(v, &sn)) == NULL ||
	    jwa_parse(s, sn, algp) == -1)
		goto out;

	rc = JWT_ERR_HEADER;
	/* Presence is enough, whatever the value (null included). */
	for (i = 0; i < sizeof(forbidden_hdr) / sizeof(forbidden_hdr[0]); i++)
		if (json_object_object_get_ex(hdr, forbidden_hdr[i], NULL))
			goto out;
	/*
	 * typ is a media type, so RFC 7515 4.1.9 makes it case-insensitive:
	 * "jwt" and "AT+JWT" pass.  The "application/" prefixed spelling is
	 * not accepted; SPEC lists the two short names only.
	 */
	if (json_object_object_get_ex(hdr, "typ", &v)) {
		if ((s = json_str(v, &sn)) == NULL ||
		    (!str_caseeq(s, sn, "JWT") && !str_caseeq(s, sn, "at+jwt")))
			goto out;
	}
	/* kid later selects a JWKS key by C string: no NUL inside. */
	if (json_object_object_get_ex(hdr, "kid", &v)) {
		if ((s = json_str(v, &sn)) == NULL || sn > JWT_KID_MAX ||
		    memchr(s, '\0', sn) != NULL)
			goto out;
		*kidp = s;
	}
	rc = JWT_OK;
out:
	if (rc == JWT_OK)
		*hdrp = hdr;
	else {
		json_object_put(hdr);
		*kidp = NULL;
	}
	return rc;
}

/*
 * HS*: recomputes the MAC of input[0..ilen) with the configured secret
 * and compares it with sig in constant time.  The computed MAC is wiped.
 */
static enum jwt_err
verify_hmac(const struct jwa_info *a, const struct jwt_keys *keys,
    const char *input, size_t ilen, const unsigned char *sig, size_t siglen)
{
	unsigned char		 mac[JWT_MAC_MAX];
	gnutls_mac_algorithm_t	 m = a->mac;
	size_t			 maclen;
	enum jwt_err		 rc;

	if (keys->hs_secret == NULL || keys->hs_len == 0)
		return JWT_ERR_KEY;
	maclen = gnutls_hmac_get_len(m);
	if (maclen == 0 || maclen > sizeof(mac))
		return JWT_ERR_KEY;
	if (siglen != maclen)
		return JWT_ERR_SIGNATURE;
	/* A GnuTLS failure is about our key or library, not the token. */
	if (gnutls_hmac_fast(m, keys->hs_secret, keys->hs_len, input, ilen,
	    mac) < 0) {
		rc = JWT_ERR_KEY;
		goto out;
	}
	rc = ct_equal(mac, sig, maclen) ? JWT_OK : JWT_ERR_SIGNATURE;
out:
	secure_wipe(mac, sizeof(mac));
	return rc;
}

/*
 * RS*, PS*, ES*, EdDSA: only a JWKS key, chosen by kid (or the one key
 * that fits when the token has none), never the HS secret: a public key
 * can neither sign HS tokens nor be their secret.
 */
static enum jwt_err
verify_asym(enum jwa_alg alg, const struct jwt_keys *keys, const char *kid,
    const char *input, size_t ilen, const unsigned char *sig, size_t siglen)
{
	if (keys->jwks == NULL)
		return JWT_ERR_KEY;
	switch (jwks_verify(keys->jwks, alg, kid, input, ilen, sig, siglen)) {
	case JWKS_OK:
		return JWT_OK;
	case JWKS_ERR_SIGNATURE:
		return JWT_ERR_SIGNATURE;
	case JWKS_ERR_NOMEM:
		return JWT_ERR_NOMEM;
	case JWKS_ERR_KEY:
	default:
		return JWT_ERR_KEY;
	}
}

/*
 * Reads the NumericDate claim `key`.  Absent: JWT_OK with *present = 0.
 * Present but not a finite JSON number (json-c takes NaN and Infinity):
 * JWT_ERR_CLAIMS.
 */
static enum jwt_err
get_numdate(struct json_object *claims, const char *key, int *present,
    struct numdate *out)
{
	struct json_object *v;

	*present = 0;
	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(claims, key, &v))
		return JWT_OK;
	if (json_object_is_type(v, json_type_int)) {
		out->i = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_double)) {
		out->d = json_object_get_double(v);
		if (!isfinite(out->d))
			return JWT_ERR_CLAIMS;
		out->is_double = 1;
	} else
		return JWT_ERR_CLAIMS;
	*present = 1;
	return JWT_OK;
}

/* floor(d) clamped to int64_t; d is finite. */
static int64_t
dbl_floor(double d)
{
	int64_t i;

	if (d >= 0x1p63)
		return INT64_MAX;
	if (d <= -0x1p63)
		return INT64_MIN;
	i = (int64_t)d;			/* truncates toward zero */
	if ((double)i > d)
		i--;
	return i;
}

/* Compares a NumericDate with t exactly: <0, 0 or >0. */
static int
num_cmp(const struct numdate *n, int64_t t)
{
	int64_t f;

	if (!n->is_double)
		return (n->i > t) - (n->i < t);
	if (n->d >= 0x1p63)
		return 1;
	if (n->d < -0x1p63)
		return -1;
	f = dbl_floor(n->d);
	if (f != t)
		return (f > t) - (f < t);
	/* |d| < 2^53 whenever it has a fraction, so (double)f is exact. */
	return n->d > (double)f;
}

static int64_t
time_of(const struct numdate *n)
{
	return n->is_double ? dbl_floor(n->d) : n->i;
}

/* a + b and a - b, saturated to the int64_t range. */
static int64_t
sat_add(int64_t a, long b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static int64_t
sat_sub(int64_t a, long b)
{
	if (b < 0 && a > INT64_MAX + b)
		return INT64_MAX;
	if (b > 0 && a < INT64_MIN + b)
		return INT64_MIN;
	return a - b;
}

/* The time claims of a token, as read once. */
struct claim_times {
	struct numdate	 exp, nbf, iat;
	int		 has_exp, has_nbf, has_iat;
};

/* exp (required), nbf and iat against now with pol->leeway of skew. */
static enum jwt_err
times_check(const struct claim_times *t, const struct jwt_policy *pol,
    time_t now, int64_t *expp)
{
	int64_t early, late;

	if (!t->has_exp)
		return JWT_ERR_CLAIMS;
	early = sat_sub((int64_t)now, pol->leeway);
	late = sat_add((int64_t)now, pol->leeway);
	/* now > exp + leeway, written so nothing overflows */
	if (num_cmp(&t->exp, early) < 0)
		return JWT_ERR_EXPIRED;
	/* now + leeway < nbf; iat > now + leeway */
	if ((t->has_nbf && num_cmp(&t->nbf, late) > 0) ||
	    (t->has_iat && num_cmp(&t->iat, late) > 0))
		return JWT_ERR_NOT_YET_VALID;
	*expp = time_of(&t->exp);
	return JWT_OK;
}

static enum jwt_err
check_times(struct json_object *claims, const struct jwt_policy *pol,
    time_t now, int64_t *expp, struct claim_times *t)
{
	enum jwt_err rc;

	if ((rc = get_numdate(claims, "exp", &t->has_exp, &t->exp)) != JWT_OK ||
	    (rc = get_numdate(claims, "nbf", &t->has_nbf, &t->nbf)) != JWT_OK ||
	    (rc = get_numdate(claims, "iat", &t->has_iat, &t->iat)) != JWT_OK)
		return rc;
	return times_check(t, pol, now, expp);
}

/* aud is want, or an array with want among its elements. */
static int
aud_matches(struct json_object *aud, const char *want)
{
	const char	*s;
	size_t		 i, n, sn;

	if (aud == NULL)
		return 0;
	if ((s = json_str(aud, &sn)) != NULL)
		return str_eq(s, sn, want);
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	n = json_object_array_length(aud);
	for (i = 0; i < n; i++)
		if ((s = json_str(json_object_array_get_idx(aud, i), &sn)) !=
		    NULL && str_eq(s, sn, want))
			return 1;
	return 0;
}

/* 1 when the string s[sn] is role (NULL: no role is). */
static int
role_is(const char *s, size_t sn, const char *role)
{
	return role != NULL && str_eq(s, sn, role);
}

/*
 * The role claim: absent is no role; a string or an array of strings,
 * anything else (an array with a non-string inside too) is JWT_ERR_CLAIMS.
 * Sets the admin and the proxy role of id.
 */
static enum jwt_err
check_role(struct json_object *claims, const struct jwt_policy *pol,
    struct jwt_identity *id)
{
	struct json_object	*v;
	const char		*s;
	size_t			 i, n, sn;
	int			 admin = 0, proxy = 0;

	id->is_admin = id->is_proxy = 0;
	if (pol->role_claim == NULL ||
	    !json_object_object_get_ex(claims, pol->role_claim, &v))
		return JWT_OK;
	if ((s = json_str(v, &sn)) != NULL) {
		admin = role_is(s, sn, pol->admin_role);
		proxy = role_is(s, sn, pol->proxy_role);
	} else if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			s = json_str(json_object_array_get_idx(v, i), &sn);
			if (s == NULL)
				return JWT_ERR_CLAIMS;
			admin |= role_is(s, sn, pol->admin_role);
			proxy |= role_is(s, sn, pol->proxy_role);
		}
	} else
		return JWT_ERR_CLAIMS;
	id->is_admin = admin;
	id->is_proxy = proxy;
	return JWT_OK;
}

/*
 * Checks the verified claims against pol and fills id (sub and tenant
 * malloc'd; the caller frees id on any result).
 */
static enum jwt_err
check_claims(struct json_object *claims, const struct jwt_policy *pol,
    time_t now, struct jwt_identity *id, struct claim_times *t)
{
	struct json_object	*v;
	const char		*s;
	size_t			 sn;
	int64_t			 exp;
	enum jwt_err		 rc;

	if ((rc = check_times(claims, pol, now, &exp, t)) != JWT_OK)
		return rc;

	if (pol->issuer != NULL) {
		if (!json_object_object_get_ex(claims, "iss", &v) ||
		    (s = json_str(v, &sn)) == NULL ||
		    !str_eq(s, sn, pol->issuer))
			return JWT_ERR_ISSUER;
	}
	if (pol->audience != NULL) {
		if (!json_object_object_get_ex(claims, "aud", &v) ||
		    !aud_matches(v, pol->audience))
			return JWT_ERR_AUDIENCE;
	}

	/* The tenant names storage: short, printable, no NUL. */
	if (pol->tenant_claim == NULL ||
	    !json_object_object_get_ex(claims, pol->tenant_claim, &v) ||
	    (s = json_str(v, &sn)) == NULL || sn == 0 ||
	    sn > JWT_TENANT_MAX || !is_clean_utf8(s, sn))
		return JWT_ERR_TENANT;
	if ((id->tenant = dup_str(s, sn)) == NULL)
		return JWT_ERR_NOMEM;

	if ((rc = check_role(claims, pol, id)) != JWT_OK)
		return rc;

	/* sub ends up in logs: same character rules as the tenant. */
	if (json_object_object_get_ex(claims, "sub", &v)) {
		if ((s = json_str(v, &sn)) == NULL || sn > JWT_SUB_MAX ||
		    !is_clean_utf8(s, sn))
			return JWT_ERR_CLAIMS;
		if ((id->sub = dup_str(s, sn)) == NULL)
			return JWT_ERR_NOMEM;
	}
	id->exp = (time_t)exp;
	return JWT_OK;
}

/*
 * The signature sig[0..siglen) of input[0..ilen) by the family of alg:
 * HS* with the configured secret, every other one with the JWKS.
 */
static enum jwt_err
verify_sig(enum jwa_alg alg, const struct jwt_keys *keys, const char *kid,
    const char *input, size_t ilen, const unsigned char *sig, size_t siglen)
{
	const struct jwa_info *a = jwa_get(alg);

	switch (a->family) {
	case JWA_FAM_HMAC:
		return verify_hmac(a, keys, input, ilen, sig, siglen);
	case JWA_FAM_RSA_PKCS1:
	case JWA_FAM_RSA_PSS:
	case JWA_FAM_ECDSA:
	case JWA_FAM_EDDSA:
		return verify_asym(alg, keys, kid, input, ilen, sig, siglen);
	case JWA_FAM__MAX:
	default:
		return JWT_ERR_ALG;
	}
}

/*
 * Everything up to and including the signature.  On JWT_OK *praw holds
 * the decoded payload (caller frees with secure_free(*praw, *plen)).
 */
static enum jwt_err
verify_jws(const char *token, size_t len, const struct jwt_keys *keys,
    enum jwa_alg *algp, unsigned char **praw, size_t *plen)
{
	struct json_object	*hdr = NULL;
	unsigned char		*hraw = NULL, *sig = NULL;
	size_t			 hlen = 0, siglen = 0, d1, d2;
	const char		*kid = NULL;
	enum jwa_alg		 alg = JWA_HS256;
	enum jwt_err		 rc;

	*praw = NULL;
	*plen = 0;
	if (token == NULL) {
		rc = JWT_ERR_MALFORMED;
		goto out;
	}
	if (len > JWT_MAX_TOKEN) {
		rc = JWT_ERR_TOO_LARGE;
		goto out;
	}
	if ((rc = split_token(token, len, &d1, &d2)) != JWT_OK)
		goto out;

	/* All three parts must be strict base64url before anything else. */
	rc = JWT_ERR_MALFORMED;
	if ((hraw = b64url_decode(token, d1, &hlen)) == NULL ||
	    (*praw = b64url_decode(token + d1 + 1, d2 - d1 - 1, plen)) ==
	    NULL ||
	    (sig = b64url_decode(token + d2 + 1, len - d2 - 1, &siglen)) ==
	    NULL)
		goto out;

	if ((rc = check_header(hraw, hlen, &hdr, &alg, &kid)) != JWT_OK)
		goto out;
	if (keys == NULL) {
		rc = JWT_ERR_KEY;
		goto out;
	}

	/* The signing input is the token up to the second dot. */
	rc = verify_sig(alg, keys, kid, token, d2, sig, siglen);
	if (rc == JWT_OK)
		*algp = alg;
out:
	json_object_put(hdr);
	secure_free(hraw, hlen);
	secure_free(sig, siglen);
	if (rc != JWT_OK) {
		secure_free(*praw, *plen);
		*praw = NULL;
		*plen = 0;
	}
	return rc;
}

/*
 * The verified-token cache (jwt.h).  Slots are reused oldest first.  A
 * hit costs one SHA-256 of the token instead of a signature check and
 * two JSON parses; the time claims are checked again at every use.
 */
#define JWT_CACHE_SLOTS	8

struct jwt_cache {
	pthread_mutex_t	 lock;		/* the threads of a process share it */
	struct {
		unsigned char		 digest[32];
		struct claim_times	 times;
		struct jwt_identity	 id;
		unsigned long		 stamp;	/* 0: empty */
	}		 slot[JWT_CACHE_SLOTS];
	unsigned long	 clock;
};

struct jwt_cache *
jwt_cache_new(void)
{
	struct jwt_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
jwt_cache_clear(struct jwt_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < JWT_CACHE_SLOTS; i++)
		jwt_identity_free(&c->slot[i].id);
	secure_wipe(c->slot, sizeof(c->slot));
	c->clock = 0;
	pthread_mutex_unlock(&c->lock);
}

void
jwt_cache_free(struct jwt_cache *c)
{
	if (c == NULL)
		return;
	jwt_cache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* A copy of src's strings into dst: 0, or -1 without memory. */
static int
identity_copy(struct jwt_identity *dst, const struct jwt_identity *src)
{
	*dst = *src;
	dst->sub = NULL;
	if ((dst->tenant = strdup(src->tenant)) == NULL ||
	    (src->sub != NULL && (dst->sub = strdup(src->sub)) == NULL)) {
		jwt_identity_free(dst);
		return -1;
	}
	return 0;
}

/*
 * What jwt_verify would say of a cached token: JWT_OK with *id filled,
 * a time error, or JWT_ERR__MAX when the token is not in the cache.
 */
static enum jwt_err
cache_get(struct jwt_cache *c, const unsigned char d[32],
    const struct jwt_policy *pol, time_t now, struct jwt_identity *id)
{
	int64_t		 exp;
	enum jwt_err	 rc;
	size_t		 i;

	for (i = 0; i < JWT_CACHE_SLOTS; i++)
		if (c->slot[i].stamp != 0 && ct_equal(c->slot[i].digest, d, 32))
			break;
	if (i == JWT_CACHE_SLOTS)
		return JWT_ERR__MAX;
	if ((rc = times_check(&c->slot[i].times, pol, now, &exp)) != JWT_OK)
		return rc;
	if (identity_copy(id, &c->slot[i].id) == -1)
		return JWT_ERR_NOMEM;
	c->slot[i].stamp = ++c->clock;
	return JWT_OK;
}

static void
cache_put(struct jwt_cache *c, const unsigned char d[32],
    const struct claim_times *t, const struct jwt_identity *id)
{
	size_t i, old = 0;

	for (i = 1; i < JWT_CACHE_SLOTS; i++)
		if (c->slot[i].stamp < c->slot[old].stamp)
			old = i;
	jwt_identity_free(&c->slot[old].id);
	c->slot[old].stamp = 0;
	if (identity_copy(&c->slot[old].id, id) == -1)
		return;
	memcpy(c->slot[old].digest, d, sizeof(c->slot[old].digest));
	c->slot[old].times = *t;
	c->slot[old].stamp = ++c->clock;
}

enum jwt_err
jwt_verify_signature(const char *token, size_t len,
    const struct jwt_keys *keys, enum jwa_alg *alg)
{
	unsigned char	*praw;
	size_t		 plen;
	enum jwt_err	 rc;

	rc = verify_jws(token, len, keys, alg, &praw, &plen);
	secure_free(praw, plen);
	return rc;
}

enum jwt_err
jwt_verify(const char *token, size_t len, const struct jwt_keys *keys,
    const struct jwt_policy *pol, time_t now, struct jwt_identity *id)
{
	struct json_object	*claims = NULL;
	unsigned char		*praw = NULL;
	size_t			 plen = 0;
	const char		*err;
	enum jwa_alg		 alg = JWA_HS256;
	enum jwt_err		 rc;
	struct claim_times	 times;
	unsigned char		 digest[32];
	int			 cached;

	memset(id, 0, sizeof(*id));
	/* the token's digest, looked up now and stored on success */
	cached = keys->cache != NULL &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, token, len, digest) == 0;
	if (cached) {
		pthread_mutex_lock(&keys->cache->lock);
		rc = cache_get(keys->cache, digest, pol, now, id);
		pthread_mutex_unlock(&keys->cache->lock);
		if (rc != JWT_ERR__MAX)
			return rc;
	}
	if ((rc = verify_jws(token, len, keys, &alg, &praw, &plen)) != JWT_OK)
		goto out;

	/* Only now, with the signature good, are the claims read. */
	claims = jsonx_parse((const char *)praw, plen, JWT_CLAIMS_DEPTH, 0,
	    &err);
	if (claims == NULL || !json_object_is_type(claims, json_type_object)) {
		rc = JWT_ERR_MALFORMED;
		goto out;
	}
	if ((rc = check_claims(claims, pol, now, id, &times)) != JWT_OK)
		goto out;
	id->alg = alg;
	if (cached) {
		pthread_mutex_lock(&keys->cache->lock);
		cache_put(keys->cache, digest, &times, id);
		pthread_mutex_unlock(&keys->cache->lock);
	}
out:
	json_object_put(claims);
	secure_free(praw, plen);
	if (rc != JWT_OK)
		jwt_identity_free(id);
	return rc;
}

void
jwt_identity_free(struct jwt_identity *id)
{
	if (id == NULL)
		return;
	free(id->sub);
	free(id->tenant);
	memset(id, 0, sizeof(*id));
}

/*
 * Returns base64url(header) "." base64url(claims) "." base64url(HMAC),
 * malloc'd, or NULL when claims_json is not a JSON object, the secret is
 * empty, or the token would exceed JWT_MAX_TOKEN (jwt_verify would refuse
 * it).  The token is a bearer credential: scratch copies are wiped.
 */
char *
jwt_sign_hs256(const unsigned char *secret, size_t slen,
    const char *claims_json)
{
	static const char	 hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	struct json_object	*o = NULL;
	struct buf		 b;
	unsigned char		 mac[32];
	char			*h64 = NULL, *p64 = NULL, *s64 = NULL;
	char			*tok = NULL;
	const char		*err;

	buf_init(&b, JWT_MAX_TOKEN, 1);
	if (secret == NULL || slen == 0 || claims_json == NULL)
		goto out;
	o = jsonx_parse(claims_json, strlen(claims_json), JWT_CLAIMS_DEPTH, 0,
	    &err);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	if ((h64 = b64url_encode(hdr, sizeof(hdr) - 1)) == NULL ||
	    (p64 = b64url_encode(claims_json, strlen(claims_json))) == NULL)
		goto out;
	if (buf_adds(&b, h64) == -1 || buf_addc(&b, '.') == -1 ||
	    buf_adds(&b, p64) == -1)
		goto out;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, slen, b.data, b.len,
	    mac) < 0)
		goto out;
	if ((s64 = b64url_encode(mac, sizeof(mac))) == NULL)
		goto out;
	if (buf_addc(&b, '.') == -1 || buf_adds(&b, s64) == -1)
		goto out;
	tok = buf_steal(&b, NULL);
out:
	secure_wipe(mac, sizeof(mac));
	secure_free_str(s64);
	free(h64);
	free(p64);
	buf_reset(&b);
	json_object_put(o);
	return tok;
}

/*
 * Reads the whole file as the secret: raw bytes, a trailing newline
 * included.  Reads at most JWT_SECRET_MAX + 1 bytes, so a huge file or
 * device costs nothing.  On success *out is malloc'd (free it with
 * secure_free(*out, *outlen)); on failure nothing is returned and the
 * scratch buffer is wiped.  Messages name the path, never the content.
 */
int
jwt_secret_load(const char *path, unsigned char **out, size_t *outlen,
    struct filestamp *st, char *err, size_t errlen)
{
	unsigned char	*p = NULL;
	size_t		 n = 0;
	int		 rv = -1;

	*out = NULL;
	*outlen = 0;
	if (filestamp_read(path, JWT_SECRET_MAX, FILESTAMP_SECRET |
	    FILESTAMP_PRIVATE, &p, &n, st, err, errlen) == -1)
		goto out;
	if (n > JWT_SECRET_MAX) {
		set_errf(err, errlen, "%s: secret longer than %d bytes", path,
		    JWT_SECRET_MAX);
		goto out;
	}
	if (n < JWT_SECRET_MIN) {
		set_errf(err, errlen, "%s: secret shorter than %d bytes", path,
		    JWT_SECRET_MIN);
		goto out;
	}
	*out = p;
	*outlen = n;
	p = NULL;
	rv = 0;
out:
	secmem_free(p);
	return rv;
}

void
jwt_secret_free(unsigned char *secret)
{
	secmem_free(secret);
}
