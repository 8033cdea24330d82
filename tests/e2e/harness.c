#include "cs_build.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"
#include "jsonx.h"
#include "jwt.h"
#include "util.h"

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "harness: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(99);
}

static int
free_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		die("bind: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* 1 when the suite's extra configuration sets key. */
static int
extra_has(const struct h_opts *o, const char *key)
{
	return o != NULL && o->conf_extra != NULL &&
	    strstr(o->conf_extra, key) != NULL;
}

char *
h_slurp(const char *path, size_t *len)
{
	FILE		*f;
	char		 chunk[65536];
	size_t		 n;
	struct buf	 b;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	buf_init(&b, 1024 * 1024 * 1024, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(&b, chunk, n) == -1)
			break;
	fclose(f);
	if (buf_add(&b, "", 0) == -1) {
		buf_reset(&b);
		return NULL;
	}
	return buf_steal(&b, len);
}

static void
spit(const char *path, const char *s, mode_t mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1)
		die("%s: %s", path, strerror(errno));
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("%s: short write", path);
	close(fd);
}

static pid_t
spawn(char *const argv[], const char *out, char *const envp[])
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (out != NULL &&
		    (fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		setpgid(0, 0);
		if (envp != NULL)
			execve(argv[0], argv, envp);
		else
			execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* The wrapper script of CREDSTORE_FCGI_WRAPPER, or NULL. */
static const char *
fcgi_wrapper(void)
{
	const char *w = getenv("CREDSTORE_FCGI_WRAPPER");

	return (w != NULL && *w != '\0') ? w : NULL;
}

/* What lighttpd starts: credstore.fcgi itself or the wrapper that runs it. */
static const char *
fcgi_bin_path(struct h_env *e)
{
	const char *w = fcgi_wrapper();

	return w != NULL ? w : e->fcgi;
}

/*
 * Replaces the value of "var.NAME = ..." lines of the shipped example
 * (etc/lighttpd-cgi.conf.example for the CGI mode) and drops its
 * server.username and server.groupname: lighttpd runs as the tests' user.
 */
static char *
gen_lighttpd_conf(struct h_env *e, int procs)
{
	char	 path[700], *ex, *line, *save, *out;
	size_t	 cap;
	struct buf b;

	snprintf(path, sizeof(path), "%s/etc/%s.conf.example", e->srcdir,
	    e->cgi ? "lighttpd-cgi" : "lighttpd");
	if ((ex = h_slurp(path, NULL)) == NULL)
		die("%s: %s", path, strerror(errno));
	cap = strlen(ex) + 4096;
	buf_init(&b, cap, 0);
	for (line = strtok_r(ex, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "server.username", 15) == 0 ||
		    strncmp(line, "server.groupname", 16) == 0)
			continue;
		if (strncmp(line, "var.credstore_mount", 19) == 0)
			buf_printf(&b, "var.credstore_mount = \"%s\"\n", e->mount);
		else if (strncmp(line, "var.credstore_cgi_dir", 21) == 0)
			buf_printf(&b, "var.credstore_cgi_dir = \"%s/www/cgi-bin\"\n",
			    e->dir);
		else if (strncmp(line, "var.credstore_docroot", 21) == 0)
			buf_printf(&b, "var.credstore_docroot = \"%s/www\"\n", e->dir);
		else if (strncmp(line, "var.credstore_fcgi", 18) == 0)
			buf_printf(&b, "var.credstore_fcgi = \"%s\"\n",
			    fcgi_bin_path(e));
		else if (strncmp(line, "var.credstore_templates", 23) == 0)
			buf_printf(&b, "var.credstore_templates = \"%s/templates\"\n",
			    e->srcdir);
		else if (strncmp(line, "var.credstore_config", 20) == 0)
			buf_printf(&b, "var.credstore_config = \"%s\"\n", e->conf);
		else if (strncmp(line, "var.credstore_state", 19) == 0)
			buf_printf(&b, "var.credstore_state = \"%s/www\"\n", e->dir);
		else if (strncmp(line, "var.server_port", 15) == 0)
			buf_printf(&b, "var.server_port = %d\n", e->port);
		else if (procs > 0 && strstr(line, "\"max-procs\"") != NULL)
			buf_printf(&b, "\t\t\"max-procs\" => %d,\n", procs);
		else
			buf_printf(&b, "%s\n", line);
	}
	free(ex);
	out = buf_steal(&b, NULL);
	return out;
}

/* 1 when something listens on 127.0.0.1:port. */
static int
port_open(int port)
{
	struct sockaddr_in	sa;
	int			fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void	via_start(struct h_env *);

int
h_setup_stopped(struct h_env *e, const struct h_opts *o)
{
	const char	*src = getenv("top_srcdir"), *bld = getenv("top_builddir");
	char		 path[4096], portfile[700], *p, *tok;
	char		 mockbin[700], *s, www[700];
	int		 i;

	memset(e, 0, sizeof(*e));
	if (src == NULL || bld == NULL)
		die("top_srcdir and top_builddir must be set (run via make check)");
	snprintf(e->srcdir, sizeof(e->srcdir), "%s", src);
	snprintf(e->dir, sizeof(e->dir), "/tmp/credstore-e2e-XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(e->conf, sizeof(e->conf), "%s/credstore.conf", e->dir);
	snprintf(e->data_dir, sizeof(e->data_dir), "%s/data", e->dir);
	/* lighttpd -D leaves the backends' stderr on its own stderr */
	snprintf(e->errlog, sizeof(e->errlog), "%s/lighttpd.out", e->dir);
	snprintf(e->fcgi, sizeof(e->fcgi), "%s/cgi-bin/credstore.fcgi", bld);
	snprintf(e->admin, sizeof(e->admin), "%s/credstore-admin", bld);
	snprintf(mockbin, sizeof(mockbin), "%s/tests/mock/mockprov", bld);
	snprintf(www, sizeof(www), "%s/www", e->dir);
	mkdir(www, 0755);

	/* the mock provider */
	snprintf(portfile, sizeof(portfile), "%s/mock.port", e->dir);
	snprintf(path, sizeof(path), "%s/mock.log", e->dir);
	{
		char *argv[] = { mockbin, (char *)"-P", portfile, NULL };

		e->mock = spawn(argv, path, NULL);
	}
	for (i = 0; i < 200 && (s = h_slurp(portfile, NULL)) == NULL; i++)
		usleep(20000);
	if (s == NULL)
		die("mock provider did not start");
	e->mock_port = (int)strtol(s, NULL, 10);
	free(s);
	if (e->mock_port <= 0 || e->mock_port > 65535)
		die("mock provider wrote a bad port");

	e->port = free_port();
	snprintf(path, sizeof(path),
	    "# generated by the end-to-end harness\n"
	    "data_dir = data\n"
	    "keyring = keyring\n"
	    "catalog = %s%s\n"
	    "jwt_secret_file = jwt.secret\n"
	    "jwt_issuer = https://issuer.test\n"
	    "jwt_audience = credstore\n"
	    "probe_timeout_ms = %ld\n"
	    "probe_origin_override = http://127.0.0.1:%d\n"
	    "max_body_bytes = %ld\n"
	    "log_level = debug\n"
	    "%s%s%s", o && o->catalog ? o->catalog : src,
	    o && o->catalog ? "" : "/etc/catalog.json",
	    o && o->probe_timeout_ms > 0 ? o->probe_timeout_ms : 1500L,
	    e->mock_port,
	    o && o->max_body_bytes > 0 ? o->max_body_bytes : 16384L,
	    o && o->conf_extra ? o->conf_extra : "",
	    /*
	     * The per-tenant limits out of the way of suites that test other
	     * things with many requests of one tenant (a slow sanitizer build
	     * keeps more checks in flight); e2e_limits sets its own.
	     */
	    extra_has(o, "tenant_checks_in_flight") ? "" :
	    "tenant_checks_in_flight = 14\n",
	    extra_has(o, "tenant_rate_limit") ? "" : "tenant_rate_limit = 0\n");
	spit(e->conf, path, 0644);
	if (h_admin(e, NULL, "init", NULL) != 0)
		die("credstore-admin init failed");
	if (h_admin(e, &tok, "token", "--sub", "alice", "--tenant", "acme",
	    "--role", "admin", NULL) != 0)
		die("token failed");
	e->tok_admin = tok;
	if ((p = strchr(tok, '\n')) != NULL)
		*p = '\0';
	if (h_admin(e, &tok, "token", "--sub", "bob", "--tenant", "acme",
	    "--role", "viewer", NULL) != 0)
		die("token failed");
	e->tok_reader = tok;
	if ((p = strchr(tok, '\n')) != NULL)
		*p = '\0';
	if (h_admin(e, &tok, "token", "--sub", "carol", "--tenant", "globex",
	    "--role", "admin", NULL) != 0)
		die("token failed");
	e->tok_other = tok;
	if ((p = strchr(tok, '\n')) != NULL)
		*p = '\0';

	e->procs = o ? o->procs : 0;
	if (o != NULL && o->mount != NULL)
		snprintf(e->mount, sizeof(e->mount), "%s", o->mount);
	if (o != NULL && o->cgi) {
		/* the shared-hosting layout: the program in www/cgi-bin/ */
		e->cgi = 1;
		snprintf(path, sizeof(path), "%s/cgi-bin", www);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/cgi-bin/credstore.fcgi", www);
		if (symlink(fcgi_bin_path(e), path) == -1)
			die("symlink %s: %s", path, strerror(errno));
	}
	via_start(e);
	return 0;
}

int
h_setup(struct h_env *e, const struct h_opts *o)
{
	h_setup_stopped(e, o);
	if (h_start_server(e, 200) != 200)
		die("lighttpd did not answer /healthz in %s", e->dir);
	return 0;
}

long
h_start_server(struct h_env *e, long want)
{
	const char	*lighttpd = getenv("LIGHTTPD");
	char		 path[700], lpath[700], *conf;
	int		 i, tries, via;
	long		 last = 0;
	struct h_resp	 r;
	char		 health[200];

	if (lighttpd == NULL)
		lighttpd = "/usr/sbin/lighttpd";
	conf = gen_lighttpd_conf(e, e->procs);
	snprintf(path, sizeof(path), "%s/lighttpd.conf", e->dir);
	spit(path, conf, 0644);
	free(conf);
	{
		char *argv[] = { (char *)lighttpd, (char *)"-D", (char *)"-f",
		    path, NULL };

		snprintf(lpath, sizeof(lpath), "%s/lighttpd.out", e->dir);
		e->lighttpd = spawn(argv, lpath, NULL);
	}
	/* 15 s; a FastCGI process under valgrind starts far slower */
	tries = fcgi_wrapper() != NULL ? 2400 : 300;
	snprintf(health, sizeof(health), "%s/healthz", e->mount);
	/* lighttpd itself: prism would call a server not yet up a violation */
	via = e->via_port;
	e->via_port = 0;
	for (i = 0; i < tries; i++) {
		if (h_req(e, "GET", health, NULL, NULL, NULL, NULL, &r) == 0) {
			last = r.status;
			if (want == 0 || r.status == want) {
				h_resp_free(&r);
				e->via_port = via;
				return last;
			}
		}
		h_resp_free(&r);
		usleep(50000);
	}
	e->via_port = via;
	return last;
}

static void
stop(pid_t pid)
{
	int i, st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

void
h_stop_server(struct h_env *e)
{
	stop(e->lighttpd);
	e->lighttpd = 0;
}

/* What a sanitizer's report starts with: one list to find and to print. */
static const char *const sanitizer_marks[] = { "WARNING: ThreadSanitizer",
    "ThreadSanitizer:", "AddressSanitizer", "LeakSanitizer",
    "runtime error:" };

/*
 * 1 when the server's output holds a sanitizer's report.  It is then
 * copied to this test's own output (the make check log), from the line
 * of its first mark on, at most 200 lines: the folder with the server's
 * output is removed at teardown, and a report that happens once in many
 * runs must not be lost with it.  One read of the file.
 */
int
h_sanitizer_report(struct h_env *e)
{
	const char	*at = NULL, *p, *end, *nl;
	char		*s;
	size_t		 len, i, n;
	int		 lines;

	if (e->errlog[0] == '\0' || (s = h_slurp(e->errlog, &len)) == NULL)
		return 0;
	for (i = 0; i < sizeof(sanitizer_marks) / sizeof(sanitizer_marks[0]);
	    i++) {
		n = strlen(sanitizer_marks[i]);
		if ((p = memmem(s, len, sanitizer_marks[i], n)) != NULL &&
		    (at == NULL || p < at))
			at = p;
	}
	if (at != NULL) {
		while (at > s && at[-1] != '\n')
			at--;
		fprintf(stderr, "harness: sanitizer report in %s:\n",
		    e->errlog);
		end = s + len;
		for (p = at, lines = 0; p < end && lines < 200; lines++) {
			nl = memchr(p, '\n', (size_t)(end - p));
			n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
			fwrite(p, 1, n, stderr);
			p += n;
		}
	}
	free(s);
	return at != NULL;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H_ASAN	1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(CS_SANITIZERS)
#define H_ASAN	1
#endif
/* ThreadSanitizer (--enable-tsan): its reports count the same */
#if defined(__SANITIZE_THREAD__) || defined(CS_TSAN)
#define H_ASAN	1
#endif

int
h_sanitizer_build(void)
{
#ifdef H_ASAN
	return 1;
#else
	return 0;
#endif
}

void
h_teardown(struct h_env *e)
{
	char cmd[700];

	stop(e->lighttpd);
	stop(e->mock);
	stop(e->prism);
	stop(e->prism_lax);
	free(e->tok_admin);
	free(e->tok_reader);
	free(e->tok_other);
	if (getenv("KEEP_E2E") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: could not remove %s\n", e->dir);
	} else
		fprintf(stderr, "harness: kept %s\n", e->dir);
}

struct acc {
	struct buf b;
};

static size_t
acc_write(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_add(b, p, sz * n) == -1)
		return 0;
	return sz * n;
}

/* One request in flight: its handle, header list and buffers. */
struct h_xfer {
	CURL			*c;
	struct curl_slist	*l;
	struct buf		 bb, hb;
	struct timeval		 t0;
};

/* Appends "prefix value" to the header list l. */
static struct curl_slist *
hdr_add(struct curl_slist *l, const char *prefix, const char *value)
{
	size_t	 n = strlen(prefix) + strlen(value) + 1;
	char	*line;

	if ((line = malloc(n)) == NULL)
		return l;
	snprintf(line, n, "%s%s", prefix, value);
	l = curl_slist_append(l, line);
	free(line);
	return l;
}

/* Sets x up for the request k (not yet sent); -1 when out of memory. */
static int
xfer_prepare(struct h_env *e, int port, const struct h_call *k,
    struct h_xfer *x)
{
	char		 url[4096];
	const char	*body = k->body;
	size_t		 i;

	memset(x, 0, sizeof(*x));
	if ((x->c = curl_easy_init()) == NULL)
		return -1;
	buf_init(&x->bb, 64 * 1024 * 1024, 0);
	buf_init(&x->hb, 1024 * 1024, 0);
	(void)e;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, k->path);
	curl_easy_setopt(x->c, CURLOPT_URL, url);
	curl_easy_setopt(x->c, CURLOPT_CUSTOMREQUEST, k->method);
	curl_easy_setopt(x->c, CURLOPT_PATH_AS_IS, 1L);
	if (strcmp(k->method, "HEAD") == 0)
		curl_easy_setopt(x->c, CURLOPT_NOBODY, 1L);
	if (k->token != NULL)
		x->l = hdr_add(x->l, "Authorization: Bearer ", k->token);
	if (k->ctype != NULL)
		x->l = hdr_add(x->l, "Content-Type: ", k->ctype);
	else if (body != NULL)
		x->l = curl_slist_append(x->l, "Content-Type:");	/* none */
	x->l = curl_slist_append(x->l, "Expect:");
	for (i = 0; k->hdrs != NULL && k->hdrs[i] != NULL; i++)
		x->l = curl_slist_append(x->l, k->hdrs[i]);
	curl_easy_setopt(x->c, CURLOPT_HTTPHEADER, x->l);
	if (body == NULL && (strcmp(k->method, "POST") == 0 ||
	    strcmp(k->method, "PUT") == 0 || strcmp(k->method, "PATCH") == 0))
		body = "";	/* Content-Length: 0, as clients send */
	if (body != NULL) {
		curl_easy_setopt(x->c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(x->c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, acc_write);
	curl_easy_setopt(x->c, CURLOPT_WRITEDATA, &x->bb);
	curl_easy_setopt(x->c, CURLOPT_HEADERFUNCTION, acc_write);
	curl_easy_setopt(x->c, CURLOPT_HEADERDATA, &x->hb);
	curl_easy_setopt(x->c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L);
	gettimeofday(&x->t0, NULL);
	return 0;
}

/* Moves x's answer into r and frees x; -1 when r could not be filled. */
static int
xfer_finish(struct h_xfer *x, struct h_resp *r)
{
	struct timeval t1;

	gettimeofday(&t1, NULL);
	r->seconds = (double)(t1.tv_sec - x->t0.tv_sec) +
	    (double)(t1.tv_usec - x->t0.tv_usec) / 1e6;
	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(x->l);
	curl_easy_cleanup(x->c);
	if (buf_add(&x->bb, "", 0) == -1 || buf_add(&x->hb, "", 0) == -1) {
		buf_reset(&x->bb);
		buf_reset(&x->hb);
		return -1;
	}
	r->body = buf_steal(&x->bb, &r->len);
	r->headers = buf_steal(&x->hb, NULL);
	return 0;
}

/* Starts one prism proxy in front of lighttpd: its pid; *port set. */
static pid_t
via_spawn(struct h_env *e, const char *prism, const char *doc, int errors,
    int *port)
{
	char	pstr[16], upstream[64], log[700];

	*port = free_port();
	snprintf(pstr, sizeof(pstr), "%d", *port);
	snprintf(upstream, sizeof(upstream), "http://127.0.0.1:%d", e->port);
	snprintf(log, sizeof(log), "%s/prism%s.log", e->dir, errors ? "" :
	    "-lax");
	{
		char *argv[] = { (char *)prism, (char *)"proxy",
		    (char *)(errors ? "--errors" : "--errors=false"),
		    (char *)"--cors=false", (char *)"-h", (char *)"127.0.0.1",
		    (char *)"-p", pstr, (char *)"-v", (char *)"warn",
		    (char *)doc, upstream, NULL };

		return spawn(argv, log, NULL);
	}
}

/* Waits until the proxy pid listens on port; else ends the run. */
static void
via_wait(struct h_env *e, pid_t pid, int port)
{
	int i, gone = 0;

	/* 90 s: node starts slowly on a loaded machine */
	for (i = 0; i < 1800 && !port_open(port); i++) {
		if ((gone = waitpid(pid, NULL, WNOHANG) == pid))
			break;
		usleep(50000);
	}
	if (port_open(port))
		return;
	/* leave nothing running behind */
	if (gone)
		*(pid == e->prism ? &e->prism : &e->prism_lax) = 0;
	stop(e->prism);
	stop(e->prism_lax);
	stop(e->mock);
	die("prism %s on port %d (see %s/prism*.log)", gone ? "ended at start" :
	    "did not listen", port, e->dir);
}

/*
 * Starts the validating proxies of CS_E2E_PRISM in front of lighttpd:
 * `prism proxy --errors` for every request, and one without --errors
 * for the requests the first finds outside the document (a suite's
 * deliberate bad requests): that one forwards them and still checks the
 * answer against the document (its sl-violations header).
 */
static void
via_start(struct h_env *e)
{
	const char	*prism = getenv("CS_E2E_PRISM"), *doc;
	char		 dpath[700];

	if (prism == NULL || *prism == '\0')
		return;
	if ((doc = getenv("CS_E2E_OPENAPI")) == NULL || *doc == '\0') {
		snprintf(dpath, sizeof(dpath), "%s/etc/openapi.json", e->srcdir);
		doc = dpath;
	}
	e->prism = via_spawn(e, prism, doc, 1, &e->via_port);
	e->prism_lax = via_spawn(e, prism, doc, 0, &e->via_lax_port);
	via_wait(e, e->prism, e->via_port);
	via_wait(e, e->prism_lax, e->via_lax_port);
}

/* Appends one line to the file named by the environment variable var. */
static void
via_log(const char *var, const struct h_call *k, long status, const char *what)
{
	const char	*out = getenv(var);
	FILE		*f;

	if (out == NULL || *out == '\0' || (f = fopen(out, "a")) == NULL)
		return;
	fprintf(f, "%s %.300s -> %ld: %.8000s\n", k->method, k->path, status,
	    what);
	fclose(f);
}

enum via_verdict {
	VIA_OK,		/* the server's answer, request and answer in the doc */
	VIA_ANSWER,	/* the server's answer is not what the doc says */
	VIA_OUTSIDE,	/* prism refused the request: outside the document */
	VIA_PRISM	/* prism failed (e.g. lighttpd down): no verdict */
};

/* 1 when an sl-violations list (JSON) names the response. */
static int
via_names_response(const char *v)
{
	struct json_object	*a, *x, *loc;
	size_t			 i;
	int			 found = 0;

	if ((a = json_tokener_parse(v)) == NULL)
		return 1;	/* "Too many violations! ...": assume the worst */
	for (i = 0; json_object_is_type(a, json_type_array) &&
	    i < json_object_array_length(a); i++) {
		x = json_object_array_get_idx(a, i);
		if (json_object_object_get_ex(x, "location", &loc) &&
		    json_object_is_type(loc, json_type_array) &&
		    json_object_array_length(loc) > 0 &&
		    strcmp(json_object_get_string(json_object_array_get_idx(loc,
		    0)), "response") == 0)
			found = 1;
	}
	json_object_put(a);
	return found;
}

/* What prism said of an answer; what gets its words. */
static enum via_verdict
via_judge(const struct h_resp *r, char *what, size_t n)
{
	const char		*v, *ct, *type;
	struct json_object	*o, *t;
	enum via_verdict	 rc = VIA_PRISM;

	what[0] = '\0';
	ct = h_header(r, "Content-Type");
	if (ct != NULL && strncmp(ct, "application/problem+json", 24) == 0) {
		snprintf(what, n, "%s", r->body ? r->body : "");
		if ((o = h_json(r)) == NULL)
			return VIA_PRISM;
		type = json_object_object_get_ex(o, "type", &t) ?
		    json_object_get_string(t) : "";
		if (strstr(type, "#VIOLATIONS") != NULL)
			rc = VIA_ANSWER;
		else if (strstr(type, "#UNAUTHORIZED") != NULL ||
		    strstr(type, "#UNPROCESSABLE_ENTITY") != NULL ||
		    strstr(type, "#NO_PATH_MATCHED_ERROR") != NULL ||
		    strstr(type, "#NO_METHOD_MATCHED_ERROR") != NULL ||
		    strstr(type, "#NO_SERVER_MATCHED_ERROR") != NULL ||
		    strstr(type, "#PROXY_UNSUPPORTED_REQUEST_BODY") != NULL)
			rc = VIA_OUTSIDE;
		json_object_put(o);
		return rc;
	}
	if ((v = h_header(r, "sl-violations")) == NULL)
		return VIA_OK;
	snprintf(what, n, "%s", v);
	return via_names_response(what) ? VIA_ANSWER : VIA_OUTSIDE;
}

/* One request to port: lighttpd itself or a proxy. */
static int
req_at(struct h_env *e, int port, const struct h_call *k, struct h_resp *r)
{
	struct h_xfer	 x;
	CURLcode	 cc;

	memset(r, 0, sizeof(*r));
	if (xfer_prepare(e, port, k, &x) == -1)
		return -1;
	cc = curl_easy_perform(x.c);
	if (xfer_finish(&x, r) == -1)
		return -1;
	return cc == CURLE_OK ? 0 : -1;
}

/* A body prism would refuse, or parse and write again differently. */
static int
via_body_unsafe(const struct h_call *k)
{
	struct json_object	*o;
	const char		*err;
	int			 same;

	if (k->body == NULL || *k->body == '\0')
		return 0;
	if (strcmp(k->method, "GET") == 0 || strcmp(k->method, "HEAD") == 0)
		return 1;	/* prism refuses a body there */
	if (k->ctype == NULL || strstr(k->ctype, "json") == NULL)
		return 0;
	/*
	 * prism parses a JSON body and sends it on compact: only a body that
	 * is strict JSON (no duplicate keys, ...) written compact as json-c
	 * writes it reaches the server unchanged
	 */
	if ((o = jsonx_parse(k->body, strlen(k->body), 64, 0, &err)) == NULL)
		return 1;
	same = strcmp(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), k->body) == 0;
	json_object_put(o);
	return !same;
}

/*
 * Sends k through prism (done: r holds its answer already) and judges
 * the answer: a violation of the document is reported and makes the
 * call fail (-1, status 0); a request outside it is logged (file
 * CS_E2E_OUTSIDE) and answered through the proxy without --errors, whose
 * verdict on the answer counts, or by lighttpd itself when prism cannot
 * pass it on.  CS_E2E_PRISM_STRICT=1 makes a request outside the
 * document a violation too.
 */
static int
via_finish(struct h_env *e, const struct h_call *k, struct h_resp *r,
    int done)
{
	enum via_verdict	 v = VIA_OUTSIDE;
	const char		*strict = getenv("CS_E2E_PRISM_STRICT");
	char			 what[8192];
	int			 rc = 0;

	if (!done && via_body_unsafe(k)) {
		via_log("CS_E2E_OUTSIDE", k, 0, "(sent to lighttpd itself: a "
		    "body prism would change or refuse)");
		return req_at(e, e->port, k, r);
	}
	if (!done)
		rc = req_at(e, e->via_port, k, r);
	if (rc == 0 && (v = via_judge(r, what, sizeof(what))) == VIA_OK) {
		via_log("CS_E2E_CHECKED", k, r->status, "in the document");
		return 0;
	}
	if (rc == 0 && v == VIA_OUTSIDE && strict != NULL && *strict == '1')
		v = VIA_ANSWER;
	if (rc == 0 && v == VIA_OUTSIDE) {
		via_log("CS_E2E_OUTSIDE", k, r->status, what);
		h_resp_free(r);
		rc = req_at(e, e->via_lax_port, k, r);
		if (rc == 0 && (v = via_judge(r, what, sizeof(what))) !=
		    VIA_ANSWER && v != VIA_PRISM) {
			/* answered; request-side findings only */
			via_log("CS_E2E_CHECKED", k, r->status,
			    "outside the document; the answer in it");
			return 0;
		}
	}
	if (rc != 0 || v == VIA_PRISM) {
		/* prism could not pass it on: lighttpd itself answers */
		via_log("CS_E2E_OUTSIDE", k, rc == 0 ? r->status : 0,
		    rc == 0 ? what : "(prism: no answer)");
		h_resp_free(r);
		return req_at(e, e->port, k, r);
	}
	fprintf(stderr, "harness: openapi violation: %s %.300s -> %ld: %s\n",
	    k->method, k->path, r->status, what);
	via_log("CS_E2E_VIOLATIONS", k, r->status, what);
	r->status = 0;
	return -1;
}

int
h_req(struct h_env *e, const char *method, const char *path, const char *token,
    const char *ctype, const char *body, const char *const *hdrs,
    struct h_resp *r)
{
	struct h_call	 k = { method, path, token, ctype, body, hdrs };

	if (e->via_port != 0)
		return via_finish(e, &k, r, 0);
	return req_at(e, e->port, &k, r);
}

long long
h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
h_req_recovered(struct h_env *e, long long start_ms, const char *method,
    const char *path, const char *token, const char *ctype, const char *body,
    const char *const *hdrs, struct h_resp *r)
{
	for (;;) {
		/* credstore's own answers carry Request-Id (SPEC) */
		if (h_req(e, method, path, token, ctype, body, hdrs, r) == 0 &&
		    r->status != 502 && r->status != 503 &&
		    h_header(r, "Request-Id") != NULL)
			return 0;
		if (h_now_ms() - start_ms >= H_RECOVER_MS)
			return -1;
		fprintf(stderr, "recovering: %s %s: %ld%s, again\n", method,
		    path, r->status, r->status == 0 ? " (no answer)" :
		    h_header(r, "Request-Id") == NULL ? " (not credstore's)" :
		    "");
		h_resp_free(r);
		usleep(200000);
	}
}

int
h_req_many(struct h_env *e, const struct h_call *k, size_t n,
    struct h_resp *r)
{
	CURLM		*m;
	CURLMsg		*msg;
	struct h_xfer	*x;
	size_t		 i, ok = 0;
	int		 running = 1, left, rc = -1;

	for (i = 0; i < n; i++)
		memset(&r[i], 0, sizeof(r[i]));
	if ((m = curl_multi_init()) == NULL)
		return -1;
	if ((x = calloc(n, sizeof(*x))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (xfer_prepare(e, e->via_port && !via_body_unsafe(&k[i]) ?
		    e->via_port : e->port, &k[i], &x[i]) == -1)
			goto out;
		curl_multi_add_handle(m, x[i].c);
	}
	while (running > 0) {
		if (curl_multi_perform(m, &running) != CURLM_OK ||
		    (running > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) !=
		    CURLM_OK))
			goto out;
		while ((msg = curl_multi_info_read(m, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK)
				ok++;
	}
	rc = ok == n ? 0 : -1;
out:
	for (i = 0; x != NULL && i < n; i++) {
		if (x[i].c == NULL)
			continue;
		curl_multi_remove_handle(m, x[i].c);
		if (xfer_finish(&x[i], &r[i]) == -1)
			rc = -1;
		else if (e->via_port != 0 && !via_body_unsafe(&k[i]) &&
		    via_finish(e, &k[i], &r[i], 1) == -1)
			rc = -1;
	}
	free(x);
	curl_multi_cleanup(m);
	return rc;
}

void
h_resp_free(struct h_resp *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

/* Fills r from the first response in s[0..n). */
static void
raw_parse(const char *s, size_t n, struct h_resp *r)
{
	const char	*eoh, *cl;
	size_t		 hlen, blen;
	long long	 want;

	if (n < 12 || strncmp(s, "HTTP/1.", 7) != 0)
		return;
	r->status = strtol(s + 9, NULL, 10);
	eoh = memmem(s, n, "\r\n\r\n", 4);
	hlen = eoh != NULL ? (size_t)(eoh - s) + 4 : n;
	if ((r->headers = malloc(hlen + 1)) == NULL)
		return;
	memcpy(r->headers, s, hlen);
	r->headers[hlen] = '\0';
	blen = n - hlen;
	if ((cl = h_header(r, "Content-Length")) != NULL) {
		want = strtoll(cl, NULL, 10);
		if (want >= 0 && (unsigned long long)want < blen)
			blen = (size_t)want;
	}
	if ((r->body = malloc(blen + 1)) == NULL)
		return;
	memcpy(r->body, s + hlen, blen);
	r->body[blen] = '\0';
	r->len = blen;
}

int
h_raw(struct h_env *e, const void *req, size_t len, int flags, int timeout_ms,
    struct h_resp *r, char **all, size_t *alllen)
{
	struct sockaddr_in	 sa;
	struct timeval		 t0, t1;
	struct buf		 in;
	char			 chunk[16384];
	const char		*p = req;
	size_t			 off = 0;
	ssize_t			 n;
	int			 fd, left;
	struct pollfd		 pfd;

	memset(r, 0, sizeof(*r));
	if (all != NULL)
		*all = NULL;
	if (alllen != NULL)
		*alllen = 0;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)e->port);
	gettimeofday(&t0, NULL);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	/* the server may answer and close before it read everything */
	while (off < len) {
		n = send(fd, p + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (flags & H_RAW_SHUT_WR)
		shutdown(fd, SHUT_WR);
	buf_init(&in, 64 * 1024 * 1024, 0);
	for (;;) {
		gettimeofday(&t1, NULL);
		left = timeout_ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_usec - t0.tv_usec) / 1000);
		if (left <= 0)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) <= 0)
			break;
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || buf_add(&in, chunk, (size_t)n) == -1)
			break;
	}
	close(fd);
	gettimeofday(&t1, NULL);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	if (buf_add(&in, "", 0) == -1) {
		buf_reset(&in);
		return -1;
	}
	raw_parse(in.data, in.len, r);
	if (alllen != NULL)
		*alllen = in.len;
	if (all != NULL)
		*all = buf_steal(&in, NULL);
	else
		buf_reset(&in);
	return r->status > 0 ? 0 : -1;
}

const char *
h_header(const struct h_resp *r, const char *name)
{
	static char	 val[8192];
	const char	*p = r->headers;
	size_t		 n = strlen(name), l;

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			l = strcspn(p, "\r\n");
			if (l >= sizeof(val))
				l = sizeof(val) - 1;
			memcpy(val, p, l);
			val[l] = '\0';
			return val;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

struct json_object *
h_json(const struct h_resp *r)
{
	return r->body ? json_tokener_parse(r->body) : NULL;
}

const char *
h_errcode(const struct h_resp *r)
{
	static char		 code[64];
	struct json_object	*o, *e, *c;

	code[0] = '\0';
	if ((o = h_json(r)) == NULL)
		return code;
	if (json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "code", &c))
		snprintf(code, sizeof(code), "%s", json_object_get_string(c));
	json_object_put(o);
	return code;
}

int
h_admin(struct h_env *e, char **out, const char *arg, ...)
{
	char	*argv[32];
	int	 n = 0, pfd[2], st;
	pid_t	 pid;
	va_list	 ap;
	struct buf b;
	char	 chunk[4096];
	ssize_t	 got;

	argv[n++] = e->admin;
	argv[n++] = (char *)"-c";
	argv[n++] = e->conf;
	va_start(ap, arg);
	for (; arg != NULL && n < 31; arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	va_end(ap);
	argv[n] = NULL;
	if (pipe(pfd) == -1)
		die("pipe");
	if ((pid = fork()) == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	buf_init(&b, 256 * 1024 * 1024, 0);
	while ((got = read(pfd[0], chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)got);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	buf_add(&b, "", 0);
	if (out != NULL)
		*out = buf_steal(&b, NULL);
	else
		buf_reset(&b);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

char *
h_mint(struct h_env *e, const char *claims)
{
	char		 path[700], err[256], *tok;
	unsigned char	*s;
	size_t		 slen;

	snprintf(path, sizeof(path), "%s/jwt.secret", e->dir);
	if (jwt_secret_load(path, &s, &slen, NULL, err, sizeof(err)) == -1)
		die("%s", err);
	tok = jwt_sign_hs256(s, slen, claims);
	jwt_secret_free(s);
	return tok;
}

static int
mock_call(struct h_env *e, const char *method, const char *path,
    const char *body, struct h_resp *r)
{
	struct h_env	m = *e;

	m.port = e->mock_port;
	m.via_port = 0;		/* the mock provider is not in the document */
	m.via_lax_port = 0;
	return h_req(&m, method, path, NULL, body ? "application/json" : NULL,
	    body, NULL, r);
}

int
h_mock_route(struct h_env *e, const char *json)
{
	struct h_resp	r;
	int		rc;

	rc = mock_call(e, "POST", "/__mock/route", json, &r);
	rc = (rc == 0 && r.status == 200) ? 0 : -1;
	h_resp_free(&r);
	return rc;
}

int
h_mock_reset(struct h_env *e)
{
	struct h_resp	r;
	int		rc;

	rc = mock_call(e, "POST", "/__mock/reset", "{}", &r);
	rc = (rc == 0 && r.status == 200) ? 0 : -1;
	h_resp_free(&r);
	return rc;
}

struct json_object *
h_mock_requests(struct h_env *e)
{
	struct h_resp		 r;
	struct json_object	*o = NULL;

	if (mock_call(e, "GET", "/__mock/requests", NULL, &r) == 0 &&
	    r.status == 200)
		o = h_json(&r);
	h_resp_free(&r);
	return o;
}

int
h_grep_file(const char *path, const char *needle)
{
	char	*s;
	size_t	 len, nl = strlen(needle);
	int	 found = 0;

	if ((s = h_slurp(path, &len)) == NULL)
		return 0;
	if (nl > 0 && len >= nl && memmem(s, len, needle, nl) != NULL)
		found = 1;
	free(s);
	return found;
}

int
h_grep_bytes(const char *path, const void *needle, size_t nl)
{
	char	*s;
	size_t	 len;
	int	 found = 0;

	if ((s = h_slurp(path, &len)) == NULL)
		return 0;
	if (nl > 0 && len >= nl && memmem(s, len, needle, nl) != NULL)
		found = 1;
	free(s);
	return found;
}

int
h_grep_tree(const char *dir, const char *needle)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 found = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode))
			found = h_grep_tree(path, needle);
		else if (S_ISREG(st.st_mode))
			found = h_grep_file(path, needle);
	}
	closedir(d);
	return found;
}

/* 1 when an argument of process pid is path (a wrapped credstore.fcgi). */
static int
cmdline_has(const char *pid, const char *path)
{
	char	 p[300], *s, *a;
	size_t	 len;
	int	 found = 0;

	snprintf(p, sizeof(p), "/proc/%s/cmdline", pid);
	if ((s = h_slurp(p, &len)) == NULL)
		return 0;
	for (a = s; a < s + len; a += strlen(a) + 1)
		if (strcmp(a, path) == 0)
			found = 1;
	free(s);
	return found;
}

int
h_fcgi_pids(struct h_env *e, pid_t *out, int max)
{
	DIR		*d;
	struct dirent	*de;
	char		 link[PATH_MAX], path[300], want[PATH_MAX];
	ssize_t		 n;
	int		 count = 0;

	if (realpath(e->fcgi, want) == NULL)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && count < max) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", de->d_name);
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, want) != 0 &&
		    (fcgi_wrapper() == NULL || (!cmdline_has(de->d_name, want) &&
		    !cmdline_has(de->d_name, e->fcgi))))
			continue;
		/* only the children of this environment's lighttpd */
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		{
			char	*st = h_slurp(path, NULL), *rp;
			long	 ppid = -1;

			if (st != NULL && (rp = strrchr(st, ')')) != NULL)
				ppid = strtol(rp + 4, NULL, 10);
			free(st);
			if (ppid != (long)e->lighttpd)
				continue;
		}
		out[count++] = (pid_t)strtol(de->d_name, NULL, 10);
	}
	closedir(d);
	return count;
}

int
h_env_pids(struct h_env *e, pid_t *out, int max)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[300], want[700], *env, *v;
	size_t		 len;
	int		 count = 0;

	snprintf(want, sizeof(want), "CREDSTORE_CONFIG=%s", e->conf);
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && count < max) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", de->d_name);
		if ((env = h_slurp(path, &len)) == NULL)
			continue;
		for (v = env; v < env + len; v += strlen(v) + 1)
			if (strcmp(v, want) == 0) {
				out[count++] = (pid_t)strtol(de->d_name, NULL,
				    10);
				break;
			}
		free(env);
	}
	closedir(d);
	return count;
}

size_t
h_lines(const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}
