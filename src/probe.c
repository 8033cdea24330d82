#include "cs_build.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "curlapi.h"
#include "fence.h"
#include "jsonx.h"
#include "log.h"
#include "probe.h"
#include "util.h"

/*
 * libcurl, loaded by the first check (curlapi.c), and one handle per
 * thread (an easy handle is never used by two threads at once): its
 * connection and DNS caches serve the thread's later checks.  A FastCGI
 * worker cleans its own up when it ends (probe_thread_end).
 */
static _Thread_local const struct curlapi	*cu;
static _Thread_local CURL			*curl;

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
	const char *why;

	if (curl != NULL)
		return 0;
	if (cu == NULL && (cu = curlapi_get(&why)) == NULL) {
		log_error("probe: %s", why);
		return -1;
	}
	if ((curl = cu->easy_init()) == NULL)
		return -1;
	return 0;
}

void
probe_thread_end(void)
{
	if (curl != NULL) {
		cu->easy_cleanup(curl);
		curl = NULL;
	}
	cu = NULL;
}

void
probe_cleanup(void)
{
	probe_thread_end();
	curlapi_release();
}

/*
 * RFC 3986 percent-encoding of everything but the unreserved characters;
 * in the path (in_path) '.' is encoded too, so a value never makes a dot
 * segment.
 */
static int
url_escape(struct buf *b, const char *v, size_t n, int in_path)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;
	unsigned char		 c;
	char			 enc[3];

	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '~' || (c == '.' && !in_path)) {
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
	size_t		 pos = 0, last = 0, start, nlen, vlen, path = SIZE_MAX;
	const char	*name, *v;
	char		 fname[65];

	buf_init(&b, 64 * 1024, 1);
	/* where the path starts: after scheme://authority (none: no URL) */
	if (urlenc && (v = strstr(tmpl, "://")) != NULL)
		path = (size_t)(v + 3 - tmpl) + strcspn(v + 3, "/?#");
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
		/* "." and ".." in a path would move the request elsewhere */
		if (urlenc && start >= path && (strcmp(v, ".") == 0 ||
		    strcmp(v, "..") == 0))
			goto bad;
		if (urlenc) {
			if (url_escape(&b, v, vlen, start >= path) == -1)
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

static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	int *fenced = arg;

	(void)purpose;
	if (fence_refused(&a->addr)) {
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
		/*
		 * A copy, not another reference: the template belongs to the
		 * catalog that every thread shares, and json-c's reference
		 * counts are not atomic.
		 */
		o = NULL;
		if (t != NULL && json_object_deep_copy(t, &o, NULL) != 0)
			*bad = 1;
		return o;
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
verdict(struct probe_result *res, enum probe_verdict v, const char *reason,
    const char *why)
{
	res->verdict = v;
	snprintf(res->reason, sizeof(res->reason), "%s", reason);
	snprintf(res->why, sizeof(res->why), "%s", why);
}

/* The "check" reason of a transfer that got no answer. */
static const char *
neterr_reason(int cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "dns_error";
	case CURLE_COULDNT_CONNECT:
		return "connect_error";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
		return "tls_error";
	default:
		return "network_error";
	}
}

/* "status_N" of an answer the catalog does not take as valid. */
static void
status_reason(struct probe_result *res, long status)
{
	snprintf(res->reason, sizeof(res->reason), "status_%ld", status);
}

/* A 2xx in validStatus with an `expect` rule: the body decides. */
static void
classify_expect(const struct cat_check *k, const struct probe_outcome *out,
    struct probe_result *res)
{
	struct json_object	*resp, *at;
	const char		*jerr;

	if (out->truncated) {
		verdict(res, PROBE_UNVERIFIED, "too_large",
		    "response body over 64 KiB");
		return;
	}
	if (out->body_len == 0 || (resp = jsonx_parse(out->body, out->body_len,
	    64, 1, &jerr)) == NULL) {
		verdict(res, PROBE_REJECTED, "unexpected_answer",
		    "response is not the JSON expected");
		return;
	}
	at = probe_json_pointer(resp, k->expect_pointer);
	if (at != NULL && json_object_equal(at, k->expect_value))
		verdict(res, PROBE_VALID, "",
		    "provider answered with the expected value");
	else
		verdict(res, PROBE_REJECTED, "unexpected_answer",
		    "provider answered without the expected value");
	jsonx_put_wipe(resp);
}

void
probe_classify(const struct cat_check *k, const struct probe_outcome *out,
    struct probe_result *res)
{
	memset(res, 0, sizeof(*res));
	res->http_status = out->status;
	if (out->fenced) {
		verdict(res, PROBE_UNVERIFIED, "fenced",
		    "check target is a private address");
		return;
	}
	if (out->neterr != NULL) {
		snprintf(res->why, sizeof(res->why), "check failed: %s",
		    out->neterr);
		snprintf(res->reason, sizeof(res->reason), "%s",
		    neterr_reason(out->neterr_code));
		res->verdict = PROBE_UNVERIFIED;
		return;
	}
	if (in_list(k->reject, k->nreject, out->status)) {
		snprintf(res->why, sizeof(res->why), "provider answered %ld",
		    out->status);
		status_reason(res, out->status);
		res->verdict = PROBE_REJECTED;
		return;
	}
	/* 429, 5xx and every other status the catalog does not list */
	if (!in_list(k->valid, k->nvalid, out->status)) {
		snprintf(res->why, sizeof(res->why),
		    "provider answered %ld, neither valid nor rejected",
		    out->status);
		status_reason(res, out->status);
		res->verdict = PROBE_UNVERIFIED;
		return;
	}
	if (k->expect_pointer != NULL) {
		classify_expect(k, out, res);
		return;
	}
	snprintf(res->why, sizeof(res->why), "provider answered %ld",
	    out->status);
	res->verdict = PROBE_VALID;
}

/* A check's request rendered from its templates; holds secrets. */
struct request {
	char			*url;
	struct curl_slist	*hdrs;
	struct json_object	*bodyo;
	char			*body;		/* NULL: none */
	char			*user;		/* NULL: no basic auth */
	char			*pass;
};

static void
wipe_slist(struct curl_slist *l)
{
	struct curl_slist *i;

	if (l == NULL)
		return;
	for (i = l; i != NULL; i = i->next)
		secure_wipe(i->data, strlen(i->data));
	cu->slist_free_all(l);
}

static void
request_free(struct request *rq)
{
	jsonx_put_wipe(rq->bodyo);
	wipe_slist(rq->hdrs);
	secure_free_str(rq->url);
	secure_free_str(rq->user);
	secure_free_str(rq->pass);
	secure_free_str(rq->body);
	memset(rq, 0, sizeof(*rq));
}

/* The URL with its fields, moved to the override origin if any. */
static const char *
build_url(const struct cat_check *k, const struct credset *cs,
    const struct probe_opts *o, struct request *rq)
{
	char *tmp;

	if ((rq->url = probe_render(k->url, cs, 1)) == NULL)
		return "a field of the check is missing";
	if (o->origin_override != NULL) {
		if ((tmp = probe_apply_origin(rq->url, o->origin_override)) == NULL)
			return "bad check URL";
		secure_free_str(rq->url);
		rq->url = tmp;
	}
	return NULL;
}

/* "Name: value" lines with their fields; -1 when one is missing or bad. */
static int
build_headers(const struct cat_check *k, const struct credset *cs,
    struct request *rq)
{
	struct curl_slist	*nl;
	char			*hv = NULL, *line = NULL;
	size_t			 i, n;
	int			 rc = -1;

	for (i = 0; i < k->nheaders; i++) {
		if ((hv = probe_render(k->headers[i].value, cs, 0)) == NULL)
			goto out;
		n = strlen(k->headers[i].name) + strlen(hv) + 3;
		if ((line = malloc(n)) == NULL)
			goto out;
		snprintf(line, n, "%s: %s", k->headers[i].name, hv);
		secure_free_str(hv);
		hv = NULL;
		if ((nl = cu->slist_append(rq->hdrs, line)) == NULL)
			goto out;
		rq->hdrs = nl;
		secure_free_str(line);
		line = NULL;
	}
	rc = 0;
out:
	secure_free_str(hv);
	secure_free_str(line);
	return rc;
}

/*
 * Renders every part of the check with the values of cs into *rq (freed
 * with request_free whatever the outcome).  Returns NULL, or why no
 * request can be made.
 */
static const char *
request_build(const struct cat_check *k, const struct credset *cs,
    const struct probe_opts *o, struct request *rq)
{
	static const char *const missing = "a field of the check is missing";
	const char		*why;
	int			 bad = 0;

	if ((why = build_url(k, cs, o, rq)) != NULL)
		return why;
	if (build_headers(k, cs, rq) == -1)
		return missing;
	if (k->body != NULL) {
		rq->bodyo = render_json(k->body, cs, &bad);
		if (bad)
			return missing;
		if ((rq->body = strdup(json_object_to_json_string_ext(rq->bodyo,
		    JSON_C_TO_STRING_PLAIN))) == NULL)
			return missing;
	}
	if (k->basic_user != NULL &&
	    ((rq->user = probe_render(k->basic_user, cs, 0)) == NULL ||
	    (rq->pass = probe_render(k->basic_pass, cs, 0)) == NULL))
		return missing;
	return NULL;
}

/* What is sent: method, URL, headers, body, credentials. */
static void
set_request(const struct cat_check *k, const struct request *rq)
{
	if (rq->body != NULL) {
		cu->easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body);
		cu->easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(rq->body));
	}
	if (rq->user != NULL) {
		cu->easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		cu->easy_setopt(curl, CURLOPT_USERNAME, rq->user);
		cu->easy_setopt(curl, CURLOPT_PASSWORD, rq->pass);
	}
	cu->easy_setopt(curl, CURLOPT_URL, rq->url);
	if (strcmp(k->method, "GET") == 0 && rq->body == NULL)
		cu->easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	else if (strcmp(k->method, "HEAD") == 0)
		cu->easy_setopt(curl, CURLOPT_NOBODY, 1L);
	else
		cu->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, k->method);
	cu->easy_setopt(curl, CURLOPT_HTTPHEADER, rq->hdrs);
	cu->easy_setopt(curl, CURLOPT_USERAGENT, "credstore/" PACKAGE_VERSION);
}

/*
 * The outbound fence: https only (http too when an override is set), no
 * redirects, no proxy, bounded time and body, and no connection to a
 * fenced address unless the override chose it.
 */
static void
set_fence(const struct probe_opts *o, struct sink *sink, int *fenced)
{
	cu->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	cu->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
	cu->easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(curl, CURLOPT_PROXY, "");
	cu->easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
	    o->origin_override != NULL ? "http,https" : "https");
	cu->easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	cu->easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
	cu->easy_setopt(curl, CURLOPT_WRITEDATA, sink);
	cu->easy_setopt(curl, CURLOPT_DNS_CACHE_TIMEOUT, 60L);
	if (o->origin_override == NULL) {
		cu->easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
		cu->easy_setopt(curl, CURLOPT_OPENSOCKETDATA, fenced);
	}
}

/*
 * Sends rq and reads the answer into sink.  Fills *out; its body points
 * into sink and its neterr is libcurl's static text.
 */
static void
request_perform(const struct cat_check *k, const struct request *rq,
    const struct probe_opts *o, struct sink *sink, struct probe_outcome *out)
{
	CURLcode	 cc;
	long		 status = 0;
	int		 fenced = 0;

	cu->easy_reset(curl);
	set_request(k, rq);
	set_fence(o, sink, &fenced);
	cc = cu->easy_perform(curl);
	cu->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	/* drop pointers into buffers that are about to be wiped */
	cu->easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	cu->easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	cu->easy_setopt(curl, CURLOPT_OPENSOCKETDATA, NULL);

	memset(out, 0, sizeof(*out));
	out->fenced = fenced;
	out->status = status;
	/* a body over the cap stops the transfer; that is no network error */
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && sink->truncated)) {
		out->neterr = cu->easy_strerror(cc);
		out->neterr_code = (int)cc;
	}
	out->body = sink->b.data;
	out->body_len = sink->b.len;
	out->truncated = sink->truncated;
}

void
probe_check(const struct cat_provider *p, const struct credset *cs,
    const struct probe_opts *o, struct probe_result *res)
{
	struct request		 rq;
	struct probe_outcome	 out;
	struct sink		 sink;
	const char		*why;

	memset(res, 0, sizeof(*res));
	if (p->check == NULL) {
		verdict(res, PROBE_UNVERIFIED, "no_check", "provider has no check");
		return;
	}
	if (curl == NULL && probe_init() == -1) {
		verdict(res, PROBE_UNVERIFIED, "client_unavailable",
		    "HTTP client unavailable");
		return;
	}
	memset(&rq, 0, sizeof(rq));
	buf_init(&sink.b, PROBE_MAX_BODY, 1);
	sink.truncated = 0;
	if ((why = request_build(p->check, cs, o, &rq)) != NULL)
		verdict(res, PROBE_UNVERIFIED, "bad_request", why);
	else {
		request_perform(p->check, &rq, o, &sink, &out);
		probe_classify(p->check, &out, res);
	}
	request_free(&rq);
	buf_reset(&sink.b);
}
