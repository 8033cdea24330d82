/*
 * router: the matching engine (router.h).  The rows live with their
 * handlers, in api.c and adminpages.c.
 */
#include "cs_build.h"

#include <stdio.h>
#include <string.h>

#include "router.h"
#include "util.h"

#define M(x)	(1u << (x))

/* A request path cut into decoded segments. */
struct segs {
	char	 s[ROUTE_SEGS_MAX][ROUTE_PARAM_MAX];
	int	 ok[ROUTE_SEGS_MAX];	/* decoded and safe as a parameter */
	int	 n;
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

/*
 * Cuts path into segments; -1 when it cannot match any route (not
 * absolute, too long, too deep, or an empty segment).  A single trailing
 * slash is tolerated.
 */
static int
split_path(const char *path, struct segs *sg)
{
	const char	*p, *e;

	sg->n = 0;
	if (path == NULL || path[0] != '/' || strlen(path) > HTTP_PATH_MAX)
		return -1;
	p = path + 1;
	while (*p != '\0') {
		e = p + strcspn(p, "/");
		if (sg->n >= ROUTE_SEGS_MAX || e == p)
			return -1;	/* too deep, or "//" */
		sg->ok[sg->n] = decode_seg(p, (size_t)(e - p), sg->s[sg->n],
		    sizeof(sg->s[sg->n])) == 0;
		sg->n++;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	return 0;
}

/* 1 when row r has the segments of sg. */
static int
row_matches(const struct route_def *r, const struct segs *sg)
{
	int	 i, k;

	for (k = 0; k < ROUTE_SEGS_MAX && r->seg[k] != NULL; k++)
		;
	if (k != sg->n || (k > 0 && strcmp(r->seg[k - 1], "{*}") == 0))
		return 0;
	for (i = 0; i < sg->n; i++) {
		if (!sg->ok[i])
			return 0;
		if (r->seg[i][0] != '{' && strcmp(r->seg[i], sg->s[i]) != 0)
			return 0;
	}
	return 1;
}

/* The first row of tables that has the segments of sg, or NULL. */
static const struct route_def *
find_row(const struct route_table *const tables[], const struct segs *sg)
{
	size_t	 t, r;

	for (t = 0; tables[t] != NULL; t++)
		for (r = 0; r < tables[t]->n; r++)
			if (row_matches(&tables[t]->rows[r], sg))
				return &tables[t]->rows[r];
	return NULL;
}

/*
 * A "{*}" row: its fixed segments match the first segments of path and
 * the rest (after their slash, not empty) is taken raw.  Returns the
 * rest, or NULL.
 */
static const char *
rest_matches(const struct route_def *r, const char *path)
{
	char		 seg[ROUTE_PARAM_MAX];
	const char	*p, *e;
	int		 k, i;

	for (k = 0; k < ROUTE_SEGS_MAX && r->seg[k] != NULL; k++)
		;
	if (k == 0 || strcmp(r->seg[k - 1], "{*}") != 0 || path[0] != '/')
		return NULL;
	p = path + 1;
	for (i = 0; i < k - 1; i++) {
		e = p + strcspn(p, "/");
		if (*e != '/' || e == p || decode_seg(p, (size_t)(e - p), seg,
		    sizeof(seg)) == -1)
			return NULL;
		if (r->seg[i][0] != '{' && strcmp(r->seg[i], seg) != 0)
			return NULL;
		p = e + 1;
	}
	return *p != '\0' ? p : NULL;
}

/* The first "{*}" row of tables that takes path, its rest in *rest. */
static const struct route_def *
find_rest_row(const struct route_table *const tables[], const char *path,
    const char **rest)
{
	size_t	 t, r;

	if (path == NULL || strlen(path) > ROUTE_REST_MAX)
		return NULL;
	for (t = 0; tables[t] != NULL; t++)
		for (r = 0; r < tables[t]->n; r++)
			if ((*rest = rest_matches(&tables[t]->rows[r],
			    path)) != NULL)
				return &tables[t]->rows[r];
	return NULL;
}

/* The parameters of a "{*}" row's fixed segments (validated by the row). */
static void
rest_params(const struct route_def *def, const char *path,
    struct route_match *rm)
{
	const char	*p = path + 1, *e;
	int		 i;

	for (i = 0; i < ROUTE_SEGS_MAX && def->seg[i] != NULL &&
	    strcmp(def->seg[i], "{*}") != 0; i++) {
		e = p + strcspn(p, "/");
		if (strcmp(def->seg[i], "{p}") == 0)
			(void)decode_seg(p, (size_t)(e - p), rm->provider,
			    sizeof(rm->provider));
		else if (strcmp(def->seg[i], "{c}") == 0)
			(void)decode_seg(p, (size_t)(e - p), rm->cred_id,
			    sizeof(rm->cred_id));
		p = e + 1;
	}
}

enum route_rc
router_match(const struct route_table *const tables[], enum http_method m,
    const char *path, struct route_match *rm)
{
	struct segs		 sg;
	const struct route_def	*def;
	int			 i;

	memset(rm, 0, sizeof(*rm));
	if (split_path(path, &sg) == -1 || (def = find_row(tables, &sg)) == NULL) {
		sg.n = 0;
		if ((def = find_rest_row(tables, path, &rm->rest)) == NULL)
			return ROUTE_NOT_FOUND;
	}
	rm->def = def;
	if (rm->rest != NULL)
		rest_params(def, path, rm);
	for (i = 0; i < sg.n; i++) {
		if (strcmp(def->seg[i], "{p}") == 0)
			memcpy(rm->provider, sg.s[i], strlen(sg.s[i]) + 1);
		else if (strcmp(def->seg[i], "{c}") == 0)
			memcpy(rm->cred_id, sg.s[i], strlen(sg.s[i]) + 1);
	}
	for (i = 0; i < HM__MAX; i++)
		if (def->fn[i] != NULL)
			rm->allowed |= M(i);
	rm->flags = def->flags;
	if ((unsigned)m >= HM__MAX || def->fn[m] == NULL)
		return ROUTE_METHOD;
	rm->fn = def->fn[m];
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
