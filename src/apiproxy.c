/*
 * apiproxy: the handler of {GET,HEAD,POST,PUT,PATCH,DELETE}
 * /v1/integrations/{provider}/proxy/{path} (SPEC section 10).  Its gates,
 * in order: a bearer token (no cookie, no form token), the proxy role,
 * the provider and its proxy block, the path rules and the allow list,
 * the query, the credential (Credential-Id or the connection; a rejected
 * one is 409), the body's size.  Then the call (proxy.h), one answer,
 * one log line, and lastUsedAt after the answer is on its way.
 */
#include "cs_build.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiproxy.h"
#include "catalog.h"
#include "credsvc.h"
#include "gate.h"
#include "log.h"
#include "proxy.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#define USED_EVERY	60	/* lastUsedAt moves at most once a minute */
#define FWD_MAX		(4 + 32)
#define EXTRA_MAX	(PROXY_HEADERS_MAX + 256)

/*
 * The client's {path}: the raw rest of the request path below the route
 * (still percent-encoded), as the router matched it.  The one place that
 * says where it comes from.
 */
static const char *
proxy_raw_path(const struct ctx *c)
{
	return c->rm.rest;
}

/* A 400 with one detail; -1. */
static int
reject(struct ctx *c, enum apierr_code code, const char *msg,
    const char *field, enum input_reason why)
{
	struct apierr e;

	apierr_init(&e, code, msg);
	apierr_add(&e, field, NULL, why);
	gate_reply_error(c, &e, NULL);
	return -1;
}

/* A bearer token with the proxy role; -1 after the answer. */
static int
proxy_auth(struct ctx *c)
{
	const char *h = c->req->authorization;

	if (h == NULL || *h == '\0') {
		/* no cookie, no form token: only the header */
		gate_reply_fail(c, AE_UNAUTHORIZED,
		    "The proxy takes a bearer token in the Authorization header",
		    "WWW-Authenticate: Bearer realm=\"credstore\"\r\n");
		return -1;
	}
	if (gate_authenticate(c, NULL) == -1)
		return -1;
	if (!c->id.is_proxy) {
		gate_reply_fail(c, AE_FORBIDDEN, "The proxy role is required",
		    NULL);
		return -1;
	}
	return 0;
}

/* The path rules, the allow list and the query; -1 after the answer. */
static int
proxy_target(struct ctx *c, const struct cat_proxy *px, const char *rest)
{
	char	*full;
	size_t	 n = strlen(rest);
	int	 ok;

	if (proxy_path_ok(rest, n) == -1)
		return reject(c, AE_VALIDATION, "This path cannot be proxied",
		    "path", IR_BAD_PATH);
	if ((full = malloc(n + 2)) == NULL) {
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		return -1;
	}
	full[0] = '/';
	memcpy(full + 1, rest, n + 1);
	ok = catalog_proxy_allows(px, catalog_method_bit(c->req->method_name),
	    full, n + 1);
	free(full);
	if (!ok)
		return reject(c, AE_FORBIDDEN,
		    "The catalog does not allow this method on this path",
		    "path", IR_PATH_NOT_ALLOWED);
	if (proxy_query_ok(c->req->query) == -1)
		return reject(c, AE_VALIDATION, "The query cannot be proxied",
		    "query", c->req->query != NULL && strlen(c->req->query) >
		    PROXY_QUERY_MAX ? IR_TOO_LONG : IR_INVALID_CHARACTERS);
	return 0;
}

/*
 * The credential: the one Credential-Id names, else the connection's.
 * STORE_OK fills *r; -1 after the answer.
 */
static int
proxy_credential(struct ctx *c, const struct cat_provider *p,
    struct cred_rec *r)
{
	const char	*id = http_param(c->req, "HTTP_CREDENTIAL_ID");
	struct conn_rec	 cr;
	enum store_rc	 rc;

	if (id != NULL) {
		if (validate_scalar(VK_CREDENTIAL_ID, id, strlen(id)) != NULL) {
			gate_reply_fail(c, AE_NOT_FOUND, "Unknown credential",
			    NULL);
			return -1;
		}
	} else {
		rc = store_conn_get(c->app->st, c->id.tenant, p->id, &cr);
		if (gate_store_failed(c, rc, "The provider is not connected"))
			return -1;
		id = cr.cred_id;
	}
	rc = store_cred_get(c->app->st, c->id.tenant, p->id, id, r);
	if (gate_store_failed(c, rc, "Unknown credential"))
		return -1;
	if (strcmp(r->status, "rejected") == 0) {
		char idh[80];

		snprintf(idh, sizeof(idh), "Credential-Id: %s\r\n", r->id);
		cred_rec_free(r);
		gate_reply_fail(c, AE_CRED_STATUS_REJECTED, NULL, idh);
		return -1;
	}
	return 0;
}

/* "If-None-Match" -> "HTTP_IF_NONE_MATCH" (Content-Type is CONTENT_TYPE). */
static void
cgi_name(const char *h, char *out, size_t n)
{
	size_t i, o = 0;

	if (strcasecmp(h, "content-type") == 0) {
		snprintf(out, n, "CONTENT_TYPE");
		return;
	}
	o = (size_t)snprintf(out, n, "HTTP_");
	for (i = 0; h[i] != '\0' && o + 1 < n; i++)
		out[o++] = h[i] == '-' ? '_' : (char)toupper((unsigned char)h[i]);
	out[o] = '\0';
}

/* The client's headers that are forwarded, into h[FWD_MAX]. */
static size_t
forwarded(struct ctx *c, const struct cat_proxy *px, struct proxy_hdr *h)
{
	static const char *const base[] = {
		"Accept", "Content-Type", "If-None-Match", "If-Modified-Since",
	};
	char		 env[96];
	const char	*name, *v;
	size_t		 i, n = 0;

	for (i = 0; i < 4 + px->nfwd && n < FWD_MAX; i++) {
		name = i < 4 ? base[i] : px->fwd[i - 4];
		cgi_name(name, env, sizeof(env));
		if ((v = http_param(c->req, env)) == NULL || *v == '\0' ||
		    !is_printable_ascii(v, strlen(v)) || strlen(v) > 4096)
			continue;
		h[n].name = name;
		h[n++].value = v;
	}
	return n;
}

/* The request body, when there is one; -1 after the answer. */
static int
proxy_body(struct ctx *c, struct proxy_req *rq)
{
	enum http_body_rc rc;

	if ((c->req->method == HM_GET || c->req->method == HM_HEAD) &&
	    c->req->content_length <= 0)
		return 0;
	if (c->req->method != HM_POST && c->req->method != HM_PUT &&
	    c->req->method != HM_PATCH && c->req->content_length < 0)
		return 0;	/* a DELETE without a body */
	rc = http_read_body(c->req, (size_t)c->app->cfg.proxy_max_body_bytes);
	if (rc == HTTP_BODY_TOO_LARGE) {
		gate_reply_fail(c, AE_TOO_LARGE, NULL, NULL);
		return -1;
	}
	if (rc != HTTP_BODY_OK)
		return reject(c, AE_VALIDATION, "The body could not be read",
		    "body", IR_INCOMPLETE);
	rq->body = c->req->body.data != NULL ? c->req->body.data : "";
	rq->bodylen = c->req->body.len;
	return 0;
}

/* The provider's answer, or the failure's. */
static void
answer(struct ctx *c, enum proxy_rc rc, struct proxy_answer *a,
    const char *cred_id)
{
	struct buf	 extra;
	char		 idh[80];

	snprintf(idh, sizeof(idh), "Credential-Id: %s\r\n", cred_id);
	switch (rc) {
	case PROXY_OK:
		if (a->status < 100 || a->status > 599)
			break;
		buf_init(&extra, EXTRA_MAX, 1);
		if (buf_adds(&extra, idh) == -1 ||
		    buf_add(&extra, a->headers.data, a->headers.len) == -1) {
			buf_reset(&extra);
			break;
		}
		http_send(c->req, (int)a->status, a->ctype, extra.data,
		    a->body.len > 0 ? a->body.data : NULL, a->body.len);
		buf_reset(&extra);
		return;
	case PROXY_TIMEOUT:
		gate_reply_fail(c, AE_UPSTREAM_TIMEOUT, NULL, idh);
		return;
	case PROXY_TOO_LARGE:
		gate_reply_fail(c, AE_UPSTREAM_TOO_LARGE, NULL, idh);
		return;
	case PROXY_BAD_CREDENTIAL:
	case PROXY_INTERNAL:
		gate_reply_fail(c, AE_INTERNAL, NULL, idh);
		return;
	case PROXY_UNREACHABLE:
	default:
		break;
	}
	gate_reply_fail(c, AE_UPSTREAM_UNREACHABLE, NULL, idh);
}

/* The call with the credential r of provider p, answered and logged. */
static void
proxy_run(struct ctx *c, const struct cat_provider *p, struct cred_rec *r,
    const char *rest)
{
	struct proxy_hdr	 hdrs[FWD_MAX];
	struct proxy_req	 rq;
	struct proxy_opts	 o;
	struct proxy_answer	 a;
	struct credset		 cs;
	enum proxy_rc		 rc;
	uint64_t		 t0 = now_ms();
	time_t			 now;

	memset(&rq, 0, sizeof(rq));
	credset_init(&cs);
	proxy_answer_init(&a);
	if (proxy_body(c, &rq) == -1)
		goto out;
	if (credsvc_open(c->app->kr, c->app->cfg.keyring, r, &cs) == -1) {
		log_error("crypto: credential %s does not decrypt (key %s)",
		    r->id, r->sealed.key_id);
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		goto out;
	}
	rq.method = c->req->method_name;
	rq.rest = rest;
	rq.restlen = strlen(rest);
	rq.query = c->req->query;
	rq.hdrs = hdrs;
	rq.nhdrs = forwarded(c, p->proxy, hdrs);
	o.timeout_ms = c->app->cfg.proxy_timeout_ms;
	o.origin_override = c->app->cfg.probe_origin_override;
	o.max_response = (size_t)c->app->cfg.proxy_max_response_bytes;
	rc = proxy_call(p->proxy, &cs, &rq, &o, &a);
	credset_free(&cs);
	answer(c, rc, &a, r->id);
	/* never a value, never the query */
	log_info("proxy: tenant=%s subject=%s provider=%s credentialId=%s "
	    "method=%s path=/%.512s status=%d in=%zu out=%zu ms=%llu (%s)",
	    c->id.tenant, c->id.sub ? c->id.sub : "-", p->id, r->id,
	    c->req->method_name, rest, c->req->status, rq.bodylen,
	    rc == PROXY_OK ? a.body.len : 0,
	    (unsigned long long)(now_ms() - t0), a.why);
	http_flush(c->req);
	now = time(NULL);
	if ((r->used == 0 || r->used > now || now - r->used >= USED_EVERY) &&
	    store_cred_touch(c->app->st, c->id.tenant, p->id, r->id, now,
	    USED_EVERY) != STORE_OK)
		log_warn("proxy: lastUsedAt of %s not recorded", r->id);
out:
	credset_free(&cs);
	proxy_answer_free(&a);
}

void
apiproxy_handle(struct ctx *c)
{
	const struct cat_provider	*p;
	struct cred_rec			 r;
	const char			*rest = proxy_raw_path(c);

	if (proxy_auth(c) == -1 || (p = gate_provider(c)) == NULL)
		return;
	if (p->proxy == NULL) {
		(void)reject(c, AE_VALIDATION, "This provider has no proxy",
		    "provider", IR_PROXY_NOT_SUPPORTED);
		return;
	}
	if (rest == NULL || proxy_target(c, p->proxy, rest) == -1 ||
	    proxy_credential(c, p, &r) == -1)
		return;
	proxy_run(c, p, &r, rest);
	cred_rec_free(&r);
}
