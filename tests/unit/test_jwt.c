#include "cs_build.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "jwks.h"
#include "jwt.h"
#include "util.h"
#include "ck_run.h"

/*
 * Tokens are built here with gnutls_hmac_fast and b64url_encode directly,
 * not with jwt_sign_hs256, so a signer bug cannot hide a verifier bug.
 * Asymmetric keys and tokens come from tests/unit/jwks_vectors.sh, which
 * uses the openssl command, run once by main() before the tests fork.
 */

#define NOW	((time_t)1700000000)

static const unsigned char secret[] =
    "credstore-unit-test-secret-0123456789-abcdef";
static const unsigned char other_secret[] =
    "credstore-unit-test-secret-0123456789-abcdeF";
#define SECRET_LEN	(sizeof(secret) - 1)

static const struct jwt_policy policy = {
	.issuer = "https://issuer.test",
	.audience = "credstore",
	.leeway = 60,
	.role_claim = "role",
	.admin_role = "admin",
	.proxy_role = "proxy",
	.tenant_claim = "org_id",
};

/* The same without iss/aud checks. */
static const struct jwt_policy policy_open = {
	.issuer = NULL,
	.audience = NULL,
	.leeway = 60,
	.role_claim = "role",
	.admin_role = "admin",
	.tenant_claim = "org_id",
};

#define H256	"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define HDR(x)	"{\"alg\":\"HS256\"," x "}"
#define ALG(a)	"{\"alg\":" a "}"

#define C_ISS	"\"iss\":\"https://issuer.test\""
#define C_AUD	"\"aud\":\"credstore\""
#define C_TEN	"\"org_id\":\"acme\""
#define C_SUB	"\"sub\":\"alice\""
#define C_EXP	"\"exp\":1700003600"
/* Valid claims plus `x` (which starts with a comma when non-empty). */
#define CLAIMS(x)	"{" C_EXP "," C_ISS "," C_AUD "," C_TEN "," C_SUB x "}"
/* Valid claims without exp, plus `x` (starting with a comma). */
#define NOEXP(x)	"{" C_ISS "," C_AUD "," C_TEN "," C_SUB x "}"
/* Valid claims except the audience, plus `x` (starting with a comma). */
#define NOAUD(x)	"{" C_EXP "," C_ISS "," C_TEN "," C_SUB x "}"
#define NOISS(x)	"{" C_EXP "," C_AUD "," C_TEN "," C_SUB x "}"
#define NOTEN(x)	"{" C_EXP "," C_ISS "," C_AUD "," C_SUB x "}"
#define NOSUB(x)	"{" C_EXP "," C_ISS "," C_AUD "," C_TEN x "}"

#define F_WRONGKEY	0x01	/* sign with other_secret */
#define F_NOSECRET	0x02	/* verify with hs_secret NULL */
#define F_FLIP		0x04	/* flip one bit of the MAC */
#define F_TRUNC		0x08	/* drop the MAC's last byte */
#define F_OPEN		0x10	/* verify with policy_open */

static gnutls_mac_algorithm_t
mac_of(int bits)
{
	switch (bits) {
	case 384:
		return GNUTLS_MAC_SHA384;
	case 512:
		return GNUTLS_MAC_SHA512;
	default:
		return GNUTLS_MAC_SHA256;
	}
}

static enum jwa_alg
alg_of(int bits)
{
	switch (bits) {
	case 384:
		return JWA_HS384;
	case 512:
		return JWA_HS512;
	default:
		return JWA_HS256;
	}
}

/*
 * base64url(hdr) "." base64url(claims) "." base64url(HMAC-bits), the MAC
 * altered as flags say.  Returns malloc'd.
 */
static char *
mk_token(int bits, const char *hdr, const char *claims, int flags)
{
	gnutls_mac_algorithm_t	 m = mac_of(bits);
	const unsigned char	*key = (flags & F_WRONGKEY) ? other_secret :
				    secret;
	unsigned char		 mac[64];
	char			*h64, *p64, *s64, *tok;
	size_t			 maclen, n;

	h64 = b64url_encode(hdr, strlen(hdr));
	p64 = b64url_encode(claims, strlen(claims));
	ck_assert(h64 != NULL && p64 != NULL);
	n = strlen(h64) + 1 + strlen(p64);
	tok = malloc(n + 1 + 128);
	ck_assert(tok != NULL);
	snprintf(tok, n + 1, "%s.%s", h64, p64);
	maclen = gnutls_hmac_get_len(m);
	ck_assert(gnutls_hmac_fast(m, key, SECRET_LEN, tok, n, mac) == 0);
	if (flags & F_FLIP)
		mac[maclen / 2] ^= 0x01;
	if (flags & F_TRUNC)
		maclen--;
	s64 = b64url_encode(mac, maclen);
	ck_assert(s64 != NULL);
	snprintf(tok + n, 1 + 128, ".%s", s64);
	free(h64);
	free(p64);
	free(s64);
	return tok;
}

static struct jwt_keys
hs_keys(void)
{
	struct jwt_keys k;

	memset(&k, 0, sizeof(k));
	k.hs_secret = (unsigned char *)(uintptr_t)secret;
	k.hs_len = SECRET_LEN;
	k.jwks = NULL;
	return k;
}

static void
assert_id_zero(const struct jwt_identity *id, const char *name)
{
	ck_assert_msg(id->sub == NULL && id->tenant == NULL &&
	    id->is_admin == 0 && id->exp == 0, "%s: identity not zeroed",
	    name);
}

/* Verifies tok with the default keys and policy. */
static enum jwt_err
verify_str(const char *tok, struct jwt_identity *id)
{
	struct jwt_keys k = hs_keys();

	return jwt_verify(tok, strlen(tok), &k, &policy, NOW, id);
}

struct vcase {
	const char	*name;
	const char	*hdr;
	const char	*claims;
	int		 bits;		/* MAC: 256, 384, 512 */
	int		 flags;
	enum jwt_err	 want;
	int		 admin;		/* is_admin on JWT_OK */
};

static const struct vcase vcases[] = {
	/* accepted */
	{ "HS256 admin role", H256, CLAIMS(",\"role\":\"admin\""), 256, 0,
	    JWT_OK, 1 },
	{ "HS384 admin role", ALG("\"HS384\""),
	    CLAIMS(",\"role\":\"admin\""), 384, 0, JWT_OK, 1 },
	{ "HS512 no role", ALG("\"HS512\""), CLAIMS(""), 512, 0, JWT_OK, 0 },
	{ "role string user", H256, CLAIMS(",\"role\":\"user\""), 256, 0,
	    JWT_OK, 0 },
	{ "role array with admin", H256,
	    CLAIMS(",\"role\":[\"user\",\"admin\"]"), 256, 0, JWT_OK, 1 },
	{ "role array without admin", H256,
	    CLAIMS(",\"role\":[\"user\",\"ops\"]"), 256, 0, JWT_OK, 0 },
	{ "role empty array", H256, CLAIMS(",\"role\":[]"), 256, 0,
	    JWT_OK, 0 },
	{ "role Admin is not admin", H256, CLAIMS(",\"role\":\"Admin\""),
	    256, 0, JWT_OK, 0 },
	{ "role admin+NUL is not admin", H256,
	    CLAIMS(",\"role\":\"admin\\u0000\""), 256, 0, JWT_OK, 0 },
	{ "typ at+jwt", HDR("\"typ\":\"at+jwt\""), CLAIMS(""), 256, 0,
	    JWT_OK, 0 },
	{ "typ jwt (case-insensitive)", HDR("\"typ\":\"jwt\""), CLAIMS(""),
	    256, 0, JWT_OK, 0 },
	{ "no typ", ALG("\"HS256\""), CLAIMS(""), 256, 0, JWT_OK, 0 },
	{ "kid string", HDR("\"kid\":\"k1\""), CLAIMS(""), 256, 0,
	    JWT_OK, 0 },
	{ "harmless x5t header", HDR("\"x5t\":\"abc\""), CLAIMS(""), 256, 0,
	    JWT_OK, 0 },
	{ "aud array containing", H256,
	    NOAUD(",\"aud\":[\"other\",\"credstore\"]"), 256, 0, JWT_OK, 0 },
	{ "exp just within leeway", H256, NOEXP(",\"exp\":1699999940"), 256,
	    0, JWT_OK, 0 },
	{ "exp double", H256, NOEXP(",\"exp\":1700000000.5"), 256, 0,
	    JWT_OK, 0 },
	{ "exp double within leeway", H256, NOEXP(",\"exp\":1699999940.5"),
	    256, 0, JWT_OK, 0 },
	{ "exp double at the boundary", H256,
	    NOEXP(",\"exp\":1699999940.0"), 256, 0, JWT_OK, 0 },
	{ "exp beyond int64", H256,
	    NOEXP(",\"exp\":99999999999999999999"), 256, 0, JWT_OK, 0 },
	{ "exp 1e300", H256, NOEXP(",\"exp\":1e300"), 256, 0, JWT_OK, 0 },
	{ "nbf within leeway", H256, CLAIMS(",\"nbf\":1700000060"), 256, 0,
	    JWT_OK, 0 },
	{ "iat within leeway", H256, CLAIMS(",\"iat\":1700000060"), 256, 0,
	    JWT_OK, 0 },
	{ "iat past, nbf past", H256,
	    CLAIMS(",\"iat\":1699999000,\"nbf\":1699999000"), 256, 0,
	    JWT_OK, 0 },
	{ "no sub", H256, NOSUB(""), 256, 0, JWT_OK, 0 },
	{ "iss/aud not configured", H256, "{" C_EXP "," C_TEN "}", 256,
	    F_OPEN, JWT_OK, 0 },
	{ "aud of any type when not configured", H256,
	    NOAUD(",\"aud\":42"), 256, F_OPEN, JWT_OK, 0 },

	/* header JSON */
	{ "header bad JSON", "{\"alg\":\"HS256\"", CLAIMS(""), 256, 0,
	    JWT_ERR_MALFORMED, 0 },
	{ "header array", "[\"HS256\"]", CLAIMS(""), 256, 0,
	    JWT_ERR_MALFORMED, 0 },
	{ "header string", "\"HS256\"", CLAIMS(""), 256, 0,
	    JWT_ERR_MALFORMED, 0 },
	{ "header duplicate alg", "{\"alg\":\"HS256\",\"alg\":\"HS256\"}",
	    CLAIMS(""), 256, 0, JWT_ERR_MALFORMED, 0 },
	{ "header duplicate typ", "{\"alg\":\"HS256\",\"typ\":\"JWT\","
	    "\"typ\":\"JWT\"}", CLAIMS(""), 256, 0, JWT_ERR_MALFORMED, 0 },
	{ "header trailing data", "{\"alg\":\"HS256\"}x", CLAIMS(""), 256, 0,
	    JWT_ERR_MALFORMED, 0 },
	{ "header invalid UTF-8", "{\"alg\":\"HS256\",\"x\":\"\xff\"}",
	    CLAIMS(""), 256, 0, JWT_ERR_MALFORMED, 0 },
	{ "header too deep", HDR("\"x\":[[[[[[[[1]]]]]]]]"), CLAIMS(""), 256,
	    0, JWT_ERR_MALFORMED, 0 },

	/* alg */
	{ "alg none", ALG("\"none\""), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg None", ALG("\"None\""), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg NONE", ALG("\"NONE\""), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg HS1", ALG("\"HS1\""), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg hs256", ALG("\"hs256\""), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg HS256 space", ALG("\"HS256 \""), CLAIMS(""), 256, 0,
	    JWT_ERR_ALG, 0 },
	{ "alg HS256 NUL", ALG("\"HS256\\u0000\""), CLAIMS(""), 256, 0,
	    JWT_ERR_ALG, 0 },
	{ "alg ES512", ALG("\"ES512\""), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg EDDSA", ALG("\"EDDSA\""), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg number", ALG("256"), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg null", ALG("null"), CLAIMS(""), 256, 0, JWT_ERR_ALG, 0 },
	{ "alg missing", "{\"typ\":\"JWT\"}", CLAIMS(""), 256, 0,
	    JWT_ERR_ALG, 0 },

	/* asymmetric without JWKS, HMAC-signed with the HS secret */
	{ "RS256 no jwks", ALG("\"RS256\""), CLAIMS(""), 256, 0,
	    JWT_ERR_KEY, 0 },
	{ "PS384 no jwks", ALG("\"PS384\""), CLAIMS(""), 384, 0,
	    JWT_ERR_KEY, 0 },
	{ "ES256 no jwks", ALG("\"ES256\""), CLAIMS(""), 256, 0,
	    JWT_ERR_KEY, 0 },
	{ "EdDSA no jwks", ALG("\"EdDSA\""), CLAIMS(""), 512, 0,
	    JWT_ERR_KEY, 0 },

	/* forbidden or bad header parameters */
	{ "crit", HDR("\"crit\":[\"exp\"]"), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "jku", HDR("\"jku\":\"https://evil.test/k\""), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "x5u", HDR("\"x5u\":\"https://evil.test/c\""), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "x5c", HDR("\"x5c\":[\"MIIB\"]"), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "jwk", HDR("\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}"), CLAIMS(""),
	    256, 0, JWT_ERR_HEADER, 0 },
	{ "jku null", HDR("\"jku\":null"), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "typ JOSE", HDR("\"typ\":\"JOSE\""), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "typ application/jwt", HDR("\"typ\":\"application/jwt\""),
	    CLAIMS(""), 256, 0, JWT_ERR_HEADER, 0 },
	{ "typ number", HDR("\"typ\":1"), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "typ null", HDR("\"typ\":null"), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "kid number", HDR("\"kid\":7"), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },
	{ "kid with NUL", HDR("\"kid\":\"a\\u0000b\""), CLAIMS(""), 256, 0,
	    JWT_ERR_HEADER, 0 },

	/* keys and signature */
	{ "HS with no secret", H256, CLAIMS(""), 256, F_NOSECRET,
	    JWT_ERR_KEY, 0 },
	{ "flipped MAC bit", H256, CLAIMS(""), 256, F_FLIP,
	    JWT_ERR_SIGNATURE, 0 },
	{ "truncated MAC", H256, CLAIMS(""), 256, F_TRUNC,
	    JWT_ERR_SIGNATURE, 0 },
	{ "wrong secret", H256, CLAIMS(""), 256, F_WRONGKEY,
	    JWT_ERR_SIGNATURE, 0 },
	{ "HS256 header, HS512 MAC", H256, CLAIMS(""), 512, 0,
	    JWT_ERR_SIGNATURE, 0 },
	{ "HS512 header, HS256 MAC", ALG("\"HS512\""), CLAIMS(""), 256, 0,
	    JWT_ERR_SIGNATURE, 0 },
	/* the signature is checked before the claims are looked at */
	{ "bad MAC hides bad claims JSON", H256, "{\"exp\":", 256, F_FLIP,
	    JWT_ERR_SIGNATURE, 0 },
	{ "bad MAC hides expiry", H256, NOEXP(",\"exp\":1"), 256, F_WRONGKEY,
	    JWT_ERR_SIGNATURE, 0 },

	/* claims JSON */
	{ "claims duplicate exp", H256, CLAIMS(",\"exp\":1700003600"), 256, 0,
	    JWT_ERR_MALFORMED, 0 },
	{ "claims duplicate nested", H256,
	    CLAIMS(",\"x\":{\"a\":1,\"a\":2}"), 256, 0, JWT_ERR_MALFORMED, 0 },
	{ "claims bad JSON", H256, "{\"exp\":1700003600,", 256, 0,
	    JWT_ERR_MALFORMED, 0 },
	{ "claims array", H256, "[1700003600]", 256, 0, JWT_ERR_MALFORMED,
	    0 },
	{ "claims too deep", H256,
	    CLAIMS(",\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]"), 256, 0,
	    JWT_ERR_MALFORMED, 0 },

	/* times: now 1700000000, leeway 60 */
	{ "expired", H256, NOEXP(",\"exp\":1699999939"), 256, 0,
	    JWT_ERR_EXPIRED, 0 },
	{ "expired double", H256, NOEXP(",\"exp\":1699999939.5"), 256, 0,
	    JWT_ERR_EXPIRED, 0 },
	{ "expired double by a fraction", H256,
	    NOEXP(",\"exp\":1699999939.999"), 256, 0, JWT_ERR_EXPIRED, 0 },
	{ "exp zero", H256, NOEXP(",\"exp\":0"), 256, 0, JWT_ERR_EXPIRED, 0 },
	{ "exp hugely negative", H256,
	    NOEXP(",\"exp\":-99999999999999999999"), 256, 0,
	    JWT_ERR_EXPIRED, 0 },
	{ "exp -1e300", H256, NOEXP(",\"exp\":-1e300"), 256, 0,
	    JWT_ERR_EXPIRED, 0 },
	{ "nbf future", H256, CLAIMS(",\"nbf\":1700000061"), 256, 0,
	    JWT_ERR_NOT_YET_VALID, 0 },
	{ "nbf 1e300", H256, CLAIMS(",\"nbf\":1e300"), 256, 0,
	    JWT_ERR_NOT_YET_VALID, 0 },
	{ "iat future", H256, CLAIMS(",\"iat\":1700000061"), 256, 0,
	    JWT_ERR_NOT_YET_VALID, 0 },
	{ "iat future double", H256, CLAIMS(",\"iat\":1700000060.5"), 256, 0,
	    JWT_ERR_NOT_YET_VALID, 0 },

	/* claim types */
	{ "exp missing", H256, NOEXP(""), 256, 0, JWT_ERR_CLAIMS, 0 },
	{ "exp string", H256, NOEXP(",\"exp\":\"123\""), 256, 0,
	    JWT_ERR_CLAIMS, 0 },
	{ "exp true", H256, NOEXP(",\"exp\":true"), 256, 0, JWT_ERR_CLAIMS,
	    0 },
	{ "exp null", H256, NOEXP(",\"exp\":null"), 256, 0, JWT_ERR_CLAIMS,
	    0 },
	{ "exp array", H256, NOEXP(",\"exp\":[1700003600]"), 256, 0,
	    JWT_ERR_CLAIMS, 0 },
	{ "exp infinite (1e999)", H256, NOEXP(",\"exp\":1e999"), 256, 0,
	    JWT_ERR_MALFORMED, 0 },
	{ "exp NaN", H256, NOEXP(",\"exp\":NaN"), 256, 0, JWT_ERR_MALFORMED, 0 },
	{ "exp Infinity", H256, NOEXP(",\"exp\":Infinity"), 256, 0,
	    JWT_ERR_MALFORMED, 0 },
	{ "nbf string", H256, CLAIMS(",\"nbf\":\"0\""), 256, 0,
	    JWT_ERR_CLAIMS, 0 },
	{ "iat array", H256, CLAIMS(",\"iat\":[0]"), 256, 0,
	    JWT_ERR_CLAIMS, 0 },
	{ "role number", H256, CLAIMS(",\"role\":1"), 256, 0,
	    JWT_ERR_CLAIMS, 0 },
	{ "role object", H256, CLAIMS(",\"role\":{\"admin\":true}"), 256, 0,
	    JWT_ERR_CLAIMS, 0 },
	{ "role null", H256, CLAIMS(",\"role\":null"), 256, 0,
	    JWT_ERR_CLAIMS, 0 },
	{ "role array with number", H256,
	    CLAIMS(",\"role\":[\"admin\",1]"), 256, 0, JWT_ERR_CLAIMS, 0 },
	{ "sub number", H256, NOSUB(",\"sub\":42"), 256, 0, JWT_ERR_CLAIMS,
	    0 },
	{ "sub control char", H256, NOSUB(",\"sub\":\"a\\u0007b\""), 256, 0,
	    JWT_ERR_CLAIMS, 0 },

	/* issuer and audience */
	{ "wrong iss", H256, NOISS(",\"iss\":\"https://evil.test\""), 256, 0,
	    JWT_ERR_ISSUER, 0 },
	{ "iss missing", H256, NOISS(""), 256, 0, JWT_ERR_ISSUER, 0 },
	{ "iss number", H256, NOISS(",\"iss\":1"), 256, 0, JWT_ERR_ISSUER, 0 },
	{ "iss with NUL suffix", H256,
	    NOISS(",\"iss\":\"https://issuer.test\\u0000x\""), 256, 0,
	    JWT_ERR_ISSUER, 0 },
	{ "iss array", H256, NOISS(",\"iss\":[\"https://issuer.test\"]"),
	    256, 0, JWT_ERR_ISSUER, 0 },
	{ "wrong aud", H256, NOAUD(",\"aud\":\"other\""), 256, 0,
	    JWT_ERR_AUDIENCE, 0 },
	{ "aud missing", H256, NOAUD(""), 256, 0, JWT_ERR_AUDIENCE, 0 },
	{ "aud array without", H256, NOAUD(",\"aud\":[\"a\",\"b\"]"), 256, 0,
	    JWT_ERR_AUDIENCE, 0 },
	{ "aud empty array", H256, NOAUD(",\"aud\":[]"), 256, 0,
	    JWT_ERR_AUDIENCE, 0 },
	{ "aud number", H256, NOAUD(",\"aud\":1"), 256, 0,
	    JWT_ERR_AUDIENCE, 0 },
	{ "aud prefix", H256, NOAUD(",\"aud\":\"credstor\""), 256, 0,
	    JWT_ERR_AUDIENCE, 0 },

	/* tenant */
	{ "tenant missing", H256, NOTEN(""), 256, 0, JWT_ERR_TENANT, 0 },
	{ "tenant number", H256, NOTEN(",\"org_id\":42"), 256, 0,
	    JWT_ERR_TENANT, 0 },
	{ "tenant empty", H256, NOTEN(",\"org_id\":\"\""), 256, 0,
	    JWT_ERR_TENANT, 0 },
	{ "tenant newline", H256, NOTEN(",\"org_id\":\"ac\\nme\""), 256, 0,
	    JWT_ERR_TENANT, 0 },
	{ "tenant NUL", H256, NOTEN(",\"org_id\":\"ac\\u0000me\""), 256, 0,
	    JWT_ERR_TENANT, 0 },
	{ "tenant array", H256, NOTEN(",\"org_id\":[\"acme\"]"), 256, 0,
	    JWT_ERR_TENANT, 0 },
	{ "tenant null", H256, NOTEN(",\"org_id\":null"), 256, 0,
	    JWT_ERR_TENANT, 0 },
};

START_TEST(test_verify_table)
{
	const struct vcase	*c = &vcases[_i];
	struct jwt_keys		 k = hs_keys();
	struct jwt_identity	 id;
	char			*tok;
	enum jwt_err		 rc;

	tok = mk_token(c->bits, c->hdr, c->claims, c->flags);
	if (c->flags & F_NOSECRET) {
		k.hs_secret = NULL;
		k.hs_len = 0;
	}
	rc = jwt_verify(tok, strlen(tok), &k,
	    (c->flags & F_OPEN) ? &policy_open : &policy, NOW, &id);
	ck_assert_msg(rc == c->want, "%s: got %d (%s), want %d (%s)",
	    c->name, rc, jwt_strerror(rc), c->want, jwt_strerror(c->want));
	if (rc == JWT_OK) {
		ck_assert_msg(id.is_admin == c->admin, "%s: is_admin %d",
		    c->name, id.is_admin);
		ck_assert_msg(id.tenant != NULL &&
		    strcmp(id.tenant, "acme") == 0, "%s: tenant", c->name);
		ck_assert_msg(id.alg == alg_of(c->bits), "%s: alg %d",
		    c->name, id.alg);
	} else
		assert_id_zero(&id, c->name);
	jwt_identity_free(&id);
	free(tok);
}
END_TEST

/* The proxy role (SPEC 10): its own role, not implied by admin. */
START_TEST(test_proxy_role)
{
	static const struct {
		const char	*role;
		int		 admin, proxy;
	} rows[] = {
		{ ",\"role\":\"proxy\"", 0, 1 },
		{ ",\"role\":\"admin\"", 1, 0 },
		{ ",\"role\":[\"admin\",\"proxy\"]", 1, 1 },
		{ ",\"role\":[\"viewer\",\"proxy\"]", 0, 1 },
		{ ",\"role\":\"proxyx\"", 0, 0 },
		{ ",\"role\":\"Proxy\"", 0, 0 },
		{ "", 0, 0 },
	};
	struct jwt_identity	 id;
	char			 claims[256];
	char			*tok;
	size_t			 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(claims, sizeof(claims), "{" C_ISS "," C_AUD "," C_TEN
		    "," C_SUB ",\"exp\":1700003600%s}", rows[i].role);
		tok = mk_token(256, H256, claims, 0);
		ck_assert_int_eq(verify_str(tok, &id), JWT_OK);
		ck_assert_msg(id.is_admin == rows[i].admin &&
		    id.is_proxy == rows[i].proxy, "%s: admin %d proxy %d",
		    rows[i].role, id.is_admin, id.is_proxy);
		jwt_identity_free(&id);
		free(tok);
	}
}
END_TEST

START_TEST(test_identity)
{
	struct jwt_identity	 id;
	char			*tok;

	tok = mk_token(256, H256, CLAIMS(",\"role\":\"admin\""), 0);
	ck_assert_int_eq(verify_str(tok, &id), JWT_OK);
	ck_assert_str_eq(id.sub, "alice");
	ck_assert_str_eq(id.tenant, "acme");
	ck_assert_int_eq(id.is_admin, 1);
	ck_assert(id.exp == (time_t)1700003600);
	ck_assert_int_eq(id.alg, JWA_HS256);
	jwt_identity_free(&id);
	ck_assert(id.sub == NULL && id.tenant == NULL);
	jwt_identity_free(&id);		/* twice is harmless */
	jwt_identity_free(NULL);
	free(tok);

	tok = mk_token(512, ALG("\"HS512\""),
	    "{" C_ISS "," C_AUD "," C_TEN ",\"exp\":1700003600.75}", 0);
	ck_assert_int_eq(verify_str(tok, &id), JWT_OK);
	ck_assert(id.sub == NULL);
	ck_assert(id.exp == (time_t)1700003600);
	ck_assert_int_eq(id.alg, JWA_HS512);
	jwt_identity_free(&id);
	free(tok);
}
END_TEST

START_TEST(test_id_zeroed_on_error)
{
	struct jwt_identity	 id;
	char			*tok;

	tok = mk_token(256, H256, NOEXP(",\"exp\":1"), 0);
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(verify_str(tok, &id), JWT_ERR_EXPIRED);
	assert_id_zero(&id, "expired");
	/* fails after the tenant was copied: the copy must be gone */
	free(tok);
	tok = mk_token(256, H256, CLAIMS(",\"role\":7"), 0);
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(verify_str(tok, &id), JWT_ERR_CLAIMS);
	assert_id_zero(&id, "role");
	free(tok);
}
END_TEST

/*
 * Long strings at their limits: kid 256 bytes, tenant 128, sub 256.
 */
struct lcase {
	int		 what;	/* 0 kid, 1 tenant, 2 sub */
	size_t		 len;
	enum jwt_err	 want;
};

static const struct lcase lcases[] = {
	{ 0, 256, JWT_OK },
	{ 0, 257, JWT_ERR_HEADER },
	{ 1, 128, JWT_OK },
	{ 1, 129, JWT_ERR_TENANT },
	{ 2, 256, JWT_OK },
	{ 2, 257, JWT_ERR_CLAIMS },
};

START_TEST(test_lengths)
{
	const struct lcase	*c = &lcases[_i];
	char			 s[300], hdr[512], claims[1024];
	struct jwt_identity	 id;
	char			*tok;
	enum jwt_err		 rc;

	memset(s, 'k', c->len);
	s[c->len] = '\0';
	snprintf(hdr, sizeof(hdr), "%s", H256);
	snprintf(claims, sizeof(claims), "%s", CLAIMS(""));
	if (c->what == 0)
		snprintf(hdr, sizeof(hdr), HDR("\"kid\":\"%s\""), s);
	else if (c->what == 1)
		snprintf(claims, sizeof(claims), NOTEN(",\"org_id\":\"%s\""),
		    s);
	else
		snprintf(claims, sizeof(claims), NOSUB(",\"sub\":\"%s\""), s);
	tok = mk_token(256, hdr, claims, 0);
	rc = verify_str(tok, &id);
	ck_assert_msg(rc == c->want, "case %d: got %s want %s", _i,
	    jwt_strerror(rc), jwt_strerror(c->want));
	if (rc == JWT_OK && c->what == 1)
		ck_assert_uint_eq(strlen(id.tenant), c->len);
	if (rc == JWT_OK && c->what == 2)
		ck_assert_uint_eq(strlen(id.sub), c->len);
	jwt_identity_free(&id);
	free(tok);
}
END_TEST

/*
 * Byte-level damage to a valid HS256 token (whose signature part is 43
 * characters, so its last character carries two padding bits).
 */
enum mangle {
	M_TWO_PARTS,
	M_FOUR_PARTS,
	M_PAD,
	M_PAD2,
	M_NONCANON,
	M_EMPTY_HDR,
	M_EMPTY_PAYLOAD,
	M_EMPTY_SIG,
	M_TRAIL_SPACE,
	M_TRAIL_NL,
	M_LEAD_SPACE,
	M_TRAIL_BANG,
	M_TRAIL_DOT,
	M_INNER_NUL,
	M_TRAIL_NUL,
	M_STD_ALPHABET,
	M_HDR_LEN1,
	M_TRAIL_B64,
	M_EMPTY,
	M_DOTS,
	M__MAX
};

static const enum jwt_err mangle_want[M__MAX] = {
	[M_TWO_PARTS] = JWT_ERR_MALFORMED,
	[M_FOUR_PARTS] = JWT_ERR_MALFORMED,
	[M_PAD] = JWT_ERR_MALFORMED,
	[M_PAD2] = JWT_ERR_MALFORMED,
	[M_NONCANON] = JWT_ERR_MALFORMED,
	[M_EMPTY_HDR] = JWT_ERR_MALFORMED,
	[M_EMPTY_PAYLOAD] = JWT_ERR_MALFORMED,
	[M_EMPTY_SIG] = JWT_ERR_MALFORMED,
	[M_TRAIL_SPACE] = JWT_ERR_MALFORMED,
	[M_TRAIL_NL] = JWT_ERR_MALFORMED,
	[M_LEAD_SPACE] = JWT_ERR_MALFORMED,
	[M_TRAIL_BANG] = JWT_ERR_MALFORMED,
	[M_TRAIL_DOT] = JWT_ERR_MALFORMED,
	[M_INNER_NUL] = JWT_ERR_MALFORMED,
	[M_TRAIL_NUL] = JWT_ERR_MALFORMED,
	[M_STD_ALPHABET] = JWT_ERR_MALFORMED,
	[M_HDR_LEN1] = JWT_ERR_MALFORMED,
	/* decodes fine, but 35 bytes is not an HMAC-SHA256 */
	[M_TRAIL_B64] = JWT_ERR_SIGNATURE,
	[M_EMPTY] = JWT_ERR_MALFORMED,
	[M_DOTS] = JWT_ERR_MALFORMED,
};

static const char b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

START_TEST(test_mangle)
{
	struct jwt_keys		 k = hs_keys();
	struct jwt_identity	 id;
	char			*tok, *d1, *d2, out[1024];
	size_t			 n, len, v;
	enum jwt_err		 rc;

	tok = mk_token(256, H256, CLAIMS(""), 0);
	ck_assert_int_eq(verify_str(tok, &id), JWT_OK);
	jwt_identity_free(&id);
	n = strlen(tok);
	ck_assert(n + 8 < sizeof(out));
	d1 = strchr(tok, '.');
	d2 = strrchr(tok, '.');
	ck_assert(d1 != NULL && d2 != NULL && d1 != d2);
	ck_assert_uint_eq(strlen(d2 + 1), 43);
	memcpy(out, tok, n + 1);
	len = n;

	switch (_i) {
	case M_TWO_PARTS:
		len = (size_t)(d2 - tok);
		break;
	case M_FOUR_PARTS:
		memcpy(out + n, ".AAAA", 6);
		len = n + 5;
		break;
	case M_PAD:
		out[n] = '=';
		len = n + 1;
		break;
	case M_PAD2:
		/* pad the payload: "...=." */
		len = (size_t)(d2 - tok);
		out[len] = '=';
		memcpy(out + len + 1, d2, strlen(d2) + 1);
		len = n + 1;
		break;
	case M_NONCANON:
		v = (size_t)(strchr(b64u, out[n - 1]) - b64u);
		ck_assert((v & 3) == 0);
		out[n - 1] = b64u[v | 1];
		break;
	case M_EMPTY_HDR:
		memmove(out, d1, strlen(d1) + 1);
		len = strlen(out);
		break;
	case M_EMPTY_PAYLOAD:
		len = (size_t)(d1 - tok) + 1;
		memcpy(out + len, d2, strlen(d2) + 1);
		len = strlen(out);
		break;
	case M_EMPTY_SIG:
		len = (size_t)(d2 - tok) + 1;
		break;
	case M_TRAIL_SPACE:
		out[len++] = ' ';
		break;
	case M_TRAIL_NL:
		out[len++] = '\n';
		break;
	case M_LEAD_SPACE:
		out[0] = ' ';
		memcpy(out + 1, tok, n + 1);
		len = n + 1;
		break;
	case M_TRAIL_BANG:
		out[len++] = '!';
		break;
	case M_TRAIL_DOT:
		out[len++] = '.';
		break;
	case M_INNER_NUL:
		out[(size_t)(d1 - tok) - 1] = '\0';
		break;
	case M_TRAIL_NUL:
		out[len++] = '\0';
		break;
	case M_STD_ALPHABET:
		/* the signature is random: force one std-only character */
		out[n - 2] = '+';
		break;
	case M_HDR_LEN1:
		memcpy(out, "e", 1);
		memcpy(out + 1, d1, strlen(d1) + 1);
		len = strlen(out);
		break;
	case M_TRAIL_B64:
		memcpy(out + n, "AAAA", 5);
		len = n + 4;
		break;
	case M_EMPTY:
		len = 0;
		break;
	case M_DOTS:
		memcpy(out, "..", 3);
		len = 2;
		break;
	default:
		ck_abort_msg("no case %d", _i);
	}
	out[len] = '\0';
	rc = jwt_verify(out, len, &k, &policy, NOW, &id);
	ck_assert_msg(rc == mangle_want[_i], "mangle %d: got %s want %s", _i,
	    jwt_strerror(rc), jwt_strerror(mangle_want[_i]));
	assert_id_zero(&id, "mangle");
	free(tok);
}
END_TEST

/* Unpadded base64url length of n bytes. */
static size_t
b64len(size_t n)
{
	return (4 * n + 2) / 3;
}

/*
 * A correctly signed token of exactly `target` bytes: the claims carry a
 * "pad" string, and spaces in the header fix lengths that base64url
 * cannot hit (never 1 mod 4).  Returns malloc'd.
 */
static char *
token_of_size(size_t target)
{
	static const char	 pre[] =
	    "{" C_EXP "," C_ISS "," C_AUD "," C_TEN ",\"pad\":\"";
	char			 hdr[64], *claims, *tok;
	size_t			 sp, pad, hl, cl;

	for (sp = 0; sp < 4; sp++) {
		snprintf(hdr, sizeof(hdr), "{%*s\"alg\":\"HS256\"}", (int)sp,
		    "");
		hl = strlen(hdr);
		for (pad = 0; pad < target; pad++) {
			cl = sizeof(pre) - 1 + pad + 2;
			if (b64len(hl) + 1 + b64len(cl) + 1 + 43 != target)
				continue;
			claims = malloc(cl + 1);
			ck_assert(claims != NULL);
			memcpy(claims, pre, sizeof(pre) - 1);
			memset(claims + sizeof(pre) - 1, 'x', pad);
			memcpy(claims + sizeof(pre) - 1 + pad, "\"}", 3);
			tok = mk_token(256, hdr, claims, 0);
			free(claims);
			ck_assert_uint_eq(strlen(tok), target);
			return tok;
		}
	}
	ck_abort_msg("no token of %zu bytes", target);
	return NULL;
}

START_TEST(test_size_limit)
{
	struct jwt_identity	 id;
	char			*tok;

	tok = token_of_size(JWT_MAX_TOKEN);
	ck_assert_int_eq(verify_str(tok, &id), JWT_OK);
	ck_assert_str_eq(id.tenant, "acme");
	jwt_identity_free(&id);
	free(tok);

	tok = token_of_size(JWT_MAX_TOKEN + 1);
	ck_assert_int_eq(verify_str(tok, &id), JWT_ERR_TOO_LARGE);
	assert_id_zero(&id, "8193");
	free(tok);
}
END_TEST

/* The size check comes first: 9000 bytes of junk is TOO_LARGE. */
START_TEST(test_size_before_parse)
{
	struct jwt_keys		 k = hs_keys();
	struct jwt_identity	 id;
	char			*junk;

	junk = malloc(9000);
	ck_assert(junk != NULL);
	memset(junk, ' ', 9000);
	ck_assert_int_eq(jwt_verify(junk, 9000, &k, &policy, NOW, &id),
	    JWT_ERR_TOO_LARGE);
	free(junk);
	ck_assert_int_eq(jwt_verify(NULL, 0, &k, &policy, NOW, &id),
	    JWT_ERR_MALFORMED);
}
END_TEST

START_TEST(test_sign)
{
	static const char	 claims[] = CLAIMS(",\"role\":[\"admin\"]");
	struct jwt_identity	 id;
	char			*mine, *theirs;

	theirs = jwt_sign_hs256(secret, SECRET_LEN, claims);
	ck_assert(theirs != NULL);
	/* HMAC is deterministic: the signer must produce exactly this */
	mine = mk_token(256, H256, claims, 0);
	ck_assert_str_eq(theirs, mine);
	ck_assert_int_eq(verify_str(theirs, &id), JWT_OK);
	ck_assert_int_eq(id.is_admin, 1);
	ck_assert_str_eq(id.sub, "alice");
	jwt_identity_free(&id);
	free(mine);
	free(theirs);

	ck_assert(jwt_sign_hs256(secret, SECRET_LEN, "[1]") == NULL);
	ck_assert(jwt_sign_hs256(secret, SECRET_LEN, "{\"a\":") == NULL);
	ck_assert(jwt_sign_hs256(secret, SECRET_LEN,
	    "{\"a\":1,\"a\":2}") == NULL);
	ck_assert(jwt_sign_hs256(NULL, 0, "{}") == NULL);
	ck_assert(jwt_sign_hs256(secret, 0, "{}") == NULL);
	ck_assert(jwt_sign_hs256(secret, SECRET_LEN, NULL) == NULL);
}
END_TEST

START_TEST(test_sign_too_large)
{
	char	*claims, *tok;
	size_t	 n = JWT_MAX_TOKEN;

	claims = malloc(n + 16);
	ck_assert(claims != NULL);
	memcpy(claims, "{\"p\":\"", 6);
	memset(claims + 6, 'x', n);
	memcpy(claims + 6 + n, "\"}", 3);
	tok = jwt_sign_hs256(secret, SECRET_LEN, claims);
	ck_assert(tok == NULL);
	free(claims);
}
END_TEST

/*
 * The verified-token cache: a second use of a token gives the same
 * identity; its times are checked again (expired later, not yet valid
 * earlier); a token with one bit of its MAC flipped, or a token that was
 * rejected, is never served from it; more tokens than slots are all
 * still right; a cleared cache verifies again.
 */
START_TEST(test_verify_cache)
{
	struct jwt_keys		 k = hs_keys();
	struct jwt_identity	 a, b;
	char			*tok, *bad, *many[12], claims[256];
	size_t			 i, round;

	k.cache = jwt_cache_new();
	ck_assert_ptr_nonnull(k.cache);
	tok = mk_token(256, "{\"alg\":\"HS256\"}", CLAIMS(",\"nbf\":1699990000"),
	    0);
	bad = mk_token(256, "{\"alg\":\"HS256\"}", CLAIMS(",\"nbf\":1699990000"),
	    F_FLIP);
	for (round = 0; round < 3; round++) {
		ck_assert_int_eq(jwt_verify(tok, strlen(tok), &k, &policy, NOW,
		    &a), JWT_OK);
		ck_assert_str_eq(a.tenant, "acme");
		ck_assert_ptr_nonnull(a.sub);
		ck_assert_int_eq(a.alg, JWA_HS256);
		ck_assert(a.exp == 1700003600);
		ck_assert_int_eq(jwt_verify(bad, strlen(bad), &k, &policy, NOW,
		    &b), JWT_ERR_SIGNATURE);
		assert_id_zero(&b, "flipped");
		jwt_identity_free(&a);
	}
	/* the clock moves on: the cached token expires like any other */
	ck_assert_int_eq(jwt_verify(tok, strlen(tok), &k, &policy,
	    1700003600 + policy.leeway + 1, &a), JWT_ERR_EXPIRED);
	assert_id_zero(&a, "expired");
	ck_assert_int_eq(jwt_verify(tok, strlen(tok), &k, &policy,
	    1699990000 - policy.leeway - 1, &a), JWT_ERR_NOT_YET_VALID);
	/* more tokens than slots, twice over */
	for (i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
		snprintf(claims, sizeof(claims), CLAIMS(",\"n\":%zu"), i);
		many[i] = mk_token(256, "{\"alg\":\"HS256\"}", claims, 0);
	}
	for (round = 0; round < 2; round++)
		for (i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
			ck_assert_int_eq(jwt_verify(many[i], strlen(many[i]), &k,
			    &policy, NOW, &a), JWT_OK);
			ck_assert_str_eq(a.tenant, "acme");
			jwt_identity_free(&a);
		}
	/* cleared (new keys): a token signed with other keys is refused */
	jwt_cache_clear(k.cache);
	k.hs_secret = (unsigned char *)(uintptr_t)other_secret;
	ck_assert_int_eq(jwt_verify(tok, strlen(tok), &k, &policy, NOW, &a),
	    JWT_ERR_SIGNATURE);
	for (i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		free(many[i]);
	free(tok);
	free(bad);
	jwt_cache_free(k.cache);
}
END_TEST

/* Secret files of various sizes; the content is raw bytes, NULs too. */
struct scase {
	size_t	 len;
	int	 ok;
};

static const struct scase scases[] = {
	{ 0, 0 }, { 31, 0 }, { 32, 1 }, { 33, 1 }, { 4096, 1 }, { 4097, 0 },
	{ 100000, 0 },
};

START_TEST(test_secret_load)
{
	const struct scase	*c = &scases[_i];
	char			 path[256], err[512];
	unsigned char		*data, *got = (unsigned char *)"x";
	const char		*tmp;
	size_t			 i, gotlen = 99;
	int			 fd, rc;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/test_jwt_secret.XXXXXX", tmp);
	fd = mkstemp(path);
	ck_assert(fd != -1);
	data = malloc(c->len + 1);
	ck_assert(data != NULL);
	for (i = 0; i < c->len; i++)
		data[i] = (unsigned char)(i * 7);
	ck_assert(write(fd, data, c->len) == (ssize_t)c->len);
	close(fd);

	err[0] = '\0';
	rc = jwt_secret_load(path, &got, &gotlen, NULL, err, sizeof(err));
	unlink(path);		/* before any assertion can end the test */
	if (c->ok) {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(gotlen, c->len);
		ck_assert(memcmp(got, data, c->len) == 0);
		jwt_secret_free(got);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert(got == NULL);
		ck_assert_uint_eq(gotlen, 0);
		ck_assert_msg(strstr(err, path) != NULL,
		    "message lacks the path: %s", err);
	}
	free(data);
}
END_TEST

/*
 * A secret others may read, or the group may write, is refused like the
 * keyring (issue 12, finding 9); 0600 and 0640 load, into memory that
 * core dumps leave out.
 */
START_TEST(test_secret_load_modes)
{
	static const struct {
		mode_t	 mode;
		int	 ok;
	} modes[] = {
		{ 0600, 1 }, { 0640, 1 }, { 0400, 1 }, { 0644, 0 }, { 0604, 0 },
		{ 0660, 0 }, { 0602, 0 }, { 0666, 0 },
	};
	char		 path[256], err[512];
	unsigned char	 data[40], *got;
	const char	*tmp;
	size_t		 i, gotlen;
	int		 fd;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/test_jwt_mode.XXXXXX", tmp);
	ck_assert((fd = mkstemp(path)) != -1);
	memset(data, 'k', sizeof(data));
	ck_assert(write(fd, data, sizeof(data)) == (ssize_t)sizeof(data));
	close(fd);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ck_assert_int_eq(chmod(path, modes[i].mode), 0);
		err[0] = '\0';
		got = NULL;
		if (!modes[i].ok) {
			ck_assert_msg(jwt_secret_load(path, &got, &gotlen, NULL, err,
			    sizeof(err)) == -1, "mode %04o loaded", modes[i].mode);
			ck_assert_ptr_null(got);
			ck_assert_msg(strstr(err, "is unsafe for a secret") != NULL,
			    "mode %04o: %s", modes[i].mode, err);
			continue;
		}
		ck_assert_msg(jwt_secret_load(path, &got, &gotlen, NULL, err,
		    sizeof(err)) == 0, "mode %04o: %s", modes[i].mode, err);
		ck_assert_uint_eq(gotlen, sizeof(data));
		ck_assert(memcmp(got, data, sizeof(data)) == 0);
		jwt_secret_free(got);
	}
	unlink(path);
}
END_TEST

START_TEST(test_secret_load_missing)
{
	char		 err[512];
	unsigned char	*got;
	size_t		 gotlen;

	ck_assert_int_eq(jwt_secret_load("/nonexistent/credstore/secret",
	    &got, &gotlen, NULL, err, sizeof(err)), -1);
	ck_assert(got == NULL);
	ck_assert(strstr(err, "/nonexistent/credstore/secret") != NULL);
	/* a directory opens but cannot be read */
	ck_assert_int_eq(jwt_secret_load("/", &got, &gotlen, NULL, err,
	    sizeof(err)), -1);
	ck_assert(strncmp(err, "/: ", 3) == 0);
	/* a tiny or absent message buffer is fine */
	ck_assert_int_eq(jwt_secret_load("/nonexistent", &got, &gotlen, NULL, err,
	    4), -1);
	ck_assert_uint_eq(strlen(err), 3);
	ck_assert_int_eq(jwt_secret_load("/nonexistent", &got, &gotlen, NULL, NULL,
	    0), -1);
}
END_TEST

START_TEST(test_strerror)
{
	int	 i, j;

	for (i = 0; i < JWT_ERR__MAX; i++) {
		const char *a = jwt_strerror((enum jwt_err)i);

		ck_assert_msg(a != NULL && *a != '\0', "code %d", i);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(a, jwt_strerror((enum jwt_err)j))
			    != 0, "codes %d and %d share a message", i, j);
	}
	ck_assert(jwt_strerror(JWT_ERR__MAX) != NULL);
	ck_assert(jwt_strerror((enum jwt_err)1000) != NULL);
}
END_TEST

/* ------------------------------------------------ asymmetric tokens */

static char vdir[256];		/* the vectors of jwks_vectors.sh */

/* A file of the vectors, malloc'd, NUL-terminated. */
static char *
vec(const char *name)
{
	char	 path[PATH_MAX];
	FILE	*f;
	char	*s;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", vdir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	ck_assert(s != NULL);
	ck_assert(fread(s, 1, (size_t)n, f) == (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static struct jwks *
vec_jwks(const char *name)
{
	struct jwks	*ks;
	char		 path[PATH_MAX], err[512];

	snprintf(path, sizeof(path), "%s/%s", vdir, name);
	ks = jwks_load(path, NULL, err, sizeof(err));
	ck_assert_msg(ks != NULL, "%s", err);
	return ks;
}

#define K_JWKS		0x01	/* jwks.json */
#define K_HS		0x02	/* the HS secret too */
#define K_ADDED		0x04	/* jwks_added.json instead */
#define K_ROTATED	0x08	/* jwks_rotated.json instead */

struct acase {
	const char	*tok;		/* tok/NAME.jwt */
	int		 keys;
	enum jwt_err	 want;
	enum jwa_alg	 alg;		/* on JWT_OK */
};

#define OK(t, a)	{ t, K_JWKS, JWT_OK, JWA_ ## a }
#define NO(t, e)	{ t, K_JWKS, JWT_ERR_ ## e, JWA__MAX }

/*
 * The vectors against the JWKS of jwks_vectors.sh: rsa1 (any RS/PS),
 * rsa2 (PS256 only), rsa3 (use enc), ec256 (ES256), ec384, ed1 (EdDSA).
 * One case per rejection rule of issue #3, most of them several.
 */
static const struct acase acases[] = {
	/* a valid token per algorithm */
	OK("rs256", RS256), OK("rs384", RS384), OK("rs512", RS512),
	OK("ps256", PS256), OK("ps384", PS384), OK("ps512", PS512),
	OK("ps256_rsa2", PS256), OK("es256", ES256), OK("es384", ES384),
	OK("eddsa", EDDSA), OK("rs256_atjwt", RS256),
	/* the script's r || s conversion, checked on its own */
	OK("es256_recheck", ES256),
	/* no kid: exactly one key fits the algorithm */
	OK("rs256_nokid", RS256), OK("es256_nokid", ES256),
	OK("eddsa_nokid", EDDSA),
	/* no kid, two keys fit (rsa1, rsa2): refused */
	NO("ps256_nokid", KEY),
	/* a key with alg verifies that algorithm only */
	NO("rs256_kid_rsa2", KEY),
	/* a key with use enc never verifies */
	NO("rs256_kid_enc", KEY),
	/* unknown kid */
	NO("rs256_kid_unknown", KEY),
	NO("rs256_new", KEY),
	/* the kid of one kind of key, the algorithm of another */
	NO("es256_kid_ec384", KEY), NO("es384_kid_ec256", KEY),
	NO("eddsa_kid_rsa1", KEY),
	/* signed by another key, or another way */
	NO("rs256_wrong_key", SIGNATURE), NO("rs256_as_ps256", SIGNATURE),
	NO("rs384_as_rs256", SIGNATURE),
	/* PS*: the salt must be as long as the hash */
	NO("ps256_saltmax", SIGNATURE), NO("ps256_salt0", SIGNATURE),

	/* alg none in any casing */
	NO("none_empty", MALFORMED),
	NO("alg_none", ALG), NO("alg_None", ALG), NO("alg_NONE", ALG),
	NO("alg_nOnE", ALG),
	/* algorithms not on the allow-list */
	NO("alg_es512", ALG), NO("alg_es256k", ALG),
	NO("alg_rs256_lower", ALG),
	/* HMAC keyed with public key bytes: no HS secret, no key */
	NO("hs256_pem", KEY), NO("hs256_jwks", KEY), NO("hs256_n", KEY),
	NO("hs512_ed", KEY),
	/* ... and with an HS secret configured, only that secret counts */
	{ "hs256_pem", K_JWKS | K_HS, JWT_ERR_SIGNATURE, JWA__MAX },
	{ "hs256_jwks", K_JWKS | K_HS, JWT_ERR_SIGNATURE, JWA__MAX },
	{ "hs256_n", K_JWKS | K_HS, JWT_ERR_SIGNATURE, JWA__MAX },
	{ "hs512_ed", K_JWKS | K_HS, JWT_ERR_SIGNATURE, JWA__MAX },
	/* header parameters that would pick the key or the rules */
	NO("crit", HEADER), NO("jku", HEADER), NO("x5u", HEADER),
	NO("x5c", HEADER), NO("jwk", HEADER), NO("jwk_kid", HEADER),
	/* typ other than JWT or at+jwt */
	NO("typ_jose", HEADER), NO("typ_jws", HEADER), NO("typ_dpop", HEADER),
	/* non-canonical base64url */
	NO("noncanon_sig", MALFORMED), NO("padded_sig", MALFORMED),
	NO("padded_hdr", MALFORMED),
	/* trailing data */
	NO("trail_dot", MALFORMED), NO("trail_part", MALFORMED),
	NO("trail_space", MALFORMED), NO("trail_hdr_json", MALFORMED),
	NO("trail_claims_json", MALFORMED),
	/* a signature of the wrong size */
	NO("rs256_sig_zero_prefix", SIGNATURE),
	NO("rs256_sig_short", SIGNATURE), NO("es256_der", SIGNATURE),
	NO("es256_sig_63", SIGNATURE), NO("es256_sig_65", SIGNATURE),
	NO("eddsa_sig_63", SIGNATURE),
	/* ECDSA r or s zero or out of range */
	NO("es256_rs_zero", SIGNATURE), NO("es256_r_zero", SIGNATURE),
	NO("es256_s_zero", SIGNATURE), NO("es256_r_order", SIGNATURE),
	NO("es256_s_order", SIGNATURE), NO("es256_r_max", SIGNATURE),
	NO("es256_s_max", SIGNATURE), NO("es384_r_order", SIGNATURE),
	/* duplicate keys in header or claims */
	NO("dup_hdr_alg", MALFORMED), NO("dup_hdr_kid", MALFORMED),
	NO("dup_claim_exp", MALFORMED), NO("dup_claim_tenant", MALFORMED),
	/* exp not a number */
	NO("exp_string", CLAIMS), NO("exp_null", CLAIMS),
	NO("exp_bool", CLAIMS),
	/* the claims layer applies as for HS tokens */
	NO("rs256_expired", EXPIRED), NO("es256_wrong_iss", ISSUER),

	/* key rotation: a key added, a key removed */
	{ "rs256_new", K_ADDED, JWT_OK, JWA_RS256 },
	{ "rs256", K_ADDED, JWT_OK, JWA_RS256 },
	{ "rs256_new", K_ROTATED, JWT_OK, JWA_RS256 },
	{ "rs256", K_ROTATED, JWT_ERR_KEY, JWA__MAX },
	/* without kid the one RS256 key is now rsa-new: not the signer */
	{ "rs256_nokid", K_ROTATED, JWT_ERR_SIGNATURE, JWA__MAX },
	/* no JWKS at all */
	{ "rs256", K_HS, JWT_ERR_KEY, JWA__MAX },
	{ "eddsa", 0, JWT_ERR_KEY, JWA__MAX },
};

START_TEST(test_asym_table)
{
	const struct acase	*c = &acases[_i];
	struct jwt_keys		 k;
	struct jwt_identity	 id;
	char			 name[128], *tok;
	enum jwt_err		 rc;

	memset(&k, 0, sizeof(k));
	if (c->keys & K_HS) {
		k.hs_secret = (unsigned char *)(uintptr_t)secret;
		k.hs_len = SECRET_LEN;
	}
	if (c->keys & K_ADDED)
		k.jwks = vec_jwks("jwks_added.json");
	else if (c->keys & K_ROTATED)
		k.jwks = vec_jwks("jwks_rotated.json");
	else if (c->keys & K_JWKS)
		k.jwks = vec_jwks("jwks.json");
	snprintf(name, sizeof(name), "tok/%s.jwt", c->tok);
	tok = vec(name);
	rc = jwt_verify(tok, strlen(tok), &k, &policy, NOW, &id);
	ck_assert_msg(rc == c->want, "%s: got %d (%s), want %d (%s)", c->tok,
	    rc, jwt_strerror(rc), c->want, jwt_strerror(c->want));
	if (rc == JWT_OK) {
		ck_assert_msg(id.alg == c->alg, "%s: alg %s", c->tok,
		    jwa_name(id.alg));
		ck_assert_str_eq(id.tenant, "acme");
		ck_assert_str_eq(id.sub, "alice");
		ck_assert_int_eq(id.is_admin, 1);
		ck_assert(id.exp == (time_t)1700003600);
	} else
		assert_id_zero(&id, c->tok);
	jwt_identity_free(&id);
	jwks_free(k.jwks);
	free(tok);
}
END_TEST

/* Both kinds of keys at once: each token finds only its own kind. */
START_TEST(test_asym_mixed)
{
	struct jwt_keys		 k;
	struct jwt_identity	 id;
	char			*tok;

	memset(&k, 0, sizeof(k));
	k.hs_secret = (unsigned char *)(uintptr_t)secret;
	k.hs_len = SECRET_LEN;
	k.jwks = vec_jwks("jwks.json");
	tok = mk_token(256, H256, CLAIMS(""), 0);
	ck_assert_int_eq(jwt_verify(tok, strlen(tok), &k, &policy, NOW, &id),
	    JWT_OK);
	ck_assert_int_eq(id.alg, JWA_HS256);
	jwt_identity_free(&id);
	free(tok);
	/* an RS256 header over an HMAC made with the HS secret */
	tok = mk_token(256, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", CLAIMS(""),
	    0);
	ck_assert_int_eq(jwt_verify(tok, strlen(tok), &k, &policy, NOW, &id),
	    JWT_ERR_SIGNATURE);
	free(tok);
	tok = mk_token(256, "{\"alg\":\"RS256\"}", CLAIMS(""), 0);
	ck_assert_int_eq(jwt_verify(tok, strlen(tok), &k, &policy, NOW, &id),
	    JWT_ERR_SIGNATURE);
	free(tok);
	tok = vec("tok/es256_viewer.jwt");
	ck_assert_int_eq(jwt_verify(tok, strlen(tok), &k, &policy, NOW, &id),
	    JWT_OK);
	ck_assert_str_eq(id.sub, "bob");
	ck_assert_int_eq(id.is_admin, 0);
	ck_assert_int_eq(id.alg, JWA_ES256);
	jwt_identity_free(&id);
	free(tok);
	jwks_free(k.jwks);
}
END_TEST

/* The signature layer alone accepts what jwt_verify refuses for claims. */
START_TEST(test_signature_layer)
{
	struct jwt_keys	 k;
	enum jwa_alg	 alg = JWA__MAX;
	char		*tok;

	memset(&k, 0, sizeof(k));
	k.jwks = vec_jwks("jwks.json");
	tok = vec("tok/rs256_expired.jwt");
	ck_assert_int_eq(jwt_verify_signature(tok, strlen(tok), &k, &alg),
	    JWT_OK);
	ck_assert_int_eq(alg, JWA_RS256);
	free(tok);
	tok = vec("tok/exp_string.jwt");
	ck_assert_int_eq(jwt_verify_signature(tok, strlen(tok), &k, &alg),
	    JWT_OK);
	free(tok);
	/* but not what the signature layer itself refuses */
	tok = vec("tok/crit.jwt");
	ck_assert_int_eq(jwt_verify_signature(tok, strlen(tok), &k, &alg),
	    JWT_ERR_HEADER);
	free(tok);
	tok = vec("tok/es256_r_zero.jwt");
	ck_assert_int_eq(jwt_verify_signature(tok, strlen(tok), &k, &alg),
	    JWT_ERR_SIGNATURE);
	free(tok);
	ck_assert_int_eq(jwt_verify_signature(NULL, 0, &k, &alg),
	    JWT_ERR_MALFORMED);
	jwks_free(k.jwks);
}
END_TEST

START_TEST(test_alg_names)
{
	enum jwa_alg	 a;
	int		 i;

	for (i = 0; i < JWA__MAX; i++) {
		const char *n = jwa_name((enum jwa_alg)i);

		ck_assert_int_eq(jwa_parse(n, strlen(n), &a), 0);
		ck_assert_int_eq(a, i);
	}
	ck_assert_str_eq(jwa_name(JWA_EDDSA), "EdDSA");
	ck_assert_str_eq(jwa_name(JWA__MAX), "?");
	ck_assert_int_eq(jwa_parse("none", 4, &a), -1);
	ck_assert_int_eq(jwa_parse("eddsa", 5, &a), -1);
	ck_assert_int_eq(jwa_parse("RS256", 4, &a), -1);
	ck_assert_int_eq(jwa_parse("RS256\0", 6, &a), -1);
}
END_TEST

static Suite *
jwt_suite(void)
{
	Suite	*s = suite_create("jwt");
	TCase	*tc;

	tc = tcase_create("verify");
	tcase_add_loop_test(tc, test_verify_table, 0,
	    (int)(sizeof(vcases) / sizeof(vcases[0])));
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_proxy_role);
	tcase_add_test(tc, test_id_zeroed_on_error);
	tcase_add_loop_test(tc, test_lengths, 0,
	    (int)(sizeof(lcases) / sizeof(lcases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("structure");
	tcase_add_loop_test(tc, test_mangle, 0, M__MAX);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_size_before_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign");
	tcase_add_test(tc, test_sign);
	tcase_add_test(tc, test_sign_too_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("secret");
	tcase_add_loop_test(tc, test_secret_load, 0,
	    (int)(sizeof(scases) / sizeof(scases[0])));
	tcase_add_test(tc, test_secret_load_missing);
	tcase_add_test(tc, test_secret_load_modes);
	suite_add_tcase(s, tc);

	tc = tcase_create("asymmetric");
	tcase_add_loop_test(tc, test_asym_table, 0,
	    (int)(sizeof(acases) / sizeof(acases[0])));
	tcase_add_test(tc, test_asym_mixed);
	tcase_add_test(tc, test_signature_layer);
	tcase_add_test(tc, test_alg_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("strerror");
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_verify_cache);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * Runs jwks_vectors.sh once, before the tests fork: the openssl command
 * makes every asymmetric key and token the tests read.
 */
static int
make_vectors(void)
{
	const char	*top = getenv("top_srcdir"), *t = getenv("TMPDIR");
	char		 script[PATH_MAX], cmd[3 * PATH_MAX];

	if (top == NULL || *top == '\0')
		top = "../..";	/* run by hand from the build tree */
	snprintf(script, sizeof(script), "%s/tests/unit/jwks_vectors.sh", top);
	if (access(script, R_OK) != 0) {
		fprintf(stderr, "%s: %s (set top_srcdir)\n", script,
		    strerror(errno));
		return -1;
	}
	snprintf(vdir, sizeof(vdir), "%s/test_jwt_vec.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(vdir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", script, vdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed\n", cmd);
		return -1;
	}
	return 0;
}

int
main(void)
{
	char	 cmd[PATH_MAX + 16];
	int	 failed;

	if (make_vectors() == -1)
		return 1;
	failed = ck_run(jwt_suite());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vdir);
	(void)system(cmd);
	return failed != 0 ? 1 : 0;
}
