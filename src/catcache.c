#include "cs_build.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "catcache.h"
#include "log.h"
#include "util.h"

#define CATCACHE_LABEL	"catalog-checked-v1"
#define MARK_LEN	(2 * CRYPTO_MAC_LEN)	/* hex */

/*
 * The mark of text under kr, in hex: the MAC of its SHA-256 and of the
 * running program's stamp.  0, or -1 when it cannot be made (then
 * nothing is cached).
 */
static int
mark_of(const char *text, size_t len, const struct keyring *kr,
    char hex[MARK_LEN + 1])
{
	unsigned char	 msg[32 + 128], mac[CRYPTO_MAC_LEN];
	struct stat	 sb;
	int		 n;

	if (stat("/proc/self/exe", &sb) == -1 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, text, len, msg) < 0)
		return -1;
	n = snprintf((char *)msg + 32, sizeof(msg) - 32, "%ju:%ju:%jd:%jd.%ld",
	    (uintmax_t)sb.st_dev, (uintmax_t)sb.st_ino, (intmax_t)sb.st_size,
	    (intmax_t)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
	if (n < 0 || (size_t)n >= sizeof(msg) - 32 ||
	    crypto_mac(kr, CATCACHE_LABEL, msg, 32 + (size_t)n, mac) == -1)
		return -1;
	hex_encode(mac, CRYPTO_MAC_LEN, hex);
	return 0;
}

/* 1 when data_dir/catalog.checked holds exactly hex and a newline. */
static int
mark_matches(const char *dir, const char *hex)
{
	char	path[4096], got[MARK_LEN + 2];
	ssize_t	r;
	int	fd;

	if (snprintf(path, sizeof(path), "%s/" CATCACHE_FILE, dir) >=
	    (int)sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	r = read(fd, got, sizeof(got));
	(void)close(fd);
	return r == MARK_LEN + 1 && got[MARK_LEN] == '\n' &&
	    ct_equal(got, hex, MARK_LEN);
}

/* Replaces data_dir/catalog.checked with hex (best effort). */
static void
mark_write(const char *dir, const char *hex)
{
	char	path[4096], tmp[4096], line[MARK_LEN + 1];
	int	fd, ok;

	if (snprintf(path, sizeof(path), "%s/" CATCACHE_FILE, dir) >=
	    (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/." CATCACHE_FILE ".%ld", dir,
	    (long)getpid()) >= (int)sizeof(tmp))
		return;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		log_debug("catalog: %s: %s (every request checks the whole "
		    "catalog)", tmp, errstr(errno));
		return;
	}
	memcpy(line, hex, MARK_LEN);
	line[MARK_LEN] = '\n';
	ok = write(fd, line, sizeof(line)) == (ssize_t)sizeof(line);
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) == -1) {
		log_debug("catalog: %s: %s", path, errstr(errno));
		(void)unlink(tmp);
	}
}

struct catalog *
catcache_load(const char *path, const char *data_dir,
    const struct keyring *kr, int *indexed, char *err, size_t errlen)
{
	struct catalog	*c;
	char		*text, hex[MARK_LEN + 1];
	size_t		 len;
	int		 marked;

	*indexed = 0;
	if ((text = catalog_read(path, &len, err, errlen)) == NULL)
		return NULL;
	marked = mark_of(text, len, kr, hex) == 0;
	if (marked && mark_matches(data_dir, hex) &&
	    (c = catalog_index(text, len, path, CATALOG_LAZY)) != NULL) {
		*indexed = 1;		/* text is the catalog's now */
		return c;
	}
	/* every check, patterns compiled: what the mark vouches for */
	c = catalog_parse_flags(text, len, path, 0, err, errlen);
	if (c != NULL && marked)
		mark_write(data_dir, hex);
	free(text);
	return c;
}
