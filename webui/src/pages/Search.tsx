// The Search page (docs/webui.md): one box over every window title and app, browser URL
// and title, editor file and project, in any range and on any device. The search runs on
// the node (POST /api/0/query/, lib/search.ts), newest stretch first, so the latest
// matches show at once while older stretches are still being read.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { hashColor } from '../lib/categories';
import { activityHosts } from '../lib/queries';
import { navigate } from '../lib/router';
import { hostIsLocal, remoteDevices, useStore } from '../lib/store';
import { fmtDuration, logicalToday, offsetMinutes, parseYmd, periodString, ymd, type DayOpts } from '../lib/time';
import {
  dataSpan, type Group, type Groups, highlighter, type Kind, KINDS, type Match, mergeAnswer, plan, postQuery, regexError,
  searchBuckets, searchQuery, toRegex, type ChunkAnswer,
} from '../lib/search';
import { ErrorBox, Segmented } from '../components/ui';
import { formatDate, formatDateTimeWith, formatNumber, t, tx, type MessageKey } from '../lib/i18n';
import * as I from '../components/icons';
import './search.css';

const RANGES = ['7d', '30d', '1y', 'all', 'custom'] as const;
type Range = (typeof RANGES)[number];
const RANGE_LABELS: Record<Range, MessageKey> = { '7d': 'search.range.7d', '30d': 'search.range.30d', '1y': 'search.range.1y', all: 'search.range.all', custom: 'search.range.custom' };
const ALL = 'all';
const DAY = 86_400_000;
// typing waits this long for the next key before searching; Enter searches at once
const DEBOUNCE_MS = 120;
const GROUPS_SHOWN = 30;
const MATCHES_SHOWN = 50;

const SECTION: Record<Kind, { title: MessageKey; unit: MessageKey }> = {
  window: { title: 'search.section.window', unit: 'search.unit.window' },
  browser: { title: 'search.section.browser', unit: 'search.unit.browser' },
  editor: { title: 'search.section.editor', unit: 'search.unit.editor' },
};

interface Params {
  q: string;
  regex: boolean;
  range: Range;
  from: string;
  to: string;
  device: string;
}

/** The search in the address: `#/search?q=…&re=1&range=…&from=…&to=…&device=…`, or
 * `#/search/<query>` for a plain search. */
function readParams(parts: string[], query: URLSearchParams): Params {
  const range = query.get('range') as Range;
  return {
    q: query.get('q') ?? parts[0] ?? '',
    regex: query.get('re') === '1',
    range: RANGES.includes(range) ? range : 'all',
    from: query.get('from') || '',
    to: query.get('to') || '',
    device: query.get('device') || ALL,
  };
}

function paramsPath(p: Params): string {
  const s = new URLSearchParams();
  if (p.q) s.set('q', p.q);
  if (p.regex) s.set('re', '1');
  if (p.range !== 'all') s.set('range', p.range);
  if (p.range === 'custom') {
    if (p.from) s.set('from', p.from);
    if (p.to) s.set('to', p.to);
  }
  if (p.device !== ALL) s.set('device', p.device);
  const qs = s.toString();
  return '/search' + (qs ? '?' + qs : '');
}

/** The range asked for, in ms (the end is now for the presets); null for unfinished dates. */
function askedRange(p: Params, opts: DayOpts, now: number): { start: number; end: number } | null {
  switch (p.range) {
    case '7d': return { start: now - 7 * DAY, end: now };
    case '30d': return { start: now - 30 * DAY, end: now };
    case '1y': return { start: now - 365 * DAY, end: now };
    case 'all': return { start: -Infinity, end: now };
    case 'custom': {
      // whole days as the other pages count them (from the start-of-day hour)
      const off = offsetMinutes(opts.startOfDay);
      const f = parseYmd(p.from), t = parseYmd(p.to);
      if (!f && !t) return null;
      const start = f ? new Date(f.getFullYear(), f.getMonth(), f.getDate(), 0, off).getTime() : -Infinity;
      const end = t ? new Date(t.getFullYear(), t.getMonth(), t.getDate() + 1, 0, off).getTime() : now;
      return start < end ? { start, end } : null;
    }
  }
}

/** Where a match is in the Timeline: its day, and the time to zoom to. */
function timelineHref(t: number, opts: DayOpts): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `#/timeline/${ymd(logicalToday(opts, d))}/1/${p(d.getHours())}:${p(d.getMinutes())}`;
}

const fmtDate = (ms: number) => formatDate(ms, { year: 'numeric', month: 'short', day: 'numeric' });
const fmtWhen = (ms: number) => formatDateTimeWith(ms, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

type Phase = 'idle' | 'running' | 'done' | 'stopped' | 'error' | 'empty';
interface Progress {
  phase: Phase;
  /** the range searched, once known */
  start: number;
  end: number;
  /** searched from here to `end` so far */
  reached: number;
  steps: number;
  step: number;
}
const IDLE: Progress = { phase: 'idle', start: 0, end: 0, reached: 0, steps: 0, step: 0 };

// Performance marks for the browser tests and the benchmark: the first stretch's matches
// and the last one's on screen.
function markAtNextFrame(name: string) {
  requestAnimationFrame(() => performance.mark(name));
}

export function SearchPage({ parts }: { parts: string[] }) {
  const st = useStore();
  const [query, setQuery] = useState(() => new URLSearchParams(location.hash.split('?')[1] || ''));
  // the route's query string, re-read on every hash change (the router gives parts only to pages)
  useEffect(() => {
    const f = () => setQuery(new URLSearchParams(location.hash.split('?')[1] || ''));
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  const params = readParams(parts, query);
  const opts: DayOpts = { startOfDay: st.settings.startOfDay, startOfWeek: st.settings.startOfWeek };
  const remotes = remoteDevices(st.buckets, st.info);
  const hosts = activityHosts(st.buckets, remotes);
  const isLocal = (h: string) => !remotes.some((r) => r.label === h) && hostIsLocal(h);

  const [text, setText] = useState(params.q);
  const timer = useRef<number | undefined>(undefined);
  const running = useRef<AbortController | null>(null);
  const [groups, setGroups] = useState<{ list: Group[]; version: number }>({ list: [], version: 0 });
  const [progress, setProgress] = useState<Progress>(IDLE);
  const [err, setErr] = useState<unknown>(null);
  const [regexErr, setRegexErr] = useState<string | null>(null);
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [more, setMore] = useState<Record<string, boolean>>({});
  // bumped by every search asked for, so that asking again (Enter, or typing back to the
  // same text after the running search was cancelled) searches again
  const [asks, setAsks] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const commit = (p: Partial<Params>) => {
    clearTimeout(timer.current);
    timer.current = undefined;
    setAsks((n) => n + 1);
    navigate(paramsPath({ ...params, ...p }), true);
  };

  // the address changed on its own (a link, back, a reload): the box follows it
  useEffect(() => {
    if (timer.current === undefined) setText(params.q);
  }, [params.q]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const onType = (v: string) => {
    setText(v);
    // whatever is still running answers a question no longer asked
    running.current?.abort();
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => commit({ q: v }), DEBOUNCE_MS);
  };

  const device = params.device !== ALL && hosts.includes(params.device) ? params.device : null;
  const ids = useMemo(() => searchBuckets(st.buckets, device, remotes), [st.buckets, device, remotes.map((r) => r.label).join('|')]);
  const span = useMemo(() => dataSpan(st.buckets, ids), [st.buckets, ids]);
  const asked = askedRange(params, opts, Date.now());
  const searchKey = JSON.stringify([params.q, params.regex, params.range, params.from, params.to, device, ids, span, opts.startOfDay]);

  // a layout effect: the first request leaves as soon as the search is asked for, not a
  // frame later
  useLayoutEffect(() => {
    setErr(null);
    setRegexErr(null);
    setOpen({});
    setMore({});
    setGroups({ list: [], version: 0 });
    if (!st.bucketsLoaded || !st.settingsLoaded || !params.q) {
      setProgress(IDLE);
      return;
    }
    // the part of the asked range that holds events; nothing to read outside it
    const start = Math.max(asked?.start ?? 0, span?.start ?? 0);
    const end = Math.min(asked?.end ?? 0, span ? span.end + 1000 : 0);
    const lines = searchQuery(ids, toRegex(params.q, params.regex));
    const steps = start < end ? plan(start, end) : [];
    if (!steps.length) {
      setProgress({ ...IDLE, phase: 'empty' });
      // a regex is still checked, so a bad one is reported whatever the range
      if (!params.regex) return;
    }
    const ctrl = new AbortController();
    running.current = ctrl;
    setProgress({ phase: steps.length ? 'running' : 'empty', start, end, reached: end, steps: steps.length, step: 0 });
    const acc: Groups = new Map();
    (async () => {
      if (!steps.length) {
        await postQuery(periodString(new Date(0), new Date(1000)), lines, ctrl.signal);
        return;
      }
      const ask = (i: number) => postQuery(periodString(new Date(steps[i][0]), new Date(steps[i][1])), lines, ctrl.signal);
      let next: Promise<unknown> | null = ask(0);
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i][0];
        const answer = (await next) as ChunkAnswer;
        if (ctrl.signal.aborted) return;
        // the node reads the next stretch while this one is merged and shown
        next = i + 1 < steps.length ? ask(i + 1) : null;
        next?.catch(() => {});
        mergeAnswer(acc, answer);
        const last = i === steps.length - 1;
        setGroups({ list: [...acc.values()].sort((a, b) => b.duration - a.duration), version: i + 1 });
        setProgress({ phase: last ? 'done' : 'running', start, end, reached: s, steps: steps.length, step: i + 1 });
        if (i === 0) markAtNextFrame('awnode-search-first');
        if (last) markAtNextFrame('awnode-search-done');
      }
    })().catch((e) => {
      if (ctrl.signal.aborted) return;
      const re = regexError(e);
      if (re) setRegexErr(re);
      else setErr(e);
      setProgress((p) => ({ ...p, phase: 'error' }));
    });
    return () => ctrl.abort();
  }, [searchKey, asks, st.bucketsLoaded, st.settingsLoaded]);

  const stop = () => {
    running.current?.abort();
    setProgress((p) => (p.phase === 'running' ? { ...p, phase: 'stopped' } : p));
  };

  const mark = useMemo(() => highlighter(params.q, params.regex), [params.q, params.regex]);
  const byKind = KINDS.map((k) => ({ kind: k, groups: groups.list.filter((g) => g.kind === k) })).filter((s) => s.groups.length);
  const nMatches = groups.list.reduce((n, g) => n + g.matches.size, 0);
  const pending = progress.phase === 'running' || (!!text && text !== params.q);
  const day = (v: string) => { const d = parseYmd(v); return d ? fmtDate(d.getTime()) : '…'; };
  const shownRange = params.range === 'custom' ? `${day(params.from)} – ${day(params.to)}`
    : asked && params.range !== 'all' ? `${fmtDate(asked.start)} – ${fmtDate(asked.end)}` : t('search.allTime');

  return (
    <div class="page search" data-testid="search-page">
      <div class="page-head">
        <div>
          <h1>{t('nav.search')}</h1>
          <div class="page-sub">{t('search.sub')} · {shownRange}</div>
        </div>
      </div>

      <form class="sr-form" role="search" onSubmit={(e) => { e.preventDefault(); commit({ q: text }); }}>
        <div class={'sr-box' + (regexErr ? ' invalid' : '')}>
          <I.IconSearch />
          <input
            type="search"
            class="sr-input"
            data-testid="search-input"
            aria-label={t('nav.search')}
            aria-invalid={regexErr ? 'true' : undefined}
            aria-describedby={regexErr ? 'search-error' : undefined}
            placeholder={params.regex ? t('search.placeholderRegex') : t('search.placeholder')}
            value={text}
            ref={input}
            spellcheck={false}
            autocomplete="off"
            onInput={(e) => onType((e.target as HTMLInputElement).value)}
          />
          <label class="sr-regex" title={t('search.regexTitle')}>
            <input type="checkbox" data-testid="search-regex" checked={params.regex} onChange={(e) => commit({ q: text, regex: (e.target as HTMLInputElement).checked })} />
            <span>{t('search.regex')}</span>
          </label>
        </div>
        {regexErr && (
          <div class="sr-error" id="search-error" role="alert" data-testid="search-error">
            {t('search.invalidRegex', { error: regexErr })}
          </div>
        )}
        <div class="sr-controls">
          <Segmented testId="search-range" value={params.range} onChange={(r) => commit({ q: text, range: r })}
            options={RANGES.map((r) => ({ value: r, label: t(RANGE_LABELS[r]) }))} />
          {params.range === 'custom' && (
            <span class="sr-dates">
              <input type="date" class="input date-input" aria-label={t('query.from')} data-testid="search-from" value={params.from}
                onChange={(e) => commit({ q: text, from: (e.target as HTMLInputElement).value })} />
              <span class="muted">–</span>
              <input type="date" class="input date-input" aria-label={t('query.to')} data-testid="search-to" value={params.to}
                onChange={(e) => commit({ q: text, to: (e.target as HTMLInputElement).value })} />
            </span>
          )}
          <select class="select" data-testid="search-device" aria-label={t('sync.col.device')} value={device ?? ALL}
            onChange={(e) => commit({ q: text, device: (e.target as HTMLSelectElement).value })}>
            <option value={ALL}>{t('search.allDevices')}</option>
            {hosts.map((h) => <option value={h}>{h + ' (' + (isLocal(h) ? t('buckets.thisDevice') : t('search.remote')) + ')'}</option>)}
          </select>
        </div>
      </form>

      {!regexErr && <Status progress={progress} nMatches={nMatches} total={groups.list.reduce((s, g) => s + g.duration, 0)} onStop={stop} q={params.q} />}
      <ErrorBox error={err} title={t('search.failed')} />

      {!params.q && !text && (
        <div class="card sr-hint">
          <I.IconSearch />
          <div>
            <p><strong>{t('search.hintTitle')}</strong></p>
            <p class="muted">{tx('search.hint', { regex: <em>{t('search.regex')}</em>, ex1: <code>^(GitHub|Slack) </code>, ex2: <code>\.pdf$</code> })}</p>
          </div>
        </div>
      )}

      {byKind.map(({ kind, groups: gs }) => {
        const all = !!more[kind];
        const shown = all ? gs : gs.slice(0, GROUPS_SHOWN);
        return (
          <section class="card sr-section" data-testid={`search-section-${kind}`} key={kind}>
            <header class="card-head">
              <h3>{t(SECTION[kind].title)}</h3>
              <div class="card-sub">{t('search.groups', { n: gs.length })}</div>
            </header>
            <ul class="sr-groups">
              {shown.map((g) => {
                const key = kind + '\u0000' + g.name;
                return (
                  <GroupRow key={key} group={g} open={!!open[key]} showAll={!!more[key]} mark={mark} opts={opts}
                    onToggle={() => setOpen({ ...open, [key]: !open[key] })} onMore={() => setMore({ ...more, [key]: true })} />
                );
              })}
            </ul>
            {gs.length > shown.length && (
              <button class="btn btn-ghost btn-sm sr-more" onClick={() => setMore({ ...more, [kind]: true })}>
                {t('search.moreGroups', { n: gs.length - shown.length })}
              </button>
            )}
          </section>
        );
      })}

      {!pending && params.q && (progress.phase === 'done' || progress.phase === 'empty') && !groups.list.length && !regexErr && (
        <div class="card sr-hint" data-testid="search-nothing">
          <I.IconSearch />
          <div>
            <p>{tx('search.nothing', { q: <strong>{params.q}</strong> })}{progress.phase === 'empty' ? ' (' + (span ? t('search.noEventsSpan', { from: fmtDate(span.start), to: fmtDate(span.end) }) : t('search.noEvents')) + ')' : '.'}</p>
            {params.range !== 'all' && <button class="btn btn-sm" onClick={() => commit({ q: text, range: 'all' })}>{t('search.allTimeButton')}</button>}
          </div>
        </div>
      )}
    </div>
  );
}

function Status({ progress: p, nMatches, total, onStop, q }: { progress: Progress; nMatches: number; total: number; onStop: () => void; q: string }) {
  if (!q || p.phase === 'idle' || p.phase === 'empty') return null;
  const frac = p.end > p.start ? (p.end - p.reached) / (p.end - p.start) : 1;
  const what = `${t('search.matches', { n: nMatches })} · ${fmtDuration(total)}`;
  let line: ComponentChildren;
  if (p.phase === 'running') line = tx('search.searching', { date: <strong>{fmtDate(p.reached)}</strong>, step: p.step, steps: p.steps });
  else if (p.phase === 'done') line = t('search.searched', { from: fmtDate(p.start), to: fmtDate(p.end - 1) });
  else if (p.phase === 'stopped') line = tx('search.stopped', { date: <strong>{fmtDate(p.reached)}</strong> });
  else line = t('search.stoppedError');
  return (
    <div class="sr-status" data-testid="search-status" data-state={p.phase} data-q={q} data-reached={new Date(p.reached).toISOString()} aria-live="polite">
      <div class="sr-status-line">
        <span data-testid="search-summary">{what}</span>
        <span class="muted">{line}</span>
        {p.phase === 'running' && <button type="button" class="btn btn-sm" onClick={onStop}>{t('buckets.merge.stop')}</button>}
      </div>
      {(p.phase === 'running' || p.phase === 'stopped') && (
        <div class="sr-progress" role="progressbar" aria-label={t('search.progress')} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(frac * 100)}>
          <span style={{ width: `${Math.max(2, frac * 100)}%` }} />
        </div>
      )}
    </div>
  );
}

function GroupRow({ group: g, open, showAll, mark, opts, onToggle, onMore }: {
  group: Group; open: boolean; showAll: boolean; mark: RegExp | null; opts: DayOpts; onToggle: () => void; onMore: () => void;
}) {
  const n = g.matches.size;
  const unit = SECTION[g.kind].unit;
  const color = hashColor(g.name);
  const matches = open ? [...g.matches.values()].sort((a, b) => b.duration - a.duration) : [];
  const shown = showAll ? matches : matches.slice(0, MATCHES_SHOWN);
  const listId = `sr-${g.kind}-${encodeURIComponent(g.name)}`;
  return (
    <li class="sr-group" data-testid="search-group" data-kind={g.kind} data-name={g.name} data-seconds={g.duration} data-count={n}>
      <button type="button" class="sr-head" aria-expanded={open} aria-controls={listId} onClick={onToggle}>
        <span class={'sr-chevron' + (open ? ' open' : '')}><I.IconChevronRight /></span>
        <span class="tl-dot" style={{ background: color }} />
        <span class="sr-title">
          <span class="sr-name"><Marked text={g.name} mark={mark} /></span>
          <span class="sr-count">{t(unit, { n })}</span>
        </span>
        <span class="sr-dur">{fmtDuration(g.duration)}</span>
      </button>
      {open && (
        <ul class="sr-matches" id={listId}>
          {shown.map((m) => <MatchRow m={m} mark={mark} opts={opts} />)}
          {matches.length > shown.length && (
            <li><button type="button" class="btn btn-ghost btn-sm" onClick={onMore}>{t('search.showAll', { n: formatNumber(matches.length) })}</button></li>
          )}
        </ul>
      )}
    </li>
  );
}

function MatchRow({ m, mark, opts }: { m: Match; mark: RegExp | null; opts: DayOpts }) {
  return (
    <li class="sr-match" data-testid="search-match" data-seconds={m.duration} data-last={new Date(m.last).toISOString()}>
      <a href={timelineHref(m.last, opts)} title={t('search.openTimeline', { when: fmtWhen(m.last) })}>
        <span class="sr-label"><Marked text={m.label || t('search.empty')} mark={mark} /></span>
        {m.sub && <span class="sr-sub"><Marked text={m.sub} mark={mark} /></span>}
      </a>
      <span class="sr-when">{fmtWhen(m.last)}</span>
      <span class="sr-dur">{fmtDuration(m.duration)}</span>
    </li>
  );
}

/** The text with what the search matched in <mark> (as JavaScript reads the pattern). */
function Marked({ text, mark }: { text: string; mark: RegExp | null }) {
  if (!mark || text.length > 2000) return <>{text}</>;
  const out: ComponentChildren[] = [];
  let at = 0;
  mark.lastIndex = 0;
  for (let m = mark.exec(text); m; m = mark.exec(text)) {
    if (!m[0].length) {
      mark.lastIndex++;
      continue;
    }
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(<mark>{m[0]}</mark>);
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return <>{out}</>;
}
