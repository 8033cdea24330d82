#include "cs_build.h"

#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "probe.h"
#include "validate.h"
#include "util.h"

enum vclass {
	VC_ID,		/* [a-z0-9][a-z0-9_-]* */
	VC_CRED_ID,	/* crd_ + Crockford base32 */
	VC_TEXT,	/* UTF-8 without control bytes */
	VC_PRINTABLE,	/* printable ASCII */
	VC_B64DOT,	/* base64url alphabet and '.' */
};

/* The validator table: one row per kind of input value. */
static const struct {
	size_t		 min, max;	/* bytes */
	size_t		 max_chars;	/* code points; 0: no limit */
	enum vclass	 cls;
	int		 no_bidi;	/* shown to people: no bidi controls */
} validators[VK__MAX] = {
	[VK_PROVIDER] = { 1, 64, 0, VC_ID },
	[VK_CREDENTIAL_ID] = { 30, 30, 0, VC_CRED_ID },
	[VK_LABEL] = { 1, LABEL_MAX_CHARS * 4, LABEL_MAX_CHARS, VC_TEXT, 1 },
	[VK_CRED_VALUE] = { 1, CREDSET_VALUE_MAX, 0, VC_TEXT },
	[VK_IDEMPOTENCY_KEY] = { 1, 255, 0, VC_PRINTABLE },
	[VK_TOKEN] = { 1, 8192, 0, VC_B64DOT },
};

static size_t
utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/*
 * 1 when s[0..len) holds a bidirectional embedding, override or isolate
 * control (U+202A-U+202E, U+2066-U+2069), which make text display in an
 * order other than its own (Trojan Source).  The marks U+200E, U+200F
 * and U+061C stay allowed: right-to-left text needs them, and they
 * cannot reorder a run of strong characters.
 */
int
validate_has_bidi_control(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i + 2 < len; i++)
		if (p[i] == 0xe2 && ((p[i + 1] == 0x80 && p[i + 2] >= 0xaa &&
		    p[i + 2] <= 0xae) || (p[i + 1] == 0x81 &&
		    p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9)))
			return 1;
	return 0;
}

/* 1 when s[0..len) is of character class c. */
static int
class_ok(enum vclass c, const char *s, size_t len)
{
	size_t	i;
	char	id[65];		/* VK_PROVIDER: at most 64 bytes */

	switch (c) {
	case VC_ID:
		/* the catalog's rule, on a copy (s need not end at len) */
		if (len >= sizeof(id) || memchr(s, '\0', len) != NULL)
			return 0;
		memcpy(id, s, len);
		id[len] = '\0';
		return catalog_valid_id(id);
	case VC_CRED_ID:
		if (strncmp(s, "crd_", 4) != 0)
			return 0;
		for (i = 4; i < len; i++)
			if (strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", s[i]) == NULL ||
			    s[i] == '\0')
				return 0;
		return s[4] <= '7';	/* 128-bit ULID: first digit 0-7 */
	case VC_TEXT:
		return is_clean_utf8(s, len);
	case VC_PRINTABLE:
		return is_printable_ascii(s, len);
	case VC_B64DOT:
		for (i = 0; i < len; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
			    s[i] == '_' || s[i] == '.'))
				return 0;
		return 1;
	}
	return 0;
}

int
validate_value(enum vkind k, const char *s, size_t len, enum input_reason *why)
{
	if (k >= VK__MAX || s == NULL)
		*why = IR_INVALID;
	else if (len == 0)
		*why = IR_EMPTY;
	else if (len > validators[k].max)
		*why = IR_TOO_LONG;
	else if (len < validators[k].min)
		*why = IR_TOO_SHORT;
	else if (!class_ok(validators[k].cls, s, len))
		*why = IR_INVALID_CHARACTERS;
	else if (validators[k].no_bidi && validate_has_bidi_control(s, len))
		*why = IR_BIDI_CONTROL;
	else if (validators[k].max_chars &&
	    utf8_chars(s, len) > validators[k].max_chars)
		*why = IR_TOO_LONG;
	else
		return 0;
	return -1;
}

const char *
validate_scalar(enum vkind k, const char *s, size_t len)
{
	enum input_reason why;

	return validate_value(k, s, len, &why) == 0 ? NULL :
	    apierr_reason_code(why);
}

void
input_init(struct req_input *in)
{
	memset(in, 0, sizeof(*in));
}

void
input_free(struct req_input *in)
{
	size_t i;

	for (i = 0; i < in->nf; i++) {
		free(in->f[i].name);
		secure_free(in->f[i].value, in->f[i].len);
	}
	free(in->label);
	secure_free_str(in->access_token);
	secure_free_str(in->csrf_token);
	free(in->method);
	memset(in, 0, sizeof(*in));
}

/* Records one submitted credential field (value NULL: wrong type). */
static int
add_field(struct req_input *in, const char *name, size_t nlen,
    const char *value, size_t vlen, struct apierr *e)
{
	size_t i;

	for (i = 0; i < in->nf; i++)
		if (strlen(in->f[i].name) == nlen &&
		    memcmp(in->f[i].name, name, nlen) == 0) {
			in->f[i].dup = 1;
			return 0;
		}
	if (in->nf >= INPUT_MAX_FIELDS) {
		apierr_add(e, "credentials", NULL, IR_TOO_MANY_FIELDS);
		return -1;
	}
	if ((in->f[in->nf].name = malloc(nlen + 1)) == NULL)
		return -1;
	memcpy(in->f[in->nf].name, name, nlen);
	in->f[in->nf].name[nlen] = '\0';
	if (value != NULL) {
		if ((in->f[in->nf].value = malloc(vlen + 1)) == NULL) {
			free(in->f[in->nf].name);
			return -1;
		}
		memcpy(in->f[in->nf].value, value, vlen);
		in->f[in->nf].value[vlen] = '\0';
		in->f[in->nf].len = vlen;
	}
	in->nf++;
	return 0;
}

/* A field name for a detail: the name itself when plain, else "?". */
static const char *
safe_name(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > 64)
		return "?";
	for (i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		    (n[i] >= '0' && n[i] <= '9') || n[i] == '_' || n[i] == '-' ||
		    n[i] == '.'))
			return "?";
	return n;
}

/*
 * One member of the body's object into in (credentials into *creds, which
 * the caller reads while root lives); -1 when out of memory.
 */
static int
json_member(struct req_input *in, const char *k, struct json_object *v,
    struct json_object **creds, struct apierr *e)
{
	if (strcmp(k, "credentials") == 0) {
		if (v == NULL || !json_object_is_type(v, json_type_object))
			apierr_add(e, "credentials", NULL, IR_MUST_BE_OBJECT);
		else {
			*creds = v;
			in->has_credentials = 1;
		}
	} else if (strcmp(k, "label") == 0) {
		if (v == NULL)
			in->label_state = VS_NULL;
		else if (!json_object_is_type(v, json_type_string))
			in->label_state = VS_BAD_TYPE;
		else {
			in->label_state = VS_STRING;
			in->label_len = (size_t)json_object_get_string_len(v);
			if ((in->label = malloc(in->label_len + 1)) == NULL)
				return -1;
			memcpy(in->label, json_object_get_string(v),
			    in->label_len + 1);
		}
	} else
		apierr_add(e, safe_name(k), NULL, IR_UNKNOWN_FIELD);
	return 0;
}

int
input_parse_json(const char *body, size_t len, struct req_input *in,
    struct apierr *e)
{
	struct json_object	*root, *creds = NULL;
	const char		*jerr;
	int			 rc = -1;

	if ((root = jsonx_parse(body, len, 8, 1, &jerr)) == NULL &&
	    strcmp(jerr, "the document is null") == 0) {
		e->message = "The body must be a JSON object";
		apierr_add(e, "body", NULL, IR_MUST_BE_OBJECT);
		return -1;
	}
	if (root == NULL) {
		e->message = "Malformed JSON body";
		apierr_add(e, "body", NULL, strcmp(jerr, "duplicate key") == 0 ?
		    IR_DUPLICATE_KEY : IR_MALFORMED_JSON);
		return -1;
	}
	if (!json_object_is_type(root, json_type_object)) {
		e->message = "The body must be a JSON object";
		apierr_add(e, "body", NULL, IR_MUST_BE_OBJECT);
		goto out;
	}
	json_object_object_foreach(root, k, v)
		if (json_member(in, k, v, &creds, e) == -1)
			goto out;
	if (creds != NULL) {
		json_object_object_foreach(creds, ck, cv) {
			int is_str = cv != NULL &&
			    json_object_is_type(cv, json_type_string);

			if (add_field(in, ck, strlen(ck),
			    is_str ? json_object_get_string(cv) : NULL,
			    is_str ? (size_t)json_object_get_string_len(cv) : 0,
			    e) == -1)
				break;
		}
	}
	rc = 0;
out:
	jsonx_put_wipe(root);
	return rc;
}

/* Decodes application/x-www-form-urlencoded s[0..n) in place into out. */
static int
form_decode(const char *s, size_t n, char *out, size_t *olen)
{
	size_t	i, o = 0;
	int	h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= n || (h = hex_digit(s[i + 1])) < 0 ||
			    (l = hex_digit(s[i + 2])) < 0)
				return -1;
			out[o++] = (char)(h << 4 | l);
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*olen = o;
	return 0;
}

static int
set_once(char **dst, const char *v, size_t vlen, const char *field,
    struct apierr *e)
{
	if (*dst != NULL) {
		apierr_add(e, field, NULL, IR_DUPLICATE);
		return 0;
	}
	if (memchr(v, '\0', vlen) != NULL) {
		/* read as a C string it would be cut short, and not wiped */
		e->message = "Malformed form body";
		apierr_add(e, field, NULL, IR_INVALID_CHARACTERS);
		return 0;
	}
	if ((*dst = malloc(vlen + 1)) == NULL)
		return -1;
	memcpy(*dst, v, vlen + 1);
	return 0;
}

/*
 * One decoded key=value pair of a form into in (key is a C string of
 * klen bytes; val has vlen bytes and a NUL after them); -1 when out of
 * memory.
 */
static int
form_pair(struct req_input *in, const char *key, size_t klen,
    const char *val, size_t vlen, struct apierr *e)
{
	if (klen > 13 && strncmp(key, "credentials[", 12) == 0 &&
	    key[klen - 1] == ']' && memchr(key + 12, '[', klen - 13) == NULL &&
	    memchr(key + 12, ']', klen - 13) == NULL) {
		in->has_credentials = 1;
		return add_field(in, key + 12, klen - 13, val, vlen, e);
	}
	if (strcmp(key, "label") == 0) {
		if (in->label_state != VS_ABSENT) {
			apierr_add(e, "label", NULL, IR_DUPLICATE);
			return 0;
		}
		in->label_state = VS_STRING;
		in->label_len = vlen;
		if ((in->label = malloc(vlen + 1)) == NULL)
			return -1;
		memcpy(in->label, val, vlen + 1);
		return 0;
	}
	if (strcmp(key, "access_token") == 0)
		return set_once(&in->access_token, val, vlen, "access_token", e);
	if (strcmp(key, "csrf_token") == 0)
		return set_once(&in->csrf_token, val, vlen, "csrf_token", e);
	if (strcmp(key, "_method") == 0)
		return set_once(&in->method, val, vlen, "_method", e);
	apierr_add(e, strncmp(key, "credentials", 11) == 0 ?
	    "credentials" : safe_name(key), NULL, IR_UNKNOWN_FIELD);
	return 0;
}

int
input_parse_form(const char *body, size_t len, struct req_input *in,
    struct apierr *e)
{
	const char	*p = body, *end = body + len, *amp, *eq;
	char		*key = NULL, *val = NULL;
	size_t		 klen, vlen;
	int		 rc = -1;

	if ((key = malloc(len + 1)) == NULL || (val = malloc(len + 1)) == NULL)
		goto out;
	for (; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL || form_decode(p, (size_t)(eq - p), key, &klen) == -1 ||
		    form_decode(eq + 1, (size_t)(amp - eq - 1), val, &vlen) == -1 ||
		    strlen(key) != klen) {
			e->message = "Malformed form body";
			apierr_add(e, "body", NULL, IR_MALFORMED_FORM);
			goto out;
		}
		if (form_pair(in, key, klen, val, vlen, e) == -1)
			goto out;
	}
	rc = 0;
out:
	secure_free(key, len + 1);
	secure_free(val, len + 1);
	return rc;
}

static int
in_enum(const struct cat_field *f, const char *v)
{
	size_t i;

	for (i = 0; i < f->nenum; i++)
		if (strcmp(f->enumv[i], v) == 0)
			return 1;
	return 0;
}

/* A label that is there: of the wrong type, or a string that fails. */
static void
check_label(const struct req_input *in, struct apierr *e)
{
	enum input_reason why;

	if (in->label_state == VS_BAD_TYPE)
		apierr_add(e, "label", NULL, IR_MUST_BE_STRING);
	else if (in->label_state == VS_STRING && in->label_len > 0 &&
	    validate_value(VK_LABEL, in->label, in->label_len, &why) == -1)
		apierr_add(e, "label", NULL, why);
}

/* 1 when e has a detail for field. */
static int
has_detail(const struct apierr *e, const char *field)
{
	size_t i;

	for (i = 0; i < e->nd; i++)
		if (strcmp(e->d[i].field, field) == 0)
			return 1;
	return 0;
}

/* Submitted field i against p's catalog entry, into cs or a detail. */
static void
check_field(const struct cat_provider *p, const struct req_input *in,
    size_t i, struct credset *cs, struct apierr *e)
{
	const struct cat_field	*f;
	const char		*name = in->f[i].name;
	enum input_reason	 why;
	int			 m;

	if ((f = catalog_field(p, name)) == NULL)
		apierr_add(e, "credentials", safe_name(name), IR_UNKNOWN_FIELD);
	else if (in->f[i].dup)
		apierr_add(e, "credentials", name, IR_DUPLICATE);
	else if (in->f[i].value == NULL)
		apierr_add(e, "credentials", name, IR_MUST_BE_STRING);
	else if (validate_value(VK_CRED_VALUE, in->f[i].value, in->f[i].len,
	    &why) == -1)
		apierr_add(e, "credentials", name, why);
	else if (!f->secret && validate_has_bidi_control(in->f[i].value,
	    in->f[i].len))
		apierr_add(e, "credentials", name, IR_BIDI_CONTROL);
	else if (in->f[i].len > f->max_len)
		apierr_add(e, "credentials", name, IR_TOO_LONG);
	else if (f->enumv != NULL && !in_enum(f, in->f[i].value))
		apierr_add(e, "credentials", name, IR_NOT_ALLOWED);
	else if ((m = catalog_field_match(f, in->f[i].value)) != 1)
		/* -1: a catalog loaded lazily (CGI) with a bad pattern */
		apierr_add(e, "credentials", name, m == 0 ?
		    IR_PATTERN_MISMATCH : IR_CATALOG_PATTERN_INVALID);
	else if (credset_add(cs, name, in->f[i].value, in->f[i].len) == -1)
		apierr_add(e, "credentials", name, IR_INVALID);
}

/* 1 when in has a field of that name. */
static int
submitted(const struct req_input *in, const char *name)
{
	size_t i;

	for (i = 0; i < in->nf; i++)
		if (strcmp(in->f[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * The catalog fields nobody sent: "required", or the default of an
 * optional one.  A field already reported for its value is not
 * "required".
 */
static void
check_absent(const struct cat_provider *p, const struct req_input *in,
    struct credset *cs, struct apierr *e)
{
	const struct cat_field	*f;
	size_t			 i;

	for (i = 0; i < p->nfields; i++) {
		f = &p->fields[i];
		if (credset_get(cs, f->name, NULL) != NULL ||
		    submitted(in, f->name))
			continue;
		if (f->required && in->has_credentials)
			apierr_add(e, "credentials", f->name, IR_REQUIRED);
		else if (!f->required && f->def != NULL &&
		    credset_add(cs, f->name, f->def, strlen(f->def)) == -1)
			apierr_add(e, "credentials", f->name, IR_INVALID);
	}
}

int
input_validate(const struct cat_provider *p, const struct req_input *in,
    struct credset *cs, struct apierr *e)
{
	size_t	 i, before = e->nd;
	int	 all_required = 1;

	credset_init(cs);
	check_label(in, e);
	/* a credentials member of the wrong type is reported already */
	if (!in->has_credentials && !has_detail(e, "credentials"))
		apierr_add(e, "credentials", NULL, IR_REQUIRED);
	for (i = 0; i < in->nf; i++)
		check_field(p, in, i, cs, e);
	check_absent(p, in, cs, e);
	if (e->nd == before)
		return 0;
	for (i = before; i < e->nd; i++)
		if (e->d[i].reason != IR_REQUIRED)
			all_required = 0;
	if (e->message == NULL)
		e->message = all_required ? "Missing required credential fields" :
		    "Invalid credential fields";
	credset_free(cs);
	return -1;
}

int
input_parse_connect(const char *body, size_t len,
    char id[CREDENTIAL_ID_LEN + 1], struct apierr *e)
{
	struct json_object	*root;
	const char		*v, *jerr;

	apierr_init(e, AE_VALIDATION, "Invalid request body");
	id[0] = '\0';
	root = jsonx_parse(body, len, 4, 0, &jerr);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		apierr_add(e, "body", NULL, root ? IR_MUST_BE_OBJECT :
		    IR_MALFORMED_JSON);
		json_object_put(root);
		return -1;
	}
	json_object_object_foreach(root, k, val) {
		(void)val;
		if (strcmp(k, "credentialId") != 0)
			apierr_add(e, strlen(k) <= 64 &&
			    validate_scalar(VK_PROVIDER, k, strlen(k)) == NULL ?
			    k : "?", NULL, IR_UNKNOWN_FIELD);
	}
	v = jsonx_get_str(root, "credentialId");
	if (!json_object_object_get_ex(root, "credentialId", NULL))
		apierr_add(e, "credentialId", NULL, IR_REQUIRED);
	else if (v == NULL)
		apierr_add(e, "credentialId", NULL, IR_MUST_BE_STRING);
	else if (validate_scalar(VK_CREDENTIAL_ID, v, strlen(v)) != NULL)
		apierr_add(e, "credentialId", NULL, IR_INVALID);
	else
		memcpy(id, v, CREDENTIAL_ID_LEN + 1);
	json_object_put(root);
	return e->nd > 0 ? -1 : 0;
}

int
input_check_label_patch(const struct req_input *in, struct apierr *e)
{
	if (in->has_credentials)
		apierr_add(e, "credentials", NULL, IR_UNKNOWN_FIELD);
	if (in->label_state == VS_ABSENT)
		apierr_add(e, "label", NULL, IR_REQUIRED);
	else
		check_label(in, e);
	return e->nd > 0 ? -1 : 0;
}

/* What the parameters of a listing's query are parsed into. */
struct query_args {
	long			 max, *limit;
	char			*after;		/* the per-provider cursor */
	size_t			 afterlen;
	const struct catalog	*cat;
	struct list_all_query	*all;		/* NULL: per-provider listing */
};

static int
key_is(const char *k, size_t klen, const char *name)
{
	return klen == strlen(name) && strncmp(k, name, klen) == 0;
}

/* A tenant-wide cursor, B64URL(provider "/" id), into lq; -1 if invalid. */
static int
all_cursor(const char *val, size_t vlen, struct list_all_query *lq)
{
	unsigned char	*dec;
	const char	*slash;
	size_t		 dlen, plen;
	int		 rc = -1;

	if ((dec = b64url_decode(val, vlen, &dlen)) == NULL)
		return -1;
	if ((slash = memchr(dec, '/', dlen)) == NULL)
		goto out;
	plen = (size_t)(slash - (char *)dec);
	if (plen > VALIDATE_PROVIDER_MAX ||
	    validate_scalar(VK_PROVIDER, (char *)dec, plen) != NULL ||
	    validate_scalar(VK_CREDENTIAL_ID, slash + 1, dlen - plen - 1))
		goto out;
	memcpy(lq->after_provider, dec, plen);
	lq->after_provider[plen] = '\0';
	memcpy(lq->after, slash + 1, CREDENTIAL_ID_LEN + 1);
	rc = 0;
out:
	free(dec);
	return rc;
}

/* The verdict name s (a static string), or NULL when it is none. */
static const char *
status_name(const char *s)
{
	int v;

	for (v = 0; v < PROBE__MAX; v++)
		if (strcmp(s, probe_verdict_name((enum probe_verdict)v)) == 0)
			return probe_verdict_name((enum probe_verdict)v);
	return NULL;
}

/* A filter of the tenant-wide listing; 0 when k is none. */
static int
all_param(const char *k, size_t klen, const char *val, struct query_args *a,
    struct apierr *e)
{
	if (key_is(k, klen, "provider")) {
		if ((a->all->provider = catalog_find(a->cat, val)) == NULL)
			apierr_add(e, "provider", NULL, IR_NOT_ALLOWED);
	} else if (key_is(k, klen, "status")) {
		if ((a->all->status = status_name(val)) == NULL)
			apierr_add(e, "status", NULL, IR_NOT_ALLOWED);
	} else
		return 0;
	return 1;
}

/* One parameter of a listing's query into a; problems into e. */
static void
list_param(const char *k, size_t klen, const char *val, size_t vlen,
    struct query_args *a, struct apierr *e)
{
	unsigned char	*dec;
	size_t		 dlen;

	if (key_is(k, klen, "limit")) {
		if (parse_long(val, 1, a->max, a->limit) == -1)
			apierr_add(e, "limit", NULL, IR_OUT_OF_RANGE);
	} else if (key_is(k, klen, "cursor") && a->all != NULL) {
		if (all_cursor(val, vlen, a->all) == -1)
			apierr_add(e, "cursor", NULL, IR_INVALID);
	} else if (key_is(k, klen, "cursor")) {
		dec = b64url_decode(val, vlen, &dlen);
		if (dec == NULL || dlen >= a->afterlen ||
		    validate_scalar(VK_CREDENTIAL_ID, (char *)dec, dlen))
			apierr_add(e, "cursor", NULL, IR_INVALID);
		else
			memcpy(a->after, dec, dlen + 1);
		free(dec);
	} else if (a->all != NULL && all_param(k, klen, val, a, e))
		return;
	else if (klen > 0)
		apierr_add(e, "query", NULL, IR_UNKNOWN_PARAMETER);
}

/* Splits q at '&' and '=' and hands each parameter to list_param. */
static int
list_query(const char *q, struct query_args *a, struct apierr *e)
{
	const char	*p, *amp;
	char		 val[128];
	size_t		 klen, vlen;

	apierr_init(e, AE_VALIDATION, "Invalid query parameters");
	for (p = q; p != NULL && *p != '\0'; p = amp ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		klen = strcspn(p, "=&");
		vlen = 0;
		if (p[klen] == '=')
			vlen = (amp ? (size_t)(amp - p) : strlen(p)) - klen - 1;
		if (vlen >= sizeof(val)) {
			apierr_add(e, "query", NULL, IR_TOO_LONG);
			continue;
		}
		memcpy(val, p + klen + 1, vlen);
		val[vlen] = '\0';
		list_param(p, klen, val, vlen, a, e);
	}
	return e->nd > 0 ? -1 : 0;
}

int
input_parse_list_query(const char *q, long def, long max, long *limit,
    char *after, size_t afterlen, struct apierr *e)
{
	struct query_args a = { max, limit, after, afterlen, NULL, NULL };

	*limit = def;
	after[0] = '\0';
	return list_query(q, &a, e);
}

int
input_parse_list_all_query(const char *q, const struct catalog *cat,
    long def, long max, struct list_all_query *lq, struct apierr *e)
{
	struct query_args a = { max, &lq->limit, NULL, 0, cat, lq };

	memset(lq, 0, sizeof(*lq));
	lq->limit = def;
	return list_query(q, &a, e);
}
