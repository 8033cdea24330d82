/*
 * router: the route table and the matcher (router.h).
 */
#include "cs_build.h"

#include <stdio.h>
#include <string.h>

#include "adminpages.h"
#include "api.h"
#include "router.h"
#include "util.h"

#define M(x)	(1u << (x))
#define SEGS	8

/* A GET handler answers HEAD too (http.c sends no body for HEAD). */
#define GET(f)		[HM_GET] = (f), [HM_HEAD] = (f)
#define POST(f)		[HM_POST] = (f)
#define PUT(f)		[HM_PUT] = (f)
#define PATCH(f)	[HM_PATCH] = (f)
#define DELETE(f)	[HM_DELETE] = (f)

/*
 * The route table: one row per route, in match order (literal segments
 * before parameters), with the handler of each method it allows; the
 * Allow header of a 405 is derived from it.  "{p}" is the provider, "{c}"
 * the credential id.  Adding a route is a row here and its handler.
 */
static const struct {
	enum route	 route;
	const char	*pattern[SEGS];
	route_fn	 fn[HM__MAX];
	unsigned	 flags;
} routes[RT__MAX] = {
	{ RT_HEALTHZ, { "healthz" }, { GET(api_healthz) }, ROUTE_ANY_STATE },
	{ RT_CATALOG, { "v1", "integrations", "catalog" },
	    { GET(api_catalog) }, 0 },
	{ RT_CATALOG_ONE, { "v1", "integrations", "catalog", "{p}" },
	    { GET(api_catalog_one) }, 0 },
	{ RT_CREDENTIALS, { "v1", "integrations", "{p}", "credentials" },
	    { GET(api_cred_list), POST(api_cred_create) }, 0 },
	{ RT_CREDENTIAL, { "v1", "integrations", "{p}", "credentials", "{c}" },
	    { GET(api_cred_get), POST(api_cred_form_post), PUT(api_cred_put),
	    PATCH(api_cred_patch), DELETE(api_cred_delete) }, 0 },
	{ RT_CRED_VALIDATE, { "v1", "integrations", "{p}", "credentials", "{c}",
	    "validate" }, { POST(api_cred_validate) }, 0 },
	{ RT_CONNECT, { "v1", "integrations", "{p}", "connect" },
	    { GET(api_conn_get), POST(api_conn_put), DELETE(api_conn_delete) },
	    0 },
	{ RT_ADMIN_INDEX, { "admin" }, { GET(adminpage_index) }, 0 },
	{ RT_ADMIN_STYLE, { "admin", "style.css" }, { GET(adminpage_style) },
	    0 },
	{ RT_ADMIN_LOGIN, { "admin", "login" },
	    { GET(adminpage_login_form), POST(adminpage_login) }, 0 },
	{ RT_ADMIN_LOGOUT, { "admin", "logout" }, { POST(adminpage_logout) },
	    0 },
	{ RT_ADMIN_PROVIDER, { "admin", "integrations", "{p}" },
	    { GET(adminpage_provider) }, 0 },
	{ RT_ADMIN_CREDENTIAL, { "admin", "integrations", "{p}", "credentials",
	    "{c}" }, { GET(adminpage_credential) }, 0 },
};

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
			    (h = hex_digit(s[i + 1])) < 0 || (l = hex_digit(s[i + 2])) < 0)
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
	for (i = 0; i < HM__MAX; i++)
		if (routes[matched].fn[i] != NULL)
			allowed |= M(i);
	rm->allowed = allowed;
	rm->flags = routes[matched].flags;
	if ((unsigned)m >= HM__MAX || routes[matched].fn[m] == NULL)
		return ROUTE_METHOD;
	rm->fn = routes[matched].fn[m];
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
