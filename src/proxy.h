/*
 * proxy: a call to a provider on a tenant's behalf with its stored
 * credential added (SPEC section 10), so that the caller never holds the
 * value.  proxy.c has the pure rules (the client's path and query, the
 * answer's headers, redaction); proxy_call.c builds the outbound request
 * from the catalog's proxy block and performs it with libcurl, fenced as
 * a provider check is (https only, no redirects followed, the address
 * that was checked is the address connected to, bounded time and size).
 * Knows nothing about the incoming HTTP request or about storage: the
 * handler (apiproxy.c) hands it plain values.
 */
#ifndef CS_PROXY_H
#define CS_PROXY_H

#include <stddef.h>

#include "catalog.h"
#include "credset.h"
#include "util.h"

#define PROXY_PATH_MAX		2048	/* the client's {path}, raw */
#define PROXY_QUERY_MAX		4096
#define PROXY_REDACTED		"[REDACTED]"
#define PROXY_REDACT_MIN	8	/* shorter values are not looked for */
#define PROXY_HEADERS_MAX	(64 * 1024)	/* the answer's headers kept */

/*
 * The path rules on the raw (percent-encoded) rest of the request path:
 * 0 when it may be forwarded, -1 when it is a bad_path: over
 * PROXY_PATH_MAX bytes, an empty segment ("//"), a "." or ".." segment
 * (also percent-encoded, in any case, double-encoded, or before a ";"),
 * a backslash, "@", a control byte, a byte outside printable ASCII, an
 * encoded "/" or "\", or a malformed escape.  Pure.
 */
int	 proxy_path_ok(const char *rest, size_t len);
/* 0 when the raw query may be forwarded (length, characters). */
int	 proxy_query_ok(const char *q);
/*
 * 1 when a provider answer header (name[0..n)) is passed back:
 * Content-Type, ETag, Last-Modified, Retry-After, Link, Location and
 * the rate-limit headers; never Set-Cookie.
 */
int	 proxy_answer_header_ok(const char *name, size_t n);
/*
 * 1 when a client request header is forwarded: Accept, Content-Type,
 * If-None-Match, If-Modified-Since and those of fwd[0..nfwd).
 */
int	 proxy_request_header_ok(const char *name, char *const *fwd,
	    size_t nfwd);
/*
 * Replaces in b every occurrence of each value of cs of at least
 * PROXY_REDACT_MIN bytes (and of its percent-encoded form) with
 * PROXY_REDACTED.  0, or -1 when b cannot hold the result (b is then
 * emptied: nothing unredacted is left in it).
 */
int	 proxy_redact(struct buf *b, const struct credset *cs);
/*
 * The query sent to the provider: the client's raw query (may be NULL)
 * without the parameters named in inj[0..n), then those with their
 * rendered, percent-encoded values.  Into *out ("" when none); 0 or -1
 * (a field missing).  Holds secrets: out is a secret buffer.
 */
int	 proxy_build_query(const char *client, const struct cat_header *inj,
	    size_t n, const struct credset *cs, struct buf *out);

/* A request header the client sent that is forwarded. */
struct proxy_hdr {
	const char	*name;
	const char	*value;
};

struct proxy_req {
	const char		*method;	/* GET, HEAD, ... */
	const char		*rest;		/* raw, checked by proxy_path_ok */
	size_t			 restlen;
	const char		*query;		/* raw, or NULL */
	const struct proxy_hdr	*hdrs;
	size_t			 nhdrs;
	const char		*body;		/* NULL: none */
	size_t			 bodylen;
};

struct proxy_opts {
	long		 timeout_ms;
	const char	*origin_override;	/* NULL: none */
	size_t		 max_response;		/* body bytes */
};

enum proxy_rc {
	PROXY_OK = 0,		/* the provider answered (any status) */
	PROXY_UNREACHABLE,	/* DNS, connect, TLS, fenced */
	PROXY_TIMEOUT,
	PROXY_TOO_LARGE,	/* the answer went past max_response */
	PROXY_BAD_CREDENTIAL,	/* a field the proxy block needs is missing */
	PROXY_INTERNAL		/* no memory, no libcurl */
};

/* The provider's answer, filtered and redacted. */
struct proxy_answer {
	long		 status;
	char		*ctype;		/* Content-Type or NULL */
	struct buf	 headers;	/* "Name: value\r\n" lines passed back */
	struct buf	 body;
	char		 why[160];	/* for the log; never a value */
};

void		 proxy_answer_init(struct proxy_answer *);
void		 proxy_answer_free(struct proxy_answer *);
/*
 * Ends this thread's libcurl handle of proxied calls (and its kept
 * connections): before the thread ends, and before curlapi_release.
 */
void		 proxy_thread_end(void);
/*
 * Performs rq against the provider of block px with the values of cs.
 * Fills *ans (proxy_answer_free whatever the result).  Reentrant: each
 * thread has a libcurl handle of its own, kept with its connections.
 */
enum proxy_rc	 proxy_call(const struct cat_proxy *px, const struct credset *cs,
		    const struct proxy_req *rq, const struct proxy_opts *o,
		    struct proxy_answer *ans);

#endif
