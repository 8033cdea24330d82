/*
 * harness: what the end-to-end tests share.  Starts the mock provider and
 * a real lighttpd running the real credstore.fcgi on free loopback ports,
 * in a fresh temporary folder, and talks HTTP to it with libcurl.
 * Paths come from the environment set by `make check`: top_srcdir and
 * top_builddir.
 */
#ifndef CS_HARNESS_H
#define CS_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

struct h_env {
	char	 dir[512];		/* temporary folder */
	char	 conf[600];		/* credstore.conf */
	char	 data_dir[600];
	char	 errlog[600];		/* lighttpd's error log */
	char	 fcgi[600];		/* credstore.fcgi */
	char	 admin[600];		/* credstore-admin */
	char	 srcdir[512];
	int	 port;
	int	 mock_port;
	pid_t	 lighttpd;
	pid_t	 mock;
	char	*tok_admin;		/* tenant acme, role admin */
	char	*tok_reader;		/* tenant acme, role viewer */
	char	*tok_other;		/* tenant globex, role admin */
	int	 procs;			/* FastCGI processes (0: the example's) */
	char	 mount[128];		/* the mount point: "" at the root */
	int	 cgi;			/* mod_cgi under /cgi-bin/ */
	pid_t	 prism;			/* the validating proxy, or 0 */
	int	 via_port;		/* its port: h_req goes there (0: none) */
	pid_t	 prism_lax;		/* the same without --errors */
	int	 via_lax_port;
};

struct h_resp {
	long	 status;
	char	*body;
	size_t	 len;
	char	*headers;
	double	 seconds;
};

/* Extra lines for credstore.conf, and the FastCGI process count. */
struct h_opts {
	const char	*conf_extra;
	int		 procs;
	const char	*catalog;	/* NULL: the bundled etc/catalog.json */
	long		 max_body_bytes;	/* 0: 16384 */
	long		 probe_timeout_ms;	/* 0: 1500 */
	/*
	 * Where credstore answers (NULL: the root): lighttpd.conf.example's
	 * credstore_mount, e.g. "/credstore".  With cgi, lighttpd runs
	 * credstore.fcgi as a CGI program from www/cgi-bin/ with
	 * etc/lighttpd-cgi.conf.example; mount must then be
	 * "/cgi-bin/credstore.fcgi".  h_start_server waits for
	 * mount + "/healthz"; the tests write the mount into their paths.
	 */
	const char	*mount;
	int		 cgi;
};

/*
 * With CS_E2E_PRISM set (the path of @stoplight/prism-cli's `prism`),
 * h_setup also starts `prism proxy --errors` built from etc/openapi.json
 * (CS_E2E_OPENAPI overrides) in front of lighttpd, and h_req and
 * h_req_many go through it.  An answer that is not what the document
 * says is a violation: printed to stderr, appended to the file
 * CS_E2E_VIOLATIONS when set, and the call returns -1 with status 0.
 * A request prism finds outside the document (a deliberate bad request:
 * no token, a wrong type, an unknown path) is appended to the file
 * CS_E2E_OUTSIDE and passed on by a second prism without --errors, whose
 * verdict on the answer counts (CS_E2E_PRISM_STRICT=1: a violation
 * instead).  A JSON body prism would change (malformed, duplicate keys)
 * goes to lighttpd itself, logged as outside.  Each answer prism checked
 * is a line of the file CS_E2E_CHECKED.  h_raw always talks to lighttpd
 * itself.
 */
int	 h_setup(struct h_env *, const struct h_opts *);
/* h_setup without starting lighttpd: h_start_server does that. */
int	 h_setup_stopped(struct h_env *, const struct h_opts *);
void	 h_teardown(struct h_env *);
/* Stops lighttpd (and so the FastCGI processes); teardown is still due. */
void	 h_stop_server(struct h_env *);
/*
 * (Re)starts lighttpd with a freshly generated config and waits until
 * /healthz answers `want` (0: any status).  Returns the last /healthz
 * status, 0 when nothing answered.  The environment variable
 * CREDSTORE_FCGI_WRAPPER, when set, replaces credstore.fcgi as lighttpd's
 * bin-path (a script that execs e.g. valgrind ... credstore.fcgi).
 */
long	 h_start_server(struct h_env *, long want);
/* 1 when a sanitizer report is in the server's output. */
int	 h_sanitizer_report(struct h_env *);
/*
 * 1 when this build has ASan or TSan (so credstore.fcgi, built with the
 * same flags, can print a report at all); 0 otherwise.
 */
int	 h_sanitizer_build(void);

/*
 * One request.  hdrs is a NULL-terminated list of "Name: value" lines.
 * token (may be NULL) is sent as "Authorization: Bearer TOKEN".
 */
int	 h_req(struct h_env *, const char *method, const char *path,
	    const char *token, const char *ctype, const char *body,
	    const char *const *hdrs, struct h_resp *);
void	 h_resp_free(struct h_resp *);
/*
 * After FastCGI processes were killed: h_req again while there is no
 * answer, a 502 or 503, or an answer without Request-Id (not
 * credstore's: lighttpd's own, or prism's 500 when lighttpd dropped its
 * request under tests/openapi/run.sh), for up to H_RECOVER_MS from
 * start_ms (of h_now_ms).  A process killed holding a Berkeley DB mutex
 * can leave another stuck until it ends itself (src/wedge.c: within 30 s
 * of its next request, 60 s by its watchdog) and lighttpd starts it
 * again; a request it holds meanwhile may take the whole 60 s of h_req.
 * Each retry is logged to stderr.  0 with the last answer in r, or -1
 * when the time ran out.
 */
#define H_RECOVER_MS	150000
int	 h_req_recovered(struct h_env *, long long start_ms,
	    const char *method, const char *path, const char *token,
	    const char *ctype, const char *body, const char *const *hdrs,
	    struct h_resp *);
long long h_now_ms(void);
/* One request of h_req_many: h_req's arguments. */
struct h_call {
	const char		*method;
	const char		*path;
	const char		*token;
	const char		*ctype;
	const char		*body;
	const char *const	*hdrs;
};
/*
 * Sends the n requests at once, each on a connection of its own (curl
 * multi: every request is on the wire before any answer is read), and
 * waits for all of them.  r[i] gets the answer to k[i] (h_resp_free
 * each).  Returns 0 when every request got an answer, -1 otherwise.
 */
int	 h_req_many(struct h_env *, const struct h_call *k, size_t n,
	    struct h_resp *r);
/*
 * Sends req[0..len) as it is on a new connection to lighttpd and reads
 * until the server closes or timeout_ms pass.  r gets the first response
 * (headers with their status line, body by Content-Length); *all, when
 * all is not NULL, everything received (malloc'd, NUL-terminated).
 * H_RAW_SHUT_WR half-closes the connection after sending.  Returns 0 when
 * a status line came back, -1 otherwise (r->status 0).
 */
#define H_RAW_SHUT_WR	0x1
int	 h_raw(struct h_env *, const void *req, size_t len, int flags,
	    int timeout_ms, struct h_resp *r, char **all, size_t *alllen);
/* Case-insensitive response header value (static buffer) or NULL. */
const char *h_header(const struct h_resp *, const char *name);
/* Parsed body (caller puts) or NULL. */
struct json_object *h_json(const struct h_resp *);
/* The error code string of an error body, or "" (static). */
const char *h_errcode(const struct h_resp *);

/* Runs credstore-admin -c CONF ARGS...; stdout into *out (malloc'd). */
int	 h_admin(struct h_env *, char **out, const char *arg, ...);
/* Signs claims with the configured HS secret (malloc'd token). */
char	*h_mint(struct h_env *, const char *claims_json);

/* Mock provider control. */
int	 h_mock_route(struct h_env *, const char *route_json);
int	 h_mock_reset(struct h_env *);
struct json_object *h_mock_requests(struct h_env *);

/*
 * The whole file at path, malloc'd and NUL-terminated (its length, without
 * the NUL, in *len when len is not NULL), or NULL when it cannot be read.
 */
char	*h_slurp(const char *path, size_t *len);
/* 1 when needle occurs in any regular file below dir. */
int	 h_grep_tree(const char *dir, const char *needle);
/* 1 when needle occurs in the file. */
int	 h_grep_file(const char *path, const char *needle);
/* 1 when the n bytes at needle (NULs too) occur in the file. */
int	 h_grep_bytes(const char *path, const void *needle, size_t n);
/* Pids of running credstore.fcgi processes of this env. */
int	 h_fcgi_pids(struct h_env *, pid_t *out, int max);
/*
 * Pids of every process started with this env's CREDSTORE_CONFIG, those
 * that outlived their lighttpd too (a FastCGI process stuck in a wait).
 */
int	 h_env_pids(struct h_env *, pid_t *out, int max);
/* Count of lines in s. */
size_t	 h_lines(const char *s);

#endif
