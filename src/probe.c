#include "cs_build.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <malloc.h>

#define CURL_DISABLE_TYPECHECK	1	/* calls go through pointers below */
#include <curl/curl.h>
#include <json-c/json.h>

#include "jsonx.h"
#include "log.h"
#include "probe.h"
#include "util.h"

static CURL	*curl;		/* one per process: connection and DNS cache */

#ifndef CS_CURL_SONAME
#define CS_CURL_SONAME "libcurl-gnutls.so.4"
#endif

/*
 * libcurl is loaded when the first check runs, not at start: a CGI
 * request that checks no provider (and every FastCGI process until its
 * first check) does not pay for loading it and the thirty libraries it
 * needs.  Calls go through this table, filled by dlsym.
 */
static struct {
	void		*handle;
	CURLcode	(*global_init_mem)(long, curl_malloc_callback,
			    curl_free_callback, curl_realloc_callback,
			    curl_strdup_callback, curl_calloc_callback);
	CURLcode	(*global_init)(long);
	void		(*global_cleanup)(void);
	CURL		*(*easy_init)(void);
	void		(*easy_cleanup)(CURL *);
	void		(*easy_reset)(CURL *);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_perform)(CURL *);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
	curl_version_info_data *(*version_info)(CURLversion);
} api;

#define curl_global_init	api.global_init
#define curl_global_cleanup	api.global_cleanup
#define curl_easy_init		api.easy_init
#define curl_easy_cleanup	api.easy_cleanup
#define curl_easy_reset		api.easy_reset
#undef curl_easy_setopt		/* curl.h's type-checking wrappers */
#undef curl_easy_getinfo
#define curl_easy_setopt	api.easy_setopt
#define curl_easy_perform	api.easy_perform
#define curl_easy_getinfo	api.easy_getinfo
#define curl_easy_strerror	api.easy_strerror
#define curl_slist_append	api.slist_append
#define curl_slist_free_all	api.slist_free_all

/* dlsym into a function pointer without a cast between object and function. */
#define LOAD(sym, name) do {						\
	void *p_ = dlsym(api.handle, name);				\
	if (p_ == NULL)							\
		goto fail;						\
	memcpy(&api.sym, &p_, sizeof(p_));				\
} while (0)

static void
wiping_free(void *p)
{
	if (p != NULL)
		secure_free(p, malloc_usable_size(p));
}

static void *
wiping_realloc(void *p, size_t n)
{
	void	*q;
	size_t	 old;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		wiping_free(p);
		return NULL;
	}
	if ((q = malloc(n)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	wiping_free(p);
	return q;
}

static int
load_curl(void)
{
	if (api.handle != NULL)
		return 0;
	if ((api.handle = dlopen(CS_CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_error("probe: cannot load %s: %s", CS_CURL_SONAME, dlerror());
		return -1;
	}
	LOAD(global_init_mem, "curl_global_init_mem");
	LOAD(global_init, "curl_global_init");
	LOAD(global_cleanup, "curl_global_cleanup");
	LOAD(easy_init, "curl_easy_init");
	LOAD(easy_cleanup, "curl_easy_cleanup");
	LOAD(easy_reset, "curl_easy_reset");
	LOAD(easy_setopt, "curl_easy_setopt");
	LOAD(easy_perform, "curl_easy_perform");
	LOAD(easy_getinfo, "curl_easy_getinfo");
	LOAD(easy_strerror, "curl_easy_strerror");
	LOAD(slist_append, "curl_slist_append");
	LOAD(slist_free_all, "curl_slist_free_all");
	LOAD(version_info, "curl_version_info");
	{
		const curl_version_info_data *v = api.version_info(CURLVERSION_NOW);

		/* the GnuTLS flavour is the one credstore is built for */
		if (v == NULL || v->ssl_version == NULL ||
		    strstr(v->ssl_version, "GnuTLS") == NULL)
			log_warn("probe: %s uses %s, not GnuTLS", CS_CURL_SONAME,
			    v != NULL && v->ssl_version != NULL ?
			    v->ssl_version : "no TLS library");
	}
	return 0;
fail:
	log_error("probe: %s lacks a symbol: %s", CS_CURL_SONAME, dlerror());
	dlclose(api.handle);
	memset(&api, 0, sizeof(api));
	return -1;
}

static const char *const verdict_names[PROBE__MAX] = {
	"validated", "rejected", "unverified",
};

const char *
probe_verdict_name(enum probe_verdict v)
{
	return v < PROBE__MAX ? verdict_names[v] : "?";
}

int
probe_init(void)
{
	if (curl != NULL)
		return 0;
	if (load_curl() == -1)
		return -1;
	/* libcurl copies the check's headers and body: wipe what it frees */
	if (api.global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free,
	    wiping_realloc, strdup, calloc) != CURLE_OK)
		return -1;
	if ((curl = curl_easy_init()) == NULL)
		return -1;
	return 0;
}

void
probe_cleanup(void)
{
	if (curl != NULL) {
		curl_easy_cleanup(curl);
		curl = NULL;
		curl_global_cleanup();
	}
	if (api.handle != NULL) {
		dlclose(api.handle);
		memset(&api, 0, sizeof(api));
	}
}

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
static int
url_escape(struct buf *b, const char *v, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;
	unsigned char		 c;
	char			 enc[3];

	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (buf_addc(b, (char)c) == -1)
				return -1;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 15];
		if (buf_add(b, enc, 3) == -1)
			return -1;
	}
	return 0;
}

char *
probe_render(const char *tmpl, const struct credset *cs, int urlenc)
{
	struct buf	 b;
	size_t		 pos = 0, last = 0, start, nlen, vlen;
	const char	*name, *v;
	char		 fname[65];

	buf_init(&b, 64 * 1024, 1);
	while (catalog_next_placeholder(tmpl, &pos, &start, &name, &nlen)) {
		if (nlen == 0 || nlen >= sizeof(fname))
			goto bad;
		memcpy(fname, name, nlen);
		fname[nlen] = '\0';
		if ((v = credset_get(cs, fname, &vlen)) == NULL)
			goto bad;
		if (memchr(v, '\r', vlen) || memchr(v, '\n', vlen) ||
		    strlen(v) != vlen)
			goto bad;
		if (buf_add(&b, tmpl + last, start - last) == -1)
			goto bad;
		if (urlenc) {
			if (url_escape(&b, v, vlen) == -1)
				goto bad;
		} else if (buf_add(&b, v, vlen) == -1)
			goto bad;
		last = pos;
	}
	if (buf_adds(&b, tmpl + last) == -1)
		goto bad;
	return buf_steal(&b, NULL);
bad:
	buf_reset(&b);
	return NULL;
}

char *
probe_apply_origin(const char *url, const char *origin)
{
	const char	*p, *rest;
	size_t		 n;
	char		*out;

	if ((p = strstr(url, "://")) == NULL)
		return NULL;
	rest = p + 3 + strcspn(p + 3, "/?#");
	n = strlen(origin) + strlen(rest) + 1;
	if ((out = malloc(n)) == NULL)
		return NULL;
	snprintf(out, n, "%s%s", origin, rest);
	return out;
}

static int
v4_fenced(uint32_t a)
{
	return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
	    (a & 0xffc00000) == 0x64400000 ||	/* 100.64/10 */
	    (a & 0xffff0000) == 0xa9fe0000 ||	/* 169.254/16 */
	    (a & 0xfff00000) == 0xac100000 ||	/* 172.16/12 */
	    (a & 0xffffff00) == 0xc0000000 ||	/* 192.0.0/24 */
	    (a & 0xffff0000) == 0xc0a80000 ||	/* 192.168/16 */
	    (a & 0xfffe0000) == 0xc6120000 ||	/* 198.18/15 */
	    (a >> 28) >= 0xe;			/* multicast, reserved */
}

int
probe_addr_fenced(const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;
	const unsigned char		*b;
	static const unsigned char	 mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	static const unsigned char	 nat64[12] = {
		0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	size_t				 i;
	int				 zero = 1;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return v4_fenced(ntohl(s4->sin_addr.s_addr));
	}
	if (sa->sa_family != AF_INET6)
		return 1;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	b = s6->sin6_addr.s6_addr;
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_fenced((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		    (uint32_t)b[14] << 8 | b[15]);
	for (i = 0; i < 15; i++)
		if (b[i] != 0)
			zero = 0;
	if (zero)				/* :: and ::1 */
		return 1;
	return (b[0] & 0xfe) == 0xfc ||		/* fc00::/7 */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||	/* fe80::/10 */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||	/* fec0::/10 */
	    b[0] == 0xff;				/* multicast */
}

static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	int *fenced = arg;

	(void)purpose;
	if (probe_addr_fenced(&a->addr)) {
		*fenced = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

struct sink {
	struct buf	 b;
	int		 truncated;
};

static size_t
sink_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink	*s = arg;
	size_t		 n = size * nmemb;

	if (buf_add(&s->b, p, n) == -1) {
		s->truncated = 1;
		return 0;	/* stop reading: the body is bounded */
	}
	return n;
}

/* Deep copy of a JSON template with every string rendered. */
static struct json_object *
render_json(struct json_object *t, const struct credset *cs, int *bad)
{
	struct json_object	*o;
	char			*s;
	size_t			 i, n;

	switch (json_object_get_type(t)) {
	case json_type_string:
		if ((s = probe_render(json_object_get_string(t), cs, 0)) == NULL) {
			*bad = 1;
			return NULL;
		}
		o = json_object_new_string(s);
		secure_free_str(s);
		return o;
	case json_type_array:
		o = json_object_new_array();
		n = json_object_array_length(t);
		for (i = 0; i < n; i++)
			json_object_array_add(o, render_json(
			    json_object_array_get_idx(t, i), cs, bad));
		return o;
	case json_type_object:
		o = json_object_new_object();
		json_object_object_foreach(t, k, v)
			json_object_object_add(o, k, v ? render_json(v, cs, bad) :
			    NULL);
		return o;
	default:
		return json_object_get(t);
	}
}

struct json_object *
probe_json_pointer(struct json_object *o, const char *ptr)
{
	char		 tok[256];
	const char	*p = ptr;
	size_t		 n;
	long		 idx;

	if (*p == '\0')
		return o;
	while (*p == '/' && o != NULL) {
		p++;
		n = 0;
		while (*p != '\0' && *p != '/') {
			if (n + 1 >= sizeof(tok))
				return NULL;
			if (p[0] == '~' && p[1] == '0') {
				tok[n++] = '~';
				p += 2;
			} else if (p[0] == '~' && p[1] == '1') {
				tok[n++] = '/';
				p += 2;
			} else if (p[0] == '~')
				return NULL;
			else
				tok[n++] = *p++;
		}
		tok[n] = '\0';
		if (json_object_is_type(o, json_type_object)) {
			if (!json_object_object_get_ex(o, tok, &o))
				return NULL;
		} else if (json_object_is_type(o, json_type_array)) {
			if (strspn(tok, "0123456789") != n ||
			    parse_long(tok, 0, 1000000, &idx) == -1 ||
			    (tok[0] == '0' && tok[1] != '\0') ||
			    (size_t)idx >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)idx);
		} else
			return NULL;
	}
	return *p == '\0' ? o : NULL;
}

static int
in_list(const int *l, size_t n, long st)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l[i] == st)
			return 1;
	return 0;
}

static void
verdict(struct probe_result *res, enum probe_verdict v, const char *why)
{
	res->verdict = v;
	snprintf(res->why, sizeof(res->why), "%s", why);
}

static void
wipe_slist(struct curl_slist *l)
{
	struct curl_slist *i;

	for (i = l; i != NULL; i = i->next)
		secure_wipe(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

void
probe_check(const struct cat_provider *p, const struct credset *cs,
    const struct probe_opts *o, struct probe_result *res)
{
	const struct cat_check	*k = p->check;
	struct curl_slist	*hdrs = NULL, *nl;
	struct json_object	*bodyo = NULL, *resp = NULL, *at;
	struct sink		 sink;
	char			*url = NULL, *tmp, *hv = NULL, *line = NULL;
	char			*user = NULL, *pass = NULL, *body = NULL;
	const char		*jerr;
	size_t			 i, n;
	long			 status = 0;
	int			 fenced = 0, bad = 0;
	CURLcode		 cc;

	memset(res, 0, sizeof(*res));
	buf_init(&sink.b, PROBE_MAX_BODY, 1);
	sink.truncated = 0;
	if (k == NULL) {
		verdict(res, PROBE_UNVERIFIED, "provider has no check");
		return;
	}
	if (curl == NULL && probe_init() == -1) {
		verdict(res, PROBE_UNVERIFIED, "HTTP client unavailable");
		return;
	}
	curl_easy_reset(curl);
	if ((url = probe_render(k->url, cs, 1)) == NULL) {
		verdict(res, PROBE_UNVERIFIED, "a field of the check is missing");
		goto out;
	}
	if (o->origin_override != NULL) {
		if ((tmp = probe_apply_origin(url, o->origin_override)) == NULL) {
			verdict(res, PROBE_UNVERIFIED, "bad check URL");
			goto out;
		}
		secure_free_str(url);
		url = tmp;
	}
	for (i = 0; i < k->nheaders; i++) {
		if ((hv = probe_render(k->headers[i].value, cs, 0)) == NULL)
			goto missing;
		n = strlen(k->headers[i].name) + strlen(hv) + 3;
		if ((line = malloc(n)) == NULL)
			goto missing;
		snprintf(line, n, "%s: %s", k->headers[i].name, hv);
		secure_free_str(hv);
		hv = NULL;
		if ((nl = curl_slist_append(hdrs, line)) == NULL)
			goto missing;
		hdrs = nl;
		secure_free_str(line);
		line = NULL;
	}
	if (k->body != NULL) {
		bodyo = render_json(k->body, cs, &bad);
		if (bad)
			goto missing;
		if ((body = strdup(json_object_to_json_string_ext(bodyo,
		    JSON_C_TO_STRING_PLAIN))) == NULL)
			goto missing;
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (k->basic_user != NULL) {
		if ((user = probe_render(k->basic_user, cs, 0)) == NULL ||
		    (pass = probe_render(k->basic_pass, cs, 0)) == NULL)
			goto missing;
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, pass);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (strcmp(k->method, "GET") == 0 && body == NULL)
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	else if (strcmp(k->method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, k->method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "credstore/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
	    o->origin_override != NULL ? "http,https" : "https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(curl, CURLOPT_DNS_CACHE_TIMEOUT, 60L);
	if (o->origin_override == NULL) {
		curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
		curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &fenced);
	}

	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	res->http_status = status;
	if (fenced) {
		verdict(res, PROBE_UNVERIFIED, "check target is a private address");
		goto out;
	}
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && sink.truncated)) {
		snprintf(res->why, sizeof(res->why), "check failed: %s",
		    curl_easy_strerror(cc));
		res->verdict = PROBE_UNVERIFIED;
		goto out;
	}
	if (in_list(k->reject, k->nreject, status)) {
		snprintf(res->why, sizeof(res->why), "provider answered %ld", status);
		res->verdict = PROBE_REJECTED;
		goto out;
	}
	if (!in_list(k->valid, k->nvalid, status)) {
		snprintf(res->why, sizeof(res->why),
		    "provider answered %ld, neither valid nor rejected", status);
		res->verdict = PROBE_UNVERIFIED;
		goto out;
	}
	if (k->expect_pointer == NULL) {
		snprintf(res->why, sizeof(res->why), "provider answered %ld", status);
		res->verdict = PROBE_VALID;
		goto out;
	}
	if (sink.truncated) {
		verdict(res, PROBE_UNVERIFIED, "response body over 64 KiB");
		goto out;
	}
	if (sink.b.len == 0 ||
	    (resp = jsonx_parse(sink.b.data, sink.b.len, 64, 1, &jerr)) == NULL) {
		verdict(res, PROBE_REJECTED, "response is not the JSON expected");
		goto out;
	}
	at = probe_json_pointer(resp, k->expect_pointer);
	if (at != NULL && json_object_equal(at, k->expect_value))
		verdict(res, PROBE_VALID, "provider answered with the expected value");
	else
		verdict(res, PROBE_REJECTED, "provider answered without the expected value");
	goto out;
missing:
	verdict(res, PROBE_UNVERIFIED, "a field of the check is missing");
out:
	if (curl != NULL) {
		/* drop pointers into buffers that are about to be wiped */
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	}
	jsonx_put_wipe(resp);
	jsonx_put_wipe(bodyo);
	wipe_slist(hdrs);
	secure_free_str(url);
	secure_free_str(hv);
	secure_free_str(line);
	secure_free_str(user);
	secure_free_str(pass);
	secure_free_str(body);
	buf_reset(&sink.b);
}
