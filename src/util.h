/*
 * util: small helpers shared by every module: capped buffers, base64 and
 * base64url, constant-time comparison, secret wiping, time formatting.
 * Nothing here knows about HTTP, storage or crypto policy.
 */
#ifndef CS_UTIL_H
#define CS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * A growing byte buffer with a hard cap chosen by its user.  Going over the
 * cap is an error (-1), never a silent realloc.  When `secret` is set the old
 * storage is wiped before every realloc and on free.  Always NUL-terminated
 * (the NUL is not counted in len).
 */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;	/* allocated */
	size_t	 max;	/* hard limit of len */
	int	 secret;
};

void	 buf_init(struct buf *b, size_t max, int secret);
int	 buf_add(struct buf *b, const void *p, size_t n);
int	 buf_adds(struct buf *b, const char *s);
int	 buf_addc(struct buf *b, char c);
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Room for n bytes in all, allocated now (one malloc for a known size). */
int	 buf_reserve(struct buf *b, size_t n);
/* Detaches and returns the data (malloc'd, caller frees); the buf is reset. */
char	*buf_steal(struct buf *b, size_t *len);
void	 buf_reset(struct buf *b);	/* wipes when secret, frees */

/* Wipes then frees n bytes at p; NULL is fine. */
void	 secure_free(void *p, size_t n);
/* Wipes then frees a NUL-terminated string; NULL is fine. */
void	 secure_free_str(char *s);
void	 secure_wipe(void *p, size_t n);

/* Constant-time comparison of two equal-length buffers: 1 when equal. */
int	 ct_equal(const void *a, const void *b, size_t n);

/*
 * Base64 (RFC 4648 section 4) and base64url without padding (section 5).
 * Encoders return malloc'd NUL-terminated strings (NULL on allocation
 * failure).  The decoders are strict: wrong alphabet, padding in url mode,
 * missing padding in std mode, or non-zero trailing bits are rejected.  They
 * return a malloc'd buffer (caller frees; one extra NUL byte is appended)
 * and set *outlen, or NULL on malformed input.
 */
char	*b64_encode(const void *p, size_t n);
char	*b64url_encode(const void *p, size_t n);
unsigned char *b64_decode(const char *s, size_t slen, size_t *outlen);
unsigned char *b64url_decode(const char *s, size_t slen, size_t *outlen);

/* "2024-04-01T10:00:00Z" into out (at least 21 bytes). */
void	 fmt_time(time_t t, char out[21]);
/*
 * What strerror says, for any thread: the text lives in a buffer of the calling
 * thread, valid until its next call (strerror may share one buffer
 * between threads for an unknown number).
 */
const char *errstr(int errnum);
/* Milliseconds since the epoch, wall clock. */
uint64_t now_ms(void);
/* Nanoseconds of the monotonic clock: for intervals, never for dates. */
uint64_t mono_ns(void);
/* The time ms from now on clock c: a deadline for pthreads' timed waits. */
struct timespec deadline_in(clockid_t c, unsigned long ms);

/*
 * Reads from fd until end of file or cap bytes, retrying EINTR.  Returns
 * the byte count (cap means there may be more) or -1 with errno set.
 */
ssize_t	 read_full(int fd, void *buf, size_t cap);

/* Parses a decimal long in [min, max]; whole string; 0 on success. */
int	 parse_long(const char *s, long min, long max, long *out);

/* The value of one hex digit (either case), or -1. */
int	 hex_digit(char c);
/* p[0..n) in lowercase hex into out[2n], NUL-terminated (2n + 1 bytes). */
void	 hex_encode(const void *p, size_t n, char *out);

/* 1 when every byte is printable ASCII (0x20-0x7e). */
int	 is_printable_ascii(const char *s, size_t n);
/* 1 when s[0..n) is valid UTF-8 without NUL or C0/DEL control bytes. */
int	 is_clean_utf8(const char *s, size_t n);
/* 1 when s[0..n) is well-formed UTF-8 without NUL (controls allowed). */
int	 is_valid_utf8(const char *s, size_t n);

/* A message into err[errlen] (truncated); nothing when err is NULL. */
void	 set_errf(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
