/*
 * TODO(merge): this file goes.  store_record_ad, the associated data of
 * the crypto envelope, moves to the credential service (credsvc.c,
 * credsvc_record_ad); its code is here unchanged until then.
 */
#include "cs_build.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

char *
store_record_ad(const char *tenant, const char *provider, const char *id,
    size_t *len)
{
	static const char	 pfx[] = "credstore-record-v1";
	char			*k, *ad;
	size_t			 klen;

	if ((k = dbenv_key(tenant, provider, id, &klen)) == NULL)
		return NULL;
	if ((ad = malloc(sizeof(pfx) + klen)) == NULL) {
		free(k);
		return NULL;
	}
	memcpy(ad, pfx, sizeof(pfx));
	memcpy(ad + sizeof(pfx), k, klen);
	free(k);
	*len = sizeof(pfx) + klen;
	return ad;
}
