/*
 * empty_fcgi: the ceiling of the FastCGI benchmark.  A libfcgi responder
 * with credstore's own accept loop (FCGX_Accept_r, one request at a
 * time) that does no work: it reads the request body to the end and
 * answers 201 with a small JSON object.  Whatever credstore.fcgi adds on
 * top of this is credstore's own cost.
 *
 * Started by lighttpd's bin-path spawner like credstore.fcgi; started
 * without a FastCGI socket it answers one request as a CGI program.
 * Started as empty_fcgi_close (a link), it closes each socket at once
 * after the input ended, as credstore.fcgi does, instead of libfcgi's
 * lingering close (the bench's empty-close row).
 */
#define _DEFAULT_SOURCE	/* sigaction, MAP_ANONYMOUS: glibc in -std=c11 */

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

static const char reply[] =
    "Status: 201 Created\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "\r\n"
    "{\"credentialId\":\"crd_00000000000000000000000000\","
    "\"provider\":\"empty\",\"label\":null,\"status\":\"unverified\","
    "\"createdAt\":\"1970-01-01T00:00:00Z\"}";

/* Reads the body to its end, as a real responder must; 0 or -1. */
static int
drain(FCGX_Stream *in)
{
	char	buf[16384];
	int	n;

	while ((n = FCGX_GetStr(buf, (int)sizeof(buf), in)) > 0)
		;
	return n < 0 ? -1 : 0;
}

static void
on_term(int sig)
{
	(void)sig;
	FCGX_ShutdownPending();
}

int
main(int argc, char **argv)
{
	FCGX_Request		r;
	FCGX_Stream		*in, *out, *err;
	FCGX_ParamArray		envp;
	struct sigaction	sa;
	const char		*name = argc > 0 ? argv[0] : "";
	size_t			nlen = strlen(name);
	int			close_now;

	close_now = nlen >= 6 && strcmp(name + nlen - 6, "_close") == 0;

	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0)
		return 1;
	if (FCGX_IsCGI()) {
		if (FCGX_Accept(&in, &out, &err, &envp) < 0)
			return 1;
		drain(in);
		FCGX_PutStr(reply, (int)sizeof(reply) - 1, out);
		FCGX_Finish();
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		drain(r.in);
		FCGX_PutStr(reply, (int)sizeof(reply) - 1, r.out);
		if (close_now && FCGX_HasSeenEOF(r.in) == EOF)
			(void)FCGX_Detach(&r);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 1);
	return 0;
}
