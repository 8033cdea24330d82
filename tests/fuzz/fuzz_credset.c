#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credset.h"
#include "util.h"

/*
 * libFuzzer harness for credset_deserialize, the reader of decrypted
 * records.  An accepted input must come back byte for byte from
 * credset_serialize; a rejected one must leave the set empty.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct credset	 cs;
	unsigned char	*out;
	size_t		 len = 0, i, vlen;

	if (credset_deserialize(data, size, &cs) == -1) {
		if (cs.n != 0)
			abort();	/* "nothing leaks into *cs" */
		return 0;
	}
	if (cs.n > CREDSET_MAX)
		abort();
	for (i = 0; i < cs.n; i++) {
		if (cs.f[i].name[0] == '\0' || cs.f[i].len > CREDSET_VALUE_MAX ||
		    cs.f[i].value[cs.f[i].len] != '\0' ||
		    credset_get(&cs, cs.f[i].name, &vlen) == NULL)
			abort();
	}
	if ((out = credset_serialize(&cs, &len)) == NULL)
		abort();
	if (len != size || (size > 0 && memcmp(out, data, size) != 0))
		abort();
	secure_free(out, len);
	credset_free(&cs);
	return 0;
}
