// Thin client for the node's REST API (ActivityWatch's /api/0/), same origin only.

import type {
  AWEvent, Bucket, DevicesAnswer, ErrorBody, Info, NewBucket, SettingsHistory, SettingsMap, SyncReport, SyncStatus, WatchersStatus,
} from './types';
import { t } from './i18n';

export class ApiError extends Error {
  status: number;
  line = 0;
  column = 0;
  constructor(status: number, message: string, body?: unknown) {
    super(message);
    this.status = status;
    if (body && typeof body === 'object') {
      const b = body as ErrorBody;
      if (typeof b.line === 'number') this.line = b.line;
      if (typeof b.column === 'number') this.column = b.column;
    }
    if (!this.line) {
      // "… at line 3, column 14" (awnode) or Rust's "Span { lo: 7, hi: 8, line: 1 }"
      const m = /at line (\d+), column (\d+)/.exec(message);
      if (m) {
        this.line = +m[1];
        this.column = +m[2];
      } else {
        const r = /line: (\d+)/.exec(message);
        if (r) this.line = +r[1];
      }
    }
  }
}

/** The text of a caught error (an ApiError's server message, or any other Error's). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const BASE = '/api/0';

/** The ApiError of a failed response whose body is `text`: the node's JSON `message` (or
 * aw-server's `error.description`), else the start of the body, else the status line. For
 * callers that fetch themselves (an abort signal, their own paging). */
export function responseError(res: Response, text: string): ApiError {
  let parsed: unknown = null;
  let msg = `${res.status} ${res.statusText}`;
  try {
    parsed = JSON.parse(text);
    const b = parsed && typeof parsed === 'object' ? (parsed as ErrorBody) : null;
    if (b && typeof b.message === 'string') msg = b.message;
    else if (b?.error?.description) msg = String(b.error.description);
  } catch {
    if (text) msg = text.slice(0, 300);
  }
  return new ApiError(res.status, msg, parsed);
}

async function request<T>(method: string, path: string, body?: unknown, raw = false): Promise<T> {
  const init: RequestInit = { method, headers: {} };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, t('api.unreachable'));
  }
  const text = await res.text();
  if (!res.ok) throw responseError(res, text);
  if (raw) return text as unknown as T;
  if (!text) return undefined as unknown as T;
  return JSON.parse(text) as T;
}

const enc = encodeURIComponent;

// Query results for periods wholly in the past are cached for the page's lifetime (as
// aw-client does); imports and deletions clear the cache.
const queryCache = new Map<string, Promise<unknown[]>>();
export function clearQueryCache() {
  queryCache.clear();
}

export const api = {
  info: () => request<Info>('GET', '/info'),
  buckets: () => request<Record<string, Bucket>>('GET', '/buckets/'),
  /** Which device owns each bucket (awnode; an older node or aw-server answers 404). */
  devices: () => request<DevicesAnswer>('GET', '/devices'),
  bucket: (id: string) => request<Bucket>('GET', `/buckets/${enc(id)}`),
  createBucket: (id: string, b: NewBucket) => request<void>('POST', `/buckets/${enc(id)}`, b),
  deleteBucket: async (id: string) => {
    await request<void>('DELETE', `/buckets/${enc(id)}?force=1`);
    clearQueryCache();
  },
  events: (id: string, o: { start?: string; end?: string; limit?: number } = {}) => {
    const q = new URLSearchParams();
    if (o.start) q.set('start', o.start);
    if (o.end) q.set('end', o.end);
    if (o.limit !== undefined) q.set('limit', String(o.limit));
    const qs = q.toString();
    return request<AWEvent[]>('GET', `/buckets/${enc(id)}/events${qs ? '?' + qs : ''}`);
  },
  count: (id: string) => request<number>('GET', `/buckets/${enc(id)}/events/count`),
  insertEvents: (id: string, events: AWEvent[]) => request<AWEvent[]>('POST', `/buckets/${enc(id)}/events`, events),
  deleteEvent: async (id: string, eid: number) => {
    await request<void>('DELETE', `/buckets/${enc(id)}/events/${eid}`);
    clearQueryCache();
  },
  exportBucketUrl: (id: string) => `${BASE}/buckets/${enc(id)}/export`,
  exportAllUrl: () => `${BASE}/export`,
  exportAll: () => request<string>('GET', '/export', undefined, true),
  importFile: async (file: Blob, name = 'buckets.json') => {
    const fd = new FormData();
    fd.append('buckets.json', file, name);
    await request<void>('POST', '/import', fd);
    clearQueryCache();
  },
  /** One result per period: whatever the program's RETURN is (JSON), for the caller to
   * narrow. */
  query: (periods: string[], lines: string[], opts: { cache?: boolean } = {}): Promise<unknown[]> => {
    const key = JSON.stringify([periods, lines]);
    const cacheable =
      opts.cache !== false && periods.every((p) => new Date(p.split('/')[1]).getTime() < Date.now() - 60_000);
    if (cacheable && queryCache.has(key)) return queryCache.get(key)!;
    const p = request<unknown[]>('POST', '/query/', { timeperiods: periods, query: lines });
    if (cacheable) {
      queryCache.set(key, p);
      p.catch(() => queryCache.delete(key));
    }
    return p;
  },
  settings: () => request<SettingsMap>('GET', '/settings'),
  getSetting: <T>(key: string) => request<T | null>('GET', `/settings/${enc(key)}`),
  setSetting: (key: string, value: unknown) => request<void>('POST', `/settings/${enc(key)}`, value),
  /** Who changed each setting last, when, and the values it replaced (awnode). */
  settingsHistory: () => request<SettingsHistory>('GET', '/settings-history'),
  syncStatus: () => request<SyncStatus>('GET', '/sync/status'),
  syncNow: () => request<SyncReport>('POST', '/sync/now', { mode: 'both' }),
  watchers: () => request<WatchersStatus>('GET', '/watchers'),
  /** duration in seconds; null pauses until resumed */
  pauseWatcher: (name: string, duration: number | null) =>
    request<WatchersStatus>('POST', `/watchers/${enc(name)}/pause`, { duration }),
  resumeWatcher: (name: string) => request<WatchersStatus>('POST', `/watchers/${enc(name)}/resume`),
};

/** Serialise a JS value as a query-language literal (JSON-like; strings only escape `"`,
 * because the query lexer keeps every other backslash literally). */
export function qlit(v: unknown): string {
  if (typeof v === 'string') return '"' + v.replace(/"/g, '\\"') + '"';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return '[' + v.map(qlit).join(', ') + ']';
  if (v && typeof v === 'object') {
    return (
      '{' +
      Object.entries(v)
        .filter(([, x]) => x !== undefined && x !== null)
        .map(([k, x]) => qlit(k) + ': ' + qlit(x))
        .join(', ') +
      '}'
    );
  }
  return '[]';
}
