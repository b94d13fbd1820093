// The Search page's engine: which buckets a search reads, the query program it sends per
// stretch of time, the plan of stretches (newest first, growing), and the merge of their
// answers into groups. The page only drives it and shows the groups.
import { ApiError, qlit, responseError } from './api';
import type { Bucket } from './types';
import { deviceBuckets, type RemoteDevice } from './queries';

export type Kind = 'window' | 'browser' | 'editor';
export const KINDS: Kind[] = ['window', 'browser', 'editor'];

/** Which keys of each kind of event a search looks in, and what its matches are merged by. */
const FIELDS: Record<Kind, { type: string; keys: string[]; by: string[] }> = {
  window: { type: 'currentwindow', keys: ['app', 'title'], by: ['app', 'title'] },
  browser: { type: 'web.tab.current', keys: ['url', 'title'], by: ['url'] },
  editor: { type: 'app.editor.activity', keys: ['file', 'project'], by: ['file'] },
};

export type SearchBuckets = Record<Kind, string[]>;

/** The buckets searched: for one device the ones its Activity view reads (a renamed
 * device's window buckets under all its names, its browsers and editors); for all devices
 * every window, browser and editor bucket on the node. */
export function searchBuckets(buckets: Bucket[], device: string | null, remotes: RemoteDevice[]): SearchBuckets {
  if (device === null) {
    const of = (k: Kind) => buckets.filter((b) => b.type === FIELDS[k].type).map((b) => b.id);
    return { window: of('window'), browser: of('browser'), editor: of('editor') };
  }
  const hb = deviceBuckets(buckets, device, remotes);
  return {
    window: [hb.window, ...(hb.moreWindows || [])].filter((id): id is string => !!id),
    browser: hb.browsers.map((b) => b.id),
    editor: hb.editors,
  };
}

/** The time the buckets hold events in (from the bucket list's metadata), or null when
 * none of them has any. */
export function dataSpan(buckets: Bucket[], ids: SearchBuckets): { start: number; end: number } | null {
  const want = new Set(KINDS.flatMap((k) => ids[k]));
  let start = Infinity, end = -Infinity;
  for (const b of buckets) {
    if (!want.has(b.id) || !b.metadata?.start || !b.metadata?.end) continue;
    start = Math.min(start, Date.parse(b.metadata.start));
    end = Math.max(end, Date.parse(b.metadata.end));
  }
  return Number.isFinite(start) && Number.isFinite(end) ? { start, end } : null;
}

/** The regex the node matches with: the user's own in regex mode, else the text with every
 * metacharacter escaped. A backslash in the text becomes `\x5c` and a regex ending in a
 * backslash gets an empty group after it, because the query lexer reads a backslash
 * before the string's closing quote as an escaped quote and would run the string on. */
export function toRegex(text: string, regex: boolean): string {
  if (regex) return /\\$/.test(text) ? text + '(?:)' : text;
  return text.replace(/\\/g, '\\x5c').replace(/[.*+?^${}()|[\]]/g, '\\$&');
}

/** The same pattern for the browser, to mark what matched; null when JavaScript cannot
 * read it (PCRE-only syntax), then nothing is marked. */
export function highlighter(text: string, regex: boolean): RegExp | null {
  try {
    return new RegExp(regex ? text : text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  } catch {
    return null;
  }
}

/** One program for one stretch of time: per bucket, its events whose searched keys match
 * (the node's `categorize` with one case-insensitive rule limited to those keys, so an
 * event matching on two keys counts once), merged by what a match is (a title, URL or
 * file). Answers `{"window": [[...], ...], "browser": ..., "editor": ...}`, one list per
 * bucket in the order given. */
export function searchQuery(ids: SearchBuckets, pattern: string): string[] {
  const L: string[] = [];
  const parts: string[] = [];
  for (const k of KINDS) {
    const f = FIELDS[k];
    const rule = qlit([[['m'], { type: 'regex', regex: pattern, ignore_case: true, select_keys: f.keys }]]);
    // a regex that does not compile is reported even when no bucket is read
    if (!ids[k].length) L.push(`${k}_check = categorize([], ${rule});`);
    const names = ids[k].map((id, i) => {
      const v = `${k}_${i}`;
      L.push(`${v} = categorize(query_bucket(${qlit(id)}), ${rule});`);
      L.push(`${v} = filter_keyvals(${v}, "$category", [["m"]]);`);
      if (k === 'browser') L.push(`${v} = split_url_events(${v});`);
      L.push(`${v} = merge_events_by_keys(${v}, ${qlit(f.by)});`);
      return v;
    });
    parts.push(`${qlit(k)}: [${names.join(', ')}]`);
  }
  L.push(`RETURN = {${parts.join(', ')}};`);
  return L;
}

interface MergedEvent {
  timestamp: string;
  duration: number;
  data: Record<string, unknown>;
}
export type ChunkAnswer = Partial<Record<Kind, MergedEvent[][]>>;

export interface Match {
  /** the title, URL or file */
  label: string;
  /** the page title of a URL, the language of a file */
  sub: string;
  duration: number;
  /** start of its most recent occurrence (ms) */
  last: number;
}
export interface Group {
  kind: Kind;
  name: string;
  duration: number;
  matches: Map<string, Match>;
}
export type Groups = Map<string, Group>;

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/** What group and match a merged event belongs to: windows by app, browser events by
 * domain (the node's `$domain`), editor events by project. */
function place(kind: Kind, d: Record<string, unknown>): { group: string; label: string; sub: string } {
  if (kind === 'window') return { group: str(d.app) || '(no app)', label: str(d.title), sub: '' };
  if (kind === 'browser') return { group: str(d.$domain) || '(no domain)', label: str(d.url), sub: str(d.title) };
  return { group: str(d.project) || '(no project)', label: str(d.file), sub: str(d.language) };
}

/** Adds one stretch's answer to the groups: durations add up (the stretches do not
 * overlap; the node clips events at their bounds), a match keeps its latest occurrence. */
export function mergeAnswer(groups: Groups, answer: ChunkAnswer) {
  for (const kind of KINDS) {
    for (const list of answer[kind] || []) {
      for (const e of list) {
        const p = place(kind, e.data);
        const gk = kind + '\u0000' + p.group;
        let g = groups.get(gk);
        if (!g) groups.set(gk, (g = { kind, name: p.group, duration: 0, matches: new Map() }));
        g.duration += e.duration;
        const t = Date.parse(e.timestamp);
        const m = g.matches.get(p.label);
        if (!m) g.matches.set(p.label, { label: p.label, sub: p.sub, duration: e.duration, last: t });
        else {
          m.duration += e.duration;
          if (t > m.last) {
            m.last = t;
            if (p.sub) m.sub = p.sub;
          }
        }
      }
    }
  }
}

const DAY = 86_400_000;

/** The stretches to search, newest first: a week, then growing ones (3 weeks, 2 months,
 * then a quarter at a time), so the first answer is quick and the whole range takes few
 * requests; from the third on, a rest shorter than a month joins the stretch before it.
 * Each is [start, end) in ms. */
export function plan(start: number, end: number): [number, number][] {
  const sizes = [7, 21, 60];
  const out: [number, number][] = [];
  let e = end;
  for (let i = 0; e > start; i++) {
    let s = e - (sizes[i] ?? 91) * DAY;
    if (i >= 2 && s - start < 30 * DAY) s = start;
    s = Math.max(s, start);
    out.push([s, e]);
    e = s;
  }
  return out;
}

/** POST /api/0/query/ with an abort signal (a new search cancels the running one); errors
 * are ApiErrors carrying the node's message, as api.ts makes them. */
export async function postQuery(period: string, lines: string[], signal: AbortSignal): Promise<unknown> {
  const res = await fetch('/api/0/query/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ timeperiods: [period], query: lines }),
    signal,
  });
  const text = await res.text();
  if (!res.ok) throw responseError(res, text);
  return (JSON.parse(text) as unknown[])[0];
}

/** The node's regex errors in words: "missing closing parenthesis at offset 1" from
 * `RegexCompileError("Failed to compile regex string '(': …") at line …`, else null. */
export function regexError(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  const m = /^(RegexCompileError|RegexRuntimeError)\("(.*)"\)(?: at line \d+, column \d+)?$/s.exec(e.message);
  if (!m) return null;
  const detail = m[2].replace(/\\"/g, '"');
  const c = /^Failed to compile regex string '.*': (.*)$/s.exec(detail);
  return c ? c[1] : detail;
}
