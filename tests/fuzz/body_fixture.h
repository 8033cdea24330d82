/*
 * body_fixture: the catalog and the checks shared by the request body
 * harnesses (fuzz_json_body, fuzz_form_body).
 */
#ifndef CS_FUZZ_BODY_FIXTURE_H
#define CS_FUZZ_BODY_FIXTURE_H

#include "validate.h"

/* Parses the inline catalog once; aborts when it does not load. */
void	fixture_init(void);
/*
 * Validates in against every provider of the catalog and checks what
 * validate.h promises about the result.  Frees what it allocates.
 */
void	fixture_validate(const struct req_input *in);
/* Checks the details a parser or validator added to e. */
void	fixture_check_apierr(const struct apierr *e);

#endif
