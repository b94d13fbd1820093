/*
 * GET /api/0/devices: which device each bucket belongs to, by device id (docs/api.md).
 *
 * A bucket belongs to the device that owns its data: this node for every bucket it can
 * write (its watchers' buckets, and buckets imported from an export file, which this
 * device now publishes in its own name), the origin device for a bucket that sync
 * imported (storage's remote_device). Hostnames are only what a device called itself
 * when it created a bucket: a device that was renamed has several, and two devices
 * may share one. So the web UI groups and labels by this answer, never by hostname.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/mem.h"
#include "device_names.h"

typedef struct device_name {
	const char *hostname; /* borrowed from the bucket list */
	aw_ns seen;           /* latest activity of a bucket with this name */
} device_name;

typedef struct device_entry {
	const char *device_id; /* borrowed */
	bool this_device;
	aw_ns seen;
	bool has_seen;
	device_name *names;
	size_t nnames, names_cap;
	const aw_bucket **buckets;
	size_t nbuckets, buckets_cap;
} device_entry;

/* What a bucket says about when its device last used it: the end of its last event,
 * or its creation while it is empty. */
static aw_ns bucket_seen(const aw_bucket *b)
{
	return b->has_range ? b->end : b->created;
}

static device_entry *device_find(device_entry **devs, size_t *n, size_t *cap, const char *id, bool own)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*devs)[i].device_id, id))
			return &(*devs)[i];
	*devs = aw_mem_grow(*devs, *n, cap, sizeof(**devs), 4);
	(*devs)[*n] = (device_entry){.device_id = id, .this_device = own};
	return &(*devs)[(*n)++];
}

static void device_add_bucket(device_entry *d, const aw_bucket *b)
{
	aw_ns seen = bucket_seen(b);
	size_t i;

	d->buckets = aw_mem_grow(d->buckets, d->nbuckets, &d->buckets_cap, sizeof(*d->buckets), 8);
	d->buckets[d->nbuckets++] = b;
	if (!d->has_seen || seen > d->seen)
		d->seen = seen, d->has_seen = true;
	if (!b->hostname)
		return;
	for (i = 0; i < d->nnames && strcmp(d->names[i].hostname, b->hostname); i++)
		;
	if (i == d->nnames) {
		d->names = aw_mem_grow(d->names, d->nnames, &d->names_cap, sizeof(*d->names), 2);
		d->names[d->nnames++] = (device_name){b->hostname, seen};
	} else if (seen > d->names[i].seen) {
		d->names[i].seen = seen;
	}
}

static int cmp_name_recent(const void *pa, const void *pb)
{
	const device_name *a = pa, *b = pb;

	if (a->seen != b->seen)
		return a->seen > b->seen ? -1 : 1;
	return strcmp(a->hostname, b->hostname);
}

/* This device first, then the others by the name they use now, then by id (two
 * devices may use the same name). */
static const char *current_name(const device_entry *d, const char *own_hostname)
{
	if (d->this_device)
		return own_hostname;
	return d->nnames ? d->names[0].hostname : "";
}

static int cmp_device(const void *pa, const void *pb)
{
	const device_entry *a = pa, *b = pb;
	int c;

	if (a->this_device != b->this_device)
		return a->this_device ? -1 : 1;
	/* only one entry is this device, so both use their most recent bucket's name */
	c = strcmp(current_name(a, ""), current_name(b, ""));
	return c ? c : strcmp(a->device_id, b->device_id);
}

/* This device's entry also says which of its names were the node's own (the others are
 * on buckets imported from export files): `own` are the recorded names, the current
 * one first whether recorded or not. */
static void node_hostnames_json(aw_buf *b, const char *current, char **own, size_t n_own)
{
	aw_buf_puts(b, ",\"node_hostnames\":[");
	aw_buf_json_string(b, current, strlen(current));
	for (size_t i = 0; i < n_own; i++) {
		if (!strcmp(own[i], current))
			continue;
		aw_buf_putc(b, ',');
		aw_buf_json_string(b, own[i], strlen(own[i]));
	}
	aw_buf_putc(b, ']');
}

static void device_json(aw_buf *b, const device_entry *d, const char *own_hostname, char **own, size_t n_own)
{
	const char *cur = current_name(d, own_hostname);

	aw_buf_puts(b, "{\"device_id\":");
	aw_buf_json_string(b, d->device_id, strlen(d->device_id));
	aw_buf_puts(b, d->this_device ? ",\"this_device\":true" : ",\"this_device\":false");
	aw_buf_puts(b, ",\"hostname\":");
	aw_buf_json_string(b, cur, strlen(cur));
	/* every name it used, the current one first, then the most recently used */
	aw_buf_puts(b, ",\"hostnames\":[");
	aw_buf_json_string(b, cur, strlen(cur));
	for (size_t i = 0; i < d->nnames; i++) {
		if (!strcmp(d->names[i].hostname, cur))
			continue;
		aw_buf_putc(b, ',');
		aw_buf_json_string(b, d->names[i].hostname, strlen(d->names[i].hostname));
	}
	aw_buf_putc(b, ']');
	if (d->this_device)
		node_hostnames_json(b, cur, own, n_own);
	aw_buf_puts(b, ",\"buckets\":[");
	for (size_t i = 0; i < d->nbuckets; i++) {
		if (i)
			aw_buf_putc(b, ',');
		aw_buf_json_string(b, d->buckets[i]->id, strlen(d->buckets[i]->id));
	}
	aw_buf_puts(b, "],\"last_seen\":");
	aw_buf_json_time(b, d->has_seen, d->seen);
	aw_buf_putc(b, '}');
}

static void read_devices(request *rq, aw_reader *r)
{
	const aw_config *c = rq->n->cfg;
	aw_bucket *bks;
	size_t n, ndevs = 0, cap = 0, n_own = 0;
	device_entry *devs = NULL;
	aw_buf b = AW_BUF_INIT;
	char **node_names = NULL;
	int rc = aw_reader_buckets(&bks, &n, r, 0);

	if (rc) {
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	/* an unreadable record leaves only the current name as the node's own */
	if (device_names_read(&node_names, &n_own, r))
		node_names = NULL, n_own = 0;
	/* this device is listed even before its watchers have created a bucket */
	device_find(&devs, &ndevs, &cap, c->device_id, true);
	for (size_t i = 0; i < n; i++) {
		bool own = !bks[i].remote_device;
		device_add_bucket(device_find(&devs, &ndevs, &cap, own ? c->device_id : bks[i].remote_device, own),
				  &bks[i]);
	}
	for (size_t i = 0; i < ndevs; i++)
		if (devs[i].nnames > 1) /* a device without buckets has no names array at all */
			qsort(devs[i].names, devs[i].nnames, sizeof(*devs[i].names), cmp_name_recent);
	qsort(devs, ndevs, sizeof(*devs), cmp_device);

	aw_buf_puts(&b, "{\"this_device\":");
	aw_buf_json_string(&b, c->device_id, strlen(c->device_id));
	aw_buf_puts(&b, ",\"devices\":[");
	for (size_t i = 0; i < ndevs; i++) {
		if (i)
			aw_buf_putc(&b, ',');
		device_json(&b, &devs[i], c->hostname, node_names, n_own);
		free(devs[i].names);
		free(devs[i].buckets);
	}
	aw_buf_puts(&b, "]}");
	free(devs);
	aw_buckets_free(bks, n);
	aw_strings_free(node_names, n_own);
	respond_json_buf(rq, 200, &b);
}

void api_devices(request *rq)
{
	submit_read(rq, read_devices);
}
