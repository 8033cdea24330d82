#include "cs_build.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>

#include "mac_fixture.h"
#include "store.h"
#include "store_int.h"	/* the tests reach under the API to tamper */
#include "util.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define TENANT		"t1"
#define PROVIDER	"sentry"
#define ID		"crd_01M8NP07NWZ340VMZAXT2VVK76"

static char		 home[] = "/tmp/test_store.XXXXXX";

static struct store	*st;

/* A fresh environment in a temporary directory per test. */
static void
setup(void)
{
	char err[256];

	ck_assert_ptr_nonnull(mkdtemp(home));
	ck_assert_int_eq(store_open(home, DUR_NOSYNC, &st, err, sizeof(err)),
	    0);
	store_set_mac(st, test_mac, NULL);
}

static void
teardown(void)
{
	char cmd[128];

	store_close(st);
	st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(home + strlen(home) - 6, "XXXXXX", 6);
}

static int
count_cb(const char *json, void *arg)
{
	(void)json;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
audit_count(void)
{
	size_t n = 0;

	ck_assert_int_eq(store_audit_list(st, count_cb, &n), STORE_OK);
	return n;
}

static struct audit_ev
event(const char *action)
{
	struct audit_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.time = 1764489600;
	ev.tenant = TENANT;
	ev.subject = "user";
	ev.action = action;
	ev.provider = PROVIDER;
	ev.cred_id = ID;
	ev.outcome = "ok";
	return ev;
}

/*
 * Stores credential id labelled "old" (the sealed value is any bytes),
 * with Idempotency-Key idem unless NULL; the store's answer, the
 * idempotency record that was there in *existing (freed unless asked).
 */
static enum store_rc
create_idem(const char *id, const char *idem, struct idem_rec *existing)
{
	static unsigned char	 ct[] = "ciphertext";
	static char		 body[] = "{}", loc[] = "/here";
	struct cred_rec		 r;
	struct idem_rec		 ir, ex;
	struct audit_ev		 ev = event("credential.create");
	char			 tenant[] = TENANT, provider[] = PROVIDER;
	char			 label[] = "old", field[] = "api_key";
	enum store_rc		 rc;

	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", id);
	r.tenant = tenant;
	r.provider = provider;
	r.label = label;
	snprintf(r.status, sizeof(r.status), "unvalidated");
	r.fields[r.nfields++] = field;
	r.created = r.updated = ev.time;
	snprintf(r.sealed.key_id, sizeof(r.sealed.key_id), "k1");
	memset(r.sealed.wrapped, 0x5a, sizeof(r.sealed.wrapped));
	memset(r.sealed.nonce, 0xa5, sizeof(r.sealed.nonce));
	r.sealed.ct = ct;
	r.sealed.ctlen = sizeof(ct);
	memset(&ir, 0, sizeof(ir));
	memset(ir.hash, 0x11, sizeof(ir.hash));
	ir.status = 201;
	ir.body = body;
	ir.location = loc;
	ir.created = time(NULL);
	rc = store_cred_create(st, &r, idem, idem ? &ir : NULL, &ev, &ex);
	if (existing != NULL)
		*existing = ex;
	else
		idem_rec_free(&ex);
	return rc;
}

/* Stores one credential labelled "old"; the sealed value is any bytes. */
static void
create_cred(void)
{
	ck_assert_int_eq(create_idem(ID, NULL, NULL), STORE_OK);
	ck_assert_uint_eq(audit_count(), 1);
}

/* The stored label, checked against want. */
static void
assert_label(const char *want)
{
	struct cred_rec r;

	ck_assert_int_eq(store_cred_get(st, TENANT, PROVIDER, ID, &r),
	    STORE_OK);
	ck_assert_str_eq(r.label, want);
	ck_assert_uint_eq(r.sealed.ctlen, sizeof("ciphertext"));
	ck_assert_mem_eq(r.sealed.ct, "ciphertext", r.sealed.ctlen);
	cred_rec_free(&r);
}

/* Changes the label to "new" and answers with *(enum store_op *)arg. */
static enum store_op
relabel(struct cred_rec *r, void *arg)
{
	free(r->label);
	r->label = strdup("new");
	ck_assert_ptr_nonnull(r->label);
	return *(enum store_op *)arg;
}

/*
 * What a modify does with each answer of the callback: STORE_OP_ERROR and
 * STORE_OP_NONE write nothing and audit nothing, STORE_OP_WRITE writes
 * and audits.
 */
static const struct {
	enum store_op	 op;
	enum store_rc	 rc;
	const char	*label;
	size_t		 events;
} mt[] = {
	{ STORE_OP_ERROR, STORE_ERROR, "old", 1 },
	{ STORE_OP_NONE, STORE_OK, "old", 1 },
	{ STORE_OP_WRITE, STORE_OK, "new", 2 },
};

/* Three audit events; the chain verifies. */
static void
three_events(void)
{
	struct audit_ev	 ev;
	char		 why[128];
	size_t		 n;
	uint64_t	 bad;
	int		 i;

	memset(&ev, 0, sizeof(ev));
	ev.time = 1764489600;
	ev.tenant = TENANT;
	ev.action = "key.rotate";
	ev.outcome = "ok";
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(store_audit_event(st, &ev), STORE_OK);
	ck_assert_int_eq(store_audit_verify(st, &n, &bad, why, sizeof(why)),
	    STORE_OK);
	ck_assert_uint_eq(n, 3);
}

/*
 * One bit of the last byte of audit record 2's MAC changed: the whole MAC
 * is compared, not a prefix of it.
 */
START_TEST(test_audit_mac_last_byte)
{
	unsigned char	 kb[8] = { 0, 0, 0, 0, 0, 0, 0, 2 }, *mac;
	char		*nl, *m64, *v, why[128];
	DBT		 d;
	size_t		 mlen, n, vlen;
	uint64_t	 bad;

	three_events();
	ck_assert_int_eq(dbenv_get(st->db[DBI_AUDIT], NULL, kb, 8, &d, 0), 0);
	ck_assert_ptr_nonnull(nl = memchr(d.data, '\n', d.size));
	mac = b64_decode(nl + 1, d.size - (size_t)(nl + 1 - (char *)d.data),
	    &mlen);
	ck_assert_ptr_nonnull(mac);
	ck_assert_uint_eq(mlen, STORE_MAC_LEN);
	mac[STORE_MAC_LEN - 1] ^= 1;
	ck_assert_ptr_nonnull(m64 = b64_encode(mac, mlen));
	vlen = (size_t)(nl + 1 - (char *)d.data) + strlen(m64);
	ck_assert_ptr_nonnull(v = malloc(vlen));
	memcpy(v, d.data, (size_t)(nl + 1 - (char *)d.data));
	memcpy(v + (nl + 1 - (char *)d.data), m64, strlen(m64));
	ck_assert_int_eq(dbenv_put(st->db[DBI_AUDIT], NULL, kb, 8, v, vlen, 0),
	    0);
	ck_assert_int_eq(store_audit_verify(st, &n, &bad, why, sizeof(why)),
	    STORE_CORRUPT);
	ck_assert_uint_eq(bad, 2);
	free(v);
	free(m64);
	free(mac);
	free(d.data);
}
END_TEST

/* The same for the last byte of the head's own MAC. */
START_TEST(test_audit_head_last_byte)
{
	static const char	 key[] = "audit.head";
	unsigned char		*h;
	char			 why[128];
	DBT			 d;
	size_t			 n;
	uint64_t		 bad;

	three_events();
	ck_assert_int_eq(dbenv_get(st->db[DBI_META], NULL, key,
	    sizeof(key) - 1, &d, 0), 0);
	ck_assert_uint_eq(d.size, 8 + 2 * STORE_MAC_LEN);
	h = d.data;
	h[d.size - 1] ^= 1;
	ck_assert_int_eq(dbenv_put(st->db[DBI_META], NULL, key, sizeof(key) - 1,
	    h, d.size, 0), 0);
	ck_assert_int_eq(store_audit_verify(st, &n, &bad, why, sizeof(why)),
	    STORE_CORRUPT);
	ck_assert(strstr(why, "head") != NULL);
	free(d.data);
}
END_TEST

START_TEST(test_modify)
{
	struct audit_ev	ev = event("credential.update");
	enum store_op	op = mt[_i].op;

	create_cred();
	ck_assert_int_eq(store_cred_modify(st, TENANT, PROVIDER, ID, relabel,
	    &op, &ev), mt[_i].rc);
	assert_label(mt[_i].label);
	ck_assert_uint_eq(audit_count(), mt[_i].events);
}
END_TEST

START_TEST(test_modify_missing)
{
	struct audit_ev	ev = event("credential.update");
	enum store_op	op = STORE_OP_WRITE;

	ck_assert_int_eq(store_cred_modify(st, TENANT, PROVIDER, ID, relabel,
	    &op, &ev), STORE_NOTFOUND);
	ck_assert_uint_eq(audit_count(), 0);
}
END_TEST

/*
 * 1 when the log holds records that are not on disk yet: its end (the
 * LSN of the next record) is past the point the last flush synced.
 */
static int
log_unflushed(void)
{
	DB_LOG_STAT	*ls;
	int		 out;

	ck_assert_int_eq(dbenv_enter(st), 0);
	ck_assert_int_eq(st->env->log_stat(st->env, &ls, 0), 0);
	dbenv_leave(st);
	out = ls->st_cur_file != ls->st_disk_file ||
	    ls->st_cur_offset != ls->st_disk_offset;
	free(ls);
	return out;
}

#define ID2	"crd_01M8NP07NWZ340VMZAXT2VVK77"

/*
 * Durability sync (issue 14): a commit leaves the log on disk when the
 * store returns, although it committed without a sync (its locks went
 * first).  The environment of setup is nosync, so a store there leaves
 * its commit in the log buffer; st->dur then says sync, as in a process
 * configured so that sees a record another process committed and has
 * not flushed yet.
 */
START_TEST(test_sync_commit_flushed)
{
	st->dur = DUR_SYNC;
	ck_assert_int_eq(create_idem(ID, NULL, NULL), STORE_OK);
	ck_assert_int_eq(log_unflushed(), 0);
	/* the control: nosync leaves it in the buffer */
	st->dur = DUR_NOSYNC;
	ck_assert_int_eq(create_idem(ID2, NULL, NULL), STORE_OK);
	ck_assert_int_eq(log_unflushed(), 1);
}
END_TEST

/*
 * An answer that shows a change flushes first: the idempotent replay of
 * a store (in the store's own transaction, and by store_idem_get) and a
 * read of the record.  _i: 0 replay by a second store, 1 by
 * store_idem_get, 2 a read.
 */
START_TEST(test_replay_flushes)
{
	struct idem_rec	ex;
	struct cred_rec	r;

	ck_assert_int_eq(create_idem(ID, "idem-1", NULL), STORE_OK);
	ck_assert_int_eq(log_unflushed(), 1);
	/* the control: with nosync, the replay does not flush */
	ck_assert_int_eq(create_idem(ID2, "idem-1", NULL), STORE_EXISTS);
	ck_assert_int_eq(log_unflushed(), 1);
	st->dur = DUR_SYNC;
	switch (_i) {
	case 0:
		ck_assert_int_eq(create_idem(ID2, "idem-1", &ex), STORE_EXISTS);
		ck_assert_int_eq(ex.status, 201);
		ck_assert_str_eq(ex.location, "/here");
		idem_rec_free(&ex);
		break;
	case 1:
		ck_assert_int_eq(store_idem_get(st, TENANT, "idem-1", &ex),
		    STORE_OK);
		ck_assert_int_eq(ex.status, 201);
		idem_rec_free(&ex);
		break;
	default:
		ck_assert_int_eq(store_cred_get(st, TENANT, PROVIDER, ID, &r),
		    STORE_OK);
		cred_rec_free(&r);
		break;
	}
	ck_assert_int_eq(log_unflushed(), 0);
}
END_TEST

/* Log bytes written since the last checkpoint, and that checkpoint. */
static uint64_t
since_ckp(DB_LSN *last)
{
	DB_LOG_STAT	*ls;
	DB_TXN_STAT	*ts;
	uint64_t	 n;

	ck_assert_int_eq(dbenv_enter(st), 0);
	ck_assert_int_eq(st->env->log_stat(st->env, &ls, 0), 0);
	ck_assert_int_eq(st->env->txn_stat(st->env, &ts, 0), 0);
	dbenv_leave(st);
	n = (uint64_t)ls->st_wc_mbytes * 1048576 + ls->st_wc_bytes;
	*last = ts->st_last_ckp;
	free(ls);
	free(ts);
	return n;
}

static int
lsn_eq(DB_LSN a, DB_LSN b)
{
	return a.file == b.file && a.offset == b.offset;
}

#define CKP_MIB		(1024 * 1024)	/* dbenv.c's CKP_BYTES */
#define CKP_MAX_WRITES	20000		/* far more than 1 MiB of log */

/* Stores credential number (*n)++. */
static void
write_one(unsigned *n)
{
	char id[32];

	snprintf(id, sizeof(id), "crd_01M8NP07NWZ340VMZAX%07u", (*n)++);
	ck_assert_int_eq(create_idem(id, NULL, NULL), STORE_OK);
}

/*
 * With the store opened STORE_DEFER_CHECKPOINT: stores credentials until
 * one leaves a checkpoint due.  n numbers the ids across calls.
 */
static void
write_until_due(unsigned *n)
{
	int i;

	for (i = 0; i < CKP_MAX_WRITES && !store_maintain_due(); i++)
		write_one(n);
	ck_assert_msg(store_maintain_due(), "no checkpoint due after %d "
	    "stores", i);
}

/* The store of setup, reopened with STORE_DEFER_CHECKPOINT. */
static void
reopen_deferred(void)
{
	char err[256];

	store_close(st);
	ck_assert_int_eq(store_open_flags(home, DUR_NOSYNC,
	    STORE_DEFER_CHECKPOINT, &st, err, sizeof(err)), 0);
	store_set_mac(st, test_mac, NULL);
}

/*
 * Without STORE_DEFER_CHECKPOINT (credstore-admin, repl-serve), the
 * write that makes a checkpoint due runs it before it returns, and
 * leaves nothing for store_maintain.
 */
START_TEST(test_checkpoint_inline)
{
	DB_LSN		before, after;
	unsigned	n = 0;
	int		round, i;

	(void)since_ckp(&before);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < CKP_MAX_WRITES; i++) {
			write_one(&n);
			ck_assert_int_eq(store_maintain_due(), 0);
			ck_assert_uint_lt(since_ckp(&after), CKP_MIB);
			if (!lsn_eq(before, after))
				break;
		}
		ck_assert_msg(i < CKP_MAX_WRITES, "no checkpoint");
		before = after;
	}
}
END_TEST

/*
 * With STORE_DEFER_CHECKPOINT (the web program), the write that makes a
 * checkpoint due does not run it: Berkeley DB's checkpoint may sleep a
 * second, and the write's answer (and, under the write lock, every other
 * writer of the process) would wait.  store_maintain runs it, once.
 */
START_TEST(test_checkpoint_deferred)
{
	DB_LSN		before, mid, after;
	unsigned	n = 0;

	reopen_deferred();
	(void)since_ckp(&before);
	(void)write_until_due(&n);
	ck_assert_int_eq(store_maintain_due(), 1);
	ck_assert_uint_ge(since_ckp(&mid), CKP_MIB);
	ck_assert(lsn_eq(before, mid));		/* not run by the write */
	store_maintain(st);
	ck_assert_int_eq(store_maintain_due(), 0);
	ck_assert_uint_lt(since_ckp(&after), CKP_MIB);
	ck_assert(!lsn_eq(before, after));
	/* nothing due: maintain does nothing */
	store_maintain(st);
	ck_assert(lsn_eq(after, (since_ckp(&mid), mid)));
}
END_TEST

/*
 * One checkpoint at a time: a thread of this process running one
 * (ckp_lock held), or another process (_i 0: a write lock on
 * data_dir/checkpoint.lock), makes store_maintain skip its own; it runs
 * once they are done.  _i 1 and 2: the lock file is a directory or a
 * FIFO (someone with write access to data_dir): never waited on, the
 * checkpoint runs without it.
 */
START_TEST(test_checkpoint_one_at_a_time)
{
	DB_LSN		before, after;
	unsigned	n = 0;
	char		path[512], c;
	int		tochild[2], fromchild[2], status, fd;
	pid_t		pid = -1;
	struct flock	fl;

	snprintf(path, sizeof(path), "%s/checkpoint.lock", home);
	if (_i == 1)
		ck_assert_int_eq(mkdir(path, 0700), 0);
	if (_i == 2)
		ck_assert_int_eq(mkfifo(path, 0600), 0);
	reopen_deferred();
	(void)write_until_due(&n);
	(void)since_ckp(&before);
	if (_i > 0) {
		store_maintain(st);
		ck_assert_uint_lt(since_ckp(&after), CKP_MIB);
		ck_assert(!lsn_eq(before, after));
		return;
	}

	/* this process: another thread is checkpointing */
	ck_assert_int_eq(pthread_mutex_lock(&st->ckp_lock), 0);
	store_maintain(st);
	ck_assert_int_eq(pthread_mutex_unlock(&st->ckp_lock), 0);
	ck_assert_int_eq(store_maintain_due(), 0);
	ck_assert_uint_ge(since_ckp(&after), CKP_MIB);
	ck_assert(lsn_eq(before, after));

	/* another process: holds the file's lock until told */
	ck_assert_int_eq(pipe(tochild), 0);
	ck_assert_int_eq(pipe(fromchild), 0);
	if ((pid = fork()) == 0) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fd = open(path, O_RDWR | O_CREAT, 0600);
		if (fd == -1 || fcntl(fd, F_SETLK, &fl) == -1)
			_exit(2);
		if (write(fromchild[1], "l", 1) != 1 ||
		    read(tochild[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(read(fromchild[0], &c, 1), 1);
	(void)write_until_due(&n);
	(void)since_ckp(&before);
	store_maintain(st);
	ck_assert_int_eq(store_maintain_due(), 0);
	ck_assert(lsn_eq(before, (since_ckp(&after), after)));
	ck_assert_int_eq(write(tochild[1], "g", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* done: the next write that finds one due runs it */
	(void)write_until_due(&n);
	store_maintain(st);
	ck_assert_uint_lt(since_ckp(&after), CKP_MIB);
	ck_assert(!lsn_eq(before, after));
	close(tochild[0]);
	close(tochild[1]);
	close(fromchild[0]);
	close(fromchild[1]);
}
END_TEST

/* The audit records' texts, in order (test_audit_text). */
struct texts {
	char	*t[16];
	size_t	 n;
};

static int
text_cb(const char *json, void *arg)
{
	struct texts *x = arg;

	ck_assert_uint_lt(x->n, NELEM(x->t));
	ck_assert_ptr_nonnull(x->t[x->n++] = strdup(json));
	return 0;
}

/* An event as the code before wrote it: a json-c tree, PLAIN. */
static char *
json_c_text(const struct audit_ev *ev, uint64_t seq)
{
	static const char *const keys[] = { "time", "tenant", "subject",
	    "action", "provider", "credentialId", "outcome", "client" };
	struct json_object	*o = json_object_new_object();
	const char		*v[NELEM(keys)];
	char			 ts[21], *out;
	size_t			 i;

	fmt_time(ev->time, ts);
	v[0] = ts;
	v[1] = ev->tenant;
	v[2] = ev->subject;
	v[3] = ev->action;
	v[4] = ev->provider;
	v[5] = ev->cred_id;
	v[6] = ev->outcome;
	v[7] = ev->client;
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)seq));
	for (i = 0; i < NELEM(keys); i++)
		json_object_object_add(o, keys[i],
		    v[i] ? json_object_new_string(v[i]) : NULL);
	if (ev->version != 0)
		json_object_object_add(o, "version",
		    json_object_new_int64((int64_t)ev->version));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	ck_assert_ptr_nonnull(out);
	return out;
}

static const char *const odd[] = {
	"plain", "a/b\\c\"d", "\b\f\n\r\t", "\x01\x1f\x7f", "caf\xc3\xa9",
	"</script>", "", NULL,
};

/* Event i of test_audit_text: odd strings, absent members, versions. */
static struct audit_ev
odd_event(size_t i)
{
	struct audit_ev ev = event("credential.create");

	ev.subject = odd[i];
	ev.client = odd[NELEM(odd) - 1 - i];
	ev.provider = i % 2 ? NULL : PROVIDER;
	ev.version = i % 3 ? (uint64_t)i * 1000003 : 0;
	return ev;
}

/*
 * The audit record's text is written without a json-c tree (json-c's
 * trees of this record and of the answer were a quarter of a store's
 * allocations), and must stay the text json-c wrote for it, byte for
 * byte: for strings with every character json-c escapes ("/" included),
 * control characters, DEL, UTF-8, absent members and a version.
 */
START_TEST(test_audit_text)
{
	struct audit_ev	 ev;
	struct texts	 got;
	char		*want;
	size_t		 i;

	memset(&got, 0, sizeof(got));
	for (i = 0; i < NELEM(odd); i++) {
		ev = odd_event(i);
		ck_assert_int_eq(store_audit_event(st, &ev), STORE_OK);
	}
	ck_assert_int_eq(store_audit_list(st, text_cb, &got), STORE_OK);
	ck_assert_uint_eq(got.n, NELEM(odd));
	for (i = 0; i < NELEM(odd); i++) {
		ev = odd_event(i);
		want = json_c_text(&ev, i + 1);
		ck_assert_str_eq(got.t[i], want);
		free(want);
		free(got.t[i]);
	}
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc;

	tc = tcase_create("modify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_modify, 0, (int)NELEM(mt));
	tcase_add_test(tc, test_modify_missing);
	tcase_add_test(tc, test_audit_mac_last_byte);
	tcase_add_test(tc, test_audit_head_last_byte);
	tcase_add_test(tc, test_sync_commit_flushed);
	tcase_add_loop_test(tc, test_replay_flushes, 0, 3);
	tcase_add_test(tc, test_audit_text);
	tcase_add_test(tc, test_checkpoint_inline);
	tcase_add_test(tc, test_checkpoint_deferred);
	tcase_add_loop_test(tc, test_checkpoint_one_at_a_time, 0, 3);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(store_suite());
}
