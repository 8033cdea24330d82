/*
 * config: the `key = value` configuration file of SPEC section 4.
 * Relative paths are resolved against the file's folder.
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stddef.h>

#include "log.h"

/* repl_ack_policy (SPEC section 11) */
enum repl_ack {
	REPL_ACK_QUORUM = 0,
	REPL_ACK_ALL,
	REPL_ACK_ONE,
	REPL_ACK_NONE,
	REPL_ACK__MAX
};

#define REPL_PEERS_MAX	4	/* a group of 2 to 5 sites */
#define REPL_HOSTLEN	256

enum durability {
	DUR_SYNC = 0,
	DUR_WRITE_NOSYNC,
	DUR_NOSYNC,
	DUR__MAX
};

struct config {
	char		*path;		/* the file itself */
	char		*data_dir;
	char		*keyring;
	char		*catalog;
	char		*jwt_secret_file;
	char		*jwt_jwks_file;
	char		*jwt_issuer;
	char		*jwt_audience;
	long		 jwt_leeway;
	char		*jwt_role_claim;
	char		*admin_role;
	char		*tenant_claim;
	long		 probe_timeout_ms;
	char		*probe_origin_override;
	long		 max_body_bytes;
	long		 tenant_checks_in_flight;	/* 1..14 */
	long		 tenant_rate_limit;	/* per second; 0: none */
	long		 tenant_rate_burst;
	long		 max_credentials_per_tenant;	/* 0: no cap */
	enum durability	 durability;
	enum log_level	 log_level;
	enum log_target	 log_target;
	int		 log_facility;	/* syslog(3) facility, LOG_AUTHPRIV */
	char		*proxy_role;	/* SPEC section 10 */
	long		 proxy_timeout_ms;
	long		 proxy_max_body_bytes;
	long		 proxy_max_response_bytes;
	long		 fcgi_threads;	/* requests at once per FastCGI process */
	/* replication (SPEC section 11); repl_self NULL: a single site */
	char		*repl_self;		/* host:port */
	char		*repl_peers;		/* host:port, ... */
	long		 repl_priority;
	enum repl_ack	 repl_ack_policy;
	long		 repl_ack_timeout_ms;
	char		*repl_forward_url;
	char		*repl_secret_file;
};

/* fcgi_threads when the file does not say (or cannot be read) */
#define CONFIG_FCGI_THREADS	16

#define CONFIG_ERRLEN	512

/* Default config path when CREDSTORE_CONFIG is unset. */
const char	*config_default_path(void);
/* The path to use: $CREDSTORE_CONFIG or the default. */
const char	*config_path_from_env(void);

/*
 * Reads and validates the file at path into *cfg (zeroed first).  On error
 * returns -1 and writes "FILE:LINE: what is wrong" into err; *cfg is then
 * freed already.
 */
int	 config_load(const char *path, struct config *cfg, char *err, size_t errlen);
void	 config_free(struct config *cfg);
const char *durability_name(enum durability);
const char *repl_ack_name(enum repl_ack);
/*
 * Splits "host:port" (a name, an IPv4 address or [IPv6]) into host (at
 * most REPL_HOSTLEN - 1 bytes) and port 1..65535.  0 or -1.
 */
int	 config_hostport(const char *s, size_t n, char host[REPL_HOSTLEN],
	    unsigned *port);
/*
 * Calls cb for each entry of the comma-separated host:port list s (as
 * config_hostport splits it); stops at cb's first non-zero.  -1 when an
 * entry is malformed; else cb's last result.
 */
typedef int	(*config_hostport_cb)(const char *host, unsigned port, void *);
int	 config_hostports(const char *s, config_hostport_cb cb, void *arg);

#endif
