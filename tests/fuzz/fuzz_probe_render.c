#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "credset.h"
#include "jsonx.h"
#include "probe.h"
#include "util.h"

/*
 * libFuzzer harness for the parts of probe.c that read catalog templates
 * and provider answers: probe_render, probe_apply_origin,
 * probe_json_pointer and probe_classify.  The input is split at 0xff bytes (never part of
 * UTF-8, so every part can hold any text, NUL included):
 *
 *   template 0xff url 0xff origin 0xff json 0xff pointer
 *   (0xff name=value)...
 *
 * Missing parts are empty.  Template, url, origin and pointer are C
 * strings where the service uses them, so they end at their first NUL;
 * values keep theirs (probe_render must refuse them).
 */

#define SEP	0xff
#define NPARTS	5

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (probe_init() == -1)
		abort();
	atexit(probe_cleanup);
	return 0;
}

/* A malloc'd NUL-terminated copy of p[0..n). */
static char *
cstr(const uint8_t *p, size_t n)
{
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void
check_render(const char *tmpl, const struct credset *cs, int urlenc)
{
	char	*out;
	size_t	 i, tl;

	out = probe_render(tmpl, cs, urlenc);
	if (out == NULL)
		return;
	tl = strlen(tmpl);
	/* no placeholder: the template comes back as it is */
	if (strstr(tmpl, "{{") == NULL && strcmp(out, tmpl) != 0)
		abort();
	/* values bring no CR or LF; URL-encoded ones only [A-Za-z0-9-._~%] */
	for (i = 0; out[i] != '\0'; i++) {
		if (memchr(tmpl, out[i], tl) != NULL)
			continue;
		if (out[i] == '\r' || out[i] == '\n')
			abort();
		if (urlenc && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-._~%", out[i]) == NULL)
			abort();
	}
	secure_free_str(out);
}

/*
 * The answer body judged by a check expecting true at ptr: validated
 * exactly when the body is JSON holding true there (at, found by the
 * caller in the same parse; NULL when the body is not JSON or lacks it).
 */
static void
check_classify(const uint8_t *body, size_t len, const char *ptr,
    struct json_object *at)
{
	struct cat_check	 k;
	struct probe_outcome	 out;
	struct probe_result	 res;
	enum probe_verdict	 want;

	memset(&k, 0, sizeof(k));
	k.valid[0] = 200;
	k.nvalid = 1;
	k.expect_pointer = (char *)(uintptr_t)ptr;
	if ((k.expect_value = json_object_new_boolean(1)) == NULL)
		abort();
	memset(&out, 0, sizeof(out));
	out.status = 200;
	out.body = (const char *)body;
	out.body_len = len;
	probe_classify(&k, &out, &res);
	want = at != NULL && json_object_equal(at, k.expect_value) ?
	    PROBE_VALID : PROBE_REJECTED;
	if (res.verdict != want || res.http_status != 200 ||
	    memchr(res.why, '\0', sizeof(res.why)) == NULL)
		abort();
	json_object_put(k.expect_value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t		*part[NPARTS], *p = data, *end = data + size;
	const uint8_t		*sep, *eq;
	size_t			 plen[NPARTS], i, n;
	struct credset		 cs;
	struct json_object	*doc, *at;
	char			*tmpl, *url, *origin, *ptr, *out, *name;
	const char		*err;

	for (i = 0; i < NPARTS; i++) {
		part[i] = p;
		if ((sep = memchr(p, SEP, (size_t)(end - p))) == NULL)
			sep = end;
		plen[i] = (size_t)(sep - p);
		p = sep < end ? sep + 1 : end;
	}
	credset_init(&cs);
	while (p < end) {
		if ((sep = memchr(p, SEP, (size_t)(end - p))) == NULL)
			sep = end;
		n = (size_t)(sep - p);
		if ((eq = memchr(p, '=', n)) != NULL) {
			name = cstr(p, (size_t)(eq - p));
			(void)credset_add(&cs, name, (const char *)eq + 1,
			    n - (size_t)(eq - p) - 1);
			free(name);
		}
		p = sep < end ? sep + 1 : end;
	}

	tmpl = cstr(part[0], plen[0]);
	check_render(tmpl, &cs, 0);
	check_render(tmpl, &cs, 1);
	free(tmpl);

	url = cstr(part[1], plen[1]);
	origin = cstr(part[2], plen[2]);
	out = probe_apply_origin(url, origin);
	if ((out == NULL) != (strstr(url, "://") == NULL))
		abort();
	if (out != NULL && strncmp(out, origin, strlen(origin)) != 0)
		abort();
	free(out);
	free(url);
	free(origin);

	ptr = cstr(part[4], plen[4]);
	doc = jsonx_parse((const char *)part[3], plen[3], 64, 1, &err);
	if (doc != NULL) {
		at = probe_json_pointer(doc, ptr);
		if (ptr[0] == '\0' && at != doc)
			abort();
		if (at != NULL)
			(void)json_object_to_json_string(at);
		check_classify(part[3], plen[3], ptr, at);
		jsonx_put_wipe(doc);
	} else
		check_classify(part[3], plen[3], ptr, NULL);
	free(ptr);
	credset_free(&cs);
	return 0;
}
