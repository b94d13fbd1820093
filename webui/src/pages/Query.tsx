import { useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import type { AWEvent } from '../lib/types';
import { activityHosts, exampleQueries, hostBuckets } from '../lib/queries';
import { useStore } from '../lib/store';
import { fmtDuration, logicalToday, toLocalInput } from '../lib/time';
import { formatDateTime, formatNumber, t, type MessageKey } from '../lib/i18n';

// lib/queries.ts names its examples in English; shown here in the UI's language
const EXAMPLE_NAMES: Record<string, MessageKey> = {
  'Top applications (active time)': 'query.example.topApps',
  'Total active time': 'query.example.total',
  'Titles matching a regex': 'query.example.titles',
  'Bucket names': 'query.example.buckets',
  'Browser domains': 'query.example.domains',
};
const exampleName = (name: string) => (EXAMPLE_NAMES[name] ? t(EXAMPLE_NAMES[name]) : name);
import { Card, download, Empty, Segmented } from '../components/ui';
import * as I from '../components/icons';

const HIST_KEY = 'awnode.queryHistory';
const DRAFT_KEY = 'awnode.queryDraft';

interface Hist {
  text: string;
  at: string;
  start: string;
  end: string;
}

function loadHist(): Hist[] {
  try {
    const h = JSON.parse(localStorage.getItem(HIST_KEY) || '[]');
    return Array.isArray(h) ? h : [];
  } catch {
    return [];
  }
}

export function QueryPage() {
  const st = useStore();
  const hosts = activityHosts(st.buckets);
  const local = st.info?.hostname;
  const hb = useMemo(() => (hosts.length ? hostBuckets(st.buckets, local && hosts.includes(local) ? local : hosts[0]) : null), [st.buckets, local]);
  const examples = exampleQueries(hb);
  const today = logicalToday({ startOfDay: st.settings.startOfDay, startOfWeek: st.settings.startOfWeek });
  const [text, setText] = useState<string>(() => localStorage.getItem(DRAFT_KEY) || '');
  const [start, setStart] = useState(toLocalInput(new Date(today.getTime() - 6 * 86400_000)));
  const [end, setEnd] = useState(toLocalInput(new Date(today.getTime() + 86400_000)));
  const [hist, setHist] = useState<Hist[]>(loadHist);
  const [result, setResult] = useState<{ value: unknown; ms: number; bytes: number } | null>(null);
  const [err, setErr] = useState<ApiError | Error | null>(null);
  const [running, setRunning] = useState(false);
  const [view, setView] = useState<'table' | 'json'>('table');
  const ta = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const tabLeaves = useRef(false); // Escape was pressed: the next Tab moves the focus on
  const src = text || examples[0]?.text || '';

  const run = async () => {
    const s = new Date(start), e = new Date(end);
    if (Number.isNaN(s.getTime()) || Number.isNaN(e.getTime())) {
      setErr(new Error(t('query.invalidPeriod')));
      return;
    }
    setRunning(true);
    setErr(null);
    const t0 = performance.now();
    try {
      const r = await api.query([`${s.toISOString()}/${e.toISOString()}`], src.split('\n'), { cache: false });
      const ms = performance.now() - t0;
      setResult({ value: r[0], ms, bytes: JSON.stringify(r).length });
    } catch (x) {
      setErr(x instanceof Error ? x : new Error(String(x)));
      setResult(null);
    } finally {
      setRunning(false);
    }
    const h = [{ text: src, at: new Date().toISOString(), start, end }, ...hist.filter((x) => x.text !== src)].slice(0, 25);
    setHist(h);
    try {
      localStorage.setItem(HIST_KEY, JSON.stringify(h));
    } catch { /* full */ }
  };

  const setSrc = (t: string) => {
    setText(t);
    try {
      localStorage.setItem(DRAFT_KEY, t);
    } catch { /* full */ }
  };

  const preset = (days: number) => {
    setStart(toLocalInput(new Date(today.getTime() - (days - 1) * 86400_000)));
    setEnd(toLocalInput(new Date(today.getTime() + 86400_000)));
  };

  const lines = src.split('\n');
  const errLine = err instanceof ApiError ? err.line : 0;
  const errCol = err instanceof ApiError ? err.column : 0;

  return (
    <div class="page" data-testid="query-page">
      <div class="page-head">
        <div>
          <h1>{t('query.title')}</h1>
          <div class="page-sub">{t('query.sub')}</div>
        </div>
        <div class="toolbar">
          <select class="select" aria-label={t('query.examplesLabel')} onChange={(e) => { const i = +(e.target as HTMLSelectElement).value; if (i >= 0) setSrc(examples[i].text); (e.target as HTMLSelectElement).value = '-1'; }}>
            <option value="-1">{t('query.examples')}</option>
            {examples.map((x, i) => <option value={i}>{exampleName(x.name)}</option>)}
          </select>
        </div>
      </div>
      <div class="query-layout">
        <div class="query-main">
          <Card class="editor-card">
            <div class="editor">
              <div class="gutter" ref={gutter} aria-hidden="true">
                {lines.map((_, i) => <div class={i + 1 === errLine ? 'err' : ''}>{i + 1}</div>)}
              </div>
              <textarea
                ref={ta}
                spellcheck={false}
                aria-label={t('query.editorLabel')}
                data-testid="query-editor"
                value={src}
                onInput={(e) => setSrc((e.target as HTMLTextAreaElement).value)}
                onScroll={(e) => gutter.current && (gutter.current.scrollTop = (e.target as HTMLTextAreaElement).scrollTop)}
                onKeyDown={(e) => {
                  if (e.key !== 'Escape' && e.key !== 'Tab') tabLeaves.current = false;
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                    e.preventDefault();
                    run();
                  } else if (e.key === 'Escape') {
                    // Tab indents, so Escape then Tab leaves the editor (as code editors do)
                    tabLeaves.current = true;
                  } else if (e.key === 'Tab' && (tabLeaves.current || e.shiftKey)) {
                    tabLeaves.current = false;
                  } else if (e.key === 'Tab') {
                    e.preventDefault();
                    const t = e.target as HTMLTextAreaElement;
                    const p = t.selectionStart;
                    setSrc(src.slice(0, p) + '  ' + src.slice(t.selectionEnd));
                    requestAnimationFrame(() => t.setSelectionRange(p + 2, p + 2));
                  }
                }}
              />
            </div>
            <div class="query-controls">
              <label class="field-inline">{t('query.from')} <input type="datetime-local" class="input input-sm" value={start} onInput={(e) => setStart((e.target as HTMLInputElement).value)} /></label>
              <label class="field-inline">{t('query.to')} <input type="datetime-local" class="input input-sm" value={end} onInput={(e) => setEnd((e.target as HTMLInputElement).value)} /></label>
              <div class="btn-group">
                <button class="btn btn-sm btn-ghost" onClick={() => preset(1)}>{t('query.today')}</button>
                <button class="btn btn-sm btn-ghost" onClick={() => preset(7)}>{t('query.days', { n: 7 })}</button>
                <button class="btn btn-sm btn-ghost" onClick={() => preset(30)}>{t('query.days', { n: 30 })}</button>
                <button class="btn btn-sm btn-ghost" onClick={() => preset(365)}>{t('query.year')}</button>
              </div>
              <button class="btn btn-primary" onClick={run} disabled={running} data-testid="run-query">
                <I.IconPlay /> {running ? t('query.running') : t('query.run')}
              </button>
            </div>
          </Card>

          {err && (
            <div class="alert alert-error" data-testid="query-error">
              <strong>{err instanceof ApiError && err.status ? t('query.errorStatus', { status: String(err.status) }) : t('query.error')}{errLine ? ' ' + (errCol ? t('query.atLineCol', { line: errLine, col: errCol }) : t('query.atLine', { line: errLine })) : ''}</strong>
              <div class="mono">{err.message}</div>
              {errLine > 0 && lines[errLine - 1] !== undefined && (
                <pre class="err-snippet">{lines[errLine - 1] + '\n' + (errCol ? ' '.repeat(Math.max(0, errCol - 1)) + '^' : '')}</pre>
              )}
            </div>
          )}

          {result && (
            <Card
              title={t('query.result')}
              testId="query-result"
              subtitle={`${formatNumber(Math.round(result.ms))} ms · ${formatNumber(result.bytes / 1024, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} KiB`}
              actions={
                <>
                  <Segmented value={view} onChange={setView} options={[{ value: 'table', label: t('query.table') }, { value: 'json', label: 'JSON' }]} />
                  <button class="btn btn-sm btn-ghost" title={t('query.download')} aria-label={t('query.download')} onClick={() => download('query-result.json', JSON.stringify(result.value, null, 2))}><I.IconDownload /></button>
                </>
              }
            >
              {view === 'json' ? <pre class="json-view" data-testid="query-json">{JSON.stringify(result.value, null, 2)}</pre> : <ResultTable value={result.value} />}
            </Card>
          )}
        </div>
        <aside class="query-side">
          <Card title={t('query.history')} subtitle={t('query.historySub')}>
            {!hist.length ? (
              <Empty>{t('query.noHistory')}</Empty>
            ) : (
              <ul class="hist">
                {hist.map((h) => (
                  <li>
                    <button class="hist-item" onClick={() => { setSrc(h.text); setStart(h.start); setEnd(h.end); }} title={h.text}>
                      <span class="mono small">{h.text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'))?.slice(0, 60) || h.text.slice(0, 60)}</span>
                      <span class="muted small">{formatDateTime(h.at)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card title={t('query.buckets')}>
            <ul class="bucket-names">
              {st.buckets.map((b) => (
                <li><button class="link mono small" onClick={() => setSrc(src + (src.endsWith('\n') || !src ? '' : '\n') + `events = query_bucket("${b.id}");`)}>{b.id}</button></li>
              ))}
            </ul>
          </Card>
        </aside>
      </div>
    </div>
  );
}

/** An event as the query language returns it (id, timestamp, duration, data). */
function isEvent(x: unknown): x is AWEvent {
  return !!x && typeof x === 'object' && typeof (x as { timestamp?: unknown }).timestamp === 'string' && 'duration' in x && 'data' in x;
}

function ResultTable({ value }: { value: unknown }) {
  if (Array.isArray(value) && value.length && value.every(isEvent)) {
    const keys = [...new Set(value.slice(0, 1000).flatMap((e) => Object.keys(e.data || {})))].sort().slice(0, 8);
    const rows = value.slice(0, 1000);
    return (
      <div class="table-wrap">
        <div class="muted small">{t('common.events', { n: value.length })}{value.length > 1000 ? ' ' + t('query.first1000') : ''}</div>
        <table class="table" data-testid="result-table">
          <thead><tr><th>{t('bucket.col.time')}</th><th class="num">{t('bucket.col.duration')}</th>{keys.map((k) => <th>{k}</th>)}</tr></thead>
          <tbody>
            {rows.map((e) => (
              <tr>
                <td class="nowrap">{formatDateTime(e.timestamp, true)}</td>
                <td class="num nowrap">{fmtDuration(e.duration, true)}</td>
                {keys.map((k) => <td class="cell-clip" title={fmt(e.data?.[k])}>{fmt(e.data?.[k])}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return (
      <table class="table" data-testid="result-table">
        <tbody>
          {Object.entries(value as Record<string, unknown>).map(([k, v]) => (
            <tr>
              <th class="mono">{k}</th>
              <td>{Array.isArray(v) && v.every(isEvent) ? <details><summary>{t('common.events', { n: v.length })}</summary><ResultTable value={v} /></details> : v && typeof v === 'object' ? <ResultTable value={v} /> : <span class="mono">{fmt(v)}{typeof v === 'number' && v > 60 ? <span class="muted"> ({fmtDuration(v)})</span> : null}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  if (typeof value === 'number') {
    return <div class="big-number" data-testid="result-table">{value}{value > 60 ? <span class="muted"> s · {fmtDuration(value, true)}</span> : null}</div>;
  }
  return <pre class="json-view" data-testid="result-table">{JSON.stringify(value, null, 2)}</pre>;
}

function fmt(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
