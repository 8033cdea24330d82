#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonx.h"
#include "util.h"

/*
 * libFuzzer harness for jflat (the in-place reader of stored records) and
 * jsonx_buf_str (the writer of listings) and jsonx_buf_str_plain (of audit
 * records).
 *
 * - jflat never reads out of bounds, whatever the input.
 * - What it accepts, json-c's strict parse (jsonx_parse) reads the same:
 *   every string it returns is json-c's string, byte for byte; every
 *   integer and null is json-c's.
 * - What json-c writes of a flat object (strings, integers, null, arrays
 *   of strings), jflat reads completely.
 * - jsonx_buf_str and jsonx_buf_str_plain write every string as json-c
 *   writes it (with and without JSON_C_TO_STRING_NOSLASHESCAPE).
 */

#define DEPTH	4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
has_surrogate_escape(const struct jflat_val *v)
{
	size_t i;

	for (i = 0; i + 2 < v->len; i++)
		if (v->p[i] == '\\' && v->p[i + 1] == 'u' &&
		    (v->p[i + 2] == 'd' || v->p[i + 2] == 'D'))
			return 1;
	return 0;
}

/* v against json-c's value o; aborts on a disagreement. */
static void
same_value(const struct jflat_val *v, struct json_object *o)
{
	struct jflat_val	 e;
	size_t			 pos = 0, i = 0;
	char			*t;
	int			 rc;

	switch (v->type) {
	case JFLAT_STRING:
		if (!json_object_is_type(o, json_type_string))
			abort();
		/*
		 * json-c 0.16 turns some valid surrogate pairs into U+FFFD
		 * (\ud836\udc00, for one); json-c never writes them (it
		 * writes UTF-8), so they are left out of the comparison.
		 */
		if (has_surrogate_escape(v))
			break;
		if ((t = jflat_strdup(v)) != NULL) {
			if ((size_t)json_object_get_string_len(o) != strlen(t) ||
			    memcmp(json_object_get_string(o), t, strlen(t)) != 0)
				abort();
			free(t);
		}
		break;
	case JFLAT_INT:
		if (!json_object_is_type(o, json_type_int) ||
		    json_object_get_int64(o) != v->num)
			abort();
		break;
	case JFLAT_NULL:
		if (o != NULL)
			abort();
		break;
	case JFLAT_ARRAY:
		if (!json_object_is_type(o, json_type_array))
			abort();
		while ((rc = jflat_array_next(v, &pos, &e)) == 1)
			same_value(&e, json_object_array_get_idx(o, i++));
		if (rc == -1 || i != json_object_array_length(o))
			abort();
		break;
	}
}

/* 1 when json-c writes s with a backslash escape. */
static int
needs_escape(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' ||
		    *s == '/')
			return 1;
	return 0;
}

/* 1 when o is an object jflat should read completely. */
static int
flat_shape(struct json_object *o)
{
	struct json_object_iterator	 it, end;
	struct json_object		*v;
	size_t				 i;

	if (!json_object_is_type(o, json_type_object))
		return 0;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		v = json_object_iter_peek_value(&it);
		if (needs_escape(json_object_iter_peek_name(&it)))
			return 0;	/* keys with escapes: jflat refuses */
		/* past INT64_MAX json-c keeps a uint64 or saturates */
		if (json_object_is_type(v, json_type_int) &&
		    json_object_get_int64(v) == INT64_MAX)
			return 0;
		if (v == NULL || json_object_is_type(v, json_type_string) ||
		    json_object_is_type(v, json_type_int))
			continue;
		if (!json_object_is_type(v, json_type_array))
			return 0;
		for (i = 0; i < json_object_array_length(v); i++)
			if (!json_object_is_type(json_object_array_get_idx(v, i),
			    json_type_string))
				return 0;
	}
	return 1;
}

/*
 * jsonx_buf_str against json-c's writer with NOSLASHESCAPE, and
 * jsonx_buf_str_plain against it without (the audit record's text), for
 * one string.
 */
static void
same_writer(struct json_object *s)
{
	static const int	 flags[2] = { JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, JSON_C_TO_STRING_PLAIN };
	struct buf		 b;
	const char		*want;
	char			*got;
	size_t			 n, wl;
	int			 i, rc;

	/* a NUL inside: jsonx_buf_str takes C strings */
	if (strlen(json_object_get_string(s)) !=
	    (size_t)json_object_get_string_len(s))
		return;
	for (i = 0; i < 2; i++) {
		want = json_object_to_json_string_ext(s, flags[i]);
		wl = strlen(want);
		buf_init(&b, 1 << 20, 0);
		rc = i == 0 ? jsonx_buf_str(&b, json_object_get_string(s)) :
		    jsonx_buf_str_plain(&b, json_object_get_string(s));
		if (rc == -1)
			abort();
		got = buf_steal(&b, &n);
		if (n != wl || memcmp(got, want, n) != 0)
			abort();
		free(got);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jflat			 j;
	struct jflat_val		 v;
	struct json_object		*o, *m;
	struct json_object_iterator	 it, end;
	const char			*key, *err, *s;
	char				 name[256];
	size_t				 klen, slen, members = 0;
	int				 rc;

	o = jsonx_parse((const char *)data, size, DEPTH, 0, &err);
	rc = jflat_open(&j, (const char *)data, size);
	while (rc == 0 && (rc = jflat_next(&j, &key, &klen, &v)) == 1) {
		rc = 0;
		members++;
		if (o == NULL || klen >= sizeof(name))
			continue;
		memcpy(name, key, klen);
		name[klen] = '\0';
		if (memchr(key, '\0', klen) != NULL ||
		    !json_object_object_get_ex(o, name, &m))
			abort();	/* strict json-c read the same members */
		same_value(&v, m);
	}
	if (o == NULL)
		return 0;
	if (json_object_is_type(o, json_type_object)) {
		/* strict json-c has no duplicates: a complete read is every member */
		if (rc == 0 && members != (size_t)json_object_object_length(o))
			abort();
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			m = json_object_iter_peek_value(&it);
			if (m != NULL && json_object_is_type(m, json_type_string))
				same_writer(m);
		}
	}
	if (flat_shape(o)) {
		/* what json-c writes of it, jflat reads to the end */
		s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN,
		    &slen);
		if (jflat_open(&j, s, slen) == -1)
			abort();
		while ((rc = jflat_next(&j, &key, &klen, &v)) == 1)
			;
		if (rc != 0)
			abort();
	}
	json_object_put(o);
	return 0;
}
