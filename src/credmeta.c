/*
 * credmeta: a credential's public metadata, as a json-c object for
 * single answers and as text for listings (credmeta.h).  The two must
 * give the same bytes once serialised.
 */
#include "cs_build.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "credmeta.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"

void
credmeta_check(const struct cred_rec *r, struct credmeta_check *ck)
{
	const char *colon;

	memset(ck, 0, sizeof(*ck));
	if (r->check[0] == '\0') {
		/* written before the outcome was kept: what the status says */
		snprintf(ck->result, sizeof(ck->result), "%s",
		    strcmp(r->status, "validated") == 0 ? "validated" :
		    strcmp(r->status, "rejected") == 0 ? "rejected" :
		    "unreachable");
		if (strcmp(ck->result, "validated") != 0)
			snprintf(ck->reason, sizeof(ck->reason), "%s",
			    CREDMETA_NOT_RECORDED);
		return;
	}
	if ((colon = strchr(r->check, ':')) == NULL)
		colon = r->check + strlen(r->check);
	else
		snprintf(ck->reason, sizeof(ck->reason), "%s", colon + 1);
	if ((size_t)(colon - r->check) < sizeof(ck->result))
		memcpy(ck->result, r->check, (size_t)(colon - r->check));
}

int
credmeta_check_header(const struct cred_rec *r, char *out, size_t n)
{
	struct credmeta_check	ck;
	int			len;

	credmeta_check(r, &ck);
	if (ck.reason[0] == '\0')
		len = snprintf(out, n, "result=%s", ck.result);
	else
		len = snprintf(out, n, "result=%s; reason=%s", ck.result,
		    ck.reason);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

struct json_object *
credmeta_check_json(const struct cred_rec *r)
{
	struct credmeta_check	 ck;
	struct json_object	*o = json_object_new_object();

	credmeta_check(r, &ck);
	json_object_object_add(o, "result", json_object_new_string(ck.result));
	if (ck.reason[0] != '\0')
		json_object_object_add(o, "reason",
		    json_object_new_string(ck.reason));
	return o;
}

/* The check object as text: the bytes json-c writes for the same. */
static int
check_write(struct buf *b, const struct cred_rec *r)
{
	struct credmeta_check ck;

	credmeta_check(r, &ck);
	if (buf_adds(b, ",\"check\":{\"result\":") == -1 ||
	    jsonx_buf_str(b, ck.result) == -1)
		return -1;
	if (ck.reason[0] != '\0' && (buf_adds(b, ",\"reason\":") == -1 ||
	    jsonx_buf_str(b, ck.reason) == -1))
		return -1;
	return buf_addc(b, '}');
}

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
	    check_write(b, r) == -1 ||
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
	json_object_object_add(o, "check", credmeta_check_json(r));
	jsonx_add_time(o, "lastUsedAt", r->used);
	return o;
}
