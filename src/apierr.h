/*
 * apierr: the API's error codes (SPEC section 1 table).  This is the one
 * place that maps an error to its HTTP status, code string and default
 * message; handlers collect per-field details and the http module renders
 * the JSON (or HTML) body.
 */
#ifndef CS_APIERR_H
#define CS_APIERR_H

#include <stddef.h>

enum apierr_code {
	AE_VALIDATION = 0,
	AE_UNAUTHORIZED,
	AE_FORBIDDEN,
	AE_NOT_FOUND,
	AE_METHOD,
	AE_IDEMPOTENCY_CONFLICT,
	AE_CONFLICT,
	AE_TOO_LARGE,
	AE_MEDIA_TYPE,
	AE_CREDENTIAL_REJECTED,
	AE_INTERNAL,
	AE_UNAVAILABLE,
	AE__MAX
};

#define APIERR_MAX_DETAILS	40

struct apierr_detail {
	char		 field[96];	/* "credentials.api_key", "label", ... */
	const char	*reason;	/* static: "required", "unknown", ... */
};

struct apierr {
	enum apierr_code	 code;
	const char		*message;	/* static; NULL: the default */
	struct apierr_detail	 d[APIERR_MAX_DETAILS];
	size_t			 nd;
};

int		 apierr_status(enum apierr_code);
const char	*apierr_name(enum apierr_code);
const char	*apierr_default_message(enum apierr_code);

void		 apierr_init(struct apierr *, enum apierr_code, const char *msg);
/* Adds one detail; field is "prefix" or "prefix.name" (name may be NULL). */
void		 apierr_add(struct apierr *, const char *prefix, const char *name,
		    const char *reason);

#endif
