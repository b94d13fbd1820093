import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, errorMessage } from '../lib/api';
import type { AWEvent } from '../lib/types';
import { hashColor } from '../lib/categories';
import { getState, loadBuckets, useStore } from '../lib/store';
import { fmtDuration, ymd } from '../lib/time';
import { formatDate, formatTime as fmtTime, t, tx } from '../lib/i18n';
import { Card, Empty, ErrorBox, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';

// Timers are events in bucket `aw-stopwatch` (as ActivityWatch's web UI stores them):
// data {label, running}; a running timer's duration is filled in when it is stopped.
const BUCKET = 'aw-stopwatch';

async function ensureBucket() {
  if (getState().buckets.some((b) => b.id === BUCKET)) return;
  try {
    await api.createBucket(BUCKET, { type: 'general.stopwatch', client: 'aw-webui', hostname: '!local' });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 304) throw e;
  }
  await loadBuckets();
}

function useNow(active: boolean) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

export function StopwatchPage() {
  const st = useStore();
  const exists = st.buckets.some((b) => b.id === BUCKET);
  const [events, setEvents] = useState<AWEvent[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [label, setLabel] = useState('');

  const load = async () => {
    if (!exists) return setEvents([]);
    try {
      setEvents(await api.events(BUCKET, { limit: 1000 }));
    } catch (e) {
      setErr(e);
    }
  };
  useEffect(() => {
    if (st.bucketsLoaded) load();
  }, [st.bucketsLoaded, exists]);

  const running = (events || []).filter((e) => e.data.running);
  const done = (events || []).filter((e) => !e.data.running);
  const now = useNow(running.length > 0);

  const start = async (l: string) => {
    try {
      await ensureBucket();
      const [ev] = await api.insertEvents(BUCKET, [{ timestamp: new Date().toISOString(), duration: 0, data: { running: true, label: l.trim() } }]);
      setEvents([ev, ...(events || [])]);
      setLabel('');
    } catch (e) {
      toast(t('stopwatch.startFailed', { error: errorMessage(e) }), 'error');
    }
  };

  const stop = async (e: AWEvent) => {
    const duration = Math.max(0, (Date.now() - Date.parse(e.timestamp)) / 1000);
    try {
      const [ev] = await api.insertEvents(BUCKET, [{ id: e.id, timestamp: e.timestamp, duration, data: { ...e.data, running: false } }]);
      setEvents((events || []).map((x) => (x.id === e.id ? ev : x)));
    } catch (x) {
      toast(t('stopwatch.stopFailed', { error: errorMessage(x) }), 'error');
    }
  };

  const remove = async (e: AWEvent) => {
    if (e.id == null) return;
    try {
      await api.deleteEvent(BUCKET, e.id);
      setEvents((events || []).filter((x) => x.id !== e.id));
    } catch (x) {
      toast(errorMessage(x), 'error');
    }
  };

  const days = useMemo(() => {
    const m = new Map<string, AWEvent[]>();
    for (const e of done) {
      const k = ymd(new Date(e.timestamp));
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(e);
    }
    return [...m.entries()].sort((a, b) => b[0].localeCompare(a[0]));
  }, [events]);

  const recentLabels = [...new Set(done.map((e) => String(e.data.label || '')).filter(Boolean))].slice(0, 6);

  return (
    <div class="page" data-testid="stopwatch-page">
      <div class="page-head">
        <div>
          <h1>{t('nav.stopwatch')}</h1>
          <div class="page-sub">{tx('stopwatch.sub', { bucket: <code>{BUCKET}</code> })}</div>
        </div>
      </div>
      <Card class="stopwatch-new">
        <form class="sw-form" onSubmit={(e) => { e.preventDefault(); start(label); }}>
          <input class="input input-lg" placeholder={t('stopwatch.placeholder')} aria-label={t('stopwatch.placeholder')} value={label} data-testid="sw-label" onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
          <button class="btn btn-primary btn-lg" type="submit" data-testid="sw-start"><I.IconPlay /> {t('stopwatch.start')}</button>
        </form>
        {recentLabels.length > 0 && (
          <div class="chips">
            {recentLabels.map((l) => <button class="chip" onClick={() => start(l)}><span class="tl-dot" style={{ background: hashColor(l) }} /> {l}</button>)}
          </div>
        )}
      </Card>
      <ErrorBox error={err} />
      {running.length > 0 && (
        <div class="running-list">
          {running.map((e) => (
            <div class="running" data-testid="sw-running">
              <span class="pulse" />
              <div class="running-label">{e.data.label || <span class="muted">{t('stopwatch.noLabel')}</span>}<div class="muted small">{t('stopwatch.since', { time: fmtTime(e.timestamp) })}</div></div>
              <div class="running-time mono">{clock((now - Date.parse(e.timestamp)) / 1000)}</div>
              <button class="btn btn-danger" onClick={() => stop(e)} data-testid="sw-stop"><I.IconStop /> {t('stopwatch.stop')}</button>
            </div>
          ))}
        </div>
      )}
      {!events ? (
        <Skeleton />
      ) : !done.length && !running.length ? (
        <Card><Empty icon="⏱">{t('stopwatch.empty')}</Empty></Card>
      ) : (
        days.map(([day, evs]) => (
          <Card title={formatDate(new Date(day + 'T12:00'), { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' })} subtitle={fmtDuration(evs.reduce((a, e) => a + e.duration, 0))}>
            <table class="table">
              <tbody>
                {evs.map((e) => (
                  <tr>
                    <td><span class="tl-dot" style={{ background: hashColor(String(e.data.label || '')) }} /> {e.data.label || <span class="muted">{t('stopwatch.noLabel')}</span>}</td>
                    <td class="muted nowrap">{fmtTime(e.timestamp)} – {fmtTime(new Date(Date.parse(e.timestamp) + e.duration * 1000))}</td>
                    <td class="num nowrap">{fmtDuration(e.duration, true)}</td>
                    <td class="actions-col">
                      <button class="btn btn-ghost btn-sm" title={t('stopwatch.again')} aria-label={t('stopwatch.again')} onClick={() => start(String(e.data.label || ''))}><I.IconPlay /></button>
                      <button class="btn btn-ghost btn-sm btn-danger-text" title={t('common.delete')} aria-label={t('common.delete')} onClick={() => remove(e)}><I.IconTrash /></button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        ))
      )}
    </div>
  );
}

function clock(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}
