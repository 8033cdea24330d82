#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "handlers.h"
#include "http.h"
#include "router.h"
#include "validate.h"

/*
 * libFuzzer harness for what reads the request line and headers: the
 * first byte picks the method, the rest (up to a NUL) is the raw path for
 * router_match over the tables handle_request uses.  The path parameters
 * then go through validate_scalar as the handlers do; the raw rest also
 * goes through validate_scalar of every kind (headers and query values
 * reach it), and through http_media_type and http_wants_html as a
 * Content-Type and an Accept header.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A decoded path parameter: no '/', '\\', control byte, ".", "..". */
static void
check_param(const char *s)
{
	size_t i, n;

	if ((n = strnlen(s, ROUTE_PARAM_MAX)) == ROUTE_PARAM_MAX)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' ||
		    s[i] == '\\')
			abort();
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		abort();
}

static void
check_route(enum http_method m, const char *path)
{
	struct route_match	 rm;
	enum route_rc		 rc;
	char			 allow[128];

	rc = router_match(handlers_routes, m, path, &rm);
	if (rc == ROUTE_NOT_FOUND)
		return;
	if (rc != ROUTE_OK && rc != ROUTE_METHOD)
		abort();
	if (rm.def == NULL || rm.def->name == NULL || rm.allowed == 0 ||
	    (rc == ROUTE_OK) != ((rm.allowed & (1u << m)) != 0))
		abort();
	check_param(rm.provider);
	check_param(rm.cred_id);
	/* a valid provider id is what the catalog calls one */
	if ((validate_scalar(VK_PROVIDER, rm.provider, strlen(rm.provider)) ==
	    NULL) != (rm.provider[0] != '\0' && catalog_valid_id(rm.provider)))
		abort();
	(void)validate_scalar(VK_CREDENTIAL_ID, rm.cred_id, strlen(rm.cred_id));
	router_allow_header(rm.allowed, allow, sizeof(allow));
	if (memchr(allow, '\0', sizeof(allow)) == NULL)
		abort();
}

static void
check_headers(const char *v)
{
	struct http_req	 r;
	char		 mt[64], tiny[2];

	memset(&r, 0, sizeof(r));
	r.content_type = v;
	r.accept = v;
	http_media_type(&r, mt, sizeof(mt));
	if (memchr(mt, '\0', sizeof(mt)) == NULL || strpbrk(mt, "; \t") ||
	    strpbrk(mt, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
		abort();
	http_media_type(&r, tiny, sizeof(tiny));
	if (memchr(tiny, '\0', sizeof(tiny)) == NULL)
		abort();
	(void)http_wants_html(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum http_method	 m;
	char			*s;
	size_t			 n;
	int			 k;

	if (size < 1)
		return 0;
	m = (enum http_method)(data[0] % HM__MAX);
	n = size - 1;
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	check_route(m, s);
	check_headers(s);
	/* validate_scalar takes a length: the bytes after a NUL count too */
	for (k = 0; k < VK__MAX; k++)
		(void)validate_scalar((enum vkind)k, (const char *)data + 1, n);
	free(s);
	return 0;
}
