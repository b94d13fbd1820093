// Merging one bucket into another (Raw data's "Merge into…", as ActivityWatch's web UI
// offers after a machine rename): every event of the source is copied into the
// destination, keeping its timestamp, duration and data, then the caller may delete the
// source. Kept apart from the page so the copy can be reasoned about on its own.

import { api, ApiError, responseError } from './api';
import type { AWEvent, Bucket } from './types';
import { t } from './i18n';

/** The node keeps times from 1677-09-21 on; reads without `start` begin at 1970 and would
 * leave earlier events behind, so every read here names this start. */
export const EARLIEST = '1678-01-01T00:00:00Z';
/** Events per read and per insert: big enough that a year of window events takes a few
 * hundred requests, small enough that neither side holds much at a time. */
export const BATCH = 2000;

/** What merge needs of the node (the page passes the real API; a test may pass another). */
export interface MergeSource {
  /** newest first, clipped to [start, end] */
  events(id: string, o: { start: string; end?: string; limit: number }): Promise<AWEvent[]>;
  /** one event, unclipped */
  event(id: string, eid: number): Promise<AWEvent>;
  count(id: string, start: string, end?: string): Promise<number>;
  insert(id: string, events: AWEvent[]): Promise<unknown>;
}

async function getJson<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch('/api/0' + path);
  } catch {
    throw new ApiError(0, t('api.unreachable'));
  }
  const text = await res.text();
  if (!res.ok) throw responseError(res, text);
  return JSON.parse(text) as T;
}

const enc = encodeURIComponent;

export const nodeSource: MergeSource = {
  events: (id, o) => api.events(id, o),
  event: (id, eid) => getJson<AWEvent>(`/buckets/${enc(id)}/events/${eid}`),
  count: (id, start, end) =>
    getJson<number>(`/buckets/${enc(id)}/events/count?start=${enc(start)}${end ? '&end=' + enc(end) : ''}`),
  insert: (id, events) => api.insertEvents(id, events),
};

const ms = (ts: string) => Date.parse(ts);

/**
 * Every event of `id` once, newest first, in pages of about `page`, with its stored
 * timestamp and duration. Pages go back in time by their oldest start; an event that
 * began before that start and ended after it comes back cut at it, so any event ending
 * within a millisecond of the cut is read again on its own.
 */
export async function* readAll(src: MergeSource, id: string, page = BATCH): AsyncGenerator<AWEvent[]> {
  const seen = new Set<number>();
  let end: string | undefined;
  let limit = page;
  for (;;) {
    const got = await src.events(id, { start: EARLIEST, end, limit });
    const fresh: AWEvent[] = [];
    for (const e of got) {
      if (e.id == null || seen.has(e.id)) continue;
      seen.add(e.id);
      const cut = end !== undefined && ms(e.timestamp) + e.duration * 1000 >= ms(end) - 1;
      fresh.push(cut ? await src.event(id, e.id) : e);
    }
    if (fresh.length) yield fresh;
    if (got.length < limit) return;
    const oldest = got[got.length - 1].timestamp;
    // more than a page of events share the oldest start: widen the page until it moves on
    if (!fresh.length || oldest === end) limit *= 2;
    else limit = page;
    end = oldest;
  }
}

/** An event as it is sent to the destination: without its id, which would otherwise
 * replace the destination's event of that id. */
const copyOf = (e: AWEvent): AWEvent => ({ timestamp: e.timestamp, duration: e.duration, data: e.data });

export interface MergePlan {
  /** source events to copy */
  count: number;
  destCount: number;
  /** the stretch both buckets have events in, or null */
  overlap: { start: string; end: string; sourceEvents: number; destEvents: number } | null;
}

/** Bounds of a bucket's events as the node keeps them in its metadata (exact, docs/api.md). */
function span(b: Bucket): [string, string] | null {
  const s = b.metadata?.start;
  const e = b.metadata?.end;
  return s && e ? [s, e] : null;
}

/** Why `dest` cannot take `source`'s events, or null when it can. */
export function refusal(source: Bucket, dest: Bucket): string | null {
  if (source.id === dest.id) return t('merge.itself');
  if (source.type !== dest.type)
    return t('merge.typesDiffer', { source: source.id, sourceType: source.type, dest: dest.id, destType: dest.type });
  return null;
}

export async function planMerge(source: Bucket, dest: Bucket, src: MergeSource = nodeSource): Promise<MergePlan> {
  const [count, destCount] = await Promise.all([src.count(source.id, EARLIEST), src.count(dest.id, EARLIEST)]);
  const a = span(source);
  const b = span(dest);
  let overlap: MergePlan['overlap'] = null;
  if (a && b) {
    const start = ms(a[0]) > ms(b[0]) ? a[0] : b[0];
    const end = ms(a[1]) < ms(b[1]) ? a[1] : b[1];
    if (ms(start) < ms(end)) {
      const [sourceEvents, destEvents] = await Promise.all([src.count(source.id, start, end), src.count(dest.id, start, end)]);
      overlap = { start, end, sourceEvents, destEvents };
    }
  }
  return { count, destCount, overlap };
}

export class MergeError extends Error {
  copied: number;
  constructor(message: string, copied: number) {
    super(message);
    this.copied = copied;
  }
}

export interface MergeResult {
  copied: number;
  /** the source's count now: differs from `copied` when it changed during the copy */
  sourceNow: number;
  destNow: number;
  destBefore: number;
}

/**
 * Copy every event of `source` into `dest` in batches of `batch`, calling `progress`
 * after each. A failure (or `signal` aborting) throws a MergeError that says how many
 * events reached the destination; nothing is ever deleted here.
 */
export async function copyEvents(
  source: string,
  dest: string,
  opts: { src?: MergeSource; batch?: number; progress?: (copied: number) => void; signal?: AbortSignal } = {},
): Promise<MergeResult> {
  const src = opts.src ?? nodeSource;
  const batch = opts.batch ?? BATCH;
  let copied = 0;
  const fail = (e: unknown): never => {
    const why = e instanceof Error ? e.message : String(e);
    throw new MergeError(t('merge.failedAfter', { why, n: copied }), copied);
  };
  let destBefore = 0;
  try {
    destBefore = await src.count(dest, EARLIEST);
    for await (const page of readAll(src, source, batch)) {
      for (let i = 0; i < page.length; i += batch) {
        if (opts.signal?.aborted) fail(new Error(t('merge.stopped')));
        const part = page.slice(i, i + batch).map(copyOf);
        await src.insert(dest, part);
        copied += part.length;
        opts.progress?.(copied);
      }
    }
  } catch (e) {
    if (e instanceof MergeError) throw e;
    fail(e);
  }
  const [sourceNow, destNow] = await Promise.all([src.count(source, EARLIEST), src.count(dest, EARLIEST)]);
  return { copied, sourceNow, destNow, destBefore };
}
