// The JSON the node's REST API (/api/0/, docs/api.md) sends and takes, as the UI reads it.
// Where the server passes through what a client stored (event data, settings values), the
// value is `unknown` and is narrowed where it is read.

/** GET /api/0/info */
export interface Info {
  hostname: string;
  version: string;
  testing: boolean;
  device_id: string;
}

/** An event's or a bucket's `data`: whatever its watcher recorded. */
export type JsonObject = Record<string, unknown>;

/** A bucket as GET /api/0/buckets/ (keyed by id) and GET /api/0/buckets/<id> send it. */
export interface Bucket {
  id: string;
  type: string;
  client: string;
  hostname: string;
  created: string | null;
  /** What the watcher stored. Which device owns the bucket is GET /api/0/devices's
   * answer, not anything in here. */
  data: JsonObject;
  metadata: { start: string | null; end: string | null };
  last_updated: string | null;
}

/** POST /api/0/buckets/<id>: what a new bucket is created with. */
export interface NewBucket {
  type: string;
  client: string;
  hostname: string;
  data?: JsonObject;
}

export interface AWEvent {
  id?: number | null;
  timestamp: string;
  duration: number;
  data: JsonObject;
}

/** A watcher run by `awnode start` (GET /api/0/watchers, docs/api.md). */
export interface WatcherState {
  name: string;
  state: 'running' | 'paused' | 'restarting' | 'stopped' | 'starting' | string;
  pid: number | null;
  uptime?: number | null;
  restarts?: number;
  paused?: boolean;
  paused_until: string | null;
}

export interface WatchersStatus {
  supervised: boolean;
  watchers: WatcherState[];
  message?: string;
}

/** GET /api/0/settings: every stored key with its JSON value. */
export type SettingsMap = Record<string, unknown>;

/** One rule of the `privacy_filters` setting (docs/privacy.md); the optional keys are left
 * out when empty. */
export interface PrivacyFilter {
  enabled: boolean;
  bucket_prefix?: string;
  field?: string;
  pattern: string;
  action: 'drop' | 'redact';
  replacement?: string;
}

/** A body of an error answer: awnode's `{"message"}` (with `line` and `column` for a query
 * that does not parse) or aw-server-rust's `{"error": {"description"}}`. */
export interface ErrorBody {
  message?: unknown;
  line?: unknown;
  column?: unknown;
  error?: { description?: unknown } | null;
}

// ---- sync (GET /api/0/sync/status, POST /api/0/sync/now; docs/sync.md) ---------------

export interface SyncRemote {
  name: string;
  url: string;
  warning: string | null;
  warning_time: string | null;
}

/** Another device in the sync folder. */
export interface SyncDevice {
  device_id: string;
  hostname: string | null;
  in_folder: boolean;
  forgotten: boolean;
  generation: number;
  manifest_generation: number;
  segments_applied: number;
  events_applied: number;
  last_import: string | null;
  last_check: string | null;
  last_published: string | null;
  stale: boolean;
  state: 'ok' | 'error' | 'stale' | 'forgotten' | 'new' | string;
  error: string | null;
  error_time: string | null;
  /** origin bucket id -> the local (remote, read-only) bucket's id */
  buckets: Record<string, string>;
  origin_buckets: string[];
}

/** GET /api/0/sync/status. `configured` is false (the reason in `problem`) until the folder
 * is set up; then the rest is there. */
export interface SyncStatus {
  configured: boolean;
  problem: string | null;
  folder?: string;
  key_file?: string;
  device_id?: string;
  hostname?: string;
  state_error?: string;
  remotes?: SyncRemote[];
  stale_after_seconds?: number;
  push?: { last: string | null; generation: number; count: number; error: string | null };
  pull?: { last: string | null; error: string | null };
  devices?: SyncDevice[];
  warnings?: string[];
}

/** POST /api/0/sync/now: the round's report. */
export interface SyncReport {
  status: string;
  error: string | null;
  pushed?: boolean;
  generation?: number;
  events_exported?: number;
  buckets_exported?: number;
  devices_seen?: number;
  devices_failed?: number;
  segments_applied?: number;
  events_applied?: number;
  remotes_failed?: number;
  seconds?: number;
}

// ---- devices and settings origins (docs/api.md, "Devices" and "Settings across devices") --

/** One device of GET /api/0/devices: the buckets it owns, by device id. */
export interface DeviceEntry {
  device_id: string;
  this_device: boolean;
  /** current name (this node's configured hostname for this device) */
  hostname: string;
  /** every name the device's buckets carry, current first */
  hostnames: string[];
  /** this device only: the names the node itself ran under, current first (a name in
   * `hostnames` but not here is on buckets imported from another machine's export) */
  node_hostnames?: string[];
  buckets: string[];
  last_seen: string | null;
}

/** GET /api/0/devices: this device first, then the others (sync-imported, read-only). */
export interface DevicesAnswer {
  this_device: string;
  devices: DeviceEntry[];
}

/** A value a setting had before a later change replaced it. */
export interface SettingHistoryEntry {
  changed_at: string | null;
  device_id: string | null;
  hostname: string | null;
  replaced_at: string | null;
  value: unknown;
  deleted: boolean;
}

/** Where a setting's current value comes from, and what it replaced (newest first). */
export interface SettingOrigin {
  changed_at: string | null;
  device_id: string | null;
  hostname: string | null;
  deleted: boolean;
  /** device-local: never published, never replaced by other devices' changes */
  local: boolean;
  history: SettingHistoryEntry[];
}

/** GET /api/0/settings-history */
export interface SettingsHistory {
  device_id: string;
  settings: Record<string, SettingOrigin>;
}

/** The setting that lists the device-local keys (a JSON array replacing DEFAULT_DEVICE_LOCAL). */
export const DEVICE_LOCAL_KEY = 'awnode.device_local';
export const DEFAULT_DEVICE_LOCAL = ['theme'];
