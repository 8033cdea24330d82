#include "cs_build.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "util.h"

void
buf_init(struct buf *b, size_t max, int secret)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->secret = secret;
}

static int
buf_grow(struct buf *b, size_t need)
{
	size_t	 ncap;
	char	*p;

	if (need > b->max)
		return -1;
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((p = malloc(ncap)) == NULL)
		return -1;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		secure_free(b->data, b->secret ? b->cap : 0);
	} else
		p[0] = '\0';
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (buf_grow(b, b->len + n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	 small[256];
	char	*big;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	if ((big = malloc((size_t)n + 1)) == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	n = buf_add(b, big, (size_t)n);
	free(big);
	return n;
}

int
buf_reserve(struct buf *b, size_t n)
{
	return buf_grow(b, n);
}

char *
buf_steal(struct buf *b, size_t *len)
{
	char	*p;

	if (b->data == NULL && buf_grow(b, 0) == -1)
		return NULL;
	p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_reset(struct buf *b)
{
	if (b->data != NULL)
		secure_free(b->data, b->secret ? b->cap : 0);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
secure_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		gnutls_memset(p, 0, n);
}

void
secure_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	secure_wipe(p, n);
	free(p);
}

void
secure_free_str(char *s)
{
	if (s != NULL)
		secure_free(s, strlen(s));
}

int
ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char	 d = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *
b64_enc(const unsigned char *p, size_t n, const char *alpha, int pad)
{
	char	*out, *o;
	size_t	 i, olen;

	if (n > (SIZE_MAX / 4) * 3 - 3)
		return NULL;
	olen = (n + 2) / 3 * 4 + 1;
	if ((out = malloc(olen)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 2 < n; i += 3) {
		*o++ = alpha[p[i] >> 2];
		*o++ = alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = alpha[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = alpha[p[i + 2] & 63];
	}
	if (n - i == 1) {
		*o++ = alpha[p[i] >> 2];
		*o++ = alpha[(p[i] & 3) << 4];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (n - i == 2) {
		*o++ = alpha[p[i] >> 2];
		*o++ = alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = alpha[(p[i + 1] & 15) << 2];
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *
b64_encode(const void *p, size_t n)
{
	return b64_enc(p, n, b64std, 1);
}

char *
b64url_encode(const void *p, size_t n)
{
	return b64_enc(p, n, b64url, 0);
}

static int
b64_val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static unsigned char *
b64_dec(const char *s, size_t n, size_t *outlen, int url)
{
	unsigned char	*out;
	size_t		 i, o = 0, rem;
	int		 v[4], k;

	if (!url) {
		/* Padded form: length a multiple of 4, up to two '='. */
		if (n % 4 != 0)
			return NULL;
		if (n >= 1 && s[n - 1] == '=')
			n--;
		if (n >= 1 && s[n - 1] == '=')
			n--;
	}
	rem = n % 4;
	if (rem == 1)
		return NULL;
	if ((out = malloc(n / 4 * 3 + 3)) == NULL)
		return NULL;
	for (i = 0; i + 4 <= n; i += 4) {
		for (k = 0; k < 4; k++)
			if ((v[k] = b64_val(s[i + k], url)) < 0)
				goto bad;
		out[o++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		out[o++] = (unsigned char)(((v[1] & 15) << 4) | (v[2] >> 2));
		out[o++] = (unsigned char)(((v[2] & 3) << 6) | v[3]);
	}
	if (rem >= 2) {
		for (k = 0; k < (int)rem; k++)
			if ((v[k] = b64_val(s[i + k], url)) < 0)
				goto bad;
		out[o++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		if (rem == 2) {
			if (v[1] & 15)		/* non-canonical trailing bits */
				goto bad;
		} else {
			out[o++] = (unsigned char)(((v[1] & 15) << 4) | (v[2] >> 2));
			if (v[2] & 3)
				goto bad;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
bad:
	secure_free(out, n / 4 * 3 + 3);
	return NULL;
}

unsigned char *
b64_decode(const char *s, size_t n, size_t *outlen)
{
	return b64_dec(s, n, outlen, 0);
}

unsigned char *
b64url_decode(const char *s, size_t n, size_t *outlen)
{
	return b64_dec(s, n, outlen, 1);
}

void
fmt_time(time_t t, char out[21])
{
	struct tm tm;

	/* four-digit years only: clamp what cannot be written in 20 bytes */
	if (t < (time_t)-62167219200LL)
		t = (time_t)-62167219200LL;
	if (t > (time_t)253402300799LL)
		t = (time_t)253402300799LL;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 21, "1970-01-01T00:00:00Z");
}

const char *
errstr(int errnum)
{
	static _Thread_local char buf[128];

	/* the GNU strerror_r (_GNU_SOURCE): returns the text, maybe static */
	return strerror_r(errnum, buf, sizeof(buf));
}

uint64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

struct timespec
deadline_in(clockid_t c, unsigned long ms)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

ssize_t
read_full(int fd, void *buf, size_t cap)
{
	size_t	n = 0;
	ssize_t	r;

	while (n < cap) {
		r = read(fd, (char *)buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	/* the whole string: no leading white space or '+' */
	if (s == NULL || !((*s >= '0' && *s <= '9') || *s == '-'))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
is_printable_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* UTF-8 check; clean: also refuse C0, DEL and C1 control characters. */
static int
utf8_check(const char *str, size_t n, int clean)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t	 i = 0, k, len;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			if (clean && (s[i] < 0x20 || s[i] == 0x7f))
				return 0;
			if (s[i] == 0)
				return 0;
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* overlong, surrogates, out of range, C1 controls */
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (clean && cp >= 0x80 && cp < 0xa0))
			return 0;
		i += len;
	}
	return 1;
}

int
is_clean_utf8(const char *s, size_t n)
{
	return utf8_check(s, n, 1);
}

int
is_valid_utf8(const char *s, size_t n)
{
	return utf8_check(s, n, 0);
}

void
hex_encode(const void *p, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
set_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);	/* truncation is fine */
	va_end(ap);
}
