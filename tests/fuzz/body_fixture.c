#include "cs_build.h"

#include <stdlib.h>
#include <string.h>

#include "body_fixture.h"
#include "catalog.h"
#include "credset.h"
#include "util.h"
#include "validate.h"

/*
 * Providers shaped like etc/catalog.json: datadog has two required secrets
 * and an optional enum with a default, sentry a pattern with maxLength and
 * a default, "oauthy" only optional fields (one without a default).
 */
static const char catalog_text[] =
    "{\"providers\":["
    "{\"id\":\"datadog\",\"name\":\"Datadog\",\"authType\":\"api_key\","
    "\"requiredFields\":[\"api_key\",\"application_key\"],"
    "\"optionalFields\":[\"site\"],"
    "\"fields\":{"
    "\"api_key\":{\"label\":\"API key\",\"secret\":true},"
    "\"application_key\":{\"label\":\"Application key\",\"secret\":true,"
    "\"maxLength\":64},"
    "\"site\":{\"label\":\"Site\",\"secret\":false,\"enum\":["
    "\"datadoghq.com\",\"us3.datadoghq.com\",\"datadoghq.eu\","
    "\"ddog-gov.com\"],\"default\":\"datadoghq.com\"}},"
    "\"validation\":{\"method\":\"GET\","
    "\"url\":\"https://api.{{site}}/api/v2/validate_keys\","
    "\"headers\":{\"DD-API-KEY\":\"{{api_key}}\","
    "\"DD-APPLICATION-KEY\":\"{{application_key}}\"},"
    "\"validStatus\":[200],\"rejectStatus\":[401,403]}},"
    "{\"id\":\"sentry\",\"name\":\"Sentry\",\"authType\":\"api_key\","
    "\"requiredFields\":[\"auth_token\"],\"optionalFields\":[\"host\"],"
    "\"fields\":{"
    "\"auth_token\":{\"label\":\"Auth token\",\"secret\":true,"
    "\"pattern\":\"^[A-Za-z0-9_]+$\"},"
    "\"host\":{\"label\":\"Host\",\"secret\":false,"
    "\"pattern\":\"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\\\.)+[a-z]+$\","
    "\"maxLength\":253,\"default\":\"sentry.io\"}}},"
    "{\"id\":\"oauthy\",\"name\":\"OAuthy\",\"authType\":\"oauth2\","
    "\"optionalFields\":[\"client_id\",\"region\"],"
    "\"fields\":{"
    "\"client_id\":{\"label\":\"Client id\",\"secret\":false},"
    "\"region\":{\"label\":\"Region\",\"secret\":false,"
    "\"enum\":[\"eu\",\"us\"]}}}"
    "]}";

static struct catalog *cat;

static void
fixture_free(void)
{
	catalog_free(cat);
	cat = NULL;
}

void
fixture_init(void)
{
	char err[512];

	if (cat != NULL)
		return;
	if ((cat = catalog_parse(catalog_text, sizeof(catalog_text) - 1,
	    "fixture", err, sizeof(err))) == NULL || cat->nproviders != 3)
		abort();
	atexit(fixture_free);
}

void
fixture_check_apierr(const struct apierr *e)
{
	size_t i;

	if (e->nd > APIERR_MAX_DETAILS)
		abort();
	for (i = 0; i < e->nd; i++)
		if ((unsigned)e->d[i].reason >= IR__MAX ||
		    memchr(e->d[i].field, '\0', sizeof(e->d[i].field)) == NULL)
			abort();
}

static int
in_enum(const struct cat_field *f, const char *v)
{
	size_t i;

	for (i = 0; i < f->nenum; i++)
		if (strcmp(f->enumv[i], v) == 0)
			return 1;
	return 0;
}

/* On success every value in cs is one the catalog allows. */
static void
check_credset(const struct cat_provider *p, const struct credset *cs)
{
	const struct cat_field	*f;
	size_t			 i, j;

	for (i = 0; i < cs->n; i++) {
		if ((f = catalog_field(p, cs->f[i].name)) == NULL)
			abort();
		if (cs->f[i].len == 0 || cs->f[i].len > f->max_len ||
		    strlen(cs->f[i].value) != cs->f[i].len ||
		    !is_clean_utf8(cs->f[i].value, cs->f[i].len))
			abort();
		if (f->enumv != NULL && !in_enum(f, cs->f[i].value))
			abort();
		if (f->pattern != NULL &&
		    regexec(&f->re, cs->f[i].value, 0, NULL, 0) != 0)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(cs->f[j].name, cs->f[i].name) == 0)
				abort();
	}
	for (i = 0; i < p->nfields; i++)
		if (p->fields[i].required &&
		    credset_get(cs, p->fields[i].name, NULL) == NULL)
			abort();
}

void
fixture_validate(const struct req_input *in)
{
	struct apierr	 e;
	struct credset	 cs;
	size_t		 i;
	int		 rc;

	for (i = 0; i < cat->nproviders; i++) {
		apierr_init(&e, AE_VALIDATION, NULL);
		rc = input_validate(&cat->providers[i], in, &cs, &e);
		fixture_check_apierr(&e);
		if (rc == 0) {
			if (e.nd != 0)
				abort();
			check_credset(&cat->providers[i], &cs);
		} else if (e.nd == 0 || cs.n != 0)
			abort();	/* -1: details, and cs freed */
		credset_free(&cs);
	}
}
