#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "credset.h"
#include "proxy.h"
#include "util.h"

/*
 * libFuzzer harness for the proxy's rules (proxy.h).  The input is a
 * client's {path}: proxy_path_ok must agree with an independent oracle
 * (below).  The same bytes are an answer header name for the header
 * filter (never Set-Cookie, never a name outside the list), and an
 * answer body for proxy_redact with two fixed stored values: neither is
 * left in it, verbatim or percent-encoded.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define DEPTH	4

/*
 * Decodes the valid %XX escapes of s[0..n) into out; 1 when one of them
 * was "%25" (the result holds escapes of its own to decode again).
 */
static int
decode(const char *s, size_t n, char *out, size_t *on)
{
	size_t	 i, o = 0;
	int	 h, l, pct = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && (h = hex_digit(s[i + 1])) >= 0 &&
		    (l = hex_digit(s[i + 2])) >= 0) {
			out[o] = (char)(h << 4 | l);
			pct |= out[o++] == '%';
			i += 2;
		} else
			out[o++] = s[i];
	}
	*on = o;
	return pct;
}

/*
 * A segment: decoded again while a "%25" made a new "%", at most DEPTH
 * times; 1 when no stage holds a dot segment (before a ';' too), a '/',
 * a '\\' or a control byte.
 */
static int
seg_safe(const char *s, size_t n)
{
	char	 a[PROXY_PATH_MAX + 1], b[PROXY_PATH_MAX + 1];
	size_t	 an, bn, i, m;
	int	 d, again;

	memcpy(a, s, n);
	an = n;
	for (d = 0; d < DEPTH; d++) {
		again = decode(a, an, b, &bn);
		for (i = 0; i < bn; i++)
			if ((unsigned char)b[i] < 0x20 || b[i] == 0x7f ||
			    b[i] == '/' || b[i] == '\\')
				return 0;
		for (m = 0; m < bn && b[m] != ';'; m++)
			;
		if ((m == 1 && b[0] == '.') || (m == 2 && b[0] == '.' &&
		    b[1] == '.'))
			return 0;
		if (!again)
			return 1;
		memcpy(a, b, bn);
		an = bn;
	}
	return 0;
}

/* The oracle of proxy_path_ok: 1 when p[0..n) is safe to forward. */
static int
path_safe(const char *p, size_t n)
{
	size_t	 i, start = 0;

	if (n == 0 || n > PROXY_PATH_MAX || p[0] == '/')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] >= 0x7f ||
		    p[i] == '\\' || p[i] == '@' || p[i] == '#' ||
		    (p[i] == '/' && i + 1 < n && p[i + 1] == '/') ||
		    (p[i] == '%' && (i + 2 >= n || hex_digit(p[i + 1]) < 0 ||
		    hex_digit(p[i + 2]) < 0)))
			return 0;	/* as sent: a malformed escape too */
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (!seg_safe(p + start, i - start))
			return 0;
		start = i + 1;
	}
	return 1;
}

static void
check_redact(const uint8_t *data, size_t size)
{
	struct credset	 cs;
	struct buf	 b;

	credset_init(&cs);
	if (credset_add(&cs, "a", "SECRET/+", 8) == -1 ||
	    credset_add(&cs, "b", "sec%ret-value", 13) == -1)
		abort();
	buf_init(&b, 8192, 1);
	if (buf_add(&b, data, size) == -1)
		abort();
	if (proxy_redact(&b, &cs) == 0 && b.len > 0 &&
	    (memmem(b.data, b.len, "SECRET/+", 8) != NULL ||
	    memmem(b.data, b.len, "SECRET%2F%2B", 12) != NULL ||
	    memmem(b.data, b.len, "sec%ret-value", 13) != NULL ||
	    memmem(b.data, b.len, "sec%25ret-value", 15) != NULL))
		abort();
	buf_reset(&b);
	credset_free(&cs);
}

/* A name the filter passes: a token of letters, digits, "-"; no cookie. */
static void
check_header_name(const char *p, size_t n)
{
	size_t i;

	if (n == 10 && strncasecmp(p, "set-cookie", 10) == 0)
		abort();
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data;
	int		 ok;

	if (size > 3 * PROXY_PATH_MAX)
		return 0;
	ok = proxy_path_ok(p, size) == 0;
	/* NULs: refused by both (the oracle sees one as a control byte) */
	if (ok != path_safe(p, size))
		abort();
	if (proxy_answer_header_ok(p, size))
		check_header_name(p, size);
	check_redact(data, size);
	return 0;
}
