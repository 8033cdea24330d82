#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "session.h"
#include "util.h"

/*
 * libFuzzer harness for the admin page's cookie and CSRF parsing: the
 * input is a Cookie header.  A forged or mangled cookie must never open;
 * a CSRF token taken from the input must never match.  A session issued
 * here must open again with its own CSRF token.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct keyring	kr;
static struct kr_key	key;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session		 s;
	struct jwt_identity	 id;
	char			*hdr, *line, sid[SESSION_SID_LEN + 1];
	char			 csrf[SESSION_CSRF_LEN + 1];
	const char		*v;
	size_t			 len;
	time_t			 now = 1700000000;

	if (kr.nkeys == 0) {
		memset(kr.mac_key, 7, sizeof(kr.mac_key));
		kr.keys = &key;
		kr.nkeys = 1;
	}
	if ((hdr = malloc(size + 1)) == NULL)
		return 0;
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	if ((v = session_cookie_find(hdr, SESSION_COOKIE, &len)) != NULL) {
		if (v < hdr || v + len > hdr + size)
			abort();
		/* random bytes do not authenticate under AES-GCM */
		if (session_open(&kr, v, len, now, &s) == 0)
			abort();
	}
	if (session_csrf_ok(&kr, "AAAAAAAAAAAAAAAAAAAAAA", hdr))
		abort();
	/* random headers hold no sign-in nonce with a valid MAC */
	if (session_login_ok(&kr, hdr, 0, "",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
		abort();
	(void)session_origin_check(hdr, hdr, 0, hdr);
	(void)session_origin_check(NULL, hdr, 1, "example.com");
	/* a real session opens, and only with its own token */
	memset(&id, 0, sizeof(id));
	id.tenant = (char *)(uintptr_t)"t";
	id.exp = now + 60;
	if ((line = session_issue(&kr, &id, "x.y.z", now, 0, "", sid)) == NULL)
		abort();
	v = line + strlen("Set-Cookie: ") + strlen(SESSION_COOKIE) + 1;
	len = strcspn(v, ";");
	if (session_open(&kr, v, len, now, &s) != 0 ||
	    strcmp(s.sid, sid) != 0 || session_csrf(&kr, sid, csrf) != 0 ||
	    !session_csrf_ok(&kr, sid, csrf))
		abort();
	session_free(&s);
	free(line);
	free(hdr);
	return 0;
}
