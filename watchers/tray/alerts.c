/*
 * Time-limit alerts: see alerts.h.
 *
 * One check is two requests: GET /api/0/settings (the alerts, the categories and the
 * start of day, so an edit in the web UI counts from the next check) and, when an
 * enabled alert has not fired today, one POST /api/0/query/ that sums today's active
 * window time per category on the node. The query is the Activity page's for one
 * device, reduced to what an alert needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alerts.h"
#include "aw/time.h"

/* ActivityWatch's default categories (aw-webui's defaultCategories), as categorize
 * rules: what the web UI uses while the `classes` setting has never been saved. */
static const char default_rules[] =
	"[[[\"Work\"],{\"type\":\"regex\",\"regex\":\"Google Docs|libreoffice|ReText\"}],"
	"[[\"Work\",\"Programming\"],{\"type\":\"regex\",\"regex\":\"GitHub|Stack Overflow|BitBucket|Gitlab|vim|Spyder|kate|Ghidra|Scite\"}],"
	"[[\"Work\",\"Programming\",\"ActivityWatch\"],{\"type\":\"regex\",\"regex\":\"ActivityWatch|aw-\",\"ignore_case\":true}],"
	"[[\"Work\",\"Image\"],{\"type\":\"regex\",\"regex\":\"GIMP|Inkscape\"}],"
	"[[\"Work\",\"Video\"],{\"type\":\"regex\",\"regex\":\"Kdenlive\"}],"
	"[[\"Work\",\"Audio\"],{\"type\":\"regex\",\"regex\":\"Audacity\"}],"
	"[[\"Work\",\"3D\"],{\"type\":\"regex\",\"regex\":\"Blender\"}],"
	"[[\"Media\",\"Games\"],{\"type\":\"regex\",\"regex\":\"Minecraft|RimWorld\"}],"
	"[[\"Media\",\"Video\"],{\"type\":\"regex\",\"regex\":\"YouTube|Plex|VLC\"}],"
	"[[\"Media\",\"Social Media\"],{\"type\":\"regex\",\"regex\":\"reddit|Facebook|Twitter|Instagram|devRant\",\"ignore_case\":true}],"
	"[[\"Media\",\"Music\"],{\"type\":\"regex\",\"regex\":\"Spotify|Deezer\",\"ignore_case\":true}],"
	"[[\"Comms\",\"IM\"],{\"type\":\"regex\",\"regex\":\"Messenger|Telegram|Signal|WhatsApp|Rambox|Slack|Riot|Element|Discord|Nheko|NeoChat|Mattermost\"}],"
	"[[\"Comms\",\"Email\"],{\"type\":\"regex\",\"regex\":\"Gmail|Thunderbird|mutt|alpine\"}]]";

static json_t *get_json(aw_client *c, const char *path)
{
	char *body = NULL;
	json_t *j = NULL;
	int status = 0;

	if (aw_client_request(&body, &status, c, "GET", path, NULL) == 0 && status == 200 && body)
		j = json_loads(body, 0, NULL);
	free(body);
	return j;
}

void tray_logical_day(int64_t now, const char *start_of_day, int64_t *start, int64_t *end)
{
	int hh = 0, mm = 0;
	time_t t = (time_t)now;
	struct tm tm;

	if (!start_of_day || sscanf(start_of_day, "%d:%d", &hh, &mm) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59)
		hh = 4, mm = 0; /* the web UI's default */
	localtime_r(&t, &tm);
	if (tm.tm_hour * 60 + tm.tm_min < hh * 60 + mm)
		tm.tm_mday -= 1;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	*start = (int64_t)mktime(&tm);
	tm.tm_mday += 1;
	tm.tm_isdst = -1;
	*end = (int64_t)mktime(&tm);
}

/* categorize's rules from the `classes` setting: [[name, rule], ...] for the rules
 * that can match, as the web UI builds them. NULL when classes has none. */
static json_t *rules_from_classes(json_t *classes)
{
	json_t *rules = json_array(), *c;
	size_t i;

	json_array_foreach(classes, i, c) {
		json_t *name = json_object_get(c, "name"), *rule = json_object_get(c, "rule"), *r;
		const char *type = json_string_value(json_object_get(rule, "type"));
		const char *re = json_string_value(json_object_get(rule, "regex"));

		if (!json_is_array(name) || !type || strcmp(type, "regex") || !re || !*re)
			continue;
		r = json_pack("{s:s,s:s}", "type", "regex", "regex", re);
		if (json_is_true(json_object_get(rule, "ignore_case")))
			json_object_set_new(r, "ignore_case", json_true());
		json_array_append_new(rules, json_pack("[O,o]", name, r));
	}
	return rules;
}

static char *quoted(const char *s)
{
	json_t *j = json_string(s);
	char *out = json_dumps(j, JSON_ENCODE_ANY);

	json_decref(j);
	return out;
}

/* Today's active window time per category: the query's result, [{data: {$category},
 * duration}, ...], or NULL. */
static json_t *time_per_category(tray_alerts *a, aw_client *c, json_t *settings, int64_t start, int64_t end)
{
	json_t *classes = json_object_get(settings, "classes"), *rules, *req, *res = NULL, *out = NULL;
	char win_id[300], afk_id[300], *win_q, *afk_q, *rules_s, *lines[6], *body = NULL, *req_s;
	char from[AW_TIME_BUFSZ], to[AW_TIME_BUFSZ], period[2 * AW_TIME_BUFSZ + 2];
	int status = 0;

	rules = json_is_array(classes) ? rules_from_classes(classes) : json_loads(default_rules, 0, NULL);
	snprintf(win_id, sizeof(win_id), "aw-watcher-window_%s", a->hostname);
	snprintf(afk_id, sizeof(afk_id), "aw-watcher-afk_%s", a->hostname);
	win_q = quoted(win_id);
	afk_q = quoted(afk_id);
	rules_s = json_dumps(rules, JSON_COMPACT);
	json_decref(rules);
	lines[0] = NULL;
	if (win_q && afk_q && rules_s &&
	    asprintf(&lines[0], "afk = filter_keyvals(flood(query_bucket(%s)), \"status\", [\"not-afk\"]);", afk_q) > 0 &&
	    asprintf(&lines[1], "events = filter_period_intersect(flood(query_bucket(%s)), afk);", win_q) > 0 &&
	    asprintf(&lines[2], "events = categorize(events, %s);", rules_s) > 0 &&
	    asprintf(&lines[3], "RETURN = merge_events_by_keys(events, [\"$category\"]);") > 0) {
		aw_time_format(from, start * AW_NS_PER_SEC);
		aw_time_format(to, end * AW_NS_PER_SEC);
		snprintf(period, sizeof(period), "%s/%s", from, to);
		req = json_pack("{s:[s],s:[s,s,s,s]}", "timeperiods", period, "query", lines[0], lines[1], lines[2],
				lines[3]);
		req_s = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		if (req_s && aw_client_request(&body, &status, c, "POST", "/api/0/query/", req_s) == 0 && status == 200)
			res = json_loads(body, 0, NULL);
		free(req_s);
		for (int i = 0; i < 4; i++)
			free(lines[i]);
	}
	free(body);
	free(win_q);
	free(afk_q);
	free(rules_s);
	if (json_is_array(res) && json_is_array(json_array_get(res, 0)))
		out = json_incref(json_array_get(res, 0));
	json_decref(res);
	return out;
}

/* Seconds of `per_cat` in category `path` or below it. */
static double category_seconds(json_t *per_cat, json_t *path)
{
	double total = 0;
	json_t *e;
	size_t i;

	json_array_foreach(per_cat, i, e) {
		json_t *cat = json_object_get(json_object_get(e, "data"), "$category");
		size_t k, n = json_array_size(path);
		int match = json_array_size(cat) >= n && n > 0;

		for (k = 0; match && k < n; k++)
			match = json_equal(json_array_get(cat, k), json_array_get(path, k));
		if (match)
			total += json_number_value(json_object_get(e, "duration"));
	}
	return total;
}

static void join_path(char *buf, size_t len, json_t *path, const char *sep)
{
	json_t *p;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(path, i, p) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? sep : "", json_string_value(p) ? json_string_value(p) : "");
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

static void hm(char *buf, size_t len, double seconds)
{
	long m = (long)(seconds / 60);

	snprintf(buf, len, "%ldh %02ldm", m / 60, m % 60);
}

/* What marks an alert as fired today: its category path and its limit (a changed limit
 * is a new alert). */
static void alert_key(char *key, size_t len, json_t *path, double minutes)
{
	char name[120];

	join_path(name, sizeof(name), path, "\x1e");
	snprintf(key, len, "%s\x1f%g", name, minutes);
}

static int already_sent(const tray_alerts *a, const char *key)
{
	for (size_t i = 0; i < a->nsent; i++)
		if (!strcmp(a->sent[i], key))
			return 1;
	return 0;
}

/* The enabled alerts with a usable category and limit that have not fired today. */
static json_t *pending_alerts(const tray_alerts *a, json_t *settings)
{
	json_t *list = json_object_get(settings, "awnode.alerts"), *out = json_array(), *al;
	size_t i;

	json_array_foreach(list, i, al) {
		json_t *path = json_object_get(al, "category");
		double minutes = json_number_value(json_object_get(al, "minutes"));
		char key[160];

		if (json_is_false(json_object_get(al, "enabled")) || !json_is_array(path) || !json_array_size(path) ||
		    !(minutes > 0))
			continue;
		alert_key(key, sizeof(key), path, minutes);
		if (!already_sent(a, key))
			json_array_append(out, al);
	}
	return out;
}

size_t tray_alerts_check(tray_alerts *a, aw_client *c, tray_alert_note *notes, size_t max)
{
	json_t *settings, *pending, *per_cat = NULL, *al;
	int64_t start, end;
	size_t n = 0, i;

	if (!a->hostname[0]) {
		json_t *info = get_json(c, "/api/0/info");
		const char *h = json_string_value(json_object_get(info, "hostname"));

		if (h)
			snprintf(a->hostname, sizeof(a->hostname), "%s", h);
		json_decref(info);
		if (!a->hostname[0])
			return 0;
	}
	if (!(settings = get_json(c, "/api/0/settings")))
		return 0;
	tray_logical_day(aw_time_now() / AW_NS_PER_SEC, json_string_value(json_object_get(settings, "startOfDay")),
			 &start, &end);
	if (start != a->day_start) {
		a->day_start = start;
		a->nsent = 0;
	}
	pending = pending_alerts(a, settings);
	if (json_array_size(pending))
		per_cat = time_per_category(a, c, settings, start, end);
	json_array_foreach(pending, i, al) {
		json_t *path = json_object_get(al, "category");
		double minutes = json_number_value(json_object_get(al, "minutes")), secs;
		char name[120], key[160], spent[32], limit[32];

		if (!per_cat || n == max)
			break;
		secs = category_seconds(per_cat, path);
		if (secs < minutes * 60)
			continue;
		alert_key(key, sizeof(key), path, minutes);
		if (a->nsent < TRAY_ALERTS_MAX_SENT)
			snprintf(a->sent[a->nsent++], sizeof(a->sent[0]), "%s", key);
		join_path(name, sizeof(name), path, " > ");
		hm(spent, sizeof(spent), secs);
		hm(limit, sizeof(limit), minutes * 60);
		snprintf(notes[n].summary, sizeof(notes[n].summary), "Time limit reached: %s", name);
		snprintf(notes[n].body, sizeof(notes[n].body), "%s today (limit %s)", spent, limit);
		n++;
	}
	json_decref(per_cat);
	json_decref(pending);
	json_decref(settings);
	return n;
}
