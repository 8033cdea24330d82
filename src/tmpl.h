/*
 * tmpl: server-side HTML templates from templates/, parsed once per
 * process.  A small mustache-like language whose only output path
 * escapes HTML:
 *   {{name}}          the value of name, HTML-escaped
 *   {{#name}}..{{/name}}  repeated for each element of an array, once for
 *                     an object or a true value, skipped when absent,
 *                     null, false, "" or an empty array
 *   {{^name}}..{{/name}}  rendered only when {{#name}} would be skipped
 *   {{>name}}         the template name.html, with the same context
 *   {{.}}             the current element (in a section over an array)
 * Names are looked up in the innermost section's object first, then
 * outwards.  Values come from a json-c object.
 */
#ifndef CS_TMPL_H
#define CS_TMPL_H

#include <stddef.h>

#include <json-c/json.h>

#include "util.h"

#define TMPL_MAX_BYTES		(256 * 1024)	/* one template file */
#define TMPL_MAX_OUTPUT		(4 * 1024 * 1024)

struct tmpl;
struct tmpl_set;

/* Parses one template; NULL with a reason (and offset) in err. */
struct tmpl	*tmpl_parse(const char *text, size_t len, char *err,
		    size_t errlen);
void		 tmpl_free(struct tmpl *);

/* Loads every NAME.html of dir; NULL with "FILE: reason" in err. */
struct tmpl_set	*tmpl_load_dir(const char *dir, char *err, size_t errlen);
void		 tmpl_set_free(struct tmpl_set *);
const struct tmpl *tmpl_get(const struct tmpl_set *, const char *name);

/*
 * Renders t (partials from set, which may be NULL) with ctx into out.
 * Returns 0, or -1 when the output would exceed out's cap or partials
 * nest too deep.
 */
int		 tmpl_render(const struct tmpl_set *set, const struct tmpl *t,
		    struct json_object *ctx, struct buf *out);

/* Appends s[0..n) HTML-escaped (& < > " ' and control bytes). */
int		 tmpl_escape(struct buf *out, const char *s, size_t n);

#endif
