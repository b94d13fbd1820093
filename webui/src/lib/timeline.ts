// The Timeline page's own logic (docs/webui.md, "Timeline"): its saved choices (colour by
// bucket or by category, filters), bar labels, colouring by category, and reading one
// stored event whole.
import { ApiError, responseError } from './api';
import { t } from './i18n';
import { type Category, categorizeLocal, categoryColor, compileRule, rulesForQuery } from './categories';
import type { AWEvent, JsonObject } from './types';

export type ColourBy = 'bucket' | 'category';

/** What the Timeline hides: devices (by hostname) and bucket types that are switched off,
 * events shorter than `minDuration` seconds, and events whose data does not contain `text`. */
export interface TimelineFilters {
  hosts: string[];
  types: string[];
  minDuration: number;
  text: string;
}

export const NO_FILTERS: TimelineFilters = { hosts: [], types: [], minDuration: 0, text: '' };

// Kept in this browser (localStorage), as the theme is: a way of looking at the timeline,
// not something other devices should get through the settings.
const COLOUR_KEY = 'awnode.timeline.colourBy';
const FILTERS_KEY = 'awnode.timeline.filters';

export function loadColourBy(): ColourBy {
  try {
    return localStorage.getItem(COLOUR_KEY) === 'category' ? 'category' : 'bucket';
  } catch {
    return 'bucket';
  }
}

export function saveColourBy(c: ColourBy) {
  try {
    localStorage.setItem(COLOUR_KEY, c);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function loadFilters(): TimelineFilters {
  try {
    const o = JSON.parse(localStorage.getItem(FILTERS_KEY) || 'null') as Partial<TimelineFilters> | null;
    if (!o || typeof o !== 'object') return NO_FILTERS;
    const min = Number(o.minDuration);
    return {
      hosts: strings(o.hosts),
      types: strings(o.types),
      minDuration: Number.isFinite(min) && min > 0 ? min : 0,
      text: typeof o.text === 'string' ? o.text : '',
    };
  } catch {
    return NO_FILTERS;
  }
}

export function saveFilters(f: TimelineFilters) {
  try {
    if (activeFilters(f)) localStorage.setItem(FILTERS_KEY, JSON.stringify(f));
    else localStorage.removeItem(FILTERS_KEY);
  } catch {
    /* as above */
  }
}

/** How many of the filters hide something. */
export function activeFilters(f: TimelineFilters): number {
  return (f.hosts.length ? 1 : 0) + (f.types.length ? 1 : 0) + (f.minDuration > 0 ? 1 : 0) + (f.text.trim() ? 1 : 0);
}

/** Whether an event passes the duration and text filters (`needle` lower-cased). */
export function eventPasses(e: AWEvent, minDuration: number, needle: string): boolean {
  if (minDuration > 0 && e.duration < minDuration) return false;
  if (!needle) return true;
  for (const v of Object.values(e.data || {})) {
    const s = typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (s.toLowerCase().includes(needle)) return true;
  }
  return false;
}

/** The text of a bar: what a person recognises the event by, for its bucket's type. */
export function eventLabel(type: string, d: JsonObject): string {
  const s = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
  switch (type) {
    case 'currentwindow':
      return s(d.title) || s(d.app);
    case 'web.tab.current':
      return s(d.title) || s(d.url);
    case 'afkstatus':
      return s(d.status);
    case 'app.editor.activity':
      return s(d.file).split(/[\\/]/).pop() || s(d.project);
    default:
      return s(d.label ?? d.title ?? d.app ?? d.device ?? d.status ?? '');
  }
}

/** Types whose events get the category colours (what the category rules are written for). */
export const CATEGORISED_TYPES = new Set(['currentwindow', 'web.tab.current', 'app.editor.activity']);

/** A categoriser for the `classes` setting: an event's category path and its colour, as the
 * server's `categorize` would set it (categories.ts's matcher). The rules look at the data's
 * top-level strings only, so events with the same strings share one answer: each distinct
 * combination is matched once, however many events carry it. */
export function categoriser(classes: Category[]) {
  const compiled = rulesForQuery(classes)
    .map(([path, rule]) => [path, compileRule(rule)] as [string[], RegExp | null])
    .filter((x): x is [string[], RegExp] => !!x[1]);
  const cache = new Map<string, { path: string[]; color: string }>();
  return (data: JsonObject) => {
    let key = '';
    for (const v of Object.values(data || {})) if (typeof v === 'string') key += v + '\u0001';
    let hit = cache.get(key);
    if (!hit) {
      const path = categorizeLocal(data || {}, compiled);
      hit = { path, color: categoryColor(path, classes) };
      cache.set(key, hit);
    }
    return hit;
  };
}

/** Black or white, whichever reads better on `bg` (#rgb or #rrggbb). */
export function textOn(bg: string): string {
  let h = bg.replace('#', '');
  if (h.length === 3) h = h.split('').map((x) => x + x).join('');
  const n = parseInt(h, 16);
  if (h.length !== 6 || Number.isNaN(n)) return '#0f172a';
  const lin = (c: number) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  const L = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  // contrast with white (1.05 / (L + 0.05)) against contrast with near-black
  return 1.05 / (L + 0.05) >= (L + 0.05) / 0.06 ? '#ffffff' : '#0f172a';
}

/** The stored event `eid` of bucket `bucket` whole: the Timeline reads its range's events
 * clipped to the range (docs/api.md), and an edit must start from what is stored. */
export async function fetchEvent(bucket: string, eid: number): Promise<AWEvent> {
  let res: Response;
  try {
    res = await fetch(`/api/0/buckets/${encodeURIComponent(bucket)}/events/${eid}`);
  } catch {
    throw new ApiError(0, t('api.unreachable'));
  }
  const text = await res.text();
  if (!res.ok) throw responseError(res, text);
  return JSON.parse(text) as AWEvent;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A time as a datetime-local input's value (local time, to the second). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A datetime-local input's value as epoch ms (NaN when incomplete). */
export function fromLocalInput(v: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(v);
  if (!m) return NaN;
  return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0), +(m[7] || '0').padEnd(3, '0')).getTime();
}
