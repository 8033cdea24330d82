/*
 * config: the `key = value` configuration file of SPEC section 4.
 * Relative paths are resolved against the file's folder.
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stddef.h>

#include "log.h"

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

#endif
