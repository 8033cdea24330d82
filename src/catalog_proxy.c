/*
 * catalog_proxy: a provider's "proxy" block (SPEC section 10), read as
 * strictly as the rest of the catalog: an https base URL whose host
 * placeholders are constrained fields, the credential's headers, basic
 * auth and query parameters (those of the validation block when none is
 * given), the allow list and the extra request headers forwarded.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "catalog_int.h"
#include "util.h"

#define PROXY_MAX_ALLOW		64
#define PROXY_MAX_HEADERS	32
#define PROXY_PATH_MAX		512

static const char *const proxy_keys[] = {
	"baseUrl", "headers", "basicAuth", "query", "allow", "forwardHeaders",
	NULL,
};

static const struct {
	const char	*name;
	unsigned	 bit;
} method_bits[] = {
	{ "GET", CAT_M_GET }, { "HEAD", CAT_M_HEAD }, { "POST", CAT_M_POST },
	{ "PUT", CAT_M_PUT }, { "PATCH", CAT_M_PATCH },
	{ "DELETE", CAT_M_DELETE },
};

/* Request headers the proxy never forwards, whatever the catalog says. */
static const char *const never_forwarded[] = {
	"authorization", "proxy-authorization", "cookie", "host", "forwarded",
	"content-length", "transfer-encoding", "connection", "keep-alive",
	"te", "trailer", "upgrade", "expect", "credential-id", NULL,
};

unsigned
catalog_method_bit(const char *m)
{
	size_t i;

	for (i = 0; i < sizeof(method_bits) / sizeof(method_bits[0]); i++)
		if (strcmp(method_bits[i].name, m) == 0)
			return method_bits[i].bit;
	return 0;
}

int
catalog_proxy_allows(const struct cat_proxy *px, unsigned m, const char *path,
    size_t len)
{
	const struct cat_allow	*a;
	size_t			 i, n;

	for (i = 0; i < px->nallow; i++) {
		a = &px->allow[i];
		/* HEAD is GET without the body */
		if (!(a->methods & m) &&
		    !(m == CAT_M_HEAD && (a->methods & CAT_M_GET)))
			continue;
		n = strlen(a->path);
		if (a->path[n - 1] == '/' ? len >= n &&
		    memcmp(path, a->path, n) == 0 :
		    len == n && memcmp(path, a->path, n) == 0)
			return 1;
	}
	return 0;
}

static void
headers_free(struct cat_header *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

void
cat_proxy_free(struct cat_proxy *px)
{
	size_t i;

	if (px == NULL)
		return;
	free(px->base_url);
	if (px->own_auth) {
		headers_free(px->headers, px->nheaders);
		free(px->basic_user);
		free(px->basic_pass);
	}
	headers_free(px->query, px->nquery);
	for (i = 0; i < px->nallow; i++)
		free(px->allow[i].path);
	free(px->allow);
	for (i = 0; i < px->nfwd; i++)
		free(px->fwd[i]);
	free(px->fwd);
	free(px);
}

/* An HTTP token (RFC 9110 5.6.2): a header name. */
static int
is_token(const char *s)
{
	return *s != '\0' && strspn(s, "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == strlen(s);
}

/*
 * An object of name -> template into *out (*n entries): header names are
 * tokens (query names unreserved characters), values printable
 * templates of the provider's fields.
 */
static int
load_map(struct cctx *c, const struct cat_provider *p, struct json_object *o,
    const char *where, int query, struct cat_header **out, size_t *n)
{
	const char	*v;
	size_t		 cnt;

	if (!json_object_is_type(o, json_type_object) ||
	    (cnt = (size_t)json_object_object_length(o)) == 0 ||
	    cnt > PROXY_MAX_HEADERS) {
		cerr(c, "%s must be an object of 1-%d members", where,
		    PROXY_MAX_HEADERS);
		return -1;
	}
	if ((*out = calloc(cnt, sizeof(**out))) == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	json_object_object_foreach(o, k, jv) {
		if (jv == NULL || !json_object_is_type(jv, json_type_string) ||
		    strlen(k) > 128 || (query ? *k == '\0' || strspn(k,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-._~[]") != strlen(k) : !is_token(k)) ||
		    (v = json_object_get_string(jv))[0] == '\0' ||
		    strlen(v) > 1024 || !is_printable_ascii(v, strlen(v))) {
			cerr(c, "%s: bad member '%.64s'", where, k);
			return -1;
		}
		(*out)[*n].name = strdup(k);
		(*out)[*n].value = strdup(v);
		if ((*out)[*n].name == NULL || (*out)[*n].value == NULL) {
			free((*out)[*n].name);
			free((*out)[*n].value);
			cerr(c, "out of memory");
			return -1;
		}
		(*n)++;
		if (check_template(c, p, v, where, 0) == -1)
			return -1;
	}
	return 0;
}

/* baseUrl: https, a host, no query or fragment, no '/' at the end. */
static int
load_base(struct cctx *c, const struct cat_provider *p, struct cat_proxy *px,
    struct json_object *o)
{
	size_t hend, n;

	if ((px->base_url = dup_str(c, o, "baseUrl", 1, 1024)) == NULL)
		return -1;
	n = strlen(px->base_url);
	if (strncmp(px->base_url, "https://", 8) != 0 ||
	    strcspn(px->base_url, "?#\\ ") != n ||
	    !is_printable_ascii(px->base_url, n) || px->base_url[n - 1] == '/') {
		cerr(c, "proxy.baseUrl must be https://host[/path] without a "
		    "query, a fragment or a final '/'");
		return -1;
	}
	hend = 8 + strcspn(px->base_url + 8, "/");
	if (hend == 8 || strstr(px->base_url + 8, "//") != NULL ||
	    strstr(px->base_url, "/.") != NULL) {
		cerr(c, "proxy.baseUrl has no host or a bad path");
		return -1;
	}
	return check_template(c, p, px->base_url, "proxy.baseUrl", hend);
}

/* The credential: the block's own, else the validation block's. */
static int
load_auth(struct cctx *c, const struct cat_provider *p, struct cat_proxy *px,
    struct json_object *o)
{
	static const char *const ba_keys[] = { "user", "password", NULL };
	struct json_object	*v;

	px->own_auth = 1;
	if (json_object_object_get_ex(o, "headers", &v) && load_map(c, p, v,
	    "proxy.headers", 0, &px->headers, &px->nheaders) == -1)
		return -1;
	if (json_object_object_get_ex(o, "query", &v) && load_map(c, p, v,
	    "proxy.query", 1, &px->query, &px->nquery) == -1)
		return -1;
	if (json_object_object_get_ex(o, "basicAuth", &v)) {
		if (!json_object_is_type(v, json_type_object) ||
		    unknown_key(v, ba_keys) != NULL) {
			cerr(c, "proxy.basicAuth must be {user, password}");
			return -1;
		}
		if ((px->basic_user = dup_str(c, v, "user", 1, 1024)) == NULL ||
		    (px->basic_pass = dup_str(c, v, "password", 1, 1024)) == NULL ||
		    check_template(c, p, px->basic_user, "proxy.basicAuth",
		    0) == -1 || check_template(c, p, px->basic_pass,
		    "proxy.basicAuth", 0) == -1)
			return -1;
	}
	if (px->nheaders > 0 || px->nquery > 0 || px->basic_user != NULL)
		return 0;
	px->own_auth = 0;
	if (p->check == NULL || (p->check->nheaders == 0 &&
	    p->check->basic_user == NULL)) {
		cerr(c, "proxy needs headers, basicAuth or query (or a "
		    "validation block that has headers or basicAuth)");
		return -1;
	}
	px->headers = p->check->headers;
	px->nheaders = p->check->nheaders;
	px->basic_user = p->check->basic_user;
	px->basic_pass = p->check->basic_pass;
	return 0;
}

/* An allow path: "/" then printable bytes without a trick in them. */
static int
allow_path_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= PROXY_PATH_MAX && s[0] == '/' &&
	    is_printable_ascii(s, n) && strcspn(s, "?#\\@% ") == n &&
	    strstr(s, "//") == NULL && strstr(s, "/./") == NULL &&
	    strstr(s, "/../") == NULL &&
	    !(n >= 2 && strcmp(s + n - 2, "/.") == 0) &&
	    !(n >= 3 && strcmp(s + n - 3, "/..") == 0);
}

static int
load_allow_one(struct cctx *c, struct cat_allow *a, struct json_object *e,
    size_t i)
{
	static const char *const allow_keys[] = { "methods", "path", NULL };
	struct json_object	*ms, *m;
	size_t			 j, n;
	unsigned		 bit;

	if (!json_object_is_type(e, json_type_object) ||
	    unknown_key(e, allow_keys) != NULL ||
	    !json_object_object_get_ex(e, "methods", &ms) ||
	    !json_object_is_type(ms, json_type_array) ||
	    (n = json_object_array_length(ms)) == 0) {
		cerr(c, "proxy.allow[%zu] must be {methods: [...], path}", i);
		return -1;
	}
	for (j = 0; j < n; j++) {
		m = json_object_array_get_idx(ms, j);
		if (!json_object_is_type(m, json_type_string) ||
		    (bit = catalog_method_bit(json_object_get_string(m))) == 0 ||
		    (a->methods & bit)) {
			cerr(c, "proxy.allow[%zu].methods[%zu] is not GET, HEAD, "
			    "POST, PUT, PATCH or DELETE (once)", i, j);
			return -1;
		}
		a->methods |= bit;
	}
	if ((a->path = dup_str(c, e, "path", 1, PROXY_PATH_MAX)) == NULL)
		return -1;
	if (!allow_path_ok(a->path)) {
		cerr(c, "proxy.allow[%zu].path must be a plain absolute path",
		    i);
		return -1;
	}
	return 0;
}

static int
load_allow(struct cctx *c, struct cat_proxy *px, struct json_object *o)
{
	struct json_object	*a;
	size_t			 i, n;

	if (!json_object_object_get_ex(o, "allow", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0 || n > PROXY_MAX_ALLOW) {
		cerr(c, "proxy.allow must be an array of 1-%d entries",
		    PROXY_MAX_ALLOW);
		return -1;
	}
	if ((px->allow = calloc(n, sizeof(*px->allow))) == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		px->nallow++;
		if (load_allow_one(c, &px->allow[i],
		    json_object_array_get_idx(a, i), i) == -1)
			return -1;
	}
	return 0;
}

/* 1 when header name h must never be forwarded. */
static int
never_forward(const char *h)
{
	size_t i;

	if (strncasecmp(h, "x-forwarded-", 12) == 0)
		return 1;
	for (i = 0; never_forwarded[i] != NULL; i++)
		if (strcasecmp(h, never_forwarded[i]) == 0)
			return 1;
	return 0;
}

static int
load_forward(struct cctx *c, struct cat_proxy *px, struct json_object *o)
{
	struct json_object	*a, *v;
	const char		*h;
	size_t			 i, j, n;

	if (!json_object_object_get_ex(o, "forwardHeaders", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) > PROXY_MAX_HEADERS) {
		cerr(c, "proxy.forwardHeaders must be an array of at most %d "
		    "names", PROXY_MAX_HEADERS);
		return -1;
	}
	if (n > 0 && (px->fwd = calloc(n, sizeof(*px->fwd))) == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !is_token(h = json_object_get_string(v)) || strlen(h) > 64 ||
		    never_forward(h)) {
			cerr(c, "proxy.forwardHeaders[%zu] is not a header name "
			    "that may be forwarded", i);
			return -1;
		}
		for (j = 0; j < px->nheaders; j++)
			if (strcasecmp(px->headers[j].name, h) == 0) {
				cerr(c, "proxy.forwardHeaders[%zu] is a header "
				    "the credential sets", i);
				return -1;
			}
		if ((px->fwd[i] = strdup(h)) == NULL) {
			cerr(c, "out of memory");
			return -1;
		}
		px->nfwd++;
	}
	return 0;
}

int
cat_load_proxy(struct cctx *c, struct cat_provider *p, struct json_object *o)
{
	const char *bad;

	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		cerr(c, "proxy must be an object");
		return -1;
	}
	if ((bad = unknown_key(o, proxy_keys)) != NULL) {
		cerr(c, "proxy: unknown key '%.64s'", bad);
		return -1;
	}
	if ((p->proxy = calloc(1, sizeof(*p->proxy))) == NULL) {
		cerr(c, "out of memory");
		return -1;
	}
	/* freed with p whatever happens below */
	if (load_base(c, p, p->proxy, o) == -1 ||
	    load_auth(c, p, p->proxy, o) == -1 ||
	    load_allow(c, p->proxy, o) == -1 ||
	    load_forward(c, p->proxy, o) == -1)
		return -1;
	return 0;
}
