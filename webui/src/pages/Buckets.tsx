import type { VNode } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api';
import type { AWEvent, Bucket } from '../lib/types';
import { href } from '../lib/router';
import { devices, lastUpdated, loadBuckets, useStore, type Device } from '../lib/store';
import { formatAgo, formatDateTime, formatNumber, t, tx } from '../lib/i18n';
import { Badge, Card, download, Empty, ErrorBox, Modal, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';
import { BATCH, copyEvents, MergeError, planMerge, refusal, type MergePlan, type MergeResult } from '../lib/merge';
import './buckets-merge.css';

export function eventsToCsv(events: AWEvent[]): string {
  const keys = [...new Set(events.flatMap((e) => Object.keys(e.data || {})))].sort();
  const cell = (v: unknown) => {
    if (v === undefined || v === null) return '';
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  const lines = [['id', 'timestamp', 'duration', ...keys].map(cell).join(',')];
  for (const e of events) lines.push([e.id, e.timestamp, e.duration, ...keys.map((k) => e.data?.[k])].map(cell).join(','));
  return lines.join('\n') + '\n';
}

export async function exportCsv(id: string) {
  const ev = await api.events(id);
  download(`aw-bucket-export_${id}.csv`, eventsToCsv(ev), 'text/csv');
}

export function DeleteBucketModal({ bucket, count, onClose, onDeleted }: { bucket: Bucket; count?: number; onClose: () => void; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  return (
    <Modal
      title={t('buckets.delete.title')}
      onClose={onClose}
      footer={
        <>
          <button class="btn" onClick={onClose}>{t('common.cancel')}</button>
          <button
            class="btn btn-danger"
            data-testid="confirm-delete"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await api.deleteBucket(bucket.id);
                toast(t('buckets.delete.done', { id: bucket.id }));
                onDeleted();
              } catch (e) {
                setErr(e);
                setBusy(false);
              }
            }}
          >
            {t('buckets.delete.permanently')}
          </button>
        </>
      }
    >
      <p>
        {tx(count !== undefined ? 'buckets.delete.textCount' : 'buckets.delete.text', { id: <strong class="mono">{bucket.id}</strong>, n: count ?? 0 })}
      </p>
      <ErrorBox error={err} title={t('buckets.delete.failed')} />
    </Modal>
  );
}

// ---- merge --------------------------------------------------------------------------

/** A watcher's bucket id without its hostname ("aw-watcher-window_old" → "aw-watcher-window"):
 * after a rename the likely destination is the same watcher's bucket under the new name. */
const stem = (id: string) => id.replace(/_[^_]*$/, '');

function guessDest(source: Bucket, buckets: Bucket[]): string {
  const same = buckets.filter((b) => b.id !== source.id && b.type === source.type);
  return (same.find((b) => stem(b.id) === stem(source.id)) ?? same[0])?.id ?? '';
}

const events = (n: number) => t('common.events', { n });

function range(b: Bucket): string {
  const s = b.metadata?.start;
  const e = b.metadata?.end;
  return s && e ? `${formatDateTime(s)} – ${formatDateTime(e)}` : t('buckets.noEvents');
}

type MergePhase = 'choose' | 'confirm' | 'copying' | 'copied' | 'failed' | 'deleting';

/** "Merge into…": pick a destination among this device's buckets, see what will be copied,
 * confirm, copy with progress, then decide about the source. `buckets` are the writable
 * ones (this device's); the caller never passes another device's. */
export function MergeModal({ source, buckets, onClose, onChanged }: {
  source: Bucket;
  buckets: Bucket[];
  onClose: () => void;
  /** the node's buckets changed (events copied, source deleted) */
  onChanged: () => void;
}) {
  const others = useMemo(
    () => buckets.filter((b) => b.id !== source.id).sort((a, b) => a.id.localeCompare(b.id)),
    [buckets, source.id],
  );
  const sameType = others.filter((b) => b.type === source.type);
  const otherType = others.filter((b) => b.type !== source.type);
  const [destId, setDestId] = useState(() => guessDest(source, buckets));
  const dest = others.find((b) => b.id === destId) ?? null;
  const refused = dest ? refusal(source, dest) : null;
  const [plan, setPlan] = useState<MergePlan | null>(null);
  const [planErr, setPlanErr] = useState<unknown>(null);
  const [phase, setPhase] = useState<MergePhase>('choose');
  const [copied, setCopied] = useState(0);
  const [result, setResult] = useState<MergeResult | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const focusRef = useRef<HTMLElement | null>(null);
  const focusMe = (el: HTMLElement | null) => {
    focusRef.current = el;
  };

  // each step puts the keyboard on its main control, so the dialog works without a mouse
  useEffect(() => {
    focusRef.current?.focus();
  }, [phase]);

  useEffect(() => {
    setPlan(null);
    setPlanErr(null);
    if (!dest || refused) return;
    let live = true;
    planMerge(source, dest).then(
      (p) => live && setPlan(p),
      (e) => live && setPlanErr(e),
    );
    return () => {
      live = false;
    };
    // the plan depends on the chosen bucket only; its object changes on every reload
  }, [destId, source.id]);

  const busy = phase === 'copying' || phase === 'deleting';
  // read at the moment of the key press: the dialog's Escape handler may still be the one
  // registered before the copy began
  const busyRef = useRef(busy);
  busyRef.current = busy;
  const close = () => {
    if (!busyRef.current) onClose();
  };
  const total = plan?.count ?? 0;

  const run = async () => {
    if (!dest) return;
    setPhase('copying');
    setCopied(0);
    setErr(null);
    abort.current = new AbortController();
    try {
      const r = await copyEvents(source.id, dest.id, { progress: setCopied, signal: abort.current.signal });
      setResult(r);
      setCopied(r.copied);
      setPhase('copied');
    } catch (e) {
      setErr(e);
      if (e instanceof MergeError) setCopied(e.copied);
      setPhase('failed');
    } finally {
      onChanged();
    }
  };

  const deleteSource = async () => {
    setPhase('deleting');
    setErr(null);
    try {
      await api.deleteBucket(source.id);
      toast(t('buckets.merge.mergedDeleted', { source: source.id, dest: destId }));
      onChanged();
      onClose();
    } catch (e) {
      setErr(e);
      setPhase('copied');
    }
  };

  // after the copy: the source may go only when every event is accounted for
  const sourceChanged = result ? result.sourceNow !== result.copied : false;
  const destShort = result ? result.destNow < result.destBefore + result.copied : false;
  const canDelete = phase === 'copied' && !sourceChanged && !destShort;

  let body: VNode;
  let footer: VNode;
  if (phase === 'choose') {
    body = (
      <>
        <p>
          {tx('buckets.merge.intro', { source: <strong class="mono mg-id">{source.id}</strong>, type: <span class="tag">{source.type}</span> })}
        </p>
        <label class="field mg-field">
          <span>{t('buckets.merge.into')}</span>
          <select
            ref={focusMe}
            class="select"
            data-testid="merge-dest"
            value={destId}
            onChange={(e) => setDestId((e.target as HTMLSelectElement).value)}
          >
            <option value="">{t('buckets.merge.choose')}</option>
            {sameType.map((b) => (
              <option value={b.id}>{b.id}</option>
            ))}
            {otherType.length > 0 && (
              <optgroup label={t('buckets.merge.otherTypes')}>
                {otherType.map((b) => (
                  <option value={b.id}>{b.id} ({b.type})</option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
        {!sameType.length && (
          <p class="muted" data-testid="merge-none">{tx('buckets.merge.none', { type: <span class="tag">{source.type}</span> })}</p>
        )}
        {refused && (
          <div class="alert alert-error" role="alert" data-testid="merge-refused">
            <strong>{t('buckets.merge.cannot')}</strong>
            <span>{refused}</span>
          </div>
        )}
        <ErrorBox error={planErr} title={t('buckets.merge.readError')} />
        {dest && !refused && !plan && !planErr && <Skeleton rows={3} />}
        {dest && !refused && plan && (
          <dl class="mg-facts" data-testid="merge-plan">
            <dt>{t('buckets.merge.toCopy')}</dt>
            <dd data-testid="merge-count" data-count={plan.count}>{events(plan.count)}</dd>
            <dt>{t('buckets.merge.source')}</dt>
            <dd>{range(source)}</dd>
            <dt>{t('buckets.merge.destination')}</dt>
            <dd>{range(dest)} · {events(plan.destCount)}</dd>
            <dt>{t('buckets.merge.overlap')}</dt>
            <dd data-testid="merge-overlap" data-overlap={plan.overlap ? '1' : '0'}>
              {plan.overlap ? (
                <>
                  {formatDateTime(plan.overlap.start)} – {formatDateTime(plan.overlap.end)}: {t('buckets.merge.sourceEvents', { n: plan.overlap.sourceEvents })}, {t('buckets.merge.destEvents', { n: plan.overlap.destEvents })}
                </>
              ) : (
                t('buckets.merge.noOverlap')
              )}
            </dd>
          </dl>
        )}
        {plan?.overlap && !refused && (
          <p class="mg-note" data-testid="merge-overlap-note">
            {t('buckets.merge.overlapNote')}
          </p>
        )}
        {plan && !refused && plan.count === 0 && <p class="muted">{t('buckets.merge.nothing')}</p>}
      </>
    );
    footer = (
      <>
        <button class="btn" onClick={close}>{t('common.cancel')}</button>
        <button class="btn btn-primary" data-testid="merge-next" disabled={!plan || !!refused || plan.count === 0} onClick={() => setPhase('confirm')}>
          {t('buckets.merge.continue')}
        </button>
      </>
    );
  } else if (phase === 'confirm') {
    body = (
      <p data-testid="merge-confirm-text">
        {tx('buckets.merge.confirm', {
          events: <strong>{events(total)}</strong>,
          source: <strong class="mono mg-id">{source.id}</strong>,
          dest: <strong class="mono mg-id">{destId}</strong>,
          batch: BATCH,
          after: events(total + (plan?.destCount ?? 0)),
        })}
      </p>
    );
    footer = (
      <>
        <button class="btn" onClick={() => setPhase('choose')}>{t('buckets.merge.back')}</button>
        <button ref={focusMe} class="btn btn-primary" data-testid="merge-confirm" onClick={run}>
          {t('buckets.merge.copy', { events: events(total) })}
        </button>
      </>
    );
  } else if (phase === 'copying') {
    body = (
      <div class="mg-progress" data-testid="merge-copying">
        <p aria-live="polite">
          {tx('buckets.merge.copying', { dest: <strong class="mono mg-id">{destId}</strong>, copied, total })}
        </p>
        <progress max={Math.max(total, 1)} value={copied} data-testid="merge-progress" aria-label={t('buckets.merge.progress')} />
      </div>
    );
    footer = (
      <button ref={focusMe} class="btn" data-testid="merge-stop" onClick={() => abort.current?.abort()}>
        {t('buckets.merge.stop')}
      </button>
    );
  } else if (phase === 'failed') {
    body = (
      <>
        <ErrorBox error={err} title={t('buckets.merge.stopped')} />
        <p data-testid="merge-failed" data-copied={copied}>
          {tx('buckets.merge.failed', { events: events(copied), total, dest: <strong class="mono mg-id">{destId}</strong>, source: <strong class="mono mg-id">{source.id}</strong> })}
        </p>
      </>
    );
    footer = (
      <button ref={focusMe} class="btn" data-testid="merge-close" onClick={close}>
        Close
      </button>
    );
  } else {
    body = (
      <>
        <p class="mg-done" data-testid="merge-done" data-copied={copied}>
          {tx(result ? 'buckets.merge.doneHolds' : 'buckets.merge.done', { events: events(copied), dest: <strong class="mono mg-id">{destId}</strong>, now: events(result?.destNow ?? 0) })}
        </p>
        {sourceChanged && result && (
          <div class="alert alert-error" role="alert" data-testid="merge-source-changed">
            <strong>{t('buckets.merge.sourceChanged')}</strong>
            <span>{t('buckets.merge.sourceChangedText', { now: events(result.sourceNow), copied: result.copied })}</span>
          </div>
        )}
        {destShort && result && (
          <div class="alert alert-error" role="alert" data-testid="merge-dest-short">
            <strong>{t('buckets.merge.destShort')}</strong>
            <span>{t('buckets.merge.destShortText', { now: events(result.destNow), expected: result.destBefore + result.copied })}</span>
          </div>
        )}
        <ErrorBox error={err} title={t('buckets.delete.failed')} />
        {canDelete || phase === 'deleting' ? (
          <p>
            {tx('buckets.merge.deleteNow', { source: <strong class="mono mg-id">{source.id}</strong> })}
          </p>
        ) : null}
      </>
    );
    footer = canDelete || phase === 'deleting' ? (
      <>
        {/* the focus starts on the harmless choice: Enter alone never deletes */}
        <button ref={focusMe} class="btn" data-testid="merge-keep" disabled={busy} onClick={close}>{t('buckets.merge.keep')}</button>
        <button class="btn btn-danger" data-testid="merge-delete" disabled={busy} onClick={deleteSource}>
          {phase === 'deleting' ? t('buckets.merge.deleting') : t('buckets.merge.delete', { source: source.id })}
        </button>
      </>
    ) : (
      <button ref={focusMe} class="btn" data-testid="merge-close" onClick={close}>
        Close
      </button>
    );
  }

  return (
    <Modal title={<span class="mg-id">{t('buckets.merge.title', { source: source.id })}</span>} onClose={close} footer={<div class="mg-foot" data-testid="merge-dialog-foot">{footer}</div>}>
      <div class="mg-body" data-testid="merge-dialog" data-phase={phase}>
        {body}
      </div>
    </Modal>
  );
}

/** "desk (formerly desktop-old)", the device id's start when two devices share a name;
 * for this device also the names of hosts whose export files were imported here
 * ("laptop (formerly laptop-old; also work-pc)"). */
export function DeviceName({ d }: { d: Device }) {
  const parts: VNode[] = [];
  if (d.formerNames.length)
    parts.push(<span title={t('buckets.formerlyTitle')}>{t('buckets.formerly', { names: d.formerNames.join(', ') })}</span>);
  if (d.otherNames.length)
    parts.push(<span title={t('buckets.alsoTitle')}>{t('buckets.also', { names: d.otherNames.join(', ') })}</span>);
  return (
    <span class="dev-name" data-testid="device-name" title={d.id ? t('buckets.deviceId', { id: d.id }) : t('buckets.noDeviceList')}>
      <strong>{d.label}</strong>
      {parts.length > 0 && (
        <span class="muted" data-testid="former-names">
          {' ('}
          {parts.map((p, i) => (i ? <>; {p}</> : p))}
          {')'}
        </span>
      )}
    </span>
  );
}

export function DeviceBadge({ d }: { d: Device }) {
  return d.local ? (
    <Badge kind="local">{t('buckets.thisDevice')}</Badge>
  ) : (
    <Badge kind="remote" title={t('buckets.remoteTitle')}><I.IconLock /> {t('buckets.remote')}</Badge>
  );
}

export function BucketsPage() {
  const st = useStore();
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [del, setDel] = useState<Bucket | null>(null);
  const [merge, setMerge] = useState<Bucket | null>(null);
  const [importing, setImporting] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const devs = devices(st.buckets, st.info);

  useEffect(() => {
    let live = true;
    Promise.all(st.buckets.map(async (b) => [b.id, await api.count(b.id).catch(() => -1)] as const)).then(
      (r) => live && setCounts(Object.fromEntries(r)),
    );
    return () => {
      live = false;
    };
  }, [st.buckets]);

  const onImport = async (f: File) => {
    setImporting(true);
    setErr(null);
    try {
      let n = 0;
      try {
        n = Object.keys(JSON.parse(await f.text()).buckets || {}).length;
      } catch {
        /* let the server judge it */
      }
      await api.importFile(f, f.name);
      toast(n ? t('buckets.importedN', { file: f.name, n }) : t('buckets.imported', { file: f.name }));
      await loadBuckets();
    } catch (e) {
      setErr(e);
    } finally {
      setImporting(false);
      if (fileRef.current) fileRef.current.value = '';
    }
  };

  // only this device's buckets are writable here: merging never reads into or out of a
  // synced copy of another device's data
  const writable = devs.filter((d) => d.local).flatMap((d) => d.buckets);

  const total = Object.values(counts).reduce((a, b) => a + Math.max(0, b), 0);

  return (
    <div class="page" data-testid="buckets-page">
      <div class="page-head">
        <div>
          <h1>{t('nav.buckets')}</h1>
          <div class="page-sub">
            {t('buckets.nBuckets', { n: st.buckets.length })} · {events(total)} · {t('buckets.nDevices', { n: devs.length })}
          </div>
        </div>
        <div class="toolbar">
          <input ref={fileRef} type="file" accept=".json,application/json" hidden data-testid="import-file" onChange={(e) => {
            const f = (e.target as HTMLInputElement).files?.[0];
            if (f) onImport(f);
          }} />
          <button class="btn" disabled={importing} onClick={() => fileRef.current?.click()} data-testid="import-button">
            <I.IconUpload /> {importing ? t('buckets.importing') : t('settings.import')}
          </button>
          <a class="btn btn-primary" href={api.exportAllUrl()} download="aw-buckets-export.json" data-testid="export-all">
            <I.IconDownload /> {t('buckets.exportAll')}
          </a>
        </div>
      </div>
      <ErrorBox error={err} title={t('buckets.importFailed')} />
      {!st.bucketsLoaded && <Skeleton rows={6} />}
      {st.bucketsLoaded && !st.buckets.length && (
        <Card>
          <Empty icon="⛁">
            <p>{t('buckets.empty')}</p>
          </Empty>
        </Card>
      )}
      {devs.map((d) => (
        <Card
          testId={`device-${d.host}`}
          key={d.id ?? d.host}
          title={
            <span class="dev-title" data-device-id={d.id ?? ''} data-this-device={d.local ? '1' : '0'}>
              <I.IconDevice /> <DeviceName d={d} /> <DeviceBadge d={d} />
            </span>
          }
          subtitle={
            <>
              {t('buckets.lastActivity', { ago: formatAgo(d.lastSeen) })}{d.lastSeen ? ' · ' + formatDateTime(d.lastSeen) : ''}
              {d.id && <span class="mono small" title={t('buckets.deviceIdTitle')}> · {d.id}</span>}
            </>
          }
        >
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th>{t('buckets.col.bucket')}</th>
                  <th>{t('buckets.col.type')}</th>
                  <th>{t('buckets.col.client')}</th>
                  <th class="num">{t('buckets.col.events')}</th>
                  <th>{t('buckets.col.updated')}</th>
                  <th class="actions-col" />
                </tr>
              </thead>
              <tbody>
                {d.buckets.map((b) => {
                  const remote = !d.local;
                  return (
                    <tr data-bucket={b.id} data-remote={remote ? '1' : '0'}>
                      <td>
                        <a href={href('/buckets/' + encodeURIComponent(b.id))} class="mono strong">{b.id}</a>
                      </td>
                      <td><span class="tag">{b.type}</span></td>
                      <td class="muted">{b.client}</td>
                      <td class="num" data-testid="count">{counts[b.id] === undefined ? '…' : counts[b.id] < 0 ? '?' : formatNumber(counts[b.id])}</td>
                      <td title={formatDateTime(lastUpdated(b))}>{formatAgo(lastUpdated(b))}</td>
                      <td class="actions-col">
                        <a class="btn btn-sm btn-ghost" href={api.exportBucketUrl(b.id)} download={`aw-bucket-export_${b.id}.json`} title={t('buckets.exportJson')}>JSON</a>
                        <button class="btn btn-sm btn-ghost" title={t('buckets.exportCsv')} onClick={() => exportCsv(b.id).catch((e) => toast(e.message, 'error'))}>CSV</button>
                        {!remote && (
                          <button class="btn btn-sm btn-ghost" data-action="merge" title={t('buckets.mergeTitle')} onClick={() => setMerge(b)}>
                            {t('buckets.mergeInto')}
                          </button>
                        )}
                        {!remote && (
                          <button class="btn btn-sm btn-ghost btn-danger-text" data-action="delete" title={t('buckets.deleteTitle')} aria-label={t('buckets.deleteTitle')} onClick={() => setDel(b)}>
                            <I.IconTrash />
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </Card>
      ))}
      {merge && (
        <MergeModal
          source={merge}
          buckets={writable}
          onClose={() => setMerge(null)}
          onChanged={() => loadBuckets()}
        />
      )}
      {del && <DeleteBucketModal bucket={del} count={counts[del.id]} onClose={() => setDel(null)} onDeleted={() => { setDel(null); loadBuckets(); }} />}
    </div>
  );
}
