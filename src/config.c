#include "cs_build.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "config.h"
#include "util.h"

#ifndef CS_SYSCONFDIR
#define CS_SYSCONFDIR "/etc"
#endif
#ifndef CS_DATADIR
#define CS_DATADIR "/usr/share"
#endif

enum ckey {
	CK_DATA_DIR = 0,
	CK_KEYRING,
	CK_CATALOG,
	CK_JWT_SECRET_FILE,
	CK_JWT_JWKS_FILE,
	CK_JWT_ISSUER,
	CK_JWT_AUDIENCE,
	CK_JWT_LEEWAY,
	CK_JWT_ROLE_CLAIM,
	CK_ADMIN_ROLE,
	CK_TENANT_CLAIM,
	CK_PROBE_TIMEOUT_MS,
	CK_PROBE_ORIGIN_OVERRIDE,
	CK_MAX_BODY_BYTES,
	CK_TENANT_CHECKS_IN_FLIGHT,
	CK_TENANT_RATE_LIMIT,
	CK_TENANT_RATE_BURST,
	CK_MAX_CREDENTIALS_PER_TENANT,
	CK_DURABILITY,
	CK_LOG_LEVEL,
	CK_LOG_TARGET,
	CK_LOG_FACILITY,
	CK_PROXY_ROLE,
	CK_PROXY_TIMEOUT_MS,
	CK_PROXY_MAX_BODY_BYTES,
	CK_PROXY_MAX_RESPONSE_BYTES,
	CK_FCGI_THREADS,
	CK_REPL_SELF,
	CK_REPL_PEERS,
	CK_REPL_PRIORITY,
	CK_REPL_ACK_POLICY,
	CK_REPL_ACK_TIMEOUT_MS,
	CK_REPL_FORWARD_URL,
	CK_REPL_SECRET_FILE,
	CK__MAX
};

enum ctype {
	CT_PATH,	/* string, relative to the file's folder */
	CT_STRING,	/* non-empty string */
	CT_CLAIM,	/* claim name: [A-Za-z0-9_:./-]{1,64} */
	CT_LONG,	/* integer in [min, max] */
	CT_ORIGIN,	/* http(s)://host[:port] */
	CT_DURABILITY,
	CT_LOGLEVEL,
	CT_LOGTARGET,	/* stderr or syslog */
	CT_FACILITY,	/* a syslog(3) facility name */
	CT_HOSTPORT,	/* host:port */
	CT_HOSTPORTS,	/* host:port, ... (1 to REPL_PEERS_MAX) */
	CT_ACK,		/* repl_ack_policy */
	CT_URL,		/* http(s)://host[:port][/path], no query */
};

struct ckeydef {
	const char	*name;
	enum ctype	 type;
	long		 min, max;
	size_t		 off;
};

#define OFF(f) offsetof(struct config, f)

static const struct ckeydef keys[CK__MAX] = {
	{ "data_dir", CT_PATH, 0, 0, OFF(data_dir) },
	{ "keyring", CT_PATH, 0, 0, OFF(keyring) },
	{ "catalog", CT_PATH, 0, 0, OFF(catalog) },
	{ "jwt_secret_file", CT_PATH, 0, 0, OFF(jwt_secret_file) },
	{ "jwt_jwks_file", CT_PATH, 0, 0, OFF(jwt_jwks_file) },
	{ "jwt_issuer", CT_STRING, 0, 0, OFF(jwt_issuer) },
	{ "jwt_audience", CT_STRING, 0, 0, OFF(jwt_audience) },
	{ "jwt_leeway", CT_LONG, 0, 3600, OFF(jwt_leeway) },
	{ "jwt_role_claim", CT_CLAIM, 0, 0, OFF(jwt_role_claim) },
	{ "admin_role", CT_STRING, 0, 0, OFF(admin_role) },
	{ "tenant_claim", CT_CLAIM, 0, 0, OFF(tenant_claim) },
	{ "probe_timeout_ms", CT_LONG, 100, 120000, OFF(probe_timeout_ms) },
	{ "probe_origin_override", CT_ORIGIN, 0, 0, OFF(probe_origin_override) },
	{ "max_body_bytes", CT_LONG, 1024, 16L * 1024 * 1024, OFF(max_body_bytes) },
	{ "tenant_checks_in_flight", CT_LONG, 1, 14, OFF(tenant_checks_in_flight) },
	{ "tenant_rate_limit", CT_LONG, 0, 1000000, OFF(tenant_rate_limit) },
	{ "tenant_rate_burst", CT_LONG, 1, 1000000, OFF(tenant_rate_burst) },
	{ "max_credentials_per_tenant", CT_LONG, 0, 100000000L,
	    OFF(max_credentials_per_tenant) },
	{ "durability", CT_DURABILITY, 0, 0, OFF(durability) },
	{ "log_level", CT_LOGLEVEL, 0, 0, OFF(log_level) },
	{ "log_target", CT_LOGTARGET, 0, 0, OFF(log_target) },
	{ "log_facility", CT_FACILITY, 0, 0, OFF(log_facility) },
	{ "proxy_role", CT_STRING, 0, 0, OFF(proxy_role) },
	{ "proxy_timeout_ms", CT_LONG, 100, 600000, OFF(proxy_timeout_ms) },
	{ "proxy_max_body_bytes", CT_LONG, 1024, 64L * 1024 * 1024,
	    OFF(proxy_max_body_bytes) },
	{ "proxy_max_response_bytes", CT_LONG, 1024, 256L * 1024 * 1024,
	    OFF(proxy_max_response_bytes) },
	{ "fcgi_threads", CT_LONG, 1, 256, OFF(fcgi_threads) },
	{ "repl_self", CT_HOSTPORT, 0, 0, OFF(repl_self) },
	{ "repl_peers", CT_HOSTPORTS, 0, 0, OFF(repl_peers) },
	{ "repl_priority", CT_LONG, 0, 1000000, OFF(repl_priority) },
	{ "repl_ack_policy", CT_ACK, 0, 0, OFF(repl_ack_policy) },
	{ "repl_ack_timeout_ms", CT_LONG, 10, 600000, OFF(repl_ack_timeout_ms) },
	{ "repl_forward_url", CT_URL, 0, 0, OFF(repl_forward_url) },
	{ "repl_secret_file", CT_PATH, 0, 0, OFF(repl_secret_file) },
};

static const char *const acknames[REPL_ACK__MAX] = {
	"quorum", "all", "one", "none",
};

static const char *const durnames[DUR__MAX] = {
	"sync", "write_nosync", "nosync",
};

const char *
durability_name(enum durability d)
{
	return d < DUR__MAX ? durnames[d] : "?";
}

const char *
repl_ack_name(enum repl_ack a)
{
	return a < REPL_ACK__MAX ? acknames[a] : "?";
}

const char *
config_default_path(void)
{
	return CS_SYSCONFDIR "/credstore/credstore.conf";
}

const char *
config_path_from_env(void)
{
	const char *p = getenv("CREDSTORE_CONFIG");

	return (p != NULL && *p != '\0') ? p : config_default_path();
}

void
config_free(struct config *c)
{
	int i;

	if (c == NULL)
		return;
	free(c->path);
	for (i = 0; i < CK__MAX; i++)
		if (keys[i].type == CT_PATH || keys[i].type == CT_STRING ||
		    keys[i].type == CT_CLAIM || keys[i].type == CT_ORIGIN ||
		    keys[i].type == CT_HOSTPORT || keys[i].type == CT_HOSTPORTS ||
		    keys[i].type == CT_URL) {
			char **p = (char **)(void *)((char *)c + keys[i].off);
			free(*p);
			*p = NULL;
		}
	memset(c, 0, sizeof(*c));
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static char *
resolve_path(const char *dir, const char *v)
{
	char	*out;
	size_t	 n;

	if (v[0] == '/' || dir == NULL)
		return strdup(v);
	n = strlen(dir) + strlen(v) + 2;
	if ((out = malloc(n)) == NULL)
		return NULL;
	snprintf(out, n, "%s/%s", dir, v);
	return out;
}

static int
valid_origin(const char *v)
{
	const char	*h;
	size_t		 i;

	if (strncmp(v, "http://", 7) == 0)
		h = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		h = v + 8;
	else
		return 0;
	const char	*port;
	long		 pv;

	if (*h == '[') {		/* [v6]:port */
		if ((port = strchr(h, ']')) == NULL || port == h + 1)
			return 0;
		for (i = 1; h + i < port; i++)
			if (!(h[i] == ':' || h[i] == '.' ||
			    (h[i] >= '0' && h[i] <= '9') ||
			    (h[i] >= 'a' && h[i] <= 'f') || (h[i] >= 'A' && h[i] <= 'F')))
				return 0;
		port++;
	} else {
		for (i = 0; h[i] != '\0' && h[i] != ':'; i++)
			if (!(h[i] == '.' || h[i] == '-' ||
			    (h[i] >= '0' && h[i] <= '9') ||
			    (h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')))
				return 0;
		if (i == 0)
			return 0;
		port = h + i;
	}
	if (*port == '\0')
		return 1;
	if (*port != ':' || parse_long(port + 1, 1, 65535, &pv) == -1)
		return 0;
	return 1;
}

static int
valid_claim(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || strchr("_:./-", v[i]) != NULL))
			return 0;
	return 1;
}

int
config_hostport(const char *s, size_t n, char host[REPL_HOSTLEN],
    unsigned *port)
{
	const char	*colon, *h = s, *he;
	char		 pb[8];
	long		 pv;
	size_t		 i;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--, h = s;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || (colon = memrchr(s, ':', n)) == NULL)
		return -1;
	he = colon;
	if (*h == '[') {
		if (colon[-1] != ']' || colon - h < 3)
			return -1;
		h++, he--;
		for (i = 0; h + i < he; i++)
			if (strchr("0123456789abcdefABCDEF:.", h[i]) == NULL)
				return -1;
	} else
		for (i = 0; h + i < he; i++)
			if (!(h[i] == '.' || h[i] == '-' ||
			    (h[i] >= '0' && h[i] <= '9') ||
			    (h[i] >= 'a' && h[i] <= 'z') ||
			    (h[i] >= 'A' && h[i] <= 'Z')))
				return -1;
	if (he == h || (size_t)(he - h) >= REPL_HOSTLEN ||
	    (size_t)(s + n - colon - 1) >= sizeof(pb) || s + n == colon + 1)
		return -1;
	memcpy(pb, colon + 1, (size_t)(s + n - colon - 1));
	pb[s + n - colon - 1] = '\0';
	if (parse_long(pb, 1, 65535, &pv) == -1)
		return -1;
	if (host != NULL) {
		memcpy(host, h, (size_t)(he - h));
		host[he - h] = '\0';
	}
	if (port != NULL)
		*port = (unsigned)pv;
	return 0;
}

int
config_hostports(const char *s, config_hostport_cb cb, void *arg)
{
	const char	*e;
	char		 host[REPL_HOSTLEN];
	unsigned	 port;
	int		 rc = 0;

	for (;;) {
		if ((e = strchr(s, ',')) == NULL)
			e = s + strlen(s);
		if (config_hostport(s, (size_t)(e - s), host, &port) == -1)
			return -1;
		if (cb != NULL && (rc = cb(host, port, arg)) != 0)
			return rc;
		if (*e == '\0')
			return rc;
		s = e + 1;
	}
}

static int
count_peer(const char *host, unsigned port, void *arg)
{
	(void)host;
	(void)port;
	++*(int *)arg;
	return 0;
}

/* http(s)://host[:port] and an optional /path with no query or fragment. */
static int
valid_url(const char *v)
{
	const char	*s = strchr(v, '/'), *p;
	char		 origin[512];
	size_t		 n;

	if (s == NULL || s[1] != '/' || (p = strchr(s + 2, '/')) == NULL)
		p = v + strlen(v);
	if ((n = (size_t)(p - v)) >= sizeof(origin))
		return 0;
	memcpy(origin, v, n);
	origin[n] = '\0';
	if (!valid_origin(origin))
		return 0;
	for (; *p != '\0'; p++)
		if (*p == '?' || *p == '#' || *p == ' ' || *p == '%')
			return 0;
	return 1;
}

struct selfpeer {
	char		host[REPL_HOSTLEN];
	unsigned	port;
	char		seen[REPL_PEERS_MAX + 1][REPL_HOSTLEN + 8];
	int		n;
};

/* 1 when a peer is this site or is listed twice. */
static int
peer_clash(const char *host, unsigned port, void *arg)
{
	struct selfpeer	*sp = arg;
	int		 i;

	if (port == sp->port && strcmp(host, sp->host) == 0)
		return 1;
	if (sp->n > REPL_PEERS_MAX)
		return 0;
	snprintf(sp->seen[sp->n], sizeof(sp->seen[0]), "%s:%u", host, port);
	for (i = 0; i < sp->n; i++)
		if (strcmp(sp->seen[i], sp->seen[sp->n]) == 0)
			return 1;
	sp->n++;
	return 0;
}

/*
 * With repl_self set: peers, forward URL and secret file are required;
 * no peer is this site or given twice; the secret file is a regular file
 * of 32 to 4096 bytes that others cannot read.  NULL or what is wrong.
 */
static const char *
check_repl(const struct config *c)
{
	struct selfpeer	*sp;
	struct stat	 sb;
	int		 clash;

	if (c->repl_self == NULL)
		return NULL;
	if (c->repl_peers == NULL)
		return "repl_peers is required with repl_self";
	if (c->repl_forward_url == NULL)
		return "repl_forward_url is required with repl_self";
	if (c->repl_secret_file == NULL)
		return "repl_secret_file is required with repl_self";
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return "out of memory";
	(void)config_hostport(c->repl_self, strlen(c->repl_self), sp->host,
	    &sp->port);
	clash = config_hostports(c->repl_peers, peer_clash, sp);
	free(sp);
	if (clash != 0)
		return "repl_peers names this site or one site twice";
	if (stat(c->repl_secret_file, &sb) == -1)
		return "repl_secret_file cannot be read";
	if (!S_ISREG(sb.st_mode) || sb.st_size < 32 || sb.st_size > 4096)
		return "repl_secret_file must hold 32 to 4096 bytes";
	if ((sb.st_mode & 007) != 0)
		return "repl_secret_file must not be readable by others";
	return NULL;
}

/* Sets one key from its textual value; returns NULL or what is wrong. */
static const char *
set_key(struct config *c, const struct ckeydef *k, const char *dir,
    const char *v)
{
	char		**sp = (char **)(void *)((char *)c + k->off);
	long		 *lp = (long *)(void *)((char *)c + k->off);
	long		  l;
	int		  i;
	enum log_level	  lvl;

	switch (k->type) {
	case CT_PATH:
	case CT_STRING:
	case CT_CLAIM:
	case CT_ORIGIN:
	case CT_HOSTPORT:
	case CT_HOSTPORTS:
	case CT_URL:
		if (*v == '\0')
			return "empty value";
		if (!is_clean_utf8(v, strlen(v)))
			return "value has control characters";
		if (k->type == CT_CLAIM && !valid_claim(v))
			return "not a valid claim name";
		if (k->type == CT_ORIGIN && !valid_origin(v))
			return "expected http(s)://host[:port] with no path";
		if (k->type == CT_HOSTPORT &&
		    config_hostport(v, strlen(v), NULL, NULL) == -1)
			return "expected host:port";
		if (k->type == CT_URL && !valid_url(v))
			return "expected http(s)://host[:port][/path]";
		if (k->type == CT_HOSTPORTS) {
			i = 0;
			if (config_hostports(v, count_peer, &i) == -1)
				return "expected host:port, host:port, ...";
			if (i > REPL_PEERS_MAX)
				return "at most 4 peers (5 sites)";
		}
		free(*sp);
		*sp = (k->type == CT_PATH) ? resolve_path(dir, v) : strdup(v);
		if (*sp == NULL)
			return "out of memory";
		return NULL;
	case CT_LONG:
		if (parse_long(v, k->min, k->max, &l) == -1)
			return "not a whole number in the allowed range";
		*lp = l;
		return NULL;
	case CT_DURABILITY:
		for (i = 0; i < DUR__MAX; i++)
			if (strcmp(v, durnames[i]) == 0) {
				c->durability = (enum durability)i;
				return NULL;
			}
		return "expected sync, write_nosync or nosync";
	case CT_LOGLEVEL:
		if (log_level_parse(v, &lvl) == -1)
			return "expected error, warn, info or debug";
		c->log_level = lvl;
		return NULL;
	case CT_LOGTARGET:
		if (log_target_parse(v, &c->log_target) == -1)
			return "expected stderr or syslog";
		return NULL;
	case CT_FACILITY:
		if (log_facility_parse(v, &c->log_facility) == -1)
			return "expected daemon, authpriv, user or local0..local7";
		return NULL;
	case CT_ACK:
		for (i = 0; i < REPL_ACK__MAX; i++)
			if (strcmp(v, acknames[i]) == 0) {
				c->repl_ack_policy = (enum repl_ack)i;
				return NULL;
			}
		return "expected quorum, all, one or none";
	}
	return "unhandled key type";
}

static int
set_default_str(char **p, const char *v)
{
	if (*p != NULL)
		return 0;
	return (*p = strdup(v)) == NULL ? -1 : 0;
}

/* Zeroes *c and sets the defaults of the keys that are numbers. */
static void
set_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->jwt_leeway = 60;
	c->probe_timeout_ms = 5000;
	c->max_body_bytes = 65536;
	c->proxy_timeout_ms = 30000;
	c->proxy_max_body_bytes = 1048576;
	c->proxy_max_response_bytes = 4194304;
	c->tenant_checks_in_flight = 2;
	c->tenant_rate_limit = 1000;
	c->tenant_rate_burst = 2000;
	c->max_credentials_per_tenant = 10000;
	c->durability = DUR_SYNC;
	c->log_level = LOG_LVL_INFO;
	c->log_target = LOG_TO_STDERR;
	c->log_facility = LOG_AUTHPRIV;
	c->fcgi_threads = CONFIG_FCGI_THREADS;
	c->repl_priority = 100;
	c->repl_ack_policy = REPL_ACK_QUORUM;
	c->repl_ack_timeout_ms = 2000;
}

int
config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	FILE		*f;
	char		 line[4096], *dir = NULL, *p, *k, *v, *eq;
	const char	*why;
	unsigned	 lineno = 0;
	int		 i, seen[CK__MAX];

	set_defaults(c);
	memset(seen, 0, sizeof(seen));

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    errstr(errno));
		return -1;
	}
	if ((c->path = strdup(path)) == NULL || (dir = strdup(path)) == NULL)
		goto oom;
	if ((p = strrchr(dir, '/')) != NULL)
		*(p == dir ? p + 1 : p) = '\0';
	else {
		free(dir);
		if ((dir = strdup(".")) == NULL)
			goto oom;
	}
	/* relative paths stay valid whatever the working directory is later */
	if ((p = realpath(dir, NULL)) != NULL) {
		free(dir);
		dir = p;
	}

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			goto fail;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
			    path, lineno);
			goto fail;
		}
		*eq = '\0';
		k = trim(p);
		v = trim(eq + 1);
		for (i = 0; i < CK__MAX; i++)
			if (strcmp(k, keys[i].name) == 0)
				break;
		if (i == CK__MAX) {
			snprintf(err, errlen, "%s:%u: unknown key '%.64s'",
			    path, lineno, k);
			goto fail;
		}
		if (seen[i]) {
			snprintf(err, errlen, "%s:%u: key '%s' given twice",
			    path, lineno, keys[i].name);
			goto fail;
		}
		seen[i] = 1;
		if ((why = set_key(c, &keys[i], dir, v)) != NULL) {
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno,
			    keys[i].name, why);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	if (c->data_dir == NULL) {
		snprintf(err, errlen, "%s: data_dir is required", path);
		goto fail;
	}
	if (c->keyring == NULL) {
		snprintf(err, errlen, "%s: keyring is required", path);
		goto fail;
	}
	if ((why = check_repl(c)) != NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	if (set_default_str(&c->catalog, CS_DATADIR "/credstore/catalog.json") ||
	    set_default_str(&c->jwt_role_claim, "role") ||
	    set_default_str(&c->admin_role, "admin") ||
	    set_default_str(&c->proxy_role, "proxy") ||
	    set_default_str(&c->tenant_claim, "org_id"))
		goto oom;
	fclose(f);
	free(dir);
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	fclose(f);
	free(dir);
	config_free(c);
	return -1;
}
