#include "cs_build.h"

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <json-c/json.h>

#include "jsonx.h"
#include "util.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ buf */

START_TEST(test_buf_cap)
{
	struct buf	 b;
	char		 big[16];

	buf_init(&b, 10, 0);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(buf_adds(&b, "hello"), 0);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(b.data, "hello");
	ck_assert_int_eq(buf_add(&b, "world", 5), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.data, "helloworld");

	/* exactly full: nothing more fits, len and data unchanged */
	ck_assert_int_eq(buf_addc(&b, 'x'), -1);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.data, "helloworld");
	ck_assert_int_eq(buf_adds(&b, "x"), -1);
	ck_assert_int_eq(buf_printf(&b, "%d", 7), -1);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.data, "helloworld");
	/* adding nothing is fine even when full */
	ck_assert_int_eq(buf_add(&b, "", 0), 0);
	ck_assert_uint_eq(b.len, 10);
	buf_reset(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);

	/* one add that would cross the cap is refused whole */
	buf_init(&b, 10, 0);
	ck_assert_int_eq(buf_adds(&b, "abcdefg"), 0);
	ck_assert_int_eq(buf_adds(&b, "hijk"), -1);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_str_eq(b.data, "abcdefg");
	ck_assert_int_eq(buf_adds(&b, "hij"), 0);
	ck_assert_str_eq(b.data, "abcdefghij");
	buf_reset(&b);

	/* a length that would overflow len + n is refused, not wrapped */
	memset(big, 'z', sizeof(big));
	buf_init(&b, 10, 0);
	ck_assert_int_eq(buf_adds(&b, "ab"), 0);
	ck_assert_int_eq(buf_add(&b, big, SIZE_MAX), -1);
	ck_assert_int_eq(buf_add(&b, big, SIZE_MAX - 1), -1);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_str_eq(b.data, "ab");
	buf_reset(&b);

	/* max 0: only the empty string */
	buf_init(&b, 0, 0);
	ck_assert_int_eq(buf_add(&b, "", 0), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(buf_addc(&b, 'a'), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_reset(&b);
}
END_TEST

START_TEST(test_buf_grow)
{
	struct buf	 b;
	size_t		 i;

	/* many one-byte adds across several reallocations, up to the cap */
	buf_init(&b, 1000, _i);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_addc(&b, (char)('a' + i % 26)), 0);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_uint_le(b.cap, 1001);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(b.data[i], 'a' + (int)(i % 26));
	ck_assert_int_eq(b.data[1000], '\0');
	ck_assert_int_eq(buf_addc(&b, 'a'), -1);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_int_eq(b.secret, (int)_i);
	buf_reset(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	/* max and secret survive a reset: the buffer is reusable */
	ck_assert_uint_eq(b.max, 1000);
	ck_assert_int_eq(b.secret, (int)_i);
	ck_assert_int_eq(buf_adds(&b, "again"), 0);
	ck_assert_str_eq(b.data, "again");
	buf_reset(&b);
}
END_TEST

START_TEST(test_buf_printf)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 1000, 0);
	ck_assert_int_eq(buf_printf(&b, "%s=%d;", "a", 42), 0);
	ck_assert_str_eq(b.data, "a=42;");
	/* longer than the 256-byte fast path */
	ck_assert_int_eq(buf_printf(&b, "%0500d", 7), 0);
	ck_assert_uint_eq(b.len, 505);
	for (i = 5; i < 504; i++)
		ck_assert_int_eq(b.data[i], '0');
	ck_assert_int_eq(b.data[504], '7');
	ck_assert_int_eq(b.data[505], '\0');
	/* 600 more would cross 1000: refused, nothing appended */
	ck_assert_int_eq(buf_printf(&b, "%0600d", 1), -1);
	ck_assert_uint_eq(b.len, 505);
	ck_assert_int_eq(b.data[505], '\0');
	/* short form also refused at the edge */
	ck_assert_int_eq(buf_printf(&b, "%0495d", 1), 0);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_int_eq(buf_printf(&b, "%s", "x"), -1);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_int_eq(buf_printf(&b, "%s", ""), 0);
	buf_reset(&b);
}
END_TEST

START_TEST(test_buf_steal)
{
	struct buf	 b;
	char		*p;
	size_t		 n = 99;
	int		 term;

	/* stealing from an empty buffer gives an empty string, not NULL */
	buf_init(&b, 64, 1);
	p = buf_steal(&b, &n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(n, 0);
	/* one byte only: an unterminated buffer must not be read on */
	term = p[0] == '\0';
	free(p);
	ck_assert_msg(term, "empty steal is not NUL-terminated");

	ck_assert_int_eq(buf_adds(&b, "secret-value"), 0);
	p = buf_steal(&b, &n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(n, 12);
	ck_assert_str_eq(p, "secret-value");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	secure_free(p, n);

	/* len may be NULL; the buf is reusable after a steal */
	ck_assert_int_eq(buf_adds(&b, "x"), 0);
	p = buf_steal(&b, NULL);
	ck_assert_str_eq(p, "x");
	secure_free_str(p);
	buf_reset(&b);
}
END_TEST

START_TEST(test_secure_wipe)
{
	unsigned char	 a[64];
	char		*s;
	size_t		 i;

	memset(a, 0xa5, sizeof(a));
	secure_wipe(a + 8, 16);
	for (i = 0; i < sizeof(a); i++)
		ck_assert_uint_eq(a[i], (i >= 8 && i < 24) ? 0 : 0xa5);
	secure_wipe(a, 0);
	ck_assert_uint_eq(a[30], 0xa5);
	secure_wipe(NULL, 10);		/* no crash */
	secure_free(NULL, 10);
	secure_free_str(NULL);
	s = strdup("top secret");
	ck_assert_ptr_nonnull(s);
	secure_free_str(s);
	s = malloc(32);
	ck_assert_ptr_nonnull(s);
	memset(s, 'k', 32);
	secure_free(s, 32);
}
END_TEST

/* --------------------------------------------------------------- base64 */

static void
fill(unsigned char *p, size_t n, int kind)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = kind == 0 ? (unsigned char)(i * 37 + 11) :
		    kind == 1 ? 0xff : 0x00;
}

static int
in_alpha(const char *s, int url)
{
	const char *ok = url ?
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" :
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i;

	if (!url)
		while (n > 0 && s[n - 1] == '=')
			n--;
	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(ok, s[i]) == NULL)
			return 0;
	return 1;
}

/* Encodes in[0..n) in one mode, checks the text, decodes it back. */
static void
roundtrip_one(const unsigned char *in, size_t n, int url, int kind)
{
	unsigned char	*out;
	size_t		 olen = 12345, elen;
	char		*enc;

	enc = url ? b64url_encode(in, n) : b64_encode(in, n);
	ck_assert_ptr_nonnull(enc);
	elen = strlen(enc);
	ck_assert_msg(elen == (url ? (n * 4 + 2) / 3 : (n + 2) / 3 * 4),
	    "n=%zu url=%d: length %zu", n, url, elen);
	ck_assert_msg(in_alpha(enc, url), "alphabet: %s", enc);
	out = url ? b64url_decode(enc, elen, &olen) :
	    b64_decode(enc, elen, &olen);
	ck_assert_msg(out != NULL, "decode n=%zu url=%d: %s", n, url, enc);
	/* same bytes, and the promised extra NUL after them */
	ck_assert_msg(olen == n && memcmp(out, in, n) == 0 && out[n] == 0,
	    "n=%zu url=%d kind=%d: round trip", n, url, kind);
	free(out);
	free(enc);
}

/* Lengths 0..40, each with three byte patterns, in both modes. */
START_TEST(test_b64_roundtrip)
{
	unsigned char	 in[40];
	size_t		 n;
	int		 kind;

	for (n = 0; n <= sizeof(in); n++) {
		for (kind = 0; kind < 3; kind++) {
			fill(in, n, kind);
			roundtrip_one(in, n, 0, kind);
			roundtrip_one(in, n, 1, kind);
		}
	}
}
END_TEST

static const struct {
	const char	*plain;
	const char	*std;
	const char	*url;
} b64vec[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
	{ "\xfb\xff", "+/8=", "-_8" },
	{ "\xfb\xef\xbe", "++++", "----" },
	{ "\xff\xff\xff", "////", "____" },
	{ "A", "QQ==", "QQ" },
	{ "AB", "QUI=", "QUI" },
};

START_TEST(test_b64_vectors)
{
	size_t		 n = strlen(b64vec[_i].plain), olen;
	char		*e;
	unsigned char	*d;

	e = b64_encode(b64vec[_i].plain, n);
	ck_assert_str_eq(e, b64vec[_i].std);
	free(e);
	e = b64url_encode(b64vec[_i].plain, n);
	ck_assert_str_eq(e, b64vec[_i].url);
	free(e);
	d = b64_decode(b64vec[_i].std, strlen(b64vec[_i].std), &olen);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(olen, n);
	ck_assert_int_eq(memcmp(d, b64vec[_i].plain, n), 0);
	free(d);
	d = b64url_decode(b64vec[_i].url, strlen(b64vec[_i].url), &olen);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(olen, n);
	ck_assert_int_eq(memcmp(d, b64vec[_i].plain, n), 0);
	free(d);
}
END_TEST

static const struct {
	int		 url;
	const char	*s;
	size_t		 len;	/* 0: strlen */
	const char	*why;
} b64bad[] = {
	/* std: padding */
	{ 0, "Zg", 0, "missing padding" },
	{ 0, "Zm8", 0, "missing padding" },
	{ 0, "Zg=", 0, "length not a multiple of 4" },
	{ 0, "Zm9vYg", 0, "missing padding" },
	{ 0, "Zg===", 0, "too much padding" },
	{ 0, "Z===", 0, "three pad characters" },
	{ 0, "====", 0, "padding only" },
	{ 0, "Zg=A", 0, "padding in the middle" },
	{ 0, "=Zg=", 0, "leading padding" },
	{ 0, "Zm8=Zm8=", 0, "padding before the end" },
	{ 0, "Zm9v=", 0, "stray pad" },
	{ 0, "Z", 0, "length 1" },
	{ 0, "Zm9vY", 0, "length %4 == 1" },
	/* std: alphabet */
	{ 0, "-_8=", 0, "url alphabet in std mode" },
	{ 0, "Zm9-", 0, "url alphabet in std mode" },
	{ 0, "Zm 9", 0, "space" },
	{ 0, "Zm9v\n", 0, "newline" },
	{ 0, "Zm9v\r\nZm9v", 0, "line break" },
	{ 0, "Zm.v", 0, "dot" },
	{ 0, "Zm9\xc3\xa9", 0, "non-ASCII" },
	{ 0, "Zm\0v", 4, "NUL" },
	/* std: non-canonical trailing bits */
	{ 0, "Zh==", 0, "non-canonical 1 byte" },
	{ 0, "QR==", 0, "non-canonical 1 byte" },
	{ 0, "Zm9=", 0, "non-canonical 2 bytes" },
	{ 0, "QUJ=", 0, "non-canonical 2 bytes" },
	/* url: padding is never allowed */
	{ 1, "Zg==", 0, "padding in url mode" },
	{ 1, "Zm8=", 0, "padding in url mode" },
	{ 1, "Zg=", 0, "padding in url mode" },
	{ 1, "Zm9v====", 0, "padding in url mode" },
	{ 1, "=", 0, "padding in url mode" },
	/* url: alphabet */
	{ 1, "+/8", 0, "std alphabet in url mode" },
	{ 1, "Zm9v+", 0, "std alphabet in url mode" },
	{ 1, "Zm9/", 0, "std alphabet in url mode" },
	{ 1, "Zm9v!", 0, "bang" },
	{ 1, "Zm9v Zg", 0, "space" },
	{ 1, "Zg%3D", 0, "percent" },
	{ 1, "Zm\0v", 4, "NUL" },
	/* url: length % 4 == 1 */
	{ 1, "Q", 0, "length 1" },
	{ 1, "QUJDR", 0, "length 5" },
	{ 1, "Zm9vYmFyZ", 0, "length 9" },
	/* url: non-canonical: "A" is "QQ"; "QR" sets a trailing bit */
	{ 1, "QR", 0, "non-canonical 1 byte" },
	{ 1, "Qf", 0, "non-canonical 1 byte" },
	{ 1, "Q_", 0, "non-canonical 1 byte" },
	{ 1, "QUJ", 0, "non-canonical 2 bytes" },
	{ 1, "QUL", 0, "non-canonical 2 bytes" },
	{ 1, "Zm9vYmF", 0, "non-canonical 2 bytes" },
};

START_TEST(test_b64_reject)
{
	const char	*s = b64bad[_i].s;
	size_t		 n, olen;
	unsigned char	*d;

	n = b64bad[_i].len ? b64bad[_i].len : strlen(s);
	d = b64bad[_i].url ? b64url_decode(s, n, &olen) :
	    b64_decode(s, n, &olen);
	ck_assert_msg(d == NULL, "%s decode of \"%s\" accepted (%s)",
	    b64bad[_i].url ? "url" : "std", s, b64bad[_i].why);
	free(d);
}
END_TEST

/*
 * Every second character after "Q": only those whose low 4 bits are zero
 * decode (1 byte); for three characters only low 2 bits zero (2 bytes).
 */
START_TEST(test_b64_canonical)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char		 s[8];
	unsigned char	*d;
	size_t		 olen, v, ok1 = 0, ok2 = 0;

	for (v = 0; v < 64; v++) {
		s[0] = 'Q';
		s[1] = alpha[v];
		d = b64url_decode(s, 2, &olen);
		ck_assert_msg((d != NULL) == ((v & 15) == 0), "Q%c", alpha[v]);
		if (d != NULL) {
			ck_assert_uint_eq(olen, 1);
			ck_assert_uint_eq(d[0], 0x40 | (v >> 4));
			ok1++;
		}
		free(d);
		s[1] = 'U';
		s[2] = alpha[v];
		d = b64url_decode(s, 3, &olen);
		ck_assert_msg((d != NULL) == ((v & 3) == 0), "QU%c", alpha[v]);
		if (d != NULL) {
			ck_assert_uint_eq(olen, 2);
			ok2++;
		}
		free(d);
	}
	ck_assert_uint_eq(ok1, 4);
	ck_assert_uint_eq(ok2, 16);
}
END_TEST

/* -------------------------------------------------------------- ct_equal */

START_TEST(test_ct_equal)
{
	const char a[] = "0123456789abcdef";
	char b[sizeof(a)];

	memcpy(b, a, sizeof(a));
	ck_assert_int_eq(ct_equal(a, b, 16), 1);
	ck_assert_int_eq(ct_equal(a, b, 0), 1);
	b[0] ^= 1;
	ck_assert_int_eq(ct_equal(a, b, 16), 0);
	ck_assert_int_eq(ct_equal(a + 1, b + 1, 15), 1);
	b[0] = a[0];
	b[15] ^= (char)0x80;
	ck_assert_int_eq(ct_equal(a, b, 16), 0);
	/* bytes past n do not count */
	ck_assert_int_eq(ct_equal(a, b, 15), 1);
	ck_assert_int_eq(ct_equal("\x00", "\x80", 1), 0);
}
END_TEST

/* ------------------------------------------------------------ parse_long */

static const struct {
	const char	*s;
	long		 min, max;
	int		 rc;
	long		 val;
} pl[] = {
	{ "0", 0, 100, 0, 0 },
	{ "42", 0, 100, 0, 42 },
	{ "100", 0, 100, 0, 100 },
	{ "101", 0, 100, -1, 0 },
	{ "-1", 0, 100, -1, 0 },
	{ "-1", -5, 5, 0, -1 },
	{ "-5", -5, 5, 0, -5 },
	{ "-6", -5, 5, -1, 0 },
	{ "007", 0, 10, 0, 7 },
	{ "9223372036854775807", LONG_MIN, LONG_MAX, 0, LONG_MAX },
	{ "-9223372036854775808", LONG_MIN, LONG_MAX, 0, LONG_MIN },
	{ "9223372036854775808", LONG_MIN, LONG_MAX, -1, 0 },
	{ "-9223372036854775809", LONG_MIN, LONG_MAX, -1, 0 },
	{ "99999999999999999999999", LONG_MIN, LONG_MAX, -1, 0 },
	{ "", 0, 100, -1, 0 },
	{ "abc", 0, 100, -1, 0 },
	{ "12abc", 0, 100, -1, 0 },
	{ "12 ", 0, 100, -1, 0 },
	{ " 12", 0, 100, -1, 0 },
	{ "\t12", 0, 100, -1, 0 },
	{ "\n12", 0, 100, -1, 0 },
	{ "1 2", 0, 100, -1, 0 },
	{ "0x10", 0, 100, -1, 0 },
	{ "1e3", 0, 10000, -1, 0 },
	{ "1.0", 0, 100, -1, 0 },
	{ "--1", -5, 5, -1, 0 },
	{ "-", -5, 5, -1, 0 },
	{ "+", -5, 5, -1, 0 },
	{ "\xef\xbc\x95", 0, 100, -1, 0 },
};

START_TEST(test_parse_long)
{
	long	 v = 777;
	int	 rc;

	rc = parse_long(pl[_i].s, pl[_i].min, pl[_i].max, &v);
	ck_assert_msg(rc == pl[_i].rc, "parse_long(\"%s\", %ld, %ld) = %d",
	    pl[_i].s, pl[_i].min, pl[_i].max, rc);
	if (rc == 0)
		ck_assert_int_eq(v, pl[_i].val);
	else
		ck_assert_int_eq(v, 777);	/* untouched on failure */
}
END_TEST

START_TEST(test_parse_long_null)
{
	long v = 5;

	ck_assert_int_eq(parse_long(NULL, 0, 10, &v), -1);
	ck_assert_int_eq(v, 5);
}
END_TEST

/* ------------------------------------------------------------ utf8/ascii */

static const struct {
	const char	*s;
	size_t		 n;	/* 0: strlen */
	int		 ok;
	const char	*why;
} u8[] = {
	{ "", 0, 1, "empty" },
	{ "hello, world ~", 0, 1, "ASCII" },
	{ "caf\xc3\xa9", 0, 1, "2-byte e acute" },
	{ "\xc2\xa0", 0, 1, "U+00A0 (first after C1)" },
	{ "\xdf\xbf", 0, 1, "U+07FF" },
	{ "\xe0\xa0\x80", 0, 1, "U+0800" },
	{ "\xe2\x82\xac", 0, 1, "3-byte euro" },
	{ "\xed\x9f\xbf", 0, 1, "U+D7FF" },
	{ "\xee\x80\x80", 0, 1, "U+E000" },
	{ "\xef\xbf\xbf", 0, 1, "U+FFFF" },
	{ "\xf0\x90\x80\x80", 0, 1, "U+10000" },
	{ "\xf0\x9f\x98\x80", 0, 1, "4-byte emoji" },
	{ "\xf4\x8f\xbf\xbf", 0, 1, "U+10FFFF" },
	{ "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 0, 1, "mixed" },
	/* controls */
	{ "a\0b", 3, 0, "NUL" },
	{ "\x01", 0, 0, "C0 SOH" },
	{ "a\tb", 0, 0, "tab" },
	{ "a\nb", 0, 0, "LF" },
	{ "a\rb", 0, 0, "CR" },
	{ "\x1f", 0, 0, "C0 US" },
	{ "\x7f", 0, 0, "DEL" },
	{ "\xc2\x80", 0, 0, "C1 U+0080" },
	{ "\xc2\x85", 0, 0, "C1 NEL" },
	{ "\xc2\x9f", 0, 0, "C1 U+009F" },
	/* overlong */
	{ "\xc0\x80", 0, 0, "overlong NUL" },
	{ "\xc0\xaf", 0, 0, "overlong slash" },
	{ "\xc1\xbf", 0, 0, "overlong 2-byte" },
	{ "\xe0\x80\xaf", 0, 0, "overlong 3-byte slash" },
	{ "\xe0\x9f\xbf", 0, 0, "overlong U+07FF in 3 bytes" },
	{ "\xf0\x80\x80\xaf", 0, 0, "overlong 4-byte slash" },
	{ "\xf0\x8f\xbf\xbf", 0, 0, "overlong U+FFFF in 4 bytes" },
	/* surrogates and range */
	{ "\xed\xa0\x80", 0, 0, "U+D800" },
	{ "\xed\xbf\xbf", 0, 0, "U+DFFF" },
	{ "\xed\xa0\xbd\xed\xb8\x80", 0, 0, "CESU-8 pair" },
	{ "\xf4\x90\x80\x80", 0, 0, "U+110000" },
	{ "\xf5\x80\x80\x80", 0, 0, "lead F5" },
	{ "\xf8\x88\x80\x80\x80", 0, 0, "5-byte form" },
	{ "\xfe", 0, 0, "FE" },
	{ "\xff", 0, 0, "FF" },
	/* broken sequences */
	{ "\x80", 0, 0, "lone continuation" },
	{ "a\xbf", 0, 0, "lone continuation after ASCII" },
	{ "\xc3", 0, 0, "truncated 2-byte" },
	{ "\xe2\x82", 0, 0, "truncated 3-byte" },
	{ "\xf0\x9f\x98", 0, 0, "truncated 4-byte" },
	{ "\xc3" "A", 0, 0, "2-byte with ASCII continuation" },
	{ "\xe2\x82" "A", 0, 0, "3-byte with ASCII continuation" },
	{ "\xe2\xc3\xa9", 0, 0, "3-byte lead then 2-byte seq" },
	/* n bounds the check: a valid prefix of a longer string */
	{ "caf\xc3\xa9", 4, 0, "cut inside a sequence by n" },
	{ "ok\x01", 2, 1, "control byte past n" },
};

START_TEST(test_utf8)
{
	size_t n = u8[_i].n ? u8[_i].n : strlen(u8[_i].s);

	ck_assert_msg(is_clean_utf8(u8[_i].s, n) == u8[_i].ok,
	    "is_clean_utf8(%s) != %d", u8[_i].why, u8[_i].ok);
}
END_TEST

START_TEST(test_printable_ascii)
{
	ck_assert_int_eq(is_printable_ascii("", 0), 1);
	ck_assert_int_eq(is_printable_ascii(" ~AZaz09!", 9), 1);
	ck_assert_int_eq(is_printable_ascii("a\tb", 3), 0);
	ck_assert_int_eq(is_printable_ascii("a\x7f", 2), 0);
	ck_assert_int_eq(is_printable_ascii("a\x1f", 2), 0);
	ck_assert_int_eq(is_printable_ascii("\xc3\xa9", 2), 0);
	ck_assert_int_eq(is_printable_ascii("a\0b", 3), 0);
	ck_assert_int_eq(is_printable_ascii("ab\n", 2), 1);
}
END_TEST

/* -------------------------------------------------------------- fmt_time */

static const struct {
	long long	 t;
	const char	*s;
} tv[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ -1, "1969-12-31T23:59:59Z" },
	{ 951782400, "2000-02-29T00:00:00Z" },
	{ 1234567890, "2009-02-13T23:31:30Z" },
	{ 1711965600, "2024-04-01T10:00:00Z" },
	{ 2147483647, "2038-01-19T03:14:07Z" },
	{ 2147483648LL, "2038-01-19T03:14:08Z" },
	{ 253402300799LL, "9999-12-31T23:59:59Z" },
};

START_TEST(test_fmt_time)
{
	char out[21];

	memset(out, 'X', sizeof(out));
	fmt_time((time_t)tv[_i].t, out);
	ck_assert_str_eq(out, tv[_i].s);
}
END_TEST

/*
 * Years past 9999 do not fit: whatever fmt_time writes must still be a
 * NUL-terminated string inside the 21 bytes it was given.
 */
START_TEST(test_fmt_time_overflow)
{
	char		 out[32];
	const long long	 ts[] = { 253402300800LL, 32503680000LL * 100 };
	size_t		 i;

	for (i = 0; i < NELEM(ts); i++) {
		memset(out, 'X', sizeof(out));
		fmt_time((time_t)ts[i], out);
		ck_assert_msg(memchr(out, '\0', 21) != NULL,
		    "fmt_time(%lld) left out[0..21) unterminated: %.21s",
		    ts[i], out);
		ck_assert_int_eq(out[21], 'X');	/* no write past 21 */
	}
}
END_TEST

START_TEST(test_now_ms)
{
	uint64_t	 a, b;
	time_t		 t = time(NULL);

	a = now_ms();
	b = now_ms();
	ck_assert_uint_ge(b, a);
	ck_assert_uint_ge(a / 1000 + 1, (uint64_t)t);
	ck_assert_uint_le(a / 1000, (uint64_t)t + 1);
}
END_TEST

/* ---------------------------------------------------------------- jsonx */

static struct json_object *
parse(const char *s, size_t n, int depth, const char **err)
{
	return jsonx_parse(s, n ? n : strlen(s), depth, 0, err);
}

static const struct {
	const char	*s;
	int		 depth;
} jgood[] = {
	{ "{}", 4 },
	{ "[]", 4 },
	{ " \t\r\n{\"a\":1} \n\t\r ", 4 },
	{ "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":true,\"e\":false}", 4 },
	{ "{\"a\":\"\\u00e9\\n\\t\\\"\\\\\\/\"}", 4 },
	{ "{\"a\":\"caf\xc3\xa9\"}", 4 },
	/* the same key in another object; a value equal to a key */
	{ "{\"a\":1,\"b\":{\"a\":2}}", 4 },
	{ "[{\"a\":1},{\"a\":1}]", 4 },
	{ "{\"a\":\"a\",\"b\":\"a\"}", 4 },
	{ "{\"a\":[\"b\",\"b\"],\"b\":1}", 4 },
	{ "{\"a\":\"{\\\"a\\\":1}\",\"b\":\"}\",\"c\":\"]\"}", 4 },
	{ "{\"\\ud83d\\ude00\":1,\"x\":2}", 4 },
	{ "{\"A\":1,\"a\":2}", 4 },			/* case matters */
	{ "{\"a\":1,\"a \":2}", 4 },
	{ "{\"a\":-0.5e-3,\"b\":1e308,\"c\":-1E+2,\"d\":0}", 4 },
	{ "{\"\":1}", 4 },
	{ "\"just a string\"", 4 },
};

START_TEST(test_jsonx_accept)
{
	const char		*err = "unset";
	struct json_object	*o;

	o = parse(jgood[_i].s, 0, jgood[_i].depth, &err);
	ck_assert_msg(o != NULL, "rejected %s: %s", jgood[_i].s,
	    err ? err : "(null)");
	ck_assert_ptr_null(err);
	json_object_put(o);
}
END_TEST

/* Top-level scalars are JSON values too (RFC 8259). */
static const char *const jscalar[] = { "1", "-1.5e3", "true", "false",
    "0" };

START_TEST(test_jsonx_scalar)
{
	const char		*err = NULL;
	struct json_object	*o;

	o = parse(jscalar[_i], 0, 4, &err);
	ck_assert_msg(o != NULL, "top-level %s rejected: %s", jscalar[_i],
	    err ? err : "(null)");
	ck_assert_msg(err == NULL, "top-level %s: %s", jscalar[_i], err);
	json_object_put(o);
}
END_TEST

static const struct {
	const char	*s;
	size_t		 n;	/* 0: strlen */
	const char	*err;	/* exact error, or NULL: any */
} jbad[] = {
	/* duplicate keys */
	{ "{\"a\":1,\"a\":2}", 0, "duplicate key" },
	{ "{\"a\":1,\"\\u0061\":2}", 0, "duplicate key" },
	{ "{\"\\u0061\":1,\"a\":2}", 0, "duplicate key" },
	{ "{\"\\u00E9\":1,\"\\u00e9\":2}", 0, "duplicate key" },
	{ "{\"\\u00e9\":1,\"\xc3\xa9\":2}", 0, "duplicate key" },
	{ "{\"\\/\":1,\"/\":2}", 0, "duplicate key" },
	{ "{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", 0, "duplicate key" },
	{ "{\"b\":{\"a\":1,\"a\":2}}", 0, "duplicate key" },
	{ "[{\"a\":1,\"a\":1}]", 0, "duplicate key" },
	{ "{\"a\":{\"x\":1},\"a\":2}", 0, "duplicate key" },
	{ "{ \"a\" : { \"a\" : 1 } , \"a\" : 2 }", 0, "duplicate key" },
	{ "[\"}\",{\"a\":1,\"a\":1}]", 0, "duplicate key" },
	{ "{\"k\":\"\\\"\",\"k\":1}", 0, "duplicate key" },
	{ "{\"x\":[{\"y\":{\"z\":1,\"z\":1}}]}", 0, "duplicate key" },
	/* trailing data */
	{ "{\"a\":1} x", 0, NULL },
	{ "{}{}", 0, NULL },
	{ "{},", 0, NULL },
	{ "[1] [2]", 0, NULL },
	{ "{} // c", 0, NULL },
	{ "[1]\v", 0, NULL },
	/* NaN, Infinity, out of range */
	{ "[NaN]", 0, "NaN and Infinity are not JSON" },
	{ "{\"a\":NaN}", 0, "NaN and Infinity are not JSON" },
	{ "[Infinity]", 0, "NaN and Infinity are not JSON" },
	{ "[-Infinity]", 0, "NaN and Infinity are not JSON" },
	{ "[nan]", 0, NULL },
	{ "NaN", 0, NULL },
	{ "[1e999]", 0, "number out of range" },
	{ "[-1e999]", 0, "number out of range" },
	{ "{\"a\":{\"b\":1E400}}", 0, "number out of range" },
	/* keys */
	{ "{\"\\ud800\":1}", 0, "unpaired surrogate in a string" },
	{ "{\"\\udc00\":1}", 0, "unpaired surrogate in a string" },
	{ "{\"\\ud800\\u0041\":1}", 0, "unpaired surrogate in a string" },
	{ "{\"x\\udbff\":1}", 0, "unpaired surrogate in a string" },
	{ "{\"a\\u0000b\":1}", 0, "NUL byte in a key" },
	/* NUL bytes in the text */
	{ "{\"a\":\"b\0c\"}", 11, "NUL byte in document" },
	{ "{\"a\":1}\0", 8, "NUL byte in document" },
	{ "\0", 1, "NUL byte in document" },
	/* malformed */
	{ "", 0, NULL },
	{ "   ", 0, NULL },
	{ "{\"a\":1", 0, NULL },
	{ "[1,]", 0, NULL },
	{ "{\"a\":1,}", 0, NULL },
	{ "[01]", 0, NULL },
	{ "[.5]", 0, NULL },
	{ "[+1]", 0, NULL },
	{ "[0x10]", 0, NULL },
	{ "[True]", 0, NULL },
	{ "{\"a\" 1}", 0, NULL },
	{ "{1:1}", 0, NULL },
	{ "/* c */ {}", 0, NULL },
	{ "[\"a\\q\"]", 0, NULL },
	{ "[\"\xff\"]", 0, NULL },
	{ "{\"a\":\"\xc3\"}", 0, NULL },
	/* strictness that json-c alone does not give */
	{ "{'a':1}", 0, NULL },
	{ "{'a':1,'a':2}", 0, NULL },
	{ "{'a':1,\"a\":2}", 0, NULL },
	{ "[\"a\x01\"]", 0, NULL },
	{ "[\"a\tb\"]", 0, NULL },
	{ "[\"\xc0\x80\"]", 0, NULL },
	{ "{\"\xc0\xe1\":1}", 0, NULL },
	{ "[\"\xed\xa0\x80\"]", 0, NULL },
	{ "[\"\xf4\x90\x80\x80\"]", 0, NULL },
	{ "[1.]", 0, NULL },
};

START_TEST(test_jsonx_reject)
{
	const char		*err = NULL;
	struct json_object	*o;
	int			 ok;

	o = parse(jbad[_i].s, jbad[_i].n, 8, &err);
	ok = o != NULL;
	json_object_put(o);	/* first: no leak under CK_FORK=no */
	ck_assert_msg(!ok, "accepted: %s", jbad[_i].s);
	ck_assert_msg(err != NULL && *err != '\0', "no error for %s",
	    jbad[_i].s);
	if (jbad[_i].err != NULL)
		ck_assert_msg(strcmp(err, jbad[_i].err) == 0,
		    "%s: got \"%s\", want \"%s\"", jbad[_i].s, err,
		    jbad[_i].err);

	/* the same answer on the wipe path */
	err = NULL;
	o = jsonx_parse(jbad[_i].s, jbad[_i].n ? jbad[_i].n :
	    strlen(jbad[_i].s), 8, 1, &err);
	ok = o != NULL;
	jsonx_put_wipe(o);
	ck_assert_msg(!ok, "accepted with wipe: %s", jbad[_i].s);
	ck_assert_ptr_nonnull(err);
}
END_TEST

/*
 * "Rejects nesting deeper than max_depth": a document of exactly
 * max_depth nested containers is accepted, one more level is not.
 */
static const struct {
	int		 depth;
	const char	*s;
	int		 ok;
} jdepth[] = {
	{ 1, "{}", 1 },
	{ 1, "[1]", 1 },
	{ 1, "{\"a\":1}", 1 },
	{ 1, "[[]]", 0 },
	{ 1, "{\"a\":{}}", 0 },
	{ 2, "{\"a\":{\"b\":1}}", 1 },
	{ 2, "[[1]]", 1 },
	{ 2, "[[[]]]", 0 },
	{ 3, "{\"a\":{\"b\":{\"c\":1}}}", 1 },
	{ 3, "[[[\"x\"]]]", 1 },
	{ 3, "[[[]]]", 1 },
	{ 3, "[[[[]]]]", 0 },
	{ 3, "{\"a\":{\"b\":{\"c\":{}}}}", 0 },
	{ 3, "{\"a\":[{\"c\":[1]}]}", 0 },
};

START_TEST(test_jsonx_depth)
{
	const char		*err = NULL;
	struct json_object	*o;
	int			 ok;

	o = parse(jdepth[_i].s, 0, jdepth[_i].depth, &err);
	ok = o != NULL;
	json_object_put(o);
	ck_assert_msg(ok == jdepth[_i].ok,
	    "max_depth %d, %s: %s (%s)", jdepth[_i].depth, jdepth[_i].s,
	    ok ? "accepted" : "rejected", err ? err : "");
	if (!ok)
		ck_assert_str_eq(err, "nesting too deep");
}
END_TEST

START_TEST(test_jsonx_deep_bomb)
{
	static char		 bomb[200000];
	const char		*err = NULL;
	struct json_object	*o;

	memset(bomb, '[', 100000);
	memset(bomb + 100000, ']', 100000);
	o = jsonx_parse(bomb, sizeof(bomb), 32, 0, &err);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(err, "nesting too deep");
}
END_TEST

static char *
many_keys(int n)
{
	struct buf	 b;
	int		 i;

	buf_init(&b, 1 << 20, 0);
	ck_assert_int_eq(buf_addc(&b, '{'), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(buf_printf(&b, "%s\"k%d\":%d", i ? "," : "",
		    i, i), 0);
	ck_assert_int_eq(buf_addc(&b, '}'), 0);
	return buf_steal(&b, NULL);
}

START_TEST(test_jsonx_max_keys)
{
	char			*s;
	const char		*err = NULL;
	struct json_object	*o;

	s = many_keys(JSONX_MAX_KEYS);
	o = jsonx_parse(s, strlen(s), 4, 0, &err);
	ck_assert_msg(o != NULL, "%d keys: %s", JSONX_MAX_KEYS, err);
	ck_assert_int_eq(json_object_object_length(o), JSONX_MAX_KEYS);
	json_object_put(o);
	free(s);

	s = many_keys(JSONX_MAX_KEYS + 1);
	o = jsonx_parse(s, strlen(s), 4, 0, &err);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(err, "too many keys in one object");
	free(s);
}
END_TEST

static int
all_zero(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != '\0')
			return 0;
	return 1;
}

/*
 * jsonx_put_wipe zeroes every string in the tree before dropping it.  We
 * keep our own reference to each string node so that it outlives the
 * tree and can be inspected afterwards.
 */
START_TEST(test_jsonx_put_wipe)
{
	static const char doc[] =
	    "{\"a\":\"short-secret\","
	    "\"b\":[\"x\",\"a-much-longer-secret-value-well-over-32-bytes-"
	    "0123456789abcdef\",{\"c\":\"nested-secret\"}],"
	    "\"n\":42,\"t\":true,\"z\":null}";
	const char		*err = NULL;
	struct json_object	*o, *s[4], *b, *v;
	size_t			 len[4], i;

	o = jsonx_parse(doc, strlen(doc), 8, 1, &err);
	ck_assert_msg(o != NULL, "%s", err);
	ck_assert_str_eq(jsonx_get_str(o, "a"), "short-secret");
	b = jsonx_get(o, "b", json_type_array);
	ck_assert_ptr_nonnull(b);
	s[0] = jsonx_get(o, "a", json_type_string);
	s[1] = json_object_array_get_idx(b, 0);
	s[2] = json_object_array_get_idx(b, 1);
	s[3] = jsonx_get(json_object_array_get_idx(b, 2), "c",
	    json_type_string);
	for (i = 0; i < NELEM(s); i++) {
		ck_assert_ptr_nonnull(s[i]);
		ck_assert(json_object_is_type(s[i], json_type_string));
		len[i] = (size_t)json_object_get_string_len(s[i]);
		ck_assert_uint_gt(len[i], 0);
		ck_assert(!all_zero(json_object_get_string(s[i]), len[i]));
		json_object_get(s[i]);
	}
	ck_assert_uint_gt(len[2], 32);	/* heap-stored string in json-c */
	v = jsonx_get(o, "n", json_type_int);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(json_object_get_int(v), 42);

	jsonx_put_wipe(o);
	for (i = 0; i < NELEM(s); i++) {
		ck_assert_msg(all_zero(json_object_get_string(s[i]), len[i]),
		    "string %zu not wiped", i);
		json_object_put(s[i]);
	}
	jsonx_put_wipe(NULL);	/* no crash */
}
END_TEST

/*
 * A lone string (short and heap-stored), a string inside an array with a
 * NULL member, and an int: jsonx_put_wipe zeroes the strings, leaves the
 * int alone and drops exactly one reference.  As above, a reference of
 * our own keeps each node alive to look at; json_object_put returning 1
 * then shows that ours was the last one.
 */
START_TEST(test_jsonx_put_wipe_scalar)
{
	static const char	*strs[] = { "lonely secret",
	    "a lonely secret that is well over thirty-two bytes long" };
	struct json_object	*o, *arr, *in;
	size_t			 i, len;

	for (i = 0; i < NELEM(strs); i++) {
		o = json_object_new_string(strs[i]);
		len = strlen(strs[i]);
		ck_assert_uint_eq((size_t)json_object_get_string_len(o), len);
		json_object_get(o);
		jsonx_put_wipe(o);
		ck_assert_msg(all_zero(json_object_get_string(o), len),
		    "string %zu not wiped", i);
		ck_assert_int_eq(json_object_put(o), 1);
	}
	o = json_object_new_int(5);
	json_object_get(o);
	jsonx_put_wipe(o);
	ck_assert_int_eq(json_object_get_int(o), 5);
	ck_assert_int_eq(json_object_put(o), 1);
	arr = json_object_new_array();
	in = json_object_new_string("in array");
	json_object_array_add(arr, in);
	json_object_array_add(arr, NULL);
	json_object_get(in);
	json_object_get(arr);
	jsonx_put_wipe(arr);
	ck_assert(all_zero(json_object_get_string(in), strlen("in array")));
	ck_assert_uint_eq(json_object_array_length(arr), 2);
	ck_assert_int_eq(json_object_put(arr), 1);
	ck_assert_int_eq(json_object_put(in), 1);
}
END_TEST

START_TEST(test_jsonx_get)
{
	static const char doc[] =
	    "{\"s\":\"str\",\"i\":3,\"o\":{},\"a\":[],\"n\":null,\"b\":false}";
	const char		*err = NULL;
	struct json_object	*o, *arr;

	o = parse(doc, 0, 4, &err);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jsonx_get_str(o, "s"), "str");
	ck_assert_ptr_null(jsonx_get_str(o, "i"));
	ck_assert_ptr_null(jsonx_get_str(o, "missing"));
	ck_assert_ptr_null(jsonx_get_str(o, "n"));
	ck_assert_ptr_nonnull(jsonx_get(o, "i", json_type_int));
	ck_assert_ptr_null(jsonx_get(o, "i", json_type_string));
	ck_assert_ptr_nonnull(jsonx_get(o, "o", json_type_object));
	ck_assert_ptr_nonnull(jsonx_get(o, "a", json_type_array));
	ck_assert_ptr_null(jsonx_get(o, "a", json_type_object));
	ck_assert_ptr_nonnull(jsonx_get(o, "b", json_type_boolean));
	ck_assert_ptr_null(jsonx_get(NULL, "s", json_type_string));
	arr = jsonx_get(o, "a", json_type_array);
	ck_assert_ptr_null(jsonx_get(arr, "s", json_type_string));
	ck_assert_ptr_null(jsonx_get_str(arr, "s"));
	json_object_put(o);
}
END_TEST

/* ---------------------------------------------------------------- suite */

/*
 * jflat against json-c: every string json-c writes (quotes, backslashes,
 * slashes, control characters, non-ASCII, characters outside the BMP)
 * reads back the same, members and array items in order.
 */
START_TEST(test_jflat_roundtrip)
{
	static const char *const strs[] = {
		"", "plain", "a/b//c", "quote\"back\\slash", "\t\n\r\b\f",
		"\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac", "\xf0\x9f\x94\x91 key",
		"</script>", "tab\tend",
	};
	struct json_object	*o = json_object_new_object(), *a;
	struct jflat		 j;
	struct jflat_val	 v, e;
	const char		*text, *key;
	size_t			 klen, pos, i, n = sizeof(strs) / sizeof(strs[0]);
	char			 name[16], *t;
	int			 rc;

	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "k%zu", i);
		json_object_object_add(o, name, json_object_new_string(strs[i]));
		json_object_array_add(a, json_object_new_string(strs[i]));
	}
	json_object_object_add(o, "arr", a);
	json_object_object_add(o, "num", json_object_new_int64(-1234567890123LL));
	json_object_object_add(o, "zero", json_object_new_int(0));
	json_object_object_add(o, "nil", NULL);
	json_object_object_add(o, "empty", json_object_new_array());
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ck_assert_int_eq(jflat_open(&j, text, strlen(text)), 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(jflat_next(&j, &key, &klen, &v), 1);
		snprintf(name, sizeof(name), "k%zu", i);
		ck_assert_uint_eq(klen, strlen(name));
		ck_assert(memcmp(key, name, klen) == 0);
		ck_assert_int_eq(v.type, JFLAT_STRING);
		ck_assert_ptr_nonnull(t = jflat_strdup(&v));
		ck_assert_str_eq(t, strs[i]);
		free(t);
	}
	ck_assert_int_eq(jflat_next(&j, &key, &klen, &v), 1);
	ck_assert_int_eq(v.type, JFLAT_ARRAY);
	pos = 0;
	for (i = 0; (rc = jflat_array_next(&v, &pos, &e)) == 1; i++) {
		ck_assert_uint_lt(i, n);
		ck_assert_ptr_nonnull(t = jflat_strdup(&e));
		ck_assert_str_eq(t, strs[i]);
		free(t);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(i, n);
	ck_assert_int_eq(jflat_next(&j, &key, &klen, &v), 1);
	ck_assert_int_eq(v.type, JFLAT_INT);
	ck_assert(v.num == -1234567890123LL);
	ck_assert_int_eq(jflat_next(&j, &key, &klen, &v), 1);
	ck_assert_int_eq(v.type, JFLAT_INT);
	ck_assert(v.num == 0);
	ck_assert_int_eq(jflat_next(&j, &key, &klen, &v), 1);
	ck_assert_int_eq(v.type, JFLAT_NULL);
	ck_assert_int_eq(jflat_next(&j, &key, &klen, &v), 1);
	ck_assert_int_eq(v.type, JFLAT_ARRAY);
	pos = 0;
	ck_assert_int_eq(jflat_array_next(&v, &pos, &e), 0);
	ck_assert_int_eq(jflat_next(&j, &key, &klen, &v), 0);
	json_object_put(o);
}
END_TEST

/* What json-c does not write is -1 (the caller falls back), never a guess. */
START_TEST(test_jflat_rejects)
{
	static const char *const bad[] = {
		"", "[]", "{", "{\"a\":1", "{\"a\":1}x", "{\"a\" 1}", "{\"a\":}",
		"{,\"a\":1}", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "{\"a\":1.5}",
		"{\"a\":1e3}", "{\"a\":01}", "{\"a\":-}", "{\"a\":true}",
		"{\"a\":{\"b\":1}}", "{\"a\":[1]}", "{\"a\":[\"x\",]}",
		"{\"a\":[,\"x\"]}", "{\"a\":[\"x\" \"y\"]}", "{\"a\":[\"x\",,\"y\"]}",
		"{\"a\\u0062\":1}", "{\"a\":\"x}",
		"{\"a\":99999999999999999999}", "{\"a\":nul}",
	};
	struct jflat		 j;
	struct jflat_val	 v;
	const char		*key;
	size_t			 klen, i;
	int			 rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = jflat_open(&j, bad[i], strlen(bad[i]));
		while (rc == 0 && (rc = jflat_next(&j, &key, &klen, &v)) == 1)
			rc = 0;
		ck_assert_msg(rc == -1, "accepted %s", bad[i]);
	}
}
END_TEST

/* Escapes json-c would never write, or that name no character: NULL. */
START_TEST(test_jflat_strdup_bad)
{
	static const char *const bad[] = {
		"\\", "\\x", "\\u12", "\\u12g4", "\\u0000", "\\ud800",
		"\\udc00", "\\ud800\\u0041", "\\ud800x", "raw\x01", "raw\x1f\\n",
	};
	struct jflat_val	 v;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&v, 0, sizeof(v));
		v.type = JFLAT_STRING;
		v.p = bad[i];
		v.len = strlen(bad[i]);
		v.escaped = 1;
		ck_assert_msg(jflat_strdup(&v) == NULL, "accepted %s", bad[i]);
	}
	v.p = "\\ud83d\\udd11";
	v.len = strlen(v.p);
	{
		char *t = jflat_strdup(&v);

		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(t, "\xf0\x9f\x94\x91");
		free(t);
	}
}
END_TEST

/* jsonx_buf_str writes what json-c writes (PLAIN | NOSLASHESCAPE). */
START_TEST(test_jsonx_buf_str_like_jsonc)
{
	struct json_object	*o;
	struct buf		 b;
	char			 in[8];
	const char		*want;
	char			*got;
	size_t			 n;
	int			 c;

	for (c = 1; c < 256; c++) {
		snprintf(in, sizeof(in), "a%cb", c);
		o = json_object_new_string(in);
		want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		buf_init(&b, 64, 0);
		ck_assert_int_eq(jsonx_buf_str(&b, in), 0);
		got = buf_steal(&b, &n);
		ck_assert_msg(n == strlen(want) && memcmp(got, want, n) == 0,
		    "byte %d: %.*s, json-c %s", c, (int)n, got, want);
		free(got);
		json_object_put(o);
	}
	buf_init(&b, 64, 0);
	ck_assert_int_eq(jsonx_buf_str(&b, NULL), 0);
	ck_assert_int_eq(jsonx_buf_str(&b, "caf\xc3\xa9 </x>"), 0);
	ck_assert_int_eq(jsonx_buf_time(&b, 0), 0);
	ck_assert_int_eq(jsonx_buf_time(&b, 86400), 0);
	got = buf_steal(&b, &n);
	ck_assert_str_eq(got,
	    "null\"caf\xc3\xa9 </x>\"null\"1970-01-02T00:00:00Z\"");
	free(got);
	buf_init(&b, 4, 0);		/* the cap holds */
	ck_assert_int_eq(jsonx_buf_str(&b, "too long"), -1);
	buf_reset(&b);
}
END_TEST

START_TEST(test_hex_digit)
{
	ck_assert_int_eq(hex_digit('0'), 0);
	ck_assert_int_eq(hex_digit('9'), 9);
	ck_assert_int_eq(hex_digit('a'), 10);
	ck_assert_int_eq(hex_digit('F'), 15);
	ck_assert_int_eq(hex_digit('g'), -1);
	ck_assert_int_eq(hex_digit('\0'), -1);
	ck_assert_int_eq(hex_digit('/'), -1);
}
END_TEST

/* Lowercase, two digits a byte, NUL after; nothing written past it. */
START_TEST(test_hex_encode)
{
	static const unsigned char in[] = { 0x00, 0x0f, 0xa5, 0xff, 0x10 };
	char out[2 * sizeof(in) + 2];

	memset(out, 'x', sizeof(out));
	hex_encode(in, sizeof(in), out);
	ck_assert_str_eq(out, "000fa5ff10");
	ck_assert_int_eq(out[sizeof(out) - 1], 'x');
	hex_encode(in, 0, out);
	ck_assert_str_eq(out, "");
}
END_TEST

static Suite *
util_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc;

	tc = tcase_create("buf");
	tcase_add_test(tc, test_buf_cap);
	tcase_add_loop_test(tc, test_buf_grow, 0, 2);
	tcase_add_test(tc, test_buf_printf);
	tcase_add_test(tc, test_buf_steal);
	tcase_add_test(tc, test_secure_wipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64");
	tcase_add_test(tc, test_b64_roundtrip);
	tcase_add_loop_test(tc, test_b64_vectors, 0, (int)NELEM(b64vec));
	tcase_add_loop_test(tc, test_b64_reject, 0, (int)NELEM(b64bad));
	tcase_add_test(tc, test_b64_canonical);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_ct_equal);
	tcase_add_loop_test(tc, test_parse_long, 0, (int)NELEM(pl));
	tcase_add_test(tc, test_parse_long_null);
	tcase_add_loop_test(tc, test_utf8, 0, (int)NELEM(u8));
	tcase_add_test(tc, test_printable_ascii);
	tcase_add_loop_test(tc, test_fmt_time, 0, (int)NELEM(tv));
	tcase_add_test(tc, test_fmt_time_overflow);
	tcase_add_test(tc, test_now_ms);
	suite_add_tcase(s, tc);

	tc = tcase_create("jsonx");
	tcase_add_loop_test(tc, test_jsonx_accept, 0, (int)NELEM(jgood));
	tcase_add_loop_test(tc, test_jsonx_scalar, 0, (int)NELEM(jscalar));
	tcase_add_loop_test(tc, test_jsonx_reject, 0, (int)NELEM(jbad));
	tcase_add_loop_test(tc, test_jsonx_depth, 0, (int)NELEM(jdepth));
	tcase_add_test(tc, test_jsonx_deep_bomb);
	tcase_add_test(tc, test_jsonx_max_keys);
	tcase_add_test(tc, test_jsonx_put_wipe);
	tcase_add_test(tc, test_jsonx_put_wipe_scalar);
	tcase_add_test(tc, test_jsonx_get);
	tcase_add_test(tc, test_jflat_roundtrip);
	tcase_add_test(tc, test_jsonx_buf_str_like_jsonc);
	tcase_add_test(tc, test_jflat_rejects);
	tcase_add_test(tc, test_jflat_strdup_bad);
	tcase_add_test(tc, test_hex_digit);
	tcase_add_test(tc, test_hex_encode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
#ifdef M_PERTURB
	/* fresh heap memory is never zero, so a missing NUL shows up */
	mallopt(M_PERTURB, 0x5a);
#endif
	return ck_run(util_suite());
}
