/*
 * validate: every value that comes from a request passes a typed
 * validator from the table in validate.c before a handler uses it.
 * Parses request bodies (strict JSON, or x-www-form-urlencoded with
 * credentials[NAME] fields) and checks credentials against the catalog.
 * Problems are collected as apierr details; a value is never echoed.
 */
#ifndef CS_VALIDATE_H
#define CS_VALIDATE_H

#include <stddef.h>

#include "apierr.h"
#include "catalog.h"
#include "credset.h"
#include "crypto.h"

enum vkind {
	VK_PROVIDER = 0,	/* catalog id syntax */
	VK_CREDENTIAL_ID,	/* crd_ + 26 Crockford base32 */
	VK_LABEL,		/* 1-200 characters, no control bytes, no bidi
				   controls */
	VK_CRED_VALUE,		/* 1-4096 bytes, UTF-8, no control bytes */
	VK_IDEMPOTENCY_KEY,	/* 1-255 printable ASCII */
	VK_TOKEN,		/* JWT compact form: 1-8192 base64url and dots */
	VK__MAX
};

#define INPUT_MAX_FIELDS	64
#define LABEL_MAX_CHARS		200

/* 0 when s[0..len) is valid for kind, else -1 with the reason in *why. */
int		 validate_value(enum vkind, const char *s, size_t len,
		    enum input_reason *why);
/* 1 when s[0..len) holds a bidi embedding, override or isolate control. */
int		 validate_has_bidi_control(const char *s, size_t len);
/* The same for a yes/no: NULL when valid, else the reason's code string. */
const char	*validate_scalar(enum vkind, const char *s, size_t len);

enum value_state {
	VS_ABSENT = 0,
	VS_NULL,
	VS_STRING,
	VS_BAD_TYPE
};

/* A parsed request body, before it is checked against the catalog. */
struct req_input {
	int		 has_credentials;
	struct {
		char		*name;
		char		*value;		/* secret; NULL when not a string */
		size_t		 len;
		int		 dup;
	}		 f[INPUT_MAX_FIELDS];
	size_t		 nf;
	enum value_state label_state;
	char		*label;
	size_t		 label_len;
	char		*access_token;	/* form only */
	char		*csrf_token;	/* form only */
	char		*method;	/* form only: _method, for HTML forms */
};

void	 input_init(struct req_input *);
void	 input_free(struct req_input *);	/* wipes */

/*
 * Parse a body into *in.  Structural problems are added to e as details;
 * the return value is -1 when the body could not be read at all (e has
 * the reason), 0 otherwise (check e->nd).
 */
int	 input_parse_json(const char *body, size_t len, struct req_input *in,
	    struct apierr *e);
int	 input_parse_form(const char *body, size_t len, struct req_input *in,
	    struct apierr *e);

/*
 * Checks in against provider p: unknown, missing, empty, over-long,
 * non-string values, enum and pattern; the label.  Fills cs with the
 * submitted values plus defaults of absent optional fields.  Returns 0
 * when e gained no detail.
 */
int	 input_validate(const struct cat_provider *p, const struct req_input *in,
	    struct credset *cs, struct apierr *e);

/*
 * The connect body {"credentialId": "crd_..."}: the id into id, or -1
 * with e (initialised here) holding the details.
 */
int	 input_parse_connect(const char *body, size_t len,
	    char id[CREDENTIAL_ID_LEN + 1], struct apierr *e);

/*
 * A PATCH body: the label alone (absent is "required"; null or "" removes
 * it).  Adds details to e; -1 when e has any.
 */
int	 input_check_label_patch(const struct req_input *, struct apierr *e);
/*
 * A listing's query ?limit=N&cursor=B64URL(credential id): *limit in
 * [1, max] (def when absent), the cursor's id into after (size afterlen;
 * "" when absent).  -1 with e (initialised here) holding the details.
 */
int	 input_parse_list_query(const char *q, long def, long max, long *limit,
	    char *after, size_t afterlen, struct apierr *e);

#define VALIDATE_PROVIDER_MAX	64

/*
 * The query of the tenant-wide listing: filters, page size and where to
 * resume (the cursor is B64URL(provider "/" credential id)).
 */
struct list_all_query {
	long				 limit;
	const struct cat_provider	*provider;	/* filter, or NULL */
	const char			*status;	/* filter (static), or NULL */
	char				 after_provider[VALIDATE_PROVIDER_MAX + 1];
	char				 after[CREDENTIAL_ID_LEN + 1];	/* "": first */
};

/*
 * ?provider=&status=&limit=&cursor= into *lq: provider a catalog id of
 * cat, status a verdict name, limit in [1, max] (def when absent).  -1
 * with e (initialised here) holding the details.
 */
int	 input_parse_list_all_query(const char *q, const struct catalog *cat,
	    long def, long max, struct list_all_query *lq, struct apierr *e);

#endif
