#include "cs_build.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crypto.h"
#include "http.h"
#include "log.h"

extern char **environ;

static const char *const method_names[HM__MAX] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
};

static const char *const reason_phrases[][2] = {
	{ "200", "OK" }, { "201", "Created" }, { "202", "Accepted" },
	{ "204", "No Content" }, { "301", "Moved Permanently" },
	{ "302", "Found" }, { "303", "See Other" }, { "304", "Not Modified" },
	{ "307", "Temporary Redirect" }, { "308", "Permanent Redirect" }, { "400", "Bad Request" },
	{ "401", "Unauthorized" }, { "403", "Forbidden" },
	{ "404", "Not Found" }, { "405", "Method Not Allowed" },
	{ "409", "Conflict" }, { "413", "Content Too Large" },
	{ "415", "Unsupported Media Type" }, { "422", "Unprocessable Content" },
	{ "500", "Internal Server Error" }, { "503", "Service Unavailable" },
	{ "429", "Too Many Requests" }, { "502", "Bad Gateway" },
	{ "504", "Gateway Timeout" },
};

const char *
http_method_name(enum http_method m)
{
	return m < HM__MAX ? method_names[m] : "OTHER";
}

const char *
http_param(const struct http_req *r, const char *name)
{
	const char *v;

	v = r->envp != NULL ? FCGX_GetParam(name, r->envp) : getenv(name);
	return v;
}

int
http_request_id_ok(const char *v)
{
	size_t n;

	if (v == NULL)
		return 0;
	n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-");
	return n > 0 && n <= LOG_REQID_MAX && v[n] == '\0';
}

/* The client's Request-Id when sane, else a new ULID (or "-"). */
static void
choose_request_id(struct http_req *r)
{
	const char *v = http_param(r, "HTTP_REQUEST_ID");

	if (http_request_id_ok(v))
		snprintf(r->request_id, sizeof(r->request_id), "%s", v);
	else if (crypto_ulid(r->request_id) == -1)
		snprintf(r->request_id, sizeof(r->request_id), "-");
	log_set_request_id(r->request_id);
	log_batch(1);
}

/*
 * The raw request path (REQUEST_URI without the query; CGI servers
 * without REQUEST_URI: SCRIPT_NAME + PATH_INFO, decoded) into r->uri,
 * its mount candidates, and the first of them in use.  *q is the query
 * of REQUEST_URI or NULL.  -1 when out of memory.
 */
static int
request_path(struct http_req *r, const char **q)
{
	const char	*uri, *sn, *pi, *conf;
	size_t		 plen;

	pi = http_param(r, "PATH_INFO");
	sn = http_param(r, "SCRIPT_NAME");
	*q = NULL;
	if ((uri = http_param(r, "REQUEST_URI")) != NULL && *uri != '\0') {
		*q = strchr(uri, '?');
		plen = *q ? (size_t)(*q - uri) : strlen(uri);
		if (plen > HTTP_URI_MAX)
			plen = HTTP_URI_MAX + 1;	/* the router refuses it */
		if ((r->uri = malloc(plen + 1)) == NULL)
			return -1;
		memcpy(r->uri, uri, plen);
		r->uri[plen] = '\0';
	} else {
		uri = pi != NULL && *pi != '\0' ? pi : "/";
		plen = (sn ? strlen(sn) : 0) + strlen(uri);
		if (plen > HTTP_URI_MAX)
			plen = HTTP_URI_MAX + 1;	/* the router refuses it */
		if ((r->uri = malloc(plen + 1)) == NULL)
			return -1;
		snprintf(r->uri, plen + 1, "%s%s", sn ? sn : "", uri);
	}
	/* a FastCGI parameter (SetEnv, fastcgi_param) or the environment */
	if ((conf = http_param(r, "CREDSTORE_MOUNT")) == NULL)
		conf = getenv("CREDSTORE_MOUNT");
	if (mount_candidates(r->uri, sn, pi, conf, &r->mounts) == -1)
		log_error("CREDSTORE_MOUNT is not a mount point (a path such as "
		    "/credstore, without ';', ',' or spaces): every request is "
		    "404");
	(void)http_use_mount(r, 0);
	return 0;
}

int
http_use_mount(struct http_req *r, int i)
{
	size_t n;

	if (i >= r->mounts.n) {
		if (i == 0) {
			r->mount[0] = '\0';
			r->path = "";
		}
		return -1;
	}
	n = r->mounts.len[i];
	memcpy(r->mount, r->uri, n);
	r->mount[n] = '\0';
	r->path = r->uri + n;
	return 0;
}

int
http_req_begin(struct http_req *r, FCGX_Stream *in, FCGX_Stream *out,
    char **envp)
{
	const char	*m, *q, *cl, *https;
	int		 i;

	memset(r, 0, sizeof(*r));
	r->in = in;
	r->out = out;
	r->envp = envp;
	buf_init(&r->body, 0, 1);
	r->content_length = -1;
	choose_request_id(r);

	m = http_param(r, "REQUEST_METHOD");
	r->method = HM_OTHER;
	r->method_name = "OTHER";
	for (i = 0; m != NULL && i < HM_OTHER; i++)
		if (strcmp(m, method_names[i]) == 0) {
			r->method = (enum http_method)i;
			r->method_name = method_names[i];
		}
	if (request_path(r, &q) == -1)
		return -1;
	if (q != NULL && (r->query = strdup(q + 1)) == NULL)
		return -1;
	if (q == NULL && (q = http_param(r, "QUERY_STRING")) != NULL && *q &&
	    (r->query = strdup(q)) == NULL)
		return -1;

	r->content_type = http_param(r, "CONTENT_TYPE");
	/*
	 * Apache gives a CGI program no Authorization unless told: by
	 * CGIPassAuth On, or by a rewrite into the variable
	 * HTTP_AUTHORIZATION, which an internal redirect (the rewrite of
	 * an .htaccess file) renames REDIRECT_HTTP_AUTHORIZATION.  A client
	 * cannot set a REDIRECT_ variable: its headers become HTTP_ ones.
	 */
	r->authorization = http_param(r, "HTTP_AUTHORIZATION");
	if (r->authorization == NULL || *r->authorization == '\0')
		r->authorization = http_param(r, "REDIRECT_HTTP_AUTHORIZATION");
	r->cookie = http_param(r, "HTTP_COOKIE");
	r->idem_key = http_param(r, "HTTP_IDEMPOTENCY_KEY");
	r->accept = http_param(r, "HTTP_ACCEPT");
	r->remote_addr = http_param(r, "REMOTE_ADDR");
	r->origin = http_param(r, "HTTP_ORIGIN");
	r->referer = http_param(r, "HTTP_REFERER");
	r->host = http_param(r, "HTTP_HOST");
	r->server_software = http_param(r, "SERVER_SOFTWARE");
	https = http_param(r, "HTTPS");
	r->https = https != NULL && (strcasecmp(https, "on") == 0 ||
	    strcmp(https, "1") == 0);
	cl = http_param(r, "CONTENT_LENGTH");
	if (cl != NULL && *cl != '\0') {
		char *end;

		r->content_length = strtoll(cl, &end, 10);
		if (*end != '\0' || r->content_length < 0)
			r->content_length = -2;	/* malformed */
	}
	return 0;
}

void
http_req_end(struct http_req *r)
{
	buf_reset(&r->body);
	free(r->uri);
	free(r->query);
	r->uri = r->query = NULL;
	r->path = NULL;
	log_batch(0);		/* before FCGX_Finish_r sends the answer */
	log_set_request_id(NULL);
}

static int
read_some(struct http_req *r, char *p, size_t n)
{
	ssize_t got;

	if (r->in != NULL)
		return FCGX_GetStr(p, (int)n, r->in);
	do
		got = read(STDIN_FILENO, p, n);
	while (got == -1 && errno == EINTR);
	return got < 0 ? -1 : (int)got;
}

static enum http_body_rc read_body(struct http_req *, size_t);

/* Read once: a second call (a forwarded write, replfwd.c) returns the same. */
enum http_body_rc
http_read_body(struct http_req *r, size_t max)
{
	if (!r->body_read) {
		r->body_rc = read_body(r, max);
		r->body_read = 1;
	}
	return r->body_rc;
}

static enum http_body_rc
read_body(struct http_req *r, size_t max)
{
	char		 chunk[8192];
	long long	 want = r->content_length;
	int		 n;

	buf_reset(&r->body);
	buf_init(&r->body, max, 1);
	if (want == -2)
		return HTTP_BODY_ERROR;
	if (want > (long long)max)
		return HTTP_BODY_TOO_LARGE;
	if (want < 0)
		want = (long long)max + 1;	/* read to EOF, bounded */
	while ((long long)r->body.len < want) {
		size_t ask = sizeof(chunk);

		if ((long long)ask > want - (long long)r->body.len)
			ask = (size_t)(want - (long long)r->body.len);
		if ((n = read_some(r, chunk, ask)) < 0) {
			secure_wipe(chunk, sizeof(chunk));
			return HTTP_BODY_ERROR;
		}
		if (n == 0)
			break;
		if (buf_add(&r->body, chunk, (size_t)n) == -1) {
			secure_wipe(chunk, sizeof(chunk));
			return HTTP_BODY_TOO_LARGE;
		}
	}
	secure_wipe(chunk, sizeof(chunk));
	if (r->content_length >= 0 && (long long)r->body.len < r->content_length)
		return HTTP_BODY_SHORT;
	if (r->body.data == NULL && buf_add(&r->body, "", 0) == -1)
		return HTTP_BODY_ERROR;
	return HTTP_BODY_OK;
}

void
http_media_type(const struct http_req *r, char *out, size_t n)
{
	const char	*ct = r->content_type;
	size_t		 i = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	if (ct == NULL)
		return;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	while (ct[i] != '\0' && ct[i] != ';' && ct[i] != ' ' && ct[i] != '\t' &&
	    i + 1 < n) {
		out[i] = (char)tolower((unsigned char)ct[i]);
		i++;
	}
	out[i] = '\0';
}

/*
 * The value of a charset parameter at p[0..n) (quoted or not): 1 when it
 * names UTF-8, whatever the case.
 */
static int
charset_utf8(const char *p, size_t n)
{
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	}
	return n == 5 && strncasecmp(p, "utf-8", 5) == 0;
}

int
http_ctype_charset_ok(const char *ct)
{
	const char	*param, *end, *eq, *v;
	size_t		 name, n;

	if (ct == NULL || (end = strchr(ct, ';')) == NULL)
		return 1;
	while (*end == ';') {
		param = end + 1 + strspn(end + 1, " \t");
		end = param + strcspn(param, ";");
		if ((eq = memchr(param, '=', (size_t)(end - param))) == NULL)
			continue;
		for (name = (size_t)(eq - param); name > 0 &&
		    (param[name - 1] == ' ' || param[name - 1] == '\t'); name--)
			;
		if (name != 7 || strncasecmp(param, "charset", 7) != 0)
			continue;
		v = eq + 1 + strspn(eq + 1, " \t");
		for (n = v < end ? (size_t)(end - v) : 0; n > 0 &&
		    (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
			;
		if (!charset_utf8(v, n))
			return 0;
	}
	return 1;
}

int
http_wants_html(const struct http_req *r)
{
	const char *a = r->accept;

	if (a == NULL)
		return 0;
	return strstr(a, "text/html") != NULL &&
	    strstr(a, "application/json") == NULL;
}

static void
put(struct http_req *r, const char *p, size_t n)
{
	size_t	off = 0;
	ssize_t	w;

	if (r->out != NULL) {
		FCGX_PutStr(p, (int)n, r->out);
		return;
	}
	while (off < n) {
		w = write(STDOUT_FILENO, p + off, n - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static const char *
reason(int status)
{
	char	 s[8];
	size_t	 i;

	snprintf(s, sizeof(s), "%d", status);
	for (i = 0; i < sizeof(reason_phrases) / sizeof(reason_phrases[0]); i++)
		if (strcmp(reason_phrases[i][0], s) == 0)
			return reason_phrases[i][1];
	return "Unknown";
}

void
http_send(struct http_req *r, int status, const char *ctype,
    const char *extra, const char *body, size_t len)
{
	struct buf h;

	if (r->responded)
		return;
	r->responded = 1;
	r->status = status;
	buf_init(&h, 64 * 1024, 0);
	(void)buf_reserve(&h, 512);	/* the usual headers, in one malloc */
	buf_printf(&h, "Status: %d %s\r\n", status, reason(status));
	if (ctype != NULL)
		buf_printf(&h, "Content-Type: %s\r\n", ctype);
	if (body != NULL || status != 204)
		buf_printf(&h, "Content-Length: %zu\r\n", body ? len : 0);
	buf_adds(&h, "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n");
	if (r->request_id[0] != '\0')
		buf_printf(&h, "Request-Id: %s\r\n", r->request_id);
	if (extra != NULL)
		buf_adds(&h, extra);
	buf_adds(&h, "\r\n");
	put(r, h.data, h.len);
	buf_reset(&h);
	if (body != NULL && len > 0 && r->method != HM_HEAD)
		put(r, body, len);
}

void
http_flush(struct http_req *r)
{
	if (r->out != NULL)
		FCGX_FFlush(r->out);
}

void
http_send_json(struct http_req *r, int status, struct json_object *o,
    const char *extra)
{
	const char	*s;
	size_t		 n;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	http_send(r, status, "application/json", extra, s, n);
}

struct json_object *
http_error_json(const struct apierr *e)
{
	struct json_object	*o, *err, *det, *d;
	size_t			 i;

	err = json_object_new_object();
	json_object_object_add(err, "code",
	    json_object_new_string(apierr_name(e->code)));
	json_object_object_add(err, "message", json_object_new_string(
	    e->message ? e->message : apierr_default_message(e->code)));
	if (e->nd > 0) {
		det = json_object_new_array();
		for (i = 0; i < e->nd; i++) {
			d = json_object_new_object();
			json_object_object_add(d, "field",
			    json_object_new_string(e->d[i].field));
			json_object_object_add(d, "reason",
			    json_object_new_string(
			    apierr_reason_code(e->d[i].reason)));
			json_object_array_add(det, d);
		}
		json_object_object_add(err, "details", det);
	}
	o = json_object_new_object();
	json_object_object_add(o, "error", err);
	return o;
}

void
http_send_error(struct http_req *r, const struct apierr *e, const char *extra)
{
	struct json_object *o = http_error_json(e);

	http_send_json(r, apierr_status(e->code), o, extra);
	json_object_put(o);
}

void
http_fail(struct http_req *r, enum apierr_code c, const char *msg,
    const char *extra)
{
	struct apierr e;

	apierr_init(&e, c, msg);
	http_send_error(r, &e, extra);
}
