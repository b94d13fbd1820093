import { useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import type { AWEvent } from '../lib/types';
import { activityHosts, exampleQueries, hostBuckets } from '../lib/queries';
import { useStore } from '../lib/store';
import { fmtDateTime, fmtDuration, logicalToday, toLocalInput } from '../lib/time';
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
  const src = text || examples[0]?.text || '';

  const run = async () => {
    const s = new Date(start), e = new Date(end);
    if (Number.isNaN(s.getTime()) || Number.isNaN(e.getTime())) {
      setErr(new Error('Choose a valid time period.'));
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
          <h1>Query explorer</h1>
          <div class="page-sub">ActivityWatch's query language, run on this node. Ctrl+Enter runs.</div>
        </div>
        <div class="toolbar">
          <select class="select" onChange={(e) => { const i = +(e.target as HTMLSelectElement).value; if (i >= 0) setSrc(examples[i].text); (e.target as HTMLSelectElement).value = '-1'; }}>
            <option value="-1">Examples…</option>
            {examples.map((x, i) => <option value={i}>{x.name}</option>)}
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
                data-testid="query-editor"
                value={src}
                onInput={(e) => setSrc((e.target as HTMLTextAreaElement).value)}
                onScroll={(e) => gutter.current && (gutter.current.scrollTop = (e.target as HTMLTextAreaElement).scrollTop)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                    e.preventDefault();
                    run();
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
              <label class="field-inline">From <input type="datetime-local" class="input input-sm" value={start} onInput={(e) => setStart((e.target as HTMLInputElement).value)} /></label>
              <label class="field-inline">To <input type="datetime-local" class="input input-sm" value={end} onInput={(e) => setEnd((e.target as HTMLInputElement).value)} /></label>
              <div class="btn-group">
                <button class="btn btn-sm btn-ghost" onClick={() => preset(1)}>Today</button>
                <button class="btn btn-sm btn-ghost" onClick={() => preset(7)}>7 days</button>
                <button class="btn btn-sm btn-ghost" onClick={() => preset(30)}>30 days</button>
                <button class="btn btn-sm btn-ghost" onClick={() => preset(365)}>Year</button>
              </div>
              <button class="btn btn-primary" onClick={run} disabled={running} data-testid="run-query">
                <I.IconPlay /> {running ? 'Running…' : 'Run'}
              </button>
            </div>
          </Card>

          {err && (
            <div class="alert alert-error" data-testid="query-error">
              <strong>{err instanceof ApiError && err.status ? `Error ${err.status}` : 'Error'}{errLine ? ` at line ${errLine}${errCol ? `, column ${errCol}` : ''}` : ''}</strong>
              <div class="mono">{err.message}</div>
              {errLine > 0 && lines[errLine - 1] !== undefined && (
                <pre class="err-snippet">{lines[errLine - 1] + '\n' + (errCol ? ' '.repeat(Math.max(0, errCol - 1)) + '^' : '')}</pre>
              )}
            </div>
          )}

          {result && (
            <Card
              title="Result"
              testId="query-result"
              subtitle={`${result.ms.toFixed(0)} ms · ${(result.bytes / 1024).toFixed(1)} KiB`}
              actions={
                <>
                  <Segmented value={view} onChange={setView} options={[{ value: 'table', label: 'Table' }, { value: 'json', label: 'JSON' }]} />
                  <button class="btn btn-sm btn-ghost" onClick={() => download('query-result.json', JSON.stringify(result.value, null, 2))}><I.IconDownload /></button>
                </>
              }
            >
              {view === 'json' ? <pre class="json-view" data-testid="query-json">{JSON.stringify(result.value, null, 2)}</pre> : <ResultTable value={result.value} />}
            </Card>
          )}
        </div>
        <aside class="query-side">
          <Card title="History" subtitle="Last queries, kept in this browser">
            {!hist.length ? (
              <Empty>No queries yet</Empty>
            ) : (
              <ul class="hist">
                {hist.map((h) => (
                  <li>
                    <button class="hist-item" onClick={() => { setSrc(h.text); setStart(h.start); setEnd(h.end); }} title={h.text}>
                      <span class="mono small">{h.text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'))?.slice(0, 60) || h.text.slice(0, 60)}</span>
                      <span class="muted small">{fmtDateTime(h.at)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card title="Buckets">
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
        <div class="muted small">{value.length.toLocaleString()} events{value.length > 1000 ? ' (first 1000 shown)' : ''}</div>
        <table class="table" data-testid="result-table">
          <thead><tr><th>Time</th><th class="num">Duration</th>{keys.map((k) => <th>{k}</th>)}</tr></thead>
          <tbody>
            {rows.map((e) => (
              <tr>
                <td class="nowrap">{fmtDateTime(e.timestamp, true)}</td>
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
              <td>{Array.isArray(v) && v.every(isEvent) ? <details><summary>{v.length} events</summary><ResultTable value={v} /></details> : v && typeof v === 'object' ? <ResultTable value={v} /> : <span class="mono">{fmt(v)}{typeof v === 'number' && v > 60 ? <span class="muted"> ({fmtDuration(v)})</span> : null}</span>}</td>
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
