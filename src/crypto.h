/*
 * crypto: the keyring, envelope encryption of credential sets (SPEC
 * section 5), keyed MACs and identifiers.  Every primitive is GnuTLS:
 * AES-256-GCM for data and key wrapping, HMAC-SHA256, the GnuTLS random
 * generator.  Knows nothing about HTTP or storage.
 */
#ifndef CS_CRYPTO_H
#define CS_CRYPTO_H

#include <stddef.h>
#include <time.h>

#define CRYPTO_KEY_LEN		32
#define CRYPTO_NONCE_LEN	12
#define CRYPTO_TAG_LEN		16
#define CRYPTO_KEYID_MAX	16	/* "k" + digits, NUL included */
#define CRYPTO_WRAPPED_LEN	(CRYPTO_NONCE_LEN + CRYPTO_KEY_LEN + CRYPTO_TAG_LEN)
#define CRYPTO_MAC_LEN		32
#define ULID_LEN		26
#define CREDENTIAL_ID_LEN	(4 + ULID_LEN)	/* "crd_" + ULID */

struct kr_key {
	char		 id[CRYPTO_KEYID_MAX];
	time_t		 created;
	unsigned char	 key[CRYPTO_KEY_LEN];
};

/* Keys oldest first; the last one is active. */
#define KEYRING_SUBKEYS	8
#define KEYRING_LABEL_MAX	32

struct keyring {
	struct kr_key	*keys;
	size_t		 nkeys;
	unsigned char	 mac_key[CRYPTO_KEY_LEN];	/* never rotates */
	/* keys derived from mac_key, by label: one HMAC per label, not per use */
	struct {
		char		 label[KEYRING_LABEL_MAX];
		unsigned char	 key[CRYPTO_KEY_LEN];
	}		 sub[KEYRING_SUBKEYS];
	size_t		 nsub;
};

/* A sealed credential set as stored. */
struct sealed {
	char		 key_id[CRYPTO_KEYID_MAX];
	unsigned char	 wrapped[CRYPTO_WRAPPED_LEN];	/* nonce|dek|tag */
	unsigned char	 nonce[CRYPTO_NONCE_LEN];
	unsigned char	*ct;				/* ciphertext|tag */
	size_t		 ctlen;
};

/*
 * Loads the keyring file.  Refuses a file that is world-accessible or
 * group-writable, malformed, or without keys.  Returns 0, or -1 with
 * "PATH: what" (or "PATH:LINE: what") in err.
 */
int	 keyring_load(const char *path, struct keyring **out, char *err,
	    size_t errlen);
void	 keyring_free(struct keyring *);	/* wipes */
/* Writes a new keyring with one key (O_EXCL, mode 0600). */
int	 keyring_create(const char *path, char *err, size_t errlen);
/*
 * Appends a fresh key (the new active one) or removes key `id`, replacing
 * the file atomically with the same owner, group and mode (fchown and
 * fchmod on the new file before the rename); when the owner cannot be
 * kept (not root, another owner) nothing changes and err says so.  On
 * success *kr is updated.
 */
int	 keyring_add_key(const char *path, struct keyring *kr, char *err,
	    size_t errlen);
/* The same, the new keyring written to out (path's owner, group, mode). */
int	 keyring_add_key_to(const char *path, const char *out,
	    struct keyring *kr, char *err, size_t errlen);
/*
 * "ID:FP,ID:FP..." oldest first, FP the first 8 bytes of SHA-256 of the
 * key in hex: which keys a site holds, comparable across sites and
 * telling nothing of the keys.  0, or -1 when out is too small.
 */
int	 keyring_fingerprints(const struct keyring *, char *out,
	    size_t outlen);
int	 keyring_remove_key(const char *path, struct keyring *kr,
	    const char *id, char *err, size_t errlen);
/*
 * Whether keyring_add_key and keyring_remove_key could replace the file
 * now, keeping its owner, group and mode: the same steps on path.tmp,
 * which is then removed.  0, or -1 with the real cause in err.
 */
int	 keyring_check_rewrite(const char *path, char *err, size_t errlen);
const struct kr_key *keyring_active(const struct keyring *);
const struct kr_key *keyring_find(const struct keyring *, const char *id);

/*
 * Encrypts pt under a fresh data key wrapped with the active key; ad binds
 * the ciphertext to its record.  Fills *s (s->ct malloc'd; sealed_free).
 */
int	 envelope_seal(const struct keyring *, const void *ad, size_t adlen,
	    const void *pt, size_t ptlen, struct sealed *s);
/*
 * Decrypts into a malloc'd buffer *pt (caller wipes with secure_free).
 * -1 when the key is unknown, the sizes are wrong or authentication fails.
 */
int	 envelope_open(const struct keyring *, const void *ad, size_t adlen,
	    const struct sealed *s, unsigned char **pt, size_t *ptlen);
/* Re-wraps the data key of s with the active key; ciphertext untouched. */
int	 envelope_rewrap(const struct keyring *, const void *ad, size_t adlen,
	    struct sealed *s);
/*
 * The same across keyrings: unwrapped with from (which knows s's key),
 * wrapped with the active key of to (a keyring read again from its file).
 */
int	 envelope_rewrap_to(const struct keyring *from,
	    const struct keyring *to, const void *ad, size_t adlen,
	    struct sealed *s);
void	 sealed_free(struct sealed *);

/* HMAC-SHA256 under a key derived from the keyring's MAC key and label. */
int	 crypto_mac(const struct keyring *, const char *label, const void *p,
	    size_t n, unsigned char out[CRYPTO_MAC_LEN]);

/*
 * Small authenticated-encrypted tokens (session cookies): AES-256-GCM
 * under a key derived from the MAC key and label, random nonce.  seal
 * returns malloc'd base64url of nonce|ciphertext|tag; open returns the
 * malloc'd plaintext (NUL-terminated; secure_free it) or NULL.
 */
char	*crypto_box_seal(const struct keyring *, const char *label,
	    const void *pt, size_t n);
unsigned char *crypto_box_open(const struct keyring *, const char *label,
	    const char *box, size_t boxlen, size_t *n);

/* "crd_" + ULID (26 characters), NUL-terminated. */
int	 crypto_credential_id(char out[CREDENTIAL_ID_LEN + 1]);
/* ULID from 48-bit ms time and 80 random bits. */
int	 crypto_ulid(char out[ULID_LEN + 1]);
int	 crypto_random(void *p, size_t n);

#endif
