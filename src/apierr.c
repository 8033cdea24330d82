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
	{ 409, "limit_exceeded", "The tenant stores as many credentials as "
	    "it may" },
	{ 413, "payload_too_large", "The request body is too large" },
	{ 415, "unsupported_media_type",
	    "Use application/json or application/x-www-form-urlencoded" },
	{ 422, "credential_validation_failed",
	    "The provider rejected the credentials" },
	{ 500, "internal_error", "Internal error" },
	{ 503, "unavailable", "The service is unavailable, retry later" },
	{ 429, "rate_limited", "Too many requests for this tenant; retry later" },
	{ 409, "credential_rejected",
	    "The provider rejected this credential at its last check" },
	{ 502, "upstream_unreachable", "The provider could not be reached" },
	{ 502, "upstream_too_large", "The provider's answer is too large" },
	{ 504, "upstream_timeout", "The provider did not answer in time" },
};

#define NOT_VALID	"This value is not valid."

/* The detail reasons: code string, and the sentence of the admin page. */
static const struct {
	const char	*code;
	const char	*message;
} reasons[IR__MAX] = {
	[IR_REQUIRED] = { "required", "This field is required." },
	[IR_UNKNOWN_FIELD] = { "unknown_field",
	    "This field is not part of this integration." },
	[IR_MUST_BE_STRING] = { "must_be_string", "This value must be text." },
	[IR_EMPTY] = { "empty", "This field is required." },
	[IR_TOO_LONG] = { "too_long", "This value is too long." },
	[IR_INVALID_CHARACTERS] = { "invalid_characters",
	    "This value has characters that are not allowed." },
	[IR_NOT_ALLOWED] = { "not_allowed", "Choose one of the listed values." },
	[IR_PATTERN_MISMATCH] = { "pattern_mismatch",
	    "This value does not have the expected format." },
	[IR_DUPLICATE] = { "duplicate", "This field was sent twice." },
	[IR_INVALID] = { "invalid", NOT_VALID },
	[IR_TOO_SHORT] = { "too_short", NOT_VALID },
	[IR_TOO_MANY_FIELDS] = { "too_many_fields", NOT_VALID },
	[IR_MUST_BE_OBJECT] = { "must_be_object", NOT_VALID },
	[IR_DUPLICATE_KEY] = { "duplicate_key", NOT_VALID },
	[IR_MALFORMED_JSON] = { "malformed_json", NOT_VALID },
	[IR_MALFORMED_FORM] = { "malformed_form", NOT_VALID },
	[IR_MALFORMED] = { "malformed", NOT_VALID },
	[IR_INCOMPLETE] = { "incomplete", NOT_VALID },
	[IR_CATALOG_PATTERN_INVALID] = { "catalog_pattern_invalid", NOT_VALID },
	[IR_OUT_OF_RANGE] = { "out_of_range", NOT_VALID },
	[IR_UNKNOWN_PARAMETER] = { "unknown_parameter", NOT_VALID },
	[IR_DUPLICATE_TOKEN] = { "duplicate_token", NOT_VALID },
	[IR_UNSUPPORTED_AUTH_TYPE] = { "unsupported_auth_type", NOT_VALID },
	[IR_BIDI_CONTROL] = { "bidi_control", "This value has characters that "
	    "change the direction of text, which are not allowed." },
	[IR_PROXY_NOT_SUPPORTED] = { "proxy_not_supported", NOT_VALID },
	[IR_BAD_PATH] = { "bad_path", NOT_VALID },
	[IR_PATH_NOT_ALLOWED] = { "path_not_allowed", NOT_VALID },
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

const char *
apierr_reason_code(enum input_reason r)
{
	return r < IR__MAX ? reasons[r].code : "invalid";
}

const char *
apierr_reason_message(enum input_reason r)
{
	return r < IR__MAX ? reasons[r].message : NOT_VALID;
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
    enum input_reason reason)
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
