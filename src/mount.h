/*
 * mount: where a server runs credstore (SPEC section 2, last item).  The
 * mount point is the part of the request path that belongs to the
 * server's mapping: "" at the site root, "/credstore", or
 * "/cgi-bin/credstore.fcgi"; it never ends in '/'.  Routes are matched on
 * the raw (still percent-encoded) path below it, and every link, form
 * action, Location and cookie Path the program writes carries it.
 *
 * The candidates, from the CGI variables, in this order:
 *   1. CREDSTORE_MOUNT (a FastCGI parameter or the environment), when
 *      set: the only candidate.  A request path outside it has none (404).
 *      For servers that map a prefix to the program (lighttpd's
 *      fastcgi.server "/credstore/", nginx's location, Apache's ProxyPass):
 *      they send no usable PATH_INFO.
 *   2. Otherwise, when PATH_INFO is set: the request path (REQUEST_URI
 *      without the query) less the tail that decodes to PATH_INFO.  This
 *      is SCRIPT_NAME as the client wrote it, also after a rewrite that
 *      hides the program's name (SCRIPT_NAME then names the program, the
 *      request path does not).
 *   3. SCRIPT_NAME, when the request path begins with it followed by '/'
 *      (a server or a test that sends SCRIPT_NAME and REQUEST_URI but no
 *      PATH_INFO).
 *   4. The root, "": the whole request path.
 * handlers.c uses the first candidate under which the path names a route,
 * so a split a server invents for a prefix mapping (lighttpd splits
 * "/v1/integrations/..." into SCRIPT_NAME "/v1" and the rest) falls back
 * to the root.  A candidate that is not a valid mount (mount_valid) is
 * left out.  Pure functions on strings: no HTTP state, no allocation.
 */
#ifndef CS_MOUNT_H
#define CS_MOUNT_H

#include <stddef.h>

#define MOUNT_MAX	512	/* bytes of a mount point */
#define MOUNT_CANDS	3

struct mount_cand {
	size_t	 len[MOUNT_CANDS];	/* each a prefix of the request path */
	int	 n;	/* 0: outside the configured mount */
};

/*
 * The candidates of raw path uri (see above); script_name, path_info and
 * configured may be NULL.  0, or -1 when configured is not a valid mount
 * (then no candidate).
 */
int	 mount_candidates(const char *uri, const char *script_name,
	    const char *path_info, const char *configured, struct mount_cand *);
/*
 * 1 when m[0..n) is a mount: empty, or '/' and segments that are not
 * empty, ".", ".." (also percent-encoded), at most MOUNT_MAX bytes of
 * unreserved characters, "!$&'()*+=:@" and %HH escapes (no ';' or ',':
 * it goes into a cookie's Path; no quote, space or control).
 */
int	 mount_valid(const char *m, size_t n);
/*
 * The configured mount's length once trailing slashes are cut ("/" and
 * "" are the root).
 */
size_t	 mount_trim(const char *m);

#endif
