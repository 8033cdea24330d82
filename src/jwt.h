/*
 * jwt: verification of JWS compact tokens (RFC 7515/7519) as SPEC section 3
 * says, and minting of HS256 tokens for credstore-admin.  The algorithms
 * are jwa's table; HS* MACs are checked here, every other signature by
 * jwks, which knows nothing of tokens.  GnuTLS does every MAC and
 * signature operation.  Knows nothing about HTTP.
 */
#ifndef CS_JWT_H
#define CS_JWT_H

#include <stddef.h>
#include <time.h>

#include "jwa.h"

#define JWT_MAX_TOKEN	8192	/* bytes; longer tokens are rejected */

enum jwt_err {
	JWT_OK = 0,
	JWT_ERR_TOO_LARGE,	/* over JWT_MAX_TOKEN */
	JWT_ERR_MALFORMED,	/* not three strict base64url parts, bad JSON */
	JWT_ERR_ALG,		/* none, unknown or not allowed algorithm */
	JWT_ERR_HEADER,		/* crit, jku, x5u, x5c, jwk, bad typ, bad kid */
	JWT_ERR_KEY,		/* no key configured for the algorithm / kid */
	JWT_ERR_SIGNATURE,	/* signature does not verify */
	JWT_ERR_EXPIRED,	/* exp in the past (or missing: see CLAIMS) */
	JWT_ERR_NOT_YET_VALID,	/* nbf or iat in the future */
	JWT_ERR_ISSUER,
	JWT_ERR_AUDIENCE,
	JWT_ERR_CLAIMS,		/* exp missing or not numeric, bad types */
	JWT_ERR_TENANT,		/* tenant claim missing or not a string */
	JWT_ERR_NOMEM,
	JWT_ERR__MAX
};

struct jwt_cache;

/* Key material, loaded once per process. */
struct jwt_keys {
	unsigned char	*hs_secret;	/* NULL when HS* is not configured */
	size_t		 hs_len;
	struct jwks	*jwks;		/* jwks.h; NULL when none */
	struct jwt_cache *cache;	/* NULL: verify every time */
};

/*
 * A cache of tokens this process verified, by SHA-256 of the token: the
 * identity and the times (exp, nbf, iat), which are checked again against
 * the clock at every use.  A token is taken from it only when it is the
 * same bytes, verified under the same keys and policy: whoever changes
 * either (a new JWKS, a reloaded configuration) clears it.  Only accepted
 * tokens are kept.
 */
struct jwt_cache *jwt_cache_new(void);
void		 jwt_cache_clear(struct jwt_cache *);
void		 jwt_cache_free(struct jwt_cache *);

/* What is checked besides the signature. */
struct jwt_policy {
	const char	*issuer;	/* NULL: not checked */
	const char	*audience;	/* NULL: not checked */
	long		 leeway;	/* seconds */
	const char	*role_claim;
	const char	*admin_role;
	const char	*proxy_role;	/* NULL: none (SPEC section 10) */
	const char	*tenant_claim;
};

/* The verified identity; strings are malloc'd, see jwt_identity_free. */
struct jwt_identity {
	char		*sub;		/* NULL when the token has none */
	char		*tenant;
	int		 is_admin;
	int		 is_proxy;	/* holds the proxy role */
	time_t		 exp;
	enum jwa_alg	 alg;
};

const char	*jwt_strerror(enum jwt_err);

/*
 * Verifies token[0..len) at time `now` against keys and policy.  On JWT_OK
 * fills *id (caller frees with jwt_identity_free); otherwise *id is zeroed.
 */
enum jwt_err	 jwt_verify(const char *token, size_t len,
		    const struct jwt_keys *keys, const struct jwt_policy *pol,
		    time_t now, struct jwt_identity *id);
void		 jwt_identity_free(struct jwt_identity *id);

/*
 * The signature layer of jwt_verify alone: size, strict compact form,
 * header rules, key choice and signature.  The payload is decoded but
 * neither parsed nor checked (it need not even be JSON), so no claim,
 * not even exp, is looked at: never use it to accept a request.  Exists
 * for published test vectors whose tokens expired long ago.  On JWT_OK
 * *alg is the token's algorithm.
 */
enum jwt_err	 jwt_verify_signature(const char *token, size_t len,
		    const struct jwt_keys *keys, enum jwa_alg *alg);

/*
 * Signs claims_json (a JSON object text) as an HS256 JWT with header
 * {"alg":"HS256","typ":"JWT"}.  Returns malloc'd token or NULL.
 */
char		*jwt_sign_hs256(const unsigned char *secret, size_t slen,
		    const char *claims_json);

/*
 * Reads the HMAC secret file (raw bytes, at least 32, at most 4096),
 * refusing one that others may read or the group may write.  Returns 0
 * and the secret in memory core dumps leave out (jwt_secret_free), its
 * file's stamp in *st when st is not NULL; or -1 with a message in err.
 */
struct filestamp;
int		 jwt_secret_load(const char *path, unsigned char **out,
		    size_t *outlen, struct filestamp *st, char *err,
		    size_t errlen);
/* Wipes and frees what jwt_secret_load returned; NULL is fine. */
void		 jwt_secret_free(unsigned char *secret);

#endif
