// Tiny global store: server info, buckets and settings, shared by every page.
import { useListeners, type Listeners } from './subscribe';
import { api, errorMessage } from './api';
import { SYNC_DEVICE_ID } from './types';
import type { Bucket, Info, PrivacyFilter } from './types';
import { Category, DEFAULT_CLASSES } from './categories';

export interface Settings {
  classes: Category[];
  classesCustomised: boolean; // false: ActivityWatch's defaults, not yet stored
  startOfDay: string;
  startOfWeek: string;
  theme: 'light' | 'dark' | 'auto';
  privacy_filters: PrivacyFilter[];
  landingpage: string;
}

export interface State {
  info: Info | null;
  buckets: Bucket[];
  bucketsLoaded: boolean;
  settings: Settings;
  settingsLoaded: boolean;
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
};

let state: State = {
  info: null,
  buckets: [],
  bucketsLoaded: false,
  settings: DEFAULT_SETTINGS,
  settingsLoaded: false,
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
  useListeners(listeners);
  return state;
}

export async function loadInfo() {
  try {
    set({ info: await api.info() });
  } catch (e) {
    set({ error: errorMessage(e) });
  }
}

export async function loadBuckets() {
  try {
    const bs = await api.buckets();
    set({ buckets: Object.values(bs).sort((a, b) => a.id.localeCompare(b.id)), bucketsLoaded: true });
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

/** The device id of the device a bucket was synced from, or null for this node's own
 * buckets: what the node's sync records in the data of the buckets it imports. */
function syncOrigin(b: Bucket): string | null {
  const id = b.data?.[SYNC_DEVICE_ID];
  return typeof id === 'string' && id !== '' ? id : null;
}

/** A bucket is remote (synced from another device, read-only here: the node answers 403
 * to writes) when the node's sync imported it. One that names this node's own device id
 * came back through an export and import and is this node's to change. */
export function isRemote(b: Bucket, info: Info | null): boolean {
  const origin = syncOrigin(b);
  return origin !== null && origin !== info?.device_id;
}

export function lastUpdated(b: Bucket): string | null {
  return b.metadata?.end || b.last_updated || null;
}

export interface Device {
  host: string;
  local: boolean;
  buckets: Bucket[];
  lastSeen: string | null;
}

/** Buckets grouped by device (hostname), this device first. A device is remote when all
 * its buckets are (they came through sync), else local. */
export function devices(buckets: Bucket[], info: Info | null): Device[] {
  const by = new Map<string, Device>();
  for (const b of buckets) {
    const host = b.hostname && b.hostname !== '!local' ? b.hostname : info?.hostname || 'unknown';
    let d = by.get(host);
    if (!d) {
      d = { host, local: false, buckets: [], lastSeen: null };
      by.set(host, d);
    }
    if (!isRemote(b, info)) d.local = true;
    d.buckets.push(b);
    const lu = lastUpdated(b);
    if (lu && (!d.lastSeen || lu > d.lastSeen)) d.lastSeen = lu;
  }
  return [...by.values()].sort((a, b) => (a.local !== b.local ? (a.local ? -1 : 1) : a.host.localeCompare(b.host)));
}
