/*
 * credmeta: the public metadata of a credential as the API answers it
 * (SPEC section 6): credentialId, provider, label, status, fields (names),
 * createdAt, updatedAt, lastValidatedAt.  Never a value, never a hint of
 * one.  Built from a record the storage module returned; the storage
 * format is record.c's, this is the answer's.
 */
#ifndef CS_CREDMETA_H
#define CS_CREDMETA_H

struct buf;
struct cred_rec;
struct json_object;

/* The metadata as a new json-c object (caller puts). */
struct json_object *credmeta_json(const struct cred_rec *);
/* The same object written as text into b (listings); -1 at b's cap. */
int		 credmeta_write(struct buf *b, const struct cred_rec *);

#endif
