/*
 * probe: tests a credential set against its provider, as the catalog's
 * validation block says (SPEC section 9), with libcurl.  The request is
 * fenced: https only (http only to the configured override), no
 * redirects, bounded time and response size, and no connection to
 * loopback, private, link-local or multicast addresses unless the override
 * points there.  A check is built (templates rendered), performed (one
 * curl handle per process, reused; libcurl comes from curlapi.c) and
 * classified (probe_classify, a pure function).  Knows nothing about HTTP
 * requests coming in, nor about storage.
 */
#ifndef CS_PROBE_H
#define CS_PROBE_H

#include <stddef.h>

#include "catalog.h"
#include "credset.h"

#define PROBE_MAX_BODY	(64 * 1024)

enum probe_verdict {
	PROBE_VALID = 0,
	PROBE_REJECTED,
	PROBE_UNVERIFIED,
	PROBE__MAX
};

struct probe_opts {
	long		 timeout_ms;
	const char	*origin_override;	/* NULL: none */
};

struct probe_result {
	enum probe_verdict	 verdict;
	long			 http_status;	/* 0: no answer */
	char			 why[160];	/* for the log; never a secret */
	/*
	 * The reason code of SPEC section 2's "check" object: no_check,
	 * dns_error, connect_error, tls_error, timeout, status_<N>, fenced,
	 * ...; "" when valid.
	 */
	char			 reason[24];
};

/*
 * What a check's exchange came to.  body and neterr are borrowed: they
 * stay the caller's.
 */
struct probe_outcome {
	int		 fenced;	/* the fence refused the connection */
	const char	*neterr;	/* no answer: timeout, DNS, TLS, ...; NULL: answered */
	int		 neterr_code;	/* its CURLcode (0: unknown) */
	long		 status;	/* HTTP status; 0: none */
	const char	*body;		/* the answer's body (not NUL-terminated) */
	size_t		 body_len;
	int		 truncated;	/* the body went past PROBE_MAX_BODY */
};

/*
 * probe_init makes the calling thread's HTTP client (libcurl loaded and
 * initialised once per process); 0 or -1.  probe_thread_end frees the
 * calling thread's client; probe_cleanup does that and unloads libcurl,
 * once every other thread has ended.
 */
int		 probe_init(void);
void		 probe_thread_end(void);
void		 probe_cleanup(void);
const char	*probe_verdict_name(enum probe_verdict);

/* Runs the provider's check; always fills *res. */
void		 probe_check(const struct cat_provider *, const struct credset *,
		    const struct probe_opts *, struct probe_result *res);
/*
 * The verdict of SPEC section 9 on an outcome of check k: fenced or no
 * answer, or a status in neither list (429 and 5xx among them) give
 * unverified; a status in rejectStatus, or a validStatus answer whose JSON
 * body lacks the `expect` value, rejected.  Fills all of *res.  Pure: no
 * I/O.
 */
void		 probe_classify(const struct cat_check *k,
		    const struct probe_outcome *, struct probe_result *res);

/*
 * Substitutes {{field}} placeholders of tmpl with values from cs
 * (URL-encoded when urlenc).  Returns a malloc'd string (may hold secrets:
 * free with secure_free_str) or NULL when a field is missing or a value
 * has a CR, LF or NUL.  In the path of a URL (urlenc, after
 * scheme://authority) '.' is encoded too and a value "." or ".." is
 * refused: a value never makes a dot segment.
 */
char		*probe_render(const char *tmpl, const struct credset *cs,
		    int urlenc);
/*
 * Replaces scheme://host[:port] of url with origin.  Returns malloc'd or
 * NULL when url has no scheme://.
 */
char		*probe_apply_origin(const char *url, const char *origin);
/* Looks up an RFC 6901 pointer in o; NULL when absent. */
struct json_object *probe_json_pointer(struct json_object *o, const char *ptr);

#endif
