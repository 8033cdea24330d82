/*
 * catalog_lazy: reading the catalog file, and the indexed catalog of a
 * CGI process.  A CGI request uses at most one provider, yet parsing
 * and checking the whole file was most of its start-up.  When the very
 * same text is known to pass every check of catalog.c (catcache.c keeps
 * that knowledge), catalog_index only finds where each provider's object
 * is and what its id says, and a provider is parsed and checked, by the
 * same code as a full load, when a request first asks for it.
 */
#include "cs_build.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "catalog_int.h"
#include "jsonx.h"
#include "util.h"

/* Where one provider's object is in the text, and its id when plain. */
struct cat_span {
	size_t	 off;
	size_t	 len;
	size_t	 idoff;
	size_t	 idlen;		/* 0: written with escapes, known once loaded */
};

enum span_state {
	SPAN_INDEXED = 0,
	SPAN_LOADED,
	SPAN_FAILED		/* not loadable after all (memory) */
};

struct cat_lazy {
	char		*text;
	size_t		 len;
	char		*name;
	int		 flags;
	struct cat_span	*span;		/* one per provider */
	unsigned char	*state;		/* enum span_state, one per provider */
};

char *
catalog_read(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat	 sb;
	char		*b = NULL, *nb;
	size_t		 cap = 0, n = 0;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path, errstr(errno));
		return NULL;
	}
	/* a regular file is read in one go, and one more read sees its end */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 0 &&
	    sb.st_size <= CATALOG_MAX_BYTES)
		cap = (size_t)sb.st_size + 2;
	for (;;) {
		if (b == NULL || n + 1 >= cap) {
			if (b != NULL || cap == 0)
				cap = cap < 65536 ? 65536 : cap * 2;
			if (cap > (size_t)CATALOG_MAX_BYTES + 2)
				cap = (size_t)CATALOG_MAX_BYTES + 2;
			if ((nb = realloc(b, cap)) == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			b = nb;
		}
		if ((r = read(fd, b + n, cap - n - 1)) == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: read error", path);
			goto fail;
		}
		if ((n += (size_t)r) > CATALOG_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %d bytes", path,
			    CATALOG_MAX_BYTES);
			goto fail;
		}
	}
	(void)close(fd);
	b[n] = '\0';
	*len = n;
	return b;
fail:
	(void)close(fd);
	free(b);
	return NULL;
}

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* s[*i] is '"': past the closing quote; *esc 1 when it holds a '\\'. */
static int
skip_str(const char *s, size_t n, size_t *i, int *esc)
{
	const char	*q;
	size_t		 j = *i + 1;

	/* the usual string has no escape: its end is the next quote */
	if (j < n && (q = memchr(s + j, '"', n - j)) != NULL &&
	    memchr(s + j, '\\', (size_t)(q - (s + j))) == NULL) {
		*esc = 0;
		*i = (size_t)(q - s) + 1;
		return 0;
	}
	*esc = 1;
	while (j < n && s[j] != '"')
		j += s[j] == '\\' ? 2 : 1;
	if (j >= n)
		return -1;
	*i = j + 1;
	return 0;
}

/* Past one JSON value starting at s[*i]: 0, or -1 when it is not one. */
static int
skip_value(const char *s, size_t n, size_t *i)
{
	size_t	j = *i, depth = 0;
	int	esc;

	if (j >= n)
		return -1;
	if (s[j] == '"')
		return skip_str(s, n, i, &esc);
	if (s[j] != '{' && s[j] != '[') {
		while (j < n && strchr(",]} \t\r\n", s[j]) == NULL)
			j++;
		if (j == *i)
			return -1;
		*i = j;
		return 0;
	}
	do {
		if (s[j] == '"') {
			if (skip_str(s, n, &j, &esc) == -1)
				return -1;
			continue;
		}
		if (s[j] == '{' || s[j] == '[')
			depth++;
		else if (s[j] == '}' || s[j] == ']')
			depth--;
		j++;
		if (depth > 0 && j < n)		/* to the next that matters */
			j += strcspn(s + j, "\"{}[]");
	} while (depth > 0 && j < n);
	if (depth > 0)
		return -1;
	*i = j;
	return 0;
}

/*
 * After a member of an object or an element of an array at s[*j]: past
 * a ',' that a member follows, or at close.  0, or -1 when neither (a
 * ',' right before close is -1 too).
 */
static int
skip_sep(const char *s, size_t n, size_t *j, char close)
{
	size_t k = skip_ws(s, n, *j);

	if (k < n && s[k] == ',') {
		if ((k = skip_ws(s, n, k + 1)) < n && s[k] == close)
			return -1;
	} else if (k >= n || s[k] != close)
		return -1;
	*j = k;
	return 0;
}

/*
 * The provider object at s[*i] into *sp (its id too when the key and the
 * value are written without escapes); past it.  0 or -1.
 */
static int
index_provider(const char *s, size_t n, size_t *i, struct cat_span *sp)
{
	size_t	j = *i, k, v;
	int	kesc, vesc;

	memset(sp, 0, sizeof(*sp));
	sp->off = j;
	if (j >= n || s[j] != '{')
		return -1;
	j = skip_ws(s, n, j + 1);
	while (j < n && s[j] != '}') {
		k = j;
		if (s[j] != '"' || skip_str(s, n, &j, &kesc) == -1)
			return -1;
		kesc = kesc || j - k != 4 || memcmp(s + k, "\"id\"", 4) != 0;
		j = skip_ws(s, n, j);
		if (j >= n || s[j] != ':')
			return -1;
		v = j = skip_ws(s, n, j + 1);
		if (j < n && s[j] == '"') {
			if (skip_str(s, n, &j, &vesc) == -1)
				return -1;
			if (!kesc && !vesc) {
				sp->idoff = v + 1;
				sp->idlen = j - v - 2;
			}
		} else if (skip_value(s, n, &j) == -1)
			return -1;
		if (skip_sep(s, n, &j, '}') == -1)
			return -1;
	}
	if (j >= n)
		return -1;
	*i = j + 1;
	sp->len = *i - sp->off;
	return 0;
}

/* {"providers": [ {...}, ... ]} into z->span; the count, or -1. */
static long
index_text(struct cat_lazy *z)
{
	const char	*s = z->text;
	size_t		 n = z->len, i, cap = 0, np = 0;
	struct cat_span	*nsp;

	i = skip_ws(s, n, 0);
	if (i >= n || s[i] != '{')
		return -1;
	i = skip_ws(s, n, i + 1);
	if (n - i < 11 || memcmp(s + i, "\"providers\"", 11) != 0)
		return -1;
	i = skip_ws(s, n, i + 11);
	if (i >= n || s[i] != ':')
		return -1;
	i = skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '[')
		return -1;
	i = skip_ws(s, n, i + 1);
	while (i < n && s[i] != ']') {
		if (np == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nsp = realloc(z->span, cap * sizeof(*nsp))) == NULL)
				return -1;
			z->span = nsp;
		}
		if (index_provider(s, n, &i, &z->span[np++]) == -1 ||
		    skip_sep(s, n, &i, ']') == -1)
			return -1;
	}
	if (i >= n)
		return -1;
	i = skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '}' || skip_ws(s, n, i + 1) != n)
		return -1;
	return (long)np;
}

void
cat_lazy_free(struct cat_lazy *z)
{
	if (z == NULL)
		return;
	free(z->text);
	free(z->name);
	free(z->span);
	free(z->state);
	free(z);
}

struct catalog *
catalog_index(char *text, size_t len, const char *name, int flags)
{
	struct catalog	*c;
	struct cat_lazy	*z;
	long		 np;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((z = c->lazy = calloc(1, sizeof(*z))) == NULL ||
	    (z->name = strdup(name)) == NULL)
		goto fail;
	z->text = text;		/* the scans below stop at its NUL too */
	z->len = len;
	z->flags = flags;
	if ((np = index_text(z)) < 0)
		goto fail;
	c->nproviders = (size_t)np;
	if (np > 0 &&
	    ((c->providers = calloc((size_t)np, sizeof(*c->providers))) == NULL ||
	    (z->state = calloc((size_t)np, 1)) == NULL))
		goto fail;
	return c;
fail:
	if (z != NULL)
		z->text = NULL;		/* still the caller's */
	catalog_free(c);
	return NULL;
}

/* Provider i of an indexed catalog, loaded now if it was not; or NULL. */
static const struct cat_provider *
lazy_load(struct catalog *c, size_t i)
{
	struct cat_lazy		*z = c->lazy;
	struct cat_span		*sp = &z->span[i];
	struct cat_provider	*p = &c->providers[i];
	struct json_object	*po;
	const char		*jerr;
	struct cctx		 cc;
	char			 err[256];

	if (z->state[i] != SPAN_INDEXED)
		return z->state[i] == SPAN_LOADED ? p : NULL;
	memset(&cc, 0, sizeof(cc));
	cc.name = z->name;
	cc.err = err;
	cc.errlen = sizeof(err);
	cc.idx = i;
	cc.flags = z->flags;
	/* the object alone: its depth inside the file is two */
	po = jsonx_parse(z->text + sp->off, sp->len, 30, 0, &jerr);
	if (po == NULL || cat_load_provider(&cc, p, po) == -1 ||
	    (sp->idlen > 0 && (strlen(p->id) != sp->idlen ||
	    memcmp(p->id, z->text + sp->idoff, sp->idlen) != 0))) {
		json_object_put(po);
		cat_provider_free(p);
		memset(p, 0, sizeof(*p));
		z->state[i] = SPAN_FAILED;
		return NULL;
	}
	json_object_put(po);
	z->state[i] = SPAN_LOADED;
	return p;
}

const struct cat_provider *
cat_lazy_find(const struct catalog *cc, const char *id)
{
	/* loading fills the catalog in: one thread (catalog_index) */
	struct catalog			*c = (struct catalog *)(uintptr_t)cc;
	struct cat_lazy			*z = c->lazy;
	const struct cat_provider	*p;
	size_t				 i, idlen = strlen(id);

	for (i = 0; i < c->nproviders; i++) {
		if (z->state[i] == SPAN_LOADED) {
			if (strcmp(c->providers[i].id, id) == 0)
				return &c->providers[i];
			continue;
		}
		if (z->state[i] == SPAN_FAILED)
			continue;
		if (z->span[i].idlen > 0) {
			if (z->span[i].idlen == idlen &&
			    memcmp(z->text + z->span[i].idoff, id, idlen) == 0)
				return lazy_load(c, i);
			continue;
		}
		if ((p = lazy_load(c, i)) != NULL && strcmp(p->id, id) == 0)
			return p;
	}
	return NULL;
}

int
catalog_load_all(struct catalog *c)
{
	size_t i;

	if (c->lazy == NULL)
		return 0;
	for (i = 0; i < c->nproviders; i++)
		if (lazy_load(c, i) == NULL)
			return -1;
	return 0;
}
