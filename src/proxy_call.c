/*
 * proxy_call: one proxied call (proxy.h), built from the catalog's proxy
 * block and performed with libcurl (curlapi.c).  Fenced like a provider
 * check (SPEC section 9): https only (http too to the configured
 * override), no redirect followed, no proxy, the fence checked on the
 * very address connected to (curlapi_fenced_socket), bounded time and
 * answer size.  A handle per call: nothing here is shared between calls.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curlapi.h"
#include "log.h"
#include "probe.h"
#include "proxy.h"
#include "util.h"

#define URL_MAX		(16 * 1024)
#define HDR_LINE_MAX	8192

/* One call's request, rendered; holds secrets. */
struct call {
	const struct curlapi	*cu;
	CURL			*h;
	struct buf		 url;
	struct curl_slist	*hdrs;
	char			*user, *pass;
	struct proxy_answer	*ans;
	size_t			 max;
	int			 too_large;
	int			 fenced;
};

/*
 * This thread's libcurl handle for proxied calls, kept between calls so
 * that its connections are reused (a call to the same origin skips the
 * TCP and TLS handshakes).  A connection was fenced when it was
 * opened (curlapi_fenced_socket), so reusing it connects nowhere new.
 * curl_easy_reset after each call (call_free) clears every option and
 * keeps the connections.
 */
static _Thread_local CURL			*th_handle;
static _Thread_local const struct curlapi	*th_cu;

void
proxy_thread_end(void)
{
	if (th_handle != NULL)
		th_cu->easy_cleanup(th_handle);
	th_handle = NULL;
	th_cu = NULL;
}

/*
 * This thread's handle, with no option set (call_free resets it after
 * each call); NULL when none can be made.
 */
static CURL *
thread_handle(const struct curlapi *cu)
{
	if (th_handle != NULL && th_cu != cu)
		proxy_thread_end();	/* libcurl was loaded again */
	if (th_handle == NULL && (th_handle = cu->easy_init()) != NULL)
		th_cu = cu;
	return th_handle;
}

static void
wipe_slist(const struct curlapi *cu, struct curl_slist *l)
{
	struct curl_slist *i;

	for (i = l; i != NULL; i = i->next)
		secure_wipe(i->data, strlen(i->data));
	if (l != NULL)
		cu->slist_free_all(l);
}

static void
call_free(struct call *k)
{
	/*
	 * The options point into k, and libcurl's copies of the URL and the
	 * credentials are wiped as they are freed: none outlives the call.
	 */
	if (k->h != NULL)
		k->cu->easy_reset(k->h);
	if (k->cu != NULL)
		wipe_slist(k->cu, k->hdrs);
	buf_reset(&k->url);
	secure_free_str(k->user);
	secure_free_str(k->pass);
}

/* Appends "name: value" to the header list; -1 when out of memory. */
static int
add_header(struct call *k, const char *name, const char *value)
{
	struct curl_slist	*nl;
	struct buf		 line;
	int			 rc = -1;

	buf_init(&line, HDR_LINE_MAX, 1);
	if (buf_printf(&line, "%s: %s", name, value) == -1)
		goto out;
	if ((nl = k->cu->slist_append(k->hdrs, line.data)) == NULL)
		goto out;
	k->hdrs = nl;
	rc = 0;
out:
	buf_reset(&line);
	return rc;
}

/* base URL, "/", the client's rest, "?" and the query. */
static int
build_url(struct call *k, const struct cat_proxy *px, const struct credset *cs,
    const struct proxy_req *rq, const struct proxy_opts *o)
{
	struct buf	 q;
	char		*base, *tmp;
	int		 rc = -1;

	if ((base = probe_render(px->base_url, cs, 1)) == NULL)
		return -1;
	if (o->origin_override != NULL) {
		tmp = probe_apply_origin(base, o->origin_override);
		secure_free_str(base);
		if ((base = tmp) == NULL)
			return -1;
	}
	buf_init(&q, PROXY_QUERY_MAX + 64 * 1024, 1);
	buf_init(&k->url, URL_MAX, 1);
	if (proxy_build_query(rq->query, px->query, px->nquery, cs, &q) == -1 ||
	    buf_adds(&k->url, base) == -1 || buf_addc(&k->url, '/') == -1 ||
	    buf_add(&k->url, rq->rest, rq->restlen) == -1 ||
	    (q.len > 0 && (buf_addc(&k->url, '?') == -1 ||
	    buf_add(&k->url, q.data, q.len) == -1)))
		goto out;
	rc = 0;
out:
	secure_free_str(base);
	buf_reset(&q);
	return rc;
}

/* 1 when the credential's headers set name. */
static int
injects(const struct cat_proxy *px, const char *name)
{
	size_t i;

	for (i = 0; i < px->nheaders; i++)
		if (strcasecmp(px->headers[i].name, name) == 0)
			return 1;
	return 0;
}

/* The credential's headers, then the client's forwarded ones. */
static int
build_headers(struct call *k, const struct cat_proxy *px,
    const struct credset *cs, const struct proxy_req *rq)
{
	char	*v;
	size_t	 i;
	int	 rc;

	for (i = 0; i < px->nheaders; i++) {
		if ((v = probe_render(px->headers[i].value, cs, 0)) == NULL)
			return -1;
		rc = add_header(k, px->headers[i].name, v);
		secure_free_str(v);
		if (rc == -1)
			return -1;
	}
	for (i = 0; i < rq->nhdrs; i++)
		if (!injects(px, rq->hdrs[i].name) && add_header(k,
		    rq->hdrs[i].name, rq->hdrs[i].value) == -1)
			return -1;
	/* no 100-continue round trip; no Accept libcurl would add */
	if (add_header(k, "Expect", "") == -1)
		return -1;
	if (px->basic_user != NULL &&
	    ((k->user = probe_render(px->basic_user, cs, 0)) == NULL ||
	    (k->pass = probe_render(px->basic_pass, cs, 0)) == NULL))
		return -1;
	return 0;
}

/* libcurl's answer header lines: the ones passed back, kept. */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct call	*k = arg;
	size_t		 n = size * nmemb, nl, vs, ve;
	char		*ct;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new answer (after a 1xx): forget the headers before */
		k->ans->headers.len = 0;
		free(k->ans->ctype);
		k->ans->ctype = NULL;
		return n;
	}
	nl = 0;
	while (nl < n && p[nl] != ':' && p[nl] != '\r' && p[nl] != '\n')
		nl++;
	if (nl == 0 || nl == n || p[nl] != ':' ||
	    !proxy_answer_header_ok(p, nl))
		return n;
	for (vs = nl + 1; vs < n && (p[vs] == ' ' || p[vs] == '\t'); vs++)
		;
	for (ve = n; ve > vs && (p[ve - 1] == '\r' || p[ve - 1] == '\n' ||
	    p[ve - 1] == ' ' || p[ve - 1] == '\t'); ve--)
		;
	if (!is_printable_ascii(p + vs, ve - vs))
		return n;		/* not a value to pass on */
	if (nl == 12 && strncasecmp(p, "content-type", 12) == 0) {
		if ((ct = malloc(ve - vs + 1)) != NULL) {
			memcpy(ct, p + vs, ve - vs);
			ct[ve - vs] = '\0';
			free(k->ans->ctype);
			k->ans->ctype = ct;
		}
		return n;
	}
	/* over the cap: the line is left out */
	(void)(buf_add(&k->ans->headers, p, nl) == -1 ||
	    buf_adds(&k->ans->headers, ": ") == -1 ||
	    buf_add(&k->ans->headers, p + vs, ve - vs) == -1 ||
	    buf_adds(&k->ans->headers, "\r\n") == -1);
	return n;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct call	*k = arg;
	size_t		 n = size * nmemb;

	if (buf_add(&k->ans->body, p, n) == -1) {
		k->too_large = 1;
		return 0;	/* stop reading: read no further */
	}
	return n;
}

/* What is sent: method, URL, headers, body, basic auth. */
static void
set_request(struct call *k, const struct proxy_req *rq)
{
	const struct curlapi	*cu = k->cu;
	CURL			*h = k->h;

	cu->easy_setopt(h, CURLOPT_URL, k->url.data);
	cu->easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	if (strcmp(rq->method, "GET") == 0)
		cu->easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else if (strcmp(rq->method, "HEAD") == 0)
		cu->easy_setopt(h, CURLOPT_NOBODY, 1L);
	else {
		if (rq->body != NULL) {
			cu->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)rq->bodylen);
			cu->easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
		}
		cu->easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	cu->easy_setopt(h, CURLOPT_HTTPHEADER, k->hdrs);
	cu->easy_setopt(h, CURLOPT_USERAGENT, "credstore/" PACKAGE_VERSION);
	if (k->user != NULL) {
		cu->easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		cu->easy_setopt(h, CURLOPT_USERNAME, k->user);
		cu->easy_setopt(h, CURLOPT_PASSWORD, k->pass);
	}
}

/* The fence and the bounds (see the file's comment). */
static void
set_fence(struct call *k, const struct proxy_opts *o)
{
	const struct curlapi	*cu = k->cu;
	CURL			*h = k->h;

	cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	cu->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
	cu->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(h, CURLOPT_PROXY, "");
	cu->easy_setopt(h, CURLOPT_PROTOCOLS_STR,
	    o->origin_override != NULL ? "http,https" : "https");
	cu->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	cu->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	cu->easy_setopt(h, CURLOPT_HEADERDATA, k);
	cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(h, CURLOPT_WRITEDATA, k);
	if (o->origin_override == NULL) {
		cu->easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION,
		    curlapi_fenced_socket);
		cu->easy_setopt(h, CURLOPT_OPENSOCKETDATA, &k->fenced);
	}
}

/* The result of a transfer that ended with cc. */
static enum proxy_rc
outcome(struct call *k, CURLcode cc)
{
	snprintf(k->ans->why, sizeof(k->ans->why), "%s",
	    cc == CURLE_OK ? "answered" : k->cu->easy_strerror(cc));
	if (k->too_large)
		return PROXY_TOO_LARGE;
	if (k->fenced) {
		snprintf(k->ans->why, sizeof(k->ans->why),
		    "the fence refused the provider's address");
		return PROXY_UNREACHABLE;
	}
	if (cc == CURLE_OK)
		return PROXY_OK;
	return cc == CURLE_OPERATION_TIMEDOUT ? PROXY_TIMEOUT :
	    PROXY_UNREACHABLE;
}

/*
 * The values to redact: those of cs and, with basic auth, the base64 of
 * "user:password" (a provider that echoes Authorization).  Into *out.
 */
static int
redact_set(const struct call *k, const struct credset *cs, struct credset *out)
{
	struct buf	 up;
	char		*b64 = NULL;
	size_t		 i;
	int		 rc = -1;

	for (i = 0; i < cs->n; i++)
		if (credset_add(out, cs->f[i].name, cs->f[i].value,
		    cs->f[i].len) == -1)
			return -1;
	if (k->user == NULL)
		return 0;
	buf_init(&up, 2 * 4096 + 2, 1);
	if (buf_printf(&up, "%s:%s", k->user, k->pass) == 0 &&
	    (b64 = b64_encode(up.data, up.len)) != NULL &&
	    credset_add(out, " basic", b64, strlen(b64)) == 0)
		rc = 0;
	secure_free_str(b64);
	buf_reset(&up);
	return rc;
}

/* Redacts the answer: body, headers and the Content-Type. */
static int
redact_answer(const struct call *k, struct proxy_answer *a,
    const struct credset *cs)
{
	struct credset	 all;
	struct buf	 ct;
	int		 rc = -1;

	credset_init(&all);
	if (redact_set(k, cs, &all) == -1 || proxy_redact(&a->body, &all) == -1 ||
	    proxy_redact(&a->headers, &all) == -1)
		goto out;
	rc = 0;
	if (a->ctype == NULL)
		goto out;
	buf_init(&ct, 4096, 0);
	rc = buf_adds(&ct, a->ctype) == -1 || proxy_redact(&ct, &all) == -1 ?
	    -1 : 0;
	free(a->ctype);
	a->ctype = rc == 0 ? buf_steal(&ct, NULL) : NULL;
	buf_reset(&ct);
out:
	credset_free(&all);
	return rc;
}

enum proxy_rc
proxy_call(const struct cat_proxy *px, const struct credset *cs,
    const struct proxy_req *rq, const struct proxy_opts *o,
    struct proxy_answer *ans)
{
	struct call	 k;
	const char	*why;
	enum proxy_rc	 rc;
	CURLcode	 cc;

	memset(&k, 0, sizeof(k));
	buf_init(&k.url, URL_MAX, 1);
	k.ans = ans;
	buf_reset(&ans->body);
	buf_init(&ans->body, o->max_response, 1);
	if ((k.cu = curlapi_get(&why)) == NULL || (k.h = thread_handle(k.cu)) ==
	    NULL) {
		snprintf(ans->why, sizeof(ans->why), "%s", k.cu == NULL ? why :
		    "no libcurl handle");
		call_free(&k);
		return PROXY_INTERNAL;
	}
	if (build_url(&k, px, cs, rq, o) == -1 ||
	    build_headers(&k, px, cs, rq) == -1) {
		snprintf(ans->why, sizeof(ans->why),
		    "a field the proxy needs is missing or not usable");
		call_free(&k);
		return PROXY_BAD_CREDENTIAL;
	}
	set_request(&k, rq);
	set_fence(&k, o);
	cc = k.cu->easy_perform(k.h);
	k.cu->easy_getinfo(k.h, CURLINFO_RESPONSE_CODE, &ans->status);
	rc = outcome(&k, cc);
	if (rc == PROXY_OK && redact_answer(&k, ans, cs) == -1) {
		snprintf(ans->why, sizeof(ans->why), "cannot redact the answer");
		rc = PROXY_TOO_LARGE;
	}
	call_free(&k);
	if (rc != PROXY_OK) {
		buf_reset(&ans->body);
		buf_reset(&ans->headers);
	}
	return rc;
}
