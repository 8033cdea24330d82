#include "cs_build.h"

#include <string.h>

#include "jwa.h"

#define NO_MAC		GNUTLS_MAC_UNKNOWN
#define NO_SIGN		GNUTLS_SIGN_UNKNOWN
#define NO_CURVE	GNUTLS_ECC_CURVE_INVALID

#define HS(n, bits, len) { n, JWA_FAM_HMAC, GNUTLS_DIG_SHA ## bits, \
	GNUTLS_MAC_SHA ## bits, NO_SIGN, NO_CURVE, len }
#define RS(n, bits) { n, JWA_FAM_RSA_PKCS1, GNUTLS_DIG_SHA ## bits, \
	NO_MAC, GNUTLS_SIGN_RSA_SHA ## bits, NO_CURVE, 0 }
#define PS(n, bits) { n, JWA_FAM_RSA_PSS, GNUTLS_DIG_SHA ## bits, \
	NO_MAC, GNUTLS_SIGN_RSA_PSS_RSAE_SHA ## bits, NO_CURVE, 0 }
#define ES(n, bits, curve, len) { n, JWA_FAM_ECDSA, GNUTLS_DIG_SHA ## bits, \
	NO_MAC, GNUTLS_SIGN_ECDSA_SHA ## bits, curve, len }

static const struct jwa_info algs[] = {
	[JWA_HS256] = HS("HS256", 256, 32),
	[JWA_HS384] = HS("HS384", 384, 48),
	[JWA_HS512] = HS("HS512", 512, 64),
	[JWA_RS256] = RS("RS256", 256),
	[JWA_RS384] = RS("RS384", 384),
	[JWA_RS512] = RS("RS512", 512),
	[JWA_PS256] = PS("PS256", 256),
	[JWA_PS384] = PS("PS384", 384),
	[JWA_PS512] = PS("PS512", 512),
	[JWA_ES256] = ES("ES256", 256, GNUTLS_ECC_CURVE_SECP256R1, 64),
	[JWA_ES384] = ES("ES384", 384, GNUTLS_ECC_CURVE_SECP384R1, 96),
	[JWA_EDDSA] = { "EdDSA", JWA_FAM_EDDSA, GNUTLS_DIG_SHA512, NO_MAC,
	    GNUTLS_SIGN_EDDSA_ED25519, GNUTLS_ECC_CURVE_ED25519, 64 },
};
_Static_assert(sizeof(algs) / sizeof(algs[0]) == JWA__MAX,
    "one algs[] row per enum jwa_alg");

const struct jwa_info *
jwa_get(enum jwa_alg a)
{
	if ((unsigned)a >= JWA__MAX)
		return NULL;
	return &algs[a];
}

const char *
jwa_name(enum jwa_alg a)
{
	if ((unsigned)a >= JWA__MAX)
		return "?";
	return algs[a].name;
}

int
jwa_parse(const char *s, size_t n, enum jwa_alg *out)
{
	size_t i;

	for (i = 0; i < JWA__MAX; i++)
		if (strlen(algs[i].name) == n &&
		    memcmp(s, algs[i].name, n) == 0) {
			*out = (enum jwa_alg)i;
			return 0;
		}
	return -1;
}
