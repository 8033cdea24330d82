/*
 * session: the admin page's sign-in (SPEC section 6).  A pasted JWT is
 * verified once; the identity it carries (subject, tenant, admin role,
 * expiry) is sealed into an HttpOnly, SameSite=Strict cookie that expires
 * with the token.  Every state-changing form carries a CSRF token that is
 * a MAC of the session's random id.  Nothing is stored server-side.
 */
#ifndef CS_SESSION_H
#define CS_SESSION_H

#include <stddef.h>
#include <time.h>

#include "crypto.h"
#include "jwt.h"

#define SESSION_COOKIE		"cs_session"
#define SESSION_SID_LEN		22	/* base64url of 16 random bytes */
#define SESSION_CSRF_LEN	43	/* base64url of a 32-byte MAC */
#define SESSION_MAX_COOKIE	3072

struct session {
	char			 sid[SESSION_SID_LEN + 1];
	struct jwt_identity	 id;	/* sub may be NULL */
};

/*
 * Seals id into a new session.  Returns the malloc'd Set-Cookie header
 * line ("Set-Cookie: ...\r\n") and fills sid, or NULL.
 */
char	*session_issue(const struct keyring *, const struct jwt_identity *id,
	    time_t now, int https, char sid[SESSION_SID_LEN + 1]);
/* The Set-Cookie line that removes the session cookie (static). */
const char *session_clear_header(int https);
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

#endif
