/*
 * jsonx: strict JSON input for everything that comes from outside
 * (request bodies, JWT headers and claims, the catalog, the JWKS).
 * json-c does the parsing; this module adds what json-c does not check:
 * duplicate object keys, trailing data, a key-count cap, and wiping of
 * secret strings before they are freed.
 */
#ifndef CS_JSONX_H
#define CS_JSONX_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "util.h"

#define JSONX_MAX_KEYS	1024	/* per object */

/*
 * Parses exactly one JSON value from s[0..n) (surrounding white space
 * allowed).  Rejects invalid UTF-8, raw control characters in strings,
 * single quotes, NaN/Infinity and numbers outside RFC 8259 grammar,
 * more than max_depth nested objects and arrays ({"a":1} and [] are one,
 * {"a":[1]} is two),
 * duplicate keys in any object, more than JSONX_MAX_KEYS keys in one
 * object and trailing data.  Returns a new object (caller puts) or NULL
 * with *err pointing at a static description.  When wipe is set, the
 * tokenizer's scratch buffer is wiped before it is freed (use for bodies
 * that carry secrets; free the result with jsonx_put_wipe).
 */
struct json_object *jsonx_parse(const char *s, size_t n, int max_depth,
	    int wipe, const char **err);

/* Zeroes every string value inside o, then drops the reference. */
void	 jsonx_put_wipe(struct json_object *o);

/*
 * Helpers for reading parsed objects: the member `key` of object o when
 * it exists and has the given type, else NULL.
 */
struct json_object *jsonx_get(struct json_object *o, const char *key,
	    json_type type);
/* The string member `key`, or NULL when absent or not a string. */
const char *jsonx_get_str(struct json_object *o, const char *key);

/*
 * jflat: a reader of the flat JSON objects credstore itself writes with
 * json-c (stored records): members whose values are strings, integers,
 * null or arrays of strings.  It builds no tree and copies nothing: a
 * value is a span of the input.  Anything else (nesting, fractions,
 * escapes in keys, malformed text) is -1, and the caller falls back to a
 * full parser.  Not for input from outside: use jsonx_parse.
 */
enum jflat_type {
	JFLAT_STRING,
	JFLAT_INT,
	JFLAT_NULL,
	JFLAT_ARRAY
};

struct jflat_val {
	enum jflat_type	 type;
	const char	*p;	/* string: inside the quotes; array: inside [] */
	size_t		 len;
	int		 escaped;	/* string: has backslash escapes */
	long long	 num;		/* JFLAT_INT */
};

struct jflat {
	const char	*p, *end;
	int		 first;
};

/* 0 when s[0..n) starts an object, -1 when not. */
int	 jflat_open(struct jflat *, const char *s, size_t n);
/*
 * The next member: 1 with its key (raw, without escapes) and value, 0 at
 * the closing brace when nothing but white space follows it, -1 when the
 * text is not what json-c writes.
 */
int	 jflat_next(struct jflat *, const char **key, size_t *klen,
	    struct jflat_val *v);
/* The next string of an array value (*pos starts at 0): 1, 0 at its end, -1. */
int	 jflat_array_next(const struct jflat_val *arr, size_t *pos,
	    struct jflat_val *v);
/*
 * A string value unescaped, NUL-terminated and malloc'd; NULL when it has
 * a bad escape, a NUL (raw or \u0000) or a lone surrogate, or on ENOMEM.
 */
char	*jflat_strdup(const struct jflat_val *v);

/*
 * Writers for answers built without a json-c tree: a JSON string (null
 * for NULL), escaped as json-c writes it with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE, and a time as jsonx_add_time writes it.
 * jsonx_buf_str_plain escapes as JSON_C_TO_STRING_PLAIN alone ("/" as
 * "\/"), the text of records written before without a tree.
 * 0, or -1 when the buffer's cap is reached.
 */
int	 jsonx_buf_str(struct buf *b, const char *s);
int	 jsonx_buf_str_plain(struct buf *b, const char *s);
int	 jsonx_buf_time(struct buf *b, time_t t);

/* Adds key: "YYYY-MM-DDTHH:MM:SSZ", or null when t is 0. */
void	 jsonx_add_time(struct json_object *o, const char *key, time_t t);

#endif
