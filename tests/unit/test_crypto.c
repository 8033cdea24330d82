#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "credset.h"
#include "credsvc.h"
#include "crypto.h"
#include "secmem.h"
#include "store.h"
#include "util.h"
#include "ck_run.h"

/*
 * Unit tests of the keyring, the envelope encryption, MACs, identifiers
 * (crypto.c) and the credential set with its serialization (credset.c).
 * Every keyring file lives under one mkdtemp directory that main()
 * removes at the end; each test uses file names of its own, so the tests
 * also pass with CK_FORK=no.
 */

static char tmpdir[256];

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Base64 of the bytes 0x00..0x1f, 0x20..0x3f, 0x40..0x5f. */
#define B64_K00	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define B64_K20	"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define B64_K40	"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="
#define B64_16	"AAECAwQFBgcICQoLDA0ODw=="			/* 16 bytes */
#define B64_33	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"	/* 33 bytes */
#define B64_NOPAD "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

#define HDR	"# credstore keyring v1\n"
#define MAC	"mac " B64_K20 "\n"
#define KEY1	"key k1 2024-04-01T10:00:00Z " B64_K00 "\n"
#define KEY7	"key k7 2024-04-02T10:00:00Z " B64_K40 "\n"
#define T_0401	((time_t)1711965600)	/* 2024-04-01T10:00:00Z */
#define T_0402	((time_t)1712052000)

static void
fill_bytes(unsigned char *p, size_t n, unsigned char first)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(first + i);
}

static void
tpath(char *out, size_t n, const char *name)
{
	int r = snprintf(out, n, "%s/%s", tmpdir, name);

	ck_assert(r > 0 && (size_t)r < n);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	size_t	 len = strlen(text);
	int	 fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert(write(fd, text, len) == (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* Reads a whole small file into a malloc'd NUL-terminated buffer. */
static char *
read_file(const char *path, size_t *len)
{
	char	*p;
	FILE	*f;
	size_t	 n;

	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	p = calloc(1, 65536);
	ck_assert_ptr_nonnull(p);
	n = fread(p, 1, 65535, f);
	ck_assert_int_eq(ferror(f), 0);
	fclose(f);
	*len = n;
	return p;
}

static mode_t
file_perm(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	return st.st_mode & 07777;
}

static void
assert_err_path(const char *err, const char *path)
{
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 &&
	    err[strlen(path)] == ':', "error does not start with the path: %s",
	    err);
}

/* Creates a keyring file `name` with mode `mode` and loads it. */
static struct keyring *
new_keyring(const char *name, mode_t mode, char *path, size_t pathlen)
{
	struct keyring	*kr = NULL;
	char		 err[512];

	tpath(path, pathlen, name);
	(void)unlink(path);
	err[0] = '\0';
	ck_assert_msg(keyring_create(path, err, sizeof(err)) == 0, "%s", err);
	if (mode != 0600)
		ck_assert_int_eq(chmod(path, mode), 0);
	ck_assert_msg(keyring_load(path, &kr, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(kr);
	return kr;
}

static char *
record_ad(const char *tenant, const char *provider, const char *id,
    size_t *len)
{
	char *ad = credsvc_record_ad(tenant, provider, id, len);

	ck_assert_ptr_nonnull(ad);
	ck_assert_uint_gt(*len, 0);
	return ad;
}

/* Deep copy of a sealed record (ct duplicated). */
static void
sealed_copy(struct sealed *dst, const struct sealed *src)
{
	*dst = *src;
	dst->ct = malloc(src->ctlen + 1);
	ck_assert_ptr_nonnull(dst->ct);
	memcpy(dst->ct, src->ct, src->ctlen);
}

/* Opens s and checks the plaintext is pt[0..ptlen). */
static void
assert_opens(const struct keyring *kr, const void *ad, size_t adlen,
    const struct sealed *s, const void *pt, size_t ptlen)
{
	unsigned char	*out = NULL;
	size_t		 outlen = 12345;

	ck_assert_int_eq(envelope_open(kr, ad, adlen, s, &out, &outlen), 0);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(outlen, ptlen);
	if (ptlen > 0)
		ck_assert_mem_eq(out, pt, ptlen);
	secure_free(out, outlen);
}

static void
assert_fails(const struct keyring *kr, const void *ad, size_t adlen,
    const struct sealed *s)
{
	unsigned char	*out = (unsigned char *)"x";
	size_t		 outlen = 12345;

	ck_assert_int_eq(envelope_open(kr, ad, adlen, s, &out, &outlen), -1);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(outlen, 0);
}

/* --- keyring ---------------------------------------------------------- */

START_TEST(test_keyring_create)
{
	struct keyring		*kr = NULL, *kr2 = NULL;
	const struct kr_key	*k;
	char			 path[512], path2[512], err[512];
	char			*before, *after;
	size_t			 blen, alen;
	time_t			 now = time(NULL);

	tpath(path, sizeof(path), "create.keys");
	ck_assert_int_eq(keyring_create(path, err, sizeof(err)), 0);
	ck_assert_uint_eq(file_perm(path), 0600);

	before = read_file(path, &blen);
	ck_assert_uint_gt(blen, 0);
	err[0] = '\0';
	ck_assert_int_eq(keyring_create(path, err, sizeof(err)), -1);
	assert_err_path(err, path);
	after = read_file(path, &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(after, before, blen);
	ck_assert_uint_eq(file_perm(path), 0600);
	free(before);
	free(after);

	ck_assert_msg(keyring_load(path, &kr, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(kr->nkeys, 1);
	k = keyring_active(kr);
	ck_assert_ptr_eq(k, &kr->keys[0]);
	ck_assert_str_eq(k->id, "k1");
	ck_assert(k->created >= now - 5 && k->created <= now + 5);
	ck_assert_ptr_eq(keyring_find(kr, "k1"), k);
	ck_assert_ptr_null(keyring_find(kr, "k2"));
	ck_assert_ptr_null(keyring_find(kr, ""));
	ck_assert(memcmp(k->key, kr->mac_key, CRYPTO_KEY_LEN) != 0);

	/* a second keyring has different keys */
	tpath(path2, sizeof(path2), "create2.keys");
	ck_assert_int_eq(keyring_create(path2, err, sizeof(err)), 0);
	ck_assert_int_eq(keyring_load(path2, &kr2, err, sizeof(err)), 0);
	ck_assert(memcmp(kr2->keys[0].key, k->key, CRYPTO_KEY_LEN) != 0);
	ck_assert(memcmp(kr2->mac_key, kr->mac_key, CRYPTO_KEY_LEN) != 0);
	keyring_free(kr);
	keyring_free(kr2);
	keyring_free(NULL);
}
END_TEST

START_TEST(test_keyring_create_bad_dir)
{
	char path[512], err[512];

	tpath(path, sizeof(path), "no-such-dir/k.keys");
	err[0] = '\0';
	ck_assert_int_eq(keyring_create(path, err, sizeof(err)), -1);
	assert_err_path(err, path);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

static const struct {
	mode_t	 mode;
	int	 ok;
} mode_rows[] = {
	{ 0600, 1 },
	{ 0640, 1 },
	{ 0644, 0 },
	{ 0604, 0 },
	{ 0602, 0 },
	{ 0601, 0 },
	{ 0606, 0 },
	{ 0660, 0 },
	{ 0620, 0 },
	{ 0666, 0 },
};

START_TEST(test_keyring_load_modes)
{
	struct keyring	*kr = (struct keyring *)&kr;
	char		 name[64], path[512], err[512], want[32];
	int		 rc;

	snprintf(name, sizeof(name), "mode-%d.keys", _i);
	tpath(path, sizeof(path), name);
	write_file(path, HDR MAC KEY1, mode_rows[_i].mode);
	ck_assert_uint_eq(file_perm(path), mode_rows[_i].mode);
	err[0] = '\0';
	rc = keyring_load(path, &kr, err, sizeof(err));
	if (mode_rows[_i].ok) {
		ck_assert_msg(rc == 0, "mode %04o refused: %s",
		    (unsigned)mode_rows[_i].mode, err);
		ck_assert_ptr_nonnull(kr);
		ck_assert_uint_eq(kr->nkeys, 1);
		keyring_free(kr);
	} else {
		ck_assert_msg(rc == -1, "mode %04o accepted",
		    (unsigned)mode_rows[_i].mode);
		ck_assert_ptr_null(kr);
		assert_err_path(err, path);
		snprintf(want, sizeof(want), "%04o", (unsigned)mode_rows[_i].mode);
		ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	}
}
END_TEST

/* Malformed keyrings: the text and the line the error must name (0: none). */
static const struct {
	const char	*text;
	unsigned	 line;
	const char	*what;
} bad_rows[] = {
	{ HDR MAC KEY1 "garbage\n", 4, "malformed" },
	{ HDR MAC KEY1 "key k1 2024-04-02T10:00:00Z " B64_K40 "\n", 4,
	    "malformed" },				/* duplicate id */
	{ HDR MAC "key k1 2024-04-01T10:00:00Z !!!!not+base64!!!!\n", 3,
	    "malformed" },
	{ HDR MAC "key k1 2024-04-01T10:00:00Z " B64_16 "\n", 3, "malformed" },
	{ HDR MAC "key k1 2024-04-01T10:00:00Z " B64_33 "\n", 3, "malformed" },
	{ HDR MAC "key k1 2024-04-01T10:00:00Z " B64_NOPAD "\n", 3,
	    "malformed" },
	{ HDR "mac " B64_16 "\n" KEY1, 2, "malformed" },
	{ HDR "mac ####\n" KEY1, 2, "malformed" },
	{ HDR MAC KEY1 MAC, 4, "malformed" },		/* second mac line */
	{ HDR MAC "key x1 2024-04-01T10:00:00Z " B64_K00 "\n", 3, "malformed" },
	{ HDR MAC "key k 2024-04-01T10:00:00Z " B64_K00 "\n", 3, "malformed" },
	{ HDR MAC "key k1a 2024-04-01T10:00:00Z " B64_K00 "\n", 3, "malformed" },
	{ HDR MAC "key k1 2024-13-45T10:00:00Z " B64_K00 "\n", 3, "malformed" },
	{ HDR MAC "key k1 yesterday " B64_K00 "\n", 3, "malformed" },
	{ HDR MAC "key k1 2024-04-01T10:00:00Z " B64_K00 " extra\n", 3,
	    "malformed" },
	{ HDR MAC "key k1 " B64_K00 "\n", 3, "malformed" },
	{ HDR MAC "kee k1 2024-04-01T10:00:00Z " B64_K00 "\n", 3, "malformed" },
	{ HDR KEY1, 0, "no mac line" },
	{ HDR MAC, 0, "no key" },
	{ "", 0, "no mac line" },
	{ HDR "# only comments\n", 0, "no mac line" },
};

START_TEST(test_keyring_load_malformed)
{
	struct keyring	*kr = (struct keyring *)&kr;
	char		 name[64], path[512], err[512], want[600];

	snprintf(name, sizeof(name), "bad-%d.keys", _i);
	tpath(path, sizeof(path), name);
	write_file(path, bad_rows[_i].text, 0600);
	err[0] = '\0';
	ck_assert_int_eq(keyring_load(path, &kr, err, sizeof(err)), -1);
	ck_assert_ptr_null(kr);
	if (bad_rows[_i].line > 0) {
		snprintf(want, sizeof(want), "%s:%u: ", path, bad_rows[_i].line);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		    "row %d: want prefix '%s', got '%s'", _i, want, err);
	} else
		assert_err_path(err, path);
	ck_assert_msg(strstr(err, bad_rows[_i].what) != NULL, "row %d: %s", _i,
	    err);
	/* the key material never reaches the error message */
	ck_assert(strstr(err, B64_K00) == NULL && strstr(err, B64_K20) == NULL);
}
END_TEST

START_TEST(test_keyring_load_not_a_file)
{
	struct keyring	*kr = (struct keyring *)&kr;
	char		 path[512], link[512], err[512];

	tpath(path, sizeof(path), "missing.keys");
	ck_assert_int_eq(keyring_load(path, &kr, err, sizeof(err)), -1);
	ck_assert_ptr_null(kr);
	assert_err_path(err, path);

	/* a directory */
	ck_assert_int_eq(keyring_load(tmpdir, &kr, err, sizeof(err)), -1);
	assert_err_path(err, tmpdir);

	/* a symbolic link to a valid keyring is refused (O_NOFOLLOW) */
	tpath(path, sizeof(path), "target.keys");
	write_file(path, HDR MAC KEY1, 0600);
	tpath(link, sizeof(link), "link.keys");
	(void)unlink(link);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(keyring_load(link, &kr, err, sizeof(err)), -1);
	ck_assert_ptr_null(kr);
	assert_err_path(err, link);
	ck_assert_int_eq(keyring_load(path, &kr, err, sizeof(err)), 0);
	keyring_free(kr);
}
END_TEST

/*
 * The VmFlags of the mapping that holds address p in /proc/self/smaps
 * (malloc'd), or NULL when no mapping holds it.
 */
static char *
vmflags_of(const void *p)
{
	FILE		*f;
	char		 line[512], *flags = NULL;
	unsigned long	 lo, hi, a = (unsigned long)(uintptr_t)p;
	int		 in = 0;

	ck_assert_ptr_nonnull(f = fopen("/proc/self/smaps", "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		/* a mapping's first line; field lines never scan as two */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = a >= lo && a < hi;
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			ck_assert_ptr_nonnull(flags = strdup(line + 8));
			break;
		}
	}
	fclose(f);
	return flags;
}

/* Keys live in memory a core dump leaves out (issue 12, finding 10). */
START_TEST(test_keyring_not_dumped)
{
	struct keyring	*kr;
	char		 path[512], *fl;
	unsigned char	*p;

	kr = new_keyring("dontdump", 0600, path, sizeof(path));
	ck_assert_ptr_nonnull(fl = vmflags_of(kr->keys[0].key));
	ck_assert_msg(strstr(fl, " dd") != NULL, "key not MADV_DONTDUMP: %s", fl);
	free(fl);
	ck_assert_ptr_nonnull(fl = vmflags_of(kr->mac_key));
	ck_assert_msg(strstr(fl, " dd") != NULL, "MAC key dumpable: %s", fl);
	free(fl);
	keyring_free(kr);
	/* a plain heap block is dumpable: the probe above can tell */
	ck_assert_ptr_nonnull(p = malloc(64));
	ck_assert_ptr_nonnull(fl = vmflags_of(p));
	ck_assert_ptr_null(strstr(fl, " dd"));
	free(fl);
	free(p);
	/* secmem: zeroed, writable, freed with a wipe */
	ck_assert_ptr_nonnull(p = secmem_alloc(100));
	ck_assert_int_eq(p[0] | p[99], 0);
	memset(p, 0xa5, 100);
	secmem_free(p);
	secmem_free(NULL);
}
END_TEST

START_TEST(test_keyring_load_known)
{
	struct keyring	*kr = NULL;
	unsigned char	 k00[32], k20[32], k40[32];
	char		 path[512], err[512];

	fill_bytes(k00, 32, 0x00);
	fill_bytes(k20, 32, 0x20);
	fill_bytes(k40, 32, 0x40);
	tpath(path, sizeof(path), "known.keys");
	write_file(path, HDR MAC "\n# comment\n" KEY1 KEY7, 0640);
	ck_assert_msg(keyring_load(path, &kr, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(kr->nkeys, 2);
	ck_assert_mem_eq(kr->mac_key, k20, 32);
	ck_assert_str_eq(kr->keys[0].id, "k1");
	ck_assert_mem_eq(kr->keys[0].key, k00, 32);
	ck_assert_int_eq((long long)kr->keys[0].created, (long long)T_0401);
	ck_assert_str_eq(kr->keys[1].id, "k7");
	ck_assert_mem_eq(kr->keys[1].key, k40, 32);
	ck_assert_int_eq((long long)kr->keys[1].created, (long long)T_0402);
	ck_assert_str_eq(keyring_active(kr)->id, "k7");

	/* the next id follows the highest one, not the count */
	ck_assert_msg(keyring_add_key(path, kr, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_uint_eq(kr->nkeys, 3);
	ck_assert_str_eq(keyring_active(kr)->id, "k8");
	ck_assert_uint_eq(file_perm(path), 0640);
	keyring_free(kr);

	ck_assert_int_eq(keyring_load(path, &kr, err, sizeof(err)), 0);
	ck_assert_uint_eq(kr->nkeys, 3);
	ck_assert_mem_eq(kr->mac_key, k20, 32);
	ck_assert_mem_eq(kr->keys[0].key, k00, 32);
	ck_assert_int_eq((long long)kr->keys[0].created, (long long)T_0401);
	ck_assert_mem_eq(kr->keys[1].key, k40, 32);
	ck_assert_str_eq(kr->keys[2].id, "k8");
	keyring_free(kr);
}
END_TEST

static const mode_t keep_modes[] = { 0600, 0640 };

START_TEST(test_keyring_add_key)
{
	struct keyring	*kr, *re = NULL;
	struct kr_key	 k1;
	unsigned char	 mac_before[CRYPTO_MAC_LEN], mac_after[CRYPTO_MAC_LEN];
	char		 name[64], path[512], tmp[600], err[512];
	mode_t		 mode = keep_modes[_i];

	snprintf(name, sizeof(name), "add-%d.keys", _i);
	kr = new_keyring(name, mode, path, sizeof(path));
	k1 = kr->keys[0];
	ck_assert_int_eq(crypto_mac(kr, "idem", "abc", 3, mac_before), 0);

	err[0] = '\0';
	ck_assert_msg(keyring_add_key(path, kr, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_uint_eq(kr->nkeys, 2);
	ck_assert_str_eq(keyring_active(kr)->id, "k2");
	ck_assert_ptr_eq(keyring_active(kr), &kr->keys[1]);
	ck_assert_mem_eq(&kr->keys[0], &k1, sizeof(k1));
	ck_assert(memcmp(kr->keys[1].key, k1.key, CRYPTO_KEY_LEN) != 0);
	ck_assert(kr->keys[1].created >= k1.created);
	ck_assert_uint_eq(file_perm(path), mode);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(access(tmp, F_OK), -1);

	ck_assert_msg(keyring_load(path, &re, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(re->nkeys, 2);
	ck_assert_str_eq(re->keys[0].id, "k1");
	ck_assert_str_eq(re->keys[1].id, "k2");
	ck_assert_str_eq(keyring_active(re)->id, "k2");
	ck_assert_mem_eq(re->keys[0].key, k1.key, CRYPTO_KEY_LEN);
	ck_assert_mem_eq(re->keys[1].key, kr->keys[1].key, CRYPTO_KEY_LEN);
	ck_assert_mem_eq(re->mac_key, kr->mac_key, CRYPTO_KEY_LEN);
	/* the MAC key never rotates */
	ck_assert_int_eq(crypto_mac(re, "idem", "abc", 3, mac_after), 0);
	ck_assert_mem_eq(mac_after, mac_before, CRYPTO_MAC_LEN);
	keyring_free(re);
	keyring_free(kr);
}
END_TEST

START_TEST(test_keyring_add_key_missing_file)
{
	struct keyring	*kr;
	char		 path[512], err[512];

	kr = new_keyring("add-gone.keys", 0600, path, sizeof(path));
	ck_assert_int_eq(unlink(path), 0);
	err[0] = '\0';
	ck_assert_int_eq(keyring_add_key(path, kr, err, sizeof(err)), -1);
	assert_err_path(err, path);
	ck_assert_uint_eq(kr->nkeys, 1);
	ck_assert_str_eq(keyring_active(kr)->id, "k1");
	keyring_free(kr);
}
END_TEST

START_TEST(test_keyring_remove_key)
{
	struct keyring	*kr, *re = NULL;
	struct kr_key	 k2;
	char		 name[64], path[512], err[512];
	mode_t		 mode = keep_modes[_i];

	snprintf(name, sizeof(name), "remove-%d.keys", _i);
	kr = new_keyring(name, mode, path, sizeof(path));

	/* the only key is the active one */
	err[0] = '\0';
	ck_assert_int_eq(keyring_remove_key(path, kr, "k1", err, sizeof(err)),
	    -1);
	ck_assert(err[0] != '\0');
	ck_assert_uint_eq(kr->nkeys, 1);

	ck_assert_int_eq(keyring_add_key(path, kr, err, sizeof(err)), 0);
	k2 = kr->keys[1];
	err[0] = '\0';
	ck_assert_int_eq(keyring_remove_key(path, kr, "k2", err, sizeof(err)),
	    -1);
	ck_assert(strstr(err, "active") != NULL);
	err[0] = '\0';
	ck_assert_int_eq(keyring_remove_key(path, kr, "k9", err, sizeof(err)),
	    -1);
	ck_assert(err[0] != '\0');
	ck_assert_int_eq(keyring_remove_key(path, kr, "", err, sizeof(err)), -1);
	ck_assert_int_eq(keyring_remove_key(path, kr, "k", err, sizeof(err)), -1);
	ck_assert_uint_eq(kr->nkeys, 2);
	ck_assert_int_eq(keyring_load(path, &re, err, sizeof(err)), 0);
	ck_assert_uint_eq(re->nkeys, 2);
	keyring_free(re);

	ck_assert_msg(keyring_remove_key(path, kr, "k1", err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_uint_eq(kr->nkeys, 1);
	ck_assert_ptr_null(keyring_find(kr, "k1"));
	ck_assert_str_eq(keyring_active(kr)->id, "k2");
	ck_assert_mem_eq(keyring_active(kr)->key, k2.key, CRYPTO_KEY_LEN);
	ck_assert_uint_eq(file_perm(path), mode);

	re = NULL;
	ck_assert_msg(keyring_load(path, &re, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(re->nkeys, 1);
	ck_assert_str_eq(re->keys[0].id, "k2");
	ck_assert_mem_eq(re->keys[0].key, k2.key, CRYPTO_KEY_LEN);
	ck_assert_mem_eq(re->mac_key, kr->mac_key, CRYPTO_KEY_LEN);
	keyring_free(re);

	/* the survivor is active and alone again */
	ck_assert_int_eq(keyring_remove_key(path, kr, "k2", err, sizeof(err)),
	    -1);
	/* a new key after a removal does not reuse a retired id */
	ck_assert_int_eq(keyring_add_key(path, kr, err, sizeof(err)), 0);
	ck_assert_str_eq(keyring_active(kr)->id, "k3");
	keyring_free(kr);
}
END_TEST

/* --- envelope --------------------------------------------------------- */

static const size_t pt_sizes[] = { 0, 1, 100, 5000 };

START_TEST(test_envelope_roundtrip)
{
	struct keyring	*kr;
	struct sealed	 s;
	unsigned char	*pt;
	char		 name[64], path[512], *ad;
	size_t		 n = pt_sizes[_i], adlen;

	snprintf(name, sizeof(name), "rt-%d.keys", _i);
	kr = new_keyring(name, 0600, path, sizeof(path));
	ad = record_ad("acme", "datadog", "crd_01HX9VTPQR3KF8MZWBYD5N6JCE",
	    &adlen);
	pt = malloc(n + 1);
	ck_assert_ptr_nonnull(pt);
	ck_assert_int_eq(crypto_random(pt, n), 0);

	ck_assert_int_eq(envelope_seal(kr, ad, adlen, pt, n, &s), 0);
	ck_assert_str_eq(s.key_id, "k1");
	ck_assert_ptr_nonnull(s.ct);
	ck_assert_uint_eq(s.ctlen, n + CRYPTO_TAG_LEN);
	if (n >= 16)
		ck_assert(memcmp(s.ct, pt, n) != 0);
	assert_opens(kr, ad, adlen, &s, pt, n);
	sealed_free(&s);
	ck_assert_ptr_null(s.ct);
	ck_assert_uint_eq(s.ctlen, 0);
	sealed_free(&s);
	sealed_free(NULL);
	free(pt);
	free(ad);
	keyring_free(kr);
}
END_TEST

enum tamper {
	T_OTHER_KEYRING = 0,
	T_AD_TENANT,
	T_AD_PROVIDER,
	T_AD_ID,
	T_AD_EMPTY,
	T_AD_SHIFT,
	T_MOVED_RECORD,
	T_MOVED_CT,
	T_MOVED_WRAP,
	T_TRUNC_TAG,
	T_SHORTER_THAN_TAG,
	T_EMPTY_CT,
	T_NULL_CT,
	T_LONGER_CT,
	T_FLIP_CT,
	T_FLIP_TAG_FIRST,
	T_FLIP_TAG_LAST,
	T_FLIP_NONCE_FIRST,
	T_FLIP_NONCE_LAST,
	T_FLIP_WRAP_NONCE,
	T_FLIP_WRAP_KEY_FIRST,
	T_FLIP_WRAP_KEY_LAST,
	T_FLIP_WRAP_TAG,
	T_KEYID_UNKNOWN,
	T_KEYID_EMPTY,
	T__MAX
};

START_TEST(test_envelope_tamper)
{
	struct keyring	*kr, *other;
	struct sealed	 s, t, b;
	unsigned char	 pt[100];
	char		 name[64], path[512], *ad, *ad2, *adb;
	const char	*id = "crd_01HX9VTPQR3KF8MZWBYD5N6JCE";
	const char	*idb = "crd_01HX9VTPQR3KF8MZWBYD5N6JCF";
	size_t		 adlen, ad2len, adblen;
	unsigned char	*junk;

	snprintf(name, sizeof(name), "tamper-%d.keys", _i);
	kr = new_keyring(name, 0600, path, sizeof(path));
	fill_bytes(pt, sizeof(pt), 0x41);
	ad = record_ad("acme", "datadog", id, &adlen);
	ck_assert_int_eq(envelope_seal(kr, ad, adlen, pt, sizeof(pt), &s), 0);
	/* the untouched record opens: the failures below are the tampering */
	assert_opens(kr, ad, adlen, &s, pt, sizeof(pt));
	sealed_copy(&t, &s);
	assert_opens(kr, ad, adlen, &t, pt, sizeof(pt));

	switch ((enum tamper)_i) {
	case T_OTHER_KEYRING:
		snprintf(name, sizeof(name), "tamper-other-%d.keys", _i);
		other = new_keyring(name, 0600, path, sizeof(path));
		ck_assert_str_eq(keyring_active(other)->id, t.key_id);
		assert_fails(other, ad, adlen, &t);
		keyring_free(other);
		break;
	case T_AD_TENANT:
		ad2 = record_ad("acmf", "datadog", id, &ad2len);
		assert_fails(kr, ad2, ad2len, &t);
		free(ad2);
		break;
	case T_AD_PROVIDER:
		ad2 = record_ad("acme", "pagerduty", id, &ad2len);
		assert_fails(kr, ad2, ad2len, &t);
		free(ad2);
		break;
	case T_AD_ID:
		ad2 = record_ad("acme", "datadog", idb, &ad2len);
		assert_fails(kr, ad2, ad2len, &t);
		free(ad2);
		break;
	case T_AD_EMPTY:
		assert_fails(kr, NULL, 0, &t);
		assert_fails(kr, ad, adlen - 1, &t);
		break;
	case T_AD_SHIFT:
		/* ("acme", "datadog") and ("acmed", "atadog") must differ */
		ad2 = record_ad("acmed", "atadog", id, &ad2len);
		ck_assert(ad2len != adlen || memcmp(ad, ad2, adlen) != 0);
		assert_fails(kr, ad2, ad2len, &t);
		free(ad2);
		break;
	case T_MOVED_RECORD:
	case T_MOVED_CT:
	case T_MOVED_WRAP:
		/* record b of the same tenant and provider */
		adb = record_ad("acme", "datadog", idb, &adblen);
		ck_assert_int_eq(envelope_seal(kr, adb, adblen, pt, sizeof(pt),
		    &b), 0);
		assert_opens(kr, adb, adblen, &b, pt, sizeof(pt));
		if (_i == T_MOVED_RECORD)
			assert_fails(kr, adb, adblen, &t);
		else if (_i == T_MOVED_CT) {
			/* a's ciphertext and nonce under b's wrapped key */
			memcpy(b.nonce, t.nonce, CRYPTO_NONCE_LEN);
			free(b.ct);
			b.ct = t.ct;
			b.ctlen = t.ctlen;
			t.ct = NULL;
			assert_fails(kr, adb, adblen, &b);
		} else {
			/* b's wrapped key moved into a */
			memcpy(t.wrapped, b.wrapped, CRYPTO_WRAPPED_LEN);
			assert_fails(kr, ad, adlen, &t);
			assert_fails(kr, adb, adblen, &t);
		}
		sealed_free(&b);
		free(adb);
		break;
	case T_TRUNC_TAG:
		t.ctlen--;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_SHORTER_THAN_TAG:
		t.ctlen = CRYPTO_TAG_LEN - 1;
		assert_fails(kr, ad, adlen, &t);
		t.ctlen = CRYPTO_TAG_LEN;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_EMPTY_CT:
		t.ctlen = 0;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_NULL_CT:
		free(t.ct);
		t.ct = NULL;
		assert_fails(kr, ad, adlen, &t);
		t.ctlen = 0;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_LONGER_CT:
		junk = realloc(t.ct, t.ctlen + 1);
		ck_assert_ptr_nonnull(junk);
		t.ct = junk;
		t.ct[t.ctlen++] = 0;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_CT:
		t.ct[0] ^= 0x01;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_TAG_FIRST:
		t.ct[t.ctlen - CRYPTO_TAG_LEN] ^= 0x01;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_TAG_LAST:
		t.ct[t.ctlen - 1] ^= 0x80;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_NONCE_FIRST:
		t.nonce[0] ^= 0x01;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_NONCE_LAST:
		t.nonce[CRYPTO_NONCE_LEN - 1] ^= 0x80;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_WRAP_NONCE:
		t.wrapped[0] ^= 0x01;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_WRAP_KEY_FIRST:
		t.wrapped[CRYPTO_NONCE_LEN] ^= 0x01;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_WRAP_KEY_LAST:
		t.wrapped[CRYPTO_NONCE_LEN + CRYPTO_KEY_LEN - 1] ^= 0x01;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_FLIP_WRAP_TAG:
		t.wrapped[CRYPTO_WRAPPED_LEN - 1] ^= 0x01;
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_KEYID_UNKNOWN:
		snprintf(t.key_id, sizeof(t.key_id), "k9");
		assert_fails(kr, ad, adlen, &t);
		break;
	case T_KEYID_EMPTY:
		t.key_id[0] = '\0';
		assert_fails(kr, ad, adlen, &t);
		break;
	case T__MAX:
		ck_abort();
	}
	sealed_free(&t);
	sealed_free(&s);
	free(ad);
	keyring_free(kr);
}
END_TEST

START_TEST(test_envelope_key_id_relabel)
{
	struct keyring	*kr;
	struct sealed	 s;
	unsigned char	 pt[40];
	char		 path[512], err[512], *ad;
	size_t		 adlen;

	/* a record wrapped with k1 but labelled k2 does not open */
	kr = new_keyring("relabel.keys", 0600, path, sizeof(path));
	fill_bytes(pt, sizeof(pt), 1);
	ad = record_ad("acme", "github", "crd_01HX9VTPQR3KF8MZWBYD5N6JCE",
	    &adlen);
	ck_assert_int_eq(envelope_seal(kr, ad, adlen, pt, sizeof(pt), &s), 0);
	ck_assert_int_eq(keyring_add_key(path, kr, err, sizeof(err)), 0);
	assert_opens(kr, ad, adlen, &s, pt, sizeof(pt));
	snprintf(s.key_id, sizeof(s.key_id), "k2");
	assert_fails(kr, ad, adlen, &s);
	sealed_free(&s);
	free(ad);
	keyring_free(kr);
}
END_TEST

START_TEST(test_envelope_rewrap)
{
	struct keyring	*kr, *re = NULL;
	struct sealed	 r1, r2, r2copy;
	unsigned char	 pt1[300], pt2[17], *ct1;
	unsigned char	 nonce1[CRYPTO_NONCE_LEN], wrap1[CRYPTO_WRAPPED_LEN];
	char		 path[512], err[512], *ad1, *ad2;
	size_t		 ad1len, ad2len, ct1len;

	kr = new_keyring("rewrap.keys", 0600, path, sizeof(path));
	fill_bytes(pt1, sizeof(pt1), 7);
	fill_bytes(pt2, sizeof(pt2), 99);
	ad1 = record_ad("acme", "datadog", "crd_01HX9VTPQR3KF8MZWBYD5N6JC1",
	    &ad1len);
	ad2 = record_ad("acme", "datadog", "crd_01HX9VTPQR3KF8MZWBYD5N6JC2",
	    &ad2len);
	ck_assert_int_eq(envelope_seal(kr, ad1, ad1len, pt1, sizeof(pt1), &r1),
	    0);
	ck_assert_int_eq(envelope_seal(kr, ad2, ad2len, pt2, sizeof(pt2), &r2),
	    0);
	ck_assert_str_eq(r1.key_id, "k1");

	ct1len = r1.ctlen;
	ct1 = malloc(ct1len);
	ck_assert_ptr_nonnull(ct1);
	memcpy(ct1, r1.ct, ct1len);
	memcpy(nonce1, r1.nonce, sizeof(nonce1));
	memcpy(wrap1, r1.wrapped, sizeof(wrap1));

	ck_assert_msg(keyring_add_key(path, kr, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(keyring_active(kr)->id, "k2");

	ck_assert_int_eq(envelope_rewrap(kr, ad1, ad1len, &r1), 0);
	ck_assert_str_eq(r1.key_id, "k2");
	ck_assert_uint_eq(r1.ctlen, ct1len);
	ck_assert_mem_eq(r1.ct, ct1, ct1len);
	ck_assert_mem_eq(r1.nonce, nonce1, CRYPTO_NONCE_LEN);
	ck_assert(memcmp(r1.wrapped, wrap1, CRYPTO_WRAPPED_LEN) != 0);
	assert_opens(kr, ad1, ad1len, &r1, pt1, sizeof(pt1));
	assert_fails(kr, ad2, ad2len, &r1);

	/* a rewrap under the wrong record's ad fails and changes nothing */
	sealed_copy(&r2copy, &r2);
	ck_assert_int_eq(envelope_rewrap(kr, ad1, ad1len, &r2copy), -1);
	ck_assert_str_eq(r2copy.key_id, "k1");
	ck_assert_mem_eq(r2copy.wrapped, r2.wrapped, CRYPTO_WRAPPED_LEN);
	ck_assert_mem_eq(r2copy.nonce, r2.nonce, CRYPTO_NONCE_LEN);
	ck_assert_uint_eq(r2copy.ctlen, r2.ctlen);
	ck_assert_mem_eq(r2copy.ct, r2.ct, r2.ctlen);
	sealed_free(&r2copy);

	/* r2 is not rewrapped: it opens while k1 is in the keyring */
	ck_assert_str_eq(r2.key_id, "k1");
	assert_opens(kr, ad2, ad2len, &r2, pt2, sizeof(pt2));

	ck_assert_msg(keyring_remove_key(path, kr, "k1", err, sizeof(err)) == 0,
	    "%s", err);
	assert_opens(kr, ad1, ad1len, &r1, pt1, sizeof(pt1));
	assert_fails(kr, ad2, ad2len, &r2);
	ck_assert_int_eq(envelope_rewrap(kr, ad2, ad2len, &r2), -1);

	/* the same from the file */
	ck_assert_int_eq(keyring_load(path, &re, err, sizeof(err)), 0);
	assert_opens(re, ad1, ad1len, &r1, pt1, sizeof(pt1));
	assert_fails(re, ad2, ad2len, &r2);
	keyring_free(re);

	sealed_free(&r1);
	sealed_free(&r2);
	free(ct1);
	free(ad1);
	free(ad2);
	keyring_free(kr);
}
END_TEST

START_TEST(test_envelope_seals_differ)
{
	struct keyring	*kr;
	struct sealed	 a, b;
	unsigned char	 pt[64];
	char		 path[512], *ad;
	size_t		 adlen;

	kr = new_keyring("differ.keys", 0600, path, sizeof(path));
	fill_bytes(pt, sizeof(pt), 0);
	ad = record_ad("acme", "datadog", "crd_01HX9VTPQR3KF8MZWBYD5N6JCE",
	    &adlen);
	ck_assert_int_eq(envelope_seal(kr, ad, adlen, pt, sizeof(pt), &a), 0);
	ck_assert_int_eq(envelope_seal(kr, ad, adlen, pt, sizeof(pt), &b), 0);
	ck_assert_str_eq(a.key_id, b.key_id);
	ck_assert(memcmp(a.nonce, b.nonce, CRYPTO_NONCE_LEN) != 0);
	ck_assert(memcmp(a.wrapped, b.wrapped, CRYPTO_NONCE_LEN) != 0);
	ck_assert(memcmp(a.wrapped + CRYPTO_NONCE_LEN,
	    b.wrapped + CRYPTO_NONCE_LEN, CRYPTO_KEY_LEN) != 0);
	ck_assert_uint_eq(a.ctlen, b.ctlen);
	ck_assert(memcmp(a.ct, b.ct, sizeof(pt)) != 0);
	ck_assert(memcmp(a.ct + sizeof(pt), b.ct + sizeof(pt),
	    CRYPTO_TAG_LEN) != 0);
	assert_opens(kr, ad, adlen, &a, pt, sizeof(pt));
	assert_opens(kr, ad, adlen, &b, pt, sizeof(pt));
	sealed_free(&a);
	sealed_free(&b);
	free(ad);
	keyring_free(kr);
}
END_TEST

/* --- MAC -------------------------------------------------------------- */

START_TEST(test_crypto_mac)
{
	struct keyring	*kr = NULL, *kr2;
	unsigned char	 a[CRYPTO_MAC_LEN], b[CRYPTO_MAC_LEN];
	unsigned char	 mk[32], sub[32], want[CRYPTO_MAC_LEN];
	char		 path[512], err[512];

	tpath(path, sizeof(path), "mac.keys");
	write_file(path, HDR MAC KEY1, 0600);
	ck_assert_msg(keyring_load(path, &kr, err, sizeof(err)) == 0, "%s", err);

	ck_assert_int_eq(crypto_mac(kr, "idem", "body", 4, a), 0);
	ck_assert_int_eq(crypto_mac(kr, "idem", "body", 4, b), 0);
	ck_assert_mem_eq(a, b, CRYPTO_MAC_LEN);

	ck_assert_int_eq(crypto_mac(kr, "idem2", "body", 4, b), 0);
	ck_assert(memcmp(a, b, CRYPTO_MAC_LEN) != 0);
	ck_assert_int_eq(crypto_mac(kr, "", "body", 4, b), 0);
	ck_assert(memcmp(a, b, CRYPTO_MAC_LEN) != 0);
	ck_assert_int_eq(crypto_mac(kr, "idem", "bodz", 4, b), 0);
	ck_assert(memcmp(a, b, CRYPTO_MAC_LEN) != 0);
	ck_assert_int_eq(crypto_mac(kr, "idem", "body", 3, b), 0);
	ck_assert(memcmp(a, b, CRYPTO_MAC_LEN) != 0);
	ck_assert_int_eq(crypto_mac(kr, "idem", "", 0, b), 0);
	ck_assert(memcmp(a, b, CRYPTO_MAC_LEN) != 0);

	/* not keyed by the data keys: only by the MAC key */
	ck_assert(memcmp(kr->keys[0].key, kr->mac_key, 32) != 0);

	/*
	 * Pinned construction (stored idempotency hashes depend on it):
	 * HMAC-SHA256(HMAC-SHA256(mac_key, label), data).
	 */
	fill_bytes(mk, sizeof(mk), 0x20);
	ck_assert_int_eq(gnutls_hmac_fast(GNUTLS_MAC_SHA256, mk, 32, "idem", 4,
	    sub), 0);
	ck_assert_int_eq(gnutls_hmac_fast(GNUTLS_MAC_SHA256, sub, 32, "body", 4,
	    want), 0);
	ck_assert_mem_eq(a, want, CRYPTO_MAC_LEN);

	/*
	 * Derived keys are kept in the keyring: more labels than it keeps,
	 * each asked twice, in turns, still give the pinned construction.
	 */
	{
		static const char *const labels[] = { "idem", "a", "b", "c", "d",
		    "e", "a-label-longer-than-the-cache-keeps-by-far", "idem" };
		unsigned char	 got[CRYPTO_MAC_LEN], exp[CRYPTO_MAC_LEN];
		size_t		 i, round;

		for (round = 0; round < 2; round++)
			for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
				ck_assert_int_eq(crypto_mac(kr, labels[i], "body",
				    4, got), 0);
				ck_assert_int_eq(gnutls_hmac_fast(GNUTLS_MAC_SHA256,
				    mk, 32, labels[i], strlen(labels[i]), sub), 0);
				ck_assert_int_eq(gnutls_hmac_fast(GNUTLS_MAC_SHA256,
				    sub, 32, "body", 4, exp), 0);
				ck_assert_mem_eq(got, exp, CRYPTO_MAC_LEN);
			}
		ck_assert_uint_eq(kr->nsub, KEYRING_SUBKEYS);
	}

	/* another keyring, another MAC */
	kr2 = new_keyring("mac2.keys", 0600, path, sizeof(path));
	ck_assert_int_eq(crypto_mac(kr2, "idem", "body", 4, b), 0);
	ck_assert(memcmp(a, b, CRYPTO_MAC_LEN) != 0);
	keyring_free(kr2);
	keyring_free(kr);
}
END_TEST

/* --- identifiers ------------------------------------------------------ */

static uint64_t
ulid_time(const char *u)
{
	uint64_t	 t = 0;
	const char	*p;
	int		 i;

	for (i = 0; i < 10; i++) {
		p = strchr(crockford, u[i]);
		ck_assert(p != NULL && *p != '\0');
		t = t << 5 | (uint64_t)(p - crockford);
	}
	return t;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 1 when u is 26 Crockford base32 characters starting with 0-7. */
static int
is_ulid(const char *u)
{
	size_t i;

	if (strlen(u) != ULID_LEN || u[0] < '0' || u[0] > '7')
		return 0;
	for (i = 0; i < ULID_LEN; i++)
		if (strchr(crockford, u[i]) == NULL)
			return 0;
	return 1;
}

#define NIDS	10000

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_ulid_format_unique)
{
	char	(*ids)[CREDENTIAL_ID_LEN + 1];
	char	 u[ULID_LEN + 2];
	size_t	 i;

	memset(u, 'x', sizeof(u));
	ck_assert_int_eq(crypto_ulid(u), 0);
	ck_assert_msg(is_ulid(u), "bad ULID %s", u);

	/* few assertions in the loop: each passing one costs Check some I/O */
	ids = calloc(NIDS, sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	for (i = 0; i < NIDS; i++) {
		if (crypto_credential_id(ids[i]) != 0 ||
		    strlen(ids[i]) != CREDENTIAL_ID_LEN ||
		    strncmp(ids[i], "crd_", 4) != 0 || !is_ulid(ids[i] + 4))
			break;
	}
	ck_assert_msg(i == NIDS, "bad id #%zu: %s", i, ids[i < NIDS ? i : 0]);
	qsort(ids, NIDS, sizeof(*ids), cmp_id);
	for (i = 1; i < NIDS; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			break;
	ck_assert_msg(i == NIDS, "duplicate %s", ids[i < NIDS ? i : 0]);
	free(ids);
}
END_TEST

START_TEST(test_ulid_time)
{
	struct timespec	 two_ms = { 0, 2000000 };
	char		 id[CREDENTIAL_ID_LEN + 1];
	uint64_t	 t, prev = 0, first = 0, now;
	int		 i;

	for (i = 0; i < 6; i++) {
		if (i > 0)
			ck_assert_int_eq(nanosleep(&two_ms, NULL), 0);
		ck_assert_int_eq(crypto_credential_id(id), 0);
		now = wall_ms();
		t = ulid_time(id + 4);
		ck_assert_msg(t + 5000 >= now && t <= now + 5000,
		    "ULID time %llu, now %llu", (unsigned long long)t,
		    (unsigned long long)now);
		if (i == 0)
			first = t;
		else
			ck_assert_msg(t >= prev, "time went back: %llu < %llu",
			    (unsigned long long)t, (unsigned long long)prev);
		prev = t;
	}
	/* five sleeps of 2 ms: the time prefix moved at least 10 ms */
	ck_assert_uint_ge(prev - first, 10);
}
END_TEST

/* --- credset ---------------------------------------------------------- */

START_TEST(test_credset_add_get_free)
{
	struct credset	 cs;
	char		 src[8] = "abc", name[16], *big;
	const char	*v;
	size_t		 len = 99;
	int		 i;

	credset_init(&cs);
	ck_assert_uint_eq(cs.n, 0);
	ck_assert_ptr_null(credset_get(&cs, "api_key", &len));

	ck_assert_int_eq(credset_add(&cs, "api_key", src, 3), 0);
	ck_assert_int_eq(credset_add(&cs, "bin", "a\0b", 3), 0);
	ck_assert_int_eq(credset_add(&cs, "empty", "", 0), 0);
	src[0] = 'X';			/* the set holds copies */
	ck_assert_uint_eq(cs.n, 3);
	v = credset_get(&cs, "api_key", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "abc");
	ck_assert_uint_eq(len, 3);
	v = credset_get(&cs, "bin", &len);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(v, "a\0b", 4);
	v = credset_get(&cs, "empty", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "");
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(credset_get(&cs, "api_key", NULL), "abc");
	ck_assert_ptr_null(credset_get(&cs, "api", NULL));
	ck_assert_ptr_null(credset_get(&cs, "api_key_", NULL));
	ck_assert_ptr_null(credset_get(&cs, "", NULL));

	credset_free(&cs);
	ck_assert_uint_eq(cs.n, 0);
	ck_assert_ptr_null(cs.f[0].name);
	ck_assert_ptr_null(cs.f[0].value);
	ck_assert_ptr_null(credset_get(&cs, "api_key", NULL));
	credset_free(&cs);		/* twice is fine */

	/* capacity and value size */
	for (i = 0; i < CREDSET_MAX; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ck_assert_int_eq(credset_add(&cs, name, "v", 1), 0);
	}
	ck_assert_int_eq(credset_add(&cs, "one_more", "v", 1), -1);
	ck_assert_uint_eq(cs.n, CREDSET_MAX);
	ck_assert_str_eq(credset_get(&cs, "f31", NULL), "v");
	ck_assert_ptr_null(credset_get(&cs, "one_more", NULL));
	credset_free(&cs);

	big = malloc(CREDSET_VALUE_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'v', CREDSET_VALUE_MAX + 1);
	ck_assert_int_eq(credset_add(&cs, "big", big, CREDSET_VALUE_MAX), 0);
	ck_assert_int_eq(credset_add(&cs, "bigger", big, CREDSET_VALUE_MAX + 1),
	    -1);
	ck_assert_uint_eq(cs.n, 1);
	credset_get(&cs, "big", &len);
	ck_assert_uint_eq(len, CREDSET_VALUE_MAX);
	credset_free(&cs);
	free(big);
}
END_TEST

START_TEST(test_credset_serialize_bytes)
{
	static const unsigned char want[] = {
		0, 1, 'a', 0, 2, 'x', 'y',
		0, 7, 'a', 'p', 'i', '_', 'k', 'e', 'y', 0, 0,
	};
	struct credset	 cs;
	unsigned char	*p;
	size_t		 len = 99;

	credset_init(&cs);
	p = credset_serialize(&cs, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 0);
	secure_free(p, len);

	ck_assert_int_eq(credset_add(&cs, "a", "xy", 2), 0);
	ck_assert_int_eq(credset_add(&cs, "api_key", "", 0), 0);
	p = credset_serialize(&cs, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert_mem_eq(p, want, sizeof(want));
	secure_free(p, len);
	credset_free(&cs);
}
END_TEST

START_TEST(test_credset_roundtrip)
{
	struct credset	 cs, out;
	unsigned char	*p, bin[256];
	char		*big, name[16];
	const char	*v;
	size_t		 len, vlen, i;

	credset_init(&cs);
	/* empty set */
	p = credset_serialize(&cs, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(credset_deserialize(p, len, &out), 0);
	ck_assert_uint_eq(out.n, 0);
	secure_free(p, len);
	credset_free(&out);

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)i;
	big = malloc(CREDSET_VALUE_MAX);
	ck_assert_ptr_nonnull(big);
	memset(big, 'z', CREDSET_VALUE_MAX);
	ck_assert_int_eq(credset_add(&cs, "api_key", "k-123", 5), 0);
	ck_assert_int_eq(credset_add(&cs, "binary", (const char *)bin,
	    sizeof(bin)), 0);
	ck_assert_int_eq(credset_add(&cs, "empty", "", 0), 0);
	ck_assert_int_eq(credset_add(&cs, "big", big, CREDSET_VALUE_MAX), 0);
	ck_assert_int_eq(credset_add(&cs, "utf8", "\xc3\xa9t\xc3\xa9", 6), 0);

	p = credset_serialize(&cs, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(credset_deserialize(p, len, &out), 0);
	ck_assert_uint_eq(out.n, cs.n);
	for (i = 0; i < cs.n; i++) {
		ck_assert_str_eq(out.f[i].name, cs.f[i].name);
		v = credset_get(&out, cs.f[i].name, &vlen);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(vlen, cs.f[i].len);
		ck_assert_mem_eq(v, cs.f[i].value, vlen);
		ck_assert_int_eq(v[vlen], '\0');
	}
	secure_free(p, len);
	credset_free(&out);
	credset_free(&cs);
	free(big);

	/* a full set */
	for (i = 0; i < CREDSET_MAX; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		ck_assert_int_eq(credset_add(&cs, name, name, strlen(name)), 0);
	}
	p = credset_serialize(&cs, &len);
	ck_assert_int_eq(credset_deserialize(p, len, &out), 0);
	ck_assert_uint_eq(out.n, CREDSET_MAX);
	ck_assert_str_eq(credset_get(&out, "f17", NULL), "f17");
	secure_free(p, len);
	credset_free(&out);
	credset_free(&cs);
}
END_TEST

START_TEST(test_credset_truncated)
{
	struct credset	 cs, out;
	unsigned char	*p;
	size_t		 len, cut, b1, b2;

	credset_init(&cs);
	ck_assert_int_eq(credset_add(&cs, "api_key", "secret-1", 8), 0);
	ck_assert_int_eq(credset_add(&cs, "site", "eu", 2), 0);
	p = credset_serialize(&cs, &len);
	ck_assert_ptr_nonnull(p);
	b1 = 2 + 7 + 2 + 8;		/* end of the first field */
	b2 = b1 + 2 + 4 + 2 + 2;
	ck_assert_uint_eq(len, b2);
	for (cut = 1; cut < len; cut++) {
		if (cut == b1)
			continue;	/* a valid set of one field */
		memset(&out, 0xa5, sizeof(out));
		ck_assert_msg(credset_deserialize(p, cut, &out) == -1,
		    "prefix of %zu bytes accepted", cut);
		ck_assert_uint_eq(out.n, 0);
		ck_assert_ptr_null(out.f[0].name);
	}
	ck_assert_int_eq(credset_deserialize(p, b1, &out), 0);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_str_eq(credset_get(&out, "api_key", NULL), "secret-1");
	credset_free(&out);
	secure_free(p, len);
	credset_free(&cs);
}
END_TEST

static const struct {
	const char	*bytes;
	size_t		 len;
} garbage_rows[] = {
	{ "\x00", 1 },
	{ "\x00\x00", 2 },				/* empty name */
	{ "\x00\x00\x00\x00", 4 },
	{ "\x00\x01" "a", 3 },				/* no value length */
	{ "\x00\x01" "a\x00", 4 },
	{ "\x00\x01" "a\x00\x05" "xy", 7 },		/* value too short */
	{ "\x00\x02" "a\x00\x00\x00", 6 },		/* NUL in the name */
	{ "\xff\xff" "abc", 5 },
	{ "\x00\x01" "a\x00\x01" "x" "\x00", 7 },	/* trailing byte */
	{ "garbage!", 8 },
};

START_TEST(test_credset_garbage)
{
	struct credset	 out;

	memset(&out, 0x5a, sizeof(out));
	ck_assert_int_eq(credset_deserialize((const unsigned char *)
	    garbage_rows[_i].bytes, garbage_rows[_i].len, &out), -1);
	ck_assert_uint_eq(out.n, 0);
	ck_assert_ptr_null(out.f[0].name);
}
END_TEST

START_TEST(test_credset_garbage_limits)
{
	struct credset	 out;
	unsigned char	*p;
	size_t		 o = 0, i;

	/* a 256-byte name, complete with its value */
	p = calloc(1, 70000);
	ck_assert_ptr_nonnull(p);
	p[0] = 1;
	p[1] = 0;
	memset(p + 2, 'n', 256);
	p[258] = 0;
	p[259] = 1;
	p[260] = 'v';
	ck_assert_int_eq(credset_deserialize(p, 261, &out), -1);
	ck_assert_uint_eq(out.n, 0);

	/* a value over CREDSET_VALUE_MAX, complete */
	p[0] = 0;
	p[1] = 1;
	p[2] = 'a';
	p[3] = (CREDSET_VALUE_MAX + 1) >> 8;
	p[4] = (CREDSET_VALUE_MAX + 1) & 0xff;
	memset(p + 5, 'v', CREDSET_VALUE_MAX + 1);
	ck_assert_int_eq(credset_deserialize(p, 5 + CREDSET_VALUE_MAX + 1,
	    &out), -1);
	ck_assert_uint_eq(out.n, 0);
	/* the same at the limit is fine */
	p[3] = CREDSET_VALUE_MAX >> 8;
	p[4] = CREDSET_VALUE_MAX & 0xff;
	ck_assert_int_eq(credset_deserialize(p, 5 + CREDSET_VALUE_MAX, &out), 0);
	ck_assert_uint_eq(out.n, 1);
	credset_free(&out);

	/* one field more than a set holds */
	memset(p, 0, 70000);
	for (i = 0; i < CREDSET_MAX + 1; i++) {
		p[o++] = 0;
		p[o++] = 3;
		p[o++] = 'f';
		p[o++] = (unsigned char)('a' + i / 26);
		p[o++] = (unsigned char)('a' + i % 26);
		p[o++] = 0;
		p[o++] = 1;
		p[o++] = 'v';
	}
	ck_assert_int_eq(credset_deserialize(p, o, &out), -1);
	ck_assert_uint_eq(out.n, 0);
	ck_assert_int_eq(credset_deserialize(p, o - 8, &out), 0);
	ck_assert_uint_eq(out.n, CREDSET_MAX);
	credset_free(&out);
	free(p);
}
END_TEST

static Suite *
crypto_suite(void)
{
	Suite	*s = suite_create("crypto");
	TCase	*tc;

	tc = tcase_create("keyring");
	tcase_add_test(tc, test_keyring_create);
	tcase_add_test(tc, test_keyring_create_bad_dir);
	tcase_add_loop_test(tc, test_keyring_load_modes, 0,
	    (int)(sizeof(mode_rows) / sizeof(mode_rows[0])));
	tcase_add_loop_test(tc, test_keyring_load_malformed, 0,
	    (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
	tcase_add_test(tc, test_keyring_load_not_a_file);
	tcase_add_test(tc, test_keyring_load_known);
	tcase_add_test(tc, test_keyring_not_dumped);
	tcase_add_loop_test(tc, test_keyring_add_key, 0, 2);
	tcase_add_test(tc, test_keyring_add_key_missing_file);
	tcase_add_loop_test(tc, test_keyring_remove_key, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("envelope");
	tcase_add_loop_test(tc, test_envelope_roundtrip, 0,
	    (int)(sizeof(pt_sizes) / sizeof(pt_sizes[0])));
	tcase_add_loop_test(tc, test_envelope_tamper, 0, T__MAX);
	tcase_add_test(tc, test_envelope_key_id_relabel);
	tcase_add_test(tc, test_envelope_rewrap);
	tcase_add_test(tc, test_envelope_seals_differ);
	tcase_add_test(tc, test_crypto_mac);
	suite_add_tcase(s, tc);

	tc = tcase_create("ids");
	tcase_add_test(tc, test_ulid_format_unique);
	tcase_add_test(tc, test_ulid_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("credset");
	tcase_add_test(tc, test_credset_add_get_free);
	tcase_add_test(tc, test_credset_serialize_bytes);
	tcase_add_test(tc, test_credset_roundtrip);
	tcase_add_test(tc, test_credset_truncated);
	tcase_add_loop_test(tc, test_credset_garbage, 0,
	    (int)(sizeof(garbage_rows) / sizeof(garbage_rows[0])));
	tcase_add_test(tc, test_credset_garbage_limits);
	suite_add_tcase(s, tc);
	return s;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	int	 failed;

	snprintf(tmpdir, sizeof(tmpdir), "%s/cs-test-crypto.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	failed = ck_run(crypto_suite());
	(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? 0 : 1;
}
