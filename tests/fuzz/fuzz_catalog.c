#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "catalog.h"

/*
 * libFuzzer harness for catalog_parse.  An accepted catalog is also
 * walked the way the service uses it: catalog_find, catalog_field and
 * catalog_provider_json for every provider.
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
		return 0;
	}
	for (i = 0; i < cat->nproviders; i++)
		check_provider(cat, &cat->providers[i]);
	catalog_free(cat);
	return 0;
}
