/*
 * mount: the mount point's candidates (mount.h).
 */
#include "cs_build.h"

#include <string.h>
#include <strings.h>

#include "mount.h"
#include "util.h"

/* http.h's HTTP_PATH_MAX: a longer path matches no route anyway */
#define URI_MAX	2048

/* 1 when s[0..3) is a %HH escape. */
static int
is_escape(const char *s)
{
	return s[0] == '%' && hex_digit(s[1]) >= 0 && hex_digit(s[2]) >= 0;
}

/* 1 when the segment s[0..n) is "." or ".." once decoded. */
static int
is_dots(const char *s, size_t n)
{
	size_t	i = 0, dots = 0;

	while (i < n) {
		if (s[i] == '.')
			i++;
		else if (i + 3 <= n && strncasecmp(s + i, "%2e", 3) == 0)
			i += 3;
		else
			return 0;
		dots++;
	}
	return dots == 1 || dots == 2;
}

int
mount_valid(const char *m, size_t n)
{
	size_t	i, seg = 1;

	if (n == 0)
		return 1;
	if (n > MOUNT_MAX || m[0] != '/' || m[n - 1] == '/')
		return 0;
	for (i = 1; i <= n; i++) {
		if (i == n || m[i] == '/') {
			if (i == seg || is_dots(m + seg, i - seg))
				return 0;	/* "//", "/./", "/../" */
			seg = i + 1;
			continue;
		}
		if (m[i] == '%') {
			if (i + 2 >= n || !is_escape(m + i))
				return 0;
			i += 2;
			continue;
		}
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-._~!$&'()*+=:@", m[i]) == NULL || m[i] == '\0')
			return 0;
	}
	return 1;
}

size_t
mount_trim(const char *m)
{
	size_t n = strlen(m);

	while (n > 0 && m[n - 1] == '/')
		n--;
	return n;
}

/*
 * Where in uri the tail that decodes to pi begins: PATH_INFO is decoded
 * by the server, with an escape left as it came now and then (lighttpd
 * keeps %2F), so each %HH of uri matches its byte or itself.  Decoding
 * runs forward (escapes are marked first); the tail is matched from the
 * end.  The offset of the split (a literal '/'), or -1.
 */
static long
pathinfo_split(const char *uri, const char *pi)
{
	unsigned char	 esc[URI_MAX + 1];
	size_t		 ulen = strlen(uri), e, j = strlen(pi), i;
	int		 c;

	if (pi[0] != '/' || ulen > URI_MAX || j > ulen)
		return -1;
	memset(esc, 0, ulen + 1);
	for (i = 0; i < ulen; i++)
		if (i + 2 < ulen && is_escape(uri + i)) {
			esc[i] = 1;
			i += 2;
		}
	for (e = ulen; j > 0; ) {
		if (e == 0)
			return -1;
		if (e >= 3 && esc[e - 3]) {
			c = hex_digit(uri[e - 2]) << 4 | hex_digit(uri[e - 1]);
			if (j >= 3 && strncasecmp(pi + j - 3, uri + e - 3, 3) == 0)
				j -= 3;
			else if ((unsigned char)pi[j - 1] == c)
				j--;
			else
				return -1;
			e -= 3;
			continue;
		}
		if (uri[e - 1] != pi[j - 1])
			return -1;
		e--;
		j--;
	}
	return uri[e] == '/' ? (long)e : -1;
}

static void
cand_add(struct mount_cand *mc, const char *uri, size_t len)
{
	int i;

	if (mc->n >= MOUNT_CANDS || !mount_valid(uri, len))
		return;
	for (i = 0; i < mc->n; i++)
		if (mc->len[i] == len)
			return;
	mc->len[mc->n++] = len;
}

int
mount_candidates(const char *uri, const char *sn, const char *pi,
    const char *configured, struct mount_cand *mc)
{
	size_t	n;
	long	split;

	memset(mc, 0, sizeof(*mc));
	if (configured != NULL) {
		n = mount_trim(configured);
		if (!mount_valid(configured, n))
			return -1;
		if (strncmp(uri, configured, n) == 0 &&
		    (uri[n] == '/' || uri[n] == '\0'))
			mc->len[mc->n++] = n;
		return 0;
	}
	if (pi != NULL && *pi != '\0' && (split = pathinfo_split(uri, pi)) >= 0)
		cand_add(mc, uri, (size_t)split);
	if (sn != NULL && *sn != '\0' && strncmp(uri, sn, strlen(sn)) == 0 &&
	    uri[strlen(sn)] == '/')
		cand_add(mc, uri, strlen(sn));
	cand_add(mc, uri, 0);
	return 0;
}
