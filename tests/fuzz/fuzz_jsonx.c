#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonx.h"

/*
 * libFuzzer harness for jsonx_parse and jsonx_put_wipe.  The input is
 * parsed with and without wiping (both must agree), and an accepted
 * document must survive a round trip: json-c's plain serialization of it
 * is accepted again and equal to it.
 */

#define DEPTH	16

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*a, *b, *c;
	const char		*ea, *eb, *ec, *s;
	size_t			 slen;

	a = jsonx_parse((const char *)data, size, DEPTH, 0, &ea);
	b = jsonx_parse((const char *)data, size, DEPTH, 1, &eb);
	if ((a == NULL) != (b == NULL))
		abort();
	if (a == NULL) {
		/* rejected: both say why, and say the same */
		if (ea == NULL || eb == NULL || strcmp(ea, eb) != 0)
			abort();
		return 0;
	}
	if (ea != NULL || eb != NULL || !json_object_equal(a, b))
		abort();
	(void)jsonx_get_str(a, "alg");
	(void)jsonx_get(a, "providers", json_type_array);
	jsonx_put_wipe(b);

	s = json_object_to_json_string_length(a, JSON_C_TO_STRING_PLAIN,
	    &slen);
	if (s == NULL)
		abort();
	c = jsonx_parse(s, slen, DEPTH, 0, &ec);
	if (c == NULL || !json_object_equal(a, c))
		abort();
	json_object_put(c);
	json_object_put(a);
	return 0;
}
