/*
 * api: the JSON API's handlers (SPEC section 1), one per route and
 * method of the route table at the end of this file.  Each runs its
 * gates (gate.h), parses and validates its input, asks the credential
 * service or the store, and writes one response.  Knows HTTP; the core
 * never calls back.
 */
#include "cs_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api.h"
#include "apiproxy.h"
#include "catalog.h"
#include "credmeta.h"
#include "credsvc.h"
#include "gate.h"
#include "jsonx.h"
#include "log.h"
#include "repl.h"
#include "pages.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#define LIST_DEFAULT	50
#define LIST_MAX	100

static void
api_healthz(struct ctx *c)
{
	static const char	 down[] = "{\"status\":\"unavailable\"}";
	static const char	 up[] = "{\"status\":\"ok\"}";
	struct json_object	*o;

	if (!c->app->ready || store_ping(c->app->st) != STORE_OK) {
		http_send(c->req, 503, "application/json", GATE_RETRY_AFTER,
		    down, sizeof(down) - 1);
		return;
	}
	/* single site: the same text every time, no tree */
	if (!repl_enabled()) {
		http_send(c->req, 200, "application/json", NULL, up,
		    sizeof(up) - 1);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	repl_health_json(c->app->st, o);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
}

/* GET /v1/openapi.json: the document built into the program, no auth. */
static void
api_openapi(struct ctx *c)
{
	http_send(c->req, 200, "application/json", NULL,
	    (const char *)api_openapi_doc, api_openapi_doc_len);
}

static void
api_catalog(struct ctx *c)
{
	struct json_object	*o, *arr;
	size_t			 i;

	if (gate_authenticate(c, NULL) == -1)
		return;
	if (catalog_load_all(c->app->cat) == -1) {	/* CGI: all of it */
		gate_unavailable(c);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < c->app->cat->nproviders; i++)
		json_object_array_add(arr,
		    catalog_provider_json(&c->app->cat->providers[i]));
	o = json_object_new_object();
	json_object_object_add(o, "data", arr);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
}

static void
api_catalog_one(struct ctx *c)
{
	const struct cat_provider	*p;
	struct json_object		*o;

	if (gate_authenticate(c, NULL) == -1 || (p = gate_provider(c)) == NULL)
		return;
	o = catalog_provider_json(p);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
}

/* Parses ?limit=&cursor= ; -1 after a 400. */
static int
list_params(struct ctx *c, long *limit, char *after, size_t afterlen)
{
	struct apierr e;

	if (input_parse_list_query(c->req->query, LIST_DEFAULT, LIST_MAX, limit,
	    after, afterlen, &e) == 0)
		return 0;
	gate_reply_error(c, &e, NULL);
	return -1;
}

/* A listing is written as text as it is read: no json-c tree. */
#define LIST_BODY_MAX	(1024 * 1024)

struct list_acc {
	struct buf	 body;
	char		 last[CREDENTIAL_ID_LEN + 1];
	char		 last_provider[VALIDATE_PROVIDER_MAX + 1];
	const char	*status;	/* only records of this status, or NULL */
	long		 n, limit;
	int		 more;		/* a record past the page was seen */
	int		 full;		/* the body reached its cap */
};

static void
list_acc_init(struct list_acc *acc, long limit, const char *status)
{
	memset(acc, 0, sizeof(*acc));
	buf_init(&acc->body, LIST_BODY_MAX, 0);
	acc->limit = limit;
	acc->status = status;
	acc->full = buf_adds(&acc->body, "{\"data\":[") == -1;
}

/* Adds r to the page when it passes the filter; 1 (stop) past the page. */
static int
list_cb(const struct cred_rec *r, void *arg)
{
	struct list_acc *acc = arg;

	if (acc->status != NULL && strcmp(r->status, acc->status) != 0)
		return 0;
	if (acc->n == acc->limit) {
		acc->more = 1;
		return 1;
	}
	if ((acc->n > 0 && buf_addc(&acc->body, ',') == -1) ||
	    credmeta_write(&acc->body, r) == -1)
		acc->full = 1;
	snprintf(acc->last, sizeof(acc->last), "%s", r->id);
	snprintf(acc->last_provider, sizeof(acc->last_provider), "%s",
	    r->provider);
	acc->n++;
	return acc->full;
}

/*
 * Ends a listing: the store's result rc, then nextCursor (cur, malloc'd
 * or NULL: freed here) and the answer.
 */
static void
list_finish(struct ctx *c, struct list_acc *acc, enum store_rc rc, char *cur)
{
	if (rc == STORE_CORRUPT) {
		/* a record failed its integrity check (logged by id): the
		 * listing is not served in part, as if nothing were wrong */
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		goto out;
	}
	if (rc != STORE_OK) {
		gate_unavailable(c);
		goto out;
	}
	if (acc->full || buf_adds(&acc->body, "],\"nextCursor\":") == -1 ||
	    jsonx_buf_str(&acc->body, cur) == -1 ||
	    buf_addc(&acc->body, '}') == -1) {
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		goto out;
	}
	http_send(c->req, 200, "application/json", NULL, acc->body.data,
	    acc->body.len);
out:
	free(cur);
	buf_reset(&acc->body);
}

static void
api_cred_list(struct ctx *c)
{
	const struct cat_provider	*p;
	struct list_acc			 acc;
	long				 limit;
	char				 after[CREDENTIAL_ID_LEN + 1];
	enum store_rc			 rc;

	if (gate_authenticate(c, NULL) == -1 || (p = gate_provider(c)) == NULL ||
	    list_params(c, &limit, after, sizeof(after)) == -1)
		return;
	list_acc_init(&acc, limit, NULL);
	/* one extra to learn whether a next page exists */
	rc = store_cred_list(c->app->st, c->id.tenant, p->id,
	    after[0] ? after : NULL, (size_t)limit + 1, list_cb, &acc);
	list_finish(c, &acc, rc, acc.more ?
	    b64url_encode(acc.last, CREDENTIAL_ID_LEN) : NULL);
}

/* The catalog's provider with the smallest id after prev (NULL: first). */
static const struct cat_provider *
next_provider(const struct catalog *cat, const char *prev)
{
	const struct cat_provider	*best = NULL;
	size_t				 i;

	for (i = 0; i < cat->nproviders; i++) {
		const struct cat_provider *p = &cat->providers[i];

		if ((prev == NULL || strcmp(p->id, prev) > 0) &&
		    (best == NULL || strcmp(p->id, best->id) < 0))
			best = p;
	}
	return best;
}

/* The tenant-wide cursor: B64URL(provider "/" id) of the page's last. */
static char *
list_all_cursor(const struct list_acc *acc)
{
	char	 s[VALIDATE_PROVIDER_MAX + CREDENTIAL_ID_LEN + 2];
	int	 n;

	n = snprintf(s, sizeof(s), "%s/%s", acc->last_provider, acc->last);
	return n > 0 && (size_t)n < sizeof(s) ? b64url_encode(s, (size_t)n) :
	    NULL;
}

/*
 * GET /v1/integrations/credentials: every credential of the tenant, by
 * provider id (byte order), newest first within one; the cursor resumes
 * just after the last one answered, in its provider.
 */
static void
api_cred_list_all(struct ctx *c)
{
	const struct cat_provider	*p;
	struct list_all_query		 q;
	struct list_acc			 acc;
	struct apierr			 e;
	const char			*from, *after;
	enum store_rc			 rc = STORE_OK;

	if (gate_authenticate(c, NULL) == -1)
		return;
	if (catalog_load_all(c->app->cat) == -1) {	/* CGI: all of it */
		gate_unavailable(c);
		return;
	}
	if (input_parse_list_all_query(c->req->query, c->app->cat, LIST_DEFAULT,
	    LIST_MAX, &q, &e) == -1) {
		gate_reply_error(c, &e, NULL);
		return;
	}
	from = q.after_provider[0] ? q.after_provider : NULL;
	if ((p = q.provider) == NULL && (from == NULL ||
	    (p = catalog_find(c->app->cat, from)) == NULL))
		p = next_provider(c->app->cat, from);
	list_acc_init(&acc, q.limit, q.status);
	for (; p != NULL && !acc.more && !acc.full;
	    p = q.provider ? NULL : next_provider(c->app->cat, p->id)) {
		if (from != NULL && strcmp(p->id, from) < 0)
			continue;
		after = from != NULL && strcmp(p->id, from) == 0 ? q.after : NULL;
		rc = store_cred_list(c->app->st, c->id.tenant, p->id, after,
		    SIZE_MAX, list_cb, &acc);
		if (rc != STORE_OK)
			break;
	}
	list_finish(c, &acc, rc, acc.more ? list_all_cursor(&acc) : NULL);
}

static void
api_cred_get(struct ctx *c)
{
	const struct cat_provider	*p;
	struct cred_rec			 r;
	struct json_object		*o;
	enum store_rc			 rc;

	if (gate_authenticate(c, NULL) == -1 || (p = gate_provider(c)) == NULL ||
	    gate_cred_id(c) == -1)
		return;
	rc = store_cred_get(c->app->st, c->id.tenant, p->id, c->rm.cred_id, &r);
	if (rc == STORE_NOTFOUND) {
		gate_reply_fail(c, AE_NOT_FOUND, "Unknown credential", NULL);
		return;
	}
	if (rc != STORE_OK) {
		if (rc == STORE_CORRUPT)
			gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		else
			gate_unavailable(c);
		return;
	}
	o = credmeta_json(&r);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
	cred_rec_free(&r);
}

/* Sends the metadata of record (tenant, provider, id) with status. */
static void
send_meta(struct ctx *c, const char *provider, const char *id, int status)
{
	struct cred_rec		 r;
	struct json_object	*o;
	enum store_rc		 rc;

	rc = store_cred_get(c->app->st, c->id.tenant, provider, id, &r);
	if (gate_store_failed(c, rc, "Unknown credential") == -1)
		return;
	o = credmeta_json(&r);
	http_send_json(c->req, status, o, NULL);
	json_object_put(o);
	cred_rec_free(&r);
}

/* The label of a body: absent (left), null or "" (none) or a string. */
static void
label_of(const struct req_input *in, struct credsvc_label *l)
{
	l->set = in->label_state == VS_STRING || in->label_state == VS_NULL;
	l->label = in->label_state == VS_STRING && in->label_len > 0 ?
	    in->label : NULL;
}

/* Checks the body against p into cs; 1 after a 400. */
static int
body_invalid(struct ctx *c, const struct cat_provider *p,
    const struct req_input *in, struct credset *cs, struct apierr *e)
{
	if (input_validate(p, in, cs, e) == 0 && e->nd == 0)
		return 0;
	if (e->message == NULL)
		e->message = "Invalid request body";
	gate_reply_error(c, e, NULL);
	return 1;
}

/*
 * The create answer, what a replay of the idempotency key sends again:
 * its text (buf_reset frees it), as json-c wrote the tree of these five
 * members (PLAIN, NOSLASHESCAPE), without building one.  -1 when out of
 * memory.
 */
static int
created_text(const struct cred_rec *rec, struct buf *b)
{
	buf_init(b, 64 * 1024, 0);
	return buf_reserve(b, 256) == -1 ||
	    buf_adds(b, "{\"credentialId\":") == -1 ||
	    jsonx_buf_str(b, rec->id) == -1 ||
	    buf_adds(b, ",\"provider\":") == -1 ||
	    jsonx_buf_str(b, rec->provider) == -1 ||
	    buf_adds(b, ",\"label\":") == -1 ||
	    jsonx_buf_str(b, rec->label) == -1 ||
	    buf_adds(b, ",\"status\":") == -1 ||
	    jsonx_buf_str(b, rec->status) == -1 ||
	    buf_adds(b, ",\"createdAt\":") == -1 ||
	    jsonx_buf_time(b, rec->created) == -1 ||
	    buf_addc(b, '}') == -1 ? -1 : 0;
}

/* The idempotency key header, checked; -1 after a 400. */
static int
idem_key_ok(struct ctx *c, const char *idk)
{
	struct apierr		 e;
	enum input_reason	 why;

	if (idk == NULL ||
	    validate_value(VK_IDEMPOTENCY_KEY, idk, strlen(idk), &why) == 0)
		return 0;
	apierr_init(&e, AE_VALIDATION, "Invalid Idempotency-Key header");
	apierr_add(&e, "Idempotency-Key", NULL, why);
	gate_reply_error(c, &e, NULL);
	return -1;
}

/* Appends s[0..len) to b with its length first (4 bytes, big-endian). */
static int
canon_add(struct buf *b, const char *s, size_t len)
{
	unsigned char n[4];

	n[0] = (unsigned char)(len >> 24);
	n[1] = (unsigned char)(len >> 16);
	n[2] = (unsigned char)(len >> 8);
	n[3] = (unsigned char)len;
	return buf_add(b, n, sizeof(n)) == -1 || buf_add(b, s, len) == -1 ?
	    -1 : 0;
}

/*
 * The idempotency hash: a keyed MAC over the parsed request, so that
 * white space, member order and the media type of the same values never
 * make a retry a conflict.  Canonical form: the provider, the label ("-"
 * when none, else "+" and its text) and the credential fields sorted by
 * name, every string prefixed with its length.  The buffer holds the
 * values: wiped.  0 or -1.
 */
static int
request_hash(struct ctx *c, const char *provider, const char *label,
    const struct credset *cs, unsigned char out[CRYPTO_MAC_LEN])
{
	struct buf	 b;
	size_t		 idx[CREDSET_MAX], i, j, t;
	int		 rc = -1;

	for (i = 0; i < cs->n; i++)
		for (idx[i] = i, j = i; j > 0 && strcmp(cs->f[idx[j - 1]].name,
		    cs->f[idx[j]].name) > 0; j--) {
			t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	buf_init(&b, CREDSET_MAX * (CREDSET_VALUE_MAX + 512) + 4096, 1);
	if (canon_add(&b, provider, strlen(provider)) == -1 ||
	    canon_add(&b, label ? "+" : "-", 1) == -1 ||
	    (label && canon_add(&b, label, strlen(label)) == -1))
		goto out;
	for (i = 0; i < cs->n; i++)
		if (canon_add(&b, cs->f[idx[i]].name,
		    strlen(cs->f[idx[i]].name)) == -1 ||
		    canon_add(&b, cs->f[idx[i]].value, cs->f[idx[i]].len) == -1)
			goto out;
	rc = crypto_mac(c->app->kr, "idempotency-v2", b.data, b.len, out);
out:
	buf_reset(&b);
	return rc;
}

/* Answers a service result of an idempotent create: replay or failure. */
static void
create_failed(struct ctx *c, enum credsvc_rc rc, const struct credsvc_new *n)
{
	if (rc == CSVC_REPLAY)
		gate_replay(c, &n->prior);
	else
		(void)gate_svc_failed(c, rc);
}

/* Commits the prepared record and answers 201 (or the page's redirect). */
static void
create_commit(struct ctx *c, const struct credsvc *svc,
    const struct credsvc_actor *who, struct credsvc_new *n, const char *idk,
    const unsigned char hash[CRYPTO_MAC_LEN])
{
	struct buf		 body;
	struct idem_rec		 idem;
	enum credsvc_rc		 rc;
	char			 location[256], extra[400 + MOUNT_MAX], check[80];

	if (created_text(&n->rec, &body) == -1) {
		buf_reset(&body);
		gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
		return;
	}
	snprintf(location, sizeof(location),
	    "/v1/integrations/%s/credentials/%s", n->rec.provider, n->rec.id);
	/* the check's outcome in a header: the body keeps its five members */
	if (credmeta_check_header(&n->rec, check, sizeof(check)) == -1)
		check[0] = '\0';
	memset(&idem, 0, sizeof(idem));
	if (idk != NULL) {
		idem.check = check[0] != '\0' ? check : NULL;
		memcpy(idem.hash, hash, CRYPTO_MAC_LEN);
		idem.status = 201;
		idem.body = body.data;
		idem.location = location;
		idem.created = n->rec.created;
	}
	rc = credsvc_create_commit(svc, who, n, idk, idk ? &idem : NULL);
	if (rc != CSVC_OK)
		create_failed(c, rc, n);
	/* after a form post: see the result; reload does not re-post */
	else if (!gate_reply_browser(c, "/admin/integrations/%s/credentials/%s",
	    n->rec.provider, n->rec.id)) {
		/* the record keeps the path below the mount, the answer both */
		snprintf(extra, sizeof(extra), "Location: %s%s\r\n%s%s%s",
		    c->req->mount, location,
		    check[0] != '\0' ? "Credential-Check: " : "",
		    check, check[0] != '\0' ? "\r\n" : "");
		http_send(c->req, 201, "application/json", extra, body.data,
		    body.len);
	}
	buf_reset(&body);
}

/*
 * POST /v1/integrations/{provider}/credentials: the reason credstore
 * exists.  Gates in the order of SPEC section 1, then the service.
 */
static void
api_cred_create(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct credset			 cs;
	struct apierr			 e;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct credsvc_new		 n;
	enum media			 m;
	enum credsvc_rc			 rc;
	const char			*idk = c->req->idem_key, *label;
	unsigned char			 hash[CRYPTO_MAC_LEN];

	input_init(&in);
	credset_init(&cs);
	credsvc_new_init(&n);
	memset(hash, 0, sizeof(hash));
	if ((p = gate_begin_change(c, CH_BODY | CH_API_KEY, &in, &m, &e)) == NULL)
		goto out;
	c->form_provider = p;
	c->form_input = &in;
	if (idem_key_ok(c, idk) == -1 || body_invalid(c, p, &in, &cs, &e))
		goto out;
	gate_svc(c, &svc, &who);
	label = in.label_state == VS_STRING && in.label_len > 0 ? in.label : NULL;
	if (idk != NULL) {
		if (request_hash(c, p->id, label, &cs, hash) == -1) {
			gate_reply_fail(c, AE_INTERNAL, NULL, NULL);
			goto out;
		}
		if ((rc = credsvc_idem_check(&svc, &who, idk, hash,
		    &n)) != CSVC_OK) {
			create_failed(c, rc, &n);
			goto out;
		}
	}
	rc = credsvc_create_prepare(&svc, &who, p, &cs, label, &n);
	if (gate_svc_failed(c, rc) == 0)
		create_commit(c, &svc, &who, &n, idk, hash);
out:
	credsvc_new_free(&n);
	credset_free(&cs);
	input_free(&in);
}

/*
 * A check that found the values rejected: the 422 of section 1, which
 * keeps the error shape, says the check's outcome in the same header as
 * a store's 201 (SPEC section 2).  0, or -1 when rc was something else.
 */
static int
reply_rejected(struct ctx *c, enum credsvc_rc rc, const struct probe_result *pr)
{
	char extra[96];

	if (rc != CSVC_REJECTED)
		return -1;
	snprintf(extra, sizeof(extra), "Credential-Check: result=rejected%s%s\r\n",
	    pr->reason[0] != '\0' ? "; reason=" : "", pr->reason);
	gate_reply_fail(c, AE_CREDENTIAL_REJECTED, NULL, extra);
	return 0;
}

/*
 * PUT .../credentials/{id}: new values, checked like a store; a 422
 * leaves the old ones.  Same id, new data key, updatedAt moves.
 */
static void
api_cred_put(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct credset			 cs;
	struct apierr			 e;
	struct probe_result		 pr;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct credsvc_label		 label;
	enum media			 m;
	enum credsvc_rc			 rc;

	input_init(&in);
	credset_init(&cs);
	if ((p = gate_begin_change(c, CH_BODY | CH_API_KEY, &in, &m, &e)) == NULL ||
	    gate_cred_id(c) == -1 || body_invalid(c, p, &in, &cs, &e))
		goto out;
	gate_svc(c, &svc, &who);
	label_of(&in, &label);
	rc = credsvc_replace(&svc, &who, p, c->rm.cred_id, &cs, &label, &pr);
	if (reply_rejected(c, rc, &pr) == -1 && gate_svc_failed(c, rc) == 0)
		send_meta(c, p->id, c->rm.cred_id, 200);
out:
	credset_free(&cs);
	input_free(&in);
}

/* PATCH .../credentials/{id} with {"label": ...}: the label alone. */
static void
api_cred_patch(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct credsvc_label		 label;
	enum media			 m;

	input_init(&in);
	if ((p = gate_begin_change(c, CH_BODY, &in, &m, &e)) == NULL ||
	    gate_cred_id(c) == -1)
		goto out;
	if (input_check_label_patch(&in, &e) == -1) {
		if (e.message == NULL)
			e.message = "Only the label can be patched";
		gate_reply_error(c, &e, NULL);
		goto out;
	}
	gate_svc(c, &svc, &who);
	label_of(&in, &label);
	if (gate_svc_failed(c, credsvc_relabel(&svc, &who, p->id, c->rm.cred_id,
	    &label)) == 0)
		send_meta(c, p->id, c->rm.cred_id, 200);
out:
	input_free(&in);
}

/* DELETE .../credentials/{id}: the record and its wrapped key go. */
static void
api_cred_delete(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	enum media			 m;

	input_init(&in);
	if ((p = gate_begin_change(c, 0, &in, &m, &e)) == NULL ||
	    gate_cred_id(c) == -1)
		goto out;
	gate_svc(c, &svc, &who);
	if (gate_svc_failed(c, credsvc_delete(&svc, &who, p->id,
	    c->rm.cred_id)) == -1)
		goto out;
	log_info("deleted credential %s provider=%s tenant=%s", c->rm.cred_id,
	    p->id, c->id.tenant);
	if (!gate_reply_browser(c, "/admin/?deleted=1"))
		http_send(c->req, 204, NULL, NULL, NULL, 0);
out:
	input_free(&in);
}

/*
 * POST .../credentials/{id}/validate: tests the stored values again;
 * status and lastValidatedAt move; 422 when now rejected (the record
 * stays, status "rejected").
 */
static void
api_cred_validate(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct probe_result		 pr;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	enum media			 m;
	enum credsvc_rc			 rc;

	input_init(&in);
	if ((p = gate_begin_change(c, 0, &in, &m, &e)) == NULL ||
	    gate_cred_id(c) == -1)
		goto out;
	gate_svc(c, &svc, &who);
	rc = credsvc_retest(&svc, &who, p, c->rm.cred_id, &pr);
	/* the page shows a rejection; an API client gets 422 */
	if ((rc == CSVC_OK || rc == CSVC_REJECTED) && gate_reply_browser(c,
	    "/admin/integrations/%s/credentials/%s?retested=1", p->id,
	    c->rm.cred_id))
		goto out;
	if (reply_rejected(c, rc, &pr) == -1 && gate_svc_failed(c, rc) == 0)
		send_meta(c, p->id, c->rm.cred_id, 200);
out:
	input_free(&in);
}

static struct json_object *
conn_json(const char *provider, const struct conn_rec *cr)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "provider", json_object_new_string(provider));
	json_object_object_add(o, "credentialId",
	    json_object_new_string(cr->cred_id));
	json_object_object_add(o, "status", json_object_new_string(cr->status));
	jsonx_add_time(o, "connectedAt", cr->connected);
	return o;
}

/* GET /v1/integrations/{provider}/connect */
static void
api_conn_get(struct ctx *c)
{
	const struct cat_provider	*p;
	struct conn_rec			 cr;
	struct json_object		*o;

	if (gate_authenticate(c, NULL) == -1 || (p = gate_provider(c)) == NULL ||
	    gate_store_failed(c, store_conn_get(c->app->st, c->id.tenant, p->id,
	    &cr), "Not connected") == -1)
		return;
	o = conn_json(p->id, &cr);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
}

/* DELETE /v1/integrations/{provider}/connect */
static void
api_conn_delete(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct audit_ev			 ev;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	enum media			 m;

	input_init(&in);
	if ((p = gate_begin_change(c, 0, &in, &m, &e)) == NULL)
		goto out;
	gate_svc(c, &svc, &who);
	credsvc_audit_init(&who, &ev, "integration.disconnect", p->id, NULL);
	if (gate_store_failed(c, store_conn_delete(c->app->st, c->id.tenant,
	    p->id, &ev), "Not connected") == 0)
		http_send(c->req, 204, NULL, NULL, NULL, 0);
out:
	input_free(&in);
}

/* POST /v1/integrations/{provider}/connect {"credentialId": "..."} */
static void
api_conn_put(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct conn_rec			 cr;
	struct audit_ev			 ev;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct json_object		*o;
	enum media			 m;
	char				 id[CREDENTIAL_ID_LEN + 1];

	input_init(&in);
	if ((p = gate_begin_change(c, 0, &in, &m, &e)) == NULL)
		goto out;
	if (m != MEDIA_JSON) {
		gate_reply_fail(c, AE_MEDIA_TYPE, "Use application/json", NULL);
		goto out;
	}
	if (gate_read_body(c) == -1)
		goto out;
	if (input_parse_connect(c->req->body.data, c->req->body.len, id, &e)) {
		gate_reply_error(c, &e, NULL);
		goto out;
	}
	gate_svc(c, &svc, &who);
	credsvc_audit_init(&who, &ev, "integration.connect", p->id, id);
	if (gate_store_failed(c, store_conn_put(c->app->st, c->id.tenant, p->id,
	    id, &ev, &cr), "Unknown credential") == -1)
		goto out;
	o = conn_json(p->id, &cr);
	http_send_json(c->req, 200, o, NULL);
	json_object_put(o);
out:
	input_free(&in);
}

/*
 * POST on one credential: HTML forms cannot send DELETE, so a form body
 * with _method=DELETE stands for it.  Anything else is 405.
 */
static void
api_cred_form_post(struct ctx *c)
{
	struct req_input	 in;
	struct apierr		 e;
	char			 allow[128], extra[160];

	if (gate_media(c->req) != MEDIA_FORM) {
		router_allow_header(c->rm.allowed, allow, sizeof(allow));
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		gate_reply_fail(c, AE_METHOD,
		    "POST here is for HTML forms with _method=DELETE", extra);
		return;
	}
	input_init(&in);
	apierr_init(&e, AE_VALIDATION, NULL);
	if (gate_read_body(c) == -1)
		goto out;
	if (input_parse_form(c->req->body.data, c->req->body.len, &in,
	    &e) == -1 || in.method == NULL || strcmp(in.method, "DELETE") != 0) {
		if (e.nd == 0)
			apierr_add(&e, "_method", NULL, in.method == NULL ?
			    IR_REQUIRED : IR_NOT_ALLOWED);
		if (e.message == NULL)
			e.message = "A form post here needs _method=DELETE";
		gate_reply_error(c, &e, NULL);
		goto out;
	}
	c->form = &in;
	api_cred_delete(c);
	c->form = NULL;
out:
	input_free(&in);
}

/*
 * The API's routes, in match order (literal segments before parameters):
 * adding a route is a row here and its handler.
 */
static const struct route_def rows[] = {
	{ "healthz", { "healthz" }, { ROUTE_GET(api_healthz) },
	    ROUTE_ANY_STATE },
	{ "openapi", { "v1", "openapi.json" }, { ROUTE_GET(api_openapi) },
	    ROUTE_ANY_STATE },
	{ "catalog", { "v1", "integrations", "catalog" },
	    { ROUTE_GET(api_catalog) }, 0 },
	{ "credentials_all", { "v1", "integrations", "credentials" },
	    { ROUTE_GET(api_cred_list_all) }, 0 },
	{ "catalog_one", { "v1", "integrations", "catalog", "{p}" },
	    { ROUTE_GET(api_catalog_one) }, 0 },
	{ "credentials", { "v1", "integrations", "{p}", "credentials" },
	    { ROUTE_GET(api_cred_list), ROUTE_POST(api_cred_create) }, 0 },
	{ "credential", { "v1", "integrations", "{p}", "credentials", "{c}" },
	    { ROUTE_GET(api_cred_get), ROUTE_POST(api_cred_form_post),
	    ROUTE_PUT(api_cred_put), ROUTE_PATCH(api_cred_patch),
	    ROUTE_DELETE(api_cred_delete) }, 0 },
	{ "cred_validate", { "v1", "integrations", "{p}", "credentials", "{c}",
	    "validate" }, { ROUTE_POST(api_cred_validate) }, 0 },
	{ "connect", { "v1", "integrations", "{p}", "connect" },
	    { ROUTE_GET(api_conn_get), ROUTE_POST(api_conn_put),
	    ROUTE_DELETE(api_conn_delete) }, 0 },
	/* {*}: the rest of the path, raw (SPEC section 10) */
	{ "proxy", { "v1", "integrations", "{p}", "proxy", "{*}" },
	    { ROUTE_GET(apiproxy_handle), ROUTE_POST(apiproxy_handle),
	    ROUTE_PUT(apiproxy_handle), ROUTE_PATCH(apiproxy_handle),
	    ROUTE_DELETE(apiproxy_handle) }, 0 },
};

const struct route_table api_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
