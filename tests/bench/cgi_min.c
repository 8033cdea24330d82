/*
 * cgi_min: the ceiling of the plain CGI benchmark.  A CGI program that
 * does what empty_fcgi does and nothing more: reads CONTENT_LENGTH bytes
 * of body from stdin and answers 201 with a small JSON object.  The cost
 * it measures is the web server's fork/exec and the process start-up of
 * a small dynamically linked C program.
 */
#define _DEFAULT_SOURCE	/* sigaction, MAP_ANONYMOUS: glibc in -std=c11 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BODY_CAP	(16UL * 1024 * 1024)

static const char reply[] =
    "Status: 201 Created\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "\r\n"
    "{\"credentialId\":\"crd_00000000000000000000000000\","
    "\"provider\":\"empty\",\"label\":null,\"status\":\"unverified\","
    "\"createdAt\":\"1970-01-01T00:00:00Z\"}";

int
main(void)
{
	const char		*cl = getenv("CONTENT_LENGTH");
	char			 buf[16384], *end;
	unsigned long long	 want = 0;
	size_t			 chunk;
	ssize_t			 n;

	if (cl != NULL && *cl != '\0') {
		errno = 0;
		want = strtoull(cl, &end, 10);
		if (errno != 0 || *end != '\0' || want > BODY_CAP)
			want = 0;
	}
	while (want > 0) {
		chunk = want < sizeof(buf) ? (size_t)want : sizeof(buf);
		if ((n = read(STDIN_FILENO, buf, chunk)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		want -= (unsigned long long)n;
	}
	if (fwrite(reply, 1, sizeof(reply) - 1, stdout) != sizeof(reply) - 1)
		return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
