#include "cs_build.h"

#include <stdlib.h>
#include <string.h>

#include "credset.h"
#include "util.h"

void
credset_init(struct credset *cs)
{
	memset(cs, 0, sizeof(*cs));
}

int
credset_add(struct credset *cs, const char *name, const char *value,
    size_t len)
{
	char *n, *v;

	if (cs->n >= CREDSET_MAX || len > CREDSET_VALUE_MAX)
		return -1;
	if ((n = strdup(name)) == NULL)
		return -1;
	if ((v = malloc(len + 1)) == NULL) {
		free(n);
		return -1;
	}
	memcpy(v, value, len);
	v[len] = '\0';
	cs->f[cs->n].name = n;
	cs->f[cs->n].value = v;
	cs->f[cs->n].len = len;
	cs->n++;
	return 0;
}

const char *
credset_get(const struct credset *cs, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (strcmp(cs->f[i].name, name) == 0) {
			if (len != NULL)
				*len = cs->f[i].len;
			return cs->f[i].value;
		}
	return NULL;
}

void
credset_free(struct credset *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++) {
		free(cs->f[i].name);
		secure_free(cs->f[i].value, cs->f[i].len);
	}
	memset(cs, 0, sizeof(*cs));
}

unsigned char *
credset_serialize(const struct credset *cs, size_t *len)
{
	unsigned char	*p;
	size_t		 total = 0, i, o = 0, nl;

	for (i = 0; i < cs->n; i++)
		total += 4 + strlen(cs->f[i].name) + cs->f[i].len;
	if ((p = malloc(total ? total : 1)) == NULL)
		return NULL;
	for (i = 0; i < cs->n; i++) {
		nl = strlen(cs->f[i].name);
		p[o++] = (unsigned char)(nl >> 8);
		p[o++] = (unsigned char)nl;
		memcpy(p + o, cs->f[i].name, nl);
		o += nl;
		p[o++] = (unsigned char)(cs->f[i].len >> 8);
		p[o++] = (unsigned char)cs->f[i].len;
		memcpy(p + o, cs->f[i].value, cs->f[i].len);
		o += cs->f[i].len;
	}
	*len = total;
	return p;
}

int
credset_deserialize(const unsigned char *p, size_t len, struct credset *cs)
{
	size_t	 o = 0, nl, vl;
	char	 name[256];

	credset_init(cs);
	while (o < len) {
		if (len - o < 2)
			goto bad;
		nl = (size_t)p[o] << 8 | p[o + 1];
		o += 2;
		if (nl == 0 || nl >= sizeof(name) || len - o < nl + 2)
			goto bad;
		memcpy(name, p + o, nl);
		name[nl] = '\0';
		if (memchr(name, '\0', nl) != NULL)
			goto bad;
		o += nl;
		vl = (size_t)p[o] << 8 | p[o + 1];
		o += 2;
		if (len - o < vl || credset_add(cs, name,
		    (const char *)p + o, vl) == -1)
			goto bad;
		o += vl;
	}
	return 0;
bad:
	credset_free(cs);
	return -1;
}
