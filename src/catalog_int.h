/*
 * catalog_int: what the catalog's files (catalog.c, catalog_proxy.c)
 * share while loading: the error context and the strict readers.
 */
#ifndef CS_CATALOG_INT_H
#define CS_CATALOG_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include "catalog.h"

/* Error context while loading. */
struct cctx {
	const char	*name;
	char		*err;
	size_t		 errlen;
	size_t		 idx;
	const char	*pid;
	int		 flags;
};

/* "NAME: provider N (id): what" into c->err. */
void		 cerr(struct cctx *c, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* The first key of object o not in the NULL-terminated list, or NULL. */
const char	*unknown_key(struct json_object *o, const char *const *allowed);
/* o[key], a clean string of 1..maxlen bytes, strdup'd; NULL after cerr. */
char		*dup_str(struct cctx *c, struct json_object *o, const char *key,
		    int required, size_t maxlen);
/*
 * Every placeholder in s names a field of p; one before offset host_end
 * (in a host name) needs an enum or a pattern.  0, or -1 after cerr.
 */
int		 check_template(struct cctx *c, const struct cat_provider *p,
		    const char *s, const char *where, size_t host_end);

/* The provider object po into p (freed with cat_provider_free); 0 or -1. */
int		 cat_load_provider(struct cctx *c, struct cat_provider *p,
		    struct json_object *po);
void		 cat_provider_free(struct cat_provider *);

/* catalog_lazy.c: an indexed catalog's lookup, and its index freed. */
const struct cat_provider *cat_lazy_find(const struct catalog *,
		    const char *id);
void		 cat_lazy_free(struct cat_lazy *);

/* catalog_proxy.c: the "proxy" block o into p->proxy; 0 or -1 (cerr). */
int		 cat_load_proxy(struct cctx *c, struct cat_provider *p,
		    struct json_object *o);
void		 cat_proxy_free(struct cat_proxy *);

#endif
