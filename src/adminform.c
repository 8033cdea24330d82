/*
 * adminform: a credential's page and its forms (adminform.h).  The posts
 * pass the same gates as the API's changes (gate_begin_change: session
 * cookie and its CSRF token, same origin, admin role) and call the same
 * credential service; only the answers differ: 303 to a page, or the
 * page again with the messages.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "adminform.h"
#include "catalog.h"
#include "credset.h"
#include "credsvc.h"
#include "gate.h"
#include "jsonx.h"
#include "log.h"
#include "pages.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#define MSG_FIELDS	"Please correct the fields marked below. Secret fields " \
			"are not kept: enter them again."
#define MSG_IN_USE	"The credential is used by a connection; disconnect first."

/* The fixed notices of ?done=CODE. */
static const struct {
	const char	*code;
	const char	*message;
} flashes[] = {
	{ "deleted", "The credential was deleted." },
	{ "renamed", "The label was saved." },
	{ "replaced", "The new values were checked and saved." },
	{ "connected", "The integration is connected with this credential." },
	{ "disconnected", "The integration is disconnected." },
	{ "retested", NULL },	/* "Tested again: STATUS." */
};

int
adminform_query(const char *q, const char *name, char *out, size_t outlen)
{
	const char	*p, *end;
	size_t		 nlen = strlen(name), o;
	int		 h, l;

	for (p = q; p != NULL && *p != '\0'; p = *end ? end + 1 : NULL) {
		end = p + strcspn(p, "&");
		if ((size_t)(end - p) <= nlen || strncmp(p, name, nlen) != 0 ||
		    p[nlen] != '=')
			continue;
		for (p += nlen + 1, o = 0; p < end; p++) {
			if (o + 1 >= outlen)
				return -1;
			if (*p == '+')
				out[o++] = ' ';
			else if (*p != '%')
				out[o++] = *p;
			else if (end - p < 3 || (h = hex_digit(p[1])) < 0 ||
			    (l = hex_digit(p[2])) < 0 || (h == 0 && l == 0))
				return -1;
			else {
				out[o++] = (char)(h << 4 | l);
				p += 2;
			}
		}
		out[o] = '\0';
		return 1;
	}
	if (outlen > 0)
		out[0] = '\0';
	return 0;
}

const char *
adminform_flash(const char *q, const char *status, char *buf, size_t len)
{
	char	code[32];
	size_t	i;

	if (adminform_query(q, "done", code, sizeof(code)) != 1) {
		/* the API's own form posts (create, _method=DELETE) */
		if (q != NULL && strcmp(q, "retested=1") == 0)
			snprintf(code, sizeof(code), "retested");
		else if (q != NULL && strcmp(q, "deleted=1") == 0)
			snprintf(code, sizeof(code), "deleted");
		else
			return NULL;
	}
	for (i = 0; i < sizeof(flashes) / sizeof(flashes[0]); i++) {
		if (strcmp(code, flashes[i].code) != 0)
			continue;
		if (flashes[i].message != NULL)
			return flashes[i].message;
		if (status == NULL)
			return NULL;
		snprintf(buf, len, "Tested again: %s.", status);
		return buf;
	}
	return NULL;
}

/* 303 See Other to the credential's page (id) or the index (NULL). */
static void
see_other(struct ctx *c, const struct cat_provider *p, const char *id,
    const char *done)
{
	char loc[512];

	if (id != NULL)
		snprintf(loc, sizeof(loc),
		    "/admin/integrations/%s/credentials/%s?done=%s",
		    p->id, id, done);
	else
		snprintf(loc, sizeof(loc), "/admin/?done=%s", done);
	/* page_redirect puts the mount point in front */
	page_redirect(c->req, loc, NULL);
}

/* What a rendering of the credential's page adds to its record. */
struct cred_view {
	int			 status;
	const char		*notice;	/* a success, or NULL */
	const char		*error;		/* a failure, or NULL */
	const struct req_input	*label_in;	/* the rename form as posted */
	const struct apierr	*label_e;
	const struct req_input	*values_in;	/* the values form as posted */
	const struct apierr	*values_e;
};

/* The sentence of e's detail for field, or NULL. */
static const char *
detail_of(const struct apierr *e, const char *field)
{
	size_t i;

	for (i = 0; e != NULL && i < e->nd; i++)
		if (strcmp(e->d[i].field, field) == 0)
			return apierr_reason_message(e->d[i].reason);
	return NULL;
}

/* The provider's connection into ctx; -1 after a reply. */
static int
add_connection(struct ctx *c, const struct cat_provider *p, const char *id,
    struct json_object *ctx)
{
	struct json_object	*o;
	struct conn_rec		 cr;
	enum store_rc		 rc;

	rc = store_conn_get(c->app->st, c->id.tenant, p->id, &cr);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != STORE_OK) {
		gate_unavailable(c);
		return -1;
	}
	o = json_object_new_object();
	/* names of their own: the page's credentialId and status stay visible */
	json_object_object_add(o, "connectedId",
	    json_object_new_string(cr.cred_id));
	json_object_object_add(o, "connStatus",
	    json_object_new_string(cr.status));
	jsonx_add_time(o, "connectedAt", cr.connected);
	json_object_object_add(o, strcmp(cr.cred_id, id) == 0 ? "this" : "other",
	    json_object_new_boolean(1));
	json_object_object_add(ctx, "connection", o);
	return 0;
}

/* The rename form: the label as posted (kept after a failure) or stored. */
static void
add_rename(struct json_object *ctx, const struct cred_rec *r,
    const struct cred_view *v)
{
	struct json_object	*o = json_object_new_object();
	const struct req_input	*in = v->label_in;
	const char		*label = r->label, *err;

	if (in != NULL)
		label = in->label_state == VS_STRING ? in->label : NULL;
	json_object_object_add(o, "label",
	    label ? json_object_new_string(label) : NULL);
	if ((err = detail_of(v->label_e, "label")) != NULL)
		json_object_object_add(o, "label_error",
		    json_object_new_string(err));
	json_object_object_add(ctx, "rename", o);
}

/*
 * Renders template name for the credential of the path with v's
 * additions: the metadata, the connection, the forms.
 */
static void
cred_render(struct ctx *c, const struct cat_provider *p, const char *name,
    const struct cred_view *v)
{
	struct cred_rec		 r;
	struct json_object	*ctx;
	struct page_user	 u;
	enum store_rc		 rc;
	char			 buf[128];
	const char		*notice = v->notice;

	rc = store_cred_get(c->app->st, c->id.tenant, p->id, c->rm.cred_id, &r);
	if (gate_store_failed(c, rc, "Unknown credential") == -1)
		return;
	ctx = page_cred(p, &r);
	if (add_connection(c, p, r.id, ctx) == -1) {
		json_object_put(ctx);
		cred_rec_free(&r);
		return;
	}
	if (notice == NULL && v->error == NULL)
		notice = adminform_flash(c->req->query, r.status, buf,
		    sizeof(buf));
	if (notice != NULL)
		json_object_object_add(ctx, "message",
		    json_object_new_string(notice));
	if (v->error != NULL)
		json_object_object_add(ctx, "problem",
		    json_object_new_string(v->error));
	add_rename(ctx, &r, v);
	if (p->auth == AUTH_API_KEY)
		json_object_object_add(ctx, "values",
		    page_provider_form(p, v->values_in, v->values_e));
	cred_rec_free(&r);
	gate_page_user(c, &u);
	page_send(app_tmpl(c->app), c->req, v->status, name, p->name, &u, ctx,
	    NULL);
}

/* The credential's page again after a failed post. */
static void
cred_again(struct ctx *c, const struct cat_provider *p, int status,
    const char *error)
{
	struct cred_view v = { .status = status, .error = error };

	cred_render(c, p, "result", &v);
}

/* A service failure: the page again when it can help, else an error page. */
static void
form_failed(struct ctx *c, const struct cat_provider *p, enum credsvc_rc rc)
{
	switch (rc) {
	case CSVC_IN_USE:
		cred_again(c, p, 409, MSG_IN_USE);
		break;
	case CSVC_CONFLICT:
		cred_again(c, p, 409, "The credential changed meanwhile; "
		    "try again.");
		break;
	default:
		(void)gate_svc_failed(c, rc);
		break;
	}
}

/* The gates of a post from the credential's page; NULL after a reply. */
static const struct cat_provider *
form_begin(struct ctx *c, unsigned flags, struct req_input *in,
    struct apierr *e)
{
	const struct cat_provider	*p;
	enum media			 m;

	c->html = 1;
	if ((p = gate_begin_change(c, flags, in, &m, e)) == NULL ||
	    gate_cred_id(c) == -1)
		return NULL;
	return p;
}

/* The label of a form: absent (left), "" (none) or a string. */
static void
label_of(const struct req_input *in, struct credsvc_label *l)
{
	l->set = in->label_state == VS_STRING;
	l->label = l->set && in->label_len > 0 ? in->label : NULL;
}

/* GET of a credential's own page, rendered with template tmpl. */
static void
cred_page(struct ctx *c, const char *tmpl)
{
	const struct cat_provider	*p;
	struct cred_view		 v = { .status = 200 };

	if (gate_page_auth(c) == -1 || (p = gate_provider(c)) == NULL ||
	    gate_cred_id(c) == -1)
		return;
	cred_render(c, p, tmpl, &v);
}

void
adminform_credential(struct ctx *c)
{
	cred_page(c, "result");
}

void
adminform_delete_confirm(struct ctx *c)
{
	cred_page(c, "confirm");
}

void
adminform_delete(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	enum credsvc_rc			 rc;

	input_init(&in);
	if ((p = form_begin(c, 0, &in, &e)) == NULL)
		goto out;
	gate_svc(c, &svc, &who);
	if ((rc = credsvc_delete(&svc, &who, p->id, c->rm.cred_id)) != CSVC_OK) {
		form_failed(c, p, rc);
		goto out;
	}
	log_info("deleted credential %s provider=%s tenant=%s (admin page)",
	    c->rm.cred_id, p->id, c->id.tenant);
	see_other(c, p, NULL, "deleted");
out:
	input_free(&in);
}

void
adminform_rename(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct credsvc_label		 label;
	struct cred_view		 v = { .status = 400 };
	enum credsvc_rc			 rc;

	input_init(&in);
	if ((p = form_begin(c, CH_BODY, &in, &e)) == NULL)
		goto out;
	if (input_check_label_patch(&in, &e) == -1) {
		v.error = "Please correct the label.";
		v.label_in = &in;
		v.label_e = &e;
		cred_render(c, p, "result", &v);
		goto out;
	}
	gate_svc(c, &svc, &who);
	label_of(&in, &label);
	rc = credsvc_relabel(&svc, &who, p->id, c->rm.cred_id, &label);
	if (rc == CSVC_OK)
		see_other(c, p, c->rm.cred_id, "renamed");
	else
		form_failed(c, p, rc);
out:
	input_free(&in);
}

void
adminform_values(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct credset			 cs;
	struct apierr			 e;
	struct probe_result		 pr;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	struct credsvc_label		 label;
	struct cred_view		 v = { .status = 400 };
	enum credsvc_rc			 rc;

	input_init(&in);
	credset_init(&cs);
	if ((p = form_begin(c, CH_BODY | CH_API_KEY, &in, &e)) == NULL)
		goto out;
	v.values_in = &in;
	v.values_e = &e;
	if (input_validate(p, &in, &cs, &e) != 0 || e.nd > 0) {
		v.error = MSG_FIELDS;
		cred_render(c, p, "result", &v);
		goto out;
	}
	gate_svc(c, &svc, &who);
	label_of(&in, &label);
	rc = credsvc_replace(&svc, &who, p, c->rm.cred_id, &cs, &label, &pr);
	if (rc == CSVC_OK)
		see_other(c, p, c->rm.cred_id, "replaced");
	else if (rc == CSVC_REJECTED) {
		v.status = 422;
		v.error = "The provider rejected these values; the old values "
		    "are kept. Secret fields are not kept: enter them again.";
		cred_render(c, p, "result", &v);
	} else
		form_failed(c, p, rc);
out:
	credset_free(&cs);
	input_free(&in);
}

void
adminform_retest(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct probe_result		 pr;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	enum credsvc_rc			 rc;

	input_init(&in);
	if ((p = form_begin(c, 0, &in, &e)) == NULL)
		goto out;
	gate_svc(c, &svc, &who);
	rc = credsvc_retest(&svc, &who, p, c->rm.cred_id, &pr);
	/* a rejection is recorded (status "rejected"): the page shows it */
	if (rc == CSVC_OK || rc == CSVC_REJECTED)
		see_other(c, p, c->rm.cred_id, "retested");
	else
		form_failed(c, p, rc);
out:
	input_free(&in);
}

void
adminform_connect(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct audit_ev			 ev;
	struct conn_rec			 cr;
	struct credsvc			 svc;
	struct credsvc_actor		 who;

	input_init(&in);
	if ((p = form_begin(c, 0, &in, &e)) == NULL)
		goto out;
	gate_svc(c, &svc, &who);
	credsvc_audit_init(&who, &ev, "integration.connect", p->id,
	    c->rm.cred_id);
	if (gate_store_failed(c, store_conn_put(c->app->st, c->id.tenant, p->id,
	    c->rm.cred_id, &ev, &cr), "Unknown credential") == 0)
		see_other(c, p, c->rm.cred_id, "connected");
out:
	input_free(&in);
}

/*
 * Disconnects the provider when its connection uses this credential; a
 * connection with another credential is left (409), so a stale page
 * cannot end a connection it did not show.
 */
void
adminform_disconnect(struct ctx *c)
{
	const struct cat_provider	*p;
	struct req_input		 in;
	struct apierr			 e;
	struct audit_ev			 ev;
	struct conn_rec			 cr;
	struct credsvc			 svc;
	struct credsvc_actor		 who;
	enum store_rc			 rc;

	input_init(&in);
	if ((p = form_begin(c, 0, &in, &e)) == NULL)
		goto out;
	rc = store_conn_get(c->app->st, c->id.tenant, p->id, &cr);
	if (rc == STORE_OK && strcmp(cr.cred_id, c->rm.cred_id) != 0)
		rc = STORE_NOTFOUND;
	if (rc == STORE_NOTFOUND) {
		cred_again(c, p, 409, "The integration is not connected with "
		    "this credential.");
		goto out;
	}
	gate_svc(c, &svc, &who);
	credsvc_audit_init(&who, &ev, "integration.disconnect", p->id, NULL);
	if (rc == STORE_OK)
		rc = store_conn_delete(c->app->st, c->id.tenant, p->id, &ev);
	if (gate_store_failed(c, rc, "Not connected") == 0)
		see_other(c, p, c->rm.cred_id, "disconnected");
out:
	input_free(&in);
}
