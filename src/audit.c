/*
 * audit: the audit chain of the storage module (SPEC section 8).  Every
 * change appends one record under the change's own transaction: key =
 * big-endian sequence number, value = the event's JSON and, when a MAC key
 * is set, "\n" and the base64 chain MAC; the head (last seq and MAC) is
 * kept in the meta database.  Owns the audit and meta databases' content;
 * the environment is dbenv.c's.
 */
#include "cs_build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <db.h>

#include "jsonx.h"
#include "log.h"
#include "record.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define AUDIT_HEAD	"audit.head"	/* the key of the head in meta */
#define HEAD_LEN	(8 + 2 * STORE_MAC_LEN)	/* seq, chain MAC, head MAC */
#define CHAIN_LABEL	"audit-chain-v1"
#define HEAD_LABEL	"audit-head-v1"

/* The record this thread's running transaction appended, for the log. */
static _Thread_local struct {
	int			 set;
	uint64_t		 seq;
	unsigned char		 mac[STORE_MAC_LEN];
	const struct audit_ev	*ev;
} appended;

#define AUDIT_JSON_MAX	(64 * 1024)	/* far above any event's text */

/* ,"key":value as json-c writes a string member (null for NULL). */
static int
add_str(struct buf *b, const char *k, const char *v)
{
	return buf_addc(b, ',') == -1 || jsonx_buf_str_plain(b, k) == -1 ||
	    buf_addc(b, ':') == -1 || jsonx_buf_str_plain(b, v) == -1 ? -1 : 0;
}

/*
 * One event, malloc'd text or NULL: the text json-c writes for the tree
 * of these members with JSON_C_TO_STRING_PLAIN (the MAC of every record
 * before covers that text), written without a tree: json-c's trees of
 * this record and of the answer were a quarter of a store's allocations
 * (test_store test_audit_text compares the two).
 */
static char *
audit_to_json(const struct audit_ev *ev, uint64_t seq, size_t *len)
{
	struct buf	 b;
	char		 ts[21];
	int		 rc;

	fmt_time(ev->time, ts);
	buf_init(&b, AUDIT_JSON_MAX, 0);
	rc = buf_reserve(&b, 512) == -1 ||
	    buf_printf(&b, "{\"seq\":%" PRId64, (int64_t)seq) == -1 ||
	    add_str(&b, "time", ts) == -1 ||
	    add_str(&b, "tenant", ev->tenant) == -1 ||
	    add_str(&b, "subject", ev->subject) == -1 ||
	    add_str(&b, "action", ev->action) == -1 ||
	    add_str(&b, "provider", ev->provider) == -1 ||
	    add_str(&b, "credentialId", ev->cred_id) == -1 ||
	    add_str(&b, "outcome", ev->outcome) == -1 ||
	    add_str(&b, "client", ev->client) == -1 ||
	    (ev->version != 0 && buf_printf(&b, ",\"version\":%" PRId64,
	    (int64_t)ev->version) == -1) ||
	    buf_addc(&b, '}') == -1 ? -1 : 0;
	if (rc == -1) {
		buf_reset(&b);
		return NULL;
	}
	return buf_steal(&b, len);
}

static void
put_be64(unsigned char b[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_be64(const unsigned char b[8])
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * The chain MAC of one audit record:
 * MAC(previous record's MAC | big-endian seq | the record's JSON).
 */
static int
audit_mac(struct store *st, const unsigned char prev[STORE_MAC_LEN],
    uint64_t seq, const char *json, size_t jlen,
    unsigned char out[STORE_MAC_LEN])
{
	unsigned char	*m;
	size_t		 n = STORE_MAC_LEN + 8 + jlen;
	int		 rc;

	if ((m = malloc(n)) == NULL)
		return -1;
	memcpy(m, prev, STORE_MAC_LEN);
	put_be64(m + STORE_MAC_LEN, seq);
	memcpy(m + STORE_MAC_LEN + 8, json, jlen);
	rc = st->mac(CHAIN_LABEL, m, n, out, st->mac_arg);
	free(m);
	return rc;
}

/*
 * Splits a stored audit value "JSON\nBASE64(MAC)" (or just "JSON" when no
 * MAC key was configured).  Returns the JSON length; *has_mac says
 * whether mac was filled.
 */
static size_t
audit_split(const char *v, size_t n, unsigned char mac[STORE_MAC_LEN],
    int *has_mac)
{
	const char	*nl = memchr(v, '\n', n);
	unsigned char	*m;
	size_t		 mlen;

	*has_mac = 0;
	if (nl == NULL)
		return n;
	m = b64_decode(nl + 1, n - (size_t)(nl + 1 - v), &mlen);
	if (m != NULL && mlen == STORE_MAC_LEN) {
		memcpy(mac, m, STORE_MAC_LEN);
		*has_mac = 1;
	}
	free(m);
	return (size_t)(nl - v);
}

/*
 * The newest record's sequence number and MAC under txn (locked for
 * update): *seq 0 and a zero MAC when the chain is empty.  0 or a code.
 */
static int
audit_last(struct store *st, DB_TXN *txn, uint64_t *seq,
    unsigned char mac[STORE_MAC_LEN])
{
	DB	*db = st->db[DBI_AUDIT];
	DBC	*c;
	DBT	 k, d;
	int	 rc, has;

	*seq = 0;
	memset(mac, 0, STORE_MAC_LEN);
	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	rc = c->get(c, &k, &d, DB_LAST | DB_RMW);
	if (rc == 0 && k.size == 8) {
		*seq = get_be64(k.data);
		(void)audit_split(d.data, d.size, mac, &has);
	}
	c->close(c);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/* The head for seq and its chain MAC: seq | MAC | MAC(seq | MAC). */
static int
audit_head(struct store *st, uint64_t seq,
    const unsigned char mac[STORE_MAC_LEN], unsigned char head[HEAD_LEN])
{
	put_be64(head, seq);
	memcpy(head + 8, mac, STORE_MAC_LEN);
	return st->mac(HEAD_LABEL, head, 8 + STORE_MAC_LEN,
	    head + 8 + STORE_MAC_LEN, st->mac_arg);
}

/* Records seq and its MAC as the chain head, under txn. */
static int
audit_put_head(struct store *st, DB_TXN *txn, uint64_t seq,
    const unsigned char mac[STORE_MAC_LEN])
{
	unsigned char head[HEAD_LEN];

	if (audit_head(st, seq, mac, head) == -1)
		return EIO;
	return dbenv_put(st->db[DBI_META], txn, AUDIT_HEAD,
	    sizeof(AUDIT_HEAD) - 1, head, sizeof(head), 0);
}

void
audit_forget(void)
{
	appended.set = 0;
}

void
audit_log_committed(void)
{
	const struct audit_ev	*ev = appended.ev;
	char			 hex[17];

	if (!appended.set)
		return;
	appended.set = 0;
	hex_encode(appended.mac, 8, hex);
	log_info("audit: seq=%llu mac=%s action=%s tenant=%s id=%s",
	    (unsigned long long)appended.seq, hex,
	    ev->action ? ev->action : "-", ev->tenant ? ev->tenant : "-",
	    ev->cred_id ? ev->cred_id : "-");
}

/*
 * Appends an audit record under txn: key = big-endian sequence number,
 * value = JSON and, when a MAC key is set, the chain MAC; the chain head
 * (last seq and MAC) is kept in the meta database too, so that removing
 * the newest record is noticed as well.
 */
int
audit_append(struct store *st, DB_TXN *txn, const struct audit_ev *ev)
{
	uint64_t	 seq;
	unsigned char	 kb[8], prev[STORE_MAC_LEN], mac[STORE_MAC_LEN];
	char		*json = NULL, *val = NULL, *m64 = NULL;
	size_t		 jlen = 0, vlen;
	int		 rc;

	if ((rc = audit_last(st, txn, &seq, prev)) != 0)
		return rc;
	seq++;
	put_be64(kb, seq);
	if ((json = audit_to_json(ev, seq, &jlen)) == NULL)
		return ENOMEM;
	val = json;
	vlen = jlen;
	if (st->mac != NULL) {
		if (audit_mac(st, prev, seq, json, jlen, mac) == -1 ||
		    (m64 = b64_encode(mac, sizeof(mac))) == NULL) {
			rc = EIO;
			goto out;
		}
		vlen = jlen + 1 + strlen(m64);
		if ((val = malloc(vlen + 1)) == NULL) {
			rc = ENOMEM;
			goto out;
		}
		snprintf(val, vlen + 1, "%s\n%s", json, m64);
	}
	if ((rc = dbenv_put(st->db[DBI_AUDIT], txn, kb, sizeof(kb), val, vlen,
	    DB_NOOVERWRITE)) != 0)
		goto out;
	if (st->mac != NULL && (rc = audit_put_head(st, txn, seq, mac)) == 0) {
		appended.set = 1;
		appended.seq = seq;
		memcpy(appended.mac, mac, sizeof(mac));
		appended.ev = ev;
	}
out:
	if (val != json)
		free(val);
	free(json);
	free(m64);
	return rc;
}

/* store_audit_list inside dbenv_enter. */
static enum store_rc
audit_list(struct store *st, store_audit_cb cb, void *arg)
{
	DBC	*c;
	DBT	 k, d;
	char	*s;
	int	 rc;

	if ((rc = st->db[DBI_AUDIT]->cursor(st->db[DBI_AUDIT], NULL, &c, 0)) != 0)
		return dbenv_map_rc(rc);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		unsigned char	mac[STORE_MAC_LEN];
		int		has;
		size_t		jlen = audit_split(d.data, d.size, mac, &has);

		if ((s = malloc(jlen + 1)) == NULL) {
			rc = ENOMEM;
			break;
		}
		memcpy(s, d.data, jlen);
		s[jlen] = '\0';
		rc = cb(s, arg);
		free(s);
		if (rc != 0) {
			rc = 0;
			break;
		}
	}
	c->close(c);
	return rc == DB_NOTFOUND ? STORE_OK : dbenv_map_rc(rc);
}

enum store_rc
store_audit_list(struct store *st, store_audit_cb cb, void *arg)
{
	enum store_rc rc;

	if (dbenv_enter(st) == -1)
		return STORE_UNAVAILABLE;
	rc = audit_list(st, cb, arg);
	if (rc != STORE_UNAVAILABLE && dbenv_durable(st) != STORE_OK)
		rc = STORE_UNAVAILABLE;
	dbenv_leave(st);
	return rc;
}

void
store_set_mac(struct store *st, store_mac_fn fn, void *arg)
{
	st->mac = fn;
	st->mac_arg = arg;
}

static int
event_body(struct store *st, DB_TXN *txn, void *arg)
{
	return audit_append(st, txn, arg);
}

enum store_rc
store_audit_event(struct store *st, const struct audit_ev *ev)
{
	enum store_rc result;

	return dbenv_run_txn(st, event_body, (void *)(uintptr_t)ev, &result);
}

/*
 * The stored head against the last record read (seq last, MAC prev):
 * the newest record cannot be removed unnoticed.  STORE_OK, or
 * STORE_CORRUPT with *bad and why set.
 */
static enum store_rc
audit_check_head(struct store *st, uint64_t last,
    const unsigned char prev[STORE_MAC_LEN], uint64_t *bad, char *why,
    size_t whylen)
{
	DBT		hd;
	unsigned char	want[HEAD_LEN];
	int		rc;
	enum store_rc	out = STORE_OK;

	rc = dbenv_get(st->db[DBI_META], NULL, AUDIT_HEAD,
	    sizeof(AUDIT_HEAD) - 1, &hd, 0);
	if (rc == DB_NOTFOUND && last == 0)
		return STORE_OK;
	/* the head's own MAC: a head written from record N is refused */
	if (rc != 0 || hd.size != HEAD_LEN ||
	    audit_head(st, last, prev, want) == -1 ||
	    !ct_equal(hd.data, want, HEAD_LEN)) {
		*bad = last + 1;
		snprintf(why, whylen, "the chain head does not match record %llu",
		    (unsigned long long)last);
		out = STORE_CORRUPT;
	}
	if (rc == 0)
		free(hd.data);
	return out;
}

/* store_audit_verify inside dbenv_enter. */
static enum store_rc
audit_verify(struct store *st, size_t *n, uint64_t *bad, char *why,
    size_t whylen)
{
	DBC		*c;
	DBT		 k, d;
	unsigned char	 prev[STORE_MAC_LEN], mac[STORE_MAC_LEN];
	unsigned char	 want[STORE_MAC_LEN];
	uint64_t	 seq, expect = 1;
	size_t		 jlen;
	int		 rc, has;

	*n = 0;
	*bad = 0;
	why[0] = '\0';
	if (st->mac == NULL) {
		snprintf(why, whylen, "no audit MAC key");
		return STORE_UNAVAILABLE;
	}
	memset(prev, 0, sizeof(prev));
	if ((rc = st->db[DBI_AUDIT]->cursor(st->db[DBI_AUDIT], NULL, &c, 0)) != 0)
		return dbenv_map_rc(rc);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		seq = k.size == 8 ? get_be64(k.data) : 0;
		if (seq != expect) {
			*bad = expect;
			snprintf(why, whylen, "record %llu is missing",
			    (unsigned long long)expect);
			break;
		}
		jlen = audit_split(d.data, d.size, mac, &has);
		if (!has || audit_mac(st, prev, seq, d.data, jlen, want) == -1 ||
		    !ct_equal(mac, want, sizeof(mac))) {
			*bad = seq;
			snprintf(why, whylen, "record %llu does not match its MAC",
			    (unsigned long long)seq);
			break;
		}
		memcpy(prev, mac, sizeof(prev));
		expect++;
		(*n)++;
	}
	c->close(c);
	if (*bad != 0)
		return STORE_CORRUPT;
	if (rc != DB_NOTFOUND)
		return dbenv_map_rc(rc);
	return audit_check_head(st, expect - 1, prev, bad, why, whylen);
}

enum store_rc
store_audit_verify(struct store *st, size_t *n, uint64_t *bad, char *why,
    size_t whylen)
{
	enum store_rc rc;

	*n = 0;
	*bad = 0;
	why[0] = '\0';
	if (dbenv_enter(st) == -1)
		return STORE_UNAVAILABLE;
	rc = audit_verify(st, n, bad, why, whylen);
	if (rc != STORE_UNAVAILABLE && dbenv_durable(st) != STORE_OK)
		rc = STORE_UNAVAILABLE;
	dbenv_leave(st);
	return rc;
}

enum store_rc
store_audit_mac_at(struct store *st, uint64_t seq,
    unsigned char mac[STORE_MAC_LEN])
{
	unsigned char	kb[8];
	DBT		d;
	int		rc, has;

	if (dbenv_enter(st) == -1)
		return STORE_UNAVAILABLE;
	put_be64(kb, seq);
	rc = dbenv_get(st->db[DBI_AUDIT], NULL, kb, sizeof(kb), &d, 0);
	if ((rc == 0 || rc == DB_NOTFOUND) && dbenv_durable(st) != STORE_OK) {
		if (rc == 0)
			free(d.data);
		rc = DB_RUNRECOVERY;
	}
	dbenv_leave(st);
	if (rc != 0)
		return dbenv_map_rc(rc);
	(void)audit_split(d.data, d.size, mac, &has);
	free(d.data);
	return has ? STORE_OK : STORE_CORRUPT;
}
