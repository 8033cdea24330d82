/*
 * credstore.fcgi: the entry program.  Under a FastCGI server (lighttpd
 * mod_fastcgi, spawn-fcgi, Apache mod_fcgid or mod_proxy_fcgi) it accepts
 * requests in a loop on the socket it was given; started without one it
 * is a plain CGI program and answers the one request of its environment.
 * Process-wide state is loaded once, before the first request.
 */
#include "cs_build.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "util.h"

#ifdef CS_SANITIZERS
/*
 * Berkeley DB does not free the handles of an environment that panicked
 * (DB_RUNRECOVERY after another process ran recovery, as in the kill -9
 * tests) when they are closed: about 26 KB per panic, allocated by its
 * __os_malloc.  That is its leak, not ours; LeakSanitizer is told so.
 */
const char	*__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:__os_malloc\nleak:__os_realloc\nleak:__os_calloc\n";
}
#endif

static void
on_term(int sig)
{
	(void)sig;
	FCGX_ShutdownPending();
}

static void
fcgi_log(const char *line, size_t len, void *arg)
{
	FCGX_Stream *err = arg;

	FCGX_PutStr(line, (int)len, err);
}

/* 1 when fd 2 is /dev/null, as under lighttpd's or Apache's spawner. */
static int
stderr_is_null(void)
{
	struct stat a, b;

	return fstat(STDERR_FILENO, &a) == 0 && stat("/dev/null", &b) == 0 &&
	    S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev;
}

/*
 * libfcgi's stream data: its first members, unchanged since libfcgi 2.4
 * (fcgiapp.c, FCGX_Stream_Data).  libfcgi frees its buffers without
 * wiping them, and they hold the request: the Authorization header among
 * the FCGI_PARAMS records, credential values in the FCGI_STDIN records.
 */
struct fcgx_stream_data_head {
	unsigned char	*buff;
	int		 bufflen;
};

/*
 * Wipes what libfcgi keeps of the request before it frees it: unread
 * input is drained first (so FCGX_Finish_r reads nothing afterwards), then
 * the input buffer and the values of the parameters that carry secrets.
 */
static void
wipe_request(FCGX_Request *r)
{
	struct fcgx_stream_data_head	*d;
	char				 scratch[4096];
	char				**e;
	char				*eq;

	if (r->in != NULL) {
		while (FCGX_GetStr(scratch, (int)sizeof(scratch), r->in) > 0)
			;
		secure_wipe(scratch, sizeof(scratch));
		if ((d = r->in->data) != NULL && d->buff != NULL &&
		    d->bufflen > 0)
			secure_wipe(d->buff, (size_t)d->bufflen);
	}
	for (e = r->envp; e != NULL && *e != NULL; e++)
		if ((strncmp(*e, "HTTP_AUTHORIZATION=", 19) == 0 ||
		    strncmp(*e, "REDIRECT_HTTP_AUTHORIZATION=", 28) == 0 ||
		    strncmp(*e, "HTTP_COOKIE=", 12) == 0) &&
		    (eq = strchr(*e, '=')) != NULL)
			secure_wipe(eq + 1, strlen(eq + 1));
}

/*
 * mod_fcgid gives an .htaccess file's SetEnv to each request, not to the
 * process it starts (shared hosting has no FcgidInitialEnv): a process
 * started without CREDSTORE_CONFIG in its environment takes it, and
 * CREDSTORE_TEMPLATES, from its first request's parameters.  They are
 * the server's settings: a client's headers arrive as HTTP_*.
 */
static void
adopt_server_env(char **envp)
{
	static const char *const names[] = {
		"CREDSTORE_CONFIG", "CREDSTORE_TEMPLATES"
	};
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (getenv(names[i]) == NULL &&
		    (v = FCGX_GetParam(names[i], envp)) != NULL && *v != '\0' &&
		    setenv(names[i], v, 1) == -1)
			log_error("setenv %s failed", names[i]);
}

static void
serve(struct app *a, FCGX_Stream *in, FCGX_Stream *out, char **envp)
{
	struct http_req req;

	if (http_req_begin(&req, in, out, envp) == -1)
		http_fail(&req, AE_INTERNAL, NULL, NULL);
	else
		handle_request(a, &req);
	http_req_end(&req);
}

/*
 * --help and --version, answered before anything is loaded.  Only when
 * started by hand: a CGI request (GATEWAY_INTERFACE set) may carry
 * arguments from an ISINDEX query string, and they are not options.
 * Returns an exit status, or -1 to go on serving.
 */
static int
options(int argc, char **argv)
{
	const char *a = argc > 1 ? argv[1] : NULL;

	if (a == NULL || getenv("GATEWAY_INTERFACE") != NULL)
		return -1;
	if (argc == 2 && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
		printf("usage: credstore.fcgi [--help | --version]\n"
		    "The credstore web program: a FastCGI responder when its\n"
		    "standard input is a listening socket (spawn-fcgi, lighttpd\n"
		    "mod_fastcgi, Apache mod_fcgid), else a CGI program answering\n"
		    "the one request of its environment.\n"
		    "environment:\n"
		    "  CREDSTORE_CONFIG     the configuration file (default %s)\n"
		    "  CREDSTORE_TEMPLATES  the admin page's templates (now %s)\n"
		    "  CREDSTORE_MOUNT      the path prefix credstore is mounted at\n"
		    "see credstore.fcgi(8) and credstore.conf(5)\n",
		    config_default_path(), app_templates_dir());
		return 0;
	}
	if (argc == 2 && strcmp(a, "--version") == 0) {
		printf("credstore.fcgi %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: credstore.fcgi [--help | --version]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct app		 app;
	struct sigaction	 sa;
	FCGX_Request		 r;
	int			 to_stream, deferred;

	if ((to_stream = options(argc, argv)) != -1)
		return to_stream;
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0)
		return 1;
	if (FCGX_IsCGI()) {
		sigset_t term;

		/*
		 * A CGI request runs to its end, storage closed: lighttpd's
		 * mod_cgi sends SIGTERM as soon as the answer is complete,
		 * and a process that dies inside a transaction or while it
		 * closes the environment makes Berkeley DB panic every other
		 * process (they reopen and recover, but requests fail).  The
		 * signals stay blocked until exit, a few milliseconds later;
		 * SIGKILL still works.
		 */
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigaddset(&term, SIGINT);
		sigaddset(&term, SIGHUP);
		sigprocmask(SIG_BLOCK, &term, NULL);
		(void)app_init(&app, config_path_from_env(), APP_CGI);
		serve(&app, NULL, NULL, NULL);
		app_free(&app);
		return 0;
	}
	/* without CREDSTORE_CONFIG, loaded at the first request (above) */
	memset(&app, 0, sizeof(app));
	if ((deferred = getenv("CREDSTORE_CONFIG") == NULL) == 0)
		(void)app_init(&app, config_path_from_env(), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: accept() returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	if (FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	to_stream = stderr_is_null();
	while (FCGX_Accept_r(&r) >= 0) {
		if (to_stream)
			log_set_sink(fcgi_log, r.err);
		if (deferred) {
			adopt_server_env(r.envp);
			(void)app_init(&app, config_path_from_env(), 0);
			deferred = 0;
		}
		serve(&app, r.in, r.out, r.envp);
		log_set_sink(NULL, NULL);
		wipe_request(&r);
		/*
		 * libfcgi's lingering close (shutdown, then wait for the server
		 * to hang up) stays: closing at once made lighttpd 1.4.69 leave
		 * some answers waiting for its once-a-second timer (p99 1 s).
		 */
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 1);
	app_free(&app);
	log_debug("shutting down");
	return 0;
}
