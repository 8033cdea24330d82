/*
 * catcache: the catalog of a CGI process, which would otherwise parse
 * and check the whole file for the one provider its request uses.  A
 * file in data_dir, catalog.checked, remembers that one exact catalog
 * text passed every check of catalog.c: a MAC, under a key derived from
 * the keyring's MAC key, of the text's SHA-256 and of the stamp of the
 * running program's file (another build may check more).  When it
 * matches, the text is indexed (catalog_index) and a provider is parsed
 * and checked when a request first uses it; otherwise the whole text is
 * parsed and checked as in a FastCGI process, with the same errors, and
 * the file is written when it passes.  The file holds no catalog: what
 * is served always comes from the catalog file read now.
 */
#ifndef CS_CATCACHE_H
#define CS_CATCACHE_H

#include <stddef.h>

#include "catalog.h"
#include "crypto.h"

#define CATCACHE_FILE	"catalog.checked"

/*
 * The catalog at path for one CGI request, as catalog_load would give
 * it (NULL with the same error in err).  *indexed is 1 when
 * data_dir/catalog.checked vouched for the text and the catalog is an
 * indexed one, else 0.
 */
struct catalog	*catcache_load(const char *path, const char *data_dir,
		    const struct keyring *kr, int *indexed, char *err,
		    size_t errlen);

#endif
