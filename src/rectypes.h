/*
 * rectypes: the records the storage module keeps, as C types: a
 * credential, an idempotency record, a connection, and the results of
 * storage operations.  Shared by record (their text) and store (their
 * operations), so that neither includes the other.
 */
#ifndef CS_RECTYPES_H
#define CS_RECTYPES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "credset.h"
#include "crypto.h"

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND,
	STORE_EXISTS,		/* idempotency key taken meanwhile */
	STORE_UNAVAILABLE,	/* environment cannot be used now */
	STORE_CORRUPT,		/* a record does not parse */
	STORE_NOT_MASTER,	/* reserved for replication */
	STORE_IN_USE,		/* a connection uses the credential */
	STORE_ERROR,		/* the caller's change failed; nothing written */
	STORE_KEY_RETIRED,	/* sealed with a key retired meanwhile: nothing
				   written, seal with the keyring's new state */
	STORE_CONFLICT,		/* the record changed since it was read */
	STORE_LIMIT,		/* the tenant's credential cap is reached */
	STORE__MAX
};

#define STORE_MAC_LEN	32

/*
 * A keyed MAC under a key derived for one purpose (label, such as
 * "record-v1", "audit-chain-v1", "audit-head-v1"): 0 on success.
 */
typedef int	(*store_mac_fn)(const char *label, const void *p, size_t n,
		    unsigned char out[STORE_MAC_LEN], void *arg);

#define STORE_TENANT_MAX	128
#define STORE_LABEL_MAX		200	/* characters */
#define STORE_STATUS_MAX	16
/*
 * The last check's outcome as stored: "validated", or the result and the
 * reason code of SPEC section 2 joined by ':' ("rejected:status_401",
 * "unreachable:dns_error"); "" in a record written before it was kept.
 */
#define STORE_CHECK_MAX		48

/* Metadata and sealed values of one credential. */
struct cred_rec {
	char		 id[CREDENTIAL_ID_LEN + 1];
	char		*tenant;
	char		*provider;
	char		*label;		/* NULL: none */
	char		*created_by;	/* subject of the token; may be NULL */
	char		 status[STORE_STATUS_MAX];
	char		*fields[CREDSET_MAX];
	size_t		 nfields;
	time_t		 created, updated, validated;	/* validated 0: never */
	char		 check[STORE_CHECK_MAX];	/* "": not recorded */
	time_t		 used;		/* the proxy's last use; 0: never */
	uint64_t	 ver;		/* 1 at create, +1 on every write */
	struct sealed	 sealed;
};

/* A remembered response to an Idempotency-Key. */
struct idem_rec {
	unsigned char	 hash[CRYPTO_MAC_LEN];	/* keyed hash of the request */
	int		 status;
	char		*body;
	char		*location;
	time_t		 created;
	char		*check;		/* Credential-Check header; NULL: none */
};

/* A tenant's connection of one provider. */
struct conn_rec {
	char		 cred_id[CREDENTIAL_ID_LEN + 1];
	char		 status[STORE_STATUS_MAX];
	time_t		 connected;
};

#endif
