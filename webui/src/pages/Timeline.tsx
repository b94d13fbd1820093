import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { EChartsType } from 'echarts/core';
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams, CustomSeriesRenderItemReturn, DefaultLabelFormatterCallbackParams } from 'echarts';
import { api, clearQueryCache, errorMessage } from '../lib/api';
import type { AWEvent, Bucket } from '../lib/types';
import { hashColor } from '../lib/categories';
import {
  activeFilters, CATEGORISED_TYPES, categoriser, type ColourBy, eventLabel, eventPasses, loadColourBy, loadFilters, NO_FILTERS,
  saveColourBy, saveFilters, textOn, type TimelineFilters,
} from '../lib/timeline';
import { navigate, useRoute } from '../lib/router';
import { devices, isDark, isRemote, lastUpdated, remoteDevices, useStore } from '../lib/store';
import { addPeriod, fmtDuration, logicalToday, offsetMinutes, parseYmd, periodString, ymd } from '../lib/time';
import { formatDate, formatDateTime, formatDateTimeWith, formatTime, t } from '../lib/i18n';
import { activityHosts, deviceBuckets, deviceSpansQuery, Ev } from '../lib/queries';
import { axisColors, Chart, type ChartElement } from '../components/Chart';
import { Badge, Card, Empty, ErrorBox, Segmented, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';
import { TimelineEventEditor } from '../components/TimelineEventEditor';
import { deviceColor, esc } from './Activity';
import './timeline.css';

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
// A bar this wide on screen (px) or wider carries its label (zoom in to see more of them).
const LABEL_MIN_PX = 44;
// how long the text filter waits for more typing before the chart is drawn again (ms)
const TEXT_DEBOUNCE_MS = 250;

const IconFilter = () => (
  <svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    <path d="M3 5h18l-7 8.5V19l-4 2v-7.5z" />
  </svg>
);

const TYPE_ORDER = ['afkstatus', 'currentwindow', 'web.tab.current', 'app.editor.activity', 'general.stopwatch'];

// The lane showing which device was in use when (several devices): the Activity page's "All
// devices" attribution (docs/webui.md), one span per stretch of a device's time.
const IN_USE = 'device in use';
const inUseLane = (): Bucket => ({
  id: IN_USE, type: IN_USE, client: 'awnode', hostname: 'all devices', created: null, data: {},
  metadata: { start: null, end: null }, last_updated: null,
});

function laneLabel(b: Bucket): string {
  if (b.type === IN_USE) return t('timeline.lane.inUse');
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
  const [colourBy, setColourByState] = useState<ColourBy>(loadColourBy);
  const [filters, setFiltersState] = useState<TimelineFilters>(loadFilters);
  const [filtersOpen, setFiltersOpen] = useState(() => activeFilters(filters) > 0);
  // the text box, ahead of the filter while the user is typing
  const [text, setText] = useState(filters.text);
  const textTimer = useRef<number | undefined>(undefined);
  const [editing, setEditing] = useState<{ bucket: Bucket; event: AWEvent } | null>(null);
  const chartBox = useRef<HTMLDivElement>(null);
  const setColourBy = (c: ColourBy) => {
    saveColourBy(c);
    setColourByState(c);
  };
  const setFilters = (f: TimelineFilters | ((f: TimelineFilters) => TimelineFilters)) =>
    setFiltersState((cur) => {
      const next = typeof f === 'function' ? f(cur) : f;
      saveFilters(next);
      return next;
    });
  const go = (d: Date, s: Span) => navigate(`/timeline/${ymd(d)}/${s}`);
  const goLast = (h: Hours) => navigate(`/timeline/last/${h}`);
  // the logical days' starts (start of day offset), the last one being the range's end
  const dayStarts = useMemo(
    () => Array.from({ length: +span + 1 }, (_, k) => new Date(date.getFullYear(), date.getMonth(), date.getDate() + k, 0, off).getTime()),
    [start.getTime(), span],
  );
  // the zoomed range shown, and how the axis is labelled for it (read by the label formatter)
  const view = useRef<[number, number]>([start.getTime(), end.getTime()]);
  // the range (and search match) the chart was last drawn for
  const zoomFor = useRef('');
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

  // lanes kept by the device and type filters (the lane chips list these), then by the chips
  const laneOk = (b: Bucket) => b.type === IN_USE || (!filters.hosts.includes(b.hostname) && !filters.types.includes(b.type));
  const filterKey = JSON.stringify(filters);
  const { shown, nEvents, nAll } = useMemo(() => {
    const allLanes = data ? (inUse?.length ? [{ bucket: inUseLane(), events: inUse }, ...data] : data) : [];
    const needle = filters.text.trim().toLowerCase();
    let nAll = 0, nEvents = 0;
    const shown: { bucket: Bucket; events: AWEvent[] }[] = [];
    for (const d of allLanes) {
      if (d.bucket.type === IN_USE) {
        if (!hidden[d.bucket.id]) shown.push(d);
        continue;
      }
      nAll += d.events.length;
      if (hidden[d.bucket.id] || !laneOk(d.bucket)) continue;
      const events = filters.minDuration > 0 || needle ? d.events.filter((e) => eventPasses(e, filters.minDuration, needle)) : d.events;
      nEvents += events.length;
      shown.push({ bucket: d.bucket, events });
    }
    return { shown, nEvents, nAll };
  }, [data, inUse, hidden, filterKey]);
  const nFilters = activeFilters(filters);
  const hosts = [...new Set(buckets.map((b) => b.hostname))];
  const types = [...new Set(buckets.map((b) => b.type))];
  // category colours: each distinct data value categorised once per set of rules
  const categorise = useMemo(() => categoriser(st.settings.classes), [st.settings.classes]);
  const latest = buckets.reduce<string>((m, b) => ((lastUpdated(b) || '') > m ? lastUpdated(b) || '' : m), '');

  const option = useMemo(() => {
    const lanes = shown.map((d) => d.bucket);
    // one item per event: [lane, start ms, end ms, index in its lane's events]
    // (the device lane's items are named after their device)
    const items: { value: [number, number, number, number]; itemStyle: { color: string }; name?: string }[] = [];
    // by item: the bar's label and the colour it is written in
    const labels: string[] = [];
    const inks: string[] = [];
    const inkOf = new Map<string, string>(); // a few colours, many bars
    const byCategory = colourBy === 'category';
    shown.forEach((d, li) => {
      const cat = byCategory && CATEGORISED_TYPES.has(d.bucket.type);
      for (let k = 0; k < d.events.length; k++) {
        const e = d.events[k];
        const t0 = Date.parse(e.timestamp);
        const t1 = t0 + e.duration * 1000;
        const color = cat ? categorise(e.data).color : eventColor(d.bucket, e);
        const item = { value: [li, t0, t1, k] as [number, number, number, number], itemStyle: { color } };
        items.push(d.bucket.type === IN_USE ? { ...item, name: String(e.data.device) } : item);
        labels.push(d.bucket.type === IN_USE ? String(e.data.device ?? '') : eventLabel(d.bucket.type, e.data || {}));
        let ink = inkOf.get(color);
        if (!ink) inkOf.set(color, (ink = textOn(color)));
        inks.push(ink);
      }
    });
    // the same range drawn again (a filter, the colours, an edit) keeps the zoom the user
    // chose; another range starts whole, or around the search match
    // (decided when drawn: a render without the chart, while loading, does not count)
    const rangeKey = `${start.getTime()}/${end.getTime()}/${focus}`;
    const first = focus !== null && focus >= start.getTime() && focus < end.getTime()
      ? { startValue: Math.max(start.getTime(), focus - 1_800_000), endValue: Math.min(end.getTime(), focus + 1_800_000) }
      : {};
    return (dark: boolean) => {
      const c = axisColors(dark);
      const keep = zoomFor.current === rangeKey;
      zoomFor.current = rangeKey;
      const zoom: { startValue?: number; endValue?: number } = keep ? { startValue: view.current[0], endValue: view.current[1] } : first;
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
            return `<b>${esc(d.bucket.id)}</b><br/>${esc(formatDateTime(new Date(t0), true))} → ${esc(formatTime(new Date(t1)))}<br/>${esc(t('timeline.tooltipDuration'))} <b>${fmtDuration(e.duration, true)}</b><table style="margin-top:4px">${rows}</table>`;
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
          id: 'events', type: 'custom', encode: { x: [1, 2], y: 0 }, data: items, progressive: 4000,
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
            const rect = { type: 'rect' as const, shape: { x: x0, y: a[1] - h / 2, width: Math.max(x1 - x0, 0.8), height: h, r: 2 }, style: api.style() };
            // wide enough on screen (zoomed in): the bar says what it is, cut to its width
            const label = labels[params.dataIndex];
            if (x1 - x0 < LABEL_MIN_PX || !label) return rect;
            return {
              type: 'group',
              children: [rect, {
                type: 'text', silent: true,
                style: {
                  text: label, x: x0 + 5, y: a[1], width: x1 - x0 - 10, overflow: 'truncate', ellipsis: '…',
                  fill: inks[params.dataIndex], fontSize: 11, verticalAlign: 'middle', align: 'left',
                },
              }],
            };
          },
        }, selectionSeries(dark)],
      };
    };
  }, [shown, colourBy, categorise, start.getTime(), end.getTime(), focus]);

  // ---- keyboard: the chart takes the focus, arrow keys choose an event, Enter opens it ----
  // the chosen event, valid for the lanes it was chosen in (`of`) only
  const [chosen, setSel] = useState<{ li: number; k: number; of: unknown } | null>(null);
  const sel = chosen && chosen.of === shown ? chosen : null;
  const selRef = useRef(sel);
  selRef.current = sel;
  // each lane's events in time order (the node sends them newest first)
  const order = useMemo(() => shown.map((d) => d.events.map((_, k) => k).sort((a, b) => d.events[a].timestamp.localeCompare(d.events[b].timestamp))), [shown]);
  const selTimes = (v: { li: number; k: number }) => {
    const e = shown[v.li].events[v.k];
    const t0 = Date.parse(e.timestamp);
    return [Math.max(t0, start.getTime()), Math.min(t0 + e.duration * 1000, end.getTime())];
  };
  /** The outline around the chosen event: a series of its own, so that choosing another
   * event updates only it (not the thousands of bars). */
  function selectionSeries(dark: boolean, v: { li: number; k: number } | null = selRef.current) {
    const live = v && shown[v.li]?.events[v.k];
    return {
      id: 'selection', type: 'custom', silent: true, tooltip: { show: false }, encode: { x: [1, 2], y: 0 }, z: 5,
      data: live ? [[v.li, ...selTimes(v)]] : [],
      renderItem: (params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): CustomSeriesRenderItemReturn => {
        const a = api.coord([api.value(1), api.value(0)]);
        const b = api.coord([api.value(2), api.value(0)]);
        const h = (api.size!([0, 1]) as number[])[1] * 0.62 + 6;
        const cs = params.coordSys as { type: string; x: number; y: number; width: number; height: number };
        const x0 = Math.max(a[0], cs.x) - 3, x1 = Math.min(b[0], cs.x + cs.width) + 3;
        return { type: 'rect', shape: { x: x0, y: a[1] - h / 2, width: Math.max(x1 - x0, 6), height: h, r: 3 }, style: { fill: 'none', stroke: dark ? '#f8fafc' : '#0f172a', lineWidth: 2 } };
      },
    };
  }
  const chartOf = () => chartBox.current?.querySelector<ChartElement>('.chart')?.awChart;
  const choose = (v: { li: number; k: number }) => {
    setSel({ ...v, of: shown });
    const chart = chartOf();
    if (!chart) return;
    chart.setOption({ series: [{ id: 'events' }, selectionSeries(isDark(), v)] });
    // bring it into view, keeping the zoom's width
    const [t0, t1] = selTimes(v);
    const [a, b] = view.current;
    if (t1 < a || t0 > b) {
      const w = b - a;
      const s0 = Math.min(Math.max(start.getTime(), (t0 + t1) / 2 - w / 2), end.getTime() - w);
      chart.dispatchAction({ type: 'dataZoom', startValue: s0, endValue: s0 + w });
    }
  };
  const editable = (li: number) => shown[li] && shown[li].bucket.type !== IN_USE && shown[li].events.length > 0;
  const onChartKey = (ev: KeyboardEvent) => {
    if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'Enter', ' '].includes(ev.key)) return;
    ev.preventDefault();
    const lanes = shown.map((_, i) => i).filter(editable);
    if (!lanes.length) return;
    const cur = sel && editable(sel.li) ? sel : null;
    if (!cur) {
      // the first event in view, in the first lane that has one
      const [a, b] = view.current;
      for (const li of lanes) {
        const k = order[li].find((x) => { const [t0, t1] = selTimes({ li, k: x }); return t1 >= a && t0 <= b; });
        if (k !== undefined) return choose({ li, k });
      }
      return choose({ li: lanes[0], k: order[lanes[0]][0] });
    }
    if (ev.key === 'Enter' || ev.key === ' ') {
      chartOf()?.dispatchAction({ type: 'hideTip' });
      setEditing({ bucket: shown[cur.li].bucket, event: shown[cur.li].events[cur.k] });
      return;
    }
    const o = order[cur.li];
    const pos = o.indexOf(cur.k);
    if (ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') {
      const k = o[pos + (ev.key === 'ArrowLeft' ? -1 : 1)];
      if (k !== undefined) choose({ li: cur.li, k });
    } else if (ev.key === 'Home' || ev.key === 'End') {
      choose({ li: cur.li, k: ev.key === 'Home' ? o[0] : o[o.length - 1] });
    } else {
      const li = lanes[lanes.indexOf(cur.li) + (ev.key === 'ArrowUp' ? -1 : 1)];
      if (li === undefined) return;
      // the event of that lane nearest in time
      const t = selTimes(cur)[0];
      let best = order[li][0], bd = Infinity;
      for (const k of order[li]) {
        const d = Math.abs(selTimes({ li, k })[0] - t);
        if (d < bd) [best, bd] = [k, d];
      }
      choose({ li, k: best });
    }
  };
  const selEvent = sel && shown[sel.li]?.events[sel.k];

  // the categories on screen, most time first (category colours only)
  const legend = useMemo(() => {
    if (colourBy !== 'category') return [];
    const m = new Map<string, { path: string[]; color: string; seconds: number }>();
    for (const d of shown) {
      if (!CATEGORISED_TYPES.has(d.bucket.type)) continue;
      for (const e of d.events) {
        const c = categorise(e.data);
        const k = c.path.join('\u0000');
        const x = m.get(k);
        if (x) x.seconds += e.duration;
        else m.set(k, { path: c.path, color: c.color, seconds: e.duration });
      }
    }
    return [...m.values()].sort((a, b) => b.seconds - a.seconds);
  }, [shown, colourBy, categorise]);

  /** A label of the time axis: a day's date (with its weekday when there is room) in a view
   * of days, else the time, or the date at midnight. */
  function axisLabel(v: number): string {
    const d = new Date(v);
    if (axis.current.days) {
      return formatDate(d, axis.current.long ? { weekday: 'short', month: 'short', day: 'numeric' } : { month: 'short', day: 'numeric' });
    }
    if (d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0) return formatDate(d, { month: 'short', day: 'numeric' });
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

  // ---- event dialog -------------------------------------------------------------------
  const onChartClick = (p: { value?: unknown }) => {
    const [li, , , k] = (p.value || []) as number[];
    const d = shown[li];
    if (!d || d.bucket.type === IN_USE || !d.events[k]) return;
    // the bar's tooltip would stay on top of the dialog
    chartBox.current?.querySelector<ChartElement>('.chart')?.awChart?.dispatchAction({ type: 'hideTip' });
    setEditing({ bucket: d.bucket, event: d.events[k] });
  };
  const closeEditor = () => {
    setEditing(null);
    // back where the keyboard was: the chart the dialog was opened from
    requestAnimationFrame(() => chartBox.current?.focus());
  };
  /** Put `e` in (or, with `remove`, take it out of) bucket `id`'s events shown. */
  const patchLane = (id: string, e: AWEvent, remove = false) =>
    setData((ds) => ds && ds.map((d) => (d.bucket.id !== id ? d : {
      ...d,
      events: remove ? d.events.filter((x) => x.id !== e.id) : [...d.events.filter((x) => x.id !== e.id), e].sort((a, b) => b.timestamp.localeCompare(a.timestamp)),
    })));
  const saveEvent = async (bucket: Bucket, e: AWEvent) => {
    // an event posted with its id replaces the stored one (docs/api.md)
    const [stored] = await api.insertEvents(bucket.id, [e]);
    clearQueryCache();
    // moved out of the range shown: it leaves the chart (and the count)
    const s = stored || e;
    const t0 = Date.parse(s.timestamp);
    patchLane(bucket.id, s, t0 >= end.getTime() || t0 + s.duration * 1000 <= start.getTime());
    setEditing(null);
    toast(t('timeline.saved'), 'ok', { testId: 'saved-toast' });
  };
  // Delete at once, and offer Undo in the toast, as the Raw data page does: Undo posts the
  // event back with its id, so the node stores the same event again.
  const deleteEvent = async (bucket: Bucket, e: AWEvent) => {
    if (e.id == null) return;
    await api.deleteEvent(bucket.id, e.id);
    patchLane(bucket.id, e, true);
    setEditing(null);
    toast(t('timeline.deleted', { time: formatDateTime(e.timestamp, true) }), 'ok', {
      testId: 'undo-toast',
      focus: true,
      returnFocus: () => chartBox.current,
      action: {
        label: t('timeline.undo'),
        run: async () => {
          try {
            const [back] = await api.insertEvents(bucket.id, [{ id: e.id, timestamp: e.timestamp, duration: e.duration, data: e.data }]);
            clearQueryCache();
            patchLane(bucket.id, back || e);
          } catch (x) {
            toast(t('timeline.restoreFailed', { error: errorMessage(x) }), 'error');
            return;
          }
          toast(t('timeline.restored'), 'ok');
        },
      },
    });
  };

  const setText2 = (v: string) => {
    setText(v);
    clearTimeout(textTimer.current);
    textTimer.current = window.setTimeout(() => setFilters((f) => ({ ...f, text: v })), TEXT_DEBOUNCE_MS);
  };
  useEffect(() => () => clearTimeout(textTimer.current), []);
  const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
  const clearFilters = () => {
    clearTimeout(textTimer.current);
    setText('');
    setFilters(NO_FILTERS);
  };

  const sub = !data
    ? ''
    : t('timeline.nEvents', { n: nEvents }) +
      (nAll > nEvents ? ' · ' + t('timeline.hidden', { n: nAll - nEvents }) : '') +
      (nEvents ? ' · ' + t('timeline.zoomHint') : '');

  return (
    <div class="page" data-testid="timeline-page">
      <div class="page-head">
        <div>
          <h1>{t('nav.timeline')}</h1>
          <div class="page-sub">
            {formatDateTimeWith(start, { dateStyle: 'medium', timeStyle: 'short' })} – {formatDateTimeWith(end, { dateStyle: 'medium', timeStyle: 'short' })}
          </div>
        </div>
        <div class="toolbar tl-toolbar">
          <div class="tl-choice">
            <Segmented testId="timeline-span" value={hours ? ('' as Span) : span} options={SPANS.map((s) => ({ value: s, label: t('timeline.days', { n: +s }) }))} onChange={(s) => go(date, s)} />
          </div>
          <div class="tl-choice" aria-label={t('timeline.lastHours')}>
            <Segmented testId="timeline-hours" value={hours || ('' as Hours)} options={HOURS.map((h) => ({ value: h, label: t('timeline.hours', { n: +h }) }))} onChange={goLast} />
          </div>
          {hours ? (
            <button class="btn" data-testid="timeline-refresh" onClick={() => setTick(tick + 1)}>{t('common.refresh')}</button>
          ) : (
            <>
              <div class="date-nav">
                <button class="btn btn-icon" aria-label={t('timeline.earlier')} onClick={() => go(addPeriod('day', date, -+span), span)}><I.IconChevronLeft /></button>
                <input type="date" class="input date-input" value={ymd(date)} onChange={(e) => { const d = parseYmd((e.target as HTMLInputElement).value); if (d) go(d, span); }} />
                <button class="btn btn-icon" aria-label={t('timeline.later')} onClick={() => go(addPeriod('day', date, +span), span)}><I.IconChevronRight /></button>
              </div>
              <button class="btn" onClick={() => go(logicalToday(opts), span)}>{t('timeline.today')}</button>
            </>
          )}
        </div>
      </div>
      <ErrorBox error={err} />
      <div class="tlf-bar">
        <div class="tlf-colour">
          <span class="tlf-label" id="tl-colour-label">{t('timeline.colourBy')}</span>
          <Segmented testId="timeline-colour" value={colourBy} onChange={setColourBy}
            options={[{ value: 'bucket', label: t('timeline.colour.bucket') }, { value: 'category', label: t('timeline.colour.category') }]} />
        </div>
        <button class={'btn btn-sm' + (filtersOpen ? ' active' : '')} data-testid="timeline-filters-toggle" aria-expanded={filtersOpen}
          aria-controls="tl-filters" onClick={() => setFiltersOpen(!filtersOpen)}>
          <IconFilter /> {t('timeline.filters')}{nFilters > 0 && <span class="tlf-count" data-testid="timeline-filters-count">{nFilters}</span>}
        </button>
        {nFilters > 0 && <button class="btn btn-ghost btn-sm" data-testid="timeline-filters-clear" onClick={clearFilters}>{t('timeline.clearFilters')}</button>}
      </div>
      {filtersOpen && (
        <div class="tlf-panel" id="tl-filters" data-testid="timeline-filters">
          <div class="tlf-group" role="group" aria-label={t('timeline.devices')}>
            <span class="tlf-label">{t('timeline.devices')}</span>
            {hosts.map((h) => (
              <button class={'chip' + (filters.hosts.includes(h) ? ' off' : '')} aria-pressed={!filters.hosts.includes(h)} data-host={h}
                onClick={() => setFilters({ ...filters, hosts: toggle(filters.hosts, h) })}>{h}</button>
            ))}
          </div>
          <div class="tlf-group" role="group" aria-label={t('timeline.bucketTypes')}>
            <span class="tlf-label">{t('timeline.types')}</span>
            {types.map((t) => (
              <button class={'chip' + (filters.types.includes(t) ? ' off' : '')} aria-pressed={!filters.types.includes(t)} data-type={t}
                onClick={() => setFilters({ ...filters, types: toggle(filters.types, t) })}>{t}</button>
            ))}
          </div>
          <div class="tlf-group tlf-inputs">
            <label class="field-inline">
              {t('timeline.hideShorter')}
              <input type="number" min={0} step={1} class="input input-sm tlf-min" data-testid="timeline-min" value={filters.minDuration || ''} placeholder="0"
                onInput={(e) => { const n = Number((e.target as HTMLInputElement).value); setFilters({ ...filters, minDuration: Number.isFinite(n) && n > 0 ? n : 0 }); }} />
              {t('timeline.secondsUnit')}
            </label>
            <label class="field-inline tlf-text">
              <I.IconSearch />
              <input type="search" class="input input-sm" data-testid="timeline-text" placeholder={t('timeline.textPlaceholder')} aria-label={t('timeline.textLabel')}
                value={text} onInput={(e) => setText2((e.target as HTMLInputElement).value)} />
            </label>
          </div>
        </div>
      )}
      {/* buttons (not the chips' hidden checkboxes) so that the keyboard reaches them */}
      <div class="lane-filter" role="group" aria-label={t('timeline.lanes')}>
        {(inUse?.length ? [inUseLane(), ...buckets] : buckets).filter(laneOk).map((b) => (
          <button key={b.id} class={'chip' + (hidden[b.id] ? ' off' : '')} aria-pressed={!hidden[b.id]} data-lane={b.id} title={b.id}
            onClick={() => setHidden({ ...hidden, [b.id]: !hidden[b.id] })}>
            <span>{laneLabel(b)}</span>
            <span class="muted">{b.hostname}</span>
            {isRemote(b, st.info) && <Badge kind="remote">{t('timeline.remote')}</Badge>}
          </button>
        ))}
      </div>
      <Card testId="timeline-card" subtitle={sub}>
        {!data && !err && <Skeleton rows={6} />}
        {data && nEvents === 0 && nAll > 0 && (
          <Empty icon={IconFilter}>
            <p>{t('timeline.filtersHideAll', { n: nAll })}</p>
            <button class="btn btn-sm" onClick={() => { clearFilters(); setHidden({}); }}>{t('timeline.showAll')}</button>
          </Empty>
        )}
        {data && nAll === 0 && (
          <Empty icon={I.IconTimeline}>
            <p>{t('timeline.noEvents')}</p>
            {latest && <button class="btn btn-sm" onClick={() => go(logicalToday(opts, new Date(latest)), span)}>{t('timeline.jumpLatest', { date: formatDate(latest) })}</button>}
          </Empty>
        )}
        {data && nEvents > 0 && (
          <div ref={chartBox} class="tl-chart-box" tabIndex={0} data-testid="timeline-chart-box" onKeyDown={onChartKey}
            aria-label={t('timeline.chartLabel')} aria-describedby="tl-selected">
            <Chart option={option} height={Math.max(220, shown.length * 56 + 100)} testId="timeline-chart" afterRender={fitAxis} events={chartEvents} onClick={onChartClick} />
          </div>
        )}
        {data && nEvents > 0 && (
          <div id="tl-selected" class="muted tl-selected" data-testid="timeline-selected" aria-live="polite">
            {sel && selEvent ? (
              <>
                <strong>{laneLabel(shown[sel.li].bucket)}</strong> {shown[sel.li].bucket.hostname} · {eventLabel(shown[sel.li].bucket.type, selEvent.data || {}) || '—'} ·{' '}
                {formatDateTime(selEvent.timestamp, true)} · {fmtDuration(selEvent.duration, true)} · {t('timeline.enterOpens')}
              </>
            ) : '\u00a0'}
          </div>
        )}
        {legend.length > 0 && data && nEvents > 0 && (
          <div class="tl-legend" data-testid="timeline-legend">
            {legend.map((l) => (
              <span class="tl-legend-item" data-category={l.path.join(' > ')} data-color={l.color} title={fmtDuration(l.seconds)}>
                <span class="tl-swatch" style={{ background: l.color }} />
                {l.path.join(' › ')}
              </span>
            ))}
          </div>
        )}
      </Card>
      {editing && (
        <TimelineEventEditor bucket={editing.bucket} event={editing.event} readOnly={isRemote(editing.bucket, st.info) || editing.event.id == null} onClose={closeEditor}
          onSave={(e) => saveEvent(editing.bucket, e)} onDelete={(e) => deleteEvent(editing.bucket, e)} />
      )}
    </div>
  );
}
