import type { VNode } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DefaultLabelFormatterCallbackParams } from 'echarts';
import { api } from '../lib/api';
import { Category, CatNode, categoryColor, categoryTree, eventCategory, hashColor, normalise, rulesForQuery } from '../lib/categories';
import { ActivityResult, activeTimeQuery, activityHosts, activityQuery, CategoryPeriodResult, categoryPeriodQuery, deviceBuckets, Ev } from '../lib/queries';
import { navigate } from '../lib/router';
import { hostIsLocal, remoteDevices, useStore } from '../lib/store';
import {
  DayOpts, fmtDuration, isRolling, logicalToday, neighbourPeriods, parseYmd, period, PERIOD_NAMES, PeriodKind, periodLabel,
  periodString, PERIODS, stepPeriod, subPeriods, ymd,
} from '../lib/time';
import { CardId, cardWidth, viewName } from '../lib/views';
import { formatDate, formatNumber, t } from '../lib/i18n';
import { axisColors, Chart } from '../components/Chart';
import { Badge, Card, Empty, ErrorBox, pct, Segmented, Skeleton, TopItem, TopList } from '../components/ui';
import * as I from '../components/icons';
import { CountFilters, useCountOptions } from '../components/CountFilters';
import { UncategorisedBanner } from '../components/UncategorisedBanner';
import { PeriodUsage, UsagePeriod } from '../components/PeriodUsage';
import { ViewEditor } from '../components/ViewEditor';
import './activity.css';

const ALL = 'all';

/** The route: #/activity/<host>/<period>/<YYYY-MM-DD>[/view/<view id>] (aw-webui's shape). */
function useActivityParams(parts: string[]) {
  const st = useStore();
  // other devices by the node's labels (a renamed one is one entry), this node's by hostname
  const remotes = remoteDevices(st.buckets, st.info);
  const hosts = activityHosts(st.buckets, remotes);
  const local = st.info?.hostname;
  const defHost = local && hosts.includes(local) ? local : hosts.length > 1 ? ALL : hosts[0] || ALL;
  const host = parts[0] || defHost;
  const kind = (PERIODS.includes(parts[1] as PeriodKind) ? parts[1] : 'day') as PeriodKind;
  const opts: DayOpts = { startOfDay: st.settings.startOfDay, startOfWeek: st.settings.startOfWeek };
  const date = parseYmd(parts[2]) || logicalToday(opts);
  const views = st.settings.activityViews;
  const view = (parts[3] === 'view' && views.find((v) => v.id === parts[4])) || views[0];
  return { st, remotes, hosts, host, kind, date, opts, views, view };
}

// Performance marks for the browser tests / benchmark: first summary render, first bar chart.
let fmpMarked = false;
let barsMarked = false;

/** A neighbouring period's label in the usage strip. */
function usageLabel(kind: PeriodKind, d: Date): string {
  switch (kind) {
    case 'day':
      return formatDate(d, { weekday: 'short', day: 'numeric' });
    case 'week':
    case 'last7d':
    case 'last30d':
      // a week by its first day, a rolling period by its last (the date in its route)
      return formatDate(d, { month: 'short', day: 'numeric' });
    case 'month':
      // the year where it changes (the full name is in the tooltip)
      return formatDate(d, { month: 'short', year: d.getMonth() === 0 ? 'numeric' : undefined });
    case 'year':
      return String(d.getFullYear());
  }
}

export function ActivityPage({ parts }: { parts: string[] }) {
  const { st, remotes, hosts, host, kind, date, opts, views, view } = useActivityParams(parts);
  const p = period(kind, date, opts);
  const classes = useMemo(() => normalise(st.settings.classes), [st.settings.classes]);
  const rules = useMemo(() => rulesForQuery(classes), [classes]);
  const { opts: count, key: countKey } = useCountOptions();
  const catNames = useMemo(() => classes.map((c) => c.name).sort((a, b) => a.join('\u0000').localeCompare(b.join('\u0000'))), [classes]);
  const selected = useMemo(
    () => (host === ALL ? hosts : [host]).map((h) => deviceBuckets(st.buckets, h, remotes)).filter((h) => h.window),
    [st.buckets, host, hosts.join('|'), remotes.map((r) => r.label).join('|')],
  );
  const [res, setRes] = useState<ActivityResult | null>(null);
  const [resFor, setResFor] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [bars, setBars] = useState<Bars | null>(null);
  const [barMode, setBarMode] = useState<BarMode>('category');
  const [barErr, setBarErr] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const periodStr = periodString(p.start, p.end);
  const ready = st.bucketsLoaded && st.settingsLoaded && st.info;
  // what the summary on screen must answer: until the query for it returns, the previous
  // answer (another period or device) is not shown as this one's figures
  const reqKey = `${host}|${periodStr}|${countKey}`;
  // the first view is the default one, left out of the address
  const go = (h: string, k: PeriodKind, d: Date, v: string = view.id) =>
    navigate(`/activity/${encodeURIComponent(h)}/${k}/${ymd(d)}${v === views[0].id ? '' : `/view/${encodeURIComponent(v)}`}`);

  // Summary query. Layout effects: they run as soon as the render that made the page
  // ready is committed, not after the next paint, and the queries are what the page
  // waits for.
  useLayoutEffect(() => {
    if (!ready) return;
    if (!selected.length) {
      setRes(null);
      return;
    }
    let live = true;
    setLoading(true);
    setErr(null);
    api
      .query([periodStr], activityQuery(selected, rules, 100, kind === 'day', count))
      .then((r) => {
        if (!live) return;
        setRes(r[0] as ActivityResult);
        setResFor(reqKey);
      })
      .catch((e) => live && (setErr(e), setRes(null)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [ready, periodStr, kind, selected, rules, countKey]);

  // Bar chart query: one timeperiod per hour/day/month. It is sent once the summary for
  // the same period has come (or failed): sent together, the two shared the node's and
  // the browser's two cores, and the summary, the figures one came for, took longer.
  // (the summary on screen answers this period, device and counting)
  const fresh = res !== null && resFor === reqKey;
  const summaryDone = fresh || err !== null;
  useLayoutEffect(() => {
    if (!ready || !selected.length || !summaryDone) {
      setBars(null);
      return;
    }
    let live = true;
    setBarErr(null);
    setBars(null);
    const subs = subPeriods(p, opts);
    api
      .query(subs.map((s) => periodString(s.start, s.end)), categoryPeriodQuery(selected, rules, count))
      .then((r) => {
        const per = r as CategoryPeriodResult[];
        if (live) {
          setBars({
            labels: subs.map((s) => s.label), rows: per.map((x) => x.cats || []), totals: per.map((x) => x.duration || 0),
            ranges: subs.map((s) => [s.start.getTime(), s.end.getTime()]),
            hosts: per.some((x) => x.hosts) ? per.map((x) => x.hosts || {}) : undefined,
          });
        }
      })
      .catch((e) => live && setBarErr(e));
    return () => {
      live = false;
    };
  }, [ready, periodStr, selected, rules, countKey, summaryDone]);

  // Usage strip: the neighbouring periods' active time, one query with a timeperiod each.
  // It waits for the summary and the bars (the figures one came for) and keeps what it
  // learnt, so moving to a neighbour asks only for the periods new to the strip; a period
  // not over yet is asked again, as it may have grown.
  const neighbours = useMemo(() => neighbourPeriods(kind, date, opts), [kind, ymd(date), opts.startOfDay, opts.startOfWeek]);
  // what the figures depend on besides the period: the buckets read, the counting options
  // and (only when categories are kept) the rules
  const usageBase = `${JSON.stringify(selected)}|${countKey}|${count.categories?.length ? JSON.stringify(rules) : ''}`;
  const usageCache = useRef(new Map<string, number>());
  const [, setUsageTick] = useState(0);
  const [usageErr, setUsageErr] = useState(false);
  const after = fresh && (bars !== null || !!barErr);
  useEffect(() => {
    if (!ready || !selected.length || !after) return;
    const now = Date.now();
    const want = neighbours.map((n) => periodString(n.period.start, n.period.end));
    const ask = want.filter((s, i) => !usageCache.current.has(`${usageBase}|${s}`) || neighbours[i].period.end.getTime() > now);
    if (!ask.length) return;
    let live = true;
    setUsageErr(false);
    api
      .query(ask, activeTimeQuery(selected, rules, count))
      .then((r) => {
        ask.forEach((s, i) => usageCache.current.set(`${usageBase}|${s}`, Number(r[i]) || 0));
        if (live) setUsageTick((t) => t + 1);
      })
      .catch(() => live && setUsageErr(true));
    return () => {
      live = false;
    };
  }, [ready, after, neighbours, selected, rules, usageBase]);
  const usage: UsagePeriod[] = neighbours.map((n) => ({
    key: ymd(n.date),
    label: usageLabel(kind, isRolling(kind) ? n.date : n.period.start),
    title: periodLabel(n.period, opts),
    seconds: usageCache.current.get(`${usageBase}|${periodString(n.period.start, n.period.end)}`) ?? null,
    current: n.offset === 0,
  }));

  useEffect(() => {
    if (res && !fmpMarked) {
      fmpMarked = true;
      requestAnimationFrame(() => performance.mark('awnode-fmp'));
    }
  }, [res]);

  useEffect(() => {
    if (bars && !barsMarked) {
      barsMarked = true;
      requestAnimationFrame(() => performance.mark('awnode-bars'));
    }
  }, [bars]);

  const tree = useMemo(() => (res ? categoryTree(res.window.cat_events, classes) : null), [res, classes]);
  const latest = useMemo(() => {
    let m = '';
    for (const h of selected) {
      const b = st.buckets.find((x) => x.id === h.window);
      if (b?.metadata?.end && b.metadata.end > m) m = b.metadata.end;
    }
    return m ? new Date(m) : null;
  }, [selected, st.buckets]);

  const total = res?.window.duration || 0;
  // several devices, day view: the periods attributed to each (for the per-device hourly
  // bars), once the summary is in and belongs to the same period as the bars
  const spans = host === ALL && fresh && res?.spans && Object.keys(res.spans).length > 1 ? res.spans : null;
  // the per-device bars: from those periods (day), else from each bar's own query
  const byDevice = host === ALL && !!(kind === 'day' ? spans : bars?.hosts);
  const topCat = tree?.children.find((c) => c.name !== 'Uncategorized') || null;
  const isLocal = (h: string) => !remotes.some((r) => r.label === h) && hostIsLocal(h);
  const cardsShown = res || !err;

  // Each card of a view by its id; null when it has nothing to show here (the devices card
  // for one device, the editor cards without editor data).
  const card = (id: CardId): VNode | null => {
    switch (id) {
      case 'bars':
        return (
          <Card title={t(kind === 'day' ? 'activity.bars.hours' : kind === 'year' ? 'activity.bars.months' : 'activity.bars.days')} span={3} testId="bar-card"
            subtitle={t(byDevice && barMode === 'device' ? 'activity.bars.byDeviceSub' : 'activity.bars.byCategorySub')}
            actions={byDevice && (
              <Segmented testId="bar-mode" value={barMode} onChange={setBarMode}
                options={[{ value: 'category', label: t('activity.bars.byCategory') }, { value: 'device', label: t('activity.bars.byDevice') }]} />
            )}>
            <ErrorBox error={barErr} />
            {bars ? <BarChart bars={bars} classes={classes} kind={kind} mode={byDevice ? barMode : 'category'} spans={spans} /> : !barErr && <div class="chart-placeholder" style={{ height: '240px' }}><Skeleton rows={3} /></div>}
          </Card>
        );
      case 'devices':
        return host === ALL && res?.hosts ? (
          <Card title={t('views.card.devices')} testId="per-device" span={3} subtitle={t('activity.devicesSub')}>
            <div class="devices-strip">
              <TopList
                total={total}
                items={Object.entries(res.hosts)
                  .sort((a, b) => b[1] - a[1])
                  .map(([h, v]) => ({ key: h, label: h, sub: isLocal(h) ? <Badge kind="local">{t('activity.thisDevice')}</Badge> : <Badge kind="remote">{t('activity.remote')}</Badge>, value: v, color: deviceColor(h) }))}
              />
            </div>
          </Card>
        ) : null;
      case 'apps':
        return cardsShown ? (
          <Card title={t('views.card.apps')} testId="top-apps" subtitle={res ? t('activity.nApps', { n: res.window.app_events.length }) : ''}>
            {res ? <TopList testId="top-apps-list" total={total} items={res.window.app_events.map(appItem)} /> : <Skeleton />}
          </Card>
        ) : null;
      case 'categories':
        return cardsShown ? (
          <Card title={t('views.card.categories')} testId="categories" subtitle={t('activity.categoriesSub')} span={2}>
            {/* one message for an empty period, not one under the chart and one beside it */}
            {!tree ? <Skeleton /> : !tree.children.length ? <Empty>{t('activity.noCategorised')}</Empty> : (
              <div class="cat-split">
                <Sunburst tree={tree} />
                <div data-testid="category-tree"><CatTree node={tree} total={total} /></div>
              </div>
            )}
          </Card>
        ) : null;
      case 'titles':
        return cardsShown ? (
          <Card title={t('views.card.titles')} span={2} testId="top-titles">
            {res ? <TopList total={total} items={res.window.title_events.map((e, i) => titleItem(e, i, classes))} /> : <Skeleton />}
          </Card>
        ) : null;
      case 'domains':
        return cardsShown ? (
          <Card title={t('views.card.domains')} testId="top-domains">
            {res ? <TopList total={res.browser.duration} items={res.browser.domains.map((e) => domainItem(e))} empty={t('activity.noBrowser')} /> : <Skeleton />}
          </Card>
        ) : null;
      case 'urls':
        return cardsShown ? (
          <Card title={t('views.card.urls')} span={2} testId="top-urls">
            {res ? (
              <TopList
                total={res.browser.duration}
                empty={t('activity.noBrowser')}
                items={res.browser.urls.map((e, i) => ({ key: i + String(e.data.url), label: <span class="mono-ish">{String(e.data.url)}</span>, title: String(e.data.url), value: e.duration, color: hashColor(domainOf(e)) }))}
              />
            ) : <Skeleton />}
          </Card>
        ) : null;
      case 'browser-titles':
        return cardsShown ? (
          <Card title={t('views.card.browserTitles')} testId="top-browser-titles">
            {res ? (
              <TopList total={res.browser.duration} empty={t('activity.noBrowser')} items={res.browser.titles.map((e, i) => ({ key: i + String(e.data.title), label: String(e.data.title ?? ''), title: String(e.data.title ?? ''), value: e.duration, color: hashColor(domainOf(e)) }))} />
            ) : <Skeleton />}
          </Card>
        ) : null;
      case 'editor-projects':
      case 'editor-files':
      case 'editor-languages': {
        if (!res?.editor) return null;
        const k = id === 'editor-projects' ? 'projects' : id === 'editor-files' ? 'files' : 'languages';
        const key = k === 'projects' ? 'project' : k === 'files' ? 'file' : 'language';
        return (
          <Card title={t(k === 'projects' ? 'views.card.projects' : k === 'files' ? 'views.card.files' : 'views.card.languages')} testId={`editor-${k}`}>
            <TopList
              total={res.editor.duration}
              empty={t('activity.noEditor')}
              items={res.editor[k].map((e, i) => {
                const v = String(e.data[key] ?? '');
                return { key: i + v, label: k === 'files' ? v.split('/').pop() || v : v, title: v, value: e.duration, color: hashColor(v) };
              })}
            />
          </Card>
        );
      }
    }
  };
  const shownCards = view.cards.map((id) => ({ id, node: card(id) })).filter((c) => c.node);

  return (
    <div class="page activity" data-testid="activity-page">
      <div class="page-head">
        <div>
          <h1>{t('activity.title')}</h1>
          <div class="page-sub" data-testid="period-label">
            {periodLabel(p, opts)}
            {host !== ALL ? <span> · {host}</span> : <span> · {t('activity.allDevicesLower')}</span>}
          </div>
        </div>
        <div class="toolbar">
          <select class="select" data-testid="host-select" value={host} onChange={(e) => go((e.target as HTMLSelectElement).value, kind, date)}>
            {hosts.length > 1 && <option value={ALL}>{t('activity.allDevicesN', { n: hosts.length })}</option>}
            {hosts.map((h) => (
              <option value={h}>{t(isLocal(h) ? 'activity.hostLocal' : 'activity.hostRemote', { host: h })}</option>
            ))}
            {!hosts.length && <option value={ALL}>{t('activity.noDevices')}</option>}
          </select>
          <div class="act-periods">
            <Segmented
              testId="period-select"
              value={kind}
              options={PERIODS.map((k) => ({ value: k, label: PERIOD_NAMES[k] }))}
              onChange={(k) => go(host, k, date)}
            />
          </div>
          <div class="date-nav">
            <button class="btn btn-icon" aria-label={t('activity.prev')} data-testid="prev-period" onClick={() => go(host, kind, stepPeriod(kind, date, -1, opts))}>
              <I.IconChevronLeft />
            </button>
            <input
              type="date"
              class="input date-input"
              data-testid="date-input"
              aria-label={t(isRolling(kind) ? 'activity.dateRolling' : 'activity.dateInPeriod')}
              value={ymd(date)}
              onChange={(e) => {
                const d = parseYmd((e.target as HTMLInputElement).value);
                if (d) go(host, kind, d);
              }}
            />
            <button class="btn btn-icon" aria-label={t('activity.next')} data-testid="next-period" onClick={() => go(host, kind, stepPeriod(kind, date, 1, opts))}>
              <I.IconChevronRight />
            </button>
          </div>
          <button class="btn" onClick={() => go(host, kind, logicalToday(opts))}>
            {t('activity.today')}
          </button>
        </div>
      </div>
      {hosts.length > 0 && <CountFilters categories={catNames} />}

      {ready && !hosts.length && (
        <Card>
          <Empty icon={I.IconActivity}>
            <p><strong>{t('activity.noData')}</strong></p>
            <p class="muted">{t('activity.noDataHint')}</p>
            <a class="btn btn-primary" href="#/buckets">{t('activity.importData')}</a>
          </Empty>
        </Card>
      )}

      <ErrorBox error={err} title={t('activity.queryFailed')} />

      {selected.length > 0 && (
        <>
          <PeriodUsage periods={usage} error={usageErr} onPick={(k) => go(host, kind, parseYmd(k) || date)} />

          <div class="stats">
            <Stat label={t('activity.stat.active')} value={fresh ? fmtDuration(total) : null} testId="total-active" seconds={total}
              hint={res && kind !== 'day' && bars ? t(kind === 'year' ? 'activity.stat.perActiveMonth' : 'activity.stat.perActiveDay', { time: fmtDuration(total / activeUnits(bars.totals)) }) : undefined} />
            <Stat label={t('activity.stat.topCategory')} value={fresh ? (topCat ? topCat.path.join(' › ') : '—') : null}
              color={topCat?.color} hint={topCat ? `${fmtDuration(topCat.total)} · ${pct(topCat.total, total)}` : undefined} />
            <Stat label={t('activity.stat.topApp')} value={fresh && res ? String(res.window.app_events[0]?.data.app ?? '—') : null}
              color={res?.window.app_events[0] ? hashColor(String(res.window.app_events[0].data.app)) : undefined}
              hint={res?.window.app_events[0] ? fmtDuration(res.window.app_events[0].duration) : undefined} />
            <Stat label={t('activity.stat.browsing')} value={fresh && res ? fmtDuration(res.browser.duration) : null} testId="browsing" seconds={res?.browser.duration}
              hint={res && total ? t('activity.stat.ofActive', { pct: Math.round((res.browser.duration / total) * 100) }) : undefined} />
          </div>

          {fresh && res && !count.categories && (
            <UncategorisedBanner
              total={total}
              uncategorized={res.window.cat_events.filter((e) => JSON.stringify(e.data.$category) === '["Uncategorized"]').reduce((a, e) => a + e.duration, 0)}
            />
          )}

          {res && total === 0 && !loading && (
            <div class="alert alert-info" data-testid="no-activity">
              <span>{t('activity.noActivity')}</span>
              {latest && (
                <button class="btn btn-sm" onClick={() => go(host, kind, latest)}>
                  {t('activity.jumpLatest', { date: formatDate(latest) })}
                </button>
              )}
            </div>
          )}

          <div class="act-views">
            <div class="act-views-tabs">
              <Segmented testId="view-select" value={view.id} options={views.map((v) => ({ value: v.id, label: viewName(v) }))}
                onChange={(v) => go(host, kind, date, v)} />
            </div>
            <button class="btn btn-sm" data-testid="edit-view" aria-expanded={editing} onClick={() => setEditing(!editing)}>
              <I.IconEdit /> {t('activity.editView')}
            </button>
          </div>
          {editing && <ViewEditor key={view.id} views={views} view={view} onClose={() => setEditing(false)} onOpenView={(v) => go(host, kind, date, v)} />}

          {shownCards.length ? (
            <div class="grid act-cards" data-testid="activity-cards">
              {shownCards.map((c) => <div class={`act-card-slot span-${cardWidth(view, c.id)}`} key={c.id} data-card={c.id}>{c.node}</div>)}
            </div>
          ) : (
            <p class="act-empty-view" data-testid="empty-view">{t('activity.emptyView')} <button class="link" onClick={() => setEditing(true)}>{t('activity.editTheView')}</button></p>
          )}
          {loading && res && <div class="loading-bar" />}
        </>
      )}
    </div>
  );
}

/** Number of bars (days, or months in the year view) with any activity. */
function activeUnits(totals: number[]): number {
  return Math.max(1, totals.filter((t) => t > 0).length);
}

function Stat({ label, value, hint, color, testId, seconds }: { label: string; value: string | null; hint?: string; color?: string; testId?: string; seconds?: number }) {
  return (
    <div class="stat" data-testid={testId}>
      <div class="stat-label">{label}</div>
      {value === null ? (
        <div class="stat-value sk-inline" />
      ) : (
        <div class="stat-value" data-seconds={seconds}>
          {color && <span class="stat-dot" style={{ background: color }} />}
          <span class="stat-text">{value}</span>
        </div>
      )}
      <div class="stat-hint">{hint || '\u00a0'}</div>
    </div>
  );
}

const appItem = (e: Ev): TopItem => {
  const a = String(e.data.app ?? '');
  return { key: a, label: a, value: e.duration, color: hashColor(a), title: a };
};

function titleItem(e: Ev, i: number, classes: Category[]): TopItem {
  const cat = eventCategory(e.data);
  return {
    key: i + String(e.data.title),
    label: String(e.data.title ?? ''),
    sub: <span class="muted">{String(e.data.app ?? '')} · {cat.join(' › ')}</span>,
    value: e.duration,
    color: categoryColor(cat, classes),
    title: String(e.data.title ?? ''),
  };
}

function domainOf(e: Ev): string {
  if (e.data.$domain) return String(e.data.$domain);
  try {
    return new URL(String(e.data.url)).hostname.replace(/^www\./, '');
  } catch {
    return '';
  }
}

const domainItem = (e: Ev): TopItem => {
  const d = String(e.data.$domain ?? '') || t('activity.none');
  return { key: d, label: d, value: e.duration, color: hashColor(d) };
};

function CatTree({ node, total, depth = 0 }: { node: CatNode; total: number; depth?: number }) {
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const rows: VNode[] = [];
  const walk = (n: CatNode, d: number) => {
    for (const c of n.children) {
      const key = c.path.join('>');
      const isOpen = open[key] ?? d < 1;
      rows.push(
        <div class="ct-row" style={{ paddingLeft: `${d * 18}px` }} data-category={c.path.join(' > ')}>
          <button class={'ct-toggle' + (c.children.length ? '' : ' invisible')} onClick={() => setOpen({ ...open, [key]: !isOpen })}
            aria-label={t(isOpen ? 'activity.collapse' : 'activity.expand', { name: c.name })} aria-expanded={isOpen} tabIndex={c.children.length ? 0 : -1}>
            <span class={'ct-chevron' + (isOpen ? ' open' : '')}><I.IconChevronRight /></span>
          </button>
          <span class="tl-dot" style={{ background: c.color }} />
          <span class="ct-name">{c.name}</span>
          <span class="ct-bar"><span style={{ width: `${(c.total / (total || 1)) * 100}%`, background: c.color }} /></span>
          <span class="ct-dur">{fmtDuration(c.total)}</span>
          <span class="ct-pct">{pct(c.total, total)}</span>
        </div>,
      );
      if (isOpen) walk(c, d + 1);
    }
  };
  walk(node, depth);
  return <div class="cattree">{rows}</div>;
}

/** A sunburst data item: a category, its children, its path for the tooltip, and (outer
 * rings) its own label settings. */
interface SunburstNode {
  name: string;
  value: number;
  itemStyle: { color: string };
  children: SunburstNode[];
  path: string;
  label?: { show: boolean; width?: number };
}

// The rings' radii (share of the chart's radius) and the radius the labels are sized for:
// the chart is 300 px high, and on a phone the card leaves about 260 px of width.
const RINGS: [string, string][] = [['22%', '58%'], ['58%', '79%'], ['79%', '96%']];
const LABEL_RADIUS = 128;

/** Label of a subcategory: written along its arc, as wide as the arc (less a margin), and
 * left out when the arc cannot hold a few letters. */
function ringLabel(depth: number, share: number): { show: boolean; width?: number } {
  const [r0, r1] = RINGS[Math.min(depth, RINGS.length - 1)].map((r) => parseFloat(r) / 100);
  const arc = share * 2 * Math.PI * LABEL_RADIUS * ((r0 + r1) / 2);
  return arc >= 34 ? { show: true, width: Math.floor(arc - 8) } : { show: false };
}

function Sunburst({ tree }: { tree: CatNode }) {
  const option = useMemo(() => {
    const conv = (n: CatNode, depth: number): SunburstNode => ({
      name: n.name,
      value: n.total,
      itemStyle: { color: n.color },
      children: n.children.map((c) => conv(c, depth + 1)),
      path: n.path.join(' › '),
      ...(depth > 0 && { label: ringLabel(depth, n.total / (tree.total || 1)) }),
    });
    const data = tree.children.map((c) => conv(c, 0));
    return (dark: boolean) => {
      const c = axisColors(dark);
      const outer = { show: true, rotate: 'tangential', fontSize: 10, fontWeight: 600, color: '#fff', overflow: 'truncate', minAngle: 0 };
      return {
        tooltip: {
          backgroundColor: c.tooltipBg, borderColor: c.tooltipBorder, textStyle: { color: c.tooltipText },
          formatter: (p: DefaultLabelFormatterCallbackParams) => {
            const v = p.value as number;
            return `<b>${esc((p.data as SunburstNode).path)}</b><br/>${fmtDuration(v)} · ${Math.round((v / (tree.total || 1)) * 100)}%`;
          },
        },
        series: [{
          type: 'sunburst', data, radius: [RINGS[0][0], RINGS[2][1]], sort: undefined, nodeClick: 'rootToNode',
          itemStyle: { borderColor: dark ? '#111827' : '#fff', borderWidth: 2, borderRadius: 4 },
          label: { show: true, minAngle: 22, color: '#fff', fontSize: 11, fontWeight: 600, rotate: 0, overflow: 'truncate', width: 70 },
          levels: [{}, { r0: RINGS[0][0], r: RINGS[0][1] }, { r0: RINGS[1][0], r: RINGS[1][1], label: outer }, { r0: RINGS[2][0], r: RINGS[2][1], label: outer }],
          emphasis: { focus: 'ancestor' },
        }],
      };
    };
  }, [tree]);
  return <Chart option={option} height={300} testId="sunburst" />;
}

export function esc(s: string): string {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The bar chart's data: per bar, its label, category totals, total, period (ms) and (several
 * devices) each device's share. */
interface Bars {
  labels: string[];
  rows: Ev[][];
  totals: number[];
  ranges: [number, number][];
  hosts?: Record<string, number>[];
}
type BarMode = 'category' | 'device';

/** A bar's name in its tooltip: the hour, the full date of a day, or the month and year. */
function barTitle(kind: PeriodKind, bars: Bars, i: number): string {
  if (kind === 'day') return bars.labels[i];
  const d = new Date(bars.ranges[i][0]);
  return kind === 'year'
    ? formatDate(d, { month: 'long', year: 'numeric' })
    : formatDate(d, { weekday: 'long', month: 'long', day: 'numeric' });
}

/** Seconds of `spans` (sorted, disjoint periods) inside [t0, t1) (ms). */
function overlapSeconds(spans: Ev[], t0: number, t1: number): number {
  let ms = 0;
  for (const e of spans) {
    const a = Date.parse(e.timestamp);
    const b = a + e.duration * 1000;
    if (b > t0 && a < t1) ms += Math.min(b, t1) - Math.max(a, t0);
  }
  return ms / 1000;
}

/** A device's colour (Devices card, per-device bars, the Timeline's device lane). */
export const deviceColor = (h: string) => hashColor('host:' + h);

/** Bars stacked by top-level category, or by device: from each device's attributed periods
 * when given (day view), else from each bar's per-device totals. */
function BarChart({ bars, classes, kind, mode, spans }: { bars: Bars; classes: Category[]; kind: PeriodKind; mode: BarMode; spans: Record<string, Ev[]> | null }) {
  const option = useMemo(() => {
    // stack by top-level category, or by device
    const stacks = new Map<string, number[]>();
    const add = (k: string, i: number, v: number) => {
      if (!stacks.has(k)) stacks.set(k, new Array(bars.labels.length).fill(0));
      stacks.get(k)![i] += v;
    };
    if (mode === 'device' && spans) {
      for (const [h, es] of Object.entries(spans)) bars.ranges.forEach(([t0, t1], i) => add(h, i, overlapSeconds(es, t0, t1)));
    } else if (mode === 'device' && bars.hosts) {
      bars.hosts.forEach((hs, i) => Object.entries(hs).forEach(([h, v]) => add(h, i, v)));
    } else {
      bars.rows.forEach((row, i) => row.forEach((e) => add(eventCategory(e.data)[0], i, e.duration)));
    }
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    const order = [...stacks.entries()].sort((a, b) => {
      if (mode === 'device') return sum(b[1]) - sum(a[1]) || a[0].localeCompare(b[0]);
      if (a[0] === 'Uncategorized') return 1;
      if (b[0] === 'Uncategorized') return -1;
      return sum(b[1]) - sum(a[1]);
    });
    const color = (name: string) => (mode === 'device' ? deviceColor(name) : categoryColor([name], classes));
    const unit = kind === 'day' ? 60 : 3600;
    const series = order.map(([name, vals]) => ({ name, data: vals.map((v) => +(v / unit).toFixed(3)) }));
    // An hour holds at most 60 minutes: the day view's axis ends at 60, unless a bar is
    // taller (it never should be), which then shows instead of being cut off. (Rounding
    // each part to 0.001 min may add up to a few thousandths more than 60.)
    const tallest = Math.max(0, ...bars.labels.map((_, i) => sum(series.map((x) => x.data[i]))));
    const max = kind === 'day' ? Math.max(60, Math.ceil(tallest - 0.01)) : undefined;
    return (dark: boolean) => {
      const c = axisColors(dark);
      return {
        grid: { left: 8, right: 8, top: 36, bottom: 4, containLabel: true },
        legend: { top: 0, left: 0, icon: 'circle', itemWidth: 8, itemHeight: 8, textStyle: { color: c.text } },
        tooltip: {
          trigger: 'axis', axisPointer: { type: 'shadow' },
          backgroundColor: c.tooltipBg, borderColor: c.tooltipBorder, textStyle: { color: c.tooltipText },
          formatter: (ps: DefaultLabelFormatterCallbackParams[]) => {
            const i = ps[0]?.dataIndex ?? 0;
            // every value is a number: the bars' data are hours (or minutes) per category
            const lines = ps.filter((p) => (p.value as number) > 0).map((p) => `${p.marker}${esc(String(p.seriesName))} <b style="float:right;margin-left:16px">${fmtDuration((p.value as number) * unit)}</b>`);
            return `<b>${esc(barTitle(kind, bars, i))}</b> · ${fmtDuration(bars.totals[i])}<br/>${lines.join('<br/>')}`;
          },
        },
        xAxis: { type: 'category', data: bars.labels, axisLine: { lineStyle: { color: c.line } }, axisTick: { show: false }, axisLabel: { color: c.text, fontSize: 11, lineHeight: 14 } },
        yAxis: {
          type: 'value', splitLine: { lineStyle: { color: c.line } }, axisLabel: { color: c.text, fontSize: 11, formatter: (v: number) => `${formatNumber(v, { useGrouping: false })}${kind === 'day' ? 'm' : 'h'}` },
          max,
        },
        series: series.map(({ name, data }) => ({
          name, type: 'bar', stack: 'all', barMaxWidth: 34, itemStyle: { color: color(name), borderRadius: 0 },
          emphasis: { focus: 'series' }, data,
        })),
      };
    };
  }, [bars, classes, kind, mode, spans]);
  return <Chart option={option} height={260} testId="bar-chart" />;
}

