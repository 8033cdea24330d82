/*
 * credmeta: a credential's public metadata, as a json-c object for
 * single answers and as text for listings (credmeta.h).  The two must
 * give the same bytes once serialised.
 */
#include "cs_build.h"

#include <stddef.h>

#include <json-c/json.h>

#include "credmeta.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"

int
credmeta_write(struct buf *b, const struct cred_rec *r)
{
	size_t i;

	if (buf_adds(b, "{\"credentialId\":") == -1 ||
	    jsonx_buf_str(b, r->id) == -1 ||
	    buf_adds(b, ",\"provider\":") == -1 ||
	    jsonx_buf_str(b, r->provider) == -1 ||
	    buf_adds(b, ",\"label\":") == -1 ||
	    jsonx_buf_str(b, r->label) == -1 ||
	    buf_adds(b, ",\"status\":") == -1 ||
	    jsonx_buf_str(b, r->status) == -1 ||
	    buf_adds(b, ",\"fields\":[") == -1)
		return -1;
	for (i = 0; i < r->nfields; i++)
		if ((i > 0 && buf_addc(b, ',') == -1) ||
		    jsonx_buf_str(b, r->fields[i]) == -1)
			return -1;
	if (buf_adds(b, "],\"createdAt\":") == -1 ||
	    jsonx_buf_time(b, r->created) == -1 ||
	    buf_adds(b, ",\"updatedAt\":") == -1 ||
	    jsonx_buf_time(b, r->updated) == -1 ||
	    buf_adds(b, ",\"lastValidatedAt\":") == -1 ||
	    jsonx_buf_time(b, r->validated) == -1 ||
	    buf_adds(b, ",\"lastUsedAt\":") == -1 ||
	    jsonx_buf_time(b, r->used) == -1 ||
	    buf_addc(b, '}') == -1)
		return -1;
	return 0;
}

struct json_object *
credmeta_json(const struct cred_rec *r)
{
	struct json_object	*o, *f;
	size_t			 i;

	o = json_object_new_object();
	json_object_object_add(o, "credentialId", json_object_new_string(r->id));
	json_object_object_add(o, "provider",
	    json_object_new_string(r->provider));
	json_object_object_add(o, "label",
	    r->label ? json_object_new_string(r->label) : NULL);
	json_object_object_add(o, "status", json_object_new_string(r->status));
	f = json_object_new_array();
	for (i = 0; i < r->nfields; i++)
		json_object_array_add(f, json_object_new_string(r->fields[i]));
	json_object_object_add(o, "fields", f);
	jsonx_add_time(o, "createdAt", r->created);
	jsonx_add_time(o, "updatedAt", r->updated);
	jsonx_add_time(o, "lastValidatedAt", r->validated);
	jsonx_add_time(o, "lastUsedAt", r->used);
	return o;
}
