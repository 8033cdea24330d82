#include "cs_build.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

#define TMPL_MAX_DEPTH	16	/* nested sections */
#define TMPL_MAX_NAME	64
#define TMPL_MAX_FILES	64
#define PARTIAL_DEPTH	8

enum node_type {
	N_TEXT,
	N_VAR,
	N_SECTION,
	N_INVERTED,
	N_PARTIAL
};

struct node {
	enum node_type	 type;
	char		*text;		/* text, or the name */
	size_t		 len;
	struct node	*child;		/* sections: first child */
	struct node	*next;
};

struct tmpl {
	struct node	*root;
};

struct tmpl_set {
	char		*names[TMPL_MAX_FILES];
	struct tmpl	*t[TMPL_MAX_FILES];
	size_t		 n;
};

static void
nodes_free(struct node *n)
{
	struct node *next;

	for (; n != NULL; n = next) {
		next = n->next;
		nodes_free(n->child);
		free(n->text);
		free(n);
	}
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	nodes_free(t->root);
	free(t);
}

static struct node *
node_new(enum node_type type, const char *s, size_t len)
{
	struct node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	if ((n->text = malloc(len + 1)) == NULL) {
		free(n);
		return NULL;
	}
	memcpy(n->text, s, len);
	n->text[len] = '\0';
	n->len = len;
	n->type = type;
	return n;
}

static int
valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 1 && s[0] == '.')	/* the current element itself */
		return 1;
	if (n == 0 || n > TMPL_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

struct tmpl *
tmpl_parse(const char *s, size_t len, char *err, size_t errlen)
{
	struct tmpl	*t;
	struct node	**tail[TMPL_MAX_DEPTH + 1], *sect[TMPL_MAX_DEPTH + 1];
	struct node	*n;
	size_t		 i = 0, start, nlen;
	const char	*open, *close, *name;
	int		 depth = 0;
	char		 sigil;

	if (len > TMPL_MAX_BYTES) {
		snprintf(err, errlen, "template larger than %d bytes",
		    TMPL_MAX_BYTES);
		return NULL;
	}
	if (memchr(s, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte in template");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tail[0] = &t->root;
	sect[0] = NULL;
	while (i < len) {
		open = memmem(s + i, len - i, "{{", 2);
		start = open ? (size_t)(open - s) : len;
		if (start > i) {
			if ((n = node_new(N_TEXT, s + i, start - i)) == NULL)
				goto oom;
			*tail[depth] = n;
			tail[depth] = &n->next;
		}
		if (open == NULL)
			break;
		close = memmem(open + 2, len - (start + 2), "}}", 2);
		if (close == NULL) {
			snprintf(err, errlen, "offset %zu: unclosed {{", start);
			goto fail;
		}
		name = open + 2;
		sigil = *name;
		if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '>')
			name++;
		else
			sigil = 0;
		nlen = (size_t)(close - name);
		if (!valid_name(name, nlen)) {
			snprintf(err, errlen, "offset %zu: bad tag name", start);
			goto fail;
		}
		i = (size_t)(close - s) + 2;
		if (sigil == '/') {
			if (depth == 0 || sect[depth]->len != nlen ||
			    memcmp(sect[depth]->text, name, nlen) != 0) {
				snprintf(err, errlen, "offset %zu: {{/%.*s}} closes "
				    "nothing open", start, (int)nlen, name);
				goto fail;
			}
			depth--;
			continue;
		}
		n = node_new(sigil == '#' ? N_SECTION : sigil == '^' ?
		    N_INVERTED : sigil == '>' ? N_PARTIAL : N_VAR, name, nlen);
		if (n == NULL)
			goto oom;
		*tail[depth] = n;
		tail[depth] = &n->next;
		if (sigil == '#' || sigil == '^') {
			if (depth >= TMPL_MAX_DEPTH) {
				snprintf(err, errlen, "offset %zu: sections nest "
				    "too deep", start);
				goto fail;
			}
			depth++;
			sect[depth] = n;
			tail[depth] = &n->child;
		}
	}
	if (depth != 0) {
		snprintf(err, errlen, "section {{#%s}} is not closed",
		    sect[depth]->text);
		goto fail;
	}
	return t;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	tmpl_free(t);
	return NULL;
}

int
tmpl_escape(struct buf *out, const char *s, size_t n)
{
	size_t		 i, last = 0;
	const char	*rep;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '`': rep = "&#96;"; break;
		case '=': rep = "&#61;"; break;
		default:
			rep = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ?
			    "\xef\xbf\xbd" : NULL;	/* U+FFFD */
			break;
		}
		if (rep == NULL)
			continue;
		if (buf_add(out, s + last, i - last) == -1 ||
		    buf_adds(out, rep) == -1)
			return -1;
		last = i + 1;
	}
	return buf_add(out, s + last, n - last);
}

/* Name lookup through the context stack, innermost first. */
static struct json_object *
lookup(struct json_object **stack, int depth, const char *name)
{
	struct json_object	*v;
	int			 i;

	if (strcmp(name, ".") == 0)
		return stack[depth];
	for (i = depth; i >= 0; i--)
		if (json_object_is_type(stack[i], json_type_object) &&
		    json_object_object_get_ex(stack[i], name, &v))
			return v;
	return NULL;
}

static int
truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	default:
		return 1;
	}
}

static int render_nodes(const struct tmpl_set *, const struct node *,
    struct json_object **, int, struct buf *, int);

static int
render_section(const struct tmpl_set *set, const struct node *n,
    struct json_object **stack, int depth, struct buf *out, int pdepth)
{
	struct json_object	*v = lookup(stack, depth, n->text);
	size_t			 i, len;

	if (n->type == N_INVERTED)
		return truthy(v) ? 0 :
		    render_nodes(set, n->child, stack, depth, out, pdepth);
	if (!truthy(v))
		return 0;
	if (depth + 1 > TMPL_MAX_DEPTH * 2)
		return -1;
	if (json_object_is_type(v, json_type_array)) {
		len = json_object_array_length(v);
		for (i = 0; i < len; i++) {
			stack[depth + 1] = json_object_array_get_idx(v, i);
			if (render_nodes(set, n->child, stack, depth + 1, out,
			    pdepth) == -1)
				return -1;
		}
		return 0;
	}
	stack[depth + 1] = v;
	return render_nodes(set, n->child, stack, depth + 1, out, pdepth);
}

static int
render_nodes(const struct tmpl_set *set, const struct node *n,
    struct json_object **stack, int depth, struct buf *out, int pdepth)
{
	struct json_object	*v;
	const struct tmpl	*p;
	const char		*s;

	for (; n != NULL; n = n->next) {
		switch (n->type) {
		case N_TEXT:
			if (buf_add(out, n->text, n->len) == -1)
				return -1;
			break;
		case N_VAR:
			v = lookup(stack, depth, n->text);
			if (v == NULL || json_object_is_type(v, json_type_null))
				break;
			s = json_object_is_type(v, json_type_string) ?
			    json_object_get_string(v) :
			    json_object_to_json_string_ext(v,
			    JSON_C_TO_STRING_PLAIN);
			if (tmpl_escape(out, s, strlen(s)) == -1)
				return -1;
			break;
		case N_SECTION:
		case N_INVERTED:
			if (render_section(set, n, stack, depth, out, pdepth) == -1)
				return -1;
			break;
		case N_PARTIAL:
			if (set == NULL || pdepth >= PARTIAL_DEPTH ||
			    (p = tmpl_get(set, n->text)) == NULL)
				return -1;
			if (render_nodes(set, p->root, stack, depth, out,
			    pdepth + 1) == -1)
				return -1;
			break;
		}
	}
	return 0;
}

int
tmpl_render(const struct tmpl_set *set, const struct tmpl *t,
    struct json_object *ctx, struct buf *out)
{
	struct json_object *stack[TMPL_MAX_DEPTH * 2 + 2];

	stack[0] = ctx;
	return render_nodes(set, t->root, stack, 0, out, 0);
}

void
tmpl_set_free(struct tmpl_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++) {
		free(set->names[i]);
		tmpl_free(set->t[i]);
	}
	free(set);
}

const struct tmpl *
tmpl_get(const struct tmpl_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->names[i], name) == 0)
			return set->t[i];
	return NULL;
}

struct tmpl_set *
tmpl_load_dir(const char *dir, char *err, size_t errlen)
{
	struct tmpl_set	*set;
	DIR		*d;
	struct dirent	*de;
	char		 path[4096], why[256], *text;
	size_t		 nl, len;
	FILE		*f;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, errstr(errno));
		return NULL;
	}
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		closedir(d);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (nl <= 5 || strcmp(de->d_name + nl - 5, ".html") != 0 ||
		    de->d_name[0] == '.' || !valid_name(de->d_name, nl - 5))
			continue;
		if (set->n >= TMPL_MAX_FILES) {
			snprintf(err, errlen, "%s: too many templates", dir);
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s", path, errstr(errno));
			goto fail;
		}
		text = malloc(TMPL_MAX_BYTES + 1);
		len = text ? fread(text, 1, TMPL_MAX_BYTES + 1, f) : 0;
		fclose(f);
		if (text == NULL || len > TMPL_MAX_BYTES) {
			free(text);
			snprintf(err, errlen, "%s: too large", path);
			goto fail;
		}
		set->t[set->n] = tmpl_parse(text, len, why, sizeof(why));
		free(text);
		if (set->t[set->n] == NULL) {
			snprintf(err, errlen, "%s: %s", path, why);
			goto fail;
		}
		if ((set->names[set->n] = strndup(de->d_name, nl - 5)) == NULL) {
			tmpl_free(set->t[set->n]);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		set->n++;
	}
	closedir(d);
	return set;
fail:
	closedir(d);
	tmpl_set_free(set);
	return NULL;
}
