#include "cs_build.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>
#include <malloc.h>
#include <sys/socket.h>
#include <pthread.h>

#include "curlapi.h"
#include "fence.h"
#include "log.h"
#include "util.h"

#ifndef CS_CURL_SONAME
#define CS_CURL_SONAME "libcurl-gnutls.so.4"
#endif

/* The loaded library: the public table and what only this file calls. */
struct curllib {
	void		*handle;	/* NULL: not loaded */
	int		 ready;		/* global init done */
	struct curlapi	 api;
	CURLcode	(*global_init_mem)(long, curl_malloc_callback,
			    curl_free_callback, curl_realloc_callback,
			    curl_strdup_callback, curl_calloc_callback);
	void		(*global_cleanup)(void);
	curl_version_info_data *(*version_info)(CURLversion);
	void		(*ssh_exit)(void);	/* NULL: libssh2_init not called */
};

/*
 * Loaded and initialised once per process; lib_lock makes the first use
 * safe from any thread (curl_global_init is not thread-safe in every
 * libcurl) and orders lib.ready before the table is read.
 */
static struct curllib	lib;
static pthread_mutex_t	lib_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every symbol looked up, and where its address goes in struct curllib. */
static const struct {
	const char	*name;
	size_t		 off;
} syms[] = {
	{ "curl_global_init_mem", offsetof(struct curllib, global_init_mem) },
	{ "curl_global_cleanup", offsetof(struct curllib, global_cleanup) },
	{ "curl_version_info", offsetof(struct curllib, version_info) },
	{ "curl_easy_init", offsetof(struct curllib, api.easy_init) },
	{ "curl_easy_cleanup", offsetof(struct curllib, api.easy_cleanup) },
	{ "curl_easy_reset", offsetof(struct curllib, api.easy_reset) },
	{ "curl_easy_setopt", offsetof(struct curllib, api.easy_setopt) },
	{ "curl_easy_perform", offsetof(struct curllib, api.easy_perform) },
	{ "curl_easy_getinfo", offsetof(struct curllib, api.easy_getinfo) },
	{ "curl_easy_strerror", offsetof(struct curllib, api.easy_strerror) },
	{ "curl_slist_append", offsetof(struct curllib, api.slist_append) },
	{ "curl_slist_free_all", offsetof(struct curllib, api.slist_free_all) },
};

static void
wiping_free(void *p)
{
	if (p != NULL)
		secure_free(p, malloc_usable_size(p));
}

static void *
wiping_realloc(void *p, size_t n)
{
	void	*q;
	size_t	 old;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		wiping_free(p);
		return NULL;
	}
	if ((q = malloc(n)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	wiping_free(p);
	return q;
}

/* The GnuTLS flavour is the one credstore is built for: warn otherwise. */
static void
check_flavour(void)
{
	const curl_version_info_data *v = lib.version_info(CURLVERSION_NOW);

	if (v == NULL || v->ssl_version == NULL ||
	    strstr(v->ssl_version, "GnuTLS") == NULL)
		log_warn("curlapi: %s uses %s, not GnuTLS", CS_CURL_SONAME,
		    v != NULL && v->ssl_version != NULL ?
		    v->ssl_version : "no TLS library");
}

/*
 * Debian's libcurl-gnutls links libssh2, which is built on OpenSSL, and
 * curl_global_init calls libssh2_init(0), which starts OpenSSL's libcrypto
 * (its built-in engines): measured, 1.4 MiB more resident and 0.8 ms per
 * process, for SCP and SFTP, which credstore never lets libcurl speak
 * (every handle sets CURLOPT_PROTOCOLS_STR: https, or http and https at
 * most).  libssh2 starts its crypto only in the first libssh2_init of the
 * process, so a first one with LIBSSH2_INIT_NO_CRYPTO (0x0001 in
 * libssh2.h) leaves libcurl's nothing to do but count.  A libcurl without
 * libssh2 has no such symbol: nothing to do then.
 */
#define SSH2_INIT_NO_CRYPTO	0x0001

static void
ssh_without_crypto(void)
{
	void	*pi, *pe;
	int	(*init)(int);

	if ((pi = dlsym(lib.handle, "libssh2_init")) == NULL ||
	    (pe = dlsym(lib.handle, "libssh2_exit")) == NULL)
		return;
	memcpy(&init, &pi, sizeof(pi));
	if (init(SSH2_INIT_NO_CRYPTO) == 0)
		memcpy(&lib.ssh_exit, &pe, sizeof(pe));
}

/* dlopen and dlsym every symbol; 0, or -1 (logged) with nothing loaded. */
static int
load(void)
{
	void	*p;
	size_t	 i;

	if (lib.handle != NULL)
		return 0;
	if ((lib.handle = dlopen(CS_CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_error("curlapi: cannot load %s: %s", CS_CURL_SONAME,
		    dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if ((p = dlsym(lib.handle, syms[i].name)) == NULL)
			goto fail;
		/* into a function pointer without a cast from an object one */
		memcpy((char *)&lib + syms[i].off, &p, sizeof(p));
	}
	check_flavour();
	ssh_without_crypto();
	return 0;
fail:
	log_error("curlapi: %s lacks a symbol: %s", CS_CURL_SONAME, dlerror());
	dlclose(lib.handle);
	memset(&lib, 0, sizeof(lib));
	return -1;
}

const struct curlapi *
curlapi_get(const char **why)
{
	const struct curlapi *api = NULL;

	pthread_mutex_lock(&lib_lock);
	if (lib.ready)
		api = &lib.api;
	else if (load() == -1)
		*why = "cannot load libcurl";
	/* libcurl copies the checks' headers and bodies: wipe what it frees */
	else if (lib.global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free,
	    wiping_realloc, strdup, calloc) != CURLE_OK)
		*why = "libcurl global init failed";
	else {
		lib.ready = 1;
		api = &lib.api;
	}
	pthread_mutex_unlock(&lib_lock);
	return api;
}

curl_socket_t
curlapi_fenced_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	int *fenced = arg;

	(void)purpose;
	if (fence_refused(&a->addr)) {
		*fenced = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

void
curlapi_release(void)
{
	pthread_mutex_lock(&lib_lock);
	if (lib.ready)
		lib.global_cleanup();
	if (lib.ssh_exit != NULL)
		lib.ssh_exit();
	if (lib.handle != NULL)
		dlclose(lib.handle);
	memset(&lib, 0, sizeof(lib));
	pthread_mutex_unlock(&lib_lock);
}
