// Tiny global store: server info, buckets and settings, shared by every page.
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage } from './api';
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
const listeners = new Set<() => void>();

export function getState(): State {
  return state;
}

function set(patch: Partial<State>) {
  state = { ...state, ...patch };
  listeners.forEach((l) => l());
}

export function useStore(): State {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
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

// `$aw.sync.*` is what awnode's sync records on imported buckets; the others are tolerated.
export const REMOTE_KEYS = ['$aw.sync.device_id', '$aw.sync.origin', 'origin_device', 'remote_device', 'origin', 'synced_from', '$origin'];

/** A bucket is remote (read-only) when the server marks it so, or its data names an
 * origin device, or (until sync lands) its hostname differs from this node's. */
export function isRemote(b: Bucket, info: Info | null): boolean {
  if (b.remote === true || (b.remote_device != null && b.remote_device !== '')) return true;
  const d = b.data || {};
  for (const k of REMOTE_KEYS) {
    const v = d[k];
    if (v && v !== info?.device_id && !(k === '$aw.sync.origin' && d['$aw.sync.device_id'] === info?.device_id)) return true;
  }
  if (!info) return false;
  const h = b.hostname;
  if (!h || h === 'unknown' || h === '!local') return false;
  return h !== info.hostname;
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

/** Buckets grouped by device (hostname), this device first. */
export function devices(buckets: Bucket[], info: Info | null): Device[] {
  const by = new Map<string, Device>();
  for (const b of buckets) {
    const host = b.hostname && b.hostname !== '!local' ? b.hostname : info?.hostname || 'unknown';
    let d = by.get(host);
    if (!d) {
      d = { host, local: !isRemote(b, info), buckets: [], lastSeen: null };
      by.set(host, d);
    }
    d.buckets.push(b);
    const lu = lastUpdated(b);
    if (lu && (!d.lastSeen || lu > d.lastSeen)) d.lastSeen = lu;
  }
  return [...by.values()].sort((a, b) => (a.local !== b.local ? (a.local ? -1 : 1) : a.host.localeCompare(b.host)));
}
