/*
 * credsvc: sealing, opening and re-wrapping credential values, and the
 * flows that change a stored credential (credsvc.h).  The store calls
 * apply_change inside its transaction; everything else runs outside one.
 */
#include "cs_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credsvc.h"
#include "log.h"
#include "util.h"

char *
credsvc_record_ad(const char *tenant, const char *provider, const char *id,
    size_t *len)
{
	static const char	 pfx[] = "credstore-record-v1";
	size_t			 lt = strlen(tenant) + 1, lp = strlen(provider) + 1;
	size_t			 li = strlen(id), n = sizeof(pfx) + lt + lp + li;
	char			*ad;

	/* "credstore-record-v1" \0 tenant \0 provider \0 id */
	if ((ad = malloc(n)) == NULL)
		return NULL;
	memcpy(ad, pfx, sizeof(pfx));
	memcpy(ad + sizeof(pfx), tenant, lt);
	memcpy(ad + sizeof(pfx) + lt, provider, lp);
	memcpy(ad + sizeof(pfx) + lt + lp, id, li);
	*len = n;
	return ad;
}

int
credsvc_seal(const struct keyring *kr, const char *tenant,
    const char *provider, const char *id, const struct credset *cs,
    struct sealed *s)
{
	unsigned char	*pt;
	char		*ad;
	size_t		 ptlen = 0, adlen;
	int		 rc = -1;

	if ((pt = credset_serialize(cs, &ptlen)) == NULL)
		return -1;
	if ((ad = credsvc_record_ad(tenant, provider, id, &adlen)) != NULL)
		rc = envelope_seal(kr, ad, adlen, pt, ptlen, s);
	secure_free(pt, ptlen);
	free(ad);
	if (rc == -1)
		log_error("crypto: cannot seal credential %s", id);
	return rc;
}

/*
 * The keyring file as it is now, for a request whose loaded keyring is
 * behind a rotation; NULL (logged) when it does not load.
 */
static struct keyring *
keyring_now(const char *path)
{
	struct keyring	*kr;
	char		 err[512];

	if (keyring_load(path, &kr, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return NULL;
	}
	return kr;
}

int
credsvc_open(const struct keyring *kr, const char *keyring_path,
    const struct cred_rec *r, struct credset *cs)
{
	struct keyring	*now = NULL;
	unsigned char	*pt = NULL;
	char		*ad;
	size_t		 ptlen = 0, adlen;
	int		 rc = -1;

	credset_init(cs);
	if (keyring_find(kr, r->sealed.key_id) == NULL && keyring_path != NULL) {
		if ((now = keyring_now(keyring_path)) == NULL)
			return -1;
		log_info("key %s is not loaded yet: credential %s opens with "
		    "the keyring file", r->sealed.key_id, r->id);
		kr = now;
	}
	if ((ad = credsvc_record_ad(r->tenant, r->provider, r->id,
	    &adlen)) != NULL &&
	    envelope_open(kr, ad, adlen, &r->sealed, &pt, &ptlen) == 0)
		rc = credset_deserialize(pt, ptlen, cs);
	secure_free(pt, ptlen);
	free(ad);
	keyring_free(now);
	return rc;
}

int
credsvc_rewrap(const struct keyring *kr, struct cred_rec *r)
{
	char	*ad;
	size_t	 adlen;
	int	 rc;

	if (strcmp(r->sealed.key_id, keyring_active(kr)->id) == 0)
		return 0;
	if ((ad = credsvc_record_ad(r->tenant, r->provider, r->id,
	    &adlen)) == NULL)
		return -1;
	rc = envelope_rewrap(kr, ad, adlen, &r->sealed);
	free(ad);
	return rc == -1 ? -1 : 1;
}

const char *
credsvc_status_name(enum probe_verdict v)
{
	return v == PROBE_VALID ? "validated" :
	    v == PROBE_REJECTED ? "rejected" : "unverified";
}

const char *
credsvc_check_result(enum probe_verdict v)
{
	return v == PROBE_VALID ? "validated" :
	    v == PROBE_REJECTED ? "rejected" : "unreachable";
}

void
credsvc_check_text(const struct probe_result *pr, char *out, size_t n)
{
	if (pr->verdict == PROBE_VALID)
		snprintf(out, n, "validated");
	else
		snprintf(out, n, "%s:%s", credsvc_check_result(pr->verdict),
		    pr->reason[0] != '\0' ? pr->reason : "unknown");
}

enum credsvc_rc
credsvc_probe(const struct credsvc *svc, const char *tenant,
    const struct cat_provider *p, const struct credset *cs,
    struct probe_result *pr)
{
	struct tenantlimit_lease l;

	if (tenantlimit_check_begin(svc->lim, tenant, tenantlimit_now(),
	    &l) == -1) {
		log_info("tenant %s: most checks in flight; %s not checked",
		    tenant, p->id);
		return CSVC_LIMITED;
	}
	probe_check(p, cs, &svc->po, pr);
	tenantlimit_check_end(&l);
	log_debug("probe: provider=%s verdict=%s status=%ld (%s)", p->id,
	    probe_verdict_name(pr->verdict), pr->http_status, pr->why);
	return CSVC_OK;
}

/*
 * At info, why a check left credential id unverified: the reason code of
 * SPEC section 2 and the transport's words, never a value.
 */
static void
log_unverified(const char *what, const char *tenant, const char *provider,
    const char *id, const struct probe_result *pr)
{
	if (pr->verdict != PROBE_UNVERIFIED)
		return;
	log_info("%s credential %s provider=%s tenant=%s: unverified "
	    "reason=%s (%s)", what, id, provider, tenant, pr->reason, pr->why);
}

enum credsvc_rc
credsvc_rc_of(enum store_rc rc)
{
	switch (rc) {
	case STORE_OK:
		return CSVC_OK;
	case STORE_NOTFOUND:
		return CSVC_NOTFOUND;
	case STORE_IN_USE:
		return CSVC_IN_USE;
	case STORE_CORRUPT:
		return CSVC_CORRUPT;
	case STORE_CONFLICT:
		return CSVC_CONFLICT;
	case STORE_LIMIT:
		return CSVC_LIMIT;
	case STORE_ERROR:
		return CSVC_INTERNAL;
	default:
		return CSVC_UNAVAILABLE;
	}
}

void
credsvc_audit_init(const struct credsvc_actor *who, struct audit_ev *ev,
    const char *action, const char *provider, const char *id)
{
	memset(ev, 0, sizeof(*ev));
	ev->time = time(NULL);
	ev->tenant = who->tenant;
	ev->subject = who->subject;
	ev->action = action;
	ev->provider = provider;
	ev->cred_id = id;
	ev->outcome = "ok";
	ev->client = who->client;
}

void
credsvc_new_init(struct credsvc_new *n)
{
	memset(n, 0, sizeof(*n));
}

void
credsvc_new_free(struct credsvc_new *n)
{
	sealed_free(&n->rec.sealed);
	idem_rec_free(&n->prior);
}

/* The same request (hash) gets its answer again; another one a conflict. */
static enum credsvc_rc
idem_verdict(const struct idem_rec *prior,
    const unsigned char hash[CRYPTO_MAC_LEN])
{
	return ct_equal(prior->hash, hash, CRYPTO_MAC_LEN) ? CSVC_REPLAY :
	    CSVC_IDEM_CONFLICT;
}

enum credsvc_rc
credsvc_idem_check(const struct credsvc *svc, const struct credsvc_actor *who,
    const char *idem_key, const unsigned char hash[CRYPTO_MAC_LEN],
    struct credsvc_new *n)
{
	enum store_rc rc;

	rc = store_idem_get(svc->st, who->tenant, idem_key, &n->prior);
	if (rc == STORE_OK)
		return idem_verdict(&n->prior, hash);
	return rc == STORE_NOTFOUND ? CSVC_OK : CSVC_UNAVAILABLE;
}

enum credsvc_rc
credsvc_create_prepare(const struct credsvc *svc,
    const struct credsvc_actor *who, const struct cat_provider *p,
    const struct credset *cs, const char *label, struct credsvc_new *n)
{
	struct cred_rec	*rec = &n->rec;
	enum credsvc_rc	 rc;
	size_t		 i;

	if ((rc = credsvc_probe(svc, who->tenant, p, cs, &n->pr)) != CSVC_OK)
		return rc;
	if (n->pr.verdict == PROBE_REJECTED)
		return CSVC_REJECTED;
	if (crypto_credential_id(rec->id) == -1)
		return CSVC_INTERNAL;
	/* borrowed strings: the record is only read until the commit */
	rec->tenant = (char *)(uintptr_t)who->tenant;
	rec->provider = p->id;
	rec->label = (char *)(uintptr_t)label;
	rec->created_by = (char *)(uintptr_t)who->subject;
	snprintf(rec->status, sizeof(rec->status), "%s",
	    credsvc_status_name(n->pr.verdict));
	for (i = 0; i < cs->n; i++)
		rec->fields[rec->nfields++] = cs->f[i].name;
	rec->created = rec->updated = time(NULL);
	rec->validated = n->pr.verdict == PROBE_VALID ? rec->created : 0;
	credsvc_check_text(&n->pr, rec->check, sizeof(rec->check));
	if (credsvc_seal(svc->kr, who->tenant, p->id, rec->id, cs,
	    &rec->sealed) == -1)
		return CSVC_INTERNAL;
	return CSVC_OK;
}

/*
 * The key s was sealed with was retired while the request ran (a rotation
 * and a retire-key since the keyring was loaded): its data key is wrapped
 * again with the active key of the keyring file as it is now.  0 or -1.
 */
static int
reseal_current(const struct credsvc *svc, const char *tenant,
    const char *provider, const char *id, struct sealed *s)
{
	struct keyring	*now;
	char		*ad;
	size_t		 adlen;
	int		 rc = -1;

	log_info("key %s was retired during the request; sealing %s again",
	    s->key_id, id);
	if (svc->keyring_path == NULL ||
	    (now = keyring_now(svc->keyring_path)) == NULL)
		return -1;
	if ((ad = credsvc_record_ad(tenant, provider, id, &adlen)) != NULL) {
		rc = envelope_rewrap_to(svc->kr, now, ad, adlen, s);
		free(ad);
	}
	keyring_free(now);
	return rc;
}

enum credsvc_rc
credsvc_create_commit(const struct credsvc *svc,
    const struct credsvc_actor *who, struct credsvc_new *n,
    const char *idem_key, const struct idem_rec *idem)
{
	struct audit_ev	ev;
	enum store_rc	rc;

	credsvc_audit_init(who, &ev, "credential.create", n->rec.provider, n->rec.id);
	ev.time = n->rec.created;
	ev.outcome = n->rec.status;
	idem_rec_free(&n->prior);
	rc = store_cred_create(svc->st, &n->rec, idem_key, idem, &ev,
	    &n->prior);
	if (rc == STORE_KEY_RETIRED && reseal_current(svc, n->rec.tenant,
	    n->rec.provider, n->rec.id, &n->rec.sealed) == 0) {
		idem_rec_free(&n->prior);
		rc = store_cred_create(svc->st, &n->rec, idem_key, idem, &ev,
		    &n->prior);
	}
	if (rc == STORE_EXISTS)
		/* a concurrent retry with the same key won the race */
		return idem_verdict(&n->prior, idem->hash);
	if (rc == STORE_LIMIT)
		return CSVC_LIMIT;
	if (rc != STORE_OK)
		return CSVC_UNAVAILABLE;
	log_info("stored credential %s provider=%s tenant=%s status=%s "
	    "check=%ld", n->rec.id, n->rec.provider, n->rec.tenant,
	    n->rec.status, n->pr.http_status);
	log_unverified("stored", n->rec.tenant, n->rec.provider, n->rec.id,
	    &n->pr);
	return CSVC_OK;
}

/* What a read-modify-write of one credential changes. */
struct change {
	const struct credsvc	*svc;
	struct sealed		*sealed;	/* new values, or NULL */
	const struct credset	*cs;		/* their field names */
	const char		*status;	/* or NULL */
	const char		*check;		/* the check's outcome, or NULL */
	struct credsvc_label	 label;
	int			 validated;	/* set lastValidatedAt */
	int			 delete;
	uint64_t		 ver;		/* the version tested; 0: any */
	time_t			 now;
};

static void *
change_alloc(const struct change *ch, size_t n)
{
	return ch->svc->alloc != NULL ? ch->svc->alloc(n) : malloc(n);
}

static char *
change_strdup(const struct change *ch, const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*d;

	if ((d = change_alloc(ch, n)) != NULL)
		memcpy(d, s, n);
	return d;
}

/* New values and their field names into r; -1 when out of memory. */
static int
change_values(const struct change *ch, struct cred_rec *r)
{
	size_t i;

	sealed_free(&r->sealed);
	r->sealed = *ch->sealed;
	if ((r->sealed.ct = change_alloc(ch, ch->sealed->ctlen)) == NULL)
		return -1;
	memcpy(r->sealed.ct, ch->sealed->ct, ch->sealed->ctlen);
	for (i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	r->nfields = 0;
	for (i = 0; i < ch->cs->n; i++) {
		if ((r->fields[i] = change_strdup(ch, ch->cs->f[i].name)) == NULL)
			return -1;
		r->nfields++;
	}
	return 0;
}

/*
 * The store's callback: applies ch to r.  An allocation that fails is
 * STORE_OP_ERROR, so that nothing is written and the caller learns it.
 */
static enum store_op
apply_change(struct cred_rec *r, void *arg)
{
	const struct change *ch = arg;

	if (ch->ver != 0 && r->ver != ch->ver)
		return STORE_OP_CONFLICT;
	if (ch->delete)
		return STORE_OP_DELETE;
	if (ch->sealed != NULL && change_values(ch, r) == -1)
		return STORE_OP_ERROR;
	if (ch->status != NULL)
		snprintf(r->status, sizeof(r->status), "%s", ch->status);
	if (ch->check != NULL)
		snprintf(r->check, sizeof(r->check), "%s", ch->check);
	if (ch->validated)
		r->validated = ch->now;
	if (ch->label.set) {
		free(r->label);
		r->label = NULL;
		if (ch->label.label != NULL &&
		    (r->label = change_strdup(ch, ch->label.label)) == NULL)
			return STORE_OP_ERROR;
	}
	if (ch->sealed != NULL || ch->label.set)
		r->updated = ch->now;
	return STORE_OP_WRITE;
}

static enum credsvc_rc
modify(const struct credsvc *svc, const struct credsvc_actor *who,
    const char *provider, const char *id, struct change *ch,
    struct audit_ev *ev)
{
	enum store_rc	 src;

	ch->svc = svc;
	src = store_cred_modify(svc->st, who->tenant, provider, id,
	    apply_change, ch, ev);
	/* new values sealed with a key retired meanwhile: seal again, once */
	if (src == STORE_KEY_RETIRED && ch->sealed != NULL &&
	    reseal_current(svc, who->tenant, provider, id, ch->sealed) == 0)
		src = store_cred_modify(svc->st, who->tenant, provider, id,
		    apply_change, ch, ev);
	return credsvc_rc_of(src);
}

enum credsvc_rc
credsvc_replace(const struct credsvc *svc, const struct credsvc_actor *who,
    const struct cat_provider *p, const char *id, const struct credset *cs,
    const struct credsvc_label *label, struct probe_result *pr)
{
	struct sealed	 sealed;
	struct cred_rec	 cur;
	struct change	 ch;
	struct audit_ev	 ev;
	enum store_rc	 src;
	enum credsvc_rc	 rc;
	char		 check[STORE_CHECK_MAX];

	/* not found before the provider is asked anything */
	src = store_cred_get(svc->st, who->tenant, p->id, id, &cur);
	if (src != STORE_OK)
		return credsvc_rc_of(src);
	cred_rec_free(&cur);
	if ((rc = credsvc_probe(svc, who->tenant, p, cs, pr)) != CSVC_OK)
		return rc;
	log_unverified("replacing", who->tenant, p->id, id, pr);
	if (pr->verdict == PROBE_REJECTED)
		return CSVC_REJECTED;
	memset(&sealed, 0, sizeof(sealed));
	if (credsvc_seal(svc->kr, who->tenant, p->id, id, cs, &sealed) == -1)
		return CSVC_INTERNAL;
	memset(&ch, 0, sizeof(ch));
	ch.sealed = &sealed;
	ch.cs = cs;
	ch.status = credsvc_status_name(pr->verdict);
	credsvc_check_text(pr, check, sizeof(check));
	ch.check = check;
	ch.validated = pr->verdict == PROBE_VALID;
	ch.now = time(NULL);
	ch.label = *label;
	credsvc_audit_init(who, &ev, "credential.update", p->id, id);
	ev.outcome = ch.status;
	rc = modify(svc, who, p->id, id, &ch, &ev);
	sealed_free(&sealed);
	return rc;
}

enum credsvc_rc
credsvc_retest(const struct credsvc *svc, const struct credsvc_actor *who,
    const struct cat_provider *p, const char *id, struct probe_result *pr)
{
	struct credset	 cs;
	struct cred_rec	 r;
	struct change	 ch;
	struct audit_ev	 ev;
	enum store_rc	 src;
	enum credsvc_rc	 rc;
	uint64_t	 ver;
	int		 opened;
	char		 check[STORE_CHECK_MAX];

	src = store_cred_get(svc->st, who->tenant, p->id, id, &r);
	if (src != STORE_OK)
		return credsvc_rc_of(src);
	if ((opened = credsvc_open(svc->kr, svc->keyring_path, &r,
	    &cs)) == -1)
		log_error("crypto: credential %s does not decrypt (key %s)",
		    r.id, r.sealed.key_id);
	ver = r.ver;
	cred_rec_free(&r);
	if (opened == -1)
		return CSVC_INTERNAL;
	rc = credsvc_probe(svc, who->tenant, p, &cs, pr);
	credset_free(&cs);
	if (rc != CSVC_OK)
		return rc;
	log_unverified("re-testing", who->tenant, p->id, id, pr);
	memset(&ch, 0, sizeof(ch));
	/* the verdict is about version ver: a change meanwhile is a conflict */
	ch.ver = ver;
	ch.status = credsvc_status_name(pr->verdict);
	credsvc_check_text(pr, check, sizeof(check));
	ch.check = check;
	ch.validated = pr->verdict != PROBE_UNVERIFIED;
	ch.now = time(NULL);
	credsvc_audit_init(who, &ev, "credential.validate", p->id, id);
	ev.outcome = ch.status;
	rc = modify(svc, who, p->id, id, &ch, &ev);
	if (rc == CSVC_OK && pr->verdict == PROBE_REJECTED)
		return CSVC_REJECTED;
	return rc;
}

enum credsvc_rc
credsvc_relabel(const struct credsvc *svc, const struct credsvc_actor *who,
    const char *provider, const char *id, const struct credsvc_label *label)
{
	struct change	ch;
	struct audit_ev	ev;

	memset(&ch, 0, sizeof(ch));
	ch.now = time(NULL);
	ch.label = *label;
	credsvc_audit_init(who, &ev, "credential.label", provider, id);
	return modify(svc, who, provider, id, &ch, &ev);
}

enum credsvc_rc
credsvc_delete(const struct credsvc *svc, const struct credsvc_actor *who,
    const char *provider, const char *id)
{
	struct change	ch;
	struct audit_ev	ev;

	memset(&ch, 0, sizeof(ch));
	ch.delete = 1;
	credsvc_audit_init(who, &ev, "credential.delete", provider, id);
	return modify(svc, who, provider, id, &ch, &ev);
}
