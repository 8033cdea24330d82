#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwks.h"

/*
 * libFuzzer harness for the JWKS reader.  Whatever it accepts must hold at
 * least one usable key (a set without one is an error, not an open door)
 * and must survive a verification attempt with a junk signature.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwks	*ks;
	char		 err[512];
	static const unsigned char sig[64];
	int		 a;

	ks = jwks_parse((const char *)data, size, err, sizeof(err));
	if (ks == NULL) {
		if (err[0] == '\0')
			abort();	/* a refusal always says why */
		return 0;
	}
	if (jwks_nkeys(ks) == 0)
		abort();
	for (a = JWA_RS256; a < JWA__MAX; a++)
		if (jwks_verify(ks, (enum jwa_alg)a, NULL, "a.b", 3, sig,
		    sizeof(sig)) == JWKS_OK)
			abort();	/* a junk signature never verifies */
	jwks_free(ks);
	return 0;
}
