/*
 * repl: the Replication Manager's side of the storage module (repl.h).
 */
#include "cs_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <db.h>
#include <json-c/json.h>

#include "log.h"
#include "repl.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/*
 * In a folder of its own: Berkeley DB reads every file of data_dir when
 * replicating (and closing its descriptor would drop our lock).
 */
#define LOCKDIR		"repl"
#define LOCKNAME	"repl/serve.lock"
#define SERVE_THREADS	4

static struct {
	int		 on;
	int		 server;
	char		 self_host[REPL_HOSTLEN];
	unsigned	 self_port;
	char		 self[REPL_ADDRLEN];
	char		*peers;
	long		 priority;
	enum repl_ack	 ack;
	long		 ack_timeout_ms;
	char		*forward_url;
} R;

/* the group's replication ports: this site's and its peers' */
static unsigned		 ports[REPL_PEERS_MAX + 1];
static size_t		 nports;
static atomic_long	 nodelay_at;

static volatile int	 panicked;
static _Thread_local int perm_failed;

static const char *const role_names[] = {
	"single", "master", "replica", "none",
};

const char *
repl_role_name(enum repl_role r)
{
	return (size_t)r < sizeof(role_names) / sizeof(role_names[0]) ?
	    role_names[r] : "?";
}

static int
note_port(const char *host, unsigned port, void *arg)
{
	(void)host;
	(void)arg;
	if (nports < sizeof(ports) / sizeof(ports[0]))
		ports[nports++] = port;
	return 0;
}

static int
repl_port(const struct sockaddr_storage *ss)
{
	unsigned	p;
	size_t		i;

	if (ss->ss_family == AF_INET)
		p = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	else if (ss->ss_family == AF_INET6)
		p = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	else
		return 0;
	for (i = 0; i < nports; i++)
		if (ports[i] == p)
			return 1;
	return 0;
}

/*
 * Berkeley DB 5.3's Replication Manager leaves Nagle's algorithm on: a
 * small message (a log record, an acknowledgement) sent while the last
 * one is unacknowledged waits for the peer's delayed ACK (40 ms on
 * Linux), on each hop of every commit.  So, at most once a second, every
 * TCP socket of this process to or from a replication port gets
 * TCP_NODELAY (repl-serve's connections, and a web process's own
 * connections to the replicas when it commits on the master).
 */
void
repl_nodelay(void)
{
	struct sockaddr_storage	 ss;
	struct dirent		*e;
	socklen_t		 sl;
	DIR			*d;
	long			 now = (long)time(NULL), fd;
	int			 one = 1, type;
	char			*end;

	if (!R.on || atomic_exchange(&nodelay_at, now) == now ||
	    (d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		fd = strtol(e->d_name, &end, 10);
		if (*end != '\0' || end == e->d_name || fd < 0 || fd == dirfd(d))
			continue;
		sl = sizeof(type);
		if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1 ||
		    type != SOCK_STREAM)
			continue;
		sl = sizeof(ss);
		if (getsockname((int)fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    repl_port(&ss)) {
			(void)setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			continue;
		}
		sl = sizeof(ss);
		if (getpeername((int)fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    repl_port(&ss))
			(void)setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
	}
	closedir(d);
}

int
repl_configure(const struct config *cfg, int server, char *err,
    size_t errlen)
{
	free(R.peers);
	free(R.forward_url);
	memset(&R, 0, sizeof(R));
	if (cfg->repl_self == NULL)
		return 0;
	if (config_hostport(cfg->repl_self, strlen(cfg->repl_self),
	    R.self_host, &R.self_port) == -1) {
		snprintf(err, errlen, "repl_self: expected host:port");
		return -1;
	}
	snprintf(R.self, sizeof(R.self), "%s:%u", R.self_host, R.self_port);
	if ((R.peers = strdup(cfg->repl_peers)) == NULL ||
	    (R.forward_url = strdup(cfg->repl_forward_url)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	nports = 0;
	ports[nports++] = R.self_port;
	(void)config_hostports(R.peers, note_port, NULL);
	R.priority = cfg->repl_priority;
	R.ack = cfg->repl_ack_policy;
	R.ack_timeout_ms = cfg->repl_ack_timeout_ms;
	R.server = server;
	R.on = 1;
	return 0;
}

int
repl_enabled(void)
{
	return R.on;
}

int
repl_is_server(void)
{
	return R.on && R.server;
}

const char *
repl_forward_url(void)
{
	return R.forward_url;
}

const char *
repl_self(void)
{
	return R.self;
}

void
repl_commit_begin(void)
{
	repl_nodelay();
	perm_failed = 0;
}

int
repl_commit_failed(void)
{
	return perm_failed;
}

int
repl_panicked(void)
{
	return panicked;
}

static int
lock_path(const char *home, char *p, size_t n)
{
	return snprintf(p, n, "%s/%s", home, LOCKNAME) >= (int)n ? -1 : 0;
}

int
repl_serving(const char *home)
{
	char		path[4096];
	struct flock	fl;
	int		fd, held;

	if (lock_path(home, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	(void)close(fd);
	return held;
}

int
repl_serve_lock(const char *home, char *err, size_t errlen)
{
	char		path[4096], pid[32];
	struct flock	fl;
	int		fd, n;

	if (lock_path(home, path, sizeof(path)) == -1)
		return -1;
	*strrchr(path, '/') = '\0';
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, errstr(errno));
		return -1;
	}
	path[strlen(path)] = '/';
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s/%s: %s", home, LOCKNAME,
		    errstr(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		snprintf(err, errlen, "%s: another repl-serve runs here", path);
		(void)close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, pid, (size_t)n) != n)
		log_warn("replication: %s: %s", path, errstr(errno));
	return 0;	/* fd stays open: the lock lives as long as we do */
}

static void
event(DB_ENV *env, u_int32_t which, void *info)
{
	(void)env;
	switch (which) {
	case DB_EVENT_REP_PERM_FAILED:
		perm_failed = 1;
		break;
	case DB_EVENT_REP_MASTER:
		log_info("replication: %s is now the master", R.self);
		break;
	case DB_EVENT_REP_CLIENT:
		log_info("replication: %s is now a replica", R.self);
		break;
	case DB_EVENT_REP_NEWMASTER:
		log_info("replication: a new master was elected (site %d)",
		    info != NULL ? *(int *)info : -1);
		break;
	case DB_EVENT_REP_STARTUPDONE:
		log_info("replication: %s caught up with the master", R.self);
		break;
	case DB_EVENT_REP_ELECTION_FAILED:
		log_warn("replication: an election failed");
		break;
	case DB_EVENT_PANIC:
		panicked = 1;
		log_error("replication: the environment panicked");
		break;
	default:
		break;
	}
}

static int
add_site(DB_ENV *env, const char *host, unsigned port, int local)
{
	DB_SITE	*site;
	int	 rc;

	if ((rc = env->repmgr_site(env, host, port, &site, 0)) != 0)
		return rc;
	/*
	 * DB_LEGACY on every site, the local one too: the group is the
	 * static list of the configuration (no group membership joins).
	 */
	if ((local && (rc = site->set_config(site, DB_LOCAL_SITE, 1)) != 0) ||
	    (rc = site->set_config(site, DB_LEGACY, 1)) != 0) {
		(void)site->close(site);
		return rc;
	}
	return site->close(site);
}

static int
add_peer(const char *host, unsigned port, void *arg)
{
	return add_site(arg, host, port, 0);
}

static const u_int32_t ack_flags[REPL_ACK__MAX] = {
	DB_REPMGR_ACKS_QUORUM, DB_REPMGR_ACKS_ALL, DB_REPMGR_ACKS_ONE,
	DB_REPMGR_ACKS_NONE,
};

/* Before DB_ENV->open: events, priority, acknowledgements, the sites. */
int
repl_env_prepare(DB_ENV *env)
{
	int rc;

	if (!R.on)
		return 0;
	if ((rc = env->set_event_notify(env, event)) != 0 ||
	    (rc = env->rep_set_priority(env, (u_int32_t)R.priority)) != 0 ||
	    (rc = env->repmgr_set_ack_policy(env, (int)ack_flags[R.ack])) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_ACK_TIMEOUT,
	    (db_timeout_t)R.ack_timeout_ms * 1000)) != 0)
		return rc;
	/* a lost master is noticed within 2 s, a lost peer retried each s */
	if ((rc = env->rep_set_timeout(env, DB_REP_HEARTBEAT_SEND,
	    500000)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_HEARTBEAT_MONITOR,
	    2000000)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_CONNECTION_RETRY,
	    1000000)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_ELECTION_RETRY,
	    1000000)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_ELECTION_TIMEOUT,
	    2000000)) != 0 ||
	    (rc = env->rep_set_config(env, DB_REPMGR_CONF_2SITE_STRICT, 1)) != 0)
		return rc;
	/*
	 * A new master's first checkpoint would otherwise sleep 30 s (the
	 * default delay, for clients to synchronise), holding the
	 * checkpoint mutex every commit after it waits on: seen as a 30 s
	 * stall of every write after a failover.
	 */
	if ((rc = env->rep_set_timeout(env, DB_REP_CHECKPOINT_DELAY, 0)) != 0)
		return rc;
	/* repl-serve receives the replicas' lists of keys (replkeys.c) */
	if (R.server && (rc = env->repmgr_msg_dispatch(env, repl_keys_dispatch,
	    0)) != 0)
		return rc;
	if ((rc = add_site(env, R.self_host, R.self_port, 1)) != 0)
		return rc;
	rc = config_hostports(R.peers, add_peer, env);
	return rc == -1 ? EINVAL : rc;
}

u_int32_t
repl_open_flags(u_int32_t flags)
{
	if (!R.on)
		return flags;
	flags |= DB_INIT_REP;
	/* recovery wipes the shared regions: only the replication process */
	if (!R.server)
		flags &= ~(u_int32_t)DB_RECOVER;
	return flags;
}

/*
 * A replication port inside the kernel's ephemeral range can be taken by
 * any outgoing connection while repl-serve is down, and one left in
 * TIME_WAIT keeps the restarted repl-serve from listening for a minute.
 */
static void
warn_ephemeral(void)
{
	FILE		*f;
	unsigned	 lo, hi;

	if ((f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re")) == NULL)
		return;
	if (fscanf(f, "%u %u", &lo, &hi) == 2 && R.self_port >= lo &&
	    R.self_port <= hi)
		log_warn("replication: repl_self port %u is in the ephemeral "
		    "range %u-%u (net.ipv4.ip_local_port_range): an outgoing "
		    "connection can hold it while this site is down; choose "
		    "a port outside it", R.self_port, lo, hi);
	fclose(f);
}

/*
 * After DB_ENV->open: repl-serve starts the Replication Manager as the
 * replication process (listener, elections); any other process only when
 * repl-serve runs, as a subordinate (nthreads 0: were it first, the start
 * fails instead of making it the listener).  0, or -1 and err.
 */
int
repl_env_start(struct store *st, char *err, size_t errlen)
{
	int rc;

	if (!R.on)
		return 0;
	if (!R.server && !repl_serving(st->home)) {
		snprintf(err, errlen, "%s: credstore-admin repl-serve is not "
		    "running", st->home);
		return -1;
	}
	if (R.server)
		warn_ephemeral();
	rc = st->env->repmgr_start(st->env, R.server ? SERVE_THREADS : 0,
	    DB_REP_ELECTION);
	if (R.server && rc == DB_REP_IGNORE) {
		snprintf(err, errlen, "%s: another process holds the "
		    "replication listener; stop this site's web processes and "
		    "start repl-serve first", st->home);
		return -1;
	}
	if (R.server && rc == EADDRINUSE) {
		/*
		 * Another listener, or an outgoing connection that took the
		 * port (it is in the ephemeral range) and is in TIME_WAIT.
		 */
		snprintf(err, errlen, "%s: repl_self %s: the port is in use "
		    "(another process, or a recent outgoing connection when "
		    "the port is in net.ipv4.ip_local_port_range)", st->home,
		    R.self);
		return -1;
	}
	if (rc != 0 && rc != DB_REP_IGNORE) {
		snprintf(err, errlen, "%s: repmgr_start: %s", st->home,
		    db_strerror(rc));
		return -1;
	}
	return 0;
}

/* 1 when this environment is the master now. */
int
repl_env_is_master(DB_ENV *env)
{
	DB_REP_STAT	*sp;
	int		 m;

	if (env->rep_stat(env, &sp, 0) != 0)
		return 0;
	m = sp->st_status == DB_REP_MASTER;
	free(sp);
	return m;
}

static void
fill_sites(DB_ENV *env, struct repl_status *s, int master_eid)
{
	DB_REPMGR_SITE	*list;
	u_int		 n, i;

	s->nsites = 0;
	if (env->repmgr_site_list(env, &n, &list) != 0)
		return;
	for (i = 0; i < n && s->nsites < REPL_PEERS_MAX + 1; i++) {
		struct repl_site *r = &s->sites[s->nsites++];

		snprintf(r->addr, sizeof(r->addr), "%s:%u", list[i].host,
		    list[i].port);
		r->connected = list[i].status == DB_REPMGR_CONNECTED;
		r->master = list[i].eid == master_eid;
		if (r->master)
			snprintf(s->master, sizeof(s->master), "%s", r->addr);
	}
	free(list);
	for (i = 0; i < s->nsites; i++)
		if (strcmp(s->sites[i].addr, R.self) == 0)
			return;
	if (s->nsites < REPL_PEERS_MAX + 1) {	/* this site, first */
		memmove(&s->sites[1], &s->sites[0],
		    s->nsites * sizeof(s->sites[0]));
		memset(&s->sites[0], 0, sizeof(s->sites[0]));
		snprintf(s->sites[0].addr, sizeof(s->sites[0].addr), "%s",
		    R.self);
		s->sites[0].connected = 1;
		s->nsites++;
	}
}

/*
 * A replica's known gap: from the next record it expects to the first
 * record it holds beyond a hole (0: no hole).  Log files are lg_max bytes.
 */
static uint64_t
lsn_gap(DB_ENV *env, const DB_LSN *next, const DB_LSN *waiting)
{
	u_int32_t lg_max = 10 * 1024 * 1024;

	if (waiting->file == 0 || waiting->file < next->file ||
	    (waiting->file == next->file && waiting->offset < next->offset))
		return 0;
	(void)env->get_lg_max(env, &lg_max);
	return (uint64_t)(waiting->file - next->file) * lg_max +
	    waiting->offset - next->offset;
}

enum store_rc
store_repl_status(struct store *st, struct repl_status *s)
{
	DB_REP_STAT	*sp;

	memset(s, 0, sizeof(*s));
	if (!R.on) {
		s->role = REPL_ROLE_SINGLE;
		return STORE_OK;
	}
	snprintf(s->self, sizeof(s->self), "%s", R.self);
	s->role = REPL_ROLE_NONE;
	s->serving = repl_serving(st->home);
	if (dbenv_ensure_open(st) == -1 || st->env == NULL)
		return STORE_UNAVAILABLE;
	if (st->env->rep_stat(st->env, &sp, 0) != 0)
		return STORE_UNAVAILABLE;
	if (sp->st_status == DB_REP_MASTER) {
		s->role = REPL_ROLE_MASTER;
		s->in_sync = 1;
		snprintf(s->master, sizeof(s->master), "%s", R.self);
	} else if (sp->st_status == DB_REP_CLIENT) {
		s->role = REPL_ROLE_REPLICA;
		s->in_sync = sp->st_startup_complete != 0;
		s->lag_bytes = lsn_gap(st->env, &sp->st_next_lsn,
		    &sp->st_waiting_lsn);
	}
	fill_sites(st->env, s, sp->st_master);
	if (s->role == REPL_ROLE_MASTER)
		snprintf(s->master, sizeof(s->master), "%s", R.self);
	free(sp);
	return STORE_OK;
}

int
repl_not_master(DB_ENV *env, int rc)
{
	/* log_put refuses on a client with EINVAL (log/log_put.c) */
	return R.on && (rc == EINVAL || rc == EACCES) && !repl_env_is_master(env);
}

enum store_rc
repl_commit_rc(void)
{
	if (!R.on || !perm_failed)
		return STORE_OK;
	log_warn("replication: a commit was not acknowledged as "
	    "repl_ack_policy %s asks within %ld ms", repl_ack_name(R.ack),
	    R.ack_timeout_ms);
	return STORE_UNAVAILABLE;
}

/*
 * The master's address and forward URL, replicated with the data: key
 * "repl\0master\0" in the meta database, value "host:port url".
 */
#define MASTER_A	"repl"
#define MASTER_B	"master"

struct master_rec {
	const char	*val;
};

static int
put_master(struct store *st, DB_TXN *txn, void *arg)
{
	const struct master_rec	*m = arg;
	char			*k;
	size_t			 klen;
	int			 rc;

	if ((k = dbenv_key(MASTER_A, MASTER_B, NULL, &klen)) == NULL)
		return ENOMEM;
	rc = dbenv_put(st->db[DBI_META], txn, k, klen, m->val, strlen(m->val),
	    0);
	free(k);
	return rc;
}

int
store_repl_tick(struct store *st, int *announced)
{
	struct master_rec	 m;
	enum store_rc		 res, rc;
	char			 val[REPL_ADDRLEN + 1024];
	int			 dbrc;

	if (!repl_env_is_master(st->env)) {
		*announced = 0;
		return 0;
	}
	if (*announced)
		return 0;
	if (st->db[0] == NULL && (dbrc = dbenv_open_dbs(st)) != 0) {
		dbenv_close_dbs(st);
		log_warn("replication: opening the databases: %s",
		    db_strerror(dbrc));
		return -1;
	}
	snprintf(val, sizeof(val), "%s %s", R.self, R.forward_url);
	m.val = val;
	rc = dbenv_run_txn(st, put_master, &m, &res);
	dbenv_close_dbs(st);
	if (rc != STORE_OK) {
		log_warn("replication: announcing the master: %s",
		    store_strerror(rc));
		return -1;
	}
	log_info("replication: announced %s as the master, forward URL %s",
	    R.self, R.forward_url);
	*announced = 1;
	return 0;
}

enum store_rc
store_repl_forward_url(struct store *st, const char *master, char *url,
    size_t urllen)
{
	DBT		 d;
	enum store_rc	 rc;
	size_t		 ml = strlen(master);
	const char	*v;

	if ((rc = dbenv_read(st, DBI_META, MASTER_A, MASTER_B, NULL, &d)) !=
	    STORE_OK)
		return rc;
	v = d.data;
	rc = STORE_NOTFOUND;
	if (d.size > ml + 1 && memcmp(v, master, ml) == 0 && v[ml] == ' ' &&
	    d.size - ml - 1 < urllen) {
		memcpy(url, v + ml + 1, d.size - ml - 1);
		url[d.size - ml - 1] = '\0';
		rc = STORE_OK;
	}
	free(d.data);
	return rc;
}

void
repl_status_json(const struct repl_status *s, struct json_object *o,
    int sites)
{
	struct json_object	*arr, *so;
	size_t			 i;

	json_object_object_add(o, "site", json_object_new_string(s->self));
	json_object_object_add(o, "role",
	    json_object_new_string(repl_role_name(s->role)));
	json_object_object_add(o, "master", s->master[0] != '\0' ?
	    json_object_new_string(s->master) : NULL);
	if (s->role == REPL_ROLE_REPLICA) {
		json_object_object_add(o, "inSync",
		    json_object_new_boolean(s->in_sync));
		json_object_object_add(o, "lagBytes",
		    json_object_new_int64((int64_t)s->lag_bytes));
	}
	if (!sites)
		return;
	json_object_object_add(o, "serving",
	    json_object_new_boolean(s->serving));
	arr = json_object_new_array();
	for (i = 0; i < s->nsites; i++) {
		so = json_object_new_object();
		json_object_object_add(so, "site",
		    json_object_new_string(s->sites[i].addr));
		json_object_object_add(so, "connected",
		    json_object_new_boolean(s->sites[i].connected));
		json_object_object_add(so, "master",
		    json_object_new_boolean(strcmp(s->sites[i].addr,
		    s->master) == 0));
		json_object_array_add(arr, so);
	}
	json_object_object_add(o, "sites", arr);
}

void
repl_health_json(struct store *st, struct json_object *o)
{
	struct repl_status s;

	if (store_repl_status(st, &s) != STORE_OK)
		return;
	repl_status_json(&s, o, 0);
}
