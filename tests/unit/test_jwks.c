#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "jwks.h"
#include "jwt.h"
#include "util.h"
#include "ck_run.h"

/*
 * The JWKS module: parsing (every way a key set can be wrong has a
 * case), loading and change detection, key choice, and the signature
 * layer against published vectors (RFC 7515 appendix A, RFC 8037 A.4).
 * Keys and tokens of the other cases come from tests/unit/jwks_vectors.sh,
 * which uses the openssl command, never credstore's code.
 */

#define ERRLEN	512

static char vdir[256];	/* made once by main() */

/* ------------------------------------------------------------- helpers */

static char *
slurp(const char *path, size_t *lenp)
{
	FILE		*f;
	struct buf	 b;
	char		 chunk[4096];
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	buf_init(&b, 4 * 1024 * 1024, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ck_assert(buf_add(&b, chunk, n) == 0);
	fclose(f);
	ck_assert(buf_add(&b, "", 0) == 0);
	return buf_steal(&b, lenp);
}

/* The content of a file of the vectors, malloc'd, without a newline. */
static char *
vec(const char *name)
{
	char	 path[PATH_MAX];
	char	*s;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/%s", vdir, name);
	s = slurp(path, &n);
	ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	return s;
}

static void
spit(const char *path, const char *s, size_t n)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert(write(fd, s, n) == (ssize_t)n);
	close(fd);
}

/* base64url of an RSA modulus of `bytes` bytes, top byte `top`, odd. */
static char *
synth_n(size_t bytes, unsigned char top, int lead_zeros, int odd)
{
	unsigned char	*p;
	char		*s;
	size_t		 i, n = bytes + (size_t)lead_zeros;

	p = calloc(1, n);
	ck_assert(p != NULL);
	for (i = (size_t)lead_zeros; i < n; i++)
		p[i] = (unsigned char)(0x5a ^ (i * 37));
	p[lead_zeros] = top;
	if (odd)
		p[n - 1] |= 1;
	else
		p[n - 1] &= 0xfe;
	s = b64url_encode(p, n);
	ck_assert(s != NULL);
	free(p);
	return s;
}

/*
 * Expands @NAME@ placeholders in a JWKS template with key material:
 * members made by openssl (@N@, @E@, @X@, @Y@, @X384@, @Y384@, @ED@,
 * @N1024@) and synthetic moduli (@N2047@, @N2048@, @N8192@, @N8193@,
 * @NEVEN@, @N0@ one leading zero, @N00@ two).  Returns malloc'd.
 */
static char *
expand(const char *tpl)
{
	static const char *const files[][2] = {
		{ "@N@", "rsa1.n" }, { "@E@", "rsa1.e" },
		{ "@X@", "ec256.x" }, { "@Y@", "ec256.y" },
		{ "@X384@", "ec384.x" }, { "@Y384@", "ec384.y" },
		{ "@ED@", "ed1.x" }, { "@N1024@", "rsa1024.n" },
	};
	struct buf	 b;
	const char	*p, *q;
	char		 name[32], *val;
	size_t		 i, n;

	buf_init(&b, 1024 * 1024, 0);
	for (p = tpl; *p != '\0'; p = q) {
		if (*p != '@' || (q = strchr(p + 1, '@')) == NULL ||
		    (size_t)(q - p) + 1 >= sizeof(name)) {
			ck_assert(buf_addc(&b, *p) == 0);
			q = p + 1;
			continue;
		}
		n = (size_t)(q - p) + 1;
		memcpy(name, p, n);
		name[n] = '\0';
		q++;
		val = NULL;
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			if (strcmp(name, files[i][0]) == 0)
				val = vec(files[i][1]);
		if (strcmp(name, "@N2047@") == 0)
			val = synth_n(256, 0x7f, 0, 1);
		else if (strcmp(name, "@N2048@") == 0)
			val = synth_n(256, 0x80, 0, 1);
		else if (strcmp(name, "@N8192@") == 0)
			val = synth_n(1024, 0xff, 0, 1);
		else if (strcmp(name, "@N8193@") == 0)
			val = synth_n(1025, 0x01, 0, 1);
		else if (strcmp(name, "@NEVEN@") == 0)
			val = synth_n(256, 0xc1, 0, 0);
		else if (strcmp(name, "@N0@") == 0)
			val = synth_n(256, 0xc1, 1, 1);
		else if (strcmp(name, "@N00@") == 0)
			val = synth_n(256, 0xc1, 2, 1);
		ck_assert_msg(val != NULL, "no placeholder %s", name);
		ck_assert(buf_adds(&b, val) == 0);
		free(val);
	}
	ck_assert(buf_add(&b, "", 0) == 0);
	return buf_steal(&b, NULL);
}

static struct jwks *
parse_str(const char *json, char *err)
{
	err[0] = '\0';
	return jwks_parse(json, strlen(json), err, ERRLEN);
}

/* ------------------------------------------------- malformed key sets */

#define RSA1	"{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"@N@\",\"e\":\"@E@\""
#define EC1	"{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"@X@\"," \
		"\"y\":\"@Y@\""
/* the same without kid */
#define RSA0	"{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"@E@\""
#define EC0	"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"@X@\",\"y\":\"@Y@\""
#define ED1	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"@ED@\""
#define SET(k)	"{\"keys\":[" k "]}"

struct pcase {
	const char	*name;
	const char	*json;		/* template, see expand() */
	size_t		 nkeys;		/* usable keys when accepted */
	const char	*err;		/* exact message; NULL: accepted */
};

static const struct pcase pcases[] = {
	/* accepted */
	{ "rsa", SET(RSA1 "}"), 1, NULL },
	{ "rsa, ec, ed", SET(RSA1 "}," EC1 "}," ED1 "}"), 3, NULL },
	{ "p-384", SET("{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"@X384@\","
	    "\"y\":\"@Y384@\"}"), 1, NULL },
	{ "other members ignored", "{\"x\":1,\"keys\":[" RSA1 ",\"x5t\":\"a\","
	    "\"x5c\":[\"MIIB\"],\"issuer\":\"i\"}]}", 1, NULL },
	{ "use sig, key_ops verify", SET(RSA1 ",\"use\":\"sig\","
	    "\"key_ops\":[\"verify\"]}"), 1, NULL },
	{ "alg fits", SET(RSA1 ",\"alg\":\"PS512\"}," EC1
	    ",\"alg\":\"ES256\"}," ED1 ",\"alg\":\"EdDSA\"}"), 3, NULL },
	{ "rsa 2048 bits exactly", SET("{\"kty\":\"RSA\",\"n\":\"@N2048@\","
	    "\"e\":\"AQAB\"}"), 1, NULL },
	{ "rsa 8192 bits", SET("{\"kty\":\"RSA\",\"n\":\"@N8192@\","
	    "\"e\":\"AQAB\"}"), 1, NULL },
	{ "rsa one leading zero tolerated", SET("{\"kty\":\"RSA\","
	    "\"n\":\"@N0@\",\"e\":\"AAEAAQ\"}"), 1, NULL },
	{ "rsa e = 2^32+1", SET("{\"kty\":\"RSA\",\"n\":\"@N@\","
	    "\"e\":\"AQAAAAE\"}"), 1, NULL },
	{ "enc key skipped", SET(RSA1 "},{\"kty\":\"RSA\",\"use\":\"enc\","
	    "\"alg\":\"RSA-OAEP\",\"n\":\"bad\",\"e\":\"AQAB\"}"), 1, NULL },
	{ "other use skipped", SET(RSA1 "},{\"kty\":\"RSA\",\"use\":\"x\"}"),
	    1, NULL },
	{ "key_ops without verify skipped", SET(RSA1 "}," EC0
	    ",\"key_ops\":[\"sign\"]}"), 1, NULL },
	{ "unknown kty skipped", SET(RSA1 "},{\"kty\":\"XYZ\"}"), 1, NULL },
	{ "P-521 and Ed448 skipped", SET(RSA1 "},{\"kty\":\"EC\","
	    "\"crv\":\"P-521\"},{\"kty\":\"OKP\",\"crv\":\"Ed448\"}"), 1, NULL },
	{ "unknown alg skipped", SET(RSA1 "},{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"alg\":\"ES512\"},{\"kty\":\"RSA\",\"alg\":\"none\"}"), 1, NULL },
	{ "same kid, other kind", SET(RSA1 "}," EC0 ",\"kid\":\"r\"}"), 2,
	    NULL },
	{ "same kid, disjoint algs", SET(RSA1 ",\"alg\":\"RS256\"}," RSA1
	    ",\"alg\":\"PS256\"}"), 2, NULL },
	{ "kid null", SET(RSA0 ",\"kid\":null}"), 0,
	    "keys[0]: \"kid\" must be a string of 1 to 256 bytes" },

	/* the set */
	{ "not JSON", "{\"keys\":[", 0, "not valid JSON: " },
	{ "trailing data", SET(RSA1 "}") " x", 0, "not valid JSON: " },
	{ "duplicate member", "{\"keys\":[],\"keys\":[" RSA1 "}]}", 0,
	    "not valid JSON: " },
	{ "duplicate member in a key", SET(RSA1 ",\"n\":\"@N@\"}"), 0,
	    "not valid JSON: " },
	{ "array", "[" RSA1 "}]", 0,
	    "not a JWKS: no \"keys\" array (RFC 7517 section 5)" },
	{ "keys object", "{\"keys\":" RSA1 "}}", 0,
	    "not a JWKS: no \"keys\" array (RFC 7517 section 5)" },
	{ "no keys", "{\"kty\":\"RSA\"}", 0,
	    "not a JWKS: no \"keys\" array (RFC 7517 section 5)" },
	{ "empty", SET(""), 0,
	    "\"keys\" is empty: no token could be verified" },
	{ "only an enc key", SET("{\"kty\":\"RSA\",\"use\":\"enc\"}"), 0,
	    "no usable key (1 skipped): no token could be verified" },
	{ "only unusable keys", SET("{\"kty\":\"EC\",\"crv\":\"P-521\"},"
	    "{\"kty\":\"OKP\",\"crv\":\"X25519\"},{\"kty\":\"XYZ\"}"), 0,
	    "no usable key (3 skipped): no token could be verified" },

	/* members of any key */
	{ "key not an object", SET(RSA1 "},[]"), 0,
	    "keys[1]: not a JSON object" },
	{ "kid number", SET(RSA0 ",\"kid\":1}"), 0,
	    "keys[0]: \"kid\" must be a string of 1 to 256 bytes" },
	{ "kid empty", SET(RSA0 ",\"kid\":\"\"}"), 0,
	    "keys[0]: \"kid\" must be a string of 1 to 256 bytes" },
	{ "kid NUL", SET(RSA0 ",\"kid\":\"a\\u0000b\"}"), 0,
	    "keys[0]: \"kid\" must be a string of 1 to 256 bytes" },
	{ "kty missing", SET("{\"kid\":\"k\",\"n\":\"@N@\"}"), 0,
	    "keys[0] (kid \"k\"): \"kty\" is missing" },
	{ "kty number", SET("{\"kty\":3}"), 0,
	    "keys[0]: \"kty\" is not a string" },
	{ "use number", SET(RSA1 ",\"use\":1}"), 0,
	    "keys[0] (kid \"r\"): \"use\" is not a string" },
	{ "alg null", SET(RSA1 ",\"alg\":null}"), 0,
	    "keys[0] (kid \"r\"): \"alg\" is not a string" },
	{ "key_ops string", SET(RSA1 ",\"key_ops\":\"verify\"}"), 0,
	    "keys[0] (kid \"r\"): \"key_ops\" is not an array of strings" },
	{ "key_ops number inside", SET(RSA1 ",\"key_ops\":[\"verify\",1]}"), 0,
	    "keys[0] (kid \"r\"): \"key_ops\" is not an array of strings" },
	{ "symmetric key", SET("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}"), 0,
	    "keys[0]: a symmetric key (kty \"oct\") does not belong in a JWKS;"
	    " HS* tokens use jwt_secret_file" },
	{ "rsa private d", SET(RSA1 ",\"d\":\"AQAB\"}"), 0,
	    "keys[0] (kid \"r\"): holds private key material (\"d\"); a JWKS "
	    "for verification has public keys only" },
	{ "rsa private p", SET(RSA1 ",\"p\":\"AQAB\"}"), 0,
	    "keys[0] (kid \"r\"): holds private key material (\"p\"); a JWKS "
	    "for verification has public keys only" },
	{ "ec private d", SET(RSA1 "}," EC1 ",\"d\":\"AQAB\"}"), 0,
	    "keys[1] (kid \"e\"): holds private key material (\"d\"); a JWKS "
	    "for verification has public keys only" },
	{ "private d of a skipped key", SET(RSA1 "},{\"kty\":\"RSA\","
	    "\"use\":\"enc\",\"d\":\"AQAB\"}"), 0,
	    "keys[1]: holds private key material (\"d\"); a JWKS for "
	    "verification has public keys only" },
	{ "alg HS256 on rsa", SET(RSA1 ",\"alg\":\"HS256\"}"), 0,
	    "keys[0] (kid \"r\"): alg \"HS256\" is an HMAC algorithm; a public "
	    "key must never be used as an HMAC secret" },
	{ "alg ES256 on rsa", SET(RSA1 ",\"alg\":\"ES256\"}"), 0,
	    "keys[0] (kid \"r\"): alg \"ES256\" does not fit a RSA key" },
	{ "alg RS256 on ec", SET(EC1 ",\"alg\":\"RS256\"}"), 0,
	    "keys[0] (kid \"e\"): alg \"RS256\" does not fit a EC P-256 key" },
	{ "alg ES384 on P-256", SET(EC1 ",\"alg\":\"ES384\"}"), 0,
	    "keys[0] (kid \"e\"): alg \"ES384\" does not fit a EC P-256 key" },
	{ "alg ES256 on Ed25519", SET(ED1 ",\"alg\":\"ES256\"}"), 0,
	    "keys[0]: alg \"ES256\" does not fit a OKP Ed25519 key" },
	{ "same kid, same algs", SET(RSA1 "}," RSA1 ",\"alg\":\"RS256\"}"),
	    0, "keys[1] (kid \"r\"): another key before it has the same kid "
	    "and fits the same algorithm" },

	/* RSA */
	{ "rsa n missing", SET("{\"kty\":\"RSA\",\"e\":\"AQAB\"}"), 0,
	    "keys[0]: \"n\" is missing" },
	{ "rsa e missing", SET("{\"kty\":\"RSA\",\"n\":\"@N@\"}"), 0,
	    "keys[0]: \"e\" is missing" },
	{ "rsa n number", SET("{\"kty\":\"RSA\",\"n\":1,\"e\":\"AQAB\"}"), 0,
	    "keys[0]: \"n\" is not a string" },
	{ "rsa n padded", SET("{\"kty\":\"RSA\",\"n\":\"@N@=\",\"e\":\"AQAB\"}"),
	    0, "keys[0]: \"n\" is not base64url (RFC 7515 section 2)" },
	{ "rsa e standard base64", SET("{\"kty\":\"RSA\",\"n\":\"@N@\","
	    "\"e\":\"AQ+B\"}"), 0,
	    "keys[0]: \"e\" is not base64url (RFC 7515 section 2)" },
	{ "rsa e non-canonical", SET("{\"kty\":\"RSA\",\"n\":\"@N@\","
	    "\"e\":\"AQB\"}"), 0,
	    "keys[0]: \"e\" is not base64url (RFC 7515 section 2)" },
	{ "rsa e empty", SET("{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"\"}"), 0,
	    "keys[0]: \"e\" is not base64url (RFC 7515 section 2)" },
	{ "rsa 1024 bits", SET("{\"kty\":\"RSA\",\"kid\":\"small\","
	    "\"n\":\"@N1024@\",\"e\":\"AQAB\"}"), 0,
	    "keys[0] (kid \"small\"): RSA modulus of 1024 bits; 2048 to 8192 "
	    "are allowed" },
	{ "rsa 2047 bits", SET("{\"kty\":\"RSA\",\"n\":\"@N2047@\","
	    "\"e\":\"AQAB\"}"), 0,
	    "keys[0]: RSA modulus of 2047 bits; 2048 to 8192 are allowed" },
	{ "rsa 8193 bits", SET("{\"kty\":\"RSA\",\"n\":\"@N8193@\","
	    "\"e\":\"AQAB\"}"), 0,
	    "keys[0]: RSA modulus of 8193 bits; 2048 to 8192 are allowed" },
	{ "rsa two leading zeros", SET("{\"kty\":\"RSA\",\"n\":\"@N00@\","
	    "\"e\":\"AQAB\"}"), 0,
	    "keys[0]: RSA modulus has more than one leading zero byte" },
	{ "rsa even modulus", SET("{\"kty\":\"RSA\",\"n\":\"@NEVEN@\","
	    "\"e\":\"AQAB\"}"), 0, "keys[0]: RSA modulus is even" },
	{ "rsa e = 3", SET("{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"Aw\"}"), 0,
	    "keys[0]: RSA exponent must be odd, at least 65537 and below "
	    "2^256" },
	{ "rsa e = 1", SET("{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"AQ\"}"), 0,
	    "keys[0]: RSA exponent must be odd, at least 65537 and below "
	    "2^256" },
	{ "rsa e even", SET("{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"AQAA\"}"),
	    0, "keys[0]: RSA exponent must be odd, at least 65537 and below "
	    "2^256" },
	{ "rsa e zero", SET("{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"AA\"}"), 0,
	    "keys[0]: RSA exponent must be odd, at least 65537 and below "
	    "2^256" },
	{ "rsa e of 33 bytes", SET("{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\""
	    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\"}"), 0,
	    "keys[0]: RSA exponent must be odd, at least 65537 and below "
	    "2^256" },

	/* EC and OKP */
	{ "ec crv missing", SET("{\"kty\":\"EC\",\"x\":\"@X@\",\"y\":\"@Y@\"}"),
	    0, "keys[0]: \"crv\" is missing" },
	{ "ec crv number", SET("{\"kty\":\"EC\",\"crv\":256}"), 0,
	    "keys[0]: \"crv\" is not a string" },
	{ "ec y missing", SET("{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"@X@\"}"), 0, "keys[0]: \"y\" is missing" },
	{ "ec short x", SET("{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"y\":\"@Y@\"}"), 0,
	    "keys[0]: EC coordinates must be 32 bytes each, not 31 and 32" },
	{ "ec P-256 coordinates on P-384", SET("{\"kty\":\"EC\","
	    "\"crv\":\"P-384\",\"x\":\"@X@\",\"y\":\"@Y@\"}"), 0,
	    "keys[0]: EC coordinates must be 48 bytes each, not 32 and 32" },
	{ "ec point off the curve", SET("{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"@Y@\",\"y\":\"@X@\"}"), 0,
	    "keys[0]: (x, y) is not a point of P-256: " },
	{ "ed25519 short", SET("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"), 0,
	    "keys[0]: Ed25519 key must be 32 bytes, not 31" },
	{ "ed25519 x missing", SET("{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}"), 0,
	    "keys[0]: \"x\" is missing" },
	{ "ed25519 private d", SET(ED1 ",\"d\":\"AQAB\"}"), 0,
	    "keys[0]: holds private key material (\"d\"); a JWKS for "
	    "verification has public keys only" },
};

START_TEST(test_parse_table)
{
	const struct pcase	*c = &pcases[_i];
	struct jwks		*ks;
	char			*json, err[ERRLEN];

	json = expand(c->json);
	ks = parse_str(json, err);
	if (c->err == NULL) {
		ck_assert_msg(ks != NULL, "%s: rejected: %s", c->name, err);
		ck_assert_msg(jwks_nkeys(ks) == c->nkeys, "%s: %zu keys",
		    c->name, jwks_nkeys(ks));
	} else {
		ck_assert_msg(ks == NULL, "%s: accepted", c->name);
		/* messages ending in ": " go on with the library's words */
		if (c->err[strlen(c->err) - 1] == ' ')
			ck_assert_msg(strncmp(err, c->err, strlen(c->err)) == 0,
			    "%s: got \"%s\"", c->name, err);
		else
			ck_assert_msg(strcmp(err, c->err) == 0,
			    "%s: got \"%s\", want \"%s\"", c->name, err,
			    c->err);
	}
	jwks_free(ks);
	free(json);
}
END_TEST

/* A set of count RSA keys k0, k1, ...; malloc'd. */
static char *
many_keys(int count, const char *n)
{
	struct buf	b;
	int		i;

	buf_init(&b, 4 * 1024 * 1024, 0);
	ck_assert(buf_adds(&b, "{\"keys\":[") == 0);
	for (i = 0; i < count; i++)
		ck_assert(buf_printf(&b, "%s{\"kty\":\"RSA\",\"kid\":\"k%d\","
		    "\"n\":\"%s\",\"e\":\"AQAB\"}", i > 0 ? "," : "", i, n) == 0);
	ck_assert(buf_adds(&b, "]}") == 0);
	return buf_steal(&b, NULL);
}

/* 64 keys are fine, 65 are not; a kid of 256 bytes is, 257 is not. */
START_TEST(test_parse_caps)
{
	struct buf	 b;
	struct jwks	*ks;
	char		*n, *json, err[ERRLEN], kid[300];
	int		 i;

	n = vec("rsa1.n");
	json = many_keys(JWKS_MAX_KEYS, n);
	ks = parse_str(json, err);
	ck_assert_msg(ks != NULL, "64 keys: %s", err);
	ck_assert_uint_eq(jwks_nkeys(ks), 64);
	jwks_free(ks);
	free(json);
	json = many_keys(JWKS_MAX_KEYS + 1, n);
	ck_assert(parse_str(json, err) == NULL);
	ck_assert_str_eq(err, "65 keys; at most 64 are allowed");
	free(json);

	for (i = 256; i <= 257; i++) {
		memset(kid, 'k', (size_t)i);
		kid[i] = '\0';
		buf_init(&b, 64 * 1024, 0);
		ck_assert(buf_printf(&b, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":"
		    "\"%s\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", kid, n) == 0);
		ks = parse_str(b.data, err);
		if (i == 256)
			ck_assert_msg(ks != NULL, "%s", err);
		else {
			ck_assert(ks == NULL);
			ck_assert_str_eq(err, "keys[0]: \"kid\" must be a string "
			    "of 1 to 256 bytes");
		}
		jwks_free(ks);
		buf_reset(&b);
	}
	free(n);
	jwks_free(NULL);
	ck_assert_uint_eq(jwks_nkeys(NULL), 0);
}
END_TEST

/* A message buffer too small or absent is fine. */
START_TEST(test_parse_errbuf)
{
	char err[8];

	ck_assert(jwks_parse("[]", 2, err, sizeof(err)) == NULL);
	ck_assert_str_eq(err, "not a J");
	ck_assert(jwks_parse("[]", 2, NULL, 0) == NULL);
}
END_TEST

/* ------------------------------------------------ loading and stamps */

static char tdir[256];

static void
tmp_setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tdir, sizeof(tdir), "%s/test_jwks.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ck_assert(mkdtemp(tdir) != NULL);
}

static void
tmp_teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	(void)system(cmd);
}

START_TEST(test_load)
{
	struct jwks		*ks;
	struct filestamp	 st, st2, now;
	char			 path[PATH_MAX], path2[PATH_MAX], err[ERRLEN];
	char			 want[PATH_MAX + 128], *json, *big;

	snprintf(path, sizeof(path), "%s/jwks.json", vdir);
	ks = jwks_load(path, &st, err, sizeof(err));
	ck_assert_msg(ks != NULL, "%s", err);
	/* rsa1, rsa2, ec256, ec384, ed1; rsa3 is an encryption key */
	ck_assert_uint_eq(jwks_nkeys(ks), 5);
	ck_assert_int_eq(filestamp_get(path, &now), 0);
	ck_assert(filestamp_eq(&st, &now));
	jwks_free(ks);
	snprintf(path, sizeof(path), "%s/jwks_added.json", vdir);
	ks = jwks_load(path, NULL, err, sizeof(err));
	ck_assert_uint_eq(jwks_nkeys(ks), 6);
	jwks_free(ks);

	/* missing, a directory, too large, malformed: named by path */
	snprintf(path, sizeof(path), "%s/none.json", tdir);
	ck_assert(jwks_load(path, &st, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(err, want);
	memset(&now, 0, sizeof(now));
	ck_assert(filestamp_eq(&st, &now));
	ck_assert_int_eq(filestamp_get(path, &st2), -1);
	ck_assert(filestamp_eq(&st2, &now));

	ck_assert(jwks_load(tdir, &st, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: not a regular file", tdir);
	ck_assert_str_eq(err, want);

	big = malloc(JWKS_MAX_FILE + 2);
	ck_assert(big != NULL);
	memset(big, ' ', JWKS_MAX_FILE + 1);
	json = expand(SET(RSA1 "}"));
	memcpy(big, json, strlen(json));
	snprintf(path, sizeof(path), "%s/big.json", tdir);
	spit(path, big, JWKS_MAX_FILE);		/* exactly the cap: fine */
	ks = jwks_load(path, NULL, err, sizeof(err));
	ck_assert_msg(ks != NULL, "%s", err);
	jwks_free(ks);
	spit(path, big, JWKS_MAX_FILE + 1);
	ck_assert(jwks_load(path, NULL, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	ck_assert_str_eq(err, want);
	ck_assert(jwks_parse(big, JWKS_MAX_FILE + 1, err, sizeof(err)) ==
	    NULL);
	ck_assert_str_eq(err, "larger than 1048576 bytes");
	free(big);

	snprintf(path, sizeof(path), "%s/bad.json", tdir);
	spit(path, "{\"keys\":[7]}", 12);
	ck_assert(jwks_load(path, &st, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: keys[0]: not a JSON object", path);
	ck_assert_str_eq(err, want);
	/* the stamp of a file that did not parse is still taken */
	ck_assert_int_eq(filestamp_get(path, &now), 0);
	ck_assert(filestamp_eq(&st, &now));

	/* change detection: same file, rewritten, replaced */
	snprintf(path, sizeof(path), "%s/k.json", tdir);
	spit(path, json, strlen(json));
	ks = jwks_load(path, &st, err, sizeof(err));
	ck_assert(ks != NULL);
	jwks_free(ks);
	ck_assert_int_eq(filestamp_get(path, &now), 0);
	ck_assert(filestamp_eq(&st, &now));
	spit(path, json, strlen(json) - 1);	/* in place, other size */
	ck_assert_int_eq(filestamp_get(path, &now), 0);
	ck_assert(!filestamp_eq(&st, &now));
	st = now;
	snprintf(path2, sizeof(path2), "%s/k.json.new", tdir);
	spit(path2, json, strlen(json) - 1);	/* same size, new inode */
	ck_assert_int_eq(filestamp_get(path2, &st2), 0);
	ck_assert_int_eq(rename(path2, path), 0);
	ck_assert_int_eq(filestamp_get(path, &now), 0);
	ck_assert(!filestamp_eq(&st, &now));
	ck_assert(now.ino == st2.ino && now.ino != st.ino);
	free(json);
}
END_TEST

/*
 * The stamp notices what the keyring's always did: a chmod or chown (the
 * mode and the ctime), and filestamp_read stamps the file it read.
 */
START_TEST(test_stamp_mode)
{
	struct filestamp	 st, now;
	unsigned char		*buf;
	char			 path[PATH_MAX], err[ERRLEN];
	char			 want[PATH_MAX + 32];
	size_t			 n;

	snprintf(path, sizeof(path), "%s/k.json", tdir);
	spit(path, "{}", 2);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(filestamp_read(path, 16, FILESTAMP_REGULAR, &buf, &n,
	    &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(memcmp(buf, "{}", 2) == 0);
	free(buf);
	ck_assert_int_eq(filestamp_get(path, &now), 0);
	ck_assert(filestamp_eq(&st, &now));
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(filestamp_get(path, &now), 0);
	ck_assert(!filestamp_eq(&st, &now));
	ck_assert_uint_eq(now.mode & 0777, 0640);

	/* over the cap: cap + 1 bytes, the caller says no */
	ck_assert_int_eq(filestamp_read(path, 1, 0, &buf, &n, NULL, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	free(buf);
	ck_assert_int_eq(filestamp_read(tdir, 16, FILESTAMP_REGULAR, &buf, &n,
	    &st, err, sizeof(err)), -1);
	ck_assert(buf == NULL);
	snprintf(want, sizeof(want), "%s: not a regular file", tdir);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(filestamp_get(tdir, &now), 0);
	ck_assert(filestamp_eq(&st, &now));
}
END_TEST

/* ------------------------------------------------------- verification */

static struct jwks *
vec_jwks(const char *file)
{
	struct jwks	*ks;
	char		 path[PATH_MAX], err[ERRLEN];

	snprintf(path, sizeof(path), "%s/%s", vdir, file);
	ks = jwks_load(path, NULL, err, sizeof(err));
	ck_assert_msg(ks != NULL, "%s", err);
	return ks;
}

/* jwks_verify on the signing input and signature of a token file. */
static enum jwks_err
verify_file(const struct jwks *ks, enum jwa_alg alg, const char *kid,
    const char *name)
{
	char		 path[64], *tok, *dot;
	unsigned char	*sig;
	size_t		 siglen;
	enum jwks_err	 rc;

	snprintf(path, sizeof(path), "tok/%s.jwt", name);
	tok = vec(path);
	dot = strrchr(tok, '.');
	ck_assert(dot != NULL);
	sig = b64url_decode(dot + 1, strlen(dot + 1), &siglen);
	ck_assert(sig != NULL);
	rc = jwks_verify(ks, alg, kid, tok, (size_t)(dot - tok), sig, siglen);
	free(sig);
	free(tok);
	return rc;
}

START_TEST(test_verify_direct)
{
	struct jwks *ks = vec_jwks("jwks.json");

	ck_assert_int_eq(verify_file(ks, JWA_RS256, "rsa1", "rs256"),
	    JWKS_OK);
	ck_assert_int_eq(verify_file(ks, JWA_RS256, NULL, "rs256"),
	    JWKS_OK);
	ck_assert_int_eq(verify_file(ks, JWA_ES256, "ec256", "es256"),
	    JWKS_OK);
	ck_assert_int_eq(verify_file(ks, JWA_EDDSA, NULL, "eddsa"),
	    JWKS_OK);
	/* the wrong hash for the signature */
	ck_assert_int_eq(verify_file(ks, JWA_RS384, "rsa1", "rs256"),
	    JWKS_ERR_SIGNATURE);
	ck_assert_int_eq(verify_file(ks, JWA_PS256, "rsa1", "rs256"),
	    JWKS_ERR_SIGNATURE);
	/* HS algorithms never find a JWKS key, whatever the kid */
	ck_assert_int_eq(verify_file(ks, JWA_HS256, "rsa1", "rs256"),
	    JWKS_ERR_KEY);
	ck_assert_int_eq(verify_file(ks, JWA_HS512, NULL, "rs256"),
	    JWKS_ERR_KEY);
	ck_assert_int_eq(verify_file(ks, JWA__MAX, NULL, "rs256"),
	    JWKS_ERR_KEY);
	ck_assert_int_eq(verify_file(NULL, JWA_RS256, "rsa1", "rs256"),
	    JWKS_ERR_KEY);
	/* a kid is matched exactly */
	ck_assert_int_eq(verify_file(ks, JWA_RS256, "RSA1", "rs256"),
	    JWKS_ERR_KEY);
	ck_assert_int_eq(verify_file(ks, JWA_RS256, "rsa", "rs256"),
	    JWKS_ERR_KEY);
	ck_assert_int_eq(verify_file(ks, JWA_RS256, "", "rs256"),
	    JWKS_ERR_KEY);
	jwks_free(ks);
}
END_TEST

/*
 * Published vectors.  Their tokens expired in 2011 (and the RFC 8037
 * payload is not even JSON), so the signature layer is checked directly;
 * jwt_verify must still refuse them.
 */
#define A_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6" \
	"Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

/* RFC 7515 A.2.1 */
#define A2_N "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx" \
	"HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_Yp" \
	"RPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexM" \
	"dbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5" \
	"ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs" \
	"91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define A2_TOKEN "eyJhbGciOiJSUzI1NiJ9." A_PAYLOAD "." \
	"cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7" \
	"AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4" \
	"BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K" \
	"0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv" \
	"hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB" \
	"p0igcN_IoypGlUPQGe77Rw"
/* RFC 7515 A.3.1 */
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define A3_TOKEN "eyJhbGciOiJFUzI1NiJ9." A_PAYLOAD "." \
	"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA" \
	"pmWQxfKTUJqPP3-Kg6NU1Q"
/* RFC 8037 A.2 and A.4 */
#define ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_TOKEN "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc." \
	"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B" \
	"hVsPt9g7sVvpAr_MuM0KAg"
/* RFC 7515 A.1: HS256, for the HMAC path beside them */
#define A1_K "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Y" \
	"j0iPS4hcgUuTwjAzZr1Z9CAow"
#define A1_TOKEN "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." A_PAYLOAD \
	".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

struct rfc {
	const char	*name;
	const char	*jwks;
	const char	*token;
	enum jwa_alg	 alg;
	enum jwt_err	 full;		/* what jwt_verify says */
};

static const struct rfc rfcs[] = {
	{ "RFC 7515 A.2 RS256", SET("{\"kty\":\"RSA\",\"n\":\"" A2_N "\","
	    "\"e\":\"AQAB\"}"), A2_TOKEN, JWA_RS256, JWT_ERR_EXPIRED },
	{ "RFC 7515 A.3 ES256", SET("{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}"), A3_TOKEN, JWA_ES256,
	    JWT_ERR_EXPIRED },
	{ "RFC 8037 A.4 Ed25519", SET("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"" ED_X "\"}"), ED_TOKEN, JWA_EDDSA, JWT_ERR_MALFORMED },
};

static const struct jwt_policy rfc_policy = {
	.leeway = 60,
	.role_claim = "role",
	.admin_role = "admin",
	.tenant_claim = "org_id",
};

START_TEST(test_rfc_vectors)
{
	const struct rfc	*c = &rfcs[_i];
	struct jwt_keys		 k;
	struct jwt_identity	 id;
	enum jwa_alg		 alg = JWA__MAX;
	char			 err[ERRLEN], *bad;
	size_t			 n;

	memset(&k, 0, sizeof(k));
	k.jwks = parse_str(c->jwks, err);
	ck_assert_msg(k.jwks != NULL, "%s: %s", c->name, err);
	ck_assert_int_eq(jwt_verify_signature(c->token, strlen(c->token), &k,
	    &alg), JWT_OK);
	ck_assert_int_eq(alg, c->alg);
	/* the claims layer still refuses them */
	ck_assert_int_eq(jwt_verify(c->token, strlen(c->token), &k,
	    &rfc_policy, (time_t)1700000000, &id), c->full);
	/* one payload character changed: the signature no longer fits */
	bad = strdup(c->token);
	ck_assert(bad != NULL);
	n = (size_t)(strchr(bad, '.') - bad) + 2;
	bad[n] = bad[n] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(jwt_verify_signature(bad, strlen(bad), &k, &alg),
	    JWT_ERR_SIGNATURE);
	free(bad);
	jwks_free(k.jwks);
}
END_TEST

START_TEST(test_rfc_hs256)
{
	struct jwt_keys	 k;
	enum jwa_alg	 alg = JWA__MAX;
	unsigned char	*key;
	size_t		 klen;

	memset(&k, 0, sizeof(k));
	key = b64url_decode(A1_K, strlen(A1_K), &klen);
	ck_assert(key != NULL);
	k.hs_secret = key;
	k.hs_len = klen;
	ck_assert_int_eq(jwt_verify_signature(A1_TOKEN, strlen(A1_TOKEN), &k,
	    &alg), JWT_OK);
	ck_assert_int_eq(alg, JWA_HS256);
	/* the HS secret cannot verify an asymmetric vector, nor the reverse */
	ck_assert_int_eq(jwt_verify_signature(A2_TOKEN, strlen(A2_TOKEN), &k,
	    &alg), JWT_ERR_KEY);
	k.hs_secret = NULL;
	k.hs_len = 0;
	k.jwks = parse_str(SET("{\"kty\":\"RSA\",\"n\":\"" A2_N "\","
	    "\"e\":\"AQAB\"}"), (char[ERRLEN]){ 0 });
	ck_assert(k.jwks != NULL);
	ck_assert_int_eq(jwt_verify_signature(A1_TOKEN, strlen(A1_TOKEN), &k,
	    &alg), JWT_ERR_KEY);
	jwks_free(k.jwks);
	free(key);
}
END_TEST

/*
 * Key choice with published keys: a token without kid takes the one key
 * that fits; a kid must name a key that has it.
 */
START_TEST(test_rfc_kid)
{
	struct jwt_keys	 k;
	enum jwa_alg	 alg;
	char		 err[ERRLEN], *tok, hdr[64], *h64;
	const char	*rest;

	memset(&k, 0, sizeof(k));
	/* the A.2 key under a kid; the A.2 token has none: still chosen */
	k.jwks = parse_str(SET("{\"kty\":\"RSA\",\"kid\":\"2010-12-29\","
	    "\"n\":\"" A2_N "\",\"e\":\"AQAB\"}," "{\"kty\":\"EC\","
	    "\"crv\":\"P-256\",\"kid\":\"e9bc097a\",\"x\":\"" A3_X "\","
	    "\"y\":\"" A3_Y "\"}"), err);
	ck_assert_msg(k.jwks != NULL, "%s", err);
	ck_assert_int_eq(jwt_verify_signature(A2_TOKEN, strlen(A2_TOKEN), &k,
	    &alg), JWT_OK);
	ck_assert_int_eq(jwt_verify_signature(A3_TOKEN, strlen(A3_TOKEN), &k,
	    &alg), JWT_OK);
	jwks_free(k.jwks);

	/* two RSA keys and no kid: which one?  Refused. */
	{
		char *json = expand(SET("{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\""
		    A2_N "\",\"e\":\"AQAB\"},{\"kty\":\"RSA\",\"kid\":\"b\","
		    "\"n\":\"@N@\",\"e\":\"AQAB\"}"));

		k.jwks = parse_str(json, err);
		free(json);
	}
	ck_assert_msg(k.jwks != NULL, "%s", err);
	ck_assert_int_eq(jwt_verify_signature(A2_TOKEN, strlen(A2_TOKEN), &k,
	    &alg), JWT_ERR_KEY);
	jwks_free(k.jwks);

	/* a keyless key is not chosen by a token with a kid */
	k.jwks = parse_str(SET("{\"kty\":\"RSA\",\"n\":\"" A2_N "\","
	    "\"e\":\"AQAB\"}"), err);
	ck_assert(k.jwks != NULL);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"x\"}");
	h64 = b64url_encode(hdr, strlen(hdr));
	rest = strchr(A2_TOKEN, '.');
	tok = malloc(strlen(h64) + strlen(rest) + 1);
	ck_assert(tok != NULL);
	snprintf(tok, strlen(h64) + strlen(rest) + 1, "%s%s", h64, rest);
	ck_assert_int_eq(jwt_verify_signature(tok, strlen(tok), &k, &alg),
	    JWT_ERR_KEY);
	free(tok);
	free(h64);
	jwks_free(k.jwks);
}
END_TEST

static Suite *
jwks_suite(void)
{
	Suite	*s = suite_create("jwks");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_table, 0,
	    (int)(sizeof(pcases) / sizeof(pcases[0])));
	tcase_add_test(tc, test_parse_caps);
	tcase_add_test(tc, test_parse_errbuf);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_stamp_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_test(tc, test_verify_direct);
	tcase_add_loop_test(tc, test_rfc_vectors, 0,
	    (int)(sizeof(rfcs) / sizeof(rfcs[0])));
	tcase_add_test(tc, test_rfc_hs256);
	tcase_add_test(tc, test_rfc_kid);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * Runs jwks_vectors.sh once, before the tests fork: the openssl command
 * makes every key and token the tests read.
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
	snprintf(vdir, sizeof(vdir), "%s/test_jwks_vec.XXXXXX",
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
	failed = ck_run(jwks_suite());
	if (getenv("KEEP_VECTORS") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vdir);
		(void)system(cmd);
	} else
		fprintf(stderr, "vectors kept in %s\n", vdir);
	return failed != 0 ? 1 : 0;
}
