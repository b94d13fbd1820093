import type { VNode } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api';
import type { AWEvent, Bucket } from '../lib/types';
import { href } from '../lib/router';
import { devices, lastUpdated, loadBuckets, useStore, type Device } from '../lib/store';
import { fmtAgo, fmtDateTime } from '../lib/time';
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
      title="Delete bucket?"
      onClose={onClose}
      footer={
        <>
          <button class="btn" onClick={onClose}>Cancel</button>
          <button
            class="btn btn-danger"
            data-testid="confirm-delete"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await api.deleteBucket(bucket.id);
                toast(`Deleted ${bucket.id}`);
                onDeleted();
              } catch (e) {
                setErr(e);
                setBusy(false);
              }
            }}
          >
            Delete permanently
          </button>
        </>
      }
    >
      <p>
        <strong class="mono">{bucket.id}</strong>
        {count !== undefined && <> and its {count.toLocaleString()} events</>} will be removed from this node. This cannot be undone;
        export it first if you may need it.
      </p>
      <ErrorBox error={err} title="Delete failed" />
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

const plural = (n: number, one: string) => `${n.toLocaleString()} ${one}${n === 1 ? '' : 's'}`;

function range(b: Bucket): string {
  const s = b.metadata?.start;
  const e = b.metadata?.end;
  return s && e ? `${fmtDateTime(s)} – ${fmtDateTime(e)}` : 'no events';
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
      toast(`Merged ${source.id} into ${destId} and deleted it`);
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
          Copies every event of <strong class="mono mg-id">{source.id}</strong> <span class="tag">{source.type}</span> into another bucket
          of this device, keeping each event's time, duration and data. Use it when the same watcher recorded under two
          names, e.g. before and after renaming the machine. The source is deleted only if you say so afterwards.
        </p>
        <label class="field mg-field">
          <span>Merge into</span>
          <select
            ref={focusMe}
            class="select"
            data-testid="merge-dest"
            value={destId}
            onChange={(e) => setDestId((e.target as HTMLSelectElement).value)}
          >
            <option value="">Choose a bucket…</option>
            {sameType.map((b) => (
              <option value={b.id}>{b.id}</option>
            ))}
            {otherType.length > 0 && (
              <optgroup label="Other types (cannot be merged)">
                {otherType.map((b) => (
                  <option value={b.id}>{b.id} ({b.type})</option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
        {!sameType.length && (
          <p class="muted" data-testid="merge-none">No other bucket of this device holds <span class="tag">{source.type}</span> events.</p>
        )}
        {refused && (
          <div class="alert alert-error" role="alert" data-testid="merge-refused">
            <strong>Cannot merge</strong>
            <span>{refused}</span>
          </div>
        )}
        <ErrorBox error={planErr} title="Could not read the buckets" />
        {dest && !refused && !plan && !planErr && <Skeleton rows={3} />}
        {dest && !refused && plan && (
          <dl class="mg-facts" data-testid="merge-plan">
            <dt>To copy</dt>
            <dd data-testid="merge-count" data-count={plan.count}>{plural(plan.count, 'event')}</dd>
            <dt>Source</dt>
            <dd>{range(source)}</dd>
            <dt>Destination</dt>
            <dd>{range(dest)} · {plural(plan.destCount, 'event')}</dd>
            <dt>Overlap</dt>
            <dd data-testid="merge-overlap" data-overlap={plan.overlap ? '1' : '0'}>
              {plan.overlap ? (
                <>
                  {fmtDateTime(plan.overlap.start)} – {fmtDateTime(plan.overlap.end)}: {plural(plan.overlap.sourceEvents, 'source event')}, {plural(plan.overlap.destEvents, 'destination event')}
                </>
              ) : (
                'none: the two buckets cover different times'
              )}
            </dd>
          </dl>
        )}
        {plan?.overlap && !refused && (
          <p class="mg-note" data-testid="merge-overlap-note">
            Both buckets have events in that stretch. The destination will keep both sets there: events are copied, not
            matched, so merging the same bucket twice doubles them.
          </p>
        )}
        {plan && !refused && plan.count === 0 && <p class="muted">The source has no events: there is nothing to copy.</p>}
      </>
    );
    footer = (
      <>
        <button class="btn" onClick={close}>Cancel</button>
        <button class="btn btn-primary" data-testid="merge-next" disabled={!plan || !!refused || plan.count === 0} onClick={() => setPhase('confirm')}>
          Continue
        </button>
      </>
    );
  } else if (phase === 'confirm') {
    body = (
      <p data-testid="merge-confirm-text">
        Copy <strong>{plural(total, 'event')}</strong> from <strong class="mono mg-id">{source.id}</strong> into{' '}
        <strong class="mono mg-id">{destId}</strong>? They are sent in batches of {BATCH.toLocaleString()}; the destination
        will then hold {plural(total + (plan?.destCount ?? 0), 'event')}. Nothing is deleted yet.
      </p>
    );
    footer = (
      <>
        <button class="btn" onClick={() => setPhase('choose')}>Back</button>
        <button ref={focusMe} class="btn btn-primary" data-testid="merge-confirm" onClick={run}>
          Copy {plural(total, 'event')}
        </button>
      </>
    );
  } else if (phase === 'copying') {
    body = (
      <div class="mg-progress" data-testid="merge-copying">
        <p aria-live="polite">
          Copying into <strong class="mono mg-id">{destId}</strong>: {copied.toLocaleString()} of {total.toLocaleString()}
        </p>
        <progress max={Math.max(total, 1)} value={copied} data-testid="merge-progress" aria-label="Events copied" />
      </div>
    );
    footer = (
      <button ref={focusMe} class="btn" data-testid="merge-stop" onClick={() => abort.current?.abort()}>
        Stop
      </button>
    );
  } else if (phase === 'failed') {
    body = (
      <>
        <ErrorBox error={err} title="The merge stopped" />
        <p data-testid="merge-failed" data-copied={copied}>
          {plural(copied, 'event')} of {total.toLocaleString()} reached <strong class="mono mg-id">{destId}</strong> before it
          stopped. <strong class="mono mg-id">{source.id}</strong> was not deleted. Merging again copies all its events
          again, including those already copied.
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
          Copied {plural(copied, 'event')} into <strong class="mono mg-id">{destId}</strong>
          {result ? <>, which now holds {plural(result.destNow, 'event')}</> : null}.
        </p>
        {sourceChanged && result && (
          <div class="alert alert-error" role="alert" data-testid="merge-source-changed">
            <strong>The source changed during the copy</strong>
            <span>
              It now holds {plural(result.sourceNow, 'event')}, not the {result.copied.toLocaleString()} copied; something
              still writes to it. It is kept: compare both buckets before deleting it.
            </span>
          </div>
        )}
        {destShort && result && (
          <div class="alert alert-error" role="alert" data-testid="merge-dest-short">
            <strong>Fewer events arrived than were sent</strong>
            <span>
              The destination holds {plural(result.destNow, 'event')}, expected at least{' '}
              {(result.destBefore + result.copied).toLocaleString()} (privacy filters drop matching events on the way in). The
              source is kept.
            </span>
          </div>
        )}
        <ErrorBox error={err} title="Delete failed" />
        {canDelete || phase === 'deleting' ? (
          <p>
            Delete <strong class="mono mg-id">{source.id}</strong> now? Its events are all in the destination; deleting the
            bucket cannot be undone.
          </p>
        ) : null}
      </>
    );
    footer = canDelete || phase === 'deleting' ? (
      <>
        {/* the focus starts on the harmless choice: Enter alone never deletes */}
        <button ref={focusMe} class="btn" data-testid="merge-keep" disabled={busy} onClick={close}>Keep the source</button>
        <button class="btn btn-danger" data-testid="merge-delete" disabled={busy} onClick={deleteSource}>
          {phase === 'deleting' ? 'Deleting…' : `Delete ${source.id}`}
        </button>
      </>
    ) : (
      <button ref={focusMe} class="btn" data-testid="merge-close" onClick={close}>
        Close
      </button>
    );
  }

  return (
    <Modal title={<span class="mg-id">Merge {source.id}</span>} onClose={close} footer={<div class="mg-foot" data-testid="merge-dialog-foot">{footer}</div>}>
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
    parts.push(<span title="Names this device used before">formerly {d.formerNames.join(', ')}</span>);
  if (d.otherNames.length)
    parts.push(<span title="Other hostnames on this device's buckets: imported export files of other machines (or names from before this node kept a record of its own)">also {d.otherNames.join(', ')}</span>);
  return (
    <span class="dev-name" data-testid="device-name" title={d.id ? `device id ${d.id}` : 'this node has no device list; grouped by hostname'}>
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
    <Badge kind="local">this device</Badge>
  ) : (
    <Badge kind="remote" title="Synced from another device; read-only here"><I.IconLock /> remote (read-only)</Badge>
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
      toast(`Imported ${f.name}${n ? ` (${n} bucket${n > 1 ? 's' : ''})` : ''}`);
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
          <h1>Raw data</h1>
          <div class="page-sub">
            {st.buckets.length} buckets · {total.toLocaleString()} events · {devs.length} device{devs.length === 1 ? '' : 's'}
          </div>
        </div>
        <div class="toolbar">
          <input ref={fileRef} type="file" accept=".json,application/json" hidden data-testid="import-file" onChange={(e) => {
            const f = (e.target as HTMLInputElement).files?.[0];
            if (f) onImport(f);
          }} />
          <button class="btn" disabled={importing} onClick={() => fileRef.current?.click()} data-testid="import-button">
            <I.IconUpload /> {importing ? 'Importing…' : 'Import'}
          </button>
          <a class="btn btn-primary" href={api.exportAllUrl()} download="aw-buckets-export.json" data-testid="export-all">
            <I.IconDownload /> Export all
          </a>
        </div>
      </div>
      <ErrorBox error={err} title="Import failed" />
      {!st.bucketsLoaded && <Skeleton rows={6} />}
      {st.bucketsLoaded && !st.buckets.length && (
        <Card>
          <Empty icon="⛁">
            <p>No buckets yet. Watchers create them when they first report, or import an ActivityWatch export.</p>
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
              last activity {fmtAgo(d.lastSeen)}{d.lastSeen ? ' · ' + fmtDateTime(d.lastSeen) : ''}
              {d.id && <span class="mono small" title="device id"> · {d.id}</span>}
            </>
          }
        >
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th>Bucket</th>
                  <th>Type</th>
                  <th>Client</th>
                  <th class="num">Events</th>
                  <th>Last updated</th>
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
                      <td class="num" data-testid="count">{counts[b.id] === undefined ? '…' : counts[b.id] < 0 ? '?' : counts[b.id].toLocaleString()}</td>
                      <td title={fmtDateTime(lastUpdated(b))}>{fmtAgo(lastUpdated(b))}</td>
                      <td class="actions-col">
                        <a class="btn btn-sm btn-ghost" href={api.exportBucketUrl(b.id)} download={`aw-bucket-export_${b.id}.json`} title="Export JSON">JSON</a>
                        <button class="btn btn-sm btn-ghost" title="Export CSV" onClick={() => exportCsv(b.id).catch((e) => toast(e.message, 'error'))}>CSV</button>
                        {!remote && (
                          <button class="btn btn-sm btn-ghost" data-action="merge" title="Copy this bucket's events into another bucket of this device" onClick={() => setMerge(b)}>
                            Merge into…
                          </button>
                        )}
                        {!remote && (
                          <button class="btn btn-sm btn-ghost btn-danger-text" data-action="delete" title="Delete bucket" onClick={() => setDel(b)}>
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
