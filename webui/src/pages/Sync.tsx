import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorMessage } from '../lib/api';
import type { SyncDevice, SyncStatus } from '../lib/types';
import { devices, loadBuckets, useStore } from '../lib/store';
import { fmtAgo, fmtDateTime } from '../lib/time';
import { Badge, Card, Empty, ErrorBox, Meta, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';
import { DeviceBadge, DeviceName } from './Buckets';

// GET /api/0/sync/status (docs/sync.md; SyncStatus in lib/types.ts): warnings name a
// remote that went back in history and devices that have not published for
// stale_after_seconds. A node without sync answers 404: "not configured".

export function SyncPage() {
  const st = useStore();
  const [status, setStatus] = useState<SyncStatus | null | undefined>(undefined);
  const [absent, setAbsent] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = () =>
    api
      .syncStatus()
      .then((s) => {
        setStatus(s);
        setErr(null);
      })
      .catch((e: ApiError) => {
        if (e.status === 404 || e.status === 501) {
          setAbsent(true);
          setStatus(null);
        } else setErr(e);
      });

  useEffect(() => {
    load();
  }, []);

  const configured = !!status && status.configured !== false;

  const syncNow = async () => {
    setBusy(true);
    try {
      await api.syncNow();
      toast('Sync round finished');
      await Promise.all([load(), loadBuckets()]);
    } catch (e) {
      toast(`Sync failed: ${errorMessage(e)}`, 'error');
      load();
    } finally {
      setBusy(false);
    }
  };

  const devs = devices(st.buckets, st.info);
  const list: SyncDevice[] = Array.isArray(status?.devices) ? status.devices : [];
  const errors: string[] = status
    ? [status.push?.error && `push: ${status.push.error}`, status.pull?.error && `pull: ${status.pull.error}`, status.state_error].filter((e): e is string => !!e)
    : [];
  const warnings: string[] = Array.isArray(status?.warnings) ? status.warnings : [];

  return (
    <div class="page" data-testid="sync-page">
      <div class="page-head">
        <div>
          <h1>Sync</h1>
          <div class="page-sub">Encrypted copies of each device's data in a shared folder; other devices' buckets appear here read-only.</div>
        </div>
        <div class="toolbar">
          <button class="btn" onClick={() => load()}><I.IconRefresh /> Refresh</button>
          <button class="btn btn-primary" disabled={busy || !configured} onClick={syncNow} data-testid="sync-now">
            <I.IconSync /> {busy ? 'Syncing…' : 'Sync now'}
          </button>
        </div>
      </div>
      <ErrorBox error={err} title="Cannot read sync status" />
      {status === undefined && !err && <Skeleton rows={4} />}
      {(absent || (status && !configured)) && (
        <Card testId="sync-not-configured">
          <div class="hero">
            <div class="hero-icon"><I.IconSync /></div>
            <div>
              <h2>Sync is not configured</h2>
              <p class="muted">
                This node keeps its data to itself. To see all your devices here, set up a sync folder on one device with
                <code>awnode sync init</code> and join it from the others with <code>awnode sync join</code> (see the user guide). Each
                device then publishes encrypted copies of its own buckets and imports the others' as read-only remote buckets.
              </p>
              {status?.problem && <p class="muted small" data-testid="sync-problem">Status: {status.problem}</p>}
              {absent && <p class="muted small">This node was built without sync.</p>}
            </div>
          </div>
        </Card>
      )}
      {configured && (
        <div class="meta-grid">
          <Meta hintClass="mono small" label="This device" value={status.hostname || st.info?.hostname || '—'} hint={status.device_id} />
          <Meta hintClass="mono small" label="Last push" value={fmtAgo(status.push?.last)} hint={status.push?.last ? `${fmtDateTime(status.push.last)} · ${status.push.count ?? 0} pushes` : undefined} />
          <Meta hintClass="mono small" label="Last pull" value={fmtAgo(status.pull?.last)} hint={status.pull?.last ? fmtDateTime(status.pull.last) : undefined} />
          <Meta hintClass="mono small" label="Folder" value={status.folder || '—'} hint={(status.remotes || []).map((r) => r.url || r.name).join(', ') || undefined} />
        </div>
      )}
      {errors.length > 0 && (
        <div class="alert alert-error" data-testid="sync-errors">
          <strong>Sync reported problems</strong>
          {errors.map((e) => <div class="mono">{e}</div>)}
        </div>
      )}
      {warnings.length > 0 && (
        <div class="alert alert-error" data-testid="sync-warnings">
          <strong>Sync warnings</strong>
          {warnings.map((w) => <div>{w}</div>)}
        </div>
      )}
      {configured && (
        <Card title="Other devices in the sync folder" testId="sync-devices">
          {!list.length ? (
            <Empty>No other devices have published data yet.</Empty>
          ) : (
            <table class="table">
              <thead><tr><th>Device</th><th>Last published</th><th>Last import</th><th>Last check</th><th class="num">Events applied</th><th>Status</th></tr></thead>
              <tbody>
                {list.map((d) => {
                  // the name as Raw data shows it (current name, former names), once its buckets are here
                  const known = devs.find((x) => x.id === d.device_id);
                  return (
                  <tr data-device-id={d.device_id}>
                    <td>{known ? <DeviceName d={known} /> : <strong>{d.hostname || '(not imported yet)'}</strong>}<div class="muted small mono">{d.device_id}</div></td>
                    <td title={fmtDateTime(d.last_published)}>{fmtAgo(d.last_published)}</td>
                    <td title={fmtDateTime(d.last_import)}>{fmtAgo(d.last_import)}</td>
                    <td title={fmtDateTime(d.last_check)}>{fmtAgo(d.last_check)}</td>
                    <td class="num">{d.events_applied?.toLocaleString() ?? '—'}</td>
                    <td>
                      {d.error ? <Badge kind="error" title={d.error}>{d.error.length > 60 ? d.error.slice(0, 60) + '…' : d.error}</Badge>
                        : d.forgotten ? <Badge>forgotten</Badge>
                        : d.in_folder === false ? <Badge kind="remote">gone from folder</Badge>
                        : d.stale ? <Badge kind="error" title={`nothing published since ${fmtDateTime(d.last_published)}`}>stale</Badge>
                        : <Badge kind="local">{d.state || 'ok'}</Badge>}
                    </td>
                  </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Card>
      )}
      <Card title="Devices with data on this node" testId="known-devices" subtitle={st.owners ? 'By device id, as the node records who owns each bucket' : 'By bucket hostname (this node does not list devices)'}>
        {!devs.length ? (
          <Empty>No buckets yet.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th>Device</th><th /><th class="num">Buckets</th><th>Last activity</th></tr></thead>
              <tbody>
                {devs.map((d) => (
                  <tr key={d.id ?? d.host} data-device-id={d.id ?? ''} data-this-device={d.local ? '1' : '0'}>
                    <td><DeviceName d={d} />{d.id && <div class="muted small mono">{d.id}</div>}</td>
                    <td><DeviceBadge d={d} /></td>
                    <td class="num">{d.buckets.length}</td>
                    <td title={fmtDateTime(d.lastSeen)}>{fmtAgo(d.lastSeen)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {status && (
        <details class="raw-json">
          <summary>Raw status</summary>
          <pre class="json-view">{JSON.stringify(status, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}

