/*
 * mockprov: a scriptable HTTP/1.1 mock provider for credstore tests.
 *
 * usage: mockprov [-q] [-a addr] [-p port] [-P portfile]
 *
 * Control endpoints (never recorded):
 *	POST /__mock/route	add a route (JSON object, see route_new())
 *	POST /__mock/reset	drop all routes and the request log, count 0
 *	GET  /__mock/requests	JSON array of the recorded requests
 *	GET  /__mock/count	{"count": N}: requests since the last reset
 *	GET  /__mock/health	"ok"
 * Any other request is counted and recorded (-q: only counted, for the
 * benchmark: a record is some twenty allocations and memory that only
 * grows), then answered by the newest matching
 * route, or with 404 {"error":"no route"}.  Its record's "inflight" is
 * how many recorded requests were being answered when it arrived, itself
 * included (how many calls reached the mock at once).
 *
 * One detached thread per connection; keep-alive, pipelining,
 * Content-Length and chunked request bodies are supported.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define HEAD_MAX	(64 * 1024)	/* request line + headers */
#define BODY_MAX	(1024 * 1024)	/* request body */
#define CHUNK_SZ	(64 * 1024)	/* "big" mode write size */
#define IDLE_SEC	60		/* receive timeout */
#define DRAIN_MAX	(64 * 1024 * 1024)
#define STOP_WAIT_SEC	5

enum mode {
	MODE_NORMAL,
	MODE_TRICKLE,
	MODE_CLOSE,
	MODE_BIG,
	MODE_ECHO	/* the body: the request as JSON (echo_json) */
};

struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 err;
};

struct route {
	struct route	*next;
	int		 refs;		/* route list + requests in flight */
	long long	 id;
	char		*method;	/* NULL: any */
	char		*path;
	char		*mhdr, *mval;	/* header match, or NULL */
	char		*mbody;		/* bodyContains, or NULL */
	int		 status;
	struct sbuf	 hdrs;		/* "Name: value\r\n" lines */
	char		*body;
	size_t		 bodylen;
	long		 delay_ms;
	long		 trickle_ms;
	long long	 big_bytes;
	long		 chunk_ms;	/* "big" mode: pause between chunks */
	enum mode	 mode;
};

struct hdr {
	char	*name;
	char	*value;
};

struct req {
	char		*head;		/* owned copy of the request head */
	char		*method;
	char		*path;
	char		*query;		/* NULL if none */
	int		 minor;		/* HTTP/1.x */
	int		 is_head;
	struct hdr	*hdrs;
	size_t		 nhdrs;
	char		*body;		/* NUL-terminated once read */
	size_t		 bodylen;
};

struct conn {
	struct conn	*prev, *next;
	int		 fd;
	int		 keep;		/* keep the connection open after */
	int		 minor;
	int		 linger;	/* drain input before closing */
	size_t		 len;
	char		 buf[HEAD_MAX];
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 stopcv;	/* broadcast when stopping */
	pthread_cond_t	 donecv;	/* signalled when a connection ends */
	int		 stopping;
	struct conn	*conns;
	int		 nconns;
	struct route	*routes;	/* newest first */
	long long	 nextid;
	json_object	*log;
	long long	 count;		/* requests since the last reset */
	int		 quiet;		/* -q: count, do not record */
	int		 inflight;	/* recorded requests being answered */
} g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.stopcv = PTHREAD_COND_INITIALIZER,
	.donecv = PTHREAD_COND_INITIALIZER,
};

static volatile sig_atomic_t got_sig;

static void	sb_printf(struct sbuf *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));

static void
sb_add(struct sbuf *b, const void *p, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->err || n == 0)
		return;
	if (b->cap - b->len <= n) {
		ncap = b->cap ? b->cap : 256;
		while (ncap - b->len <= n)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 tmp[512], *p;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = 1;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		sb_add(b, tmp, n);
		return;
	}
	if ((p = malloc((size_t)n + 1)) == NULL) {
		b->err = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, p, n);
	free(p);
}

static int
send_all(int fd, const void *p, size_t n)
{
	const char	*s = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = send(fd, s, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sleep for ms milliseconds; returns -1 early when the server stops. */
static int
msleep(long ms)
{
	struct timespec	 ts;
	int		 stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g.lock);
	while (!g.stopping &&
	    pthread_cond_timedwait(&g.stopcv, &g.lock, &ts) != ETIMEDOUT)
		;
	stop = g.stopping;
	pthread_mutex_unlock(&g.lock);
	return stop ? -1 : 0;
}

static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

/* Does the comma-separated header value v contain token tok? */
static int
has_token(const char *v, const char *tok)
{
	size_t	 n, tl = strlen(tok);

	while (*v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, ",");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(v, tok, n) == 0)
			return 1;
		v += strcspn(v, ",");
	}
	return 0;
}

static const char *
reason(int status)
{
	static const struct { int code; const char *text; } tab[] = {
	    { 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
	    { 202, "Accepted" }, { 204, "No Content" }, { 302, "Found" },
	    { 304, "Not Modified" }, { 400, "Bad Request" },
	    { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
	    { 408, "Request Timeout" }, { 413, "Content Too Large" },
	    { 429, "Too Many Requests" },
	    { 431, "Request Header Fields Too Large" },
	    { 500, "Internal Server Error" }, { 501, "Not Implemented" },
	    { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	    { 504, "Gateway Timeout" } };
	size_t	 i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].code == status)
			return tab[i].text;
	return "Unknown";
}

/* Read more input into c->buf: 1 on data, 0 on EOF, -1 on error. */
static int
conn_fill(struct conn *c)
{
	ssize_t	 r;

	if (c->len == sizeof(c->buf))
		return -1;
	for (;;) {
		r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? 0 : -1;
		c->len += (size_t)r;
		return 1;
	}
}

static void
conn_consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Read exactly n bytes into dst: buffered input first, then the socket. */
static int
conn_read(struct conn *c, char *dst, size_t n)
{
	size_t	 k;
	ssize_t	 r;

	k = c->len < n ? c->len : n;
	memcpy(dst, c->buf, k);
	conn_consume(c, k);
	while (k < n) {
		r = recv(c->fd, dst + k, n - k, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		k += (size_t)r;
	}
	return 0;
}

/*
 * Return the next input line, NUL-terminated without CR LF, at the start
 * of c->buf; the caller consumes *used bytes once done with it.
 */
static char *
conn_line(struct conn *c, size_t *used)
{
	char	*nl;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL)
		if (conn_fill(c) != 1)
			return NULL;
	*used = (size_t)(nl - c->buf) + 1;
	*nl = '\0';
	if (nl > c->buf && nl[-1] == '\r')
		nl[-1] = '\0';
	return c->buf;
}

/*
 * Buffer one request head; returns its length, 0 on EOF before a
 * request, -1 on error, -2 if it exceeds HEAD_MAX.
 */
static long
read_head(struct conn *c)
{
	size_t	 i;
	int	 rc;

	for (;;) {
		while (c->len > 0 && (c->buf[0] == '\r' || c->buf[0] == '\n'))
			conn_consume(c, 1);
		for (i = 0; i < c->len; i++) {
			if (c->buf[i] != '\n')
				continue;
			if (i + 1 < c->len && c->buf[i + 1] == '\n')
				return (long)i + 2;
			if (i + 2 < c->len && c->buf[i + 1] == '\r' &&
			    c->buf[i + 2] == '\n')
				return (long)i + 3;
		}
		if (c->len == sizeof(c->buf))
			return -2;
		if ((rc = conn_fill(c)) != 1)
			return rc == 0 && c->len == 0 ? 0 : -1;
	}
}

/* Split r->head in place into request line and headers. */
static int
parse_head(struct req *r)
{
	char		*p = r->head, *line, *target, *ver, *v, *e;
	struct hdr	*nh;
	size_t		 cap = 0;

	line = strsep(&p, "\n");
	line[strcspn(line, "\r")] = '\0';
	r->method = line;
	if ((target = strchr(line, ' ')) == NULL)
		return -1;
	*target++ = '\0';
	if ((ver = strchr(target, ' ')) == NULL)
		return -1;
	*ver++ = '\0';
	if (!is_token(r->method) || strncmp(ver, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)ver[7]) || ver[8] != '\0')
		return -1;
	r->minor = ver[7] - '0';
	r->is_head = strcmp(r->method, "HEAD") == 0;
	if (*target != '/')
		return -1;
	r->path = target;
	if ((v = strchr(target, '?')) != NULL) {
		*v = '\0';
		r->query = v + 1;
	}
	/* the head ends with an empty line, so strsep never returns NULL */
	while (*(line = strsep(&p, "\n")) != '\0' && *line != '\r') {
		line[strcspn(line, "\r")] = '\0';
		if ((v = strchr(line, ':')) == NULL)
			return -1;
		*v++ = '\0';
		if (!is_token(line))	/* also rejects obs-fold */
			return -1;
		v += strspn(v, " \t");
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (r->nhdrs == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nh = reallocarray(r->hdrs, cap, sizeof(*nh))) ==
			    NULL)
				return -1;
			r->hdrs = nh;
		}
		r->hdrs[r->nhdrs].name = line;
		r->hdrs[r->nhdrs].value = v;
		r->nhdrs++;
	}
	return 0;
}

/* Last value of header name (case-insensitive), or NULL. */
static const char *
get_hdr(const struct req *r, const char *name)
{
	size_t	 i;

	for (i = r->nhdrs; i > 0; i--)
		if (strcasecmp(r->hdrs[i - 1].name, name) == 0)
			return r->hdrs[i - 1].value;
	return NULL;
}

/* Decode a chunked body; returns 0, an HTTP error status, or -1. */
static int
read_chunked(struct conn *c, struct req *r)
{
	char		*line, *e, *nb;
	size_t		 used;
	unsigned long	 sz;
	int		 empty;

	for (;;) {
		if ((line = conn_line(c, &used)) == NULL)
			return -1;
		if (!isxdigit((unsigned char)*line))
			return 400;
		errno = 0;
		sz = strtoul(line, &e, 16);
		if (errno != 0 ||
		    (*e != '\0' && *e != ';' && *e != ' ' && *e != '\t'))
			return 400;
		conn_consume(c, used);
		if (sz == 0)
			break;
		if (sz > BODY_MAX - r->bodylen)
			return 413;
		if ((nb = realloc(r->body, r->bodylen + sz + 1)) == NULL)
			return -1;
		r->body = nb;
		if (conn_read(c, r->body + r->bodylen, sz) == -1)
			return -1;
		r->bodylen += sz;
		r->body[r->bodylen] = '\0';
		if ((line = conn_line(c, &used)) == NULL)
			return -1;
		if (*line != '\0')
			return 400;
		conn_consume(c, used);
	}
	do {			/* trailer section */
		if ((line = conn_line(c, &used)) == NULL)
			return -1;
		empty = *line == '\0';
		conn_consume(c, used);
	} while (!empty);
	return 0;
}

/* Read the request body; returns 0, an HTTP error status, or -1. */
static int
read_body(struct conn *c, struct req *r)
{
	const char		*te, *cl, *ex;
	char			*e;
	unsigned long long	 n = 0;

	if ((r->body = calloc(1, 1)) == NULL)
		return -1;
	te = get_hdr(r, "Transfer-Encoding");
	cl = get_hdr(r, "Content-Length");
	if (te != NULL && strcasecmp(te, "chunked") != 0)
		return 501;
	if (te == NULL && cl != NULL) {
		if (!isdigit((unsigned char)*cl))
			return 400;
		errno = 0;
		n = strtoull(cl, &e, 10);
		if (errno != 0 || *e != '\0')
			return 400;
		if (n > BODY_MAX)
			return 413;
	}
	ex = get_hdr(r, "Expect");
	if (ex != NULL && r->minor >= 1 &&
	    strcasecmp(ex, "100-continue") == 0 &&
	    (te != NULL || n > 0) &&
	    send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) == -1)
		return -1;
	if (te != NULL)
		return read_chunked(c, r);
	if (n == 0)
		return 0;
	free(r->body);
	if ((r->body = malloc(n + 1)) == NULL)
		return -1;
	if (conn_read(c, r->body, n) == -1)
		return -1;
	r->body[n] = '\0';
	r->bodylen = n;
	return 0;
}

/* Append a status line plus headers, framing and the empty line. */
static void
sb_head(struct sbuf *b, const struct conn *c, int status,
    const char *extra, size_t extralen, unsigned long long len)
{
	sb_printf(b, "HTTP/1.1 %d %s\r\n", status, reason(status));
	sb_add(b, extra, extralen);
	sb_printf(b, "Content-Length: %llu\r\n", len);
	if (!c->keep)
		sb_printf(b, "Connection: close\r\n");
	else if (c->minor == 0)
		sb_printf(b, "Connection: keep-alive\r\n");
	sb_add(b, "\r\n", 2);
}

/* Send a complete response; returns 0, or -1 on I/O error. */
static int
respond(struct conn *c, int status, const char *hdrs, const char *body,
    size_t len, int is_head)
{
	struct sbuf	 b = { 0 };
	int		 rc;

	sb_head(&b, c, status, hdrs, hdrs ? strlen(hdrs) : 0, len);
	if (!is_head)
		sb_add(&b, body, len);
	rc = b.err ? -1 : send_all(c->fd, b.p, b.len);
	free(b.p);
	return rc;
}

static int
reply_json(struct conn *c, const struct req *r, int status, json_object *o)
{
	const char	*s;
	int		 rc;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = respond(c, status, "Content-Type: application/json\r\n", s,
	    strlen(s), r != NULL && r->is_head);
	json_object_put(o);
	return rc;
}

static int
reply_error(struct conn *c, const struct req *r, int status, const char *msg)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return reply_json(c, r, status, o);
}

static void
route_free(struct route *rt)
{
	free(rt->method);
	free(rt->path);
	free(rt->mhdr);
	free(rt->mval);
	free(rt->mbody);
	free(rt->hdrs.p);
	free(rt->body);
	free(rt);
}

static int
json_str(json_object *v, char **dst)
{
	if (!json_object_is_type(v, json_type_string))
		return -1;
	free(*dst);
	if ((*dst = strdup(json_object_get_string(v))) == NULL)
		return -1;
	return 0;
}

static int
json_int(json_object *v, long long min, long long max, long long *dst)
{
	long long	 n;

	if (!json_object_is_type(v, json_type_int))
		return -1;
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return -1;
	*dst = n;
	return 0;
}

/* "match": {"header": NAME, "equals": VALUE} and/or {"bodyContains": S} */
static int
parse_match(struct route *rt, json_object *m)
{
	if (!json_object_is_type(m, json_type_object))
		return -1;
	json_object_object_foreach(m, k, v) {
		if (strcmp(k, "header") == 0) {
			if (json_str(v, &rt->mhdr) == -1 || !is_token(rt->mhdr))
				return -1;
		} else if (strcmp(k, "equals") == 0) {
			if (json_str(v, &rt->mval) == -1)
				return -1;
		} else if (strcmp(k, "bodyContains") == 0) {
			if (json_str(v, &rt->mbody) == -1)
				return -1;
		} else
			return -1;
	}
	return (rt->mhdr == NULL) == (rt->mval == NULL) ? 0 : -1;
}

/* "headers": {NAME: VALUE, ...}; framing headers are ours to send. */
static int
parse_headers(struct route *rt, json_object *h)
{
	const char	*s;

	if (!json_object_is_type(h, json_type_object))
		return -1;
	json_object_object_foreach(h, k, v) {
		if (!is_token(k) || !json_object_is_type(v, json_type_string) ||
		    strcasecmp(k, "Content-Length") == 0 ||
		    strcasecmp(k, "Transfer-Encoding") == 0 ||
		    strcasecmp(k, "Connection") == 0)
			return -1;
		s = json_object_get_string(v);
		if (strpbrk(s, "\r\n") != NULL)
			return -1;
		sb_printf(&rt->hdrs, "%s: %s\r\n", k, s);
	}
	return rt->hdrs.err ? -1 : 0;
}

/* "body": a string is sent as is, any other JSON value serialised. */
static int
set_body(struct route *rt, json_object *v)
{
	const char	*s;
	size_t		 len;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
	} else {
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		len = strlen(s);
	}
	free(rt->body);
	if ((rt->body = malloc(len + 1)) == NULL)
		return -1;
	memcpy(rt->body, s, len);
	rt->body[len] = '\0';
	rt->bodylen = len;
	return 0;
}

static int
parse_mode(struct route *rt, json_object *v)
{
	static const char *const names[] = { "normal", "trickle", "close",
	    "big", "echo" };
	static const enum mode modes[] = { MODE_NORMAL, MODE_TRICKLE,
	    MODE_CLOSE, MODE_BIG, MODE_ECHO };
	size_t	 i;

	if (!json_object_is_type(v, json_type_string))
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(json_object_get_string(v), names[i]) == 0) {
			rt->mode = modes[i];
			return 0;
		}
	return -1;
}

/*
 * Build a route from the JSON object o.  Keys: path (required), method,
 * match, status (200-599), headers, body, delayMs/hangMs, mode
 * (normal|trickle|close|big|echo: the body is the request as JSON,
 * {"method","path","query","headers","body"}), trickleMs (default 200), chunkMs (big
 * mode: the pause between 64 KiB chunks, default 0), bigBytes
 * (default 1 MiB).  Unknown keys are rejected so typos do not go unseen.
 */
static struct route *
route_new(json_object *o, char *err, size_t errsz)
{
	struct route	*rt;
	long long	 n;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	rt->status = 200;
	rt->trickle_ms = 200;
	rt->big_bytes = BODY_MAX;
	json_object_object_foreach(o, k, v) {
		if (strcmp(k, "method") == 0) {
			if (json_str(v, &rt->method) == -1 ||
			    !is_token(rt->method))
				goto bad;
		} else if (strcmp(k, "path") == 0) {
			if (json_str(v, &rt->path) == -1 || rt->path[0] != '/')
				goto bad;
		} else if (strcmp(k, "match") == 0) {
			if (parse_match(rt, v) == -1)
				goto bad;
		} else if (strcmp(k, "status") == 0) {
			if (json_int(v, 200, 599, &n) == -1)
				goto bad;
			rt->status = (int)n;
		} else if (strcmp(k, "headers") == 0) {
			if (parse_headers(rt, v) == -1)
				goto bad;
		} else if (strcmp(k, "body") == 0) {
			if (set_body(rt, v) == -1)
				goto bad;
		} else if (strcmp(k, "delayMs") == 0 ||
		    strcmp(k, "hangMs") == 0) {
			if (json_int(v, 0, 3600000, &n) == -1)
				goto bad;
			rt->delay_ms = (long)n;
		} else if (strcmp(k, "trickleMs") == 0) {
			if (json_int(v, 0, 60000, &n) == -1)
				goto bad;
			rt->trickle_ms = (long)n;
		} else if (strcmp(k, "chunkMs") == 0) {
			if (json_int(v, 0, 60000, &n) == -1)
				goto bad;
			rt->chunk_ms = (long)n;
		} else if (strcmp(k, "bigBytes") == 0) {
			if (json_int(v, 0, 1LL << 40, &n) == -1)
				goto bad;
			rt->big_bytes = n;
		} else if (strcmp(k, "mode") == 0) {
			if (parse_mode(rt, v) == -1)
				goto bad;
		} else {
			snprintf(err, errsz, "unknown field \"%s\"", k);
			goto fail;
		}
	}
	if (rt->path == NULL) {
		snprintf(err, errsz, "\"path\" is required");
		goto fail;
	}
	return rt;
bad:
	snprintf(err, errsz, "invalid value for \"%s\"", k);
fail:
	route_free(rt);
	return NULL;
}

static int
route_match(const struct route *rt, const struct req *r)
{
	size_t	 i;

	if (rt->method != NULL && strcasecmp(rt->method, r->method) != 0)
		return 0;
	if (strcmp(rt->path, r->path) != 0)
		return 0;
	if (rt->mhdr != NULL) {
		for (i = 0; i < r->nhdrs; i++)
			if (strcasecmp(r->hdrs[i].name, rt->mhdr) == 0 &&
			    strcmp(r->hdrs[i].value, rt->mval) == 0)
				break;
		if (i == r->nhdrs)
			return 0;
	}
	if (rt->mbody != NULL && memmem(r->body, r->bodylen, rt->mbody,
	    strlen(rt->mbody)) == NULL)
		return 0;
	return 1;
}

/* Newest matching route, referenced, or NULL. */
static struct route *
route_find(const struct req *r)
{
	struct route	*rt;

	pthread_mutex_lock(&g.lock);
	for (rt = g.routes; rt != NULL; rt = rt->next)
		if (route_match(rt, r)) {
			rt->refs++;
			break;
		}
	pthread_mutex_unlock(&g.lock);
	return rt;
}

static void
record(const struct req *r)
{
	json_object	*o, *h;
	struct timespec	 ts;
	size_t		 i;

	clock_gettime(CLOCK_REALTIME, &ts);
	o = json_object_new_object();
	h = json_object_new_object();
	for (i = 0; i < r->nhdrs; i++)	/* a repeated name keeps the last */
		json_object_object_add(h, r->hdrs[i].name,
		    json_object_new_string(r->hdrs[i].value));
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "path", json_object_new_string(r->path));
	json_object_object_add(o, "query", r->query == NULL ? NULL :
	    json_object_new_string(r->query));
	json_object_object_add(o, "headers", h);
	json_object_object_add(o, "body",
	    json_object_new_string_len(r->body, (int)r->bodylen));
	json_object_object_add(o, "time", json_object_new_int64(
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
	pthread_mutex_lock(&g.lock);
	g.count++;
	json_object_object_add(o, "inflight", json_object_new_int(++g.inflight));
	json_object_array_add(g.log, o);
	pthread_mutex_unlock(&g.lock);
}

/* The request as JSON (malloc'd): what "echo" mode answers. */
static char *
echo_json(const struct req *r)
{
	json_object	*o, *h;
	char		*s;
	size_t		 i;

	o = json_object_new_object();
	h = json_object_new_object();
	for (i = 0; i < r->nhdrs; i++)
		json_object_object_add(h, r->hdrs[i].name,
		    json_object_new_string(r->hdrs[i].value));
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "path", json_object_new_string(r->path));
	json_object_object_add(o, "query", r->query == NULL ? NULL :
	    json_object_new_string(r->query));
	json_object_object_add(o, "headers", h);
	json_object_object_add(o, "body",
	    json_object_new_string_len(r->body ? r->body : "", (int)r->bodylen));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/* Answer r from route rt; returns -1 when the connection must close. */
static int
serve_route(struct conn *c, const struct req *r, const struct route *rt)
{
	struct sbuf		 b = { 0 };
	char			*chunk = NULL;
	unsigned long long	 len, off;
	size_t			 n;
	int			 rc = -1;

	if (rt->delay_ms > 0 && msleep(rt->delay_ms) == -1)
		return -1;
	if (rt->mode == MODE_ECHO) {
		if ((chunk = echo_json(r)) == NULL)
			return -1;
		sb_head(&b, c, rt->status, rt->hdrs.p, rt->hdrs.len,
		    strlen(chunk));
		if (!r->is_head)
			sb_add(&b, chunk, strlen(chunk));
		rc = b.err ? -1 : send_all(c->fd, b.p, b.len);
		goto out;
	}
	len = rt->mode == MODE_BIG ? (unsigned long long)rt->big_bytes :
	    rt->bodylen;
	sb_head(&b, c, rt->status, rt->hdrs.p, rt->hdrs.len, len);
	if (b.err)
		goto out;
	switch (rt->mode) {
	case MODE_NORMAL:
		if (!r->is_head)
			sb_add(&b, rt->body, rt->bodylen);
		rc = b.err ? -1 : send_all(c->fd, b.p, b.len);
		break;
	case MODE_CLOSE:
		/* half of the response, at least the status line */
		if (!r->is_head)
			sb_add(&b, rt->body, rt->bodylen);
		n = strcspn(b.p, "\n") + 1;
		if (!b.err)
			send_all(c->fd, b.p, b.len / 2 > n ? b.len / 2 : n);
		c->keep = 0;
		break;
	case MODE_TRICKLE:
		if (send_all(c->fd, b.p, b.len) == -1)
			break;
		for (off = 0; !r->is_head && off < len; off++)
			if (msleep(rt->trickle_ms) == -1 ||
			    send_all(c->fd, rt->body + off, 1) == -1)
				goto out;
		rc = 0;
		break;
	case MODE_ECHO:		/* answered above */
		break;
	case MODE_BIG:
		if (send_all(c->fd, b.p, b.len) == -1)
			break;
		if (!r->is_head) {
			if ((chunk = malloc(CHUNK_SZ)) == NULL)
				break;
			memset(chunk, 'A', CHUNK_SZ);
			for (off = 0; off < len; off += n) {
				n = len - off < CHUNK_SZ ?
				    (size_t)(len - off) : CHUNK_SZ;
				if ((off > 0 && rt->chunk_ms > 0 &&
				    msleep(rt->chunk_ms) == -1) ||
				    send_all(c->fd, chunk, n) == -1)
					goto out;
			}
		}
		rc = 0;
		break;
	}
out:
	free(chunk);
	free(b.p);
	return rc;
}

static int
ctl_route(struct conn *c, const struct req *r)
{
	struct json_tokener	*tok;
	json_object		*o, *res;
	struct route		*rt;
	char			 err[160];
	size_t			 end;
	long long		 id;

	if ((tok = json_tokener_new()) == NULL)
		return -1;
	o = json_tokener_parse_ex(tok, r->body, (int)r->bodylen);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o != NULL && end < r->bodylen &&
	    strspn(r->body + end, " \t\r\n") != r->bodylen - end) {
		json_object_put(o);
		o = NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return reply_error(c, r, 400, "body must be a JSON object");
	}
	rt = route_new(o, err, sizeof(err));
	json_object_put(o);
	if (rt == NULL)
		return reply_error(c, r, 400, err);
	pthread_mutex_lock(&g.lock);
	id = rt->id = ++g.nextid;
	rt->refs = 1;
	rt->next = g.routes;
	g.routes = rt;
	pthread_mutex_unlock(&g.lock);
	res = json_object_new_object();
	json_object_object_add(res, "ok", json_object_new_boolean(1));
	json_object_object_add(res, "id", json_object_new_int64(id));
	return reply_json(c, r, 200, res);
}

/* Drop routes and log; the caller holds g.lock. */
static void
reset_locked(void)
{
	struct route	*rt;

	while ((rt = g.routes) != NULL) {
		g.routes = rt->next;
		if (--rt->refs == 0)
			route_free(rt);
	}
	json_object_put(g.log);
	g.log = json_object_new_array();
	g.count = 0;
}

/* Handle /__mock/...: control endpoints are never recorded. */
static int
control(struct conn *c, const struct req *r)
{
	const char	*ep = r->path + strlen("/__mock/");
	char		*s;
	int		 get, post, rc;
	json_object	*res;

	get = strcmp(r->method, "GET") == 0 || r->is_head;
	post = strcmp(r->method, "POST") == 0;
	if (strcmp(ep, "health") == 0 || strcmp(ep, "requests") == 0 ||
	    strcmp(ep, "count") == 0) {
		if (!get)
			return respond(c, 405, "Allow: GET, HEAD\r\n", "", 0,
			    0);
		if (ep[0] == 'h')
			return respond(c, 200, "Content-Type: text/plain\r\n",
			    "ok", 2, r->is_head);
		pthread_mutex_lock(&g.lock);
		if (ep[0] == 'c') {
			res = json_object_new_object();
			json_object_object_add(res, "count",
			    json_object_new_int64(g.count));
			pthread_mutex_unlock(&g.lock);
			return reply_json(c, r, 200, res);
		}
		s = strdup(json_object_to_json_string_ext(g.log,
		    JSON_C_TO_STRING_PLAIN));
		pthread_mutex_unlock(&g.lock);
		if (s == NULL)
			return -1;
		rc = respond(c, 200, "Content-Type: application/json\r\n", s,
		    strlen(s), r->is_head);
		free(s);
		return rc;
	}
	if (strcmp(ep, "route") == 0 || strcmp(ep, "reset") == 0) {
		if (!post)
			return respond(c, 405, "Allow: POST\r\n", "", 0, 0);
		if (ep[1] == 'o')
			return ctl_route(c, r);
		pthread_mutex_lock(&g.lock);
		reset_locked();
		pthread_mutex_unlock(&g.lock);
		res = json_object_new_object();
		json_object_object_add(res, "ok", json_object_new_boolean(1));
		return reply_json(c, r, 200, res);
	}
	return reply_error(c, r, 404, "unknown control endpoint");
}

static int
dispatch(struct conn *c, const struct req *r)
{
	struct route	*rt;
	int		 rc;

	if (strncmp(r->path, "/__mock/", 8) == 0)
		return control(c, r);
	if (g.quiet) {			/* -q: counted, not recorded */
		pthread_mutex_lock(&g.lock);
		g.count++;
		++g.inflight;
		pthread_mutex_unlock(&g.lock);
	} else
		record(r);
	if ((rt = route_find(r)) == NULL)
		rc = reply_error(c, r, 404, "no route");
	else
		rc = serve_route(c, r, rt);
	pthread_mutex_lock(&g.lock);
	if (rt != NULL && --rt->refs == 0)
		route_free(rt);
	g.inflight--;
	pthread_mutex_unlock(&g.lock);
	return rc;
}

/* Read and answer one request; returns -1 to close the connection. */
static int
serve_one(struct conn *c)
{
	struct req	 r;
	const char	*v;
	long		 n;
	int		 rc = -1, st;

	memset(&r, 0, sizeof(r));
	c->keep = 0;
	c->minor = 1;
	if ((n = read_head(c)) <= 0) {
		if (n == -2) {
			reply_error(c, NULL, 431, "request head too large");
			c->linger = 1;
		}
		return -1;
	}
	if ((r.head = malloc((size_t)n + 1)) == NULL)
		return -1;
	memcpy(r.head, c->buf, (size_t)n);
	r.head[n] = '\0';
	conn_consume(c, (size_t)n);
	if (memchr(r.head, '\0', (size_t)n) != NULL || parse_head(&r) == -1) {
		reply_error(c, NULL, 400, "malformed request");
		c->linger = 1;
		goto done;
	}
	c->minor = r.minor;
	v = get_hdr(&r, "Connection");
	c->keep = r.minor == 0 ? v != NULL && has_token(v, "keep-alive") :
	    v == NULL || !has_token(v, "close");
	if ((st = read_body(c, &r)) != 0) {
		if (st > 0) {
			c->keep = 0;
			reply_error(c, &r, st, st == 413 ? "body too large" :
			    st == 501 ? "unsupported transfer-encoding" :
			    "malformed body");
			c->linger = 1;
		}
		goto done;
	}
	rc = dispatch(c, &r);
	if (!c->keep)
		rc = -1;
done:
	free(r.head);
	free(r.hdrs);
	free(r.body);
	return rc;
}

/* Half-close, then discard input for a while so the peer reads our reply. */
static void
lingering_close(int fd)
{
	struct timeval	 tv = { 1, 0 };
	char		 buf[4096];
	size_t		 tot = 0;
	ssize_t		 r;

	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (tot < DRAIN_MAX && (r = recv(fd, buf, sizeof(buf), 0)) > 0)
		tot += (size_t)r;
}

static void *
conn_main(void *arg)
{
	struct conn	*c = arg;

	while (serve_one(c) == 0)
		;
	if (c->linger)
		lingering_close(c->fd);
	pthread_mutex_lock(&g.lock);	/* unlink before the fd is reused */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g.lock);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&g.lock);
	g.nconns--;
	pthread_cond_signal(&g.donecv);
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

static void
conn_start(int fd)
{
	struct conn	*c;
	struct timeval	 tv = { IDLE_SEC, 0 };
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 on = 1, e;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&g.lock);
	c->next = g.conns;
	if (g.conns != NULL)
		g.conns->prev = c;
	g.conns = c;
	g.nconns++;
	pthread_mutex_unlock(&g.lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		fprintf(stderr, "mockprov: pthread_create: %s\n", strerror(e));
		c->linger = 0;
		shutdown(fd, SHUT_RDWR);
		conn_main(c);	/* just unlinks and frees */
	}
}

static int
listen_on(const char *addr, const char *port, int *actual)
{
	struct addrinfo		 hints, *res;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	int			 fd, on = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(addr, port, &hints, &res)) != 0) {
		fprintf(stderr, "mockprov: %s: %s\n", addr, gai_strerror(e));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		fprintf(stderr, "mockprov: listen %s port %s: %s\n", addr,
		    port, strerror(errno));
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	*actual = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Write "port\n" to path via path.tmp and rename(2). */
static int
write_portfile(const char *path, int port)
{
	char	 tmp[PATH_MAX];
	FILE	*f;
	int	 bad;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	bad = fprintf(f, "%d\n", port) < 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	got_sig = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mockprov [-q] [-a addr] [-p port] "
	    "[-P portfile]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char	*addr = "127.0.0.1", *port = "0", *portfile = NULL;
	struct sigaction sa;
	struct pollfd	 pfd;
	struct timespec	 ts;
	struct conn	*c;
	sigset_t	 block, omask;
	char		*e;
	long		 l;
	int		 ch, lfd, fd, actual, left;

	while ((ch = getopt(argc, argv, "a:p:P:q")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			errno = 0;
			l = strtol(optarg, &e, 10);
			if (*optarg == '\0' || *e != '\0' || errno != 0 ||
			    l < 0 || l > 65535)
				usage();
			port = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'q':
			g.quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Signals stay blocked except inside ppoll(2) in this thread. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &omask);
	sigdelset(&omask, SIGTERM);
	sigdelset(&omask, SIGINT);

	if ((g.log = json_object_new_array()) == NULL)
		return 1;
	if ((lfd = listen_on(addr, port, &actual)) == -1)
		return 1;
	if (portfile != NULL && write_portfile(portfile, actual) == -1) {
		fprintf(stderr, "mockprov: %s: %s\n", portfile,
		    strerror(errno));
		return 1;
	}
	printf("%d\n", actual);
	fflush(stdout);

	while (!got_sig) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (ppoll(&pfd, 1, NULL, &omask) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mockprov: poll: %s\n",
			    strerror(errno));
			break;
		}
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				ts.tv_sec = 0;
				ts.tv_nsec = 50 * 1000000L;
				nanosleep(&ts, NULL);
			}
			continue;
		}
		conn_start(fd);
	}
	close(lfd);

	/* Wake sleepers, unblock I/O, give connections time to finish. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += STOP_WAIT_SEC;
	pthread_mutex_lock(&g.lock);
	g.stopping = 1;
	pthread_cond_broadcast(&g.stopcv);
	for (c = g.conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (g.nconns > 0 &&
	    pthread_cond_timedwait(&g.donecv, &g.lock, &ts) != ETIMEDOUT)
		;
	left = g.nconns;
	if (left == 0) {
		reset_locked();
		json_object_put(g.log);
		g.log = NULL;
	}
	pthread_mutex_unlock(&g.lock);
	if (left > 0)
		fprintf(stderr, "mockprov: %d connections still busy\n", left);
	return 0;
}
