/*
 * filestamp: which version of a file a process read, so that a file
 * replaced (rename: a new inode), rewritten in place (size, times) or
 * given other permissions or owner (mode, ctime) is noticed, and the
 * capped read that takes the stamp of the very descriptor it reads.
 * Used for the keyring and the JWKS file.  Owns nothing but the buffer
 * filestamp_read hands to its caller.
 */
#ifndef CS_FILESTAMP_H
#define CS_FILESTAMP_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct filestamp {
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	struct timespec	 ctime;		/* chmod and chown move it */
	mode_t		 mode;
};

/* The stamp of the file at path now: 0, or -1 (stamp zeroed) when absent. */
int	 filestamp_get(const char *path, struct filestamp *);
/* The stamp of the open file fd: 0, or -1 (stamp zeroed, errno set). */
int	 filestamp_fd(int fd, struct filestamp *);
/* 1 when both stamps name the same version of the file. */
int	 filestamp_eq(const struct filestamp *, const struct filestamp *);

#define FILESTAMP_REGULAR	0x1	/* refuse what is not a regular file */
#define FILESTAMP_SECRET	0x2	/* read into secmem (secmem_free it) */
#define FILESTAMP_PRIVATE	0x4	/* refuse a file others may read or
					   the group may write (a secret) */

/*
 * Opens path and reads at most cap + 1 bytes, so an oversized file or a
 * device costs nothing: *outlen > cap means the file is larger than cap,
 * which the caller refuses with its own words.  When st is not NULL it
 * receives the stamp of the descriptor that was read (zeroed when the
 * file could not be opened), so a file replaced between a stat() and the
 * open() cannot be mistaken for the old one.  Returns 0 and *out, a
 * malloc'd buffer of cap + 1 bytes (caller frees; secure_free(*out,
 * cap + 1) when it holds a secret; with FILESTAMP_SECRET memory that core
 * dumps leave out, freed with secmem_free), or -1 with "path: why" in
 * err; the scratch buffer is wiped on failure.
 */
int	 filestamp_read(const char *path, size_t cap, int flags,
	    unsigned char **out, size_t *outlen, struct filestamp *st,
	    char *err, size_t errlen);

#endif
