#include "cs_build.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "jwa.h"
#include "ck_run.h"

/*
 * The algorithm table: every name round-trips and means what RFC 7518
 * says, the GnuTLS ids of a row agree with each other, and nothing off
 * the table ("none", another spelling, a prefix) is ever accepted.
 */

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What each algorithm must be, written out independently of jwa.c. */
static const struct {
	const char		*name;
	enum jwa_alg		 alg;
	enum jwa_family		 family;
	gnutls_digest_algorithm_t digest;
	gnutls_ecc_curve_t	 curve;
	size_t			 siglen;
} want[] = {
	{ "HS256", JWA_HS256, JWA_FAM_HMAC, GNUTLS_DIG_SHA256,
	    GNUTLS_ECC_CURVE_INVALID, 32 },
	{ "HS384", JWA_HS384, JWA_FAM_HMAC, GNUTLS_DIG_SHA384,
	    GNUTLS_ECC_CURVE_INVALID, 48 },
	{ "HS512", JWA_HS512, JWA_FAM_HMAC, GNUTLS_DIG_SHA512,
	    GNUTLS_ECC_CURVE_INVALID, 64 },
	{ "RS256", JWA_RS256, JWA_FAM_RSA_PKCS1, GNUTLS_DIG_SHA256,
	    GNUTLS_ECC_CURVE_INVALID, 0 },
	{ "RS384", JWA_RS384, JWA_FAM_RSA_PKCS1, GNUTLS_DIG_SHA384,
	    GNUTLS_ECC_CURVE_INVALID, 0 },
	{ "RS512", JWA_RS512, JWA_FAM_RSA_PKCS1, GNUTLS_DIG_SHA512,
	    GNUTLS_ECC_CURVE_INVALID, 0 },
	{ "PS256", JWA_PS256, JWA_FAM_RSA_PSS, GNUTLS_DIG_SHA256,
	    GNUTLS_ECC_CURVE_INVALID, 0 },
	{ "PS384", JWA_PS384, JWA_FAM_RSA_PSS, GNUTLS_DIG_SHA384,
	    GNUTLS_ECC_CURVE_INVALID, 0 },
	{ "PS512", JWA_PS512, JWA_FAM_RSA_PSS, GNUTLS_DIG_SHA512,
	    GNUTLS_ECC_CURVE_INVALID, 0 },
	{ "ES256", JWA_ES256, JWA_FAM_ECDSA, GNUTLS_DIG_SHA256,
	    GNUTLS_ECC_CURVE_SECP256R1, 64 },
	{ "ES384", JWA_ES384, JWA_FAM_ECDSA, GNUTLS_DIG_SHA384,
	    GNUTLS_ECC_CURVE_SECP384R1, 96 },
	{ "EdDSA", JWA_EDDSA, JWA_FAM_EDDSA, GNUTLS_DIG_SHA512,
	    GNUTLS_ECC_CURVE_ED25519, 64 },
};
_Static_assert(NELEM(want) == JWA__MAX, "one want[] row per jwa_alg");

/* Names that must never parse: length counts, case matters. */
static const struct {
	const char	*s;
	size_t		 n;
} refused[] = {
	{ "none", 4 }, { "None", 4 }, { "NONE", 4 }, { "", 0 },
	{ "hs256", 5 }, { "Hs256", 5 }, { "eddsa", 5 }, { "EDDSA", 5 },
	{ "es256", 5 }, { "ps512", 5 }, { "Ed25519", 7 }, { "ES512", 5 },
	{ "RS1", 3 }, { "HS1", 3 }, { "ES256K", 6 }, { "Ed448", 5 },
	{ "RS256", 4 }, { "RS256\0", 6 }, { "RS256 ", 6 }, { " RS256", 6 },
	{ "HS256X", 6 }, { "RSA-OAEP", 8 }, { "dir", 3 }, { "A128KW", 6 },
};

START_TEST(test_roundtrip)
{
	const struct jwa_info	*a = jwa_get(want[_i].alg);
	enum jwa_alg		 got = JWA__MAX;

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->name, want[_i].name);
	ck_assert_str_eq(jwa_name(want[_i].alg), want[_i].name);
	ck_assert_int_eq(jwa_parse(want[_i].name, strlen(want[_i].name),
	    &got), 0);
	ck_assert_int_eq(got, want[_i].alg);
	ck_assert_int_eq(a->family, want[_i].family);
	ck_assert_int_eq(a->digest, want[_i].digest);
	ck_assert_int_eq(a->curve, want[_i].curve);
	ck_assert_uint_eq(a->siglen, want[_i].siglen);
}
END_TEST

/* The GnuTLS ids of a row describe one and the same algorithm. */
START_TEST(test_ids_agree)
{
	const struct jwa_info *a = jwa_get(want[_i].alg);

	ck_assert_ptr_nonnull(a);
	if (a->family == JWA_FAM_HMAC) {
		ck_assert_int_eq(a->sign, GNUTLS_SIGN_UNKNOWN);
		ck_assert_int_eq((int)a->mac, (int)a->digest);
		ck_assert_uint_eq(gnutls_hmac_get_len(a->mac), a->siglen);
		return;
	}
	ck_assert_int_eq(a->mac, GNUTLS_MAC_UNKNOWN);
	ck_assert_int_ne(a->sign, GNUTLS_SIGN_UNKNOWN);
	if (a->family == JWA_FAM_EDDSA) {
		ck_assert_int_eq(gnutls_sign_get_pk_algorithm(a->sign),
		    GNUTLS_PK_EDDSA_ED25519);
		return;
	}
	ck_assert_int_eq(gnutls_sign_get_hash_algorithm(a->sign), a->digest);
	switch (a->family) {
	case JWA_FAM_RSA_PKCS1:
		ck_assert_int_eq(gnutls_sign_get_pk_algorithm(a->sign),
		    GNUTLS_PK_RSA);
		break;
	case JWA_FAM_RSA_PSS:
		ck_assert_int_eq(gnutls_sign_get_pk_algorithm(a->sign),
		    GNUTLS_PK_RSA_PSS);
		break;
	case JWA_FAM_ECDSA:
		ck_assert_int_eq(gnutls_sign_get_pk_algorithm(a->sign),
		    GNUTLS_PK_ECDSA);
		/* r || s: two coordinates of the curve's size */
		ck_assert_uint_eq(a->siglen,
		    2 * (size_t)(gnutls_ecc_curve_get_size(a->curve)));
		break;
	default:
		ck_abort_msg("%s: unexpected family %d", a->name, a->family);
	}
}
END_TEST

START_TEST(test_refused)
{
	enum jwa_alg got = JWA_HS256;

	ck_assert_int_eq(jwa_parse(refused[_i].s, refused[_i].n, &got), -1);
	ck_assert_int_eq(got, JWA_HS256);	/* untouched */
}
END_TEST

START_TEST(test_out_of_range)
{
	ck_assert_ptr_null(jwa_get(JWA__MAX));
	ck_assert_ptr_null(jwa_get((enum jwa_alg)-1));
	ck_assert_str_eq(jwa_name(JWA__MAX), "?");
	ck_assert_str_eq(jwa_name((enum jwa_alg)-1), "?");
}
END_TEST

static Suite *
jwa_suite(void)
{
	Suite	*s = suite_create("jwa");
	TCase	*tc = tcase_create("table");

	tcase_add_loop_test(tc, test_roundtrip, 0, (int)NELEM(want));
	tcase_add_loop_test(tc, test_ids_agree, 0, (int)NELEM(want));
	tcase_add_loop_test(tc, test_refused, 0, (int)NELEM(refused));
	tcase_add_test(tc, test_out_of_range);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(jwa_suite());
}
