/*
 * admin_verify: `credstore-admin verify` (admin.h).  Opens every record
 * (its MAC and its values), checks each against the audit trail (an
 * audited create, not deleted, not older than its last audited version)
 * and recomputes the audit chain, optionally up to an expected head.
 * Prints the counts; the records and the keyring stay the caller's.
 */
#include "cs_build.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "credset.h"
#include "credsvc.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"

/* The last audited change of one credential id. */
struct audited {
	char		 id[CREDENTIAL_ID_LEN + 1];
	size_t		 order;		/* of the event in the chain */
	uint64_t	 ver;		/* 0: the event carries none */
	int		 deleted, created;
};

struct verify_acc {
	struct keyring	*kr;
	size_t		 total, ok, bad;
	struct audited	*ev;		/* the chain's credential events */
	size_t		 nev, cap;
};

/* Collects one audit event of a credential (create, update, delete...). */
static int
collect_audit(const char *json, void *arg)
{
	struct verify_acc	*v = arg;
	struct json_object	*o, *x;
	struct audited		*a;
	const char		*id, *act;

	if ((o = json_tokener_parse(json)) == NULL)
		return 0;
	id = jsonx_get_str(o, "credentialId");
	act = jsonx_get_str(o, "action");
	if (id == NULL || act == NULL || strncmp(act, "credential.", 11) != 0 ||
	    strlen(id) != CREDENTIAL_ID_LEN)
		goto out;
	if (v->nev == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 256;
		if ((a = reallocarray(v->ev, v->cap, sizeof(*a))) == NULL) {
			json_object_put(o);
			return -1;
		}
		v->ev = a;
	}
	a = &v->ev[v->nev];
	memset(a, 0, sizeof(*a));
	memcpy(a->id, id, CREDENTIAL_ID_LEN + 1);
	a->order = v->nev++;
	a->deleted = strcmp(act, "credential.delete") == 0;
	a->created = strcmp(act, "credential.create") == 0;
	if ((x = jsonx_get(o, "version", json_type_int)) != NULL)
		a->ver = (uint64_t)json_object_get_int64(x);
out:
	json_object_put(o);
	return 0;
}

static int
cmp_audited(const void *a, const void *b)
{
	const struct audited	*x = a, *y = b;
	int			 c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Sorts the events by id, oldest first, and folds each id's into its
 * last event: created set when any was a create, ver the highest seen.
 */
static void
fold_audit(struct verify_acc *v)
{
	size_t i, j = 0;

	if (v->nev == 0)
		return;
	qsort(v->ev, v->nev, sizeof(*v->ev), cmp_audited);
	for (i = 1; i < v->nev; i++) {
		if (strcmp(v->ev[i].id, v->ev[j].id) != 0) {
			v->ev[++j] = v->ev[i];
			continue;
		}
		v->ev[i].created |= v->ev[j].created;
		if (v->ev[i].ver < v->ev[j].ver)
			v->ev[i].ver = v->ev[j].ver;
		v->ev[j] = v->ev[i];
	}
	v->nev = j + 1;
}

static int
cmp_id(const void *key, const void *e)
{
	return strcmp(key, ((const struct audited *)e)->id);
}

/* The record against the audit trail: 0, or -1 with a line printed. */
static int
cross_check(const struct verify_acc *v, const struct cred_rec *r)
{
	const struct audited	*a;
	const char		*why = NULL;

	a = v->nev ? bsearch(r->id, v->ev, v->nev, sizeof(*v->ev), cmp_id) :
	    NULL;
	if (a == NULL || !a->created)
		why = "has no audited create";
	else if (a->deleted)
		why = "was deleted: a deleted record was put back";
	else if (r->ver < a->ver)
		why = "is older than its last audited version: an older value "
		    "was put back";
	if (why == NULL)
		return 0;
	fprintf(stderr, "%s: record %s (tenant %s, provider %s, version %llu) "
	    "%s\n", admin_progname, r->id, r->tenant, r->provider,
	    (unsigned long long)r->ver, why);
	return -1;
}

static int
verify_rec(const struct cred_rec *r, void *arg)
{
	struct verify_acc	*v = arg;
	struct credset		 cs;

	v->total++;
	if (credsvc_open(v->kr, NULL, r, &cs) == -1) {
		v->bad++;
		fprintf(stderr, "%s: record %s (tenant %s, provider %s) does not "
		    "decrypt\n", admin_progname, r->id, r->tenant, r->provider);
		return 0;
	}
	credset_free(&cs);
	if (cross_check(v, r) == -1)
		v->bad++;
	else
		v->ok++;
	return 0;
}

/*
 * --expect-head SEQ:MAC (MAC a prefix of at least 8 hex digits of the
 * chain MAC of record SEQ, as the server logs it): the chain must reach
 * SEQ and record SEQ must have that MAC.  0, or -1 with a line printed.
 */
static int
check_head(struct store *st, const char *expect, size_t naudit)
{
	unsigned char	 mac[STORE_MAC_LEN];
	char		 hex[2 * STORE_MAC_LEN + 1], *end;
	const char	*m;
	unsigned long long seq;
	size_t		 n;

	errno = 0;
	seq = strtoull(expect, &end, 10);
	m = end + 1;
	n = strlen(m);
	if (errno != 0 || end == expect || *end != ':' || seq == 0 || n < 8 ||
	    n > 2 * STORE_MAC_LEN || strspn(m, "0123456789abcdef") != n) {
		admin_fail("verify: --expect-head: SEQ:MAC, MAC 8 to 64 hex "
		    "digits");
		return -1;
	}
	if (naudit < seq) {
		admin_fail("verify: the audit chain ends at %zu, before the "
		    "expected head %llu: it was cut", naudit, seq);
		return -1;
	}
	if (store_audit_mac_at(st, seq, mac) != STORE_OK) {
		admin_fail("verify: audit record %llu cannot be read", seq);
		return -1;
	}
	hex_encode(mac, STORE_MAC_LEN, hex);
	if (strncmp(hex, m, n) != 0) {
		admin_fail("verify: audit record %llu has MAC %.16s, not the "
		    "expected %s", seq, hex, m);
		return -1;
	}
	return 0;
}

static int
verify_run(struct config *cfg, const char *expect)
{
	struct verify_acc	 v;
	struct store		*st;
	char			 why[256];
	enum store_rc		 rc, arc;
	size_t			 naudit;
	uint64_t		 bad;
	int			 head = 0;

	memset(&v, 0, sizeof(v));
	if (admin_open_all(cfg, &v.kr, &st) == -1)
		return EX_FAIL;
	rc = store_audit_list(st, collect_audit, &v);
	fold_audit(&v);
	if (rc == STORE_OK)
		rc = store_cred_walk(st, NULL, NULL, NULL, (size_t)-1, 1,
		    verify_rec, &v);
	arc = store_audit_verify(st, &naudit, &bad, why, sizeof(why));
	if (arc == STORE_OK && expect != NULL)
		head = check_head(st, expect, naudit);
	admin_close_store(st);
	keyring_free(v.kr);
	free(v.ev);
	printf("records: %zu\nok: %zu\nfailed: %zu\naudit records: %zu\n"
	    "audit chain: %s\n", v.total, v.ok, v.bad, naudit,
	    arc == STORE_OK ? "ok" : "BROKEN");
	if (rc != STORE_OK)
		return admin_fail("verify: %s", store_strerror(rc));
	if (arc != STORE_OK)
		return admin_fail("verify: audit trail: %s", why);
	return v.bad == 0 && head == 0 ? EX_OK : EX_FAIL;
}

/* verify [--expect-head SEQ:MAC] */
int
admin_cmd_verify(struct config *cfg, int argc, char **argv)
{
	if (argc == 1)
		return verify_run(cfg, NULL);
	if (argc == 3 && strcmp(argv[1], "--expect-head") == 0)
		return verify_run(cfg, argv[2]);
	admin_usage();
	return EX_USAGE;
}
