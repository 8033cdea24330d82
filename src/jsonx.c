#include "cs_build.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"

static int	numbers_finite(struct json_object *);

/* One open object or array while scanning for duplicate keys. */
struct frame {
	int	 is_obj;
	int	 want_key;
	char	**keys;
	size_t	 nkeys;
};

static void
frame_clear(struct frame *f)
{
	size_t i;

	for (i = 0; i < f->nkeys; i++)
		free(f->keys[i]);
	free(f->keys);
	f->keys = NULL;
	f->nkeys = 0;
}

static unsigned
hex4(const char *p)
{
	return (unsigned)(hex_digit(p[0]) << 12 | hex_digit(p[1]) << 8 |
	    hex_digit(p[2]) << 4 | hex_digit(p[3]));
}

static size_t
put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decodes the JSON string starting at s[*i] (the opening quote) into a
 * malloc'd buffer with its length in *olen, and moves *i past the closing
 * quote.  The text was validated by json-c already, so escapes are
 * well-formed.  Returns NULL on allocation failure.
 */
static char *
unescape(const char *s, size_t n, size_t *i, size_t *olen)
{
	size_t	 j = *i + 1, o = 0, start = j;
	char	*out;
	unsigned cp, lo;

	while (j < n && s[j] != '"')
		j += (s[j] == '\\') ? 2 : 1;
	if ((out = malloc(j - start + 1)) == NULL)
		return NULL;
	for (j = start; j < n && s[j] != '"'; ) {
		if (s[j] != '\\') {
			out[o++] = s[j++];
			continue;
		}
		switch (s[j + 1]) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			cp = hex4(s + j + 2);
			j += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && j + 7 < n &&
			    s[j + 2] == '\\' && s[j + 3] == 'u') {
				lo = hex4(s + j + 4);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					j += 6;
				}
			}
			if (cp >= 0xd800 && cp < 0xe000) {
				/* lone surrogate: json-c would rewrite it */
				free(out);
				*olen = (size_t)-1;
				return NULL;
			}
			o += put_utf8(out + o, cp);
			break;
		default: out[o++] = s[j + 1]; break;
		}
		j += 2;
	}
	out[o] = '\0';
	*olen = o;
	*i = j + 1;
	return out;
}

/*
 * Moves *i past the string at s[*i]; -1 on a raw control byte in it, -2
 * on a \u escape of an unpaired surrogate (json-c would silently turn it
 * into U+FFFD: a secret must not change on its way in).
 */
static int
skip_string(const char *s, size_t n, size_t *i)
{
	size_t		j = *i + 1;
	unsigned	cp, lo;

	while (j < n && s[j] != '"') {
		if ((unsigned char)s[j] < 0x20)
			return -1;
		if (s[j] == '\\' && j + 5 < n && s[j + 1] == 'u') {
			cp = hex4(s + j + 2);
			if (cp >= 0xdc00 && cp < 0xe000)
				return -2;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (j + 11 >= n || s[j + 6] != '\\' ||
				    s[j + 7] != 'u')
					return -2;
				lo = hex4(s + j + 8);
				if (lo < 0xdc00 || lo >= 0xe000)
					return -2;
				j += 12;
				continue;
			}
			j += 6;
			continue;
		}
		j += (s[j] == '\\') ? 2 : 1;
	}
	*i = j + 1;
	return 0;
}

/*
 * Moves *i past a number at s[*i]; -1 unless it is RFC 8259 grammar, -2
 * for -Infinity / -NaN.
 */
static int
skip_number(const char *s, size_t n, size_t *i)
{
	size_t j = *i, d;

	if (j < n && s[j] == '-')
		j++;
	if (j < n && (s[j] == 'I' || s[j] == 'N'))
		return -2;
	if (j < n && s[j] == '0')
		j++;
	else {
		for (d = 0; j < n && s[j] >= '0' && s[j] <= '9'; j++)
			d++;
		if (d == 0)
			return -1;
	}
	if (j < n && s[j] == '.') {
		for (j++, d = 0; j < n && s[j] >= '0' && s[j] <= '9'; j++)
			d++;
		if (d == 0)
			return -1;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j < n && (s[j] == '+' || s[j] == '-'))
			j++;
		for (d = 0; j < n && s[j] >= '0' && s[j] <= '9'; j++)
			d++;
		if (d == 0)
			return -1;
	}
	*i = j;
	return 0;
}

/*
 * Reads the key at s[*i] into frame f: NULL, or why it is refused (bad
 * string, NUL, duplicate, too many keys, no memory).
 */
static const char *
add_key(struct frame *f, const char *s, size_t n, size_t *i)
{
	size_t	 t = *i, klen = 0, m;
	char	*key, **nk;
	int	 k;

	if ((k = skip_string(s, n, &t)) < 0)
		return k == -1 ? "control character in a string" :
		    "unpaired surrogate in a string";
	if ((key = unescape(s, n, i, &klen)) == NULL)
		return klen == (size_t)-1 ? "unpaired surrogate in a key" :
		    "out of memory";
	for (m = 0; m < f->nkeys; m++)
		if (strcmp(f->keys[m], key) == 0)
			break;
	if (m < f->nkeys || strlen(key) != klen) {
		free(key);
		return m < f->nkeys ? "duplicate key" : "NUL byte in a key";
	}
	if (f->nkeys >= JSONX_MAX_KEYS) {
		free(key);
		return "too many keys in one object";
	}
	if ((nk = realloc(f->keys, (f->nkeys + 1) * sizeof(*nk))) == NULL) {
		free(key);
		return "out of memory";
	}
	f->keys = nk;
	f->keys[f->nkeys++] = key;
	return NULL;
}

/* check_keys' walk: the open containers, innermost at st[top]. */
struct keywalk {
	struct frame	*st;
	int		 top;
	int		 max_depth;
};

/* One token of the walk at s[*i]: advances *i; NULL, or the error. */
static const char *
key_step(struct keywalk *w, const char *s, size_t n, size_t *i)
{
	struct frame	*f = w->top >= 0 ? &w->st[w->top] : NULL;
	int		 k;

	switch (s[*i]) {
	case '{':
	case '[':
		if (w->top + 2 > w->max_depth)	/* containers, not values */
			return "nesting too deep";
		f = &w->st[++w->top];
		f->is_obj = (s[*i] == '{');
		f->want_key = f->is_obj;
		break;
	case '}':
	case ']':
		if (f != NULL)
			frame_clear(&w->st[w->top--]);
		break;
	case ',':
		if (f != NULL && f->is_obj)
			f->want_key = 1;
		break;
	case '"':
		if (f == NULL || !f->is_obj || !f->want_key) {
			if ((k = skip_string(s, n, i)) < 0)
				return k == -1 ? "control character in a string" :
				    "unpaired surrogate in a string";
			return NULL;
		}
		f->want_key = 0;
		return add_key(f, s, n, i);
	case 'N':
	case 'I':
		return "NaN and Infinity are not JSON";
	case '\'':
		return "single quotes are not JSON";
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		k = skip_number(s, n, i);
		return k == -1 ? "malformed number" :
		    k == -2 ? "NaN and Infinity are not JSON" : NULL;
	default:
		break;
	}
	(*i)++;
	return NULL;
}

/*
 * Walks already-validated JSON text and fails on a repeated key within one
 * object (compared after unescaping) or too many keys.
 */
static const char *
check_keys(const char *s, size_t n, int max_depth)
{
	struct keywalk	 w;
	int		 k;
	size_t		 i = 0;
	const char	*err = NULL;

	w.top = -1;
	w.max_depth = max_depth;
	if ((w.st = calloc((size_t)max_depth + 2, sizeof(*w.st))) == NULL)
		return "out of memory";
	while (i < n && err == NULL)
		err = key_step(&w, s, n, &i);
	for (k = 0; k <= w.top; k++)
		frame_clear(&w.st[k]);
	free(w.st);
	return err;
}

/*
 * json-c's strict parse of s[0..n) to at most max_depth containers, the
 * tokener's buffer wiped when asked.  The value with *end just past it,
 * or NULL with the reason in *err.
 */
static struct json_object *
tokener_parse(const char *s, size_t n, int max_depth, int wipe, size_t *end,
    const char **err)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 jerr;

	/* json-c also counts the innermost value: one more, checked later */
	if ((tok = json_tokener_new_ex(max_depth + 1)) == NULL) {
		*err = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	jerr = json_tokener_get_error(tok);
	*end = json_tokener_get_parse_end(tok);
	if (o == NULL && jerr == json_tokener_continue && *end == n) {
		/* a number or literal that ends the input: say the input ended */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	if (wipe && tok->pb != NULL && tok->pb->buf != NULL)
		secure_wipe(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	if (o != NULL && jerr == json_tokener_success)
		return o;
	if (o == NULL && jerr == json_tokener_success)
		*err = "the document is null";
	else if (jerr == json_tokener_continue)
		*err = "truncated document";
	else if (jerr == json_tokener_error_depth)
		*err = "nesting too deep";
	else
		*err = json_tokener_error_desc(jerr);
	if (*err == NULL)
		*err = "malformed JSON";
	if (o != NULL)
		wipe ? jsonx_put_wipe(o) : (void)json_object_put(o);
	return NULL;
}

struct json_object *
jsonx_parse(const char *s, size_t n, int max_depth, int wipe,
    const char **err)
{
	struct json_object	*o;
	size_t			 end;

	*err = NULL;
	if (n > (size_t)INT32_MAX)
		*err = "document too large";
	else if (memchr(s, '\0', n) != NULL)
		*err = "NUL byte in document";
	else if (!is_valid_utf8(s, n))
		*err = "invalid UTF-8";
	if (*err != NULL ||
	    (o = tokener_parse(s, n, max_depth, wipe, &end, err)) == NULL)
		return NULL;
	while (end < n && (s[end] == ' ' || s[end] == '\t' || s[end] == '\r' ||
	    s[end] == '\n'))
		end++;
	if (end != n)
		*err = "trailing data after the JSON value";
	else if ((*err = check_keys(s, n, max_depth)) == NULL &&
	    numbers_finite(o) == -1)
		*err = "number out of range";
	if (*err == NULL)
		return o;
	if (wipe)
		jsonx_put_wipe(o);
	else
		json_object_put(o);
	return NULL;
}

/* 0 when every number in o is finite (1e999 parses as infinity). */
static int
numbers_finite(struct json_object *o)
{
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o)) ? 0 : -1;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (v != NULL && numbers_finite(v) == -1)
				return -1;
		}
		return 0;
	}
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (numbers_finite(json_object_array_get_idx(o, i)) == -1)
				return -1;
		return 0;
	default:
		return 0;
	}
}

static void
wipe_tree(struct json_object *o)
{
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		secure_wipe((char *)(uintptr_t)json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		break;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (v != NULL)
				wipe_tree(v);
		}
		break;
	}
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			wipe_tree(json_object_array_get_idx(o, i));
		break;
	default:
		break;
	}
}

void
jsonx_put_wipe(struct json_object *o)
{
	if (o == NULL)
		return;
	wipe_tree(o);
	json_object_put(o);
}

struct json_object *
jsonx_get(struct json_object *o, const char *key, json_type type)
{
	struct json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

const char *
jsonx_get_str(struct json_object *o, const char *key)
{
	struct json_object *v = jsonx_get(o, key, json_type_string);

	return v != NULL ? json_object_get_string(v) : NULL;
}

void
jsonx_add_time(struct json_object *o, const char *key, time_t t)
{
	char ts[21];

	if (t == 0) {
		json_object_object_add(o, key, NULL);
		return;
	}
	fmt_time(t, ts);
	json_object_object_add(o, key, json_object_new_string(ts));
}

/*
 * The flat reader.  Strict about what json-c writes and nothing more:
 * anything else is -1, and the caller falls back to a full parser.
 */
static const char *
flat_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * p is just past an opening quote: the closing quote, or NULL.  memchr
 * does the scanning (a stored ciphertext is a long base64 string); a quote
 * after an odd number of backslashes is part of the string.
 */
static const char *
flat_string_end(const char *p, const char *end, int *escaped)
{
	const char	*start = p, *q;
	size_t		 n;

	for (;;) {
		if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
			return NULL;
		for (n = 0; q - n > start && q[-(ptrdiff_t)n - 1] == '\\'; n++)
			;
		if (n % 2 == 0)
			break;
		p = q + 1;
	}
	*escaped = memchr(start, '\\', (size_t)(q - start)) != NULL;
	return q;
}

/* p is just past '[': an array of strings, up to its ']'. */
static int
flat_array(const char **pp, const char *p, const char *end,
    struct jflat_val *v)
{
	const char	*q;
	int		 esc, items = 0;

	v->type = JFLAT_ARRAY;
	v->p = p;
	for (;;) {
		p = flat_ws(p, end);
		if (p == end)
			return -1;
		if (*p == ']')
			break;
		if (items > 0) {
			if (*p != ',')
				return -1;
			p = flat_ws(p + 1, end);
		}
		if (p == end || *p != '"' ||
		    (q = flat_string_end(p + 1, end, &esc)) == NULL)
			return -1;
		p = q + 1;
		items++;
	}
	v->len = (size_t)(p - v->p);
	*pp = p + 1;
	return 0;
}

/* An integer json-c wrote: no fraction, exponent or leading zero. */
static int
flat_int(const char **pp, const char *p, const char *end,
    struct jflat_val *v)
{
	const char		*q;
	int			 neg = 0;
	unsigned long long	 n = 0, lim;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	q = p;
	lim = neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX;
	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (n > (lim - d) / 10)
			return -1;	/* json-c would saturate; not ours */
		n = n * 10 + d;
		p++;
	}
	if (p == q || (p - q > 1 && *q == '0') ||
	    (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
		return -1;
	v->type = JFLAT_INT;
	if (!neg)
		v->num = (long long)n;
	else if (n == (unsigned long long)INT64_MAX + 1)
		v->num = INT64_MIN;
	else
		v->num = -(long long)n;
	*pp = p;
	return 0;
}

/* One value at *pp: a string, an array of strings, null or an integer. */
static int
flat_value(const char **pp, const char *end, struct jflat_val *v)
{
	const char	*p = *pp, *q;
	int		 esc;

	memset(v, 0, sizeof(*v));
	if (p == end)
		return -1;
	if (*p == '"') {
		if ((q = flat_string_end(p + 1, end, &esc)) == NULL)
			return -1;
		v->type = JFLAT_STRING;
		v->p = p + 1;
		v->len = (size_t)(q - p - 1);
		v->escaped = esc;
		*pp = q + 1;
		return 0;
	}
	if (*p == '[')
		return flat_array(pp, p + 1, end, v);
	if ((size_t)(end - p) >= 4 && memcmp(p, "null", 4) == 0) {
		v->type = JFLAT_NULL;
		*pp = p + 4;
		return 0;
	}
	return flat_int(pp, p, end, v);
}

int
jflat_open(struct jflat *j, const char *s, size_t n)
{
	j->end = s + n;
	j->p = flat_ws(s, j->end);
	j->first = 1;
	if (j->p == j->end || *j->p != '{')
		return -1;
	j->p++;
	return 0;
}

int
jflat_next(struct jflat *j, const char **key, size_t *klen,
    struct jflat_val *v)
{
	const char	*p = flat_ws(j->p, j->end), *q;
	int		 esc;

	if (p == j->end)
		return -1;
	if (*p == '}') {
		if (flat_ws(p + 1, j->end) != j->end)
			return -1;
		j->p = j->end;
		return 0;
	}
	if (!j->first) {
		if (*p != ',')
			return -1;
		p = flat_ws(p + 1, j->end);
	}
	if (p == j->end || *p != '"' ||
	    (q = flat_string_end(p + 1, j->end, &esc)) == NULL || esc)
		return -1;
	*key = p + 1;
	*klen = (size_t)(q - p - 1);
	p = flat_ws(q + 1, j->end);
	if (p == j->end || *p != ':')
		return -1;
	p = flat_ws(p + 1, j->end);
	if (flat_value(&p, j->end, v) == -1)
		return -1;
	j->p = p;
	j->first = 0;
	return 1;
}

int
jflat_array_next(const struct jflat_val *arr, size_t *pos,
    struct jflat_val *v)
{
	const char	*end = arr->p + arr->len;
	const char	*p = flat_ws(arr->p + *pos, end), *q;
	int		 esc;

	if (p == end)
		return 0;
	if (*pos > 0) {
		if (*p != ',')
			return -1;
		p = flat_ws(p + 1, end);
	}
	if (*p != '"' || (q = flat_string_end(p + 1, end, &esc)) == NULL)
		return -1;
	memset(v, 0, sizeof(*v));
	v->type = JFLAT_STRING;
	v->p = p + 1;
	v->len = (size_t)(q - p - 1);
	v->escaped = esc;
	*pos = (size_t)(q + 1 - arr->p);
	return 1;
}

/* Four hex digits at p, checked (the strict parser's hex4 trusts them). */
static int
flat_hex4(const char *p, unsigned *out)
{
	int i;

	for (i = 0; i < 4; i++)
		if (hex_digit(p[i]) < 0)
			return -1;
	*out = hex4(p);
	return 0;
}

char *
jflat_strdup(const struct jflat_val *v)
{
	const char	*p = v->p, *end = v->p + v->len;
	char		*out, *o;
	unsigned	 u, lo;

	if (v->type != JFLAT_STRING || (out = malloc(v->len + 1)) == NULL)
		return NULL;
	/* an escape never takes fewer bytes than what it stands for */
	for (o = out; p < end; p++) {
		if ((unsigned char)*p < 0x20)	/* json-c escapes these */
			goto bad;
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		if (++p == end)
			goto bad;
		switch (*p) {
		case '"': case '\\': case '/':
			*o++ = *p;
			break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (end - p < 5 || flat_hex4(p + 1, &u) == -1 || u == 0)
				goto bad;
			p += 4;
			if (u >= 0xdc00 && u <= 0xdfff)
				goto bad;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (end - p < 7 || p[1] != '\\' || p[2] != 'u' ||
				    flat_hex4(p + 3, &lo) == -1 ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				p += 6;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			o += put_utf8(o, u);
			break;
		default:
			goto bad;
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* A JSON string as json-c escapes it; slash: "/" as "\/". */
static int
buf_str(struct buf *b, const char *s, int slash)
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*run = s;
	char			 esc[7];
	unsigned char		 c;

	if (s == NULL)
		return buf_add(b, "null", 4);
	if (buf_addc(b, '"') == -1)
		return -1;
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c >= 0x20 && c != '"' && c != '\\' && (c != '/' || !slash))
			continue;
		if (buf_add(b, run, (size_t)(s - run)) == -1)
			return -1;
		run = s + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': case '\\': case '/': esc[1] = (char)c; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			if (buf_add(b, esc, 6) == -1)
				return -1;
			continue;
		}
		if (buf_add(b, esc, 2) == -1)
			return -1;
	}
	if (buf_add(b, run, (size_t)(s - run)) == -1)
		return -1;
	return buf_addc(b, '"');
}

int
jsonx_buf_str(struct buf *b, const char *s)
{
	return buf_str(b, s, 0);
}

int
jsonx_buf_str_plain(struct buf *b, const char *s)
{
	return buf_str(b, s, 1);
}

int
jsonx_buf_time(struct buf *b, time_t t)
{
	char ts[21];

	if (t == 0)
		return buf_add(b, "null", 4);
	fmt_time(t, ts);
	return jsonx_buf_str(b, ts);
}
