/*
 * gate: the request context and the gates every handler passes through,
 * in the order of SPEC section 1: authenticate, authorise, resolve the
 * provider, check the media type, read and parse the body, replay an
 * idempotent request.  Also the one responder: gate_reply_error decides
 * once whether an answer is JSON (API clients) or HTML (the admin page).
 * The context is owned by handle_request; handlers borrow it.
 */
#ifndef CS_GATE_H
#define CS_GATE_H

#include "app.h"
#include "apierr.h"
#include "credsvc.h"
#include "http.h"
#include "jwt.h"
#include "pages.h"
#include "router.h"
#include "session.h"
#include "validate.h"

#define GATE_RETRY_AFTER	"Retry-After: 5\r\n"

/* Per-request context shared by the gates. */
struct ctx {
	struct app		*app;
	struct http_req		*req;
	struct route_match	 rm;
	/*
	 * The mount point ("" at the root, never ending in '/') and the
	 * raw, still percent-encoded path below it that the route matched
	 * (mount.h); both borrowed from req.  Every link, form action,
	 * Location and cookie Path carries the mount.
	 */
	const char		*mount;
	const char		*path;
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

enum media {
	MEDIA_JSON,
	MEDIA_FORM,
	MEDIA_OTHER
};

/* What a changing request needs before its own work. */
enum change_flags {
	CH_BODY = 1 << 0,	/* a JSON or form body is required */
	CH_API_KEY = 1 << 1,	/* the provider must be an api_key provider */
};

/*
 * The one way handlers answer an error: the JSON error document, or for
 * a browser a page (the provider form again, the sign-in page, an error
 * page).
 */
void	 gate_reply_error(struct ctx *, const struct apierr *, const char *extra);
void	 gate_reply_fail(struct ctx *, enum apierr_code, const char *msg,
	    const char *extra);
void	 gate_unavailable(struct ctx *);
/*
 * A browser's answer to a change it posted: 303 to page (printf format)
 * and 1; 0 for an API client, who gets the handler's JSON instead.
 */
int	 gate_reply_browser(struct ctx *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Who is looking, for a page: NULL fields when signed out. */
void	 gate_page_user(const struct ctx *, struct page_user *);

/* Verifies a bearer token into c->id; the reason is logged, never shown. */
enum jwt_err gate_verify_token(struct ctx *, const char *tok);
/*
 * The session cookie: 1 signed in, 0 absent, -1 bad, expired, signed out
 * or its token no longer verifies.
 */
int	 gate_cookie_identity(struct ctx *);
/*
 * The admin page's posts (issue 12, finding 5): 0 when Origin (or else
 * Referer) is the request's own origin, or when neither was sent and
 * proof (a valid CSRF token) is set; else a 403 and -1.
 */
int	 gate_same_origin(struct ctx *, int proof);
/* Bearer header, form token or session cookie; -1 after a reply. */
int	 gate_authenticate(struct ctx *, const char *form_token);
/* A signed-in user for a page, or -1 after the redirect to sign-in. */
int	 gate_page_auth(struct ctx *);
/* The provider of the path, or NULL after a 404. */
const struct cat_provider *gate_provider(struct ctx *);
/* The credential id of the path, or -1 after a 404. */
int	 gate_cred_id(struct ctx *);
/* Reads the body after the media type was accepted; -1 after a reply. */
int	 gate_read_body(struct ctx *);
enum media gate_media(struct http_req *);
/*
 * The gates of every changing request (see above).  Problems of the
 * body's fields are left in *e for the caller's validation to complete.
 * Returns the provider, or NULL after a response.
 */
const struct cat_provider *gate_begin_change(struct ctx *, unsigned flags,
	    struct req_input *, enum media *, struct apierr *e);
/* Sends a remembered answer again. */
void	 gate_replay(struct ctx *, const struct idem_rec *);

/* The credential service as this request sees it. */
void	 gate_svc(struct ctx *, struct credsvc *, struct credsvc_actor *);
/* Maps a storage or service result to its response; 0 only when OK. */
int	 gate_store_failed(struct ctx *, enum store_rc, const char *what);
int	 gate_svc_failed(struct ctx *, enum credsvc_rc);

#endif
