#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tmpl.h"
#include "util.h"

/*
 * libFuzzer harness for the template module.  The input is a template
 * (which must parse or be refused, never crash) and, as one value, the
 * data filled into a fixed template: whatever the value holds, the
 * output has no raw markup character from it.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char page[] =
    "<p title=\"{{v}}\">{{v}}</p>{{#list}}<i>{{.}}</i>{{/list}}"
    "{{^missing}}<b>{{v}}</b>{{/missing}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl		*t;
	struct json_object	*ctx, *list;
	struct buf		 out;
	char			 err[256], *v;
	size_t			 i;

	/* the input as a template */
	if ((t = tmpl_parse((const char *)data, size, err, sizeof(err))) != NULL) {
		ctx = json_object_new_object();
		json_object_object_add(ctx, "v", json_object_new_string("x"));
		buf_init(&out, TMPL_MAX_OUTPUT, 0);
		(void)tmpl_render(NULL, t, ctx, &out);	/* partials: -1 */
		buf_reset(&out);
		json_object_put(ctx);
		tmpl_free(t);
	} else if (err[0] == '\0')
		abort();

	/* the input as a value: escaped wherever it lands */
	if ((v = malloc(size + 1)) == NULL)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	if ((t = tmpl_parse(page, sizeof(page) - 1, err, sizeof(err))) == NULL)
		abort();
	ctx = json_object_new_object();
	json_object_object_add(ctx, "v", json_object_new_string(v));
	list = json_object_new_array();
	json_object_array_add(list, json_object_new_string(v));
	json_object_object_add(ctx, "list", list);
	buf_init(&out, TMPL_MAX_OUTPUT, 0);
	if (tmpl_render(NULL, t, ctx, &out) != 0)
		abort();
	/* the only markup characters are the template's own */
	for (i = 0; i < out.len; i++)
		if (out.data[i] == '"' && !(i > 0 && out.data[i - 1] == '=') &&
		    !(i + 1 < out.len && out.data[i + 1] == '>'))
			abort();
	{
		size_t lt = 0;

		for (i = 0; i < out.len; i++)
			if (out.data[i] == '<')
				lt++;
		if (lt != 6)	/* <p> </p> <i> </i> <b> </b> */
			abort();
	}
	buf_reset(&out);
	json_object_put(ctx);
	tmpl_free(t);
	free(v);
	return 0;
}
