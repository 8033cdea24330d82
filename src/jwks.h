/*
 * jwks: the JSON Web Key Set (RFC 7517) of jwt_jwks_file, parsed into
 * GnuTLS public keys, and the signature check of asymmetric JWS tokens
 * (RFC 7518 section 3, RFC 8037) with them.  GnuTLS does every
 * signature operation.  Knows nothing about HTTP.
 */
#ifndef CS_JWKS_H
#define CS_JWKS_H

#include <stddef.h>

#include "filestamp.h"
#include "jwa.h"

#define JWKS_MAX_FILE		(1024 * 1024)	/* bytes of the file */
#define JWKS_MAX_KEYS		64		/* entries of "keys" */
#define JWKS_RSA_MIN_BITS	2048
#define JWKS_RSA_MAX_BITS	8192
#define JWKS_KID_MAX		256		/* bytes, as JWT_KID_MAX */

struct jwks;

/* What a signature check says; jwt maps it to its own errors. */
enum jwks_err {
	JWKS_OK = 0,
	JWKS_ERR_KEY,		/* no key, or more than one, fits */
	JWKS_ERR_SIGNATURE,	/* wrong size, out of range, does not verify */
	JWKS_ERR_NOMEM,
	JWKS_ERR__MAX
};

/*
 * Parses a JWKS from json[0..n).  Keys that can never verify a token here
 * (use other than "sig", key_ops without "verify", an unknown kty, curve
 * or alg) are skipped and logged; a malformed key is an error naming its
 * index ("keys[2] (kid \"k1\"): ...").  A set without one usable key is
 * an error too.  Returns a new set (free with jwks_free) or NULL with a
 * message in err.
 */
struct jwks	*jwks_parse(const char *json, size_t n, char *err,
		    size_t errlen);

/*
 * Reads and parses the file at path (a regular file of at most
 * JWKS_MAX_FILE bytes).  When stamp is not NULL it receives the identity
 * of the file that was read, also on a parse error (zeroed when the file
 * could not be opened).  Messages start with the path.
 */
struct jwks	*jwks_load(const char *path, struct filestamp *stamp,
		    char *err, size_t errlen);

/* The number of usable keys. */
size_t		 jwks_nkeys(const struct jwks *);
void		 jwks_free(struct jwks *);

/*
 * Checks sig[0..siglen) over input[0..ilen) for the asymmetric algorithm
 * alg.  The key is the one whose kid equals kid; without a kid, the one
 * key that fits alg.  Returns JWKS_OK; JWKS_ERR_KEY when no key or more
 * than one fits (HS* algorithms never fit a JWKS key); JWKS_ERR_SIGNATURE
 * for a signature of the wrong size, an ECDSA r or s outside 1..n-1, or
 * one that does not verify; JWKS_ERR_NOMEM.
 */
enum jwks_err	 jwks_verify(const struct jwks *, enum jwa_alg alg,
		    const char *kid, const void *input, size_t ilen,
		    const unsigned char *sig, size_t siglen);

#endif
