#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "jsonx.h"
#include "session.h"
#include "util.h"

static const char box_label[] = "session-v1";
static const char csrf_label[] = "csrf-v1";

/* IMF-fixdate for the cookie's Expires (RFC 7231 7.1.1.1). */
static void
http_date(time_t t, char out[40])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

char *
session_issue(const struct keyring *kr, const struct jwt_identity *id,
    time_t now, int https, char sid[SESSION_SID_LEN + 1])
{
	struct json_object	*o;
	unsigned char		 rnd[16];
	const char		*pt;
	char			*box, *sid64, *line = NULL, date[40];
	size_t			 n;

	if (id->exp <= now || crypto_random(rnd, sizeof(rnd)) == -1 ||
	    (sid64 = b64url_encode(rnd, sizeof(rnd))) == NULL)
		return NULL;
	snprintf(sid, SESSION_SID_LEN + 1, "%s", sid64);
	free(sid64);
	o = json_object_new_object();
	json_object_object_add(o, "sid", json_object_new_string(sid));
	json_object_object_add(o, "sub",
	    id->sub ? json_object_new_string(id->sub) : NULL);
	json_object_object_add(o, "tenant", json_object_new_string(id->tenant));
	json_object_object_add(o, "admin", json_object_new_boolean(id->is_admin));
	json_object_object_add(o, "exp", json_object_new_int64(id->exp));
	pt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	box = crypto_box_seal(kr, box_label, pt, strlen(pt));
	json_object_put(o);
	if (box == NULL)
		return NULL;
	if (strlen(box) > SESSION_MAX_COOKIE) {
		free(box);
		return NULL;
	}
	http_date(id->exp, date);
	n = strlen(box) + 256;
	if ((line = malloc(n)) != NULL)
		snprintf(line, n, "Set-Cookie: " SESSION_COOKIE "=%s; Path=/; "
		    "HttpOnly; SameSite=Strict; Max-Age=%lld; Expires=%s%s\r\n",
		    box, (long long)(id->exp - now), date,
		    https ? "; Secure" : "");
	free(box);
	return line;
}

const char *
session_clear_header(int https)
{
	return https ?
	    "Set-Cookie: " SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; "
	    "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure\r\n" :
	    "Set-Cookie: " SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; "
	    "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT\r\n";
}

void
session_free(struct session *s)
{
	jwt_identity_free(&s->id);
	memset(s, 0, sizeof(*s));
}

int
session_open(const struct keyring *kr, const char *cookie, size_t len,
    time_t now, struct session *s)
{
	struct json_object	*o;
	unsigned char		*pt;
	const char		*sid, *tenant, *sub, *jerr;
	struct json_object	*adm, *exp;
	size_t			 n;

	memset(s, 0, sizeof(*s));
	if (len == 0 || len > SESSION_MAX_COOKIE)
		return -1;
	if ((pt = crypto_box_open(kr, box_label, cookie, len, &n)) == NULL)
		return -1;
	o = jsonx_parse((const char *)pt, n, 4, 0, &jerr);
	secure_free(pt, n + 1);
	if (o == NULL)
		return -1;
	sid = jsonx_get_str(o, "sid");
	tenant = jsonx_get_str(o, "tenant");
	sub = jsonx_get_str(o, "sub");
	adm = jsonx_get(o, "admin", json_type_boolean);
	exp = jsonx_get(o, "exp", json_type_int);
	if (sid == NULL || strlen(sid) != SESSION_SID_LEN || tenant == NULL ||
	    adm == NULL || exp == NULL || json_object_get_int64(exp) <= now) {
		json_object_put(o);
		return -1;
	}
	memcpy(s->sid, sid, SESSION_SID_LEN + 1);
	s->id.tenant = strdup(tenant);
	s->id.sub = sub ? strdup(sub) : NULL;
	s->id.is_admin = json_object_get_boolean(adm);
	s->id.exp = (time_t)json_object_get_int64(exp);
	json_object_put(o);
	if (s->id.tenant == NULL) {
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
