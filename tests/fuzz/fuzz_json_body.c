#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "body_fixture.h"
#include "validate.h"

/*
 * libFuzzer harness for JSON request bodies: input_parse_json on the
 * input, then, when the body could be read, input_validate against every
 * provider of the fixture catalog (body_fixture.c).
 */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req_input	 in;
	struct apierr		 e;
	size_t			 i;
	int			 rc;

	input_init(&in);
	apierr_init(&e, AE_VALIDATION, NULL);
	rc = input_parse_json((const char *)data, size, &in, &e);
	fixture_check_apierr(&e);
	if (rc == -1 && e.nd == 0)
		abort();	/* "e has the reason" */
	/* JSON bodies never carry the form-only fields */
	if (in.access_token != NULL || in.csrf_token != NULL)
		abort();
	if (in.nf > INPUT_MAX_FIELDS)
		abort();
	for (i = 0; i < in.nf; i++)
		if (in.f[i].name == NULL || (in.f[i].value != NULL &&
		    in.f[i].value[in.f[i].len] != '\0'))
			abort();
	if (rc == 0)
		fixture_validate(&in);
	input_free(&in);
	return 0;
}
