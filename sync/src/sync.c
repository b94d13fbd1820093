/*
 * aw_sync_*: the rounds the node (timer, POST /api/0/sync/now) and `awnode sync`
 * run, and the status document (GET /api/0/sync/status, `awnode sync status`).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <sodium.h>

#include "aw/mem.h"
#include "internal.h"

void report_error(aw_sync_report *rep, int code, const char *what)
{
	if (rep->status)
		return;
	rep->status = code ? code : AW_ERROR;
	snprintf(rep->error, sizeof(rep->error), "%s%s%s", what ? what : "", what && *what ? ": " : "", aw_error_last());
}

int aw_sync_open(aw_sync **out, aw_store *s, const aw_sync_options *o)
{
	aw_sync *y;

	*out = NULL;
	if (!o || !o->device_id || !valid_device_id(o->device_id))
		return aw_error_set(AW_EINVALID, "sync needs a device id (letters, digits, '-', '_' and '.', at most 64)");
	if (crypto_init())
		return AW_ERROR;
	y = aw_mem_calloc(1, sizeof(*y));
	y->store = s;
	y->device_id = str_dup(o->device_id);
	y->hostname = str_dup(o->hostname && *o->hostname ? o->hostname : "unknown");
	/* empty strings (an unset config key) mean the defaults too */
	sync_paths(&y->folder, &y->key_path, o->folder && *o->folder ? o->folder : NULL,
		   o->key_path && *o->key_path ? o->key_path : NULL, o->testing);
	y->ssh_key = o->ssh_key && *o->ssh_key ? str_dup(o->ssh_key) : NULL;
	y->compact_segments = o->compact_segments > 0 ? o->compact_segments : AWS_COMPACT_SEGMENTS_DEFAULT;
	/* a trailing slash would make paths in messages look odd */
	while (strlen(y->folder) > 1 && y->folder[strlen(y->folder) - 1] == '/')
		y->folder[strlen(y->folder) - 1] = '\0';
	pthread_mutex_init(&y->run_mu, NULL);
	*out = y;
	return 0;
}

void aw_sync_close(aw_sync *y)
{
	if (!y)
		return;
	pthread_mutex_destroy(&y->run_mu);
	if (y->git_ready)
		git_libgit2_shutdown();
	free(y->device_id);
	free(y->hostname);
	free(y->folder);
	free(y->key_path);
	free(y->ssh_key);
	free(y);
}

bool aw_sync_configured(aw_sync *y)
{
	char *g = aw_mem_printf("%s/" AWS_GROUP_FILE, y->folder);
	bool ok = access(g, R_OK) == 0 && access(y->key_path, R_OK) == 0;

	free(g);
	return ok;
}

void aw_sync_cancel(aw_sync *y)
{
	if (y)
		__atomic_store_n(&y->cancel, 1, __ATOMIC_RELAXED);
}

bool sync_cancelled(aw_sync *y)
{
	return __atomic_load_n(&y->cancel, __ATOMIC_RELAXED) != 0;
}

int ctx_open(sync_ctx *c, aw_sync *y, aw_reader *r, aw_sync_report *rep)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->y = y;
	c->r = r;
	c->rep = rep;
	rc = group_read(&c->group, y->folder);
	if (rc == AW_ENOTFOUND)
		return aw_error_set(AW_ENOTFOUND, "sync is not set up: no sync folder at %s (run 'awnode sync init' or "
						  "'awnode sync join')",
				    y->folder);
	if (rc)
		return rc;
	/* in guarded memory (kept out of swap where the system allows it); loaded under
	 * the folder's lock, since rounds and `sync rotate` rewrite the key file */
	c->ring = ring_new();
	if ((rc = repo_open(&c->repo, y->folder, y->ssh_key)))
		goto fail;
	repo_set_cancel(c->repo, &y->cancel);
	if ((rc = repo_lock(c->repo)) || (rc = repo_recover(c->repo)))
		goto fail;
	if ((rc = ring_load(c->ring, y->key_path, &c->group)))
		goto fail;
	/* until epoch_step chooses: epoch 0, or the newest key held */
	c->wkey = ring_find(c->ring, NULL);
	if (!c->wkey)
		c->wkey = ring_newest(c->ring);
	if (r && (rc = state_load(&c->st, r)))
		goto fail;
	return 0;
fail:
	repo_close(c->repo);
	c->repo = NULL;
	ring_free(c->ring);
	c->ring = NULL;
	return rc;
}

void ctx_close(sync_ctx *c)
{
	repo_close(c->repo);
	state_free(&c->st);
	ring_free(c->ring);
	if (c->have_sign)
		sodium_munlock(c->sign_sk, sizeof(c->sign_sk));
	memset(c, 0, sizeof(*c));
}

static void set_str(char **dst, const char *msg)
{
	free(*dst);
	*dst = msg ? str_dup(msg) : NULL;
}

/* Keep what a fetch found wrong with a remote's history (rolled back, replaced) in the
 * state, with its time, so that the status shows it after the round that saw it (the
 * round saves the state after its push or its import). */
static void note_remote_history(sync_ctx *c, const char *remote)
{
	char msg[300];
	json_t *v;

	if (!repo_take_warning(c->repo, msg, sizeof(msg)) || !c->st.remotes)
		return;
	v = json_object();
	json_object_set_new(v, "warning", json_string(msg));
	json_object_set_new(v, "time", json_integer(aw_time_now()));
	json_object_set_new(c->st.remotes, remote, v);
}

int aw_sync_run_mode(aw_sync *y, aw_reader *r, unsigned mode, aw_sync_report *rep)
{
	sync_ctx c;
	remote_info *rem = NULL;
	size_t nrem = 0;
	char remote_err[512] = "";
	double t0 = mono_seconds();
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (!y->store)
		return aw_error_set(AW_EINVALID, "this sync context has no store (status only)");
	if (!(mode & AW_SYNC_BOTH))
		mode |= AW_SYNC_BOTH;
	pthread_mutex_lock(&y->run_mu);
	/* libgit2 is initialised at the first round and stays so for the context's life:
	 * initialising it loads the TLS libraries and the system's certificates, which is
	 * not worth repeating every round, nor paying for on a node that never syncs */
	if (!y->git_ready && !sync_cancelled(y) && repo_git_init() == 0)
		y->git_ready = true;
	rc = sync_cancelled(y) ? aw_error_set(AW_ESHUTDOWN, "sync is stopping") : ctx_open(&c, y, r, rep);
	if (rc) {
		report_error(rep, rc, NULL);
		pthread_mutex_unlock(&y->run_mu);
		rep->seconds = mono_seconds() - t0;
		return rc;
	}
	c.compact = (mode & AW_SYNC_COMPACT) != 0;
	if ((rc = repo_remotes(c.repo, &rem, &nrem)))
		goto out;
	/* fetch and merge first, so that a push is a fast-forward */
	if (mode & AW_SYNC_PULL)
		for (size_t i = 0; i < nrem; i++) {
			if (repo_pull(c.repo, rem[i].name, y->device_id)) {
				rep->remotes_failed++;
				snprintf(remote_err, sizeof(remote_err), "%s", aw_error_last());
			}
			note_remote_history(&c, rem[i].name);
		}
	if ((rc = epoch_step(&c))) {
		report_error(rep, rc, "key epoch");
		set_str(&c.st.push_error, rep->error);
		state_save(&c.st, y->store);
		goto out;
	}
	if (mode & AW_SYNC_PUSH) {
		char push_err[512] = "";
		if ((rc = export_changes(&c))) {
			report_error(rep, rc, "export");
			set_str(&c.st.push_error, rep->error);
			state_save(&c.st, y->store);
			goto out;
		}
		for (size_t i = 0; i < nrem; i++) {
			int prc = repo_push(c.repo, rem[i].name, y->device_id);
			note_remote_history(&c, rem[i].name);
			if (prc) {
				rep->remotes_failed++;
				snprintf(push_err, sizeof(push_err), "%s", aw_error_last());
			} else if (!sync_cancelled(y)) {
				/* like the folder's own maintenance: a failure costs only disk space */
				repo_maintain_remote(c.repo, rem[i].name);
			}
		}
		if (push_err[0]) {
			set_str(&c.st.push_error, push_err);
		} else {
			set_str(&c.st.push_error, NULL);
			c.st.last_push = aw_time_now();
		}
		if ((rc = state_save(&c.st, y->store)) || (rc = epoch_settle(&c)))
			goto out;
		if (push_err[0]) {
			rc = aw_error_set(AW_ERROR, "%s", push_err);
			report_error(rep, rc, NULL);
		}
	}
	if (mode & AW_SYNC_PULL) {
		int irc = import_all(&c);
		c.st.last_pull = aw_time_now();
		set_str(&c.st.pull_error, remote_err[0] ? remote_err : NULL);
		if (irc) {
			rc = irc;
			report_error(rep, rc, "import");
		}
		if (state_save(&c.st, y->store) && !rc) {
			rc = AW_ERROR;
			report_error(rep, rc, NULL);
		}
		if (remote_err[0] && !rc) {
			rc = aw_error_set(AW_ERROR, "%s", remote_err);
			report_error(rep, rc, NULL);
		}
	}
	/* Events that arrived deleted (an archive run on their device, docs/archive.md),
	 * and a move to a new key epoch, must not stay readable in the write-ahead log's
	 * old page images: the rows are wiped in the database (secure_delete), the log is
	 * emptied here. Best effort: a long read may hold it until the next checkpoint. */
	if (!rc && (c.reseal || rep->events_applied))
		aw_store_checkpoint_truncate(y->store);
out:
	if (sync_cancelled(y) && !rc)
		rc = aw_error_set(AW_ESHUTDOWN, "cancelled: awnode is stopping");
	if (rc)
		report_error(rep, sync_cancelled(y) ? AW_ESHUTDOWN : rc, NULL);
	/* like `git gc --auto`; a failure is retried next round and costs only disk space */
	if (!sync_cancelled(y))
		repo_maintain(c.repo, false);
	remotes_free(rem, nrem);
	ctx_close(&c);
	pthread_mutex_unlock(&y->run_mu);
	rep->seconds = mono_seconds() - t0;
	return rc;
}

int aw_sync_epoch_start(int64_t *epoch, aw_sync *y, aw_reader *r, const char *revoke, const char *pass, size_t len)
{
	sync_ctx c;
	aw_sync_report rep;
	remote_info *rem = NULL;
	size_t nrem = 0;
	int rc;

	memset(&rep, 0, sizeof(rep));
	*epoch = 0;
	pthread_mutex_lock(&y->run_mu);
	if (!y->git_ready && repo_git_init() == 0)
		y->git_ready = true;
	if ((rc = ctx_open(&c, y, r, &rep))) {
		pthread_mutex_unlock(&y->run_mu);
		return rc;
	}
	/* on top of the newest epoch the remotes know (a remote that cannot be reached
	 * only makes a concurrent epoch more likely; docs/sync-format.md §4b says which
	 * one wins) */
	if (repo_remotes(c.repo, &rem, &nrem) == 0)
		for (size_t i = 0; i < nrem; i++)
			repo_pull(c.repo, rem[i].name, y->device_id);
	remotes_free(rem, nrem);
	if ((rc = epoch_step(&c)) == 0)
		rc = epoch_start(&c, revoke, pass, len, epoch);
	ctx_close(&c);
	pthread_mutex_unlock(&y->run_mu);
	return rc;
}

int aw_sync_run(aw_sync *y, aw_reader *r, aw_sync_report *rep)
{
	return aw_sync_run_mode(y, r, AW_SYNC_BOTH, rep);
}

char *aw_sync_report_json(const aw_sync_report *rep)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "status", json_string(rep->status ? "error" : "ok"));
	json_object_set_new(o, "error", rep->status ? json_string(rep->error) : json_null());
	json_object_set_new(o, "pushed", json_boolean(rep->pushed));
	json_object_set_new(o, "generation", json_integer(rep->generation));
	json_object_set_new(o, "events_exported", json_integer(rep->events_exported));
	json_object_set_new(o, "files_packed", json_integer(rep->files_packed));
	json_object_set_new(o, "packs", json_integer(rep->packs));
	json_object_set_new(o, "buckets_exported", json_integer(rep->buckets_exported));
	json_object_set_new(o, "devices_seen", json_integer(rep->devices_seen));
	json_object_set_new(o, "devices_failed", json_integer(rep->devices_failed));
	json_object_set_new(o, "segments_applied", json_integer(rep->segments_applied));
	json_object_set_new(o, "events_applied", json_integer(rep->events_applied));
	json_object_set_new(o, "settings_applied", json_integer(rep->settings_applied));
	json_object_set_new(o, "settings_refused", json_integer(rep->settings_refused));
	json_object_set_new(o, "remotes_failed", json_integer(rep->remotes_failed));
	json_object_set_new(o, "seconds", json_real(rep->seconds));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

static json_t *time_json(aw_ns t)
{
	char buf[AW_TIME_BUFSZ];

	if (!t)
		return json_null();
	aw_time_format(buf, t);
	return json_string(buf);
}

static json_t *str_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Remotes of the folder, read through a handle of our own (safe next to a running
 * round: libgit2 objects are per handle). */
static json_t *remotes_json(aw_sync *y, const sync_state *st, json_t *warnings, aw_ns now, aw_ns stale_after)
{
	json_t *arr = json_array();
	sync_repo *repo;
	remote_info *rem;
	size_t n;

	if (repo_open(&repo, y->folder, NULL))
		return arr;
	if (repo_remotes(repo, &rem, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			json_t *h = st->remotes ? json_object_get(st->remotes, rem[i].name) : NULL;
			const char *w = json_string_value(json_object_get(h, "warning"));
			aw_ns when = json_integer_value(json_object_get(h, "time"));
			/* shown for as long as a device may go quiet (docs/sync.md) */
			if (w && now - when > stale_after)
				w = NULL;
			json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o}", "name", rem[i].name, "url", rem[i].url,
							     "warning", w ? json_string(w) : json_null(), "warning_time",
							     time_json(w ? when : 0)));
			if (w)
				json_array_append_new(warnings, json_string(w));
		}
		remotes_free(rem, n);
	}
	repo_close(repo);
	return arr;
}

static json_t *folder_devices(aw_sync *y)
{
	char *dir = aw_mem_printf("%s/devices", y->folder);
	DIR *dh = opendir(dir);
	json_t *arr = json_array();
	struct dirent *de;

	free(dir);
	if (!dh)
		return arr;
	while ((de = readdir(dh)))
		if (de->d_name[0] != '.' && valid_device_id(de->d_name))
			json_array_append_new(arr, json_string(de->d_name));
	closedir(dh);
	return arr;
}

static bool in_array(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static int cmp_dev(const void *a, const void *b)
{
	const device_state *x = a, *z = b;

	return strcmp(x->device_id, z->device_id);
}

#define STALE_AFTER_MAX (10LL * 365 * 86400)

/* How long a device may go without publishing before the status warns
 * (docs/sync.md): AWNODE_SYNC_STALE_AFTER seconds, 7 days by default. A value that is
 * not such a number falls back to the default, and the status says so among its
 * warnings: a user who set it must not believe a device is watched more closely than
 * it is. */
static aw_ns stale_after_ns(json_t *warnings)
{
	const char *v = getenv("AWNODE_SYNC_STALE_AFTER");
	char *end = NULL;
	long long sec;

	if (!v || !*v)
		return (aw_ns)AWS_STALE_AFTER_DEFAULT * AW_NS_PER_SEC;
	sec = strtoll(v, &end, 10);
	if (*end || sec <= 0 || sec > STALE_AFTER_MAX) {
		json_array_append_new(warnings,
				      json_sprintf("AWNODE_SYNC_STALE_AFTER='%.40s' is not a number of seconds from 1 to "
						   "%lld: the default, 7 days, applies",
						   v, STALE_AFTER_MAX));
		sec = AWS_STALE_AFTER_DEFAULT;
	}
	return (aw_ns)sec * AW_NS_PER_SEC;
}

typedef struct age_text {
	char s[48];
} age_text;

/* "3 days", "5 hours", "12 minutes", "40 seconds" */
static age_text age(aw_ns d)
{
	age_text t;
	long long s = (long long)(d / AW_NS_PER_SEC);

	if (s >= 2 * 86400)
		snprintf(t.s, sizeof(t.s), "%lld days", s / 86400);
	else if (s >= 2 * 3600)
		snprintf(t.s, sizeof(t.s), "%lld hours", s / 3600);
	else if (s >= 120)
		snprintf(t.s, sizeof(t.s), "%lld minutes", s / 60);
	else
		snprintf(t.s, sizeof(t.s), "%lld seconds", s);
	return t;
}

char *aw_sync_status_json(aw_sync *y, aw_reader *r)
{
	json_t *o = json_object(), *push = json_object(), *pull = json_object(), *devs = json_array(), *infolder;
	json_t *warnings = json_array();
	aw_ns now = aw_time_now(), stale_after = stale_after_ns(warnings);
	bool stale;
	sync_group g;
	sync_state st;
	const char *problem = NULL;
	char msg[600] = "";
	char *s;
	int64_t key_epoch = -1;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = group_read(&g, y->folder);
	if (rc == AW_ENOTFOUND) {
		problem = "not set up: run 'awnode sync init' or 'awnode sync join'";
	} else if (rc) {
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		problem = msg;
	} else {
		sync_keyring *ring = ring_new();
		if (ring_load(ring, y->key_path, &g)) {
			snprintf(msg, sizeof(msg), "%s", aw_error_last());
			problem = msg;
		} else {
			key_epoch = ring_newest(ring)->n;
		}
		ring_free(ring);
	}
	json_object_set_new(o, "configured", json_boolean(problem == NULL));
	json_object_set_new(o, "problem", str_json(problem));
	json_object_set_new(o, "folder", json_string(y->folder));
	json_object_set_new(o, "key_file", json_string(y->key_path));
	/* the newest key epoch whose key this device holds (docs/sync-format.md §4b) */
	json_object_set_new(o, "key_epoch", key_epoch >= 0 ? json_integer(key_epoch) : json_null());
	json_object_set_new(o, "device_id", json_string(y->device_id));
	json_object_set_new(o, "hostname", json_string(y->hostname));
	if (r && state_load(&st, r)) {
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		json_object_set_new(o, "state_error", json_string(msg));
		memset(&st, 0, sizeof(st));
	}
	json_object_set_new(o, "remotes", rc ? json_array() : remotes_json(y, &st, warnings, now, stale_after));
	json_object_set_new(o, "stale_after_seconds", json_integer(stale_after / AW_NS_PER_SEC));
	if (st.last_push && now - st.last_push > stale_after) {
		char w[200];
		snprintf(w, sizeof(w), "this device last published %s ago: other devices see nothing newer", age(now - st.last_push).s);
		json_array_append_new(warnings, json_string(w));
	}
	json_object_set_new(push, "last", time_json(st.last_push));
	json_object_set_new(push, "generation", json_integer(st.push_generation));
	json_object_set_new(push, "count", json_integer(st.pushes));
	json_object_set_new(push, "error", str_json(st.push_error));
	json_object_set_new(o, "push", push);
	json_object_set_new(pull, "last", time_json(st.last_pull));
	json_object_set_new(pull, "error", str_json(st.pull_error));
	json_object_set_new(o, "pull", pull);
	infolder = folder_devices(y);
	if (st.n_devices)
		qsort(st.devices, st.n_devices, sizeof(*st.devices), cmp_dev);
	for (size_t i = 0; i < st.n_devices; i++) {
		device_state *d = &st.devices[i];
		json_t *v = json_object();
		json_object_set_new(v, "device_id", json_string(d->device_id));
		json_object_set_new(v, "hostname", str_json(d->hostname));
		json_object_set_new(v, "in_folder", json_boolean(in_array(infolder, d->device_id)));
		json_object_set_new(v, "forgotten", json_boolean(d->forgotten));
		json_object_set_new(v, "generation", json_integer(d->generation));
		json_object_set_new(v, "manifest_generation", json_integer(d->manifest_generation));
		json_object_set_new(v, "segments_applied", json_integer(d->segments));
		json_object_set_new(v, "events_applied", json_integer(d->events));
		json_object_set_new(v, "last_import", time_json(d->last_import));
		json_object_set_new(v, "last_check", time_json(d->last_check));
		json_object_set_new(v, "last_published", time_json(d->last_published));
		stale = !d->forgotten && d->last_published && now - d->last_published > stale_after;
		json_object_set_new(v, "stale", json_boolean(stale));
		if (stale) {
			char w[300];
			snprintf(w, sizeof(w),
				 "device %s (%s) last published %s ago: it may be switched off, or a remote holds an old copy "
				 "of its files",
				 d->device_id, d->hostname ? d->hostname : "?", age(now - d->last_published).s);
			json_array_append_new(warnings, json_string(w));
		}
		json_object_set_new(v, "state", json_string(d->forgotten ? "forgotten" : d->error ? "error" : stale ? "stale" : "ok"));
		json_object_set_new(v, "error", str_json(d->error));
		json_object_set_new(v, "error_time", time_json(d->error_time));
		json_object_set(v, "buckets", d->buckets ? d->buckets : json_object());
		json_object_set(v, "origin_buckets", d->manifest_buckets ? d->manifest_buckets : json_array());
		json_array_append_new(devs, v);
	}
	{
		size_t i;
		json_t *id;
		json_array_foreach(infolder, i, id) {
			const char *d = json_string_value(id);
			if (!strcmp(d, y->device_id) || state_device(&st, d, false))
				continue;
			json_t *v = json_object();
			json_object_set_new(v, "device_id", json_string(d));
			json_object_set_new(v, "hostname", json_null());
			json_object_set_new(v, "in_folder", json_true());
			json_object_set_new(v, "forgotten", json_false());
			json_object_set_new(v, "generation", json_integer(0));
			json_object_set_new(v, "manifest_generation", json_integer(0));
			json_object_set_new(v, "segments_applied", json_integer(0));
			json_object_set_new(v, "events_applied", json_integer(0));
			json_object_set_new(v, "last_import", json_null());
			json_object_set_new(v, "last_check", json_null());
			json_object_set_new(v, "last_published", json_null());
			json_object_set_new(v, "stale", json_false());
			json_object_set_new(v, "state", json_string("new"));
			json_object_set_new(v, "error", json_null());
			json_object_set_new(v, "error_time", json_null());
			json_object_set_new(v, "buckets", json_object());
			json_object_set_new(v, "origin_buckets", json_array());
			json_array_append_new(devs, v);
		}
	}
	json_decref(infolder);
	json_object_set_new(o, "devices", devs);
	json_object_set_new(o, "warnings", warnings);
	state_free(&st);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		abort();
	return s;
}
