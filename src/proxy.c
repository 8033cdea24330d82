/*
 * proxy: the pure rules of a proxied call (proxy.h): the client's path
 * and query, the headers that pass each way, and redaction.  No I/O.
 */
#include "cs_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe.h"
#include "proxy.h"
#include "util.h"

#define DECODE_DEPTH	3	/* "%25" may hide this many more escapes */

/*
 * One segment s[0..n) at depth (0: raw as sent; deeper: what the escapes
 * of the level above decoded to): 0 when it may be forwarded.
 */
static int
seg_ok(const char *s, size_t n, int depth)
{
	char		 d[PROXY_PATH_MAX + 1];
	size_t		 i, o = 0, m;
	int		 h, l, again = 0;
	unsigned char	 c;

	if (depth > DECODE_DEPTH || n > PROXY_PATH_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (depth == 0 && (c < 0x21 || c >= 0x7f || c == '\\' ||
		    c == '@' || c == '#'))
			return -1;
		if (c == '%') {
			/* sent malformed: refused; decoded to "%": a literal */
			if (i + 2 >= n || (h = hex_digit(s[i + 1])) < 0 ||
			    (l = hex_digit(s[i + 2])) < 0) {
				if (depth == 0)
					return -1;
				d[o++] = (char)c;
				continue;
			}
			c = (unsigned char)(h << 4 | l);
			i += 2;
			if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
				return -1;
			if (c == '%')
				again = 1;
		}
		d[o++] = (char)c;
	}
	/* a dot segment, also with ";params" after it (Tomcat's "..;") */
	for (m = 0; m < o && d[m] != ';'; m++)
		;
	if ((m == 1 && d[0] == '.') || (m == 2 && d[0] == '.' && d[1] == '.'))
		return -1;
	return again ? seg_ok(d, o, depth + 1) : 0;
}

int
proxy_path_ok(const char *rest, size_t len)
{
	size_t	 i, start = 0;

	if (rest == NULL || len == 0 || len > PROXY_PATH_MAX ||
	    memchr(rest, '\0', len) != NULL)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i < len && rest[i] != '/')
			continue;
		/* an empty segment: "//", or a leading "/"; one last "/" is fine */
		if (i == start && i != len)
			return -1;
		if (seg_ok(rest + start, i - start, 0) == -1)
			return -1;
		start = i + 1;
	}
	return 0;
}

int
proxy_query_ok(const char *q)
{
	size_t i, n;

	if (q == NULL)
		return 0;
	if ((n = strlen(q)) > PROXY_QUERY_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)q[i] < 0x21 || (unsigned char)q[i] >= 0x7f ||
		    q[i] == '#')
			return -1;
	return 0;
}

/* 1 when name[0..n) is lit, case-insensitively. */
static int
name_is(const char *name, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(name, lit, n) == 0;
}

int
proxy_answer_header_ok(const char *name, size_t n)
{
	static const char *const pass[] = {
		"content-type", "etag", "last-modified", "retry-after", "link",
		"location", "ratelimit", NULL,
	};
	size_t i;

	/* letters, digits and "-" only: nothing odd rides on a prefix */
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return 0;
	for (i = 0; pass[i] != NULL; i++)
		if (name_is(name, n, pass[i]))
			return 1;
	return (n > 12 && strncasecmp(name, "x-ratelimit-", 12) == 0) ||
	    (n > 10 && strncasecmp(name, "ratelimit-", 10) == 0);
}

int
proxy_request_header_ok(const char *name, char *const *fwd, size_t nfwd)
{
	static const char *const pass[] = {
		"accept", "content-type", "if-none-match", "if-modified-since",
		NULL,
	};
	size_t i;

	for (i = 0; pass[i] != NULL; i++)
		if (strcasecmp(name, pass[i]) == 0)
			return 1;
	for (i = 0; i < nfwd; i++)
		if (strcasecmp(name, fwd[i]) == 0)
			return 1;
	return 0;
}

/* RFC 3986 percent-encoding of all but the unreserved characters. */
static int
escape(struct buf *b, const char *v, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;
	unsigned char		 c;
	char			 e[3];

	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			if (buf_addc(b, (char)c) == -1)
				return -1;
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		if (buf_add(b, e, 3) == -1)
			return -1;
	}
	return 0;
}

/* Replaces every v[0..n) in *b; 0 or -1 (then *b is emptied). */
static int
redact_one(struct buf *b, const char *v, size_t n)
{
	struct buf	 out;
	size_t		 i = 0, last = 0;
	const char	*hit;

	if (b->len < n || memmem(b->data, b->len, v, n) == NULL)
		return 0;
	buf_init(&out, b->max + b->len / n * sizeof(PROXY_REDACTED) + 64,
	    b->secret);
	while (i + n <= b->len &&
	    (hit = memmem(b->data + i, b->len - i, v, n)) != NULL) {
		i = (size_t)(hit - b->data);
		if (buf_add(&out, b->data + last, i - last) == -1 ||
		    buf_adds(&out, PROXY_REDACTED) == -1)
			goto fail;
		i += n;
		last = i;
	}
	if (buf_add(&out, b->data + last, b->len - last) == -1)
		goto fail;
	buf_reset(b);
	*b = out;
	return 0;
fail:
	buf_reset(&out);
	buf_reset(b);
	return -1;
}

int
proxy_redact(struct buf *b, const struct credset *cs)
{
	struct buf	 enc;
	size_t		 order[CREDSET_MAX], i, j, t;
	int		 rc = 0;

	if (b->len == 0)
		return 0;
	/* the longest first: a value inside another is not left in part */
	for (i = 0; i < cs->n; i++)
		for (order[i] = i, j = i; j > 0 &&
		    cs->f[order[j - 1]].len < cs->f[order[j]].len; j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (i = 0; i < cs->n && rc == 0; i++) {
		const char	*v = cs->f[order[i]].value;
		size_t		 n = cs->f[order[i]].len;

		if (n < PROXY_REDACT_MIN)
			continue;
		rc = redact_one(b, v, n);
		buf_init(&enc, 3 * CREDSET_VALUE_MAX + 1, 1);
		if (rc == 0 && escape(&enc, v, n) == 0 &&
		    (enc.len != n || memcmp(enc.data, v, n) != 0))
			rc = redact_one(b, enc.data, enc.len);
		buf_reset(&enc);
	}
	return rc;
}

/* The percent-decoded name of a query parameter p[0..n) into out. */
static void
param_name(const char *p, size_t n, char *out, size_t outn)
{
	size_t	 i, o = 0;
	int	 h, l;
	char	 c;

	for (i = 0; i < n && p[i] != '=' && o + 1 < outn; i++) {
		c = p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < n && (h = hex_digit(p[i + 1])) >= 0 &&
		    (l = hex_digit(p[i + 2])) >= 0) {
			c = (char)(h << 4 | l);
			i += 2;
		}
		out[o++] = c;
	}
	out[o] = '\0';
}

/* 1 when the client's parameter p[0..n) is one the catalog injects. */
static int
injected(const char *p, size_t n, const struct cat_header *inj, size_t ninj)
{
	char	 name[PROXY_QUERY_MAX + 1];
	size_t	 i;

	param_name(p, n, name, sizeof(name));
	for (i = 0; i < ninj; i++)
		if (strcmp(name, inj[i].name) == 0)
			return 1;
	return 0;
}

int
proxy_build_query(const char *client, const struct cat_header *inj, size_t n,
    const struct credset *cs, struct buf *out)
{
	const char	*p, *e;
	char		*v;
	size_t		 i;
	int		 rc;

	for (p = client; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "&");
		if (e == p || injected(p, (size_t)(e - p), inj, n))
			continue;
		if ((out->len > 0 && buf_addc(out, '&') == -1) ||
		    buf_add(out, p, (size_t)(e - p)) == -1)
			return -1;
	}
	for (i = 0; i < n; i++) {
		if ((v = probe_render(inj[i].value, cs, 0)) == NULL)
			return -1;
		rc = (out->len > 0 && buf_addc(out, '&') == -1) ||
		    escape(out, inj[i].name, strlen(inj[i].name)) == -1 ||
		    buf_addc(out, '=') == -1 || escape(out, v, strlen(v)) == -1;
		secure_free_str(v);
		if (rc)
			return -1;
	}
	return buf_add(out, "", 0);
}

void
proxy_answer_init(struct proxy_answer *a)
{
	memset(a, 0, sizeof(*a));
	buf_init(&a->headers, PROXY_HEADERS_MAX, 1);
	buf_init(&a->body, 0, 1);
}

void
proxy_answer_free(struct proxy_answer *a)
{
	buf_reset(&a->headers);
	buf_reset(&a->body);
	free(a->ctype);
	a->ctype = NULL;
}
