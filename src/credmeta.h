/*
 * credmeta: the public metadata of a credential as the API answers it
 * (SPEC section 6): credentialId, provider, label, status, fields (names),
 * createdAt, updatedAt, lastValidatedAt, and the last check's outcome
 * ("check": result and reason, SPEC section 2).  Never a value, never a
 * hint of one.  Built from a record the storage module returned; the storage
 * format is record.c's, this is the answer's.
 */
#ifndef CS_CREDMETA_H
#define CS_CREDMETA_H

#include <stddef.h>

struct buf;
struct cred_rec;
struct json_object;

/*
 * The last check's outcome: result "validated", "rejected" or
 * "unreachable" and its reason code ("" when validated).  A record
 * written before the outcome was kept gives the result its status
 * implies, with the reason CREDMETA_NOT_RECORDED unless validated.
 */
#define CREDMETA_NOT_RECORDED	"not_recorded"
struct credmeta_check {
	char	 result[16];
	char	 reason[40];
};
void		 credmeta_check(const struct cred_rec *, struct credmeta_check *);
/* "result=R; reason=X" (or "result=validated") into out[n]: 0 or -1. */
int		 credmeta_check_header(const struct cred_rec *, char *out,
		    size_t n);
/* {"result": ..., "reason": ...} as a new json-c object (caller puts). */
struct json_object *credmeta_check_json(const struct cred_rec *);

/* The metadata as a new json-c object (caller puts). */
struct json_object *credmeta_json(const struct cred_rec *);
/* The same object written as text into b (listings); -1 at b's cap. */
int		 credmeta_write(struct buf *b, const struct cred_rec *);

#endif
