#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "catalog.h"
#include "crypto.h"
#include "handlers.h"
#include "jsonx.h"
#include "log.h"
#include "probe.h"
#include "router.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#define WWW_AUTH_NONE \
	"WWW-Authenticate: Bearer realm=\"credstore\"\r\n"
#define WWW_AUTH_INVALID \
	"WWW-Authenticate: Bearer realm=\"credstore\", error=\"invalid_token\"\r\n"
#define RETRY_AFTER	"Retry-After: 5\r\n"

#define LIST_DEFAULT	50
#define LIST_MAX	100

/* Per-request context shared by the gates. */
struct ctx {
	struct app		*app;
	struct http_req		*req;
	struct route_match	 rm;
	struct jwt_identity	 id;
	int			 authed;
};

static void
unavailable(struct ctx *c)
{
	http_fail(c->req, AE_UNAVAILABLE, NULL, RETRY_AFTER);
}

/*
 * Authenticates the request: the bearer token from the Authorization
 * header, or (form posts only) the access_token field.  Both at once is a
 * 400 (RFC 6750 section 2).  On failure the response is sent and -1
 * returned.
 */
static int
authenticate(struct ctx *c, const char *form_token)
{
	const char	*h = c->req->authorization, *tok = NULL;
	enum jwt_err	 je;
	size_t		 len;

	if (h != NULL && *h != '\0') {
		if (strncasecmp(h, "Bearer ", 7) != 0) {
			http_fail(c->req, AE_UNAUTHORIZED,
			    "Use the Bearer authentication scheme",
			    WWW_AUTH_INVALID);
			return -1;
		}
		tok = h + 7;
		while (*tok == ' ')
			tok++;
		if (form_token != NULL) {
			struct apierr e;

			apierr_init(&e, AE_VALIDATION,
			    "Send the token in one way only");
			apierr_add(&e, "access_token", NULL, "duplicate_token");
			http_send_error(c->req, &e, NULL);
			return -1;
		}
	} else
		tok = form_token;
	if (tok == NULL || *tok == '\0') {
		http_fail(c->req, AE_UNAUTHORIZED, NULL, WWW_AUTH_NONE);
		return -1;
	}
	len = strlen(tok);
	if (validate_scalar(VK_TOKEN, tok, len) != NULL) {
		log_info("auth: malformed or oversized token (%zu bytes)", len);
		http_fail(c->req, AE_UNAUTHORIZED, "The token is not valid",
		    WWW_AUTH_INVALID);
		return -1;
	}
	{
		struct jwt_policy pol = {
			.issuer = c->app->cfg.jwt_issuer,
			.audience = c->app->cfg.jwt_audience,
			.leeway = c->app->cfg.jwt_leeway,
			.role_claim = c->app->cfg.jwt_role_claim,
			.admin_role = c->app->cfg.admin_role,
			.tenant_claim = c->app->cfg.tenant_claim,
		};

		je = jwt_verify(tok, len, &c->app->jk, &pol, time(NULL), &c->id);
	}
	if (je != JWT_OK) {
		log_info("auth: token rejected: %s", jwt_strerror(je));
		http_fail(c->req, AE_UNAUTHORIZED, "The token is not valid",
		    WWW_AUTH_INVALID);
		return -1;
	}
	c->authed = 1;
	return 0;
}

static int
require_admin(struct ctx *c)
{
	if (c->id.is_admin)
		return 0;
	http_fail(c->req, AE_FORBIDDEN, "The admin role is required", NULL);
	return -1;
}

/* The provider of the path, or NULL after a 404. */
static const struct cat_provider *
resolve_provider(struct ctx *c)
{
	const struct cat_provider *p = NULL;

	if (validate_scalar(VK_PROVIDER, c->rm.provider,
	    strlen(c->rm.provider)) == NULL)
		p = catalog_find(c->app->cat, c->rm.provider);
	if (p == NULL)
		http_fail(c->req, AE_NOT_FOUND, "Unknown provider", NULL);
	return p;
}

static void
add_time(struct json_object *o, const char *k, time_t t)
{
	char ts[21];

	if (t == 0) {
		json_object_object_add(o, k, NULL);
		return;
	}
	fmt_time(t, ts);
	json_object_object_add(o, k, json_object_new_string(ts));
}

/* Public metadata of a credential: never a value, never a hint of one. */
static struct json_object *
cred_meta_json(const struct cred_rec *r)
{
	struct json_object	*o, *f;
	size_t			 i;

	o = json_object_new_object();
	json_object_object_add(o, "credentialId", json_object_new_string(r->id));
	json_object_object_add(o, "provider",
	    json_object_new_string(r->provider));
	json_object_object_add(o, "label",
	    r->label ? json_object_new_string(r->label) : NULL);
	json_object_object_add(o, "status", json_object_new_string(r->status));
	f = json_object_new_array();
	for (i = 0; i < r->nfields; i++)
		json_object_array_add(f, json_object_new_string(r->fields[i]));
	json_object_object_add(o, "fields", f);
	add_time(o, "createdAt", r->created);
	add_time(o, "updatedAt", r->updated);
	add_time(o, "lastValidatedAt", r->validated);
	return o;
}

static void
handle_healthz(struct ctx *c)
{
	struct json_object *o;

	if (!c->app->ready || store_ping(c->app->st) != STORE_OK) {
		o = json_object_new_object();
		json_object_object_add(o, "status",
		    json_object_new_string("unavailable"));
		http_send_json(c->req, 503, o, RETRY_AFTER);
		json_object_put(o);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
}

static void
handle_catalog(struct ctx *c)
{
	struct json_object	*o, *arr;
	size_t			 i;

	if (authenticate(c, NULL) == -1)
		return;
	arr = json_object_new_array();
	for (i = 0; i < c->app->cat->nproviders; i++)
		json_object_array_add(arr,
		    catalog_provider_json(&c->app->cat->providers[i]));
	o = json_object_new_object();
	json_object_object_add(o, "data", arr);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
}

static void
handle_catalog_one(struct ctx *c)
{
	const struct cat_provider	*p;
	struct json_object		*o;

	if (authenticate(c, NULL) == -1 || (p = resolve_provider(c)) == NULL)
		return;
	o = catalog_provider_json(p);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
}

/* Parses ?limit=&cursor= ; -1 after a 400. */
static int
list_params(struct ctx *c, long *limit, char *after, size_t afterlen)
{
	const char	*q = c->req->query, *p, *amp;
	char		 val[128];
	size_t		 klen, vlen;
	struct apierr	 e;
	unsigned char	*dec;
	size_t		 dlen;

	*limit = LIST_DEFAULT;
	after[0] = '\0';
	apierr_init(&e, AE_VALIDATION, "Invalid query parameters");
	for (p = q; p != NULL && *p != '\0'; p = amp ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		klen = strcspn(p, "=&");
		vlen = 0;
		if (p[klen] == '=')
			vlen = (amp ? (size_t)(amp - p) : strlen(p)) - klen - 1;
		if (vlen >= sizeof(val)) {
			apierr_add(&e, "query", NULL, "too_long");
			continue;
		}
		memcpy(val, p + klen + 1, vlen);
		val[vlen] = '\0';
		if (klen == 5 && strncmp(p, "limit", 5) == 0) {
			if (parse_long(val, 1, LIST_MAX, limit) == -1)
				apierr_add(&e, "limit", NULL, "out_of_range");
		} else if (klen == 6 && strncmp(p, "cursor", 6) == 0) {
			dec = b64url_decode(val, vlen, &dlen);
			if (dec == NULL || dlen >= afterlen ||
			    validate_scalar(VK_CREDENTIAL_ID, (char *)dec, dlen)) {
				apierr_add(&e, "cursor", NULL, "invalid");
			} else
				memcpy(after, dec, dlen + 1);
			free(dec);
		} else if (klen > 0)
			apierr_add(&e, "query", NULL, "unknown_parameter");
	}
	if (e.nd > 0) {
		http_send_error(c->req, &e, NULL);
		return -1;
	}
	return 0;
}

struct list_acc {
	struct json_object	*arr;
	char			 last[CREDENTIAL_ID_LEN + 1];
	long			 n;
};

static int
list_cb(const struct cred_rec *r, void *arg)
{
	struct list_acc *acc = arg;

	json_object_array_add(acc->arr, cred_meta_json(r));
	snprintf(acc->last, sizeof(acc->last), "%s", r->id);
	acc->n++;
	return 0;
}

static void
handle_cred_list(struct ctx *c, const struct cat_provider *p)
{
	struct list_acc		 acc;
	struct json_object	*o;
	long			 limit;
	char			 after[CREDENTIAL_ID_LEN + 1], *cur;
	enum store_rc		 rc;

	if (list_params(c, &limit, after, sizeof(after)) == -1)
		return;
	memset(&acc, 0, sizeof(acc));
	acc.arr = json_object_new_array();
	/* one extra to learn whether a next page exists */
	rc = store_cred_list(c->app->st, c->id.tenant, p->id,
	    after[0] ? after : NULL, (size_t)limit + 1, list_cb, &acc);
	if (rc != STORE_OK && rc != STORE_CORRUPT) {
		json_object_put(acc.arr);
		unavailable(c);
		return;
	}
	o = json_object_new_object();
	if (acc.n > limit) {
		struct json_object *lastv;

		json_object_array_del_idx(acc.arr, (size_t)limit, 1);
		lastv = json_object_array_get_idx(acc.arr, (size_t)limit - 1);
		cur = b64url_encode(jsonx_get_str(lastv, "credentialId"),
		    CREDENTIAL_ID_LEN);
		json_object_object_add(o, "data", acc.arr);
		json_object_object_add(o, "nextCursor",
		    cur ? json_object_new_string(cur) : NULL);
		free(cur);
	} else {
		json_object_object_add(o, "data", acc.arr);
		json_object_object_add(o, "nextCursor", NULL);
	}
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
}

static void
handle_cred_get(struct ctx *c, const struct cat_provider *p)
{
	struct cred_rec		 r;
	struct json_object	*o;
	enum store_rc		 rc;

	if (validate_scalar(VK_CREDENTIAL_ID, c->rm.cred_id,
	    strlen(c->rm.cred_id)) != NULL) {
		http_fail(c->req, AE_NOT_FOUND, "Unknown credential", NULL);
		return;
	}
	rc = store_cred_get(c->app->st, c->id.tenant, p->id, c->rm.cred_id, &r);
	if (rc == STORE_NOTFOUND) {
		http_fail(c->req, AE_NOT_FOUND, "Unknown credential", NULL);
		return;
	}
	if (rc != STORE_OK) {
		if (rc == STORE_CORRUPT)
			http_fail(c->req, AE_INTERNAL, NULL, NULL);
		else
			unavailable(c);
		return;
	}
	o = cred_meta_json(&r);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
	cred_rec_free(&r);
}

/* Reads the body after the media type was accepted; -1 after a reply. */
static int
read_body(struct ctx *c)
{
	switch (http_read_body(c->req, (size_t)c->app->cfg.max_body_bytes)) {
	case HTTP_BODY_OK:
		return 0;
	case HTTP_BODY_TOO_LARGE:
		http_fail(c->req, AE_TOO_LARGE, NULL, NULL);
		return -1;
	case HTTP_BODY_SHORT:
	case HTTP_BODY_ERROR:
	default:
		{
			struct apierr e;

			apierr_init(&e, AE_VALIDATION,
			    "The body could not be read");
			apierr_add(&e, "body", NULL, "incomplete");
			http_send_error(c->req, &e, NULL);
		}
		return -1;
	}
}

enum media {
	MEDIA_JSON,
	MEDIA_FORM,
	MEDIA_OTHER
};

static enum media
media_of(struct http_req *r)
{
	char mt[64];

	http_media_type(r, mt, sizeof(mt));
	if (strcmp(mt, "application/json") == 0)
		return MEDIA_JSON;
	if (strcmp(mt, "application/x-www-form-urlencoded") == 0)
		return MEDIA_FORM;
	return MEDIA_OTHER;
}

/* Keyed hash of what makes two store requests "the same". */
static int
request_hash(struct ctx *c, const char *provider, enum media m,
    unsigned char out[CRYPTO_MAC_LEN])
{
	struct buf	b;
	int		rc;

	buf_init(&b, c->req->body.len + 256, 1);
	if (buf_adds(&b, provider) == -1 || buf_addc(&b, '\0') == -1 ||
	    buf_addc(&b, (char)('0' + m)) == -1 || buf_addc(&b, '\0') == -1 ||
	    buf_add(&b, c->req->body.data, c->req->body.len) == -1) {
		buf_reset(&b);
		return -1;
	}
	rc = crypto_mac(c->app->kr, "idempotency-v1", b.data, b.len, out);
	buf_reset(&b);
	return rc;
}

static void
replay(struct ctx *c, const struct idem_rec *ir)
{
	char extra[512];

	if (ir->location != NULL)
		snprintf(extra, sizeof(extra),
		    "Location: %s\r\nIdempotent-Replayed: true\r\n", ir->location);
	else
		snprintf(extra, sizeof(extra), "Idempotent-Replayed: true\r\n");
	http_send(c->req, ir->status, "application/json", extra,
	    ir->body ? ir->body : "", ir->body ? strlen(ir->body) : 0);
}

/*
 * POST /v1/integrations/{provider}/credentials: the reason credstore
 * exists.  Gates in the order of SPEC section 1.
 */
static void
handle_cred_create(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct credset			 cs;
	struct apierr			 e;
	struct probe_result		 pr;
	struct probe_opts		 po;
	struct cred_rec			 rec;
	struct idem_rec			 idem, prior;
	struct audit_ev			 ev;
	struct json_object		*o = NULL;
	enum media			 m;
	enum store_rc			 src;
	unsigned char			*pt = NULL;
	size_t				 ptlen = 0, adlen, i;
	char				*ad = NULL, location[256], extra[320];
	const char			*idk = c->req->idem_key, *s;
	unsigned char			 hash[CRYPTO_MAC_LEN];
	int				 have_body = 0;

	input_init(&in);
	credset_init(&cs);
	memset(&rec, 0, sizeof(rec));
	memset(&idem, 0, sizeof(idem));
	memset(&prior, 0, sizeof(prior));
	m = media_of(c->req);

	/*
	 * A form post may carry its token in the body (RFC 6750 2.2), so
	 * such a body is read and parsed before authentication.
	 */
	if (m == MEDIA_FORM && (c->req->authorization == NULL ||
	    *c->req->authorization == '\0')) {
		if (read_body(c) == -1)
			goto out;
		have_body = 1;
		apierr_init(&e, AE_VALIDATION, NULL);
		/* problems found here are reported after authentication */
		(void)input_parse_form(c->req->body.data, c->req->body.len,
		    &in, &e);
		if (authenticate(c, in.access_token) == -1)
			goto out;
	} else if (authenticate(c, NULL) == -1)
		goto out;
	if (require_admin(c) == -1 || (p = resolve_provider(c)) == NULL)
		goto out;
	if (p->auth != AUTH_API_KEY) {
		apierr_init(&e, AE_VALIDATION,
		    "This provider does not use API-key credentials");
		apierr_add(&e, "provider", NULL, "unsupported_auth_type");
		http_send_error(c->req, &e, NULL);
		goto out;
	}
	if (m == MEDIA_OTHER) {
		http_fail(c->req, AE_MEDIA_TYPE, NULL, NULL);
		goto out;
	}
	if (idk != NULL && (s = validate_scalar(VK_IDEMPOTENCY_KEY, idk,
	    strlen(idk))) != NULL) {
		apierr_init(&e, AE_VALIDATION, "Invalid Idempotency-Key header");
		apierr_add(&e, "Idempotency-Key", NULL, s);
		http_send_error(c->req, &e, NULL);
		goto out;
	}
	if (!have_body) {
		if (read_body(c) == -1)
			goto out;
		apierr_init(&e, AE_VALIDATION, NULL);
		if ((m == MEDIA_JSON ? input_parse_json : input_parse_form)(
		    c->req->body.data, c->req->body.len, &in, &e) == -1) {
			if (e.nd == 0)
				apierr_add(&e, "body", NULL, "malformed");
			http_send_error(c->req, &e, NULL);
			goto out;
		}
	}
	if (in.access_token != NULL && !have_body) {
		/* a header token and a form token: never two methods */
		apierr_init(&e, AE_VALIDATION, "Send the token in one way only");
		apierr_add(&e, "access_token", NULL, "duplicate_token");
		http_send_error(c->req, &e, NULL);
		goto out;
	}
	if (input_validate(p, &in, &cs, &e) == -1 || e.nd > 0) {
		if (e.message == NULL)
			e.message = "Invalid request body";
		http_send_error(c->req, &e, NULL);
		goto out;
	}

	if (idk != NULL) {
		if (request_hash(c, p->id, m, hash) == -1) {
			http_fail(c->req, AE_INTERNAL, NULL, NULL);
			goto out;
		}
		src = store_idem_get(c->app->st, c->id.tenant, idk, &prior);
		if (src == STORE_OK) {
			if (ct_equal(prior.hash, hash, sizeof(hash)))
				replay(c, &prior);
			else
				http_fail(c->req, AE_IDEMPOTENCY_CONFLICT, NULL,
				    NULL);
			goto out;
		}
		if (src != STORE_NOTFOUND) {
			unavailable(c);
			goto out;
		}
	}

	po.timeout_ms = c->app->cfg.probe_timeout_ms;
	po.origin_override = c->app->cfg.probe_origin_override;
	probe_check(p, &cs, &po, &pr);
	log_info("probe: provider=%s verdict=%s status=%ld (%s)", p->id,
	    probe_verdict_name(pr.verdict), pr.http_status, pr.why);
	if (pr.verdict == PROBE_REJECTED) {
		http_fail(c->req, AE_CREDENTIAL_REJECTED, NULL, NULL);
		goto out;
	}

	/* build, encrypt and commit */
	if (crypto_credential_id(rec.id) == -1)
		goto internal;
	rec.tenant = c->id.tenant;
	rec.provider = p->id;
	rec.label = (in.label_state == VS_STRING && in.label_len > 0) ?
	    in.label : NULL;
	rec.created_by = c->id.sub;
	snprintf(rec.status, sizeof(rec.status), "%s",
	    pr.verdict == PROBE_VALID ? "validated" : "unverified");
	for (i = 0; i < cs.n; i++)
		rec.fields[rec.nfields++] = cs.f[i].name;
	rec.created = rec.updated = time(NULL);
	rec.validated = pr.verdict == PROBE_VALID ? rec.created : 0;
	if ((pt = credset_serialize(&cs, &ptlen)) == NULL ||
	    (ad = store_record_ad(rec.tenant, rec.provider, rec.id, &adlen)) == NULL ||
	    envelope_seal(c->app->kr, ad, adlen, pt, ptlen, &rec.sealed) == -1)
		goto internal;
	secure_free(pt, ptlen);
	pt = NULL;

	o = json_object_new_object();
	json_object_object_add(o, "credentialId", json_object_new_string(rec.id));
	json_object_object_add(o, "provider", json_object_new_string(p->id));
	json_object_object_add(o, "label",
	    rec.label ? json_object_new_string(rec.label) : NULL);
	json_object_object_add(o, "status", json_object_new_string(rec.status));
	add_time(o, "createdAt", rec.created);
	snprintf(location, sizeof(location),
	    "/v1/integrations/%s/credentials/%s", p->id, rec.id);

	if (idk != NULL) {
		memcpy(idem.hash, hash, sizeof(hash));
		idem.status = 201;
		idem.body = (char *)(uintptr_t)json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		idem.location = location;
		idem.created = rec.created;
	}
	memset(&ev, 0, sizeof(ev));
	ev.time = rec.created;
	ev.tenant = rec.tenant;
	ev.subject = c->id.sub;
	ev.action = "credential.create";
	ev.provider = p->id;
	ev.cred_id = rec.id;
	ev.outcome = rec.status;
	ev.client = c->req->remote_addr;
	src = store_cred_create(c->app->st, &rec, idk, idk ? &idem : NULL, &ev,
	    &prior);
	if (src == STORE_EXISTS) {
		/* a concurrent retry with the same key won the race */
		if (ct_equal(prior.hash, hash, sizeof(hash)))
			replay(c, &prior);
		else
			http_fail(c->req, AE_IDEMPOTENCY_CONFLICT, NULL, NULL);
		goto out;
	}
	if (src != STORE_OK) {
		unavailable(c);
		goto out;
	}
	log_info("stored credential %s provider=%s tenant=%s status=%s",
	    rec.id, p->id, rec.tenant, rec.status);
	snprintf(extra, sizeof(extra), "Location: %s\r\n", location);
	http_send_json(c->req, 201, o, extra);
	goto out;
internal:
	log_error("store: cannot seal the credential");
	http_fail(c->req, AE_INTERNAL, NULL, NULL);
out:
	json_object_put(o);
	secure_free(pt, ptlen);
	free(ad);
	sealed_free(&rec.sealed);
	idem_rec_free(&prior);
	credset_free(&cs);
	input_free(&in);
}

static void
handle_credentials(struct ctx *c)
{
	const struct cat_provider *p;

	if (c->req->method == HM_POST) {
		handle_cred_create(c);
		return;
	}
	if (authenticate(c, NULL) == -1 || (p = resolve_provider(c)) == NULL)
		return;
	handle_cred_list(c, p);
}

static void
handle_credential(struct ctx *c)
{
	const struct cat_provider *p;

	if (authenticate(c, NULL) == -1 || (p = resolve_provider(c)) == NULL)
		return;
	handle_cred_get(c, p);
}

void
handle_request(struct app *a, struct http_req *req)
{
	struct ctx	 c;
	char		 allow[128], extra[160];
	enum route_rc	 rrc;

	memset(&c, 0, sizeof(c));
	c.app = a;
	c.req = req;
	rrc = router_match(req->method, req->path, &c.rm);
	if (rrc == ROUTE_NOT_FOUND) {
		http_fail(req, AE_NOT_FOUND, "Unknown path", NULL);
		goto out;
	}
	if (rrc == ROUTE_METHOD) {
		router_allow_header(c.rm.allowed, allow, sizeof(allow));
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		http_fail(req, AE_METHOD, NULL, extra);
		goto out;
	}
	if (c.rm.route == RT_HEALTHZ) {
		if (!a->ready)
			app_ensure(a);
		handle_healthz(&c);
		goto out;
	}
	if (!app_ensure(a)) {
		unavailable(&c);
		goto out;
	}
	switch (c.rm.route) {
	case RT_CATALOG:
		handle_catalog(&c);
		break;
	case RT_CATALOG_ONE:
		handle_catalog_one(&c);
		break;
	case RT_CREDENTIALS:
		handle_credentials(&c);
		break;
	case RT_CREDENTIAL:
		handle_credential(&c);
		break;
	case RT_HEALTHZ:
	case RT__MAX:
		http_fail(req, AE_NOT_FOUND, NULL, NULL);
		break;
	}
out:
	if (!req->responded)
		http_fail(req, AE_INTERNAL, NULL, NULL);
	log_info("%s %s -> %d tenant=%s", req->method_name,
	    strlen(req->path) > 200 ? "(long path)" : req->path, req->status,
	    c.authed ? c.id.tenant : "-");
	jwt_identity_free(&c.id);
}
