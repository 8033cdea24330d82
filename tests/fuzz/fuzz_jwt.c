#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "jwt.h"
#include "util.h"

/*
 * libFuzzer harness for jwt_verify.  The first byte picks the mode:
 *
 *   bits 0-1  0: the rest is a compact token, verified as it is (reaches
 *                the splitter, base64url and the JOSE header checks);
 *             1, 2, 3: the rest is JSON that the harness signs with the
 *                fixed secret as HS256, HS384 or HS512, so the claims
 *                layer is reached.  A NUL byte splits it into header and
 *                claims; without one the header is {"alg":"HSxxx",
 *                "typ":"JWT"} and the whole rest is the claims.
 *   bit 2     verify with the open policy (no iss/aud checks) instead of
 *             the strict one;
 *   bit 3     verify with no HS secret configured: nothing may pass.
 *
 * Tokens are built here with gnutls_hmac_fast and b64url_encode, not with
 * jwt_sign_hs256, so that jwt_sign_hs256 can be checked against them: for
 * HS256 without a NUL both must produce the same token.
 */

#define NOW	((time_t)1700000000)

static const unsigned char secret[] =
    "credstore-fuzz-secret-0123456789-abcdefgh";
#define SECRET_LEN	(sizeof(secret) - 1)

static const struct jwt_policy strict_policy = {
	.issuer = "https://issuer.test",
	.audience = "credstore",
	.leeway = 60,
	.role_claim = "role",
	.admin_role = "admin",
	.tenant_claim = "org_id",
};

static const struct jwt_policy open_policy = {
	.issuer = NULL,
	.audience = NULL,
	.leeway = 0,
	.role_claim = "roles",
	.admin_role = NULL,
	.tenant_claim = "tenant",
};

static const struct {
	const char		*hdr;
	gnutls_mac_algorithm_t	 mac;
} hs[4] = {
	{ NULL, GNUTLS_MAC_UNKNOWN },
	{ "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", GNUTLS_MAC_SHA256 },
	{ "{\"alg\":\"HS384\",\"typ\":\"JWT\"}", GNUTLS_MAC_SHA384 },
	{ "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GNUTLS_MAC_SHA512 },
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * base64url(hdr) "." base64url(claims) "." base64url(MAC), malloc'd, or
 * NULL when out of memory.
 */
static char *
sign(gnutls_mac_algorithm_t m, const void *hdr, size_t hlen,
    const void *claims, size_t clen, size_t *toklen)
{
	unsigned char	 mac[64];
	char		*h64 = NULL, *p64 = NULL, *s64 = NULL, *tok = NULL;
	size_t		 n, hl, pl, sl;

	if ((h64 = b64url_encode(hdr, hlen)) == NULL ||
	    (p64 = b64url_encode(claims, clen)) == NULL)
		goto out;
	hl = strlen(h64);
	pl = strlen(p64);
	if ((tok = malloc(hl + pl + 2 + 128)) == NULL)
		goto out;
	memcpy(tok, h64, hl);
	tok[hl] = '.';
	memcpy(tok + hl + 1, p64, pl);
	n = hl + 1 + pl;
	if (gnutls_hmac_fast(m, secret, SECRET_LEN, tok, n, mac) < 0 ||
	    (s64 = b64url_encode(mac, gnutls_hmac_get_len(m))) == NULL) {
		free(tok);
		tok = NULL;
		goto out;
	}
	sl = strlen(s64);
	tok[n] = '.';
	memcpy(tok + n + 1, s64, sl + 1);
	*toklen = n + 1 + sl;
out:
	free(h64);
	free(p64);
	free(s64);
	return tok;
}

/* What jwt.h promises about an accepted token. */
static void
check_identity(const struct jwt_identity *id, const struct jwt_policy *pol)
{
	if (id->tenant == NULL || id->tenant[0] == '\0' ||
	    strlen(id->tenant) > 128 ||
	    !is_clean_utf8(id->tenant, strlen(id->tenant)))
		abort();
	if (id->sub != NULL && (strlen(id->sub) > 256 ||
	    !is_clean_utf8(id->sub, strlen(id->sub))))
		abort();
	if (id->exp < NOW - pol->leeway)
		abort();
	if (pol->admin_role == NULL && id->is_admin)
		abort();
	if ((unsigned)id->alg >= JWA__MAX)
		abort();
}

/*
 * Verifies a copy of tok[0..len) in a buffer of exactly len bytes, without
 * a NUL, so that ASan sees any read past the end of the token.
 */
static void
verify(const char *tok, size_t len, const struct jwt_policy *pol,
    int nosecret)
{
	struct jwt_keys		 keys;
	struct jwt_identity	 id;
	enum jwt_err		 rc;
	char			*copy;

	if ((copy = malloc(len ? len : 1)) == NULL)
		return;
	memcpy(copy, tok, len);
	memset(&keys, 0, sizeof(keys));
	if (!nosecret) {
		keys.hs_secret = (unsigned char *)(uintptr_t)secret;
		keys.hs_len = SECRET_LEN;
	}
	rc = jwt_verify(copy, len, &keys, pol, NOW, &id);
	free(copy);
	if ((unsigned)rc >= JWT_ERR__MAX || jwt_strerror(rc) == NULL ||
	    (nosecret && rc == JWT_OK))
		abort();
	if (rc == JWT_OK)
		check_identity(&id, pol);
	else if (id.sub != NULL || id.tenant != NULL || id.is_admin ||
	    id.exp != 0)
		abort();	/* a rejected token leaves *id zeroed */
	jwt_identity_free(&id);
}

/* jwt_sign_hs256 must build exactly the token the harness built. */
static void
check_signer(const char *claims, const char *tok, size_t toklen)
{
	char *lib;

	lib = jwt_sign_hs256(secret, SECRET_LEN, claims);
	if (lib != NULL && (strlen(lib) != toklen ||
	    memcmp(lib, tok, toklen) != 0))
		abort();
	secure_free_str(lib);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct jwt_policy	*pol;
	const uint8_t		*rest, *nul;
	char			*tok, *claims;
	size_t			 rlen, toklen = 0;
	unsigned		 mode;
	int			 nosecret;

	if (size < 1)
		return 0;
	mode = data[0] & 3;
	pol = (data[0] & 4) ? &open_policy : &strict_policy;
	nosecret = (data[0] & 8) != 0;
	rest = data + 1;
	rlen = size - 1;

	if (mode == 0) {
		verify((const char *)rest, rlen, pol, nosecret);
		return 0;
	}

	if ((nul = memchr(rest, '\0', rlen)) != NULL) {
		tok = sign(hs[mode].mac, rest, (size_t)(nul - rest), nul + 1,
		    rlen - (size_t)(nul - rest) - 1, &toklen);
		if (tok != NULL)
			verify(tok, toklen, pol, nosecret);
		free(tok);
		return 0;
	}

	tok = sign(hs[mode].mac, hs[mode].hdr, strlen(hs[mode].hdr), rest,
	    rlen, &toklen);
	if (tok == NULL)
		return 0;
	verify(tok, toklen, pol, nosecret);
	if (mode == 1 && (claims = malloc(rlen + 1)) != NULL) {
		memcpy(claims, rest, rlen);
		claims[rlen] = '\0';
		check_signer(claims, tok, toklen);
		free(claims);
	}
	free(tok);
	return 0;
}
