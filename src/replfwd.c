/*
 * replfwd: a write that reaches a replica goes to the master over HTTP
 * (SPEC section 11).  The request is sent on as it came (method, path and
 * query, body, the caller's Authorization or Cookie, which the master
 * verifies itself) with four headers:
 *
 *   X-Credstore-Forwarded: the forwarding site's repl_self
 *   X-Credstore-Forward-Time: seconds since the epoch
 *   X-Credstore-Forward-Client: the caller's address (for the audit)
 *   X-Credstore-Forward-Sig: hex HMAC-SHA256 under repl_secret_file of
 *     "credstore-forward-v1" LF method LF path[?query] LF hex SHA-256 of
 *     the body LF time LF hex SHA-256 of Authorization LF hex SHA-256 of
 *     Cookie LF client LF site
 *
 * The master accepts a signature that matches (constant time) within 30 s
 * of its clock; a forwarded request is never forwarded again (503 when
 * the site it reaches is not the master).  The master's answer (status,
 * headers, body) goes back to the caller unchanged.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "app.h"
#include "curlapi.h"
#include "filestamp.h"
#include "http.h"
#include "log.h"
#include "replfwd.h"
#include "repl.h"
#include "secmem.h"
#include "store.h"
#include "util.h"

#define SECRET_MAX	4096
#define WINDOW_S	30
#define RESP_MAX	(4 * 1024 * 1024)
#define HDRS_MAX	8192
#define RETRY_HDR	"Retry-After: 2\r\n"

static unsigned char	*secret;	/* secmem */
static size_t		 secret_len;

static int
load_secret(const struct config *cfg)
{
	char	err[512];

	if (secret != NULL)
		return 0;
	if (filestamp_read(cfg->repl_secret_file, SECRET_MAX,
	    FILESTAMP_REGULAR | FILESTAMP_SECRET | FILESTAMP_PRIVATE, &secret,
	    &secret_len, NULL, err, sizeof(err)) == -1) {
		log_error("replication: %s", err);
		return -1;
	}
	if (secret_len < 32 || secret_len > SECRET_MAX) {
		log_error("replication: %s: 32 to 4096 bytes expected",
		    cfg->repl_secret_file);
		secmem_free(secret);
		secret = NULL;
		return -1;
	}
	return 0;
}

static void
sha_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[32];

	(void)gnutls_hash_fast(GNUTLS_DIG_SHA256, p != NULL ? p : "", n, d);
	hex_encode(d, sizeof(d), out);
}

/* The signature of a request into sig (65 bytes): 0 or -1. */
static int
sign(const struct http_req *req, const char *ts, const char *client,
    const char *site, char sig[65])
{
	struct buf	 b;
	char		 hb[65], ha[65], hc[65];
	unsigned char	 mac[32];
	int		 rc;

	sha_hex(req->body.data, req->body.len, hb);
	sha_hex(req->authorization, req->authorization != NULL ?
	    strlen(req->authorization) : 0, ha);
	sha_hex(req->cookie, req->cookie != NULL ? strlen(req->cookie) : 0, hc);
	buf_init(&b, 16384, 0);
	rc = buf_printf(&b, "credstore-forward-v1\n%s\n%s%s%s\n%s\n%s\n%s\n%s\n%s\n%s",
	    req->method_name, req->path, req->query != NULL ? "?" : "",
	    req->query != NULL ? req->query : "", hb, ts, ha, hc, client, site);
	if (rc == 0)
		rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret,
	    secret_len, b.data, b.len, mac);
	buf_reset(&b);
	if (rc != 0)
		return -1;
	hex_encode(mac, sizeof(mac), sig);
	return 0;
}

int
replfwd_sign(const struct config *cfg, const struct http_req *req,
    const char *ts, const char *client, const char *site, char sig[65])
{
	if (load_secret(cfg) == -1)
		return -1;
	return sign(req, ts, client, site, sig);
}

int
replfwd_is_forwarded(const struct http_req *req)
{
	return http_param(req, "HTTP_X_CREDSTORE_FORWARDED") != NULL;
}

int
replfwd_verify(const struct config *cfg, struct http_req *req)
{
	const char	*site, *ts, *client, *sig;
	char		 want[65];
	long		 t;
	time_t		 now = time(NULL);

	site = http_param(req, "HTTP_X_CREDSTORE_FORWARDED");
	ts = http_param(req, "HTTP_X_CREDSTORE_FORWARD_TIME");
	client = http_param(req, "HTTP_X_CREDSTORE_FORWARD_CLIENT");
	sig = http_param(req, "HTTP_X_CREDSTORE_FORWARD_SIG");
	if (cfg->repl_self == NULL || site == NULL || ts == NULL ||
	    client == NULL || sig == NULL || strlen(sig) != 64 ||
	    parse_long(ts, 0, 0x7fffffffL, &t) == -1 || load_secret(cfg) == -1)
		return -1;
	if (t < (long)now - WINDOW_S || t > (long)now + WINDOW_S) {
		log_warn("replication: a forwarded request from %.64s is %ld s "
		    "off this clock", site, (long)now - t);
		return -1;
	}
	if (sign(req, ts, client, site, want) == -1 ||
	    !ct_equal(want, sig, 64)) {
		log_warn("replication: a forwarded request from %.64s has a bad "
		    "signature", site);
		return -1;
	}
	req->remote_addr = client;	/* the audit names the caller */
	return 0;
}

struct sink {
	struct buf	 body;
	struct buf	 hdrs;	/* relayed "Name: value\r\n" lines */
	char		 ctype[128];
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *k = arg;

	return buf_add(&k->body, p, sz * n) == -1 ? 0 : sz * n;
}

/* The answer's headers that http_send does not write itself. */
static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	static const char *const skip[] = {
		"http/", "content-length:", "cache-control:", "date:",
		"server:", "connection:", "transfer-encoding:", "request-id:",
		"x-content-type-options:", "keep-alive:", "status:",
	};
	struct sink	*k = arg;
	size_t		 len = sz * n, i, e = len;

	while (e > 0 && (p[e - 1] == '\r' || p[e - 1] == '\n'))
		e--;
	if (e == 0 || memchr(p, '\r', e) != NULL || memchr(p, '\n', e) != NULL)
		return len;
	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (e >= strlen(skip[i]) &&
		    strncasecmp(p, skip[i], strlen(skip[i])) == 0)
			return len;
	if (e > 13 && strncasecmp(p, "content-type:", 13) == 0) {
		for (i = 13; i < e && p[i] == ' '; i++)
			;
		snprintf(k->ctype, sizeof(k->ctype), "%.*s", (int)(e - i),
		    p + i);
		return len;
	}
	if (buf_add(&k->hdrs, p, e) == -1 || buf_adds(&k->hdrs, "\r\n") == -1)
		return 0;
	return len;
}

static struct curl_slist *
fwd_headers(const struct curlapi *cu, const struct http_req *req,
    const char *ts, const char *sig)
{
	struct curl_slist	*h = NULL;
	struct buf		 b;
	const char		*v;

	buf_init(&b, 16384, 1);
#define ADD(fmt, val) do {						\
	buf_reset(&b);							\
	buf_init(&b, 16384, 1);						\
	if (buf_printf(&b, fmt, val) == 0)				\
		h = cu->slist_append(h, b.data);			\
} while (0)
	ADD("X-Credstore-Forwarded: %s", repl_self());
	ADD("X-Credstore-Forward-Time: %s", ts);
	ADD("X-Credstore-Forward-Client: %s",
	    req->remote_addr != NULL ? req->remote_addr : "-");
	ADD("X-Credstore-Forward-Sig: %s", sig);
	ADD("Request-Id: %s", req->request_id);
	if (req->authorization != NULL)
		ADD("Authorization: %s", req->authorization);
	if (req->cookie != NULL)
		ADD("Cookie: %s", req->cookie);
	ADD("Content-Type: %s", req->content_type != NULL ?
	    req->content_type : "");
	if (req->idem_key != NULL)
		ADD("Idempotency-Key: %s", req->idem_key);
	if (req->accept != NULL)
		ADD("Accept: %s", req->accept);
	if (req->origin != NULL)
		ADD("Origin: %s", req->origin);
	if (req->referer != NULL)
		ADD("Referer: %s", req->referer);
	if (req->host != NULL)
		ADD("Host: %s", req->host);
	if ((v = http_param(req, "HTTP_IF_MATCH")) != NULL)
		ADD("If-Match: %s", v);
	ADD("%s", "Expect:");
#undef ADD
	buf_reset(&b);
	return h;
}

static void
unavailable(struct http_req *req, const char *why)
{
	http_fail(req, AE_UNAVAILABLE, why, RETRY_HDR);
}

/* Sends req to url; the master's answer, or 503. */
static void
send_on(const struct config *cfg, struct http_req *req, const char *url)
{
	const struct curlapi	*cu;
	struct curl_slist	*hdrs;
	struct sink		 k;
	struct buf		 u;
	const char		*why;
	char			 ts[24], sig[65];
	CURL			*curl;
	CURLcode		 cc;
	long			 status = 0;

	if ((cu = curlapi_get(&why)) == NULL ||
	    (curl = cu->easy_init()) == NULL) {
		unavailable(req, "The master cannot be reached");
		return;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (sign(req, ts, req->remote_addr != NULL ? req->remote_addr : "-",
	    repl_self(), sig) == -1) {
		cu->easy_cleanup(curl);
		unavailable(req, NULL);
		return;
	}
	memset(&k, 0, sizeof(k));
	buf_init(&k.body, RESP_MAX, 1);
	buf_init(&k.hdrs, HDRS_MAX, 0);
	buf_init(&u, 8192, 0);
	(void)buf_printf(&u, "%s%s%s%s", url, req->path,
	    req->query != NULL ? "?" : "", req->query != NULL ? req->query : "");
	hdrs = fwd_headers(cu, req, ts, sig);
	cu->easy_setopt(curl, CURLOPT_URL, u.data);
	cu->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method_name);
	cu->easy_setopt(curl, CURLOPT_POSTFIELDS, req->body.data != NULL ?
	    req->body.data : "");
	cu->easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)req->body.len);
	cu->easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	cu->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(curl, CURLOPT_TIMEOUT_MS, cfg->probe_timeout_ms +
	    cfg->repl_ack_timeout_ms + 5000L);
	cu->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	cu->easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(curl, CURLOPT_PROXY, "");
	cu->easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(curl, CURLOPT_WRITEDATA, &k);
	cu->easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	cu->easy_setopt(curl, CURLOPT_HEADERDATA, &k);
	cc = cu->easy_perform(curl);
	if (cc == CURLE_OK)
		cu->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	cu->easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	cu->easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	cu->easy_cleanup(curl);
	cu->slist_free_all(hdrs);
	if (cc != CURLE_OK || status < 100 || status > 599) {
		log_warn("replication: forwarding to %s: %s", url,
		    cc != CURLE_OK ? cu->easy_strerror(cc) : "bad status");
		unavailable(req, "The master cannot be reached");
	} else
		http_send(req, (int)status, k.ctype[0] != '\0' ? k.ctype :
		    "application/octet-stream", k.hdrs.data, k.body.data,
		    k.body.len);
	buf_reset(&u);
	buf_reset(&k.body);
	buf_reset(&k.hdrs);
}

int
replfwd_route(struct app *a, struct http_req *req)
{
	struct repl_status	 s;
	char			 url[1024];
	enum http_body_rc	 brc;

	if (!repl_enabled())
		return 0;
	/* SPEC 11: every request is 503 while repl-serve is not running */
	if (!repl_serving(a->cfg.data_dir)) {
		unavailable(req, "The replication process is not running");
		return 1;
	}
	if (req->method == HM_GET || req->method == HM_HEAD ||
	    req->method == HM_OPTIONS)
		return 0;
	if (replfwd_is_forwarded(req)) {
		/* the signature covers the body: read it (once, http.c) */
		(void)http_read_body(req, (size_t)a->cfg.max_body_bytes);
		if (replfwd_verify(&a->cfg, req) == -1) {
			http_fail(req, AE_FORBIDDEN, "Bad forwarded request",
			    NULL);
			return 1;
		}
		if (store_repl_status(a->st, &s) != STORE_OK ||
		    s.role != REPL_ROLE_MASTER) {
			unavailable(req, "This site is no longer the master");
			return 1;
		}
		return 0;
	}
	if (store_repl_status(a->st, &s) != STORE_OK) {
		unavailable(req, NULL);
		return 1;
	}
	if (s.role == REPL_ROLE_MASTER)
		return 0;
	if (s.master[0] == '\0' || store_repl_forward_url(a->st, s.master, url,
	    sizeof(url)) != STORE_OK) {
		unavailable(req, "No master is known; try again shortly");
		return 1;
	}
	if (load_secret(&a->cfg) == -1) {
		unavailable(req, NULL);
		return 1;
	}
	brc = http_read_body(req, (size_t)a->cfg.max_body_bytes);
	if (brc == HTTP_BODY_TOO_LARGE) {
		http_fail(req, AE_TOO_LARGE, NULL, NULL);
		return 1;
	}
	if (brc != HTTP_BODY_OK) {
		http_fail(req, AE_VALIDATION, "The body could not be read", NULL);
		return 1;
	}
	send_on(&a->cfg, req, url);
	return 1;
}
