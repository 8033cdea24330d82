/*
 * credstore.fcgi: the entry program.  Under a FastCGI server (lighttpd
 * mod_fastcgi, spawn-fcgi, Apache mod_fcgid or mod_proxy_fcgi) it accepts
 * requests in a loop on the socket it was given; started without one it
 * is a plain CGI program and answers the one request of its environment.
 * Process-wide state is loaded once, before the first request.  A
 * FastCGI process serves fcgi_threads requests at once: that many
 * threads, each accepting on the shared socket with its own FCGX_Request,
 * one at a time (as in libfcgi's threaded example).
 */
#include "cs_build.h"

#include <sys/stat.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <gnutls/gnutls.h>

#include "app.h"
#include "config.h"
#include "curlapi.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "probe.h"
#include "proxy.h"
#include "store.h"
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
 * After wipe_request: a request whose input ended normally (the server's
 * empty FCGI_STDIN record was read) has nothing more coming, so its
 * socket is closed at once.  libfcgi's lingering close (shutdown, wait
 * up to 2 s for the server to hang up, read what it still sends) guards
 * against a reset that makes the server drop the answer when input is
 * left unread; it stays for input that ended in an error.  Three system
 * calls and a wait for the server fewer per request.  (An earlier try
 * saw lighttpd answers wait about a second; very likely the checkpoint
 * stall found and fixed since, and nothing like it comes back: README,
 * Performance.)
 */
static void
close_at_once(FCGX_Request *r)
{
	if (r->in != NULL && FCGX_HasSeenEOF(r->in) == EOF)
		(void)FCGX_Detach(r);
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
serve(struct app_proc *a, FCGX_Stream *in, FCGX_Stream *out, char **envp)
{
	struct http_req req;

	if (http_req_begin(&req, in, out, envp) == -1)
		http_fail(&req, AE_INTERNAL, NULL, NULL);
	else
		handle_request(a, &req);
	http_req_end(&req);
}

/*
 * The threads of a FastCGI process.  Only the main thread takes the
 * signals that stop the process (sigwait); the workers block them, so a
 * signal never interrupts a request half-way (a Berkeley DB call, a
 * provider check).
 */
struct pool {
	struct app_proc	*app;
	int		 to_stream;	/* log lines on the request's stderr */
	/*
	 * One thread in FCGX_Accept_r at a time: libfcgi's accept reads and
	 * writes its own globals, and some systems need accept serialised.
	 */
	pthread_mutex_t	 accept_lock;
	pthread_mutex_t	 lock;		/* the members below */
	pthread_cond_t	 idle;		/* busy went to 0 */
	int		 busy;		/* threads inside a request */
	int		 live;		/* threads not ended */
	int		 stopping;	/* no new request is served */
};

#define POOL_DRAIN_SECONDS	60	/* the longest a stop waits for requests */
/*
 * A thread inside the storage this long (or a replica's acknowledgement
 * timeout and 30 s, when that is longer) waits on a process that died
 * holding a Berkeley DB mutex (src/wedge.c): the watchdog ends the
 * process.  Lock waits end after 3 s, a reopen gives up after 30 s.
 */
#define POOL_WEDGED_MS		60000

/* Counts a request in; 0 when the process is stopping (not served). */
static int
pool_enter(struct pool *p)
{
	int ok;

	pthread_mutex_lock(&p->lock);
	if ((ok = !p->stopping))
		p->busy++;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

static void
pool_leave(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (--p->busy == 0)
		pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
}

static int
accept_one(struct pool *p, FCGX_Request *r)
{
	int rc;

	pthread_mutex_lock(&p->accept_lock);
	rc = FCGX_Accept_r(r);
	pthread_mutex_unlock(&p->accept_lock);
	return rc;
}

/*
 * One thread of the pool: accepts a request at a time on the socket the
 * process was given, with its own FCGX_Request.  Everything a request
 * owns lives on this stack or in the request (http.c); the thread's HTTP
 * client (probe.c) is its own.  The last thread to end (the socket
 * failed) stops the process.
 */
static void *
worker(void *arg)
{
	struct pool	*p = arg;
	FCGX_Request	 r;
	int		 last;

	if (FCGX_InitRequest(&r, 0, 0) == 0) {
		while (accept_one(p, &r) >= 0) {
			if (!pool_enter(p)) {
				FCGX_Finish_r(&r);
				break;
			}
			if (p->to_stream)
				log_set_sink(fcgi_log, r.err);
			serve(p->app, r.in, r.out, r.envp);
			log_set_sink(NULL, NULL);
			wipe_request(&r);
			close_at_once(&r);
			FCGX_Finish_r(&r);
			/* counted in: a stop waits for this before app_free */
			app_maintain(p->app);
			pool_leave(p);
		}
		FCGX_Free(&r, 1);
	}
	/*
	 * The thread's HTTP client goes with it, unless the process is
	 * stopping: main may have released libcurl then (app_free), and
	 * counted in, main waits for this before it does.
	 */
	if (pool_enter(p)) {
		proxy_thread_end();
		probe_thread_end();
		pool_leave(p);
	}
	pthread_mutex_lock(&p->lock);
	last = --p->live == 0;
	pthread_mutex_unlock(&p->lock);
	if (last)
		(void)kill(getpid(), SIGTERM);
	return NULL;
}

/*
 * How many threads: fcgi_threads of the configuration that loaded at
 * start (the default when it did not).
 */
static long
pool_size(struct app_proc *a)
{
	struct app	*s = app_acquire(a);
	long		 n = s->ready ? s->cfg.fcgi_threads : CONFIG_FCGI_THREADS;

	app_release(s);
	return n;
}

/* The watchdog's limit (POOL_WEDGED_MS): ms inside the storage. */
static uint64_t
wedged_limit(struct app_proc *a)
{
	struct app	*s = app_acquire(a);
	uint64_t	 ms = POOL_WEDGED_MS;

	if (s->ready && (uint64_t)s->cfg.repl_ack_timeout_ms + 30000 > ms)
		ms = (uint64_t)s->cfg.repl_ack_timeout_ms + 30000;
	app_release(s);
	return ms;
}

/*
 * Serves with n threads until a stop signal in set (blocked by the
 * caller, so every thread inherits the mask), then waits for the
 * requests in progress, at most POOL_DRAIN_SECONDS.  Threads still
 * waiting in accept are left to the process's exit.  Meanwhile, once a
 * second, the watchdog ends the process when a thread is stuck in the
 * storage (POOL_WEDGED_MS).  0, or -1 when no thread could be started.
 */
static int
serve_pool(struct pool *p, long n, const sigset_t *set)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	struct timespec	 until;
	const struct timespec tick = { 1, 0 };
	uint64_t	 wedged_ms = wedged_limit(p->app);
	long		 i;
	int		 rc;

	/*
	 * glibc gives each thread that meets a busy arena one of its own (up
	 * to 8 per core), each keeping what its requests freed: with 16
	 * threads that was 0.9 MiB more peak RSS per process than 2 arenas
	 * shared by all (measured: 17.9 against 17.0 MiB after 64-connection
	 * stores and lists).  A request's allocations are small and few.
	 */
	if (n > 1)
		(void)mallopt(M_ARENA_MAX, 2);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&p->lock);
		p->live++;
		pthread_mutex_unlock(&p->lock);
		if ((rc = pthread_create(&t, &attr, worker, p)) != 0) {
			log_error("fcgi: thread %ld of %ld: %s", i + 1, n,
			    errstr(rc));
			pthread_mutex_lock(&p->lock);
			p->live--;
			pthread_mutex_unlock(&p->lock);
			break;
		}
	}
	pthread_attr_destroy(&attr);
	if (i == 0)
		return -1;
	/* the watchdog: once a second until a signal to stop */
	while (sigtimedwait(set, NULL, &tick) == -1)
		if (store_wedged(wedged_ms))
			store_wedge_exit("a thread has been inside it too long");
	FCGX_ShutdownPending();
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	/* the requests in progress, a second at a time (the watchdog) */
	for (i = 0; p->busy > 0 && i < POOL_DRAIN_SECONDS; ) {
		if (store_wedged(wedged_ms))
			store_wedge_exit("stopping: a thread has been inside "
			    "it too long");
		until = deadline_in(CLOCK_REALTIME, 1000);
		if ((rc = pthread_cond_timedwait(&p->idle, &p->lock,
		    &until)) == ETIMEDOUT)
			i++;
		else if (rc != 0)
			break;
	}
	if (p->busy > 0)
		log_error("fcgi: stopping with %d requests unfinished", p->busy);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void
on_term(int sig)
{
	(void)sig;
	FCGX_ShutdownPending();
}

/*
 * A process started without CREDSTORE_CONFIG (mod_fcgid and an .htaccess
 * file's SetEnv) serves its first request alone, on this thread, to load
 * the configuration that request names; the pool starts after it.  A
 * stop signal meanwhile ends the process (no SA_RESTART: accept returns).
 * Returns an exit status, or -1 to go on with the pool.
 */
static int
first_request(struct app_proc *app)
{
	struct sigaction	 sa, old[3];
	static const int	 sigs[3] = { SIGTERM, SIGINT, SIGUSR1 };
	FCGX_Request		 r;
	int			 i, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	if (FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	if ((rc = FCGX_Accept_r(&r)) >= 0) {
		if (stderr_is_null())
			log_set_sink(fcgi_log, r.err);
		adopt_server_env(r.envp);
		(void)app_init(app, config_path_from_env(), 0);
		serve(app, r.in, r.out, r.envp);
		log_set_sink(NULL, NULL);
		wipe_request(&r);
		close_at_once(&r);
		FCGX_Finish_r(&r);
		app_maintain(app);
	}
	FCGX_Free(&r, 1);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	/* stopped before any request: nothing was loaded */
	return rc < 0 ? 0 : -1;
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
	/* static: threads left in accept outlive main's frame at exit */
	static struct app_proc	 app;
	static struct pool	 pool;
	sigset_t		 stop;
	const char		*why;
	int			 rc, busy;

	if ((rc = options(argc, argv)) != -1)
		return rc;
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
		 * SIGKILL still works.  One request, one thread.
		 */
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigaddset(&term, SIGINT);
		sigaddset(&term, SIGHUP);
		sigprocmask(SIG_BLOCK, &term, NULL);
		(void)app_init(&app, config_path_from_env(), APP_CGI);
		serve(&app, NULL, NULL, NULL);
		/* the answer ends where the server sees standard output end */
		if (store_maintain_due()) {
			(void)close(STDOUT_FILENO);
			app_maintain(&app);
		}
		app_free(&app);
		return 0;
	}
	/* the libraries' global state, set up once before any thread runs */
	if (gnutls_global_init() < 0)
		return 1;
	/* without CREDSTORE_CONFIG, loaded at the first request (above) */
	if (getenv("CREDSTORE_CONFIG") != NULL)
		(void)app_init(&app, config_path_from_env(), 0);
	else if ((rc = first_request(&app)) != -1) {
		gnutls_global_deinit();
		return rc;
	}
	if (curlapi_get(&why) == NULL)
		log_warn("fcgi: %s (tried again at the first check)", why);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	memset(&pool, 0, sizeof(pool));
	pool.app = &app;
	pool.to_stream = stderr_is_null();
	pthread_mutex_init(&pool.lock, NULL);
	pthread_mutex_init(&pool.accept_lock, NULL);
	pthread_cond_init(&pool.idle, NULL);
	rc = serve_pool(&pool, pool_size(&app), &stop);
	/* threads left in accept never touch the state: pool.stopping */
	pthread_mutex_lock(&pool.lock);
	busy = pool.busy;
	pthread_mutex_unlock(&pool.lock);
	if (busy == 0) {
		app_free(&app);
		gnutls_global_deinit();
	}
	log_debug("shutting down");
	return rc == 0 ? 0 : 1;
}
