#include "cs_build.h"

#include <stdio.h>
#include <string.h>

#include "router.h"

#define M(x)	(1u << (x))
#define SEGS	8

/*
 * The route table: one row per route, in match order (literal segments
 * before parameters).  "{p}" is the provider, "{c}" the credential id.
 */
static const struct {
	enum route	 route;
	const char	*pattern[SEGS];
	unsigned	 methods;
} routes[RT__MAX] = {
	{ RT_HEALTHZ, { "healthz" }, M(HM_GET) | M(HM_HEAD) },
	{ RT_CATALOG, { "v1", "integrations", "catalog" }, M(HM_GET) | M(HM_HEAD) },
	{ RT_CATALOG_ONE, { "v1", "integrations", "catalog", "{p}" },
	    M(HM_GET) | M(HM_HEAD) },
	{ RT_CREDENTIALS, { "v1", "integrations", "{p}", "credentials" },
	    M(HM_GET) | M(HM_HEAD) | M(HM_POST) },
	{ RT_CREDENTIAL, { "v1", "integrations", "{p}", "credentials", "{c}" },
	    M(HM_GET) | M(HM_HEAD) | M(HM_POST) | M(HM_PUT) | M(HM_PATCH) |
	    M(HM_DELETE) },
	{ RT_CRED_VALIDATE, { "v1", "integrations", "{p}", "credentials", "{c}",
	    "validate" }, M(HM_POST) },
	{ RT_CONNECT, { "v1", "integrations", "{p}", "connect" },
	    M(HM_GET) | M(HM_HEAD) | M(HM_POST) | M(HM_DELETE) },
	{ RT_ADMIN_INDEX, { "admin" }, M(HM_GET) | M(HM_HEAD) },
	{ RT_ADMIN_STYLE, { "admin", "style.css" }, M(HM_GET) | M(HM_HEAD) },
	{ RT_ADMIN_LOGIN, { "admin", "login" }, M(HM_GET) | M(HM_HEAD) | M(HM_POST) },
	{ RT_ADMIN_LOGOUT, { "admin", "logout" }, M(HM_POST) },
	{ RT_ADMIN_PROVIDER, { "admin", "integrations", "{p}" },
	    M(HM_GET) | M(HM_HEAD) },
	{ RT_ADMIN_CREDENTIAL, { "admin", "integrations", "{p}", "credentials",
	    "{c}" }, M(HM_GET) | M(HM_HEAD) },
};

static int
hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one segment; -1 when malformed or unsafe. */
static int
decode_seg(const char *s, size_t n, char *out, size_t outn)
{
	size_t	i, o = 0;
	int	h, l;
	unsigned char c;

	for (i = 0; i < n; i++) {
		if (o + 1 >= outn)
			return -1;
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n ||
			    (h = hexv(s[i + 1])) < 0 || (l = hexv(s[i + 2])) < 0)
				return -1;
			c = (unsigned char)(h << 4 | l);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return -1;
	return 0;
}

enum route_rc
router_match(enum http_method m, const char *path, struct route_match *rm)
{
	char		 seg[SEGS][ROUTE_PARAM_MAX];
	int		 nseg = 0, ok[SEGS], i, r, k;
	const char	*p, *e;
	unsigned	 allowed = 0;
	int		 matched = -1;

	memset(rm, 0, sizeof(*rm));
	if (path == NULL || path[0] != '/' || strlen(path) > HTTP_PATH_MAX)
		return ROUTE_NOT_FOUND;
	p = path + 1;
	/* a single trailing slash is tolerated */
	while (*p != '\0') {
		e = p + strcspn(p, "/");
		if (nseg >= SEGS)
			return ROUTE_NOT_FOUND;
		if (e == p)
			return ROUTE_NOT_FOUND;	/* empty segment: "//" */
		ok[nseg] = decode_seg(p, (size_t)(e - p), seg[nseg],
		    sizeof(seg[nseg])) == 0;
		nseg++;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	for (r = 0; r < RT__MAX; r++) {
		for (k = 0; k < SEGS && routes[r].pattern[k] != NULL; k++)
			;
		if (k != nseg)
			continue;
		for (i = 0; i < nseg; i++) {
			const char *pat = routes[r].pattern[i];

			if (!ok[i])
				break;
			if (pat[0] == '{')
				continue;
			if (strcmp(pat, seg[i]) != 0)
				break;
		}
		if (i != nseg)
			continue;
		/* literal routes win over parameter routes at the same depth */
		matched = r;
		break;
	}
	if (matched < 0)
		return ROUTE_NOT_FOUND;
	rm->route = routes[matched].route;
	for (i = 0; i < nseg; i++) {
		if (strcmp(routes[matched].pattern[i], "{p}") == 0)
			memcpy(rm->provider, seg[i], strlen(seg[i]) + 1);
		else if (strcmp(routes[matched].pattern[i], "{c}") == 0)
			memcpy(rm->cred_id, seg[i], strlen(seg[i]) + 1);
	}
	allowed = routes[matched].methods;
	rm->allowed = allowed;
	if (!(allowed & M(m)))
		return ROUTE_METHOD;
	return ROUTE_OK;
}

void
router_allow_header(unsigned allowed, char *out, size_t n)
{
	size_t	 o = 0;
	int	 i;

	out[0] = '\0';
	for (i = 0; i < HM_OTHER; i++)
		if (allowed & M(i))
			o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s",
			    o ? ", " : "", http_method_name((enum http_method)i));
}
