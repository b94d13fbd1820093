import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorMessage } from '../lib/api';
import type { SyncDevice, SyncStatus } from '../lib/types';
import { devices, loadBuckets, useStore } from '../lib/store';
import { formatAgo as fmtAgo, formatDateTime as fmtDateTime, formatNumber, t, tx } from '../lib/i18n';
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
      toast(t('sync.finished'));
      await Promise.all([load(), loadBuckets()]);
    } catch (e) {
      toast(t('sync.failed', { error: errorMessage(e) }), 'error');
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
          <h1>{t('nav.sync')}</h1>
          <div class="page-sub">{t('sync.sub')}</div>
        </div>
        <div class="toolbar">
          <button class="btn" onClick={() => load()}><I.IconRefresh /> {t('common.refresh')}</button>
          <button class="btn btn-primary" disabled={busy || !configured} onClick={syncNow} data-testid="sync-now">
            <I.IconSync /> {busy ? t('sync.syncing') : t('sync.now')}
          </button>
        </div>
      </div>
      <ErrorBox error={err} title={t('sync.readError')} />
      {status === undefined && !err && <Skeleton rows={4} />}
      {(absent || (status && !configured)) && (
        <Card testId="sync-not-configured">
          <div class="hero">
            <div class="hero-icon"><I.IconSync /></div>
            <div>
              <h2>{t('sync.notConfigured')}</h2>
              <p class="muted">
                {tx('sync.notConfiguredText', { init: <code>awnode sync init</code>, join: <code>awnode sync join</code> })}
              </p>
              {status?.problem && <p class="muted small" data-testid="sync-problem">{t('sync.problem', { problem: status.problem })}</p>}
              {absent && <p class="muted small">{t('sync.builtWithout')}</p>}
            </div>
          </div>
        </Card>
      )}
      {configured && (
        <div class="meta-grid">
          <Meta hintClass="mono small" label={t('sync.thisDevice')} value={status.hostname || st.info?.hostname || '—'} hint={status.device_id} />
          <Meta hintClass="mono small" label={t('sync.lastPush')} value={fmtAgo(status.push?.last)} hint={status.push?.last ? `${fmtDateTime(status.push.last)} · ${t('sync.pushes', { n: status.push.count ?? 0 })}` : undefined} />
          <Meta hintClass="mono small" label={t('sync.lastPull')} value={fmtAgo(status.pull?.last)} hint={status.pull?.last ? fmtDateTime(status.pull.last) : undefined} />
          <Meta hintClass="mono small" label={t('sync.folder')} value={status.folder || '—'} hint={(status.remotes || []).map((r) => r.url || r.name).join(', ') || undefined} />
        </div>
      )}
      {errors.length > 0 && (
        <div class="alert alert-error" data-testid="sync-errors">
          <strong>{t('sync.problems')}</strong>
          {errors.map((e) => <div class="mono">{e}</div>)}
        </div>
      )}
      {warnings.length > 0 && (
        <div class="alert alert-error" data-testid="sync-warnings">
          <strong>{t('sync.warnings')}</strong>
          {warnings.map((w) => <div>{w}</div>)}
        </div>
      )}
      {configured && (
        <Card title={t('sync.others')} testId="sync-devices">
          {!list.length ? (
            <Empty>{t('sync.noOthers')}</Empty>
          ) : (
            <table class="table">
              <thead><tr><th>{t('sync.col.device')}</th><th>{t('sync.col.published')}</th><th>{t('sync.col.import')}</th><th>{t('sync.col.check')}</th><th class="num">{t('sync.col.applied')}</th><th>{t('sync.col.status')}</th></tr></thead>
              <tbody>
                {list.map((d) => {
                  // the name as Raw data shows it (current name, former names), once its buckets are here
                  const known = devs.find((x) => x.id === d.device_id);
                  return (
                  <tr data-device-id={d.device_id}>
                    <td>{known ? <DeviceName d={known} /> : <strong>{d.hostname || t('sync.notImported')}</strong>}<div class="muted small mono">{d.device_id}</div></td>
                    <td title={fmtDateTime(d.last_published)}>{fmtAgo(d.last_published)}</td>
                    <td title={fmtDateTime(d.last_import)}>{fmtAgo(d.last_import)}</td>
                    <td title={fmtDateTime(d.last_check)}>{fmtAgo(d.last_check)}</td>
                    <td class="num">{d.events_applied == null ? '—' : formatNumber(d.events_applied)}</td>
                    <td>
                      {d.error ? <Badge kind="error" title={d.error}>{d.error.length > 60 ? d.error.slice(0, 60) + '…' : d.error}</Badge>
                        : d.forgotten ? <Badge>{t('sync.forgotten')}</Badge>
                        : d.in_folder === false ? <Badge kind="remote">{t('sync.gone')}</Badge>
                        : d.stale ? <Badge kind="error" title={t('sync.staleTitle', { when: fmtDateTime(d.last_published) })}>{t('sync.stale')}</Badge>
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
      <Card title={t('sync.known')} testId="known-devices" subtitle={st.owners ? t('sync.byId') : t('sync.byHost')}>
        {!devs.length ? (
          <Empty>{t('sync.noBuckets')}</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th>{t('sync.col.device')}</th><th /><th class="num">{t('query.buckets')}</th><th>{t('sync.col.lastActivity')}</th></tr></thead>
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
          <summary>{t('sync.raw')}</summary>
          <pre class="json-view">{JSON.stringify(status, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}

