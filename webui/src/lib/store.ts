// Tiny global store: server info, buckets and settings, shared by every page.
import { useListeners, type Listeners } from './subscribe';
import { api, ApiError, errorMessage } from './api';
import { DEFAULT_DEVICE_LOCAL, DEVICE_LOCAL_KEY } from './types';
import type { Bucket, DeviceEntry, DevicesAnswer, Info, PrivacyFilter, SettingsHistory } from './types';
import { Category, DEFAULT_CLASSES } from './categories';
import { ActivityView, DEFAULT_VIEWS, parseViews, VIEWS_KEY } from './views';

export interface Settings {
  classes: Category[];
  classesCustomised: boolean; // false: ActivityWatch's defaults, not yet stored
  startOfDay: string;
  startOfWeek: string;
  theme: 'light' | 'dark' | 'auto';
  privacy_filters: PrivacyFilter[];
  landingpage: string;
  /** `awnode.device_local`: the keys kept on this device (default ["theme"]) */
  deviceLocal: string[];
  /** ActivityWatch's `always_active_pattern`: a regex on the window's app or title whose
   * time counts as active even when the AFK watcher says AFK ('' = none) */
  always_active_pattern: string;
  /** `awnode.activity.views`: the Activity page's views (lib/views.ts) */
  activityViews: ActivityView[];
}

export interface State {
  info: Info | null;
  buckets: Bucket[];
  bucketsLoaded: boolean;
  settings: Settings;
  settingsLoaded: boolean;
  /** GET /api/0/devices, loaded with the buckets; null when the node has no such route
   * (an older node or aw-server): then every bucket is local and devices are hostnames. */
  owners: DevicesAnswer | null;
  /** GET /api/0/settings-history; null until loaded or when the node has no such route */
  settingsHistory: SettingsHistory | null;
  error: string | null;
}

const DEFAULT_SETTINGS: Settings = {
  classes: DEFAULT_CLASSES,
  classesCustomised: false,
  startOfDay: '04:00',
  startOfWeek: 'Monday',
  theme: 'auto',
  privacy_filters: [],
  landingpage: '/activity',
  deviceLocal: DEFAULT_DEVICE_LOCAL,
  always_active_pattern: '',
  activityViews: DEFAULT_VIEWS,
};

let state: State = {
  info: null,
  buckets: [],
  bucketsLoaded: false,
  settings: DEFAULT_SETTINGS,
  settingsLoaded: false,
  owners: null,
  settingsHistory: null,
  error: null,
};
const listeners: Listeners = new Set();

export function getState(): State {
  return state;
}

function set(patch: Partial<State>) {
  state = { ...state, ...patch };
  listeners.forEach((l) => l());
}

export function useStore(): State {
  useListeners(listeners, getState);
  return state;
}

export async function loadInfo() {
  try {
    set({ info: await api.info() });
  } catch (e) {
    set({ error: errorMessage(e) });
  }
}

/** The devices answer, or null when the node does not have the route (404/501/405). */
async function loadOwners(): Promise<DevicesAnswer | null> {
  try {
    const d = await api.devices();
    return d && Array.isArray(d.devices) ? d : null;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) return null;
    throw e;
  }
}

/** Buckets and which device owns each, read together so that they agree. */
export async function loadBuckets() {
  try {
    const [bs, owners] = await Promise.all([api.buckets(), loadOwners()]);
    set({ buckets: Object.values(bs).sort((a, b) => a.id.localeCompare(b.id)), owners, bucketsLoaded: true });
  } catch (e) {
    set({ error: errorMessage(e), bucketsLoaded: true });
  }
}

export async function loadSettings() {
  try {
    const all = (await api.settings()) || {};
    const s: Settings = { ...DEFAULT_SETTINGS };
    if (Array.isArray(all.classes) && all.classes.length) {
      s.classes = all.classes as Category[];
      s.classesCustomised = true;
    }
    if (typeof all.startOfDay === 'string') s.startOfDay = all.startOfDay;
    if (typeof all.startOfWeek === 'string') s.startOfWeek = all.startOfWeek;
    if (all.theme === 'light' || all.theme === 'dark' || all.theme === 'auto') s.theme = all.theme;
    if (Array.isArray(all.privacy_filters)) s.privacy_filters = all.privacy_filters as PrivacyFilter[];
    if (typeof all.landingpage === 'string') s.landingpage = all.landingpage;
    if (typeof all.always_active_pattern === 'string') s.always_active_pattern = all.always_active_pattern;
    s.activityViews = parseViews(all[VIEWS_KEY]);
    const dl = all[DEVICE_LOCAL_KEY];
    if (Array.isArray(dl)) s.deviceLocal = dl.filter((k): k is string => typeof k === 'string');
    set({ settings: s, settingsLoaded: true });
    applyTheme(s.theme);
  } catch (e) {
    set({ settingsLoaded: true, error: errorMessage(e) });
  }
}

/** Store one ActivityWatch-compatible settings key and update the local copy. */
export async function saveSetting<K extends keyof Settings>(key: K, value: Settings[K]) {
  await api.setSetting(key, value);
  const patch: Partial<Settings> = { [key]: value } as Partial<Settings>;
  if (key === 'classes') patch.classesCustomised = true;
  set({ settings: { ...state.settings, ...patch } });
  if (key === 'theme') applyTheme(value as Settings['theme']);
  loadSettingsHistory();
}

/** Store the Activity page's views (the settings key is not the Settings field's name).
 * The local copy changes at once, so quick edits (hide, move, move again) build on each
 * other; the writes go out one after another in that order. A failed write reloads the
 * settings (back to what the node has) and throws. */
let viewsWrite: Promise<unknown> = Promise.resolve();
export function saveActivityViews(views: ActivityView[]): Promise<void> {
  set({ settings: { ...state.settings, activityViews: views } });
  const w = viewsWrite.catch(() => undefined).then(() => api.setSetting(VIEWS_KEY, views));
  viewsWrite = w;
  return w.then(
    () => void loadSettingsHistory(),
    async (e) => {
      await loadSettings();
      throw e;
    },
  );
}

/** Who changed each setting last and what it replaced; null on a node without the route. */
export async function loadSettingsHistory() {
  try {
    set({ settingsHistory: await api.settingsHistory() });
  } catch (e) {
    if (!(e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501))) set({ error: errorMessage(e) });
  }
}

/** Store any settings key (restoring an old value, the device-local list), then reload
 * the settings and their origins. */
export async function setRawSetting(key: string, value: unknown) {
  await api.setSetting(key, value);
  await Promise.all([loadSettings(), loadSettingsHistory()]);
}

/** Keep `key` on this device only (or let it travel again): edits `awnode.device_local`,
 * which replaces the default ["theme"], so the theme stays listed unless unticked. */
export async function setDeviceLocal(key: string, local: boolean) {
  const cur = state.settings.deviceLocal;
  const next = local ? [...new Set([...cur, key])] : cur.filter((k) => k !== key);
  await setRawSetting(DEVICE_LOCAL_KEY, next);
}

export function applyTheme(t: Settings['theme']) {
  const dark = t === 'dark' || (t === 'auto' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  try {
    localStorage.setItem('awnode.theme', t);
  } catch {
    /* ignore */
  }
  themeListeners.forEach((l) => l());
}
export const themeListeners = new Set<() => void>();
export function isDark(): boolean {
  return document.documentElement.dataset.theme === 'dark';
}

// ---- devices -------------------------------------------------------------------------
// Which device owns a bucket is the server's answer (GET /api/0/devices, by device id):
// this device owns every bucket it can write, including buckets imported from another
// host's export file; other devices own what sync imported from them (read-only here,
// the node answers 403 to writes). Nothing is guessed from hostnames or bucket data. A
// node without the route (an older node, aw-server) gets every bucket as local, grouped by
// hostname.

/** The device that owns bucket `id`, or null (no devices answer, or a bucket newer than it). */
export function ownerOf(id: string, owners: DevicesAnswer | null = state.owners): DeviceEntry | null {
  if (!owners) return null;
  for (const d of owners.devices) if (d.buckets.includes(id)) return d;
  return null;
}

/** A bucket is remote (synced from another device, read-only here) when the node says
 * another device owns it. `info` is not needed any more and kept for callers. */
export function isRemote(b: Bucket, info?: Info | null): boolean {
  void info;
  const o = ownerOf(b.id);
  return !!o && !o.this_device;
}

/** For pages that work by bucket hostname (as the queries do): whether buckets with this
 * hostname are this device's. True when any of them is (an imported export's hostname
 * counts as this device's), and for every hostname on a node without the devices route. */
export function hostIsLocal(hostname: string, buckets: Bucket[] = state.buckets): boolean {
  if (!state.owners) return true;
  return buckets.some((b) => b.hostname === hostname && !isRemote(b));
}

export function lastUpdated(b: Bucket): string | null {
  return b.metadata?.end || b.last_updated || null;
}

export interface Device {
  /** the device id (null without the devices route: then one Device per hostname) */
  id: string | null;
  /** current name */
  host: string;
  /** former names, most recent first */
  formerNames: string[];
  /** this device: names on its buckets that were never the node's own (buckets imported
   * from other machines' export files), or, before the node kept a record of its names,
   * every other name on its buckets */
  otherNames: string[];
  /** the name to show: `host`, plus the start of the device id when another device
   * listed has the same name */
  label: string;
  local: boolean;
  buckets: Bucket[];
  lastSeen: string | null;
}

const shortId = (id: string, n: number) => id.replace(/-/g, '').slice(0, n);

/** Labels: a name shared by several devices gets the shortest unique start of each id
 * (at least 4 characters). */
function label(ds: Device[]) {
  const byName = new Map<string, Device[]>();
  for (const d of ds) byName.set(d.host, [...(byName.get(d.host) || []), d]);
  for (const group of byName.values()) {
    if (group.length < 2 || group.some((d) => !d.id)) continue;
    let n = 4;
    while (n < 32 && new Set(group.map((d) => shortId(d.id!, n))).size < group.length) n++;
    for (const d of group) d.label = `${d.host} #${shortId(d.id!, n)}`;
  }
}

/** Buckets grouped by device (by device id from the node), this device first, the others
 * in the node's order (by name, then id). Devices without any of `buckets` are left out. */
export function devices(buckets: Bucket[], info: Info | null, owners: DevicesAnswer | null = state.owners): Device[] {
  if (!owners) {
    // no devices route: every bucket is local, one device per hostname
    const by = new Map<string, Device>();
    for (const b of buckets) {
      const host = b.hostname && b.hostname !== '!local' ? b.hostname : info?.hostname || 'unknown';
      let d = by.get(host);
      if (!d) {
        d = { id: null, host, formerNames: [], otherNames: [], label: host, local: true, buckets: [], lastSeen: null };
        by.set(host, d);
      }
      d.buckets.push(b);
      const lu = lastUpdated(b);
      if (lu && (!d.lastSeen || lu > d.lastSeen)) d.lastSeen = lu;
    }
    const own = info?.hostname;
    return [...by.values()].sort((a, b) => (a.host === own) !== (b.host === own) ? (a.host === own ? -1 : 1) : a.host.localeCompare(b.host));
  }
  const out: Device[] = owners.devices.map((e) => {
    const others = (e.hostnames || []).filter((h) => h !== e.hostname);
    // this device's names split into its own earlier ones and imported exports' (when the
    // node says which were its own; an older node does not)
    const own = e.this_device ? e.node_hostnames : undefined;
    return {
      id: e.device_id,
      host: e.hostname || e.hostnames?.[0] || 'unknown',
      formerNames: own ? others.filter((h) => own.includes(h)) : e.this_device ? [] : others,
      otherNames: e.this_device ? (own ? others.filter((h) => !own.includes(h)) : others) : [],
      label: e.hostname || 'unknown',
      local: e.this_device,
      buckets: [],
      lastSeen: e.last_seen,
    };
  });
  const index = new Map<string, Device>();
  owners.devices.forEach((e, i) => e.buckets.forEach((id) => index.set(id, out[i])));
  // a bucket created after the devices answer was read: this device's (only it creates buckets)
  const self = out.find((d) => d.local);
  for (const b of buckets) (index.get(b.id) || self)?.buckets.push(b);
  const shown = out.filter((d) => d.buckets.length);
  label(shown);
  return shown.sort((a, b) => (a.local !== b.local ? (a.local ? -1 : 1) : 0));
}

/** The names this node ran under, current first: this device's buckets under any of them
 * are one device's history (a renamed machine), while its buckets under other names were
 * imported from other machines' export files. Only the current name without the devices
 * route or before the node kept the record. */
export function nodeHostnames(info: Info | null = state.info, owners: DevicesAnswer | null = state.owners): string[] {
  const own = owners?.devices.find((d) => d.this_device);
  const names = own?.node_hostnames?.length ? own.node_hostnames : [];
  const current = info?.hostname || own?.hostname;
  return current ? [current, ...names.filter((n) => n !== current)] : names;
}

/** Other devices with their labels and buckets, for pages that choose a device by name
 * (Activity, Timeline): a renamed device is one entry however many names its buckets
 * carry. Empty without the devices route (then every bucket is this node's). */
export function remoteDevices(buckets: Bucket[], info: Info | null): { label: string; host: string; buckets: Bucket[] }[] {
  return devices(buckets, info)
    .filter((d) => !d.local && d.id)
    .map((d) => ({ label: d.label, host: d.host, buckets: d.buckets }));
}
