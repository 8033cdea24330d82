/*
 * catalog: the integration catalog of SPEC section 9, loaded and checked
 * once per process.  Knows nothing about HTTP or storage.
 */
#ifndef CS_CATALOG_H
#define CS_CATALOG_H

#include <regex.h>
#include <stddef.h>

#include <json-c/json.h>

#define CATALOG_MAX_FIELDS	32
#define CATALOG_MAX_STATUS	32
#define CATALOG_MAX_ENUM	64
#define CATALOG_MAX_BYTES	(4 * 1024 * 1024)

enum auth_type {
	AUTH_API_KEY = 0,
	AUTH_OAUTH2,
	AUTH_OTHER,
	AUTH__MAX
};

struct cat_field {
	char		*name;
	char		*label;
	int		 secret;
	int		 required;
	char		**enumv;	/* NULL when no enum */
	size_t		 nenum;
	char		*def;		/* default value or NULL */
	char		*pattern;	/* source text or NULL */
	regex_t		 re;		/* valid when re_ready */
	int		 re_ready;	/* 0: not compiled yet (lazy) */
	size_t		 max_len;	/* 4096 unless the catalog says less */
};

struct cat_header {
	char	*name;
	char	*value;			/* template */
};

struct cat_check {
	char			*method;
	char			*url;		/* template */
	struct cat_header	*headers;
	size_t			 nheaders;
	char			*basic_user;	/* template or NULL */
	char			*basic_pass;	/* template or NULL */
	struct json_object	*body;		/* template JSON or NULL */
	int			 valid[CATALOG_MAX_STATUS];
	size_t			 nvalid;
	int			 reject[CATALOG_MAX_STATUS];
	size_t			 nreject;
	char			*expect_pointer;	/* NULL when none */
	struct json_object	*expect_value;
};

/* The proxy's methods, a bit each (SPEC section 10). */
#define CAT_M_GET	0x01
#define CAT_M_HEAD	0x02
#define CAT_M_POST	0x04
#define CAT_M_PUT	0x08
#define CAT_M_PATCH	0x10
#define CAT_M_DELETE	0x20

struct cat_allow {
	unsigned	 methods;	/* CAT_M_*; GET allows HEAD too */
	char		*path;		/* "/prefix/" or an exact path */
};

/*
 * A provider's proxy block: where calls go and how the credential rides
 * with them.  headers/basic/query are those of the validation block when
 * the proxy block names none (borrowed then: own_auth 0).
 */
struct cat_proxy {
	char			*base_url;	/* template, https, no '/' last */
	struct cat_header	*headers;
	size_t			 nheaders;
	char			*basic_user;	/* template or NULL */
	char			*basic_pass;
	struct cat_header	*query;		/* name -> template */
	size_t			 nquery;
	int			 own_auth;
	struct cat_allow	*allow;
	size_t			 nallow;
	char			**fwd;		/* forwardHeaders */
	size_t			 nfwd;
};

struct cat_provider {
	char			*id;
	char			*name;
	enum auth_type		 auth;
	char			*auth_name;	/* as written in the file */
	struct cat_field	*fields;	/* required first, then optional */
	size_t			 nfields;
	size_t			 nrequired;
	struct cat_check	*check;		/* NULL: no validation */
	struct cat_proxy	*proxy;		/* NULL: no proxy */
};

struct cat_lazy;

/*
 * providers[0..nproviders) in the file's order.  A catalog made by
 * catalog_index loads each provider at its first catalog_find (the
 * others are zeroed until then): call catalog_load_all before walking
 * providers[].
 */
struct catalog {
	struct cat_provider	*providers;
	size_t			 nproviders;
	struct cat_lazy		*lazy;		/* NULL: every provider loaded */
};

/*
 * CATALOG_LAZY: compile a field's pattern when it is first matched, not at
 * load, and do not check defaults against patterns.  A CGI request needs
 * at most one provider; compiling every pattern would be most of its
 * start-up (glibc expands bounded repetitions such as {0,61}).
 */
#define CATALOG_LAZY	0x1

/*
 * Loads and checks the catalog at path.  Returns a new catalog (free with
 * catalog_free) or NULL with "PATH: provider N (id): what" in err.
 */
struct catalog	*catalog_load(const char *path, char *err, size_t errlen);
struct catalog	*catalog_load_flags(const char *path, int flags, char *err,
		    size_t errlen);
/* Same from memory (used by tests and fuzzers). */
struct catalog	*catalog_parse(const char *text, size_t len, const char *name,
		    char *err, size_t errlen);
struct catalog	*catalog_parse_flags(const char *text, size_t len,
		    const char *name, int flags, char *err, size_t errlen);
void		 catalog_free(struct catalog *);

/*
 * The text of the catalog file at path, read whole (malloc'd, NUL added,
 * caller frees; *len without the NUL), or NULL with "PATH: what" in err
 * (cannot open, larger than CATALOG_MAX_BYTES, read error).
 */
char		*catalog_read(const char *path, size_t *len, char *err,
		    size_t errlen);
/*
 * A catalog over text that is known to pass every check, as
 * catalog_parse_flags found for the very same text: only the place of
 * each provider and its id are read now, and a provider is loaded, with
 * flags, at its first catalog_find.  text is malloc'd with a NUL at len
 * (as catalog_read gives it) and becomes the catalog's, freed with it (no
 * copy: a CGI process pays for every page it touches).  NULL, text still
 * the caller's, when it does not have the plain shape of a catalog (the
 * caller parses it in full) or without memory.  Loading mutates the
 * catalog: one thread only (CGI).
 */
struct catalog	*catalog_index(char *text, size_t len, const char *name,
		    int flags);
/* Loads every provider of an indexed catalog (no-op otherwise); 0 or -1. */
int		 catalog_load_all(struct catalog *);

const struct cat_provider *catalog_find(const struct catalog *, const char *id);
const struct cat_field *catalog_field(const struct cat_provider *,
		    const char *name);
/*
 * 1 when value matches the field's pattern (or it has none), 0 when it does
 * not, -1 when a lazily compiled pattern is invalid.  Compiles the pattern
 * on first use (the one piece of a catalog that changes after load; the
 * process serves one request at a time).
 */
int		 catalog_field_match(const struct cat_field *, const char *value);
/* 1 when id matches [a-z0-9][a-z0-9_-]{0,63}. */
int		 catalog_valid_id(const char *id);
/* The public JSON description of SPEC section 2 (caller puts). */
struct json_object *catalog_provider_json(const struct cat_provider *);

/* The CAT_M_* bit of a method name; 0 when the proxy has none. */
unsigned	 catalog_method_bit(const char *method);
/*
 * 1 when the proxy's allow list lets method (CAT_M_*) reach path (the
 * raw path, "/" and the client's rest), else 0.
 */
int		 catalog_proxy_allows(const struct cat_proxy *, unsigned method,
		    const char *path, size_t len);

/*
 * Finds the next `{{name}}` placeholder in s at or after *pos.  Returns 1
 * and sets *start (offset of "{{"), *name and *nlen (the name inside) and *pos
 * (offset after "}}"), or 0 when there is none.
 */
int		 catalog_next_placeholder(const char *s, size_t *pos,
		    size_t *start, const char **name, size_t *nlen);

#endif
