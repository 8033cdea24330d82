/*
 * curlapi: libcurl, loaded with dlopen when a module first needs it (a
 * provider check, later the proxy), not at start: a CGI request that makes
 * no outbound call does not pay for loading it and the thirty libraries
 * it needs.  This module owns the loaded library and libcurl's global
 * state (initialised with allocators that wipe what they free, since
 * libcurl copies headers and bodies that hold secrets); each user owns
 * its own easy handles and lists.  Knows nothing about what is fetched.
 */
#ifndef CS_CURLAPI_H
#define CS_CURLAPI_H

#define CURL_DISABLE_TYPECHECK	1	/* calls go through the table below */
#include <curl/curl.h>

/* The libcurl functions credstore calls, filled by dlsym. */
struct curlapi {
	CURL		*(*easy_init)(void);
	void		(*easy_cleanup)(CURL *);
	void		(*easy_reset)(CURL *);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_perform)(CURL *);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
};

/*
 * Loads libcurl and initialises it globally on the first call.  Returns
 * the process-wide table (owned here, valid until curlapi_release), or
 * NULL with *why set to a static reason (the details are logged).  A
 * failed load is tried again on the next call.
 */
const struct curlapi	*curlapi_get(const char **why);
/*
 * An open-socket callback (CURLOPT_OPENSOCKETFUNCTION) that refuses an
 * address the fence refuses (fence.h): the address checked is the one
 * connected to.  arg (CURLOPT_OPENSOCKETDATA) is an int set to 1 then.
 */
curl_socket_t		 curlapi_fenced_socket(void *arg, curlsocktype purpose,
			    struct curl_sockaddr *a);
/*
 * Undoes curlapi_get: libcurl's global cleanup, libssh2_exit (for the
 * libssh2_init curlapi made, curlapi.c) and dlclose.  Every easy handle
 * must be cleaned up first.  Safe when nothing is loaded.
 */
void			 curlapi_release(void);

#endif
