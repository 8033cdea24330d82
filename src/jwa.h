/*
 * jwa: the JSON Web Algorithms (RFC 7518 section 3, RFC 8037) credstore
 * accepts for JWS, one table row per algorithm: its "alg" name, its
 * family and the GnuTLS ids that compute it.  jwt (HMAC) and jwks
 * (signatures) both read it; it owns nothing and calls no crypto.
 * "none" is not in the table and never will be.
 */
#ifndef CS_JWA_H
#define CS_JWA_H

#include <stddef.h>

#include <gnutls/gnutls.h>

enum jwa_alg {
	JWA_HS256 = 0,
	JWA_HS384,
	JWA_HS512,
	JWA_RS256,
	JWA_RS384,
	JWA_RS512,
	JWA_PS256,
	JWA_PS384,
	JWA_PS512,
	JWA_ES256,
	JWA_ES384,
	JWA_EDDSA,
	JWA__MAX
};

enum jwa_family {
	JWA_FAM_HMAC = 0,	/* HS*: the HMAC secret, never a JWKS key */
	JWA_FAM_RSA_PKCS1,	/* RS*: RSASSA-PKCS1-v1_5 */
	JWA_FAM_RSA_PSS,	/* PS*: RSASSA-PSS, salt length = hash length */
	JWA_FAM_ECDSA,		/* ES*: signature is raw r || s, not DER */
	JWA_FAM_EDDSA,		/* EdDSA: Ed25519 only */
	JWA_FAM__MAX
};

/*
 * One algorithm.  Ids a family does not use are GNUTLS_MAC_UNKNOWN,
 * GNUTLS_SIGN_UNKNOWN or GNUTLS_ECC_CURVE_INVALID.  siglen is the one
 * length every signature of the algorithm has, in bytes (an ECDSA r || s
 * is two coordinates of siglen / 2), or 0 when the key decides (RSA).
 * Ed25519 hashes with SHA-512 internally; its row says so for
 * completeness.
 */
struct jwa_info {
	const char			*name;	/* JWS "alg", case-sensitive */
	enum jwa_family			 family;
	gnutls_digest_algorithm_t	 digest;
	gnutls_mac_algorithm_t		 mac;	/* HMAC only */
	gnutls_sign_algorithm_t		 sign;	/* all but HMAC */
	gnutls_ecc_curve_t		 curve;	/* ECDSA and EdDSA */
	size_t				 siglen;
};

/* The row of a, or NULL when a is out of range. */
const struct jwa_info *jwa_get(enum jwa_alg a);

/* The JWS "alg" name of a (e.g. "RS256"), or "?" when out of range. */
const char	*jwa_name(enum jwa_alg a);

/*
 * The algorithm whose name is exactly s[0..n) (case-sensitive, as RFC
 * 7515 4.1.1 says): 0 and *out, or -1 when credstore does not allow it.
 */
int		 jwa_parse(const char *s, size_t n, enum jwa_alg *out);

#endif
