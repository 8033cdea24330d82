/*
 * credset: a set of credential fields (name -> secret value), the one type
 * in which plaintext credentials live between the request parser, the
 * provider check and the encryption.  Values are wiped when freed.
 */
#ifndef CS_CREDSET_H
#define CS_CREDSET_H

#include <stddef.h>

#define CREDSET_MAX		32
#define CREDSET_VALUE_MAX	4096

struct credset {
	struct {
		char	*name;
		char	*value;		/* secret, NUL-terminated */
		size_t	 len;
	} f[CREDSET_MAX];
	size_t	 n;
};

void		 credset_init(struct credset *);
/* Copies name and value[0..len).  -1 when full or out of memory. */
int		 credset_add(struct credset *, const char *name,
		    const char *value, size_t len);
const char	*credset_get(const struct credset *, const char *name,
		    size_t *len);
void		 credset_free(struct credset *);	/* wipes values */

/*
 * Serializes to a compact binary form for encryption:
 * for each field: u16 name length, name, u16 value length, value.
 * Returns a malloc'd buffer (secret: caller wipes with secure_free).
 */
unsigned char	*credset_serialize(const struct credset *, size_t *len);
/* Inverse; -1 on malformed input (nothing leaks into *cs). */
int		 credset_deserialize(const unsigned char *p, size_t len,
		    struct credset *cs);

#endif
