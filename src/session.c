/*
 * session: the admin page's cookies, CSRF tokens and Origin check
 * (session.h).  Nothing here touches storage or HTTP state.
 */
#include "cs_build.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "jsonx.h"
#include "session.h"
#include "util.h"

static const char box_label[] = "session-v2";
static const char csrf_label[] = "csrf-v1";
static const char login_label[] = "login-csrf-v1";

const char *
session_cookie_name(int https, const char *mount)
{
	if (!https)
		return SESSION_COOKIE;
	return *mount != '\0' ? SESSION_COOKIE_SECURE : SESSION_COOKIE_HOST;
}

/* A cookie's Path: the mount point, "/" at the root. */
static const char *
cookie_path(const char *mount)
{
	return *mount != '\0' ? mount : "/";
}

/* The Set-Cookie line that removes cookie name, into out. */
static void
clear_line(const char *name, int https, const char *mount,
    char out[SESSION_CLEAR_MAX])
{
	snprintf(out, SESSION_CLEAR_MAX, "Set-Cookie: %s=; Path=%s; HttpOnly; "
	    "SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
	    "%s\r\n", name, cookie_path(mount), https ? "; Secure" : "");
}

/* IMF-fixdate for the cookie's Expires (RFC 7231 7.1.1.1). */
static void
http_date(time_t t, char out[40])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The session's JSON, sealed: base64url text (malloc'd) or NULL. */
static char *
seal(const struct keyring *kr, const struct jwt_identity *id,
    const char *token, const char *sid)
{
	struct json_object	*o;
	const char		*pt;
	char			*box;

	o = json_object_new_object();
	json_object_object_add(o, "sid", json_object_new_string(sid));
	json_object_object_add(o, "sub",
	    id->sub ? json_object_new_string(id->sub) : NULL);
	json_object_object_add(o, "tenant", json_object_new_string(id->tenant));
	json_object_object_add(o, "admin", json_object_new_boolean(id->is_admin));
	json_object_object_add(o, "exp", json_object_new_int64(id->exp));
	json_object_object_add(o, "tok", json_object_new_string(token));
	pt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	box = crypto_box_seal(kr, box_label, pt, strlen(pt));
	/* the serialisation is the object's buffer: wipe it too */
	secure_wipe((void *)(uintptr_t)pt, strlen(pt));
	jsonx_put_wipe(o);
	return box;
}

char *
session_issue(const struct keyring *kr, const struct jwt_identity *id,
    const char *token, time_t now, int https, const char *mount,
    char sid[SESSION_SID_LEN + 1])
{
	unsigned char	 rnd[16];
	char		*box, *sid64, *line = NULL, date[40];
	size_t		 n;

	if (id->exp <= now || token == NULL ||
	    strlen(token) > SESSION_MAX_TOKEN ||
	    crypto_random(rnd, sizeof(rnd)) == -1 ||
	    (sid64 = b64url_encode(rnd, sizeof(rnd))) == NULL)
		return NULL;
	snprintf(sid, SESSION_SID_LEN + 1, "%s", sid64);
	free(sid64);
	if ((box = seal(kr, id, token, sid)) == NULL)
		return NULL;
	if (strlen(box) > SESSION_MAX_COOKIE) {
		free(box);
		return NULL;
	}
	http_date(id->exp, date);
	n = strlen(box) + strlen(mount) + 256;
	if ((line = malloc(n)) != NULL)
		snprintf(line, n, "Set-Cookie: %s=%s; Path=%s; "
		    "HttpOnly; SameSite=Strict; Max-Age=%lld; Expires=%s%s\r\n",
		    session_cookie_name(https, mount), box, cookie_path(mount),
		    (long long)(id->exp - now), date, https ? "; Secure" : "");
	free(box);
	return line;
}

void
session_clear_header(int https, const char *mount,
    char out[SESSION_CLEAR_MAX])
{
	clear_line(session_cookie_name(https, mount), https, mount, out);
}

void
session_free(struct session *s)
{
	jwt_identity_free(&s->id);
	secure_free_str(s->token);
	memset(s, 0, sizeof(*s));
}

int
session_open(const struct keyring *kr, const char *cookie, size_t len,
    time_t now, struct session *s)
{
	struct json_object	*o;
	unsigned char		*pt;
	const char		*sid, *tenant, *sub, *tok, *jerr;
	struct json_object	*adm, *exp;
	size_t			 n;

	memset(s, 0, sizeof(*s));
	if (len == 0 || len > SESSION_MAX_COOKIE)
		return -1;
	if ((pt = crypto_box_open(kr, box_label, cookie, len, &n)) == NULL)
		return -1;
	o = jsonx_parse((const char *)pt, n, 4, 1, &jerr);
	secure_free(pt, n + 1);
	if (o == NULL)
		return -1;
	sid = jsonx_get_str(o, "sid");
	tenant = jsonx_get_str(o, "tenant");
	sub = jsonx_get_str(o, "sub");
	tok = jsonx_get_str(o, "tok");
	adm = jsonx_get(o, "admin", json_type_boolean);
	exp = jsonx_get(o, "exp", json_type_int);
	if (sid == NULL || strlen(sid) != SESSION_SID_LEN || tenant == NULL ||
	    tok == NULL || adm == NULL || exp == NULL ||
	    json_object_get_int64(exp) <= now) {
		jsonx_put_wipe(o);
		return -1;
	}
	memcpy(s->sid, sid, SESSION_SID_LEN + 1);
	s->id.tenant = strdup(tenant);
	s->id.sub = sub ? strdup(sub) : NULL;
	s->id.is_admin = json_object_get_boolean(adm);
	s->id.exp = (time_t)json_object_get_int64(exp);
	s->token = strdup(tok);
	jsonx_put_wipe(o);
	if (s->id.tenant == NULL || s->token == NULL) {
		session_free(s);
		return -1;
	}
	return 0;
}

int
session_csrf(const struct keyring *kr, const char *sid,
    char out[SESSION_CSRF_LEN + 1])
{
	unsigned char	 mac[CRYPTO_MAC_LEN];
	char		*b;

	if (crypto_mac(kr, csrf_label, sid, strlen(sid), mac) == -1 ||
	    (b = b64url_encode(mac, sizeof(mac))) == NULL)
		return -1;
	snprintf(out, SESSION_CSRF_LEN + 1, "%s", b);
	free(b);
	return 0;
}

int
session_csrf_ok(const struct keyring *kr, const char *sid, const char *given)
{
	char want[SESSION_CSRF_LEN + 1];

	if (given == NULL || strlen(given) != SESSION_CSRF_LEN ||
	    session_csrf(kr, sid, want) == -1)
		return 0;
	return ct_equal(want, given, SESSION_CSRF_LEN);
}

const char *
session_cookie_find(const char *h, const char *name, size_t *len)
{
	size_t		 nl = strlen(name), vl;
	const char	*p = h;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		vl = strcspn(p, ";");
		if (vl > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			*len = vl - nl - 1;
			while (*len > 0 && (p[nl + *len] == ' ' ||
			    p[nl + *len] == '\t'))
				(*len)--;
			return p + nl + 1;
		}
		p += vl;
	}
	return NULL;
}

static const char *
login_cookie_name(int https, const char *mount)
{
	if (!https)
		return SESSION_LOGIN_COOKIE;
	return *mount != '\0' ? SESSION_LOGIN_COOKIE_SECURE :
	    SESSION_LOGIN_COOKIE_HOST;
}

/* The MAC of a sign-in nonce, base64url into out. */
static int
login_mac(const struct keyring *kr, const char *nonce, size_t len,
    char out[SESSION_CSRF_LEN + 1])
{
	unsigned char	 mac[CRYPTO_MAC_LEN];
	char		*b;

	if (crypto_mac(kr, login_label, nonce, len, mac) == -1 ||
	    (b = b64url_encode(mac, sizeof(mac))) == NULL)
		return -1;
	snprintf(out, SESSION_CSRF_LEN + 1, "%s", b);
	free(b);
	return 0;
}

char *
session_login_issue(const struct keyring *kr, int https, const char *mount,
    char csrf[SESSION_CSRF_LEN + 1])
{
	unsigned char	 rnd[16];
	char		*nonce, *line = NULL;
	size_t		 n;

	if (crypto_random(rnd, sizeof(rnd)) == -1 ||
	    (nonce = b64url_encode(rnd, sizeof(rnd))) == NULL)
		return NULL;
	n = strlen(nonce) + strlen(mount) + 160;
	if (login_mac(kr, nonce, strlen(nonce), csrf) == 0 &&
	    (line = malloc(n)) != NULL)
		snprintf(line, n, "Set-Cookie: %s=%s; Path=%s; HttpOnly; "
		    "SameSite=Strict; Max-Age=%d%s\r\n",
		    login_cookie_name(https, mount), nonce, cookie_path(mount),
		    SESSION_LOGIN_MAX_AGE, https ? "; Secure" : "");
	free(nonce);
	return line;
}

int
session_login_ok(const struct keyring *kr, const char *header, int https,
    const char *mount, const char *given)
{
	char		 want[SESSION_CSRF_LEN + 1];
	const char	*v;
	size_t		 len;

	if (header == NULL || given == NULL ||
	    strlen(given) != SESSION_CSRF_LEN ||
	    (v = session_cookie_find(header, login_cookie_name(https, mount),
	    &len)) == NULL || len != SESSION_SID_LEN ||
	    login_mac(kr, v, len, want) == -1)
		return 0;
	return ct_equal(want, given, SESSION_CSRF_LEN);
}

void
session_login_clear_header(int https, const char *mount,
    char out[SESSION_CLEAR_MAX])
{
	clear_line(login_cookie_name(https, mount), https, mount, out);
}

/* An origin's parts: host (not NUL-terminated) and port. */
struct origin {
	const char	*host;
	size_t		 hostlen;
	long		 port;
};

/*
 * Parses an authority "host[:port]" of exactly len bytes (host a name,
 * an IPv4 address or a bracketed IPv6 address; no user info).  0 or -1.
 */
static int
parse_authority(const char *a, size_t len, int https, struct origin *o)
{
	const char	*colon = NULL, *end = a + len, *p;
	char		*e;

	if (len == 0 || memchr(a, '@', len) != NULL)
		return -1;
	if (*a == '[') {
		if ((p = memchr(a, ']', len)) == NULL)
			return -1;
		if (p + 1 < end && p[1] != ':')
			return -1;
		colon = p + 1 < end ? p + 1 : NULL;
	} else
		colon = memchr(a, ':', len);
	o->host = a;
	o->hostlen = colon != NULL ? (size_t)(colon - a) : len;
	o->port = https ? 443 : 80;
	if (o->hostlen == 0)
		return -1;
	for (p = a; p < a + o->hostlen; p++)
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == '\\')
			return -1;
	if (colon == NULL)
		return 0;
	if (colon + 1 == end || end - colon > 6 ||
	    !isdigit((unsigned char)colon[1]))
		return -1;
	o->port = strtol(colon + 1, &e, 10);
	if (e != end || o->port < 1 || o->port > 65535)
		return -1;
	return 0;
}

/*
 * Parses "scheme://authority" (whole: an Origin) or its prefix up to the
 * path, query or fragment (a Referer).  0 or -1.
 */
static int
parse_origin(const char *s, int whole, int *https, struct origin *o)
{
	size_t len;

	if (strncasecmp(s, "https://", 8) == 0) {
		*https = 1;
		s += 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		*https = 0;
		s += 7;
	} else
		return -1;
	len = strcspn(s, "/?#");
	if (whole && s[len] != '\0')
		return -1;
	return parse_authority(s, len, *https, o);
}

enum session_origin
session_origin_check(const char *origin, const char *referer, int https,
    const char *host)
{
	struct origin	 mine, theirs;
	const char	*from = origin;
	int		 their_https;

	/*
	 * "null" is an opaque origin: what browsers send for our own forms,
	 * whose pages carry Referrer-Policy: no-referrer (Fetch, "serializing
	 * a request origin"), as well as from sandboxed frames.  It tells
	 * nothing, so the Referer or else the CSRF tokens decide.
	 */
	if (from != NULL && strcmp(from, "null") == 0)
		from = NULL;
	if (from == NULL && (referer == NULL || *referer == '\0'))
		return SO_ABSENT;
	if (host == NULL ||
	    parse_authority(host, strlen(host), https, &mine) == -1)
		return SO_FOREIGN;
	if (from == NULL)
		from = referer;
	if (parse_origin(from, from != referer, &their_https, &theirs) == -1 ||
	    their_https != https || theirs.port != mine.port ||
	    theirs.hostlen != mine.hostlen ||
	    strncasecmp(theirs.host, mine.host, mine.hostlen) != 0)
		return SO_FOREIGN;
	return SO_SAME;
}
