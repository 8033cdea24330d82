/*
 * apierr: the API's error codes (SPEC section 1 table).  This is the one
 * place that maps an error to its HTTP status, code string and default
 * message; handlers collect per-field details and the http module renders
 * the JSON (or HTML) body.  Likewise the one table of detail reasons
 * (enum input_reason): the code string of details[].reason and the
 * sentence the admin page shows next to the field.
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
	AE_LIMIT_EXCEEDED,
	AE_TOO_LARGE,
	AE_MEDIA_TYPE,
	AE_CREDENTIAL_REJECTED,
	AE_INTERNAL,
	AE_UNAVAILABLE,
	AE_RATE_LIMITED,
	AE_CRED_STATUS_REJECTED,	/* the proxy: the credential is rejected */
	AE_UPSTREAM_UNREACHABLE,
	AE_UPSTREAM_TOO_LARGE,
	AE_UPSTREAM_TIMEOUT,
	AE__MAX
};

/* Why one field of a request is not valid. */
enum input_reason {
	IR_REQUIRED = 0,
	IR_UNKNOWN_FIELD,
	IR_MUST_BE_STRING,
	IR_EMPTY,
	IR_TOO_LONG,
	IR_INVALID_CHARACTERS,
	IR_NOT_ALLOWED,
	IR_PATTERN_MISMATCH,
	IR_DUPLICATE,
	IR_INVALID,
	IR_TOO_SHORT,
	IR_TOO_MANY_FIELDS,
	IR_MUST_BE_OBJECT,
	IR_DUPLICATE_KEY,
	IR_MALFORMED_JSON,
	IR_MALFORMED_FORM,
	IR_MALFORMED,
	IR_INCOMPLETE,
	IR_CATALOG_PATTERN_INVALID,
	IR_OUT_OF_RANGE,
	IR_UNKNOWN_PARAMETER,
	IR_DUPLICATE_TOKEN,
	IR_UNSUPPORTED_AUTH_TYPE,
	IR_BIDI_CONTROL,
	IR_PROXY_NOT_SUPPORTED,
	IR_BAD_PATH,
	IR_PATH_NOT_ALLOWED,
	IR__MAX
};

#define APIERR_MAX_DETAILS	40

struct apierr_detail {
	char			 field[96];	/* "credentials.api_key", ... */
	enum input_reason	 reason;
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
/* A reason's code string ("required") and the admin page's sentence. */
const char	*apierr_reason_code(enum input_reason);
const char	*apierr_reason_message(enum input_reason);

void		 apierr_init(struct apierr *, enum apierr_code, const char *msg);
/* Adds one detail; field is "prefix" or "prefix.name" (name may be NULL). */
void		 apierr_add(struct apierr *, const char *prefix, const char *name,
		    enum input_reason);

#endif
