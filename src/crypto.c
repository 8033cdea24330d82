#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "crypto.h"
#include "secmem.h"
#include "util.h"

#define KEYRING_MAX_KEYS	256
#define KEYRING_HEADER \
	"# credstore keyring v1: do not edit; keep mode 0600 or 0640\n"

static const char wrap_label[] = "credstore-wrap-v1";

int
crypto_random(void *p, size_t n)
{
	return gnutls_rnd(GNUTLS_RND_RANDOM, p, n) == 0 ? 0 : -1;
}

/* Crockford base32 of the 128-bit big-endian value b (2 leading 0 bits). */
int
crypto_ulid(char out[ULID_LEN + 1])
{
	static const char alpha[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char	 b[16];
	uint64_t	 t = now_ms();
	int		 i, j, bit, v;

	for (i = 5; i >= 0; i--) {
		b[i] = (unsigned char)(t & 0xff);
		t >>= 8;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, b + 6, 10) != 0)
		return -1;
	for (i = 0; i < ULID_LEN; i++) {
		v = 0;
		for (j = 0; j < 5; j++) {
			bit = i * 5 + j - 2;
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = alpha[v];
	}
	out[ULID_LEN] = '\0';
	return 0;
}

int
crypto_credential_id(char out[CREDENTIAL_ID_LEN + 1])
{
	memcpy(out, "crd_", 4);
	return crypto_ulid(out + 4);
}

void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	secmem_free(kr->keys);
	secmem_free(kr);
}

const struct kr_key *
keyring_active(const struct keyring *kr)
{
	return kr->nkeys > 0 ? &kr->keys[kr->nkeys - 1] : NULL;
}

int
keyring_fingerprints(const struct keyring *kr, char *out, size_t outlen)
{
	unsigned char	h[32];
	size_t		i, len = 0;
	int		n;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (i = 0; i < kr->nkeys; i++) {
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, kr->keys[i].key,
		    CRYPTO_KEY_LEN, h) != 0)
			return -1;
		n = snprintf(out + len, outlen - len, "%s%s:%02x%02x%02x%02x%02x"
		    "%02x%02x%02x", i > 0 ? "," : "", kr->keys[i].id, h[0], h[1],
		    h[2], h[3], h[4], h[5], h[6], h[7]);
		if (n < 0 || (size_t)n >= outlen - len)
			return -1;
		len += (size_t)n;
	}
	return 0;
}

const struct kr_key *
keyring_find(const struct keyring *kr, const char *id)
{
	size_t i;

	for (i = 0; i < kr->nkeys; i++)
		if (strcmp(kr->keys[i].id, id) == 0)
			return &kr->keys[i];
	return NULL;
}

static int
decode_key(const char *b64, unsigned char out[CRYPTO_KEY_LEN])
{
	unsigned char	*k;
	size_t		 n;

	if ((k = b64_decode(b64, strlen(b64), &n)) == NULL)
		return -1;
	if (n != CRYPTO_KEY_LEN) {
		secure_free(k, n);
		return -1;
	}
	memcpy(out, k, CRYPTO_KEY_LEN);
	secure_free(k, n);
	return 0;
}

static int
valid_key_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n < 2 || n >= CRYPTO_KEYID_MAX || id[0] != 'k')
		return 0;
	for (i = 1; i < n; i++)
		if (id[i] < '0' || id[i] > '9')
			return 0;
	return 1;
}

static int
parse_keyring(char *text, const char *path, struct keyring *kr, char *err,
    size_t errlen)
{
	char		*line, *next, *tok[5], *save, *p;
	unsigned	 lineno = 0;
	int		 ntok, have_mac = 0;
	struct tm	 tm;
	struct kr_key	*k;
	size_t		 i;

	kr->keys = secmem_alloc(KEYRING_MAX_KEYS * sizeof(*kr->keys));
	if (kr->keys == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		ntok = 0;
		for (p = strtok_r(line, " \t\r\n", &save); p != NULL && ntok < 5;
		    p = strtok_r(NULL, " \t\r\n", &save))
			tok[ntok++] = p;
		if (ntok == 2 && strcmp(tok[0], "mac") == 0 && !have_mac) {
			if (decode_key(tok[1], kr->mac_key) == -1)
				goto bad;
			have_mac = 1;
			continue;
		}
		if (ntok != 4 || strcmp(tok[0], "key") != 0 ||
		    !valid_key_id(tok[1]) || kr->nkeys >= KEYRING_MAX_KEYS)
			goto bad;
		k = &kr->keys[kr->nkeys];
		memset(&tm, 0, sizeof(tm));
		p = strptime(tok[2], "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (p == NULL || *p != '\0')
			goto bad;
		k->created = timegm(&tm);
		snprintf(k->id, sizeof(k->id), "%s", tok[1]);
		for (i = 0; i < kr->nkeys; i++)
			if (strcmp(kr->keys[i].id, k->id) == 0)
				goto bad;
		if (decode_key(tok[3], k->key) == -1)
			goto bad;
		kr->nkeys++;
	}
	if (!have_mac || kr->nkeys == 0) {
		snprintf(err, errlen, "%s: keyring has no %s", path,
		    have_mac ? "key" : "mac line");
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s:%u: malformed keyring line", path, lineno);
	return -1;
}

int
keyring_load(const char *path, struct keyring **out, char *err, size_t errlen)
{
	struct keyring	*kr;
	struct stat	 st;
	struct buf	 b;
	int		 fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == EACCES)
			snprintf(err, errlen, "permission denied on %s "
			    "(keyring)", path);
		else
			snprintf(err, errlen, "%s: cannot open keyring: %s",
			    path, errstr(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: keyring is not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRWXO | S_IWGRP | S_IXGRP | S_IXUSR)) {
		snprintf(err, errlen, "%s: keyring mode %04o is unsafe "
		    "(use 0600 or 0640)", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	/* one read into a buffer that is wiped: no stdio copy of the keys */
	buf_init(&b, 64 * 1024, 1);
	for (;;) {
		char	chunk[4096];
		ssize_t	n = read(fd, chunk, sizeof(chunk));

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || buf_add(&b, chunk, (size_t)n) == -1) {
			secure_wipe(chunk, sizeof(chunk));
			if (n != 0) {
				snprintf(err, errlen, "%s: cannot read the keyring",
				    path);
				close(fd);
				buf_reset(&b);
				return -1;
			}
			break;
		}
		secure_wipe(chunk, sizeof(chunk));
	}
	close(fd);
	if ((kr = secmem_alloc(sizeof(*kr))) == NULL) {
		buf_reset(&b);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = parse_keyring(b.data != NULL ? b.data : (char *)"", path, kr, err,
	    errlen);
	buf_reset(&b);
	if (rc == -1) {
		keyring_free(kr);
		return -1;
	}
	*out = kr;
	return 0;
}

/*
 * The folder of path, for an error message: "." when it has none.
 */
static void
dir_of(const char *path, char *out, size_t outlen)
{
	const char *sl = strrchr(path, '/');

	if (sl == NULL)
		snprintf(out, outlen, ".");
	else if (sl == path)
		snprintf(out, outlen, "/");
	else
		snprintf(out, outlen, "%.*s", (int)(sl - path), path);
}

/*
 * Opens the file that will hold the keyring: path itself (excl, a new
 * keyring), else path.tmp beside it, made owned like *like (owner, group)
 * and with like's mode bits 0640.  Returns the descriptor, or -1 with a
 * message naming the real cause in err (and no file left behind).
 */
static int
keyring_open_new(const char *path, const char *tmp, const struct stat *like,
    mode_t mode, char *err, size_t errlen)
{
	struct stat	 st;
	char		 dir[4096];
	int		 fd;

	fd = open(like == NULL ? path : tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, mode);
	if (fd == -1) {
		dir_of(path, dir, sizeof(dir));
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			snprintf(err, errlen, "permission denied on %s: cannot "
			    "create %s (%s); nothing changed", dir,
			    like == NULL ? path : tmp, errstr(errno));
		else
			snprintf(err, errlen, "%s: cannot create keyring: %s",
			    like == NULL ? path : tmp, errstr(errno));
		return -1;
	}
	if (like != NULL && fstat(fd, &st) == 0 && (st.st_uid != like->st_uid ||
	    st.st_gid != like->st_gid) &&
	    fchown(fd, like->st_uid, like->st_gid) == -1) {
		snprintf(err, errlen, "%s: cannot keep the keyring's owner "
		    "%lu:%lu (%s); run this as root or as that owner; nothing "
		    "changed", path, (unsigned long)like->st_uid,
		    (unsigned long)like->st_gid, errstr(errno));
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	if (fchmod(fd, mode) == -1) {
		snprintf(err, errlen, "%s: cannot set mode %04o: %s", path,
		    (unsigned)mode, errstr(errno));
		close(fd);
		(void)unlink(like == NULL ? path : tmp);
		return -1;
	}
	return fd;
}

/*
 * Writes kr to path atomically: temporary file (owner, group and mode
 * those of the file it replaces, *like), fsync, rename.  like NULL: a new
 * file, O_EXCL, mode 0600, owned by the caller.
 */
static int
keyring_write(const char *path, const struct keyring *kr,
    const struct stat *like, char *err, size_t errlen)
{
	struct buf	 b;
	char		 tmp[4096], ts[21], *k64;
	size_t		 i;
	mode_t		 mode = like != NULL ? like->st_mode & 0640 : 0600;
	int		 fd = -1, rc = -1;

	buf_init(&b, 1024 * 1024, 1);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp) ||
	    (k64 = b64_encode(kr->mac_key, CRYPTO_KEY_LEN)) == NULL)
		goto out;
	buf_adds(&b, KEYRING_HEADER);
	buf_printf(&b, "mac %s\n", k64);
	secure_free_str(k64);
	for (i = 0; i < kr->nkeys; i++) {
		if ((k64 = b64_encode(kr->keys[i].key, CRYPTO_KEY_LEN)) == NULL)
			goto out;
		fmt_time(kr->keys[i].created, ts);
		if (buf_printf(&b, "key %s %s %s\n", kr->keys[i].id, ts,
		    k64) == -1) {
			secure_free_str(k64);
			goto out;
		}
		secure_free_str(k64);
	}
	if (like != NULL)
		(void)unlink(tmp);
	if ((fd = keyring_open_new(path, tmp, like, mode, err, errlen)) == -1)
		goto out;
	if (write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: write failed: %s", path,
		    errstr(errno));
		goto out;
	}
	if (like != NULL && rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: rename failed: %s", path,
		    errstr(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "%s: cannot write keyring", path);
	if (fd != -1)
		close(fd);
	if (rc == -1 && like != NULL && fd != -1)
		(void)unlink(tmp);
	buf_reset(&b);
	return rc;
}

static int
new_key(struct kr_key *k, unsigned long num)
{
	snprintf(k->id, sizeof(k->id), "k%lu", num);
	k->created = time(NULL);
	return gnutls_rnd(GNUTLS_RND_KEY, k->key, CRYPTO_KEY_LEN) == 0 ? 0 : -1;
}

int
keyring_create(const char *path, char *err, size_t errlen)
{
	struct keyring	 kr;
	struct kr_key	 k;
	int		 rc;

	err[0] = '\0';
	memset(&kr, 0, sizeof(kr));
	if (gnutls_rnd(GNUTLS_RND_KEY, kr.mac_key, CRYPTO_KEY_LEN) != 0 ||
	    new_key(&k, 1) == -1) {
		snprintf(err, errlen, "%s: random generator failed", path);
		return -1;
	}
	kr.keys = &k;
	kr.nkeys = 1;
	rc = keyring_write(path, &kr, NULL, err, errlen);
	secure_wipe(&k, sizeof(k));
	secure_wipe(&kr, sizeof(kr));
	return rc;
}

/* The keyring file's owner, group and mode, which a rewrite keeps. */
static int
file_attrs(const char *path, struct stat *st, char *err, size_t errlen)
{
	if (stat(path, st) == -1) {
		if (errno == EACCES)
			snprintf(err, errlen, "permission denied on %s (or a "
			    "folder above it)", path);
		else
			snprintf(err, errlen, "%s: %s", path, errstr(errno));
		return -1;
	}
	return 0;
}

int
keyring_check_rewrite(const char *path, char *err, size_t errlen)
{
	struct stat	st;
	char		tmp[4096];
	int		fd;

	err[0] = '\0';
	if (file_attrs(path, &st, err, errlen) == -1)
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	(void)unlink(tmp);
	if ((fd = keyring_open_new(path, tmp, &st, st.st_mode & 0640, err,
	    errlen)) == -1)
		return -1;
	close(fd);
	(void)unlink(tmp);
	return 0;
}

int
keyring_add_key(const char *path, struct keyring *kr, char *err, size_t errlen)
{
	return keyring_add_key_to(path, path, kr, err, errlen);
}

int
keyring_add_key_to(const char *path, const char *out, struct keyring *kr,
    char *err, size_t errlen)
{
	struct kr_key	*nk;
	unsigned long	 max = 0, v;
	size_t		 i;
	struct stat	 st;

	err[0] = '\0';
	if (file_attrs(path, &st, err, errlen) == -1)
		return -1;
	if (kr->nkeys >= KEYRING_MAX_KEYS) {
		snprintf(err, errlen, "%s: keyring is full", path);
		return -1;
	}
	for (i = 0; i < kr->nkeys; i++)
		if ((v = strtoul(kr->keys[i].id + 1, NULL, 10)) > max)
			max = v;
	nk = &kr->keys[kr->nkeys];
	if (new_key(nk, max + 1) == -1) {
		snprintf(err, errlen, "random generator failed");
		return -1;
	}
	kr->nkeys++;
	if (keyring_write(out, kr, &st, err, errlen) == -1) {
		kr->nkeys--;
		secure_wipe(nk, sizeof(*nk));
		return -1;
	}
	return 0;
}

int
keyring_remove_key(const char *path, struct keyring *kr, const char *id,
    char *err, size_t errlen)
{
	struct kr_key	 saved;
	size_t		 i;
	struct stat	 st;

	err[0] = '\0';
	for (i = 0; i < kr->nkeys; i++)
		if (strcmp(kr->keys[i].id, id) == 0)
			break;
	if (i == kr->nkeys) {
		snprintf(err, errlen, "no key '%.32s' in the keyring", id);
		return -1;
	}
	if (i == kr->nkeys - 1) {
		snprintf(err, errlen, "key %s is the active key", id);
		return -1;
	}
	if (file_attrs(path, &st, err, errlen) == -1)
		return -1;
	saved = kr->keys[i];
	memmove(&kr->keys[i], &kr->keys[i + 1],
	    (kr->nkeys - i - 1) * sizeof(*kr->keys));
	kr->nkeys--;
	if (keyring_write(path, kr, &st, err, errlen) == -1) {
		memmove(&kr->keys[i + 1], &kr->keys[i],
		    (kr->nkeys - i) * sizeof(*kr->keys));
		kr->keys[i] = saved;
		kr->nkeys++;
		secure_wipe(&saved, sizeof(saved));
		return -1;
	}
	secure_wipe(&kr->keys[kr->nkeys], sizeof(*kr->keys));
	secure_wipe(&saved, sizeof(saved));
	return 0;
}

/*
 * One AES-256-GCM operation.  enc: out gets ptlen + tag bytes; dec: out
 * gets inlen - tag bytes.  Returns 0 or -1 (authentication failure too).
 */
static int
gcm(int enc, const unsigned char key[CRYPTO_KEY_LEN],
    const unsigned char nonce[CRYPTO_NONCE_LEN], const void *ad, size_t adlen,
    const void *in, size_t inlen, unsigned char *out, size_t *outlen)
{
	gnutls_aead_cipher_hd_t	 h;
	gnutls_datum_t		 k;
	int			 rc;

	k.data = (unsigned char *)(uintptr_t)key;
	k.size = CRYPTO_KEY_LEN;
	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k) < 0)
		return -1;
	if (enc)
		rc = gnutls_aead_cipher_encrypt(h, nonce, CRYPTO_NONCE_LEN, ad,
		    adlen, CRYPTO_TAG_LEN, in, inlen, out, outlen);
	else
		rc = gnutls_aead_cipher_decrypt(h, nonce, CRYPTO_NONCE_LEN, ad,
		    adlen, CRYPTO_TAG_LEN, in, inlen, out, outlen);
	gnutls_aead_cipher_deinit(h);
	return rc < 0 ? -1 : 0;
}

/* Associated data of a key wrap: label, key id and the record's ad. */
static unsigned char *
wrap_ad(const char *key_id, const void *ad, size_t adlen, size_t *outlen)
{
	size_t		 l1 = sizeof(wrap_label), l2 = strlen(key_id) + 1;
	unsigned char	*p;

	if ((p = malloc(l1 + l2 + adlen + 1)) == NULL)
		return NULL;
	memcpy(p, wrap_label, l1);
	memcpy(p + l1, key_id, l2);
	if (adlen > 0)
		memcpy(p + l1 + l2, ad, adlen);
	*outlen = l1 + l2 + adlen;
	return p;
}

static int
wrap_dek(const struct kr_key *kek, const void *ad, size_t adlen,
    const unsigned char dek[CRYPTO_KEY_LEN], unsigned char out[CRYPTO_WRAPPED_LEN])
{
	unsigned char	*wad;
	size_t		 wadlen, olen = CRYPTO_KEY_LEN + CRYPTO_TAG_LEN;
	int		 rc;

	if ((wad = wrap_ad(kek->id, ad, adlen, &wadlen)) == NULL)
		return -1;
	if (gnutls_rnd(GNUTLS_RND_NONCE, out, CRYPTO_NONCE_LEN) != 0) {
		free(wad);
		return -1;
	}
	rc = gcm(1, kek->key, out, wad, wadlen, dek, CRYPTO_KEY_LEN,
	    out + CRYPTO_NONCE_LEN, &olen);
	free(wad);
	return (rc == 0 && olen == CRYPTO_KEY_LEN + CRYPTO_TAG_LEN) ? 0 : -1;
}

static int
unwrap_dek(const struct keyring *kr, const void *ad, size_t adlen,
    const struct sealed *s, unsigned char dek[CRYPTO_KEY_LEN])
{
	const struct kr_key	*kek;
	unsigned char		*wad;
	size_t			 wadlen, olen = CRYPTO_KEY_LEN;
	int			 rc;

	if ((kek = keyring_find(kr, s->key_id)) == NULL)
		return -1;
	if ((wad = wrap_ad(kek->id, ad, adlen, &wadlen)) == NULL)
		return -1;
	rc = gcm(0, kek->key, s->wrapped, wad, wadlen,
	    s->wrapped + CRYPTO_NONCE_LEN, CRYPTO_KEY_LEN + CRYPTO_TAG_LEN,
	    dek, &olen);
	free(wad);
	if (rc != 0 || olen != CRYPTO_KEY_LEN) {
		secure_wipe(dek, CRYPTO_KEY_LEN);
		return -1;
	}
	return 0;
}

int
envelope_seal(const struct keyring *kr, const void *ad, size_t adlen,
    const void *pt, size_t ptlen, struct sealed *s)
{
	const struct kr_key	*kek = keyring_active(kr);
	unsigned char		 dek[CRYPTO_KEY_LEN];
	int			 rc = -1;

	memset(s, 0, sizeof(*s));
	if (kek == NULL)
		return -1;
	if (gnutls_rnd(GNUTLS_RND_KEY, dek, sizeof(dek)) != 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, s->nonce, CRYPTO_NONCE_LEN) != 0)
		goto out;
	s->ctlen = ptlen + CRYPTO_TAG_LEN;
	if ((s->ct = malloc(s->ctlen)) == NULL)
		goto out;
	if (gcm(1, dek, s->nonce, ad, adlen, pt, ptlen, s->ct, &s->ctlen) == -1 ||
	    s->ctlen != ptlen + CRYPTO_TAG_LEN)
		goto out;
	if (wrap_dek(kek, ad, adlen, dek, s->wrapped) == -1)
		goto out;
	snprintf(s->key_id, sizeof(s->key_id), "%s", kek->id);
	rc = 0;
out:
	secure_wipe(dek, sizeof(dek));
	if (rc == -1)
		sealed_free(s);
	return rc;
}

int
envelope_open(const struct keyring *kr, const void *ad, size_t adlen,
    const struct sealed *s, unsigned char **pt, size_t *ptlen)
{
	unsigned char	 dek[CRYPTO_KEY_LEN], *out;
	size_t		 olen;

	*pt = NULL;
	*ptlen = 0;
	if (s->ct == NULL || s->ctlen < CRYPTO_TAG_LEN)
		return -1;
	if (unwrap_dek(kr, ad, adlen, s, dek) == -1)
		return -1;
	olen = s->ctlen - CRYPTO_TAG_LEN;
	if ((out = malloc(olen + 1)) == NULL) {
		secure_wipe(dek, sizeof(dek));
		return -1;
	}
	if (gcm(0, dek, s->nonce, ad, adlen, s->ct, s->ctlen, out, &olen) == -1 ||
	    olen != s->ctlen - CRYPTO_TAG_LEN) {
		secure_wipe(dek, sizeof(dek));
		secure_free(out, s->ctlen - CRYPTO_TAG_LEN + 1);
		return -1;
	}
	secure_wipe(dek, sizeof(dek));
	out[olen] = '\0';
	*pt = out;
	*ptlen = olen;
	return 0;
}

int
envelope_rewrap(const struct keyring *kr, const void *ad, size_t adlen,
    struct sealed *s)
{
	return envelope_rewrap_to(kr, kr, ad, adlen, s);
}

int
envelope_rewrap_to(const struct keyring *from, const struct keyring *to,
    const void *ad, size_t adlen, struct sealed *s)
{
	const struct kr_key	*kek = keyring_active(to);
	unsigned char		 dek[CRYPTO_KEY_LEN], nw[CRYPTO_WRAPPED_LEN];
	int			 rc = -1;

	if (kek == NULL || unwrap_dek(from, ad, adlen, s, dek) == -1)
		return -1;
	if (wrap_dek(kek, ad, adlen, dek, nw) == 0) {
		memcpy(s->wrapped, nw, sizeof(nw));
		snprintf(s->key_id, sizeof(s->key_id), "%s", kek->id);
		rc = 0;
	}
	secure_wipe(dek, sizeof(dek));
	secure_wipe(nw, sizeof(nw));
	return rc;
}

void
sealed_free(struct sealed *s)
{
	if (s == NULL)
		return;
	free(s->ct);
	memset(s, 0, sizeof(*s));
}

/*
 * One key per purpose: HMAC(mac_key, label), kept in the keyring after
 * its first use (the audit chain and idempotency keys are needed by every
 * change).  The cache is the only part of a keyring that changes after
 * load; keyring_free wipes it with the rest.  Threads of one process
 * share a keyring: sub_lock guards the cache of every keyring (a few
 * compares and at most one HMAC while held).
 */
static pthread_mutex_t sub_lock = PTHREAD_MUTEX_INITIALIZER;

static int
derive_key(const struct keyring *ckr, const char *label,
    unsigned char out[CRYPTO_KEY_LEN])
{
	struct keyring	*kr = (struct keyring *)(uintptr_t)ckr;
	size_t		 i, len = strlen(label);
	int		 rc = 0;

	pthread_mutex_lock(&sub_lock);
	for (i = 0; i < kr->nsub; i++)
		if (strcmp(kr->sub[i].label, label) == 0) {
			memcpy(out, kr->sub[i].key, CRYPTO_KEY_LEN);
			goto out;
		}
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, kr->mac_key, CRYPTO_KEY_LEN,
	    label, len, out) < 0) {
		rc = -1;
		goto out;
	}
	if (kr->nsub < KEYRING_SUBKEYS && len < KEYRING_LABEL_MAX) {
		memcpy(kr->sub[kr->nsub].label, label, len + 1);
		memcpy(kr->sub[kr->nsub].key, out, CRYPTO_KEY_LEN);
		kr->nsub++;
	}
out:
	pthread_mutex_unlock(&sub_lock);
	return rc;
}

char *
crypto_box_seal(const struct keyring *kr, const char *label, const void *pt,
    size_t n)
{
	unsigned char	 key[CRYPTO_KEY_LEN], *box;
	size_t		 blen = CRYPTO_NONCE_LEN + n + CRYPTO_TAG_LEN, olen;
	char		*out = NULL;

	if ((box = malloc(blen)) == NULL)
		return NULL;
	olen = n + CRYPTO_TAG_LEN;
	if (derive_key(kr, label, key) == 0 &&
	    gnutls_rnd(GNUTLS_RND_NONCE, box, CRYPTO_NONCE_LEN) == 0 &&
	    gcm(1, key, box, label, strlen(label), pt, n,
	    box + CRYPTO_NONCE_LEN, &olen) == 0)
		out = b64url_encode(box, blen);
	secure_wipe(key, sizeof(key));
	secure_free(box, blen);
	return out;
}

unsigned char *
crypto_box_open(const struct keyring *kr, const char *label, const char *b64,
    size_t b64len, size_t *n)
{
	unsigned char	 key[CRYPTO_KEY_LEN], *box, *pt = NULL;
	size_t		 blen, olen;

	if ((box = b64url_decode(b64, b64len, &blen)) == NULL)
		return NULL;
	if (blen < CRYPTO_NONCE_LEN + CRYPTO_TAG_LEN) {
		free(box);
		return NULL;
	}
	olen = blen - CRYPTO_NONCE_LEN - CRYPTO_TAG_LEN;
	if ((pt = malloc(olen + 1)) == NULL || derive_key(kr, label, key) == -1 ||
	    gcm(0, key, box, label, strlen(label), box + CRYPTO_NONCE_LEN,
	    blen - CRYPTO_NONCE_LEN, pt, &olen) == -1) {
		secure_free(pt, blen - CRYPTO_NONCE_LEN - CRYPTO_TAG_LEN + 1);
		pt = NULL;
	} else {
		pt[olen] = '\0';
		*n = olen;
	}
	secure_wipe(key, sizeof(key));
	free(box);
	return pt;
}

int
crypto_mac(const struct keyring *kr, const char *label, const void *p,
    size_t n, unsigned char out[CRYPTO_MAC_LEN])
{
	unsigned char	 sub[CRYPTO_MAC_LEN];
	int		 rc;

	if (derive_key(kr, label, sub) == -1)
		return -1;
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, sub, sizeof(sub), p, n, out);
	secure_wipe(sub, sizeof(sub));
	return rc < 0 ? -1 : 0;
}
