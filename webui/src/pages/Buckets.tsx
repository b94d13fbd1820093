import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api';
import type { AWEvent, Bucket } from '../lib/types';
import { href } from '../lib/router';
import { devices, lastUpdated, loadBuckets, useStore, type Device } from '../lib/store';
import { fmtAgo, fmtDateTime } from '../lib/time';
import { Badge, Card, download, Empty, ErrorBox, Modal, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';

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
      {del && <DeleteBucketModal bucket={del} count={counts[del.id]} onClose={() => setDel(null)} onDeleted={() => { setDel(null); loadBuckets(); }} />}
    </div>
  );
}
