#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "catalog.h"

/*
 * libFuzzer harness for catalog_parse.  An accepted catalog is also
 * walked the way the service uses it: catalog_find, catalog_field and
 * catalog_provider_json for every provider.  The same bytes are indexed
 * (catalog_index, what a CGI process does with a text known to pass):
 * any input indexes or not without harm, and an accepted catalog's
 * index gives the providers of the full parse.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

/* What catalog.h promises about a loaded provider. */
static void
check_provider(const struct catalog *cat, const struct cat_provider *p)
{
	const struct cat_check	*k = p->check;
	struct json_object	*o;
	size_t			 i;

	if (!catalog_valid_id(p->id) || catalog_find(cat, p->id) != p ||
	    p->name == NULL || p->auth_name == NULL ||
	    (unsigned)p->auth >= AUTH__MAX)
		abort();
	if (p->nfields > CATALOG_MAX_FIELDS || p->nrequired > p->nfields ||
	    (p->auth == AUTH_API_KEY && p->nrequired == 0))
		abort();
	for (i = 0; i < p->nfields; i++) {
		const struct cat_field *f = &p->fields[i];

		/* required first, then optional */
		if (f->required != (i < p->nrequired) || !valid_name(f->name) ||
		    catalog_field(p, f->name) != f || f->label == NULL ||
		    f->max_len < 1 || f->max_len > 4096 ||
		    (f->enumv != NULL && (f->nenum < 1 ||
		    f->nenum > CATALOG_MAX_ENUM)))
			abort();
	}
	if (k != NULL) {
		if (k->method == NULL || k->url == NULL ||
		    strncmp(k->url, "https://", 8) != 0 ||
		    k->nvalid > CATALOG_MAX_STATUS ||
		    k->nreject > CATALOG_MAX_STATUS ||
		    (k->basic_user == NULL) != (k->basic_pass == NULL) ||
		    (k->expect_pointer != NULL && k->expect_pointer[0] != '/'))
			abort();
		for (i = 0; i < k->nvalid; i++)
			if (k->valid[i] < 100 || k->valid[i] > 599)
				abort();
	}
	if ((o = catalog_provider_json(p)) == NULL)
		abort();
	(void)json_object_to_json_string(o);
	json_object_put(o);
}

/* The indexed catalog of the same bytes against the full parse (or NULL). */
static void
check_index(const struct catalog *cat, const uint8_t *data, size_t size)
{
	struct catalog			*idx;
	const struct cat_provider	*p, *q;
	size_t				 i;
	char				*text;

	/* as catalog_read gives it: malloc'd, a NUL after it */
	if ((text = malloc(size + 1)) == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if ((idx = catalog_index(text, size, "fuzz.json", CATALOG_LAZY)) == NULL)
		free(text);
	if (cat == NULL) {
		/* anything: it may index, and loading may fail, harmlessly */
		if (idx != NULL) {
			(void)catalog_find(idx, "a");
			(void)catalog_load_all(idx);
		}
		catalog_free(idx);
		return;
	}
	/* only an escaped "providers" key keeps a valid catalog unindexed */
	if (idx == NULL) {
		if (memchr(data, '\\', size) == NULL)
			abort();
		return;
	}
	if (idx->nproviders != cat->nproviders)
		abort();
	for (i = 0; i < cat->nproviders; i++) {
		p = &cat->providers[i];
		if ((q = catalog_find(idx, p->id)) != &idx->providers[i] ||
		    strcmp(q->name, p->name) != 0 || q->auth != p->auth ||
		    q->nfields != p->nfields || q->nrequired != p->nrequired ||
		    (q->check == NULL) != (p->check == NULL) ||
		    (q->proxy == NULL) != (p->proxy == NULL))
			abort();
	}
	if (catalog_load_all(idx) != 0)
		abort();
	catalog_free(idx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog	*cat;
	char		 err[512];
	size_t		 i;

	err[0] = '\0';
	cat = catalog_parse((const char *)data, size, "fuzz.json", err,
	    sizeof(err));
	if (cat == NULL) {
		/* "PATH: ..." */
		if (strncmp(err, "fuzz.json: ", 11) != 0)
			abort();
		check_index(NULL, data, size);
		return 0;
	}
	for (i = 0; i < cat->nproviders; i++)
		check_provider(cat, &cat->providers[i]);
	check_index(cat, data, size);
	catalog_free(cat);
	return 0;
}
