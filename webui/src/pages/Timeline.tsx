import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { EChartsType } from 'echarts/core';
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams, CustomSeriesRenderItemReturn, DefaultLabelFormatterCallbackParams } from 'echarts';
import { api } from '../lib/api';
import type { AWEvent, Bucket } from '../lib/types';
import { hashColor } from '../lib/categories';
import { navigate, useRoute } from '../lib/router';
import { devices, isRemote, lastUpdated, remoteDevices, useStore } from '../lib/store';
import { addPeriod, fmtDateTime, fmtDuration, logicalToday, offsetMinutes, parseYmd, periodString, ymd } from '../lib/time';
import { activityHosts, deviceBuckets, deviceSpansQuery, Ev } from '../lib/queries';
import { axisColors, Chart } from '../components/Chart';
import { Badge, Card, Empty, ErrorBox, Segmented, Skeleton } from '../components/ui';
import * as I from '../components/icons';
import { deviceColor, esc } from './Activity';

const SPANS = ['1', '3', '7', '31'] as const;
type Span = (typeof SPANS)[number];
// `#/timeline/last/<hours>`: the hours up to now, as aw-webui's "last N hours" view
const HOURS = ['1', '3', '6', '12', '24'] as const;
type Hours = (typeof HOURS)[number];
const MINUTE_MS = 60_000;

const DAY_MS = 86_400_000;
// A view of several days is labelled by its logical days (the time axis would pick its own
// ticks: midnights and month starts, unevenly spaced, none at the first day's start), every
// `step` days, the smallest step whose labels do not collide.
const DAY_STEPS = [1, 2, 3, 7, 14, 28];
const LONG_LABEL_PX = 100; // "Mon, Feb 3" and a gap
const SHORT_LABEL_PX = 52; // "Feb 3" and a gap

const pad2 = (n: number) => String(n).padStart(2, '0');

const TYPE_ORDER = ['afkstatus', 'currentwindow', 'web.tab.current', 'app.editor.activity', 'general.stopwatch'];

// The lane showing which device was in use when (several devices): the Activity page's "All
// devices" attribution (docs/webui.md), one span per stretch of a device's time.
const IN_USE = 'device in use';
const inUseLane = (): Bucket => ({
  id: IN_USE, type: IN_USE, client: 'awnode', hostname: 'all devices', created: null, data: {},
  metadata: { start: null, end: null }, last_updated: null,
});

function laneLabel(b: Bucket): string {
  if (b.type === IN_USE) return 'in use';
  const m = /^aw-watcher-([^_]+)/.exec(b.id);
  if (m) return m[1];
  if (b.id.startsWith('aw-stopwatch')) return 'stopwatch';
  return b.id.replace(/_[^_]*$/, '');
}

export function eventColor(b: Bucket, e: AWEvent): string {
  const d = e.data || {};
  switch (b.type) {
    case IN_USE:
      return deviceColor(String(d.device ?? ''));
    case 'afkstatus':
      return d.status === 'not-afk' ? '#22c55e' : '#94a3b8';
    case 'currentwindow':
      return hashColor(String(d.app ?? ''));
    case 'web.tab.current': {
      let dom = '';
      try {
        dom = new URL(String(d.url)).hostname.replace(/^www\./, '');
      } catch { /* not a URL */ }
      return hashColor(dom);
    }
    case 'app.editor.activity':
      return hashColor(String(d.project ?? d.file ?? ''));
    default:
      return hashColor(String(d.label ?? d.title ?? d.app ?? JSON.stringify(d)));
  }
}

export function TimelinePage() {
  const st = useStore();
  const { parts } = useRoute();
  const opts = { startOfDay: st.settings.startOfDay, startOfWeek: st.settings.startOfWeek };
  const hours = parts[1] === 'last' ? ((HOURS.includes(parts[2] as Hours) ? parts[2] : '6') as Hours) : null;
  const date = (!hours && parseYmd(parts[1])) || logicalToday(opts);
  const span = (!hours && SPANS.includes(parts[2] as Span) ? parts[2] : '1') as Span;
  const off = offsetMinutes(st.settings.startOfDay);
  // "now" for the last-hours view: fixed when the route is opened or refreshed (to the next
  // whole minute), so that re-renders do not move the range and fetch it again; Refresh
  // (tick) reads the events again even within the same minute
  const [tick, setTick] = useState(0);
  const nowMs = useMemo(() => Math.ceil(Date.now() / MINUTE_MS) * MINUTE_MS, [parts.join('/'), tick]);
  const start = hours ? new Date(nowMs - +hours * 3_600_000) : new Date(date.getFullYear(), date.getMonth(), date.getDate(), 0, off);
  const end = hours ? new Date(nowMs) : new Date(date.getFullYear(), date.getMonth(), date.getDate() + +span, 0, off);
  // `#/timeline/<day>/<span>/<HH:MM>` (a search match): zoomed to an hour around that
  // moment, marked; times before the start of day are the next calendar day's
  const fm = /^(\d{1,2}):(\d{2})$/.exec(parts[3] || '');
  const focusMin = fm ? Math.min(23, +fm[1]) * 60 + Math.min(59, +fm[2]) : -1;
  const focus = focusMin < 0 ? null : new Date(date.getFullYear(), date.getMonth(), date.getDate() + (focusMin < off ? 1 : 0), 0, focusMin).getTime();
  const [hidden, setHidden] = useState<Record<string, boolean>>({});
  const [data, setData] = useState<{ bucket: Bucket; events: AWEvent[] }[] | null>(null);
  const [inUse, setInUse] = useState<AWEvent[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const go = (d: Date, s: Span) => navigate(`/timeline/${ymd(d)}/${s}`);
  const goLast = (h: Hours) => navigate(`/timeline/last/${h}`);
  // the logical days' starts (start of day offset), the last one being the range's end
  const dayStarts = useMemo(
    () => Array.from({ length: +span + 1 }, (_, k) => new Date(date.getFullYear(), date.getMonth(), date.getDate() + k, 0, off).getTime()),
    [start.getTime(), span],
  );
  // the zoomed range shown, and how the axis is labelled for it (read by the label formatter)
  const view = useRef<[number, number]>([start.getTime(), end.getTime()]);
  const axis = useRef({ days: false, long: false, key: '' });

  const devs = devices(st.buckets, st.info);
  const buckets = useMemo(() => {
    const order = new Map(devs.map((d, i) => [d.host, i]));
    return [...st.buckets].sort((a, b) => {
      const ha = order.get(a.hostname) ?? 99, hb = order.get(b.hostname) ?? 99;
      if (ha !== hb) return ha - hb;
      const ta = TYPE_ORDER.indexOf(a.type), tb = TYPE_ORDER.indexOf(b.type);
      return (ta < 0 ? 99 : ta) - (tb < 0 ? 99 : tb) || a.id.localeCompare(b.id);
    });
  }, [st.buckets, devs.map((d) => d.host).join()]);

  useEffect(() => {
    if (!st.bucketsLoaded) return;
    let live = true;
    setData(null);
    setErr(null);
    const s = start.toISOString(), e = end.toISOString();
    Promise.all(buckets.map(async (b) => ({ bucket: b, events: await api.events(b.id, { start: s, end: e }) })))
      .then((r) => live && setData(r))
      .catch((e) => live && setErr(e));
    return () => {
      live = false;
    };
  }, [st.bucketsLoaded, buckets, start.getTime(), end.getTime(), tick]);

  // several devices: which one was in use when (a failed query only loses this lane)
  const remotes = remoteDevices(st.buckets, st.info);
  const hb = activityHosts(st.buckets, remotes).map((h) => deviceBuckets(st.buckets, h, remotes)).filter((h) => h.window);
  const hbKey = JSON.stringify(hb);
  useEffect(() => {
    setInUse(null);
    if (!st.bucketsLoaded || hb.length < 2) return;
    let live = true;
    api
      .query([periodString(start, end)], deviceSpansQuery(hb))
      .then((r) => {
        const per = (r[0] || {}) as Record<string, Ev[]>;
        const evs = Object.entries(per).flatMap(([h, es]) => es.map((e) => ({ timestamp: e.timestamp, duration: e.duration, data: { device: h } })));
        if (live) setInUse(evs.sort((a, b) => a.timestamp.localeCompare(b.timestamp)));
      })
      .catch(() => live && setInUse([]));
    return () => {
      live = false;
    };
  }, [st.bucketsLoaded, hbKey, start.getTime(), end.getTime(), tick]);

  const allLanes = data ? (inUse?.length ? [{ bucket: inUseLane(), events: inUse }, ...data] : data) : [];
  const shown = allLanes.filter((d) => !hidden[d.bucket.id]);
  const nEvents = shown.reduce((n, d) => n + (d.bucket.type === IN_USE ? 0 : d.events.length), 0);
  const latest = buckets.reduce<string>((m, b) => ((lastUpdated(b) || '') > m ? lastUpdated(b) || '' : m), '');

  const option = useMemo(() => {
    const lanes = shown.map((d) => d.bucket);
    // one item per event: [lane, start ms, end ms, index in its lane's events]
    // (the device lane's items are named after their device)
    const items: { value: [number, number, number, number]; itemStyle: { color: string }; name?: string }[] = [];
    shown.forEach((d, li) => {
      for (let k = 0; k < d.events.length; k++) {
        const e = d.events[k];
        const t0 = Date.parse(e.timestamp);
        const t1 = t0 + e.duration * 1000;
        const item = { value: [li, t0, t1, k] as [number, number, number, number], itemStyle: { color: eventColor(d.bucket, e) } };
        items.push(d.bucket.type === IN_USE ? { ...item, name: String(e.data.device) } : item);
      }
    });
    const zoom = focus !== null && focus >= start.getTime() && focus < end.getTime()
      ? { startValue: Math.max(start.getTime(), focus - 1_800_000), endValue: Math.min(end.getTime(), focus + 1_800_000) }
      : {};
    return (dark: boolean) => {
      const c = axisColors(dark);
      // a full render starts at the option's zoom, labelled afresh by fitAxis
      view.current = [zoom.startValue ?? start.getTime(), zoom.endValue ?? end.getTime()];
      axis.current = { days: false, long: false, key: '' };
      return {
        animation: false,
        grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
        tooltip: {
          backgroundColor: c.tooltipBg, borderColor: c.tooltipBorder, textStyle: { color: c.tooltipText, fontSize: 12 },
          extraCssText: 'max-width:420px;white-space:normal;',
          formatter: (p: DefaultLabelFormatterCallbackParams) => {
            const [li, t0, t1, k] = p.value as number[];
            const d = shown[li];
            const e = d.events[k];
            const rows = Object.entries(e.data || {})
              .map(([key, v]) => `<tr><td style="opacity:.65;padding-right:8px;vertical-align:top">${esc(key)}</td><td style="word-break:break-all">${esc(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`)
              .join('');
            return `<b>${esc(d.bucket.id)}</b><br/>${esc(fmtDateTime(new Date(t0), true))} → ${esc(new Date(t1).toLocaleTimeString())}<br/>Duration <b>${fmtDuration(e.duration, true)}</b><table style="margin-top:4px">${rows}</table>`;
          },
        },
        dataZoom: [
          { type: 'inside', xAxisIndex: 0, filterMode: 'weakFilter', minValueSpan: 60_000, ...zoom },
          { type: 'slider', xAxisIndex: 0, filterMode: 'weakFilter', height: 22, bottom: 10, borderColor: c.line, textStyle: { color: c.text }, minValueSpan: 60_000, ...zoom },
        ],
        xAxis: {
          type: 'time', min: start.getTime(), max: end.getTime(), position: 'top',
          axisLine: { lineStyle: { color: c.line } }, splitLine: { show: true, lineStyle: { color: c.line } },
          // the first label sits on the left edge: aligned to it, it is not cut in half
          axisLabel: { color: c.text, hideOverlap: true, alignMinLabel: 'left', formatter: axisLabel },
        },
        yAxis: {
          type: 'category', data: lanes.map((b) => b.id), inverse: true,
          axisLine: { show: false }, axisTick: { show: false }, splitLine: { show: true, lineStyle: { color: c.line } },
          axisLabel: {
            formatter: (id: string) => {
              const b = lanes.find((x) => x.id === id)!;
              return `{a|${laneLabel(b)}}\n{b|${b.hostname}}`;
            },
            rich: { a: { color: c.tooltipText, fontWeight: 600, fontSize: 12, lineHeight: 16 }, b: { color: c.text, fontSize: 11 } },
          },
        },
        series: [{
          type: 'custom', encode: { x: [1, 2], y: 0 }, data: items, progressive: 4000,
          ...(focus !== null && {
            markLine: { silent: true, symbol: 'none', label: { show: false }, lineStyle: { color: c.tooltipText, type: 'dashed', width: 1.5 }, data: [{ xAxis: focus }] },
          }),
          renderItem: (params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): CustomSeriesRenderItemReturn => {
            const lane = api.value(0);
            const a = api.coord([api.value(1), lane]);
            const b = api.coord([api.value(2), lane]);
            // a cartesian grid: size() is there and gives [width, height], coordSys is the grid's rectangle
            const h = (api.size!([0, 1]) as number[])[1] * 0.62;
            const cs = params.coordSys as { type: string; x: number; y: number; width: number; height: number };
            const x0 = Math.max(a[0], cs.x), x1 = Math.min(b[0], cs.x + cs.width);
            if (x1 < cs.x || x0 > cs.x + cs.width) return null;
            return { type: 'rect', shape: { x: x0, y: a[1] - h / 2, width: Math.max(x1 - x0, 0.8), height: h, r: 2 }, style: api.style() };
          },
        }],
      };
    };
  }, [data, inUse, hidden, start.getTime(), end.getTime(), focus]);

  /** A label of the time axis: a day's date (with its weekday when there is room) in a view
   * of days, else the time, or the date at midnight. */
  function axisLabel(v: number): string {
    const d = new Date(v);
    if (axis.current.days) {
      return d.toLocaleDateString(undefined, axis.current.long ? { weekday: 'short', month: 'short', day: 'numeric' } : { month: 'short', day: 'numeric' });
    }
    if (d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0) return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}${d.getSeconds() ? ':' + pad2(d.getSeconds()) : ''}`;
  }

  /** Label a view of two days or more by logical days, evenly (see DAY_STEPS); a shorter
   * view keeps the time axis' own ticks. Only touches the chart when the labels change. */
  function fitAxis(chart: EChartsType) {
    const [a, b] = view.current;
    const days = b - a >= 2 * DAY_MS;
    let labels: number[] | null = null;
    let ticks: number[] | null = null;
    let long = false;
    if (days) {
      const px = Math.abs(Number(chart.convertToPixel({ xAxisIndex: 0 }, b)) - Number(chart.convertToPixel({ xAxisIndex: 0 }, a)));
      const perDay = px / ((b - a) / DAY_MS) || 1;
      long = perDay >= LONG_LABEL_PX;
      const step = DAY_STEPS.find((n) => n * perDay >= SHORT_LABEL_PX) ?? DAY_STEPS[DAY_STEPS.length - 1];
      // the range's end is the next day's start: a tick, but no label
      labels = dayStarts.filter((_, i) => i % step === 0 && i < dayStarts.length - 1);
      ticks = perDay >= 8 ? dayStarts : labels;
    }
    const key = JSON.stringify([long, labels, ticks]);
    if (key === axis.current.key) return;
    axis.current = { days, long, key };
    chart.setOption({ xAxis: { axisLabel: { customValues: labels }, axisTick: { customValues: ticks } } });
  }

  const chartEvents = {
    datazoom: (params: unknown, chart: EChartsType) => {
      const p = params as { start?: number; end?: number; startValue?: number; endValue?: number; batch?: { start?: number; end?: number; startValue?: number; endValue?: number }[] };
      const z = p.batch?.[0] ?? p;
      const t0 = start.getTime(), t1 = end.getTime();
      const a = z.startValue ?? (z.start !== undefined ? t0 + (z.start / 100) * (t1 - t0) : view.current[0]);
      const b = z.endValue ?? (z.end !== undefined ? t0 + (z.end / 100) * (t1 - t0) : view.current[1]);
      view.current = [a, b];
      fitAxis(chart);
    },
  };

  return (
    <div class="page" data-testid="timeline-page">
      <div class="page-head">
        <div>
          <h1>Timeline</h1>
          <div class="page-sub">
            {start.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })} – {end.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
          </div>
        </div>
        <div class="toolbar tl-toolbar">
          <div class="tl-choice">
            <Segmented testId="timeline-span" value={hours ? ('' as Span) : span} options={SPANS.map((s) => ({ value: s, label: s === '1' ? '1 day' : `${s} days` }))} onChange={(s) => go(date, s)} />
          </div>
          <div class="tl-choice" aria-label="Last hours">
            <Segmented testId="timeline-hours" value={hours || ('' as Hours)} options={HOURS.map((h) => ({ value: h, label: `${h} h` }))} onChange={goLast} />
          </div>
          {hours ? (
            <button class="btn" data-testid="timeline-refresh" onClick={() => setTick(tick + 1)}>Refresh</button>
          ) : (
            <>
              <div class="date-nav">
                <button class="btn btn-icon" aria-label="Earlier" onClick={() => go(addPeriod('day', date, -+span), span)}><I.IconChevronLeft /></button>
                <input type="date" class="input date-input" value={ymd(date)} onChange={(e) => { const d = parseYmd((e.target as HTMLInputElement).value); if (d) go(d, span); }} />
                <button class="btn btn-icon" aria-label="Later" onClick={() => go(addPeriod('day', date, +span), span)}><I.IconChevronRight /></button>
              </div>
              <button class="btn" onClick={() => go(logicalToday(opts), span)}>Today</button>
            </>
          )}
        </div>
      </div>
      <ErrorBox error={err} />
      <div class="lane-filter">
        {(inUse?.length ? [inUseLane(), ...buckets] : buckets).map((b) => (
          <label class={'chip' + (hidden[b.id] ? ' off' : '')}>
            <input type="checkbox" checked={!hidden[b.id]} onChange={() => setHidden({ ...hidden, [b.id]: !hidden[b.id] })} />
            <span>{laneLabel(b)}</span>
            <span class="muted">{b.hostname}</span>
            {isRemote(b, st.info) && <Badge kind="remote">remote</Badge>}
          </label>
        ))}
      </div>
      <Card testId="timeline-card" subtitle={data ? (nEvents ? `${nEvents.toLocaleString()} events · scroll or drag the slider to zoom, hover for details` : '0 events') : ''}>
        {!data && !err && <Skeleton rows={6} />}
        {data && nEvents === 0 && (
          <Empty icon={I.IconTimeline}>
            <p>No events in this range.</p>
            {latest && <button class="btn btn-sm" onClick={() => go(logicalToday(opts, new Date(latest)), span)}>Jump to latest events ({new Date(latest).toLocaleDateString()})</button>}
          </Empty>
        )}
        {data && nEvents > 0 && <Chart option={option} height={Math.max(220, shown.length * 56 + 100)} testId="timeline-chart" afterRender={fitAxis} events={chartEvents} />}
      </Card>
    </div>
  );
}
