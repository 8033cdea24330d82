#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filestamp.h"
#include "secmem.h"
#include "util.h"

/* The stamp of fd when it is not -1, else of the file at path. */
static int
take(const char *path, int fd, struct filestamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if ((fd != -1 ? fstat(fd, &sb) : stat(path, &sb)) == -1)
		return -1;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime = sb.st_mtim;
	st->ctime = sb.st_ctim;
	st->mode = sb.st_mode;
	return 0;
}

int
filestamp_get(const char *path, struct filestamp *st)
{
	return take(path, -1, st);
}

int
filestamp_fd(int fd, struct filestamp *st)
{
	return take(NULL, fd, st);
}

int
filestamp_eq(const struct filestamp *a, const struct filestamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec && a->mode == b->mode;
}

/* "path: why" into err; truncation is fine. */
static void
read_err(char *err, size_t errlen, const char *path, const char *why)
{
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s: %s", path, why);
}

int
filestamp_read(const char *path, size_t cap, int flags, unsigned char **out,
    size_t *outlen, struct filestamp *st, char *err, size_t errlen)
{
	struct filestamp	 fst;
	unsigned char		*p = NULL;
	ssize_t			 r;
	int			 fd = -1, rv = -1;

	*out = NULL;
	*outlen = 0;
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		read_err(err, errlen, path, errstr(errno));
		goto out;
	}
	if (st != NULL || (flags & (FILESTAMP_REGULAR | FILESTAMP_PRIVATE))) {
		if (filestamp_fd(fd, &fst) == -1) {
			read_err(err, errlen, path, errstr(errno));
			goto out;
		}
		if (st != NULL)
			*st = fst;
		if ((flags & FILESTAMP_REGULAR) && !S_ISREG(fst.mode)) {
			read_err(err, errlen, path, "not a regular file");
			goto out;
		}
		if ((flags & FILESTAMP_PRIVATE) &&
		    (fst.mode & (S_IRWXO | S_IWGRP))) {
			(void)snprintf(err, errlen, "%s: mode %04o is unsafe for a "
			    "secret (use 0600 or 0640)", path,
			    (unsigned)(fst.mode & 07777));
			goto out;
		}
	}
	p = (flags & FILESTAMP_SECRET) ? secmem_alloc(cap + 1) : malloc(cap + 1);
	if (p == NULL) {
		read_err(err, errlen, path, "out of memory");
		goto out;
	}
	if ((r = read_full(fd, p, cap + 1)) == -1) {
		read_err(err, errlen, path, errstr(errno));
		goto out;
	}
	*out = p;
	*outlen = (size_t)r;
	p = NULL;
	rv = 0;
out:
	if (fd != -1)
		close(fd);
	if (flags & FILESTAMP_SECRET)
		secmem_free(p);
	else
		secure_free(p, cap + 1);
	return rv;
}
