/*
 * session: the admin page's sign-in (SPEC section 6).  A pasted JWT is
 * verified, then sealed with the identity it carries (subject, tenant,
 * admin role, expiry) into an HttpOnly, SameSite=Strict cookie that
 * expires with the token; the gate verifies the sealed token again at
 * every use, so a session ends when its signing key goes.  The cookies'
 * Path is the mount point (mount.h; "/" at the root).  Over HTTPS they
 * carry the __Host- prefix (Secure, Path=/, no Domain) at the root, and
 * below a prefix, where __Host- cannot be (it requires Path=/), the
 * __Secure- prefix with Path=mount: the browser keeps the cookie to this
 * program's paths and never sends it over plain HTTP.  Every
 * state-changing form carries a CSRF token that is a MAC of the session's
 * random id; the sign-in form carries a pre-session one (a MAC of a nonce
 * in a short-lived cookie).  The Origin (or Referer) check of the admin
 * page's posts is here too.  What ends a session at sign-out is kept
 * server-side by sessions.c.  Buffers returned are the caller's.
 */
#ifndef CS_SESSION_H
#define CS_SESSION_H

#include <stddef.h>
#include <time.h>

#include "crypto.h"
#include "jwt.h"
#include "mount.h"

#define SESSION_COOKIE		"cs_session"
#define SESSION_COOKIE_HOST	"__Host-" SESSION_COOKIE	/* HTTPS */
#define SESSION_LOGIN_COOKIE	"cs_login"
#define SESSION_LOGIN_COOKIE_HOST "__Host-" SESSION_LOGIN_COOKIE
/* HTTPS below a mount point */
#define SESSION_COOKIE_SECURE	"__Secure-" SESSION_COOKIE
#define SESSION_LOGIN_COOKIE_SECURE "__Secure-" SESSION_LOGIN_COOKIE
/* a Set-Cookie line that removes a cookie */
#define SESSION_CLEAR_MAX	(192 + MOUNT_MAX)
#define SESSION_LOGIN_MAX_AGE	900	/* seconds to fill in the form */
#define SESSION_SID_LEN		22	/* base64url of 16 random bytes */
#define SESSION_CSRF_LEN	43	/* base64url of a 32-byte MAC */
#define SESSION_MAX_COOKIE	3900
#define SESSION_MAX_TOKEN	2048	/* a longer JWT does not fit a cookie */

struct session {
	char			 sid[SESSION_SID_LEN + 1];
	struct jwt_identity	 id;	/* sub may be NULL */
	char			*token;	/* the JWT it was made from (wiped) */
};

/*
 * The session cookie's name: with the __Host- prefix over HTTPS at the
 * root, __Secure- over HTTPS below a mount point.  mount is the mount
 * point ("" at the root) here and below.
 */
const char *session_cookie_name(int https, const char *mount);
/*
 * Seals id and the token it came from into a new session.  Returns the
 * malloc'd Set-Cookie header line ("Set-Cookie: ...\r\n") and fills sid,
 * or NULL (also when the token is over SESSION_MAX_TOKEN).
 */
char	*session_issue(const struct keyring *, const struct jwt_identity *id,
	    const char *token, time_t now, int https, const char *mount,
	    char sid[SESSION_SID_LEN + 1]);
/* The Set-Cookie line that removes the session cookie, into out. */
void	 session_clear_header(int https, const char *mount,
	    char out[SESSION_CLEAR_MAX]);
/*
 * Opens a cookie value.  0 and *s filled (free with session_free), or -1
 * when it does not authenticate, is malformed or has expired.
 */
int	 session_open(const struct keyring *, const char *cookie, size_t len,
	    time_t now, struct session *s);
void	 session_free(struct session *);
/* The CSRF token of a session. */
int	 session_csrf(const struct keyring *, const char *sid,
	    char out[SESSION_CSRF_LEN + 1]);
/* 1 when given is the session's CSRF token (constant time). */
int	 session_csrf_ok(const struct keyring *, const char *sid,
	    const char *given);
/*
 * Finds cookie `name` in a Cookie header; returns a pointer into the
 * header and its length, or NULL.
 */
const char *session_cookie_find(const char *header, const char *name,
	    size_t *len);

/*
 * The sign-in form's pre-session CSRF token: a fresh nonce in a cookie
 * that lives SESSION_LOGIN_MAX_AGE seconds, its MAC into csrf for the
 * form's hidden field.  Returns the malloc'd Set-Cookie line, or NULL.
 */
char	*session_login_issue(const struct keyring *, int https,
	    const char *mount, char csrf[SESSION_CSRF_LEN + 1]);
/*
 * 1 when the Cookie header (may be NULL) holds a sign-in nonce whose MAC
 * is given (constant time), 0 otherwise.
 */
int	 session_login_ok(const struct keyring *, const char *cookie_header,
	    int https, const char *mount, const char *given);
/* The Set-Cookie line that removes the sign-in nonce, into out. */
void	 session_login_clear_header(int https, const char *mount,
	    char out[SESSION_CLEAR_MAX]);

enum session_origin {
	SO_SAME = 0,	/* the request's own origin */
	SO_FOREIGN,	/* another site, or not understood */
	SO_ABSENT,	/* neither Origin nor Referer */
	SO__MAX
};

/*
 * Where a post comes from: Origin when sent, else the origin of Referer,
 * compared with the request's own (http or https by the server's HTTPS
 * flag, host and port from the Host header; default ports 80 and 443;
 * host case-insensitive).  Origin "null" counts as absent: browsers send
 * it for our own posts, as the pages carry Referrer-Policy: no-referrer.
 * Any argument may be NULL.
 */
enum session_origin session_origin_check(const char *origin,
	    const char *referer, int https, const char *host);

#endif
