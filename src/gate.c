/*
 * gate: the request context's gates and the one responder (gate.h).
 * Every function that fails has answered the request before it returns.
 */
#include "cs_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "catalog.h"
#include "crypto.h"
#include "gate.h"
#include "log.h"
#include "pages.h"
#include "session.h"
#include "sessions.h"
#include "store.h"
#include "tenantlimit.h"
#include "util.h"
#include "validate.h"

#define WWW_AUTH_NONE \
	"WWW-Authenticate: Bearer realm=\"credstore\"\r\n"
#define WWW_AUTH_INVALID \
	"WWW-Authenticate: Bearer realm=\"credstore\", error=\"invalid_token\"\r\n"

void
gate_page_user(const struct ctx *c, struct page_user *u)
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
void
gate_reply_error(struct ctx *c, const struct apierr *e, const char *extra)
{
	struct page_user	 u;
	struct json_object	*ctx;
	char			 clear[SESSION_CLEAR_MAX];
	int			 status = apierr_status(e->code);

	if (!c->html) {
		http_send_error(c->req, e, extra);
		return;
	}
	gate_page_user(c, &u);
	if (e->code == AE_UNAUTHORIZED) {
		session_clear_header(c->req->https, c->req->mount, clear);
		page_redirect(c->req, c->had_cookie ? "/admin/login?expired=1" :
		    "/admin/login", c->had_cookie ? clear : NULL);
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

void
gate_reply_fail(struct ctx *c, enum apierr_code code, const char *msg,
    const char *extra)
{
	struct apierr e;

	apierr_init(&e, code, msg);
	gate_reply_error(c, &e, extra);
}

void
gate_unavailable(struct ctx *c)
{
	gate_reply_fail(c, AE_UNAVAILABLE, NULL, GATE_RETRY_AFTER);
}

int
gate_reply_browser(struct ctx *c, const char *fmt, ...)
{
	va_list	ap;
	char	page[256];
	int	n;

	if (!c->html)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(page, sizeof(page), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(page))
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
	else
		page_redirect(c->req, page, NULL);
	return 1;
}

/*
 * The session cookie, when there is no other credential: 1 when it
 * authenticates (identity in c->id), 0 when absent, -1 when bad,
 * expired, ended by sign-out, or when the token sealed in it no longer
 * verifies (its key was removed from the JWKS, the HS secret changed).
 */
int
gate_cookie_identity(struct ctx *c)
{
	struct session	 s;
	const char	*v;
	size_t		 len;
	int		 ended = 1, rc = -1;

	if (c->req->cookie == NULL || (v = session_cookie_find(c->req->cookie,
	    session_cookie_name(c->req->https, c->req->mount), &len)) == NULL)
		return 0;
	c->had_cookie = 1;
	if (session_open(c->app->kr, v, len, time(NULL), &s) == -1)
		return -1;
	if (sessions_ended(c->app->st, s.sid, &ended) != STORE_OK || ended) {
		log_info("auth: %s session cookie", ended ? "a signed-out" :
		    "cannot check a");
		goto out;
	}
	/* c->id is the token's identity as it verifies now */
	if (gate_verify_token(c, s.token) != JWT_OK ||
	    strcmp(c->id.tenant, s.id.tenant) != 0) {
		log_info("auth: the session's token no longer verifies");
		jwt_identity_free(&c->id);
		goto out;
	}
	memcpy(c->sid, s.sid, sizeof(c->sid));
	if (session_csrf(c->app->kr, c->sid, c->csrf) == -1) {
		jwt_identity_free(&c->id);
		goto out;
	}
	c->via_cookie = 1;
	rc = 1;
out:
	session_free(&s);
	return rc;
}

int
gate_same_origin(struct ctx *c, int proof)
{
	enum session_origin so;

	so = session_origin_check(c->req->origin, c->req->referer,
	    c->req->https, c->req->host);
	if (so == SO_SAME || (so == SO_ABSENT && proof))
		return 0;
	log_info("auth: a post from %s", so == SO_ABSENT ?
	    "an unknown origin without a CSRF token" : "another origin");
	gate_reply_fail(c, AE_FORBIDDEN, so == SO_ABSENT ?
	    "Missing or invalid CSRF token" :
	    "This form was posted from another site", NULL);
	return -1;
}

enum jwt_err
gate_verify_token(struct ctx *c, const char *tok)
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
	pol.proxy_role = c->app->cfg.proxy_role;
	pol.tenant_claim = c->app->cfg.tenant_claim;
	je = jwt_verify(tok, len, &c->app->jk, &pol, time(NULL), &c->id);
	if (je != JWT_OK)
		log_info("auth: token rejected: %s", jwt_strerror(je));
	return je;
}

/*
 * The message of a 401 without any credential.  Apache gives a CGI or
 * FastCGI program no Authorization header unless told to (CGIPassAuth
 * On), and nothing shows that it withheld one: under Apache the message
 * says so.  NULL: the default message.
 */
static const char *
no_credential_message(const struct http_req *r)
{
	if (r->server_software != NULL &&
	    strncmp(r->server_software, "Apache", 6) == 0)
		return "No Authorization header reached credstore; with Apache "
		    "set CGIPassAuth On";
	return NULL;
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

	if (h != NULL && *h != '\0') {
		if (strncasecmp(h, "Bearer ", 7) != 0) {
			gate_reply_fail(c, AE_UNAUTHORIZED,
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
			apierr_add(&e, "access_token", NULL, IR_DUPLICATE_TOKEN);
			gate_reply_error(c, &e, NULL);
			return -1;
		}
	} else
		tok = form_token;
	if (tok == NULL || *tok == '\0') {
		switch (gate_cookie_identity(c)) {
		case 1:
			c->authed = 1;
			return 0;
		case -1:
			gate_reply_fail(c, AE_UNAUTHORIZED,
			    "The session has expired; sign in again",
			    WWW_AUTH_INVALID);
			return -1;
		default:
			break;
		}
		gate_reply_fail(c, AE_UNAUTHORIZED, no_credential_message(c->req),
		    WWW_AUTH_NONE);
		return -1;
	}
	if ((je = gate_verify_token(c, tok)) != JWT_OK) {
		gate_reply_fail(c, AE_UNAUTHORIZED, "The token is not valid",
		    WWW_AUTH_INVALID);
		return -1;
	}
	c->authed = 1;
	return 0;
}

/* The tenant's request rate (tenantlimit.h); -1 after a 429. */
static int
tenant_rate(struct ctx *c)
{
	char	ra[48];
	long	wait;

	wait = tenantlimit_request(tenantlimit_of_config(&c->app->cfg),
	    c->id.tenant, tenantlimit_now());
	if (wait == 0)
		return 0;
	log_info("tenant %s: request rate limit (retry after %ld s)",
	    c->id.tenant, wait);
	snprintf(ra, sizeof(ra), "Retry-After: %ld\r\n", wait);
	gate_reply_fail(c, AE_RATE_LIMITED, NULL, ra);
	return -1;
}

int
gate_authenticate(struct ctx *c, const char *form_token)
{
	if (authenticate(c, form_token) == -1)
		return -1;
	return tenant_rate(c);
}

static int
require_admin(struct ctx *c)
{
	if (c->id.is_admin)
		return 0;
	gate_reply_fail(c, AE_FORBIDDEN, "The admin role is required", NULL);
	return -1;
}

/* The provider of the path, or NULL after a 404. */
const struct cat_provider *
gate_provider(struct ctx *c)
{
	const struct cat_provider *p = NULL;

	if (validate_scalar(VK_PROVIDER, c->rm.provider,
	    strlen(c->rm.provider)) == NULL)
		p = catalog_find(c->app->cat, c->rm.provider);
	if (p == NULL)
		gate_reply_fail(c, AE_NOT_FOUND, "Unknown provider", NULL);
	return p;
}

/* Reads the body after the media type was accepted; -1 after a reply. */
int
gate_read_body(struct ctx *c)
{
	switch (http_read_body(c->req, (size_t)c->app->cfg.max_body_bytes)) {
	case HTTP_BODY_OK:
		return 0;
	case HTTP_BODY_TOO_LARGE:
		gate_reply_fail(c, AE_TOO_LARGE, NULL, NULL);
		return -1;
	case HTTP_BODY_SHORT:
	case HTTP_BODY_ERROR:
	default:
		{
			struct apierr e;

			apierr_init(&e, AE_VALIDATION,
			    "The body could not be read");
			apierr_add(&e, "body", NULL, IR_INCOMPLETE);
			gate_reply_error(c, &e, NULL);
		}
		return -1;
	}
}

enum media
gate_media(struct http_req *r)
{
	char mt[64];

	if (!http_ctype_charset_ok(r->content_type))
		return MEDIA_OTHER;	/* 415: UTF-8 is the only charset read */
	http_media_type(r, mt, sizeof(mt));
	if (strcmp(mt, "application/json") == 0)
		return MEDIA_JSON;
	if (strcmp(mt, "application/x-www-form-urlencoded") == 0)
		return MEDIA_FORM;
	return MEDIA_OTHER;
}

void
gate_replay(struct ctx *c, const struct idem_rec *ir)
{
	char extra[512 + MOUNT_MAX], check[128] = "";

	/* the first answer's Credential-Check (none in older records) */
	if (ir->check != NULL && strlen(ir->check) < 96)
		snprintf(check, sizeof(check), "Credential-Check: %s\r\n",
		    ir->check);
	/* the location kept is below the mount point, as in create_commit */
	if (ir->location != NULL)
		snprintf(extra, sizeof(extra),
		    "Location: %s%s\r\nIdempotent-Replayed: true\r\n%s",
		    c->req->mount, ir->location, check);
	else
		snprintf(extra, sizeof(extra), "Idempotent-Replayed: true\r\n%s",
		    check);
	http_send(c->req, ir->status, "application/json", extra,
	    ir->body ? ir->body : "", ir->body ? strlen(ir->body) : 0);
}

/*
 * Authenticates a changing request: a form may carry its token (RFC 6750
 * 2.2), so a form body is read first.  1 when the body was read (and
 * parsed into in), 0 when not, -1 after a reply.
 */
static int
change_auth(struct ctx *c, struct req_input *in, enum media m,
    struct apierr *e)
{
	int header = c->req->authorization != NULL &&
	    *c->req->authorization != '\0';

	if (c->form != NULL) {
		/* an HTML form with _method: its body is read already */
		if (header && c->form->access_token != NULL) {
			apierr_add(e, "access_token", NULL, IR_DUPLICATE_TOKEN);
			gate_reply_error(c, e, NULL);
			return -1;
		}
		return gate_authenticate(c, header ? NULL :
		    c->form->access_token) == -1 ? -1 : 1;
	}
	if (m == MEDIA_FORM && !header) {
		if (gate_read_body(c) == -1)
			return -1;
		/* problems found here are reported after authentication */
		(void)input_parse_form(c->req->body.data, c->req->body.len, in,
		    e);
		return gate_authenticate(c, in->access_token) == -1 ? -1 : 1;
	}
	return gate_authenticate(c, NULL) == -1 ? -1 : 0;
}

/*
 * The gates of every changing request, in the order of SPEC section 1:
 * authenticate (a form may carry its token, RFC 6750 2.2), authorise the
 * admin role, resolve the provider, check the media type, read and parse
 * the body.  Problems of the body's fields are left in *e for the caller's
 * validation to complete.  Returns the provider, or NULL after a response.
 */
const struct cat_provider *
gate_begin_change(struct ctx *c, unsigned flags, struct req_input *in,
    enum media *m, struct apierr *e)
{
	const struct cat_provider	*p;
	int				 have_body;

	*m = gate_media(c->req);
	apierr_init(e, AE_VALIDATION, NULL);
	if ((have_body = change_auth(c, in, *m, e)) == -1)
		return NULL;
	/*
	 * A browser's post (session cookie or form) must come from the admin
	 * page: Origin or Referer ours, or neither and (below) the CSRF token
	 * of the session; a form with its own token needs none.
	 */
	if ((c->via_cookie || c->form != NULL || *m == MEDIA_FORM) &&
	    gate_same_origin(c, 1) == -1)
		return NULL;
	if (c->via_cookie && !session_csrf_ok(c->app->kr, c->sid, c->form ?
	    c->form->csrf_token : in->csrf_token)) {
		/* a signed-in browser: every change carries the CSRF token */
		log_info("auth: session cookie without a valid CSRF token");
		gate_reply_fail(c, AE_FORBIDDEN, "Missing or invalid CSRF token", NULL);
		return NULL;
	}
	if (require_admin(c) == -1 || (p = gate_provider(c)) == NULL)
		return NULL;
	if ((flags & CH_API_KEY) && p->auth != AUTH_API_KEY) {
		apierr_init(e, AE_VALIDATION,
		    "This provider does not use API-key credentials");
		apierr_add(e, "provider", NULL, IR_UNSUPPORTED_AUTH_TYPE);
		gate_reply_error(c, e, NULL);
		return NULL;
	}
	if (!(flags & CH_BODY))
		return p;
	if (*m == MEDIA_OTHER) {
		gate_reply_fail(c, AE_MEDIA_TYPE, NULL, NULL);
		return NULL;
	}
	if (!have_body) {
		if (gate_read_body(c) == -1)
			return NULL;
		if ((*m == MEDIA_JSON ? input_parse_json : input_parse_form)(
		    c->req->body.data, c->req->body.len, in, e) == -1) {
			if (e->nd == 0)
				apierr_add(e, "body", NULL, IR_MALFORMED);
			gate_reply_error(c, e, NULL);
			return NULL;
		}
		if (in->access_token != NULL) {
			/* a header token and a form token: never two methods */
			apierr_init(e, AE_VALIDATION,
			    "Send the token in one way only");
			apierr_add(e, "access_token", NULL, IR_DUPLICATE_TOKEN);
			gate_reply_error(c, e, NULL);
			return NULL;
		}
	}
	return p;
}

/* The credential id of the path, or -1 after a 404. */
int
gate_cred_id(struct ctx *c)
{
	if (validate_scalar(VK_CREDENTIAL_ID, c->rm.cred_id,
	    strlen(c->rm.cred_id)) == NULL)
		return 0;
	gate_reply_fail(c, AE_NOT_FOUND, "Unknown credential", NULL);
	return -1;
}

/* The credential service as this request sees it. */
void
gate_svc(struct ctx *c, struct credsvc *svc, struct credsvc_actor *who)
{
	memset(svc, 0, sizeof(*svc));
	svc->st = c->app->st;
	svc->kr = c->app->kr;
	svc->keyring_path = c->app->cfg.keyring;
	svc->po.timeout_ms = c->app->cfg.probe_timeout_ms;
	svc->po.origin_override = c->app->cfg.probe_origin_override;
	svc->lim = tenantlimit_of_config(&c->app->cfg);
	who->tenant = c->id.tenant;
	who->subject = c->id.sub;
	who->client = c->req->remote_addr;
}

/* A service result's response, what being the message of a 404. */
static int
reply_rc(struct ctx *c, enum credsvc_rc rc, const char *what)
{
	switch (rc) {
	case CSVC_OK:
		return 0;
	case CSVC_NOTFOUND:
		gate_reply_fail(c, AE_NOT_FOUND, what, NULL);
		break;
	case CSVC_REJECTED:
		gate_reply_fail(c, AE_CREDENTIAL_REJECTED, NULL, NULL);
		break;
	case CSVC_IDEM_CONFLICT:
		gate_reply_fail(c, AE_IDEMPOTENCY_CONFLICT, NULL, NULL);
		break;
	case CSVC_IN_USE:
		gate_reply_fail(c, AE_CONFLICT,
		    "The credential is used by a connection; disconnect first",
		    NULL);
		break;
	case CSVC_CONFLICT:
		gate_reply_fail(c, AE_CONFLICT,
		    "The credential changed during the re-test; test it again",
		    NULL);
		break;
	case CSVC_LIMIT:
		gate_reply_fail(c, AE_LIMIT_EXCEEDED, NULL, NULL);
		break;
	case CSVC_CORRUPT:
		log_error("storage: corrupt record");
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		break;
	case CSVC_INTERNAL:
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		break;
	case CSVC_LIMITED:
		gate_reply_fail(c, AE_RATE_LIMITED, NULL, "Retry-After: 1\r\n");
		break;
	case CSVC_REPLAY:
	case CSVC_UNAVAILABLE:
	case CSVC__MAX:
	default:
		gate_unavailable(c);
		break;
	}
	return -1;
}

int
gate_svc_failed(struct ctx *c, enum credsvc_rc rc)
{
	return reply_rc(c, rc, "Unknown credential");
}

int
gate_store_failed(struct ctx *c, enum store_rc rc, const char *what)
{
	return reply_rc(c, credsvc_rc_of(rc), what);
}

int
gate_page_auth(struct ctx *c)
{
	c->html = 1;
	return gate_authenticate(c, NULL);
}
