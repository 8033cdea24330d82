/*
 * http: one request/response over FastCGI (libfcgi's FCGX streams) or
 * plain CGI (environment, stdin, stdout).  Reads and bounds the request,
 * writes exactly one response.  Knows nothing about the API's routes.
 */
#ifndef CS_HTTP_H
#define CS_HTTP_H

#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "apierr.h"
#include "log.h"
#include "mount.h"
#include "util.h"

enum http_method {
	HM_GET = 0,
	HM_HEAD,
	HM_POST,
	HM_PUT,
	HM_PATCH,
	HM_DELETE,
	HM_OPTIONS,
	HM_OTHER,
	HM__MAX
};

#define HTTP_PATH_MAX	2048
/* Longer request paths are cut here (only the proxy's rest may be long). */
#define HTTP_URI_MAX	(2 * HTTP_PATH_MAX)

enum http_body_rc {
	HTTP_BODY_OK = 0,
	HTTP_BODY_TOO_LARGE,
	HTTP_BODY_SHORT,	/* fewer bytes than Content-Length */
	HTTP_BODY_ERROR
};

struct http_req {
	FCGX_Stream	*in;		/* NULL in CGI mode: stdin */
	FCGX_Stream	*out;		/* NULL in CGI mode: stdout */
	char		**envp;		/* NULL in CGI mode: environ */

	enum http_method method;
	const char	*method_name;
	/*
	 * The raw request path without the query (REQUEST_URI, else
	 * SCRIPT_NAME + PATH_INFO); path is its tail below the mount point
	 * (mount.h), still percent-encoded, and mount the part before it:
	 * "" at the root, never ending in '/'.  http_use_mount chooses.
	 */
	char		*uri;
	const char	*path;
	char		 mount[MOUNT_MAX + 1];
	struct mount_cand mounts;
	char		*query;		/* raw query or NULL */
	const char	*content_type;
	const char	*authorization;
	const char	*cookie;
	const char	*idem_key;
	const char	*accept;
	const char	*remote_addr;
	const char	*origin;	/* Origin, Referer, Host: NULL when */
	const char	*referer;	/* absent */
	const char	*host;
	const char	*server_software;	/* SERVER_SOFTWARE or NULL */
	int		 https;
	long long	 content_length;	/* -1 when absent */

	/* the client's Request-Id when sane, else a new ULID; on every answer */
	char		 request_id[LOG_REQID_MAX + 1];

	struct buf	 body;		/* secret: wiped at the end */
	int		 body_read;	/* http_read_body ran: body_rc */
	enum http_body_rc body_rc;
	int		 responded;
	int		 status;	/* of the response, for the log */
};

/*
 * Fills req from the FastCGI request (or CGI when streams are NULL).  The
 * request's id is chosen first and named by every log line until
 * http_req_end, even when this fails.
 */
int		 http_req_begin(struct http_req *, FCGX_Stream *in,
		    FCGX_Stream *out, char **envp);
void		 http_req_end(struct http_req *);
/* 1 when v is a client's Request-Id we keep: 1-64 of [A-Za-z0-9._-]. */
int		 http_request_id_ok(const char *v);
const char	*http_param(const struct http_req *, const char *name);
/*
 * Uses mount candidate i (mount.h) for path and mount: 0, or -1 when
 * there is no such candidate (then path is "" at i 0, which no route
 * matches, else unchanged).
 */
int		 http_use_mount(struct http_req *, int i);
const char	*http_method_name(enum http_method);

/* Reads the whole body, refusing more than max bytes. */
enum http_body_rc http_read_body(struct http_req *, size_t max);

/*
 * Media type of the request without parameters, lower-cased into out;
 * "" when absent.
 */
void		 http_media_type(const struct http_req *, char *out, size_t n);
/*
 * 0 when a Content-Type (may be NULL) names a charset other than UTF-8
 * (case-insensitive, quoted or not, every charset parameter), else 1.
 */
int		 http_ctype_charset_ok(const char *ctype);
/* 1 when the client prefers text/html over JSON (Accept). */
int		 http_wants_html(const struct http_req *);

/*
 * Writes the response.  extra is "Name: value\r\n" lines built by the
 * caller from trusted values, or NULL.  Every response carries
 * Cache-Control: no-store, X-Content-Type-Options: nosniff and Request-Id.
 */
void		 http_send(struct http_req *, int status, const char *ctype,
		    const char *extra, const char *body, size_t len);
/* Pushes what was written of the answer to the web server now. */
void		 http_flush(struct http_req *);
void		 http_send_json(struct http_req *, int status,
		    struct json_object *o, const char *extra);
void		 http_send_error(struct http_req *, const struct apierr *,
		    const char *extra);
/* Shorthand for an error without details. */
void		 http_fail(struct http_req *, enum apierr_code, const char *msg,
		    const char *extra);
/* The JSON error document of SPEC section 1 (caller puts). */
struct json_object *http_error_json(const struct apierr *);

#endif
