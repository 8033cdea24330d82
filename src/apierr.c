#include "cs_build.h"

#include <stdio.h>
#include <string.h>

#include "apierr.h"

static const struct {
	int		 status;
	const char	*name;
	const char	*message;
} table[AE__MAX] = {
	{ 400, "validation_error", "The request is not valid" },
	{ 401, "unauthorized", "A valid bearer token is required" },
	{ 403, "forbidden", "The token does not grant this action" },
	{ 404, "not_found", "Not found" },
	{ 405, "method_not_allowed", "Method not allowed" },
	{ 409, "idempotency_conflict",
	    "The Idempotency-Key was used with a different request" },
	{ 409, "conflict", "The resource is in use" },
	{ 413, "payload_too_large", "The request body is too large" },
	{ 415, "unsupported_media_type",
	    "Use application/json or application/x-www-form-urlencoded" },
	{ 422, "credential_validation_failed",
	    "The provider rejected the credentials" },
	{ 500, "internal_error", "Internal error" },
	{ 503, "unavailable", "The service is unavailable, retry later" },
};

int
apierr_status(enum apierr_code c)
{
	return c < AE__MAX ? table[c].status : 500;
}

const char *
apierr_name(enum apierr_code c)
{
	return c < AE__MAX ? table[c].name : "internal_error";
}

const char *
apierr_default_message(enum apierr_code c)
{
	return c < AE__MAX ? table[c].message : "Internal error";
}

void
apierr_init(struct apierr *e, enum apierr_code c, const char *msg)
{
	memset(e, 0, sizeof(*e));
	e->code = c;
	e->message = msg;
}

void
apierr_add(struct apierr *e, const char *prefix, const char *name,
    const char *reason)
{
	struct apierr_detail *d;

	if (e->nd >= APIERR_MAX_DETAILS)
		return;
	d = &e->d[e->nd++];
	if (name != NULL)
		snprintf(d->field, sizeof(d->field), "%s.%s", prefix, name);
	else
		snprintf(d->field, sizeof(d->field), "%s", prefix);
	d->reason = reason;
}
