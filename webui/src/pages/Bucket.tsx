import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorMessage } from '../lib/api';
import type { AWEvent, Bucket } from '../lib/types';
import { href, navigate } from '../lib/router';
import { isRemote, loadBuckets, useStore } from '../lib/store';
import { fmtDuration } from '../lib/time';
import { formatAgo, formatDateTime, formatNumber, t } from '../lib/i18n';
import { Badge, Card, ErrorBox, Meta, Segmented, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';
import { DeleteBucketModal, exportCsv } from './Buckets';
import './bucket.css';

type Range = 'day' | 'week' | 'month' | 'all';
const RANGE_S: Record<Range, number> = { day: 86400, week: 7 * 86400, month: 31 * 86400, all: 0 };
const PAGE = 50;
const MAX = 50_000;
type SortKey = 'timestamp' | 'duration' | string;

export function BucketPage({ id }: { id: string }) {
  const st = useStore();
  const [bucket, setBucket] = useState<Bucket | null>(null);
  const [count, setCount] = useState<number | null>(null);
  const [events, setEvents] = useState<AWEvent[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [range, setRange] = useState<Range>('week');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'timestamp', desc: true });
  const [page, setPage] = useState(0);
  const [filter, setFilter] = useState('');
  const [del, setDel] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    setErr(null);
    Promise.all([api.bucket(id), api.count(id)])
      .then(([b, c]) => {
        setBucket(b);
        setCount(c);
      })
      .catch(setErr);
  }, [id, reload]);

  useEffect(() => {
    if (!bucket) return;
    setEvents(null);
    const endStr = bucket.metadata?.end;
    const o: { start?: string; end?: string; limit: number } = { limit: MAX };
    if (range !== 'all' && endStr) {
      const end = new Date(endStr).getTime() + 1000;
      o.end = new Date(end).toISOString();
      o.start = new Date(end - RANGE_S[range] * 1000).toISOString();
    }
    api.events(id, o).then(setEvents).catch(setErr);
    setPage(0);
  }, [bucket, range]);

  const remote = bucket ? isRemote(bucket, st.info) : false;
  const dataKeys = useMemo(() => {
    const s = new Set<string>();
    (events || []).slice(0, 500).forEach((e) => Object.keys(e.data || {}).forEach((k) => s.add(k)));
    return [...s].sort().slice(0, 4);
  }, [events]);

  const rows = useMemo(() => {
    if (!events) return [];
    const f = filter.trim().toLowerCase();
    const r = f ? events.filter((e) => JSON.stringify(e.data).toLowerCase().includes(f)) : events.slice();
    const k = sort.key;
    const get = (e: AWEvent): number | string => (k === 'timestamp' ? Date.parse(e.timestamp) : k === 'duration' ? e.duration : String(e.data?.[k] ?? ''));
    r.sort((a, b) => {
      const x = get(a), y = get(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return sort.desc ? -c : c;
    });
    return r;
  }, [events, sort, filter]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const shown = rows.slice(page * PAGE, page * PAGE + PAGE);

  // One click deletes (no dialog in the way of clearing several events), and the toast
  // offers Undo, which posts the event back with its id: the node then stores it under that
  // id again, so the restored event is the same one, not a copy.
  const deleteEvent = async (e: AWEvent) => {
    if (e.id == null) return;
    try {
      await api.deleteEvent(id, e.id);
    } catch (x) {
      toast(errorMessage(x), 'error');
      return;
    }
    setEvents((evs) => (evs || []).filter((x) => x.id !== e.id));
    setCount((c) => (c === null ? c : c - 1));
    toast(t('bucket.eventDeleted', { time: formatDateTime(e.timestamp, true) }), 'ok', {
      testId: 'undo-toast',
      focus: true,
      returnFocus: () => document.querySelector<HTMLElement>('[data-testid=events-table] [data-action=delete-event]'),
      action: {
        label: t('bucket.undo'),
        run: async () => {
          try {
            await api.insertEvents(id, [{ id: e.id, timestamp: e.timestamp, duration: e.duration, data: e.data }]);
          } catch (x) {
            toast(t('bucket.restoreFailed', { error: errorMessage(x) }), 'error');
            return;
          }
          setEvents((evs) => (evs && !evs.some((x) => x.id === e.id) ? [...evs, e] : evs));
          setCount((c) => (c === null ? c : c + 1));
          toast(t('bucket.restored'), 'ok');
        },
      },
    });
  };

  const th = (key: SortKey, label: string, cls = '') => (
    // the button makes the column's sort reachable by keyboard; aria-sort tells a screen
    // reader which way the table is sorted
    <th class={'sortable ' + cls} data-sort={key} aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="th-sort" onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : true })}>
        {label} {sort.key === key ? (sort.desc ? '↓' : '↑') : ''}
      </button>
    </th>
  );

  if (err && !bucket) return <div class="page"><ErrorBox error={err} title={t('bucket.loadError')} /><a href={href('/buckets')}>← {t('bucket.all')}</a></div>;

  return (
    <div class="page" data-testid="bucket-page">
      <div class="page-head">
        <div>
          <div class="crumbs"><a href={href('/buckets')}>{t('nav.buckets')}</a> / <span>{bucket?.hostname}</span></div>
          <h1 class="mono-title">{id}</h1>
          <div class="page-sub">
            {bucket && (remote ? <Badge kind="remote"><I.IconLock /> {t('buckets.remote')}</Badge> : <Badge kind="local">{t('buckets.thisDevice')}</Badge>)}{' '}
            {bucket?.type}
          </div>
        </div>
        <div class="toolbar">
          <a class="btn" href={api.exportBucketUrl(id)} download={`aw-bucket-export_${id}.json`}><I.IconDownload /> JSON</a>
          <button class="btn" onClick={() => exportCsv(id).catch((e) => toast(e.message, 'error'))}><I.IconDownload /> CSV</button>
          {bucket && !remote && (
            <button class="btn btn-danger-outline" data-action="delete" onClick={() => setDel(true)}><I.IconTrash /> {t('common.delete')}</button>
          )}
        </div>
      </div>
      <ErrorBox error={err} />
      {!bucket ? (
        <Skeleton />
      ) : (
        <div class="meta-grid">
          <Meta label={t('buckets.col.events')} value={count === null ? '…' : formatNumber(count)} />
          <Meta label={t('bucket.first')} value={formatDateTime(bucket.metadata?.start)} />
          <Meta label={t('bucket.last')} value={formatDateTime(bucket.metadata?.end)} hint={formatAgo(bucket.metadata?.end)} />
          <Meta label={t('bucket.created')} value={formatDateTime(bucket.created)} />
          <Meta label={t('buckets.col.client')} value={bucket.client} />
          <Meta label={t('bucket.host')} value={bucket.hostname} />
        </div>
      )}
      <Card
        title={t('buckets.col.events')}
        subtitle={events ? t('bucket.shown', { n: rows.length }) + (events.length >= MAX ? ' ' + t('bucket.first.n', { n: MAX }) : '') + (range !== 'all' ? ' · ' + t('bucket.endingAtLast') : '') : ''}
        actions={
          <>
            <input class="input input-sm" placeholder={t('bucket.filter')} aria-label={t('bucket.filter')} value={filter} onInput={(e) => { setFilter((e.target as HTMLInputElement).value); setPage(0); }} />
            <Segmented value={range} onChange={setRange} options={[{ value: 'day', label: t('bucket.range.day') }, { value: 'week', label: t('bucket.range.week') }, { value: 'month', label: t('bucket.range.month') }, { value: 'all', label: t('bucket.range.all') }]} />
          </>
        }
      >
        {!events ? (
          <Skeleton rows={8} />
        ) : (
          <>
            <div class="table-wrap">
              <table class="table table-events" data-testid="events-table">
                <thead>
                  <tr>
                    {th('timestamp', t('bucket.col.time'))}
                    {th('duration', t('bucket.col.duration'), 'num')}
                    {dataKeys.map((k) => th(k, k))}
                    <th>{t('bucket.col.data')}</th>
                    {!remote && <th />}
                  </tr>
                </thead>
                <tbody>
                  {shown.map((e) => (
                    <tr>
                      <td class="nowrap">{formatDateTime(e.timestamp, true)}</td>
                      <td class="num nowrap">{fmtDuration(e.duration, true)}</td>
                      {dataKeys.map((k) => <td class="cell-clip" title={String(e.data?.[k] ?? '')}>{fmtVal(e.data?.[k])}</td>)}
                      <td class="cell-clip mono small muted" title={JSON.stringify(e.data)}>{JSON.stringify(e.data)}</td>
                      {!remote && (
                        <td>
                          <button class="btn btn-ghost btn-sm btn-danger-text" title={t('bucket.deleteEvent')} aria-label={t('bucket.deleteEvent')} data-action="delete-event"
                            onClick={() => deleteEvent(e)}><I.IconTrash /></button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div class="pager">
              <button class="btn btn-sm" disabled={page === 0} onClick={() => setPage(0)} aria-label={t('bucket.firstPage')}>«</button>
              <button class="btn btn-sm" disabled={page === 0} onClick={() => setPage(page - 1)}>‹ {t('bucket.prev')}</button>
              <span class="muted" data-testid="page-info">{t('bucket.page', { page: page + 1, pages })}</span>
              <button class="btn btn-sm" disabled={page >= pages - 1} onClick={() => setPage(page + 1)}>{t('bucket.next')} ›</button>
              <button class="btn btn-sm" disabled={page >= pages - 1} onClick={() => setPage(pages - 1)} aria-label={t('bucket.lastPage')}>»</button>
            </div>
          </>
        )}
      </Card>
      {del && bucket && (
        <DeleteBucketModal bucket={bucket} count={count ?? undefined} onClose={() => setDel(false)} onDeleted={() => { loadBuckets(); navigate('/buckets'); setReload(reload + 1); }} />
      )}
    </div>
  );
}

function fmtVal(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

