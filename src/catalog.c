#include "cs_build.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_int.h"
#include "jsonx.h"
#include "pattern.h"
#include "util.h"

#define FIELD_MAX_LEN	4096

static const char *const auth_names[AUTH__MAX] = {
	"api_key", "oauth2", NULL,
};

void
cerr(struct cctx *c, const char *fmt, ...)
{
	char	 what[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->pid != NULL)
		snprintf(c->err, c->errlen, "%s: provider %zu (%s): %s",
		    c->name, c->idx, c->pid, what);
	else
		snprintf(c->err, c->errlen, "%s: provider %zu: %s", c->name,
		    c->idx, what);
}

int
catalog_valid_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n < 1 || n > 64)
		return 0;
	if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
		return 0;
	for (i = 1; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '_' || id[i] == '-'))
			return 0;
	return 1;
}

/* Field names: [A-Za-z0-9_]{1,64}, so that "credentials.NAME" is plain. */
static int
valid_field_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int
catalog_next_placeholder(const char *s, size_t *pos, size_t *start,
    const char **name, size_t *nlen)
{
	const char *o, *c;

	if ((o = strstr(s + *pos, "{{")) == NULL)
		return 0;
	if ((c = strstr(o + 2, "}}")) == NULL)
		return 0;
	*start = (size_t)(o - s);
	*name = o + 2;
	*nlen = (size_t)(c - (o + 2));
	*pos = (size_t)(c + 2 - s);
	return 1;
}

static void
field_free(struct cat_field *f)
{
	size_t i;

	free(f->name);
	free(f->label);
	for (i = 0; i < f->nenum; i++)
		free(f->enumv[i]);
	free(f->enumv);
	free(f->def);
	if (f->re_ready)
		regfree(&f->re);
	free(f->pattern);
}

static void
check_free(struct cat_check *k)
{
	size_t i;

	if (k == NULL)
		return;
	free(k->method);
	free(k->url);
	for (i = 0; i < k->nheaders; i++) {
		free(k->headers[i].name);
		free(k->headers[i].value);
	}
	free(k->headers);
	free(k->basic_user);
	free(k->basic_pass);
	json_object_put(k->body);
	free(k->expect_pointer);
	json_object_put(k->expect_value);
	free(k);
}

void
cat_provider_free(struct cat_provider *p)
{
	size_t i;

	free(p->id);
	free(p->name);
	free(p->auth_name);
	for (i = 0; i < p->nfields; i++)
		field_free(&p->fields[i]);
	free(p->fields);
	check_free(p->check);
	cat_proxy_free(p->proxy);
}

void
catalog_free(struct catalog *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nproviders; i++)
		cat_provider_free(&c->providers[i]);
	free(c->providers);
	cat_lazy_free(c->lazy);
	free(c);
}

/* The first key of object o not in the NULL-terminated list, or NULL. */
const char *
unknown_key(struct json_object *o, const char *const *allowed)
{
	size_t i;

	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return k;
	}
	return NULL;
}

char *
dup_str(struct cctx *c, struct json_object *o, const char *key, int required,
    size_t maxlen)
{
	struct json_object	*v;
	const char		*s;
	char			*r;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		if (required)
			cerr(c, "'%s' is required", key);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		cerr(c, "'%s' must be a string", key);
		return NULL;
	}
	s = json_object_get_string(v);
	if (*s == '\0' || strlen(s) > maxlen ||
	    !is_clean_utf8(s, (size_t)json_object_get_string_len(v))) {
		cerr(c, "'%s' must be 1-%zu clean characters", key, maxlen);
		return NULL;
	}
	if ((r = strdup(s)) == NULL)
		cerr(c, "out of memory");
	return r;
}

static int
load_status(struct cctx *c, struct json_object *chk, const char *key,
    int *out, size_t *n, int required)
{
	struct json_object	*a, *v;
	size_t			 i, len;
	int64_t			 st;

	if ((a = jsonx_get(chk, key, json_type_array)) == NULL) {
		if (!required && !json_object_object_get_ex(chk, key, NULL))
			return 0;
		cerr(c, "validation.%s must be an array of statuses", key);
		return -1;
	}
	len = json_object_array_length(a);
	if (len > CATALOG_MAX_STATUS) {
		cerr(c, "validation.%s has too many entries", key);
		return -1;
	}
	for (i = 0; i < len; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_int) ||
		    (st = json_object_get_int64(v)) < 100 || st > 599) {
			cerr(c, "validation.%s[%zu] must be an HTTP status", key, i);
			return -1;
		}
		out[i] = (int)st;
	}
	*n = len;
	return 0;
}

/* Every placeholder in s names a field; host placeholders are fenced. */
int
check_template(struct cctx *c, const struct cat_provider *p, const char *s,
    const char *where, size_t host_end)
{
	size_t			 pos = 0, start, nlen;
	const char		*name;
	char			 fname[65];
	const struct cat_field	*f;

	while (catalog_next_placeholder(s, &pos, &start, &name, &nlen)) {
		if (nlen == 0 || nlen >= sizeof(fname)) {
			cerr(c, "%s: bad placeholder", where);
			return -1;
		}
		memcpy(fname, name, nlen);
		fname[nlen] = '\0';
		if ((f = catalog_field(p, fname)) == NULL) {
			cerr(c, "%s: placeholder {{%s}} names no field", where,
			    fname);
			return -1;
		}
		if (start < host_end && f->enumv == NULL && f->pattern == NULL) {
			cerr(c, "%s: field '%s' is used in the host name and "
			    "needs an enum or a pattern", where, fname);
			return -1;
		}
	}
	return 0;
}

static int
check_body_template(struct cctx *c, const struct cat_provider *p,
    struct json_object *o)
{
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		return check_template(c, p, json_object_get_string(o),
		    "validation.body", 0);
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (check_body_template(c, p,
			    json_object_array_get_idx(o, i)) == -1)
				return -1;
		return 0;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (v != NULL && check_body_template(c, p, v) == -1)
				return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

static const char *const check_keys[] = {
	"method", "url", "headers", "basicAuth", "body", "validStatus",
	"rejectStatus", "expect", NULL,
};

/* validation.method, one of a few, and validation.url, https with a host. */
static int
load_method_url(struct cctx *c, const struct cat_provider *p,
    struct cat_check *k, struct json_object *o)
{
	static const char *const methods[] = {
		"GET", "POST", "PUT", "PATCH", "HEAD", NULL,
	};
	size_t i, hend;

	if ((k->method = dup_str(c, o, "method", 1, 16)) == NULL)
		return -1;
	for (i = 0; methods[i] != NULL; i++)
		if (strcmp(methods[i], k->method) == 0)
			break;
	if (methods[i] == NULL) {
		cerr(c, "validation.method '%s' is not supported", k->method);
		return -1;
	}
	if ((k->url = dup_str(c, o, "url", 1, 2048)) == NULL)
		return -1;
	if (strncmp(k->url, "https://", 8) != 0) {
		cerr(c, "validation.url must start with https://");
		return -1;
	}
	hend = 8 + strcspn(k->url + 8, "/?#");
	if (hend == 8) {
		cerr(c, "validation.url has no host");
		return -1;
	}
	return check_template(c, p, k->url, "validation.url", hend);
}

/* One member of validation.headers: a token name, a printable template. */
static int
load_header(struct cctx *c, const struct cat_provider *p, struct cat_check *k,
    const char *hn, struct json_object *hv)
{
	struct cat_header *e = &k->headers[k->nheaders];

	if (hv == NULL || !json_object_is_type(hv, json_type_string) ||
	    hn[0] == '\0' || strcspn(hn, ":\r\n \t") != strlen(hn) ||
	    !is_printable_ascii(hn, strlen(hn)) ||
	    !is_printable_ascii(json_object_get_string(hv),
	    (size_t)json_object_get_string_len(hv))) {
		cerr(c, "validation.headers: bad header '%.64s'", hn);
		return -1;
	}
	if ((e->name = strdup(hn)) == NULL ||
	    (e->value = strdup(json_object_get_string(hv))) == NULL) {
		free(e->name);
		e->name = NULL;
		cerr(c, "out of memory");
		return -1;
	}
	k->nheaders++;
	return check_template(c, p, e->value, "validation.headers", 0);
}

static int
load_headers(struct cctx *c, const struct cat_provider *p,
    struct cat_check *k, struct json_object *o)
{
	struct json_object *h;

	if (!json_object_object_get_ex(o, "headers", &h))
		return 0;
	if (!json_object_is_type(h, json_type_object)) {
		cerr(c, "validation.headers must be an object");
		return -1;
	}
	k->headers = calloc((size_t)json_object_object_length(h) + 1,
	    sizeof(*k->headers));
	if (k->headers == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	json_object_object_foreach(h, hn, hv)
		if (load_header(c, p, k, hn, hv) == -1)
			return -1;
	return 0;
}

static int
load_basic_auth(struct cctx *c, const struct cat_provider *p,
    struct cat_check *k, struct json_object *o)
{
	static const char *const ba_keys[] = { "user", "password", NULL };
	struct json_object	*ba;

	if (!json_object_object_get_ex(o, "basicAuth", &ba))
		return 0;
	if (!json_object_is_type(ba, json_type_object) ||
	    unknown_key(ba, ba_keys) != NULL) {
		cerr(c, "validation.basicAuth must be {user, password}");
		return -1;
	}
	if ((k->basic_user = dup_str(c, ba, "user", 1, 1024)) == NULL ||
	    (k->basic_pass = dup_str(c, ba, "password", 1, 1024)) == NULL)
		return -1;
	if (check_template(c, p, k->basic_user, "validation.basicAuth",
	    0) == -1 || check_template(c, p, k->basic_pass,
	    "validation.basicAuth", 0) == -1)
		return -1;
	return 0;
}

/* validStatus (required) and rejectStatus, with no status in both. */
static int
load_statuses(struct cctx *c, struct cat_check *k, struct json_object *o)
{
	size_t i, j;

	if (load_status(c, o, "validStatus", k->valid, &k->nvalid, 1) == -1 ||
	    load_status(c, o, "rejectStatus", k->reject, &k->nreject, 0) == -1)
		return -1;
	for (i = 0; i < k->nvalid; i++)
		for (j = 0; j < k->nreject; j++)
			if (k->valid[i] == k->reject[j]) {
				cerr(c, "status %d is both valid and rejected",
				    k->valid[i]);
				return -1;
			}
	return 0;
}

/* The optional {"pointer": "/...", "equals": any JSON value}. */
static int
load_expect(struct cctx *c, struct cat_check *k, struct json_object *o)
{
	static const char *const ex_keys[] = { "pointer", "equals", NULL };
	struct json_object	*ex, *v;

	if (!json_object_object_get_ex(o, "expect", &ex))
		return 0;
	if (!json_object_is_type(ex, json_type_object) ||
	    unknown_key(ex, ex_keys) != NULL ||
	    !json_object_object_get_ex(ex, "equals", &v)) {
		cerr(c, "validation.expect must be {pointer, equals}");
		return -1;
	}
	if ((k->expect_pointer = dup_str(c, ex, "pointer", 1, 256)) == NULL)
		return -1;
	if (k->expect_pointer[0] != '/') {
		cerr(c, "validation.expect.pointer must start with '/'");
		return -1;
	}
	k->expect_value = json_object_get(v);
	return 0;
}

/* The validation block into p->check (freed with p even when this fails). */
static int
load_check(struct cctx *c, struct cat_provider *p, struct json_object *o)
{
	struct cat_check	*k;
	struct json_object	*v;
	const char		*bad;

	if (!json_object_is_type(o, json_type_object)) {
		cerr(c, "validation must be an object");
		return -1;
	}
	if ((bad = unknown_key(o, check_keys)) != NULL) {
		cerr(c, "validation: unknown key '%.64s'", bad);
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	p->check = k;
	if (load_method_url(c, p, k, o) == -1 ||
	    load_headers(c, p, k, o) == -1 ||
	    load_basic_auth(c, p, k, o) == -1)
		return -1;
	if (json_object_object_get_ex(o, "body", &v) && v != NULL) {
		k->body = json_object_get(v);
		if (check_body_template(c, p, v) == -1)
			return -1;
	}
	if (load_statuses(c, k, o) == -1 || load_expect(c, k, o) == -1)
		return -1;
	return 0;
}

static int
load_enum(struct cctx *c, struct cat_field *f, struct json_object *a)
{
	size_t			 i, n;
	struct json_object	*v;

	if (!json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0 || n > CATALOG_MAX_ENUM) {
		cerr(c, "fields.%s.enum must be a non-empty array", f->name);
		return -1;
	}
	if ((f->enumv = calloc(n, sizeof(char *))) == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0 ||
		    !is_clean_utf8(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v))) {
			cerr(c, "fields.%s.enum[%zu] must be a string", f->name, i);
			return -1;
		}
		if ((f->enumv[i] = strdup(json_object_get_string(v))) == NULL) {
			cerr(c, "out of memory");
			return -1;
		}
		f->nenum++;
	}
	return 0;
}

static const char *const field_keys[] = {
	"label", "secret", "enum", "default", "pattern", "maxLength", NULL,
};

/* fields.NAME.pattern, compiled now unless the catalog is lazy. */
static int
load_pattern(struct cctx *c, struct cat_field *f, struct json_object *fo)
{
	char	 rerr[128];
	int	 rc;

	if ((f->pattern = dup_str(c, fo, "pattern", 1, PATTERN_MAX_LEN)) == NULL)
		return -1;
	/* regcomp's memory grows with nested repetitions: bound them first */
	if (pattern_check(f->pattern, rerr, sizeof(rerr)) == -1) {
		free(f->pattern);
		f->pattern = NULL;
		cerr(c, "fields.%s.pattern: %s", f->name, rerr);
		return -1;
	}
	if (c->flags & CATALOG_LAZY)
		return 0;
	if ((rc = regcomp(&f->re, f->pattern, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &f->re, rerr, sizeof(rerr));
		free(f->pattern);
		f->pattern = NULL;
		cerr(c, "fields.%s.pattern: %s", f->name, rerr);
		return -1;
	}
	f->re_ready = 1;
	return 0;
}

/* fields.NAME.default: within maxLength, in the enum, matching the pattern. */
static int
load_default(struct cctx *c, struct cat_field *f, struct json_object *fo)
{
	size_t i;

	if ((f->def = dup_str(c, fo, "default", 1, FIELD_MAX_LEN)) == NULL)
		return -1;
	if (strlen(f->def) > f->max_len) {
		cerr(c, "fields.%s.default is longer than maxLength", f->name);
		return -1;
	}
	if (f->enumv != NULL) {
		for (i = 0; i < f->nenum; i++)
			if (strcmp(f->enumv[i], f->def) == 0)
				break;
		if (i == f->nenum) {
			cerr(c, "fields.%s.default is not in its enum", f->name);
			return -1;
		}
	}
	if (f->re_ready && regexec(&f->re, f->def, 0, NULL, 0) != 0) {
		cerr(c, "fields.%s.default does not match its pattern",
		    f->name);
		return -1;
	}
	return 0;
}

static int
load_field(struct cctx *c, struct cat_field *f, const char *name,
    struct json_object *fo, int required)
{
	struct json_object	*v;
	const char		*bad;
	int64_t			 ml;

	if ((f->name = strdup(name)) == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	f->required = required;
	f->max_len = FIELD_MAX_LEN;
	if (fo == NULL || !json_object_is_type(fo, json_type_object)) {
		cerr(c, "fields.%s must be an object", name);
		return -1;
	}
	if ((bad = unknown_key(fo, field_keys)) != NULL) {
		cerr(c, "fields.%s: unknown key '%.64s'", name, bad);
		return -1;
	}
	if ((f->label = dup_str(c, fo, "label", 1, 200)) == NULL)
		return -1;
	if ((v = jsonx_get(fo, "secret", json_type_boolean)) == NULL) {
		cerr(c, "fields.%s.secret must be true or false", name);
		return -1;
	}
	f->secret = json_object_get_boolean(v);
	if (json_object_object_get_ex(fo, "enum", &v) &&
	    load_enum(c, f, v) == -1)
		return -1;
	if (json_object_object_get_ex(fo, "maxLength", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    (ml = json_object_get_int64(v)) < 1 || ml > FIELD_MAX_LEN) {
			cerr(c, "fields.%s.maxLength must be 1-%d", name,
			    FIELD_MAX_LEN);
			return -1;
		}
		f->max_len = (size_t)ml;
	}
	if (json_object_object_get_ex(fo, "pattern", NULL) &&
	    load_pattern(c, f, fo) == -1)
		return -1;
	if (json_object_object_get_ex(fo, "default", NULL) &&
	    load_default(c, f, fo) == -1)
		return -1;
	return 0;
}

/*
 * Loads the field list po[key] into p->fields, each marked required or
 * not.  The list itself may be absent unless must_exist.
 */
static int
load_field_list(struct cctx *c, struct cat_provider *p, struct json_object *po,
    struct json_object *fields, const char *key, int required, int must_exist)
{
	struct json_object	*a, *v, *fo;
	size_t			 i, n, j;
	const char		*name;

	if (!json_object_object_get_ex(po, key, &a)) {
		if (must_exist) {
			cerr(c, "'%s' is required", key);
			return -1;
		}
		return 0;
	}
	if (!json_object_is_type(a, json_type_array)) {
		cerr(c, "'%s' must be an array of field names", key);
		return -1;
	}
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !valid_field_name(name = json_object_get_string(v))) {
			cerr(c, "%s[%zu] must be a field name [A-Za-z0-9_]{1,64}",
			    key, i);
			return -1;
		}
		for (j = 0; j < p->nfields; j++)
			if (strcmp(p->fields[j].name, name) == 0) {
				cerr(c, "field '%s' is listed twice", name);
				return -1;
			}
		if (p->nfields >= CATALOG_MAX_FIELDS) {
			cerr(c, "too many fields");
			return -1;
		}
		fo = NULL;
		if (fields == NULL ||
		    !json_object_object_get_ex(fields, name, &fo)) {
			cerr(c, "field '%s' has no entry in 'fields'", name);
			return -1;
		}
		if (load_field(c, &p->fields[p->nfields++], name, fo,
		    required) == -1)
			return -1;
		if (required)
			p->nrequired++;
	}
	return 0;
}

static const char *const provider_keys[] = {
	"id", "name", "authType", "requiredFields", "optionalFields", "fields",
	"validation", "description", "proxy", NULL,
};

int
cat_load_provider(struct cctx *c, struct cat_provider *p, struct json_object *po)
{
	struct json_object	*fields = NULL, *v;
	const char		*bad;
	int			 i;

	if (!json_object_is_type(po, json_type_object)) {
		cerr(c, "must be an object");
		return -1;
	}
	if ((p->id = dup_str(c, po, "id", 1, 64)) == NULL)
		return -1;
	if (!catalog_valid_id(p->id)) {
		cerr(c, "id must match [a-z0-9][a-z0-9_-]{0,63}");
		return -1;
	}
	c->pid = p->id;
	if ((bad = unknown_key(po, provider_keys)) != NULL) {
		cerr(c, "unknown key '%.64s'", bad);
		return -1;
	}
	if ((p->name = dup_str(c, po, "name", 1, 200)) == NULL ||
	    (p->auth_name = dup_str(c, po, "authType", 1, 32)) == NULL)
		return -1;
	p->auth = AUTH_OTHER;
	for (i = 0; i < AUTH_OTHER; i++)
		if (strcmp(auth_names[i], p->auth_name) == 0)
			p->auth = (enum auth_type)i;
	if (json_object_object_get_ex(po, "fields", &fields) &&
	    !json_object_is_type(fields, json_type_object)) {
		cerr(c, "'fields' must be an object");
		return -1;
	}
	if ((p->fields = calloc(CATALOG_MAX_FIELDS, sizeof(*p->fields))) == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	/* the lists as the file gives them, whatever the authType */
	if (load_field_list(c, p, po, fields, "requiredFields", 1,
	    p->auth == AUTH_API_KEY) == -1 ||
	    load_field_list(c, p, po, fields, "optionalFields", 0, 0) == -1)
		return -1;
	if (p->auth == AUTH_API_KEY && p->nrequired == 0) {
		cerr(c, "an api_key provider needs at least one required field");
		return -1;
	}
	if (fields != NULL) {
		json_object_object_foreach(fields, fk, fv) {
			(void)fv;
			if (catalog_field(p, fk) == NULL) {
				cerr(c, "fields.%.64s is in neither requiredFields "
				    "nor optionalFields", fk);
				return -1;
			}
		}
	}
	if (json_object_object_get_ex(po, "validation", &v) && v != NULL &&
	    load_check(c, p, v) == -1)
		return -1;
	if (json_object_object_get_ex(po, "proxy", &v) &&
	    cat_load_proxy(c, p, v) == -1)
		return -1;
	return 0;
}

struct catalog *
catalog_parse(const char *text, size_t len, const char *name, char *err,
    size_t errlen)
{
	return catalog_parse_flags(text, len, name, 0, err, errlen);
}

struct catalog *
catalog_parse_flags(const char *text, size_t len, const char *name, int flags,
    char *err, size_t errlen)
{
	struct catalog		*cat;
	struct json_object	*root, *arr;
	const char		*jerr;
	struct cctx		 c;
	size_t			 i, j, n;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.err = err;
	c.errlen = errlen;
	c.flags = flags;
	if ((root = jsonx_parse(text, len, 32, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "%s: invalid JSON: %s", name, jerr);
		return NULL;
	}
	if ((arr = jsonx_get(root, "providers", json_type_array)) == NULL ||
	    json_object_object_length(root) != 1) {
		snprintf(err, errlen, "%s: expected {\"providers\": [...]}", name);
		json_object_put(root);
		return NULL;
	}
	if ((cat = calloc(1, sizeof(*cat))) == NULL)
		goto oom;
	n = json_object_array_length(arr);
	if (n > 0 && (cat->providers = calloc(n, sizeof(*cat->providers))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		c.idx = i;
		c.pid = NULL;
		cat->nproviders++;
		if (cat_load_provider(&c, &cat->providers[i],
		    json_object_array_get_idx(arr, i)) == -1)
			goto fail;
		for (j = 0; j < i; j++)
			if (strcmp(cat->providers[j].id, cat->providers[i].id) == 0) {
				cerr(&c, "duplicate id");
				goto fail;
			}
	}
	json_object_put(root);
	return cat;
oom:
	snprintf(err, errlen, "%s: out of memory", name);
fail:
	json_object_put(root);
	catalog_free(cat);
	return NULL;
}

struct catalog *
catalog_load(const char *path, char *err, size_t errlen)
{
	return catalog_load_flags(path, 0, err, errlen);
}

struct catalog *
catalog_load_flags(const char *path, int flags, char *err, size_t errlen)
{
	char		*text;
	size_t		 len;
	struct catalog	*cat;

	if ((text = catalog_read(path, &len, err, errlen)) == NULL)
		return NULL;
	cat = catalog_parse_flags(text, len, path, flags, err, errlen);
	free(text);
	return cat;
}

const struct cat_provider *
catalog_find(const struct catalog *c, const char *id)
{
	size_t i;

	if (c->lazy != NULL)
		return cat_lazy_find(c, id);
	for (i = 0; i < c->nproviders; i++)
		if (strcmp(c->providers[i].id, id) == 0)
			return &c->providers[i];
	return NULL;
}

const struct cat_field *
catalog_field(const struct cat_provider *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nfields; i++)
		if (strcmp(p->fields[i].name, name) == 0)
			return &p->fields[i];
	return NULL;
}

int
catalog_field_match(const struct cat_field *cf, const char *value)
{
	/* the compiled form is a cache inside a catalog that is otherwise
	 * read-only after load; only CATALOG_LAZY (CGI: one thread) fills
	 * it here, a FastCGI process's threads find every pattern compiled */
	struct cat_field *f = (struct cat_field *)(uintptr_t)cf;

	if (f->pattern == NULL)
		return 1;
	if (!f->re_ready) {
		if (regcomp(&f->re, f->pattern, REG_EXTENDED | REG_NOSUB) != 0)
			return -1;
		f->re_ready = 1;
	}
	return regexec(&f->re, value, 0, NULL, 0) == 0;
}

struct json_object *
catalog_provider_json(const struct cat_provider *p)
{
	struct json_object	*o, *req, *opt;
	size_t			 i;

	o = json_object_new_object();
	req = json_object_new_array();
	opt = json_object_new_array();
	for (i = 0; i < p->nfields; i++)
		json_object_array_add(p->fields[i].required ? req : opt,
		    json_object_new_string(p->fields[i].name));
	json_object_object_add(o, "id", json_object_new_string(p->id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "authType",
	    json_object_new_string(p->auth_name));
	json_object_object_add(o, "requiredFields", req);
	json_object_object_add(o, "optionalFields", opt);
	json_object_object_add(o, "hasValidation",
	    json_object_new_boolean(p->check != NULL));
	json_object_object_add(o, "hasProxy",
	    json_object_new_boolean(p->proxy != NULL));
	return o;
}
