#include "cs_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "catalog.h"
#include "credsvc.h"
#include "crypto.h"
#include "handlers.h"
#include "jsonx.h"
#include "log.h"
#include "pages.h"
#include "session.h"
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
	struct req_input	*form;	/* a form body parsed before the gates */
	int			 html;	/* answer for a browser (Accept) */
	int			 via_cookie;	/* signed in by the session cookie */
	int			 had_cookie;	/* a session cookie was sent */
	char			 sid[SESSION_SID_LEN + 1];
	char			 csrf[SESSION_CSRF_LEN + 1];
	/* for re-rendering the provider form after a failed post */
	const struct cat_provider *form_provider;
	const struct req_input	*form_input;
};

static void
page_user(const struct ctx *c, struct page_user *u)
{
	memset(u, 0, sizeof(*u));
	if (c->authed) {
		u->subject = c->id.sub;
		u->tenant = c->id.tenant;
		u->csrf = c->via_cookie ? c->csrf : NULL;
	}
}

/*
 * The one way handlers answer an error: the JSON error document, or for a
 * browser (the admin page's form posts) a page: the provider form again
 * with the messages next to its fields, the sign-in page for 401, an
 * error page otherwise.
 */
static void
reply_error(struct ctx *c, const struct apierr *e, const char *extra)
{
	struct page_user	 u;
	struct json_object	*ctx;
	int			 status = apierr_status(e->code);

	if (!c->html) {
		http_send_error(c->req, e, extra);
		return;
	}
	page_user(c, &u);
	if (e->code == AE_UNAUTHORIZED) {
		page_redirect(c->req, c->had_cookie ? "/admin/login?expired=1" :
		    "/admin/login", c->had_cookie ?
		    session_clear_header(c->req->https) : NULL);
		return;
	}
	if (c->form_provider != NULL && (e->code == AE_VALIDATION ||
	    e->code == AE_CREDENTIAL_REJECTED)) {
		ctx = page_provider_form(c->form_provider, c->form_input, e);
		json_object_object_add(ctx, "message", json_object_new_string(
		    e->code == AE_CREDENTIAL_REJECTED ?
		    "The provider rejected these credentials; nothing was saved. "
		    "Secret fields are not kept: enter them again." :
		    "Please correct the fields marked below. Secret fields are "
		    "not kept: enter them again."));
		page_send(app_tmpl(c->app), c->req, status, "provider",
		    c->form_provider->name, &u, ctx, extra);
		return;
	}
	page_error(app_tmpl(c->app), c->req, status, &u,
	    e->message ? e->message : apierr_default_message(e->code));
}

static void
reply_fail(struct ctx *c, enum apierr_code code, const char *msg,
    const char *extra)
{
	struct apierr e;

	apierr_init(&e, code, msg);
	reply_error(c, &e, extra);
}

static void
unavailable(struct ctx *c)
{
	reply_fail(c, AE_UNAVAILABLE, NULL, RETRY_AFTER);
}

/*
 * The session cookie, when there is no other credential: 1 when it
 * authenticates (identity in c->id), 0 when absent, -1 when bad or
 * expired.
 */
static int
cookie_identity(struct ctx *c)
{
	struct session	 s;
	const char	*v;
	size_t		 len;

	if (c->req->cookie == NULL ||
	    (v = session_cookie_find(c->req->cookie, SESSION_COOKIE, &len)) == NULL)
		return 0;
	c->had_cookie = 1;
	if (session_open(c->app->kr, v, len, time(NULL), &s) == -1)
		return -1;
	c->id = s.id;		/* takes the strings */
	memcpy(c->sid, s.sid, sizeof(c->sid));
	if (session_csrf(c->app->kr, c->sid, c->csrf) == -1) {
		jwt_identity_free(&c->id);
		return -1;
	}
	c->via_cookie = 1;
	return 1;
}

/*
 * Authenticates the request: the bearer token from the Authorization
 * header, or (form posts only) the access_token field.  Both at once is a
 * 400 (RFC 6750 section 2).  On failure the response is sent and -1
 * returned.
 */
/* Verifies a bearer token into c->id; the reason is logged, never shown. */
static enum jwt_err
verify_token(struct ctx *c, const char *tok)
{
	struct jwt_policy	 pol;
	enum jwt_err		 je;
	size_t			 len = strlen(tok);

	if (validate_scalar(VK_TOKEN, tok, len) != NULL) {
		log_info("auth: malformed or oversized token (%zu bytes)", len);
		return JWT_ERR_MALFORMED;
	}
	memset(&pol, 0, sizeof(pol));
	pol.issuer = c->app->cfg.jwt_issuer;
	pol.audience = c->app->cfg.jwt_audience;
	pol.leeway = c->app->cfg.jwt_leeway;
	pol.role_claim = c->app->cfg.jwt_role_claim;
	pol.admin_role = c->app->cfg.admin_role;
	pol.tenant_claim = c->app->cfg.tenant_claim;
	je = jwt_verify(tok, len, &c->app->jk, &pol, time(NULL), &c->id);
	if (je != JWT_OK)
		log_info("auth: token rejected: %s", jwt_strerror(je));
	return je;
}

static int
authenticate(struct ctx *c, const char *form_token)
{
	const char	*h = c->req->authorization, *tok = NULL;
	enum jwt_err	 je;

	if (h != NULL && *h != '\0') {
		if (strncasecmp(h, "Bearer ", 7) != 0) {
			reply_fail(c, AE_UNAUTHORIZED,
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
			reply_error(c, &e, NULL);
			return -1;
		}
	} else
		tok = form_token;
	if (tok == NULL || *tok == '\0') {
		switch (cookie_identity(c)) {
		case 1:
			c->authed = 1;
			return 0;
		case -1:
			reply_fail(c, AE_UNAUTHORIZED,
			    "The session has expired; sign in again",
			    WWW_AUTH_INVALID);
			return -1;
		default:
			break;
		}
		reply_fail(c, AE_UNAUTHORIZED, NULL, WWW_AUTH_NONE);
		return -1;
	}
	if ((je = verify_token(c, tok)) != JWT_OK) {
		reply_fail(c, AE_UNAUTHORIZED, "The token is not valid",
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
	reply_fail(c, AE_FORBIDDEN, "The admin role is required", NULL);
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
		reply_fail(c, AE_NOT_FOUND, "Unknown provider", NULL);
	return p;
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
		reply_error(c, &e, NULL);
		return -1;
	}
	return 0;
}

/* A listing is written as text as it is read: no json-c tree. */
#define LIST_BODY_MAX	(1024 * 1024)

struct list_acc {
	struct buf	 body;
	char		 last[CREDENTIAL_ID_LEN + 1];
	long		 n, limit;
	int		 more;		/* a record past the page was seen */
	int		 full;		/* the body reached its cap */
};

static int
list_cb(const struct cred_rec *r, void *arg)
{
	struct list_acc *acc = arg;

	if (acc->n == acc->limit) {
		acc->more = 1;
		return 0;
	}
	if ((acc->n > 0 && buf_addc(&acc->body, ',') == -1) ||
	    store_cred_meta_write(&acc->body, r) == -1)
		acc->full = 1;
	snprintf(acc->last, sizeof(acc->last), "%s", r->id);
	acc->n++;
	return 0;
}

static void
handle_cred_list(struct ctx *c, const struct cat_provider *p)
{
	struct list_acc		 acc;
	long			 limit;
	char			 after[CREDENTIAL_ID_LEN + 1], *cur = NULL;
	enum store_rc		 rc;

	if (list_params(c, &limit, after, sizeof(after)) == -1)
		return;
	memset(&acc, 0, sizeof(acc));
	buf_init(&acc.body, LIST_BODY_MAX, 0);
	acc.limit = limit;
	acc.full = buf_adds(&acc.body, "{\"data\":[") == -1;
	/* one extra to learn whether a next page exists */
	rc = store_cred_list(c->app->st, c->id.tenant, p->id,
	    after[0] ? after : NULL, (size_t)limit + 1, list_cb, &acc);
	if (rc != STORE_OK && rc != STORE_CORRUPT) {
		buf_reset(&acc.body);
		unavailable(c);
		return;
	}
	if (acc.more)
		cur = b64url_encode(acc.last, CREDENTIAL_ID_LEN);
	if (acc.full || buf_adds(&acc.body, "],\"nextCursor\":") == -1 ||
	    jsonx_buf_str(&acc.body, cur) == -1 ||
	    buf_addc(&acc.body, '}') == -1) {
		free(cur);
		buf_reset(&acc.body);
		reply_fail(c, AE_INTERNAL, NULL, NULL);
		return;
	}
	free(cur);
	http_send(c->req, 200, "application/json", NULL, acc.body.data,
	    acc.body.len);
	buf_reset(&acc.body);
}

static void
handle_cred_get(struct ctx *c, const struct cat_provider *p)
{
	struct cred_rec		 r;
	struct json_object	*o;
	enum store_rc		 rc;

	if (validate_scalar(VK_CREDENTIAL_ID, c->rm.cred_id,
	    strlen(c->rm.cred_id)) != NULL) {
		reply_fail(c, AE_NOT_FOUND, "Unknown credential", NULL);
		return;
	}
	rc = store_cred_get(c->app->st, c->id.tenant, p->id, c->rm.cred_id, &r);
	if (rc == STORE_NOTFOUND) {
		reply_fail(c, AE_NOT_FOUND, "Unknown credential", NULL);
		return;
	}
	if (rc != STORE_OK) {
		if (rc == STORE_CORRUPT)
			reply_fail(c, AE_INTERNAL, NULL, NULL);
		else
			unavailable(c);
		return;
	}
	o = store_cred_meta_json(&r);
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
		reply_fail(c, AE_TOO_LARGE, NULL, NULL);
		return -1;
	case HTTP_BODY_SHORT:
	case HTTP_BODY_ERROR:
	default:
		{
			struct apierr e;

			apierr_init(&e, AE_VALIDATION,
			    "The body could not be read");
			apierr_add(&e, "body", NULL, "incomplete");
			reply_error(c, &e, NULL);
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

/* What a changing request needs before its own work. */
enum change_flags {
	CH_BODY = 1 << 0,	/* a JSON or form body is required */
	CH_API_KEY = 1 << 1,	/* the provider must be an api_key provider */
};

/*
 * The gates of every changing request, in the order of SPEC section 1:
 * authenticate (a form may carry its token, RFC 6750 2.2), authorise the
 * admin role, resolve the provider, check the media type, read and parse
 * the body.  Problems of the body's fields are left in *e for the caller's
 * validation to complete.  Returns the provider, or NULL after a response.
 */
static const struct cat_provider *
begin_change(struct ctx *c, unsigned flags, struct req_input *in,
    enum media *m, struct apierr *e)
{
	const struct cat_provider	*p;
	int				 have_body = 0;

	*m = media_of(c->req);
	apierr_init(e, AE_VALIDATION, NULL);
	if (c->form != NULL) {
		/* an HTML form with _method: its body is read already */
		if (c->req->authorization != NULL &&
		    *c->req->authorization != '\0' &&
		    c->form->access_token != NULL) {
			apierr_add(e, "access_token", NULL, "duplicate_token");
			reply_error(c, e, NULL);
			return NULL;
		}
		if (authenticate(c, c->req->authorization != NULL &&
		    *c->req->authorization != '\0' ? NULL :
		    c->form->access_token) == -1)
			return NULL;
		have_body = 1;
	} else if (*m == MEDIA_FORM && (c->req->authorization == NULL ||
	    *c->req->authorization == '\0')) {
		if (read_body(c) == -1)
			return NULL;
		have_body = 1;
		/* problems found here are reported after authentication */
		(void)input_parse_form(c->req->body.data, c->req->body.len, in,
		    e);
		if (authenticate(c, in->access_token) == -1)
			return NULL;
	} else if (authenticate(c, NULL) == -1)
		return NULL;
	if (c->via_cookie && !session_csrf_ok(c->app->kr, c->sid, c->form ?
	    c->form->csrf_token : in->csrf_token)) {
		/* a signed-in browser: every change carries the CSRF token */
		log_info("auth: session cookie without a valid CSRF token");
		reply_fail(c, AE_FORBIDDEN, "Missing or invalid CSRF token", NULL);
		return NULL;
	}
	if (require_admin(c) == -1 || (p = resolve_provider(c)) == NULL)
		return NULL;
	if ((flags & CH_API_KEY) && p->auth != AUTH_API_KEY) {
		apierr_init(e, AE_VALIDATION,
		    "This provider does not use API-key credentials");
		apierr_add(e, "provider", NULL, "unsupported_auth_type");
		reply_error(c, e, NULL);
		return NULL;
	}
	if (!(flags & CH_BODY))
		return p;
	if (*m == MEDIA_OTHER) {
		reply_fail(c, AE_MEDIA_TYPE, NULL, NULL);
		return NULL;
	}
	if (!have_body) {
		if (read_body(c) == -1)
			return NULL;
		if ((*m == MEDIA_JSON ? input_parse_json : input_parse_form)(
		    c->req->body.data, c->req->body.len, in, e) == -1) {
			if (e->nd == 0)
				apierr_add(e, "body", NULL, "malformed");
			reply_error(c, e, NULL);
			return NULL;
		}
		if (in->access_token != NULL) {
			/* a header token and a form token: never two methods */
			apierr_init(e, AE_VALIDATION,
			    "Send the token in one way only");
			apierr_add(e, "access_token", NULL, "duplicate_token");
			reply_error(c, e, NULL);
			return NULL;
		}
	}
	return p;
}

/* The credential id of the path, or -1 after a 404. */
static int
path_cred_id(struct ctx *c)
{
	if (validate_scalar(VK_CREDENTIAL_ID, c->rm.cred_id,
	    strlen(c->rm.cred_id)) == NULL)
		return 0;
	reply_fail(c, AE_NOT_FOUND, "Unknown credential", NULL);
	return -1;
}

/* Maps a storage result to its response; 0 only for STORE_OK. */
static int
store_failed(struct ctx *c, enum store_rc rc, const char *what)
{
	switch (rc) {
	case STORE_OK:
		return 0;
	case STORE_NOTFOUND:
		reply_fail(c, AE_NOT_FOUND, what, NULL);
		break;
	case STORE_IN_USE:
		reply_fail(c, AE_CONFLICT,
		    "The credential is used by a connection; disconnect first",
		    NULL);
		break;
	case STORE_CORRUPT:
		log_error("storage: corrupt record");
		reply_fail(c, AE_INTERNAL, NULL, NULL);
		break;
	case STORE_ERROR:
		reply_fail(c, AE_INTERNAL, NULL, NULL);
		break;
	default:
		unavailable(c);
		break;
	}
	return -1;
}

/* The credential service as this request sees it. */
static void
svc_of(struct ctx *c, struct credsvc *svc, struct credsvc_actor *who)
{
	memset(svc, 0, sizeof(*svc));
	svc->st = c->app->st;
	svc->kr = c->app->kr;
	svc->po.timeout_ms = c->app->cfg.probe_timeout_ms;
	svc->po.origin_override = c->app->cfg.probe_origin_override;
	who->tenant = c->id.tenant;
	who->subject = c->id.sub;
	who->client = c->req->remote_addr;
}

/* Maps a service result to its response; 0 only for CSVC_OK. */
static int
svc_failed(struct ctx *c, enum credsvc_rc rc)
{
	switch (rc) {
	case CSVC_OK:
		return 0;
	case CSVC_NOTFOUND:
		reply_fail(c, AE_NOT_FOUND, "Unknown credential", NULL);
		break;
	case CSVC_REJECTED:
		reply_fail(c, AE_CREDENTIAL_REJECTED, NULL, NULL);
		break;
	case CSVC_IDEM_CONFLICT:
		reply_fail(c, AE_IDEMPOTENCY_CONFLICT, NULL, NULL);
		break;
	case CSVC_IN_USE:
		reply_fail(c, AE_CONFLICT,
		    "The credential is used by a connection; disconnect first",
		    NULL);
		break;
	case CSVC_CORRUPT:
		log_error("storage: corrupt record");
		reply_fail(c, AE_INTERNAL, NULL, NULL);
		break;
	case CSVC_INTERNAL:
		reply_fail(c, AE_INTERNAL, NULL, NULL);
		break;
	case CSVC_REPLAY:
	case CSVC_UNAVAILABLE:
	case CSVC__MAX:
	default:
		unavailable(c);
		break;
	}
	return -1;
}

/* Sends the metadata of record (tenant, provider, id) with status. */
static void
send_meta(struct ctx *c, const char *provider, const char *id, int status)
{
	struct cred_rec		 r;
	struct json_object	*o;
	enum store_rc		 rc;

	rc = store_cred_get(c->app->st, c->id.tenant, provider, id, &r);
	if (store_failed(c, rc, "Unknown credential") == -1)
		return;
	o = store_cred_meta_json(&r);
	http_send_json(c->req, status, o, NULL);
	json_object_put(o);
	cred_rec_free(&r);
}

/* The label of a body: absent (left), null or "" (none) or a string. */
static void
label_of(const struct req_input *in, struct credsvc_label *l)
{
	l->set = in->label_state == VS_STRING || in->label_state == VS_NULL;
	l->label = in->label_state == VS_STRING && in->label_len > 0 ?
	    in->label : NULL;
}

/* Checks the body against p into cs; 1 after a 400. */
static int
body_invalid(struct ctx *c, const struct cat_provider *p,
    const struct req_input *in, struct credset *cs, struct apierr *e)
{
	if (input_validate(p, in, cs, e) == 0 && e->nd == 0)
		return 0;
	if (e->message == NULL)
		e->message = "Invalid request body";
	reply_error(c, e, NULL);
	return 1;
}

/* The create answer: what a replay of the idempotency key sends again. */
static struct json_object *
created_json(const struct cred_rec *rec)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "credentialId", json_object_new_string(rec->id));
	json_object_object_add(o, "provider",
	    json_object_new_string(rec->provider));
	json_object_object_add(o, "label",
	    rec->label ? json_object_new_string(rec->label) : NULL);
	json_object_object_add(o, "status", json_object_new_string(rec->status));
	jsonx_add_time(o, "createdAt", rec->created);
	return o;
}

/* The idempotency key header, checked; -1 after a 400. */
static int
idem_key_ok(struct ctx *c, const char *idk)
{
	struct apierr	 e;
	const char	*s;

	if (idk == NULL ||
	    (s = validate_scalar(VK_IDEMPOTENCY_KEY, idk, strlen(idk))) == NULL)
		return 0;
	apierr_init(&e, AE_VALIDATION, "Invalid Idempotency-Key header");
	apierr_add(&e, "Idempotency-Key", NULL, s);
	reply_error(c, &e, NULL);
	return -1;
}

/* Answers a service result of an idempotent create: replay or failure. */
static void
create_failed(struct ctx *c, enum credsvc_rc rc, const struct credsvc_new *n)
{
	if (rc == CSVC_REPLAY)
		replay(c, &n->prior);
	else
		(void)svc_failed(c, rc);
}

/* Commits the prepared record and answers 201 (or the page's redirect). */
static void
create_commit(struct ctx *c, const struct credsvc *svc,
    const struct credsvc_actor *who, struct credsvc_new *n, const char *idk,
    const unsigned char hash[CRYPTO_MAC_LEN])
{
	struct json_object	*o = created_json(&n->rec);
	struct idem_rec		 idem;
	enum credsvc_rc		 rc;
	char			 location[256], extra[320];

	snprintf(location, sizeof(location),
	    "/v1/integrations/%s/credentials/%s", n->rec.provider, n->rec.id);
	memset(&idem, 0, sizeof(idem));
	if (idk != NULL) {
		memcpy(idem.hash, hash, CRYPTO_MAC_LEN);
		idem.status = 201;
		idem.body = (char *)(uintptr_t)json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		idem.location = location;
		idem.created = n->rec.created;
	}
	rc = credsvc_create_commit(svc, who, n, idk, idk ? &idem : NULL);
	if (rc != CSVC_OK)
		create_failed(c, rc, n);
	else if (c->html) {
		/* after a form post: see the result; reload does not re-post */
		snprintf(location, sizeof(location),
		    "/admin/integrations/%s/credentials/%s", n->rec.provider,
		    n->rec.id);
		page_redirect(c->req, location, NULL);
	} else {
		snprintf(extra, sizeof(extra), "Location: %s\r\n", location);
		http_send_json(c->req, 201, o, extra);
	}
	json_object_put(o);
}

/*
 * POST /v1/integrations/{provider}/credentials: the reason credstore
 * exists.  Gates in the order of SPEC section 1, then the service.
 */
static void
handle_cred_create(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct credset			 cs;
	struct apierr			 e;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct credsvc_new		 n;
	enum media			 m;
	enum credsvc_rc			 rc;
	const char			*idk = c->req->idem_key;
	unsigned char			 hash[CRYPTO_MAC_LEN];

	input_init(&in);
	credset_init(&cs);
	credsvc_new_init(&n);
	memset(hash, 0, sizeof(hash));
	if ((p = begin_change(c, CH_BODY | CH_API_KEY, &in, &m, &e)) == NULL)
		goto out;
	c->form_provider = p;
	c->form_input = &in;
	if (idem_key_ok(c, idk) == -1 || body_invalid(c, p, &in, &cs, &e))
		goto out;
	svc_of(c, &svc, &who);
	if (idk != NULL) {
		if (request_hash(c, p->id, m, hash) == -1) {
			reply_fail(c, AE_INTERNAL, NULL, NULL);
			goto out;
		}
		if ((rc = credsvc_idem_check(&svc, &who, idk, hash,
		    &n)) != CSVC_OK) {
			create_failed(c, rc, &n);
			goto out;
		}
	}
	rc = credsvc_create_prepare(&svc, &who, p, &cs,
	    (in.label_state == VS_STRING && in.label_len > 0) ? in.label : NULL,
	    &n);
	if (svc_failed(c, rc) == 0)
		create_commit(c, &svc, &who, &n, idk, hash);
out:
	credsvc_new_free(&n);
	credset_free(&cs);
	input_free(&in);
}

/*
 * PUT .../credentials/{id}: new values, checked like a store; a 422
 * leaves the old ones.  Same id, new data key, updatedAt moves.
 */
static void
handle_cred_put(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct credset			 cs;
	struct apierr			 e;
	struct probe_result		 pr;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct credsvc_label		 label;
	enum media			 m;

	input_init(&in);
	credset_init(&cs);
	if ((p = begin_change(c, CH_BODY | CH_API_KEY, &in, &m, &e)) == NULL ||
	    path_cred_id(c) == -1 || body_invalid(c, p, &in, &cs, &e))
		goto out;
	svc_of(c, &svc, &who);
	label_of(&in, &label);
	if (svc_failed(c, credsvc_replace(&svc, &who, p, c->rm.cred_id, &cs,
	    &label, &pr)) == 0)
		send_meta(c, p->id, c->rm.cred_id, 200);
out:
	credset_free(&cs);
	input_free(&in);
}

/* PATCH .../credentials/{id} with {"label": ...}: the label alone. */
static void
handle_cred_patch(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct credsvc_label		 label;
	enum media			 m;
	const char			*why;

	input_init(&in);
	if ((p = begin_change(c, CH_BODY, &in, &m, &e)) == NULL ||
	    path_cred_id(c) == -1)
		goto out;
	if (in.has_credentials)
		apierr_add(&e, "credentials", NULL, "unknown_field");
	if (in.label_state == VS_ABSENT)
		apierr_add(&e, "label", NULL, "required");
	else if (in.label_state == VS_BAD_TYPE)
		apierr_add(&e, "label", NULL, "must_be_string");
	else if (in.label_state == VS_STRING && in.label_len > 0 &&
	    (why = validate_scalar(VK_LABEL, in.label, in.label_len)) != NULL)
		apierr_add(&e, "label", NULL, why);
	if (e.nd > 0) {
		if (e.message == NULL)
			e.message = "Only the label can be patched";
		reply_error(c, &e, NULL);
		goto out;
	}
	svc_of(c, &svc, &who);
	label_of(&in, &label);
	if (svc_failed(c, credsvc_relabel(&svc, &who, p->id, c->rm.cred_id,
	    &label)) == 0)
		send_meta(c, p->id, c->rm.cred_id, 200);
out:
	input_free(&in);
}

/* DELETE .../credentials/{id}: the record and its wrapped key go. */
static void
handle_cred_delete(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	enum media			 m;

	input_init(&in);
	if ((p = begin_change(c, 0, &in, &m, &e)) == NULL ||
	    path_cred_id(c) == -1)
		goto out;
	svc_of(c, &svc, &who);
	if (svc_failed(c, credsvc_delete(&svc, &who, p->id,
	    c->rm.cred_id)) == -1)
		goto out;
	log_info("deleted credential %s provider=%s tenant=%s", c->rm.cred_id,
	    p->id, c->id.tenant);
	if (c->html)
		page_redirect(c->req, "/admin/?deleted=1", NULL);
	else
		http_send(c->req, 204, NULL, NULL, NULL, 0);
out:
	input_free(&in);
}

/*
 * POST .../credentials/{id}/validate: tests the stored values again;
 * status and lastValidatedAt move; 422 when now rejected (the record
 * stays, status "rejected").
 */
static void
handle_cred_validate(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct probe_result		 pr;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	enum media			 m;
	enum credsvc_rc			 rc;
	char				 page[256];

	input_init(&in);
	if ((p = begin_change(c, 0, &in, &m, &e)) == NULL ||
	    path_cred_id(c) == -1)
		goto out;
	svc_of(c, &svc, &who);
	rc = credsvc_retest(&svc, &who, p, c->rm.cred_id, &pr);
	if (rc != CSVC_OK && (rc != CSVC_REJECTED || !c->html)) {
		(void)svc_failed(c, rc);
		goto out;
	}
	if (c->html) {
		snprintf(page, sizeof(page), "/admin/integrations/%s/credentials/"
		    "%s?retested=1", p->id, c->rm.cred_id);
		page_redirect(c->req, page, NULL);
	} else
		send_meta(c, p->id, c->rm.cred_id, 200);
out:
	input_free(&in);
}

static struct json_object *
conn_json(const char *provider, const struct conn_rec *cr)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "provider", json_object_new_string(provider));
	json_object_object_add(o, "credentialId",
	    json_object_new_string(cr->cred_id));
	json_object_object_add(o, "status", json_object_new_string(cr->status));
	jsonx_add_time(o, "connectedAt", cr->connected);
	return o;
}

/* GET, POST and DELETE /v1/integrations/{provider}/connect */
static void
handle_connect(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct conn_rec			 cr;
	struct audit_ev			 ev;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct json_object		*root = NULL, *o;
	enum media			 m;
	enum store_rc			 rc;
	const char			*id, *jerr;

	input_init(&in);
	if (c->req->method == HM_GET || c->req->method == HM_HEAD) {
		if (authenticate(c, NULL) == -1 ||
		    (p = resolve_provider(c)) == NULL)
			goto out;
		rc = store_conn_get(c->app->st, c->id.tenant, p->id, &cr);
		if (store_failed(c, rc, "Not connected") == -1)
			goto out;
		o = conn_json(p->id, &cr);
		http_send_json(c->req, 200, o, NULL);
		json_object_put(o);
		goto out;
	}
	if (c->req->method == HM_DELETE) {
		if ((p = begin_change(c, 0, &in, &m, &e)) == NULL)
			goto out;
		svc_of(c, &svc, &who);
		credsvc_audit_init(&who, &ev, "integration.disconnect", p->id,
		    NULL);
		rc = store_conn_delete(c->app->st, c->id.tenant, p->id, &ev);
		if (store_failed(c, rc, "Not connected") == -1)
			goto out;
		http_send(c->req, 204, NULL, NULL, NULL, 0);
		goto out;
	}
	/* POST {"credentialId": "..."}: a small body of its own shape */
	if ((p = begin_change(c, 0, &in, &m, &e)) == NULL)
		goto out;
	if (m != MEDIA_JSON) {
		reply_fail(c, AE_MEDIA_TYPE, "Use application/json", NULL);
		goto out;
	}
	if (read_body(c) == -1)
		goto out;
	apierr_init(&e, AE_VALIDATION, "Invalid request body");
	root = jsonx_parse(c->req->body.data, c->req->body.len, 4, 0, &jerr);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		apierr_add(&e, "body", NULL, root ? "must_be_object" :
		    "malformed_json");
		reply_error(c, &e, NULL);
		goto out;
	}
	json_object_object_foreach(root, k, v) {
		(void)v;
		if (strcmp(k, "credentialId") != 0)
			apierr_add(&e, strlen(k) <= 64 &&
			    validate_scalar(VK_PROVIDER, k, strlen(k)) == NULL ?
			    k : "?", NULL, "unknown_field");
	}
	id = jsonx_get_str(root, "credentialId");
	if (!json_object_object_get_ex(root, "credentialId", NULL))
		apierr_add(&e, "credentialId", NULL, "required");
	else if (id == NULL)
		apierr_add(&e, "credentialId", NULL, "must_be_string");
	else if (validate_scalar(VK_CREDENTIAL_ID, id, strlen(id)) != NULL)
		apierr_add(&e, "credentialId", NULL, "invalid");
	if (e.nd > 0) {
		reply_error(c, &e, NULL);
		goto out;
	}
	svc_of(c, &svc, &who);
	credsvc_audit_init(&who, &ev, "integration.connect", p->id, id);
	rc = store_conn_put(c->app->st, c->id.tenant, p->id, id, &ev, &cr);
	if (store_failed(c, rc, "Unknown credential") == -1)
		goto out;
	o = conn_json(p->id, &cr);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
out:
	json_object_put(root);
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

/*
 * POST on one credential: HTML forms cannot send DELETE, so a form body
 * with _method=DELETE stands for it.  Anything else is 405.
 */
static void
handle_cred_form_post(struct ctx *c)
{
	struct req_input	 in;
	struct apierr		 e;
	char			 allow[128], extra[160];

	if (media_of(c->req) != MEDIA_FORM) {
		router_allow_header(c->rm.allowed, allow, sizeof(allow));
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		reply_fail(c, AE_METHOD,
		    "POST here is for HTML forms with _method=DELETE", extra);
		return;
	}
	input_init(&in);
	apierr_init(&e, AE_VALIDATION, NULL);
	if (read_body(c) == -1)
		goto out;
	if (input_parse_form(c->req->body.data, c->req->body.len, &in,
	    &e) == -1 || in.method == NULL || strcmp(in.method, "DELETE") != 0) {
		if (e.nd == 0)
			apierr_add(&e, "_method", NULL, in.method == NULL ?
			    "required" : "not_allowed");
		if (e.message == NULL)
			e.message = "A form post here needs _method=DELETE";
		reply_error(c, &e, NULL);
		goto out;
	}
	c->form = &in;
	handle_cred_delete(c);
	c->form = NULL;
out:
	input_free(&in);
}

static void
handle_credential(struct ctx *c)
{
	const struct cat_provider *p;

	switch (c->req->method) {
	case HM_POST:
		handle_cred_form_post(c);
		return;
	case HM_PUT:
		handle_cred_put(c);
		return;
	case HM_PATCH:
		handle_cred_patch(c);
		return;
	case HM_DELETE:
		handle_cred_delete(c);
		return;
	default:
		break;
	}
	if (authenticate(c, NULL) == -1 || (p = resolve_provider(c)) == NULL)
		return;
	handle_cred_get(c, p);
}


/* GET /admin/login, POST /admin/login (the pasted token) */
static void
handle_admin_login(struct ctx *c)
{
	struct json_object	*ctx = json_object_new_object();
	struct req_input	 in;
	struct apierr		 e;
	char			*cookie, sid[SESSION_SID_LEN + 1];
	int			 status = 200;

	input_init(&in);
	if (c->req->method != HM_POST) {
		if (c->req->query != NULL && strstr(c->req->query, "expired=1"))
			json_object_object_add(ctx, "message",
			    json_object_new_string("Your session has expired. "
			    "Sign in again."));
		if (c->req->query != NULL && strstr(c->req->query, "out=1"))
			json_object_object_add(ctx, "message",
			    json_object_new_string("You are signed out."));
		page_send(app_tmpl(c->app), c->req, 200, "login", "Sign in", NULL,
		    ctx, NULL);
		goto out;
	}
	apierr_init(&e, AE_VALIDATION, NULL);
	if (media_of(c->req) != MEDIA_FORM || read_body(c) == -1 ||
	    input_parse_form(c->req->body.data, c->req->body.len, &in,
	    &e) == -1 || in.access_token == NULL || *in.access_token == '\0') {
		if (!c->req->responded) {
			json_object_object_add(ctx, "message",
			    json_object_new_string("Paste a token to sign in."));
			page_send(app_tmpl(c->app), c->req, 400, "login", "Sign in",
			    NULL, ctx, NULL);
		} else
			json_object_put(ctx);
		goto out;
	}
	if (verify_token(c, in.access_token) != JWT_OK) {
		status = 401;
		json_object_object_add(ctx, "message", json_object_new_string(
		    "That token is not valid here (expired, wrong issuer or "
		    "audience, or not signed by a trusted key)."));
		page_send(app_tmpl(c->app), c->req, status, "login", "Sign in", NULL,
		    ctx, NULL);
		goto out;
	}
	json_object_put(ctx);
	cookie = session_issue(c->app->kr, &c->id, time(NULL), c->req->https,
	    sid);
	if (cookie == NULL) {
		reply_fail(c, AE_INTERNAL, NULL, NULL);
		goto out;
	}
	log_info("admin page: signed in subject=%s tenant=%s",
	    c->id.sub ? c->id.sub : "-", c->id.tenant);
	c->authed = 1;
	page_redirect(c->req, "/admin/", cookie);
	free(cookie);
out:
	input_free(&in);
}

/* POST /admin/logout: the session cookie is dropped. */
static void
handle_admin_logout(struct ctx *c)
{
	struct req_input	in;
	struct apierr		e;

	input_init(&in);
	apierr_init(&e, AE_VALIDATION, NULL);
	if (cookie_identity(c) == 1) {
		c->authed = 1;
		if (media_of(c->req) != MEDIA_FORM || read_body(c) == -1 ||
		    input_parse_form(c->req->body.data, c->req->body.len, &in,
		    &e) == -1 || !session_csrf_ok(c->app->kr, c->sid,
		    in.csrf_token)) {
			if (!c->req->responded)
				reply_fail(c, AE_FORBIDDEN,
				    "Missing or invalid CSRF token", NULL);
			input_free(&in);
			return;
		}
	}
	input_free(&in);
	page_redirect(c->req, "/admin/login?out=1",
	    session_clear_header(c->req->https));
}

/* A signed-in user for a page, or -1 after the redirect to sign-in. */
static int
page_auth(struct ctx *c)
{
	c->html = 1;
	return authenticate(c, NULL);
}

struct index_acc {
	struct json_object	*arr;
	const struct catalog	*cat;
};

static int
index_cb(const struct cred_rec *r, void *arg)
{
	struct index_acc *a = arg;

	json_object_array_add(a->arr, page_cred(catalog_find(a->cat,
	    r->provider), r));
	return 0;
}

/* GET /admin/: the catalog and the tenant's stored credentials. */
static void
handle_admin_index(struct ctx *c)
{
	struct json_object	*ctx, *provs, *o;
	struct index_acc	 acc;
	struct page_user	 u;
	const struct cat_provider *p;
	size_t			 i;

	if (page_auth(c) == -1)
		return;
	ctx = json_object_new_object();
	acc.arr = json_object_new_array();
	acc.cat = c->app->cat;
	if (store_cred_list(c->app->st, c->id.tenant, NULL, NULL, 1000,
	    index_cb, &acc) != STORE_OK) {
		json_object_put(acc.arr);
		json_object_put(ctx);
		unavailable(c);
		return;
	}
	json_object_object_add(ctx, "credentials", acc.arr);
	provs = json_object_new_array();
	for (i = 0; i < c->app->cat->nproviders; i++) {
		p = &c->app->cat->providers[i];
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(p->id));
		json_object_object_add(o, "name", json_object_new_string(p->name));
		json_object_object_add(o, "authType",
		    json_object_new_string(p->auth_name));
		json_object_object_add(o, "api_key",
		    json_object_new_boolean(p->auth == AUTH_API_KEY));
		json_object_array_add(provs, o);
	}
	json_object_object_add(ctx, "providers", provs);
	if (c->req->query != NULL && strstr(c->req->query, "deleted=1"))
		json_object_object_add(ctx, "message",
		    json_object_new_string("The credential was deleted."));
	page_user(c, &u);
	page_send(app_tmpl(c->app), c->req, 200, "index", "Integrations", &u, ctx,
	    NULL);
}

/* GET /admin/integrations/{provider}: the form. */
static void
handle_admin_provider(struct ctx *c)
{
	const struct cat_provider	*p;
	struct page_user		 u;

	if (page_auth(c) == -1 || (p = resolve_provider(c)) == NULL)
		return;
	if (p->auth != AUTH_API_KEY) {
		reply_fail(c, AE_VALIDATION, "This integration does not use "
		    "API-key credentials.", NULL);
		return;
	}
	page_user(c, &u);
	page_send(app_tmpl(c->app), c->req, 200, "provider", p->name, &u,
	    page_provider_form(p, NULL, NULL), NULL);
}

/* GET /admin/integrations/{provider}/credentials/{id}: one credential. */
static void
handle_admin_credential(struct ctx *c)
{
	const struct cat_provider	*p;
	struct cred_rec			 r;
	struct json_object		*ctx;
	struct page_user		 u;
	enum store_rc			 rc;
	char				 msg[128];

	if (page_auth(c) == -1 || (p = resolve_provider(c)) == NULL ||
	    path_cred_id(c) == -1)
		return;
	rc = store_cred_get(c->app->st, c->id.tenant, p->id, c->rm.cred_id, &r);
	if (store_failed(c, rc, "Unknown credential") == -1)
		return;
	ctx = page_cred(p, &r);
	if (c->req->query != NULL && strstr(c->req->query, "retested=1")) {
		snprintf(msg, sizeof(msg), "Tested again: %s.", r.status);
		json_object_object_add(ctx, "message", json_object_new_string(msg));
	}
	cred_rec_free(&r);
	page_user(c, &u);
	page_send(app_tmpl(c->app), c->req, 200, "result", p->name, &u, ctx, NULL);
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
	c.html = http_wants_html(req);
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
	case RT_CRED_VALIDATE:
		handle_cred_validate(&c);
		break;
	case RT_CONNECT:
		handle_connect(&c);
		break;
	case RT_ADMIN_INDEX:
		handle_admin_index(&c);
		break;
	case RT_ADMIN_STYLE:
		(void)app_tmpl(a);
		page_css(req, a->css, a->csslen);
		break;
	case RT_ADMIN_LOGIN:
		c.html = 1;
		handle_admin_login(&c);
		break;
	case RT_ADMIN_LOGOUT:
		c.html = 1;
		handle_admin_logout(&c);
		break;
	case RT_ADMIN_PROVIDER:
		handle_admin_provider(&c);
		break;
	case RT_ADMIN_CREDENTIAL:
		handle_admin_credential(&c);
		break;
	case RT_HEALTHZ:
	case RT__MAX:
		http_fail(req, AE_NOT_FOUND, NULL, NULL);
		break;
	}
out:
	if (!req->responded)
		http_fail(req, AE_INTERNAL, NULL, NULL);
	/* the web server's access log has every request; this is for debugging */
	log_debug("%s %s -> %d tenant=%s", req->method_name,
	    strlen(req->path) > 200 ? "(long path)" : req->path, req->status,
	    c.authed ? c.id.tenant : "-");
	jwt_identity_free(&c.id);
}
