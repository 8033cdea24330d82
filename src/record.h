/*
 * record: the text of the values the storage module keeps (credentials,
 * connections, idempotency records), written and read from one table of
 * members per kind of record.  Pure functions of memory: no database, no
 * HTTP.  The text is the on-disk format: what an older credstore wrote
 * must read back the same, so the bytes written never change.
 */
#ifndef CS_RECORD_H
#define CS_RECORD_H

#include <stddef.h>

#include "rectypes.h"

/* Frees what a reader filled in (the sealed values wiped); NULL is fine. */
void		 cred_rec_free(struct cred_rec *);
void		 idem_rec_free(struct idem_rec *);

/*
 * The version of the credential record format: its member "v".  Version
 * 2 added "ver" (the record's version counter) and "mac", the last
 * member; version 1 records read as corrupt.
 */
#define RECORD_CRED_VERSION	2
#define RECORD_MAC_LABEL	"record-v1"

/*
 * What a credential record's MAC binds: its database key (tenant \0
 * provider \0 id) and the MAC function (label RECORD_MAC_LABEL).  The
 * MAC covers key, a NUL and the record's text up to its "mac" member.
 */
struct record_key {
	const void	*key;
	size_t		 klen;
	store_mac_fn	 mac;
	void		*arg;
};

/*
 * A credential record as JSON text, written without a JSON tree (one per
 * change), its MAC last.  Returns malloc'd text and its length in *len,
 * or NULL (no memory, no MAC function, the MAC failed).
 */
char		*record_cred_write(const struct cred_rec *,
		    const struct record_key *, size_t *len);
/*
 * Reads a credential record written by record_cred_write: checks its MAC
 * under k, then reads it in place, falling back to json-c when the text
 * is not of the shape the in-place reader takes.  Without sealed the
 * sealed values (wrapped key, nonce, ciphertext) are not decoded
 * (metadata listings).  STORE_OK fills *r (cred_rec_free); STORE_CORRUPT
 * on any surprise: a MAC missing or wrong, a missing or unknown "v".
 */
enum store_rc	 record_cred_read(const void *p, size_t n,
		    const struct record_key *k, struct cred_rec *r, int sealed);
/*
 * A record of format 1 (written before records had a version counter and
 * a MAC), with its sealed values: for `credstore-admin upgrade` only,
 * which writes it again in the current format.  r->ver is 0.  Not
 * thread-safe on its first call.
 */
enum store_rc	 record_cred_read_v1(const void *p, size_t n,
		    struct cred_rec *r);
/*
 * The two readers on their own, without the MAC check (tests, fuzzing).
 * record_cred_read_flat returns -1 when the text is not of the flat
 * shape it reads (a duplicate member, nesting, malformed text; *r is then
 * empty), else 0 with the result in *out.
 */
int		 record_cred_read_flat(const void *p, size_t n,
		    struct cred_rec *r, int sealed, enum store_rc *out);
enum store_rc	 record_cred_read_json(const void *p, size_t n,
		    struct cred_rec *r, int sealed);

/* Idempotency and connection records (json-c text); malloc'd or NULL. */
char		*record_idem_write(const struct idem_rec *, size_t *len);
enum store_rc	 record_idem_read(const void *p, size_t n, struct idem_rec *r);
char		*record_conn_write(const struct conn_rec *, size_t *len);
enum store_rc	 record_conn_read(const void *p, size_t n, struct conn_rec *c);

#endif
