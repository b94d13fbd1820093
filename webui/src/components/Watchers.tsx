// "Pause recording": the watchers `awnode start` runs, with a pause toggle each
// (15 min, 1 h, or until resumed). Talks to GET /api/0/watchers and
// POST /api/0/watchers/{name}/pause|resume; a node not run by `awnode start` says so.
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage } from '../lib/api';
import type { WatcherState, WatchersStatus } from '../lib/types';
import { formatTime, t, tx } from '../lib/i18n';
import { Badge, Card, ErrorBox, Skeleton, toast } from './ui';

const DURATIONS = [
  { value: '900', label: t('watchers.15min'), seconds: 900 },
  { value: '3600', label: t('watchers.1hour'), seconds: 3600 },
  { value: 'until', label: t('watchers.untilResumedOption'), seconds: null },
] as const;

const LABELS: Record<string, string> = {
  'aw-watcher-window': t('watchers.label.window'),
  'aw-watcher-afk': t('watchers.label.afk'),
};

// Refresh while shown, so a timed pause that ends shows up without a reload.
const POLL_MS = 5000;

const shortName = (name: string) => name.replace(/^aw-watcher-/, '');

function stateBadge(w: WatcherState) {
  if (w.state === 'running') return <Badge kind="local">{t('watchers.recording')}</Badge>;
  if (w.state === 'paused') return <Badge kind="remote">{t('watchers.paused')}</Badge>;
  if (w.state === 'stopped') return <Badge kind="error" title={t('watchers.stoppedTitle')}>{t('watchers.stopped')}</Badge>;
  return <Badge>{w.state}</Badge>;
}

function pausedText(w: WatcherState): string {
  if (w.state !== 'paused') return '';
  return w.paused_until ? t('watchers.until', { time: formatTime(w.paused_until) }) : t('watchers.untilResumed');
}

function WatcherRow({ w, onChange }: { w: WatcherState; onChange: (s: WatchersStatus) => void }) {
  const [duration, setDuration] = useState<string>('900');
  const [busy, setBusy] = useState(false);
  const paused = w.state === 'paused';
  const short = shortName(w.name);

  const toggle = async () => {
    setBusy(true);
    try {
      if (paused) {
        onChange(await api.resumeWatcher(w.name));
        toast(t('watchers.recordingAgain', { name: LABELS[w.name] || w.name }));
      } else {
        const d = DURATIONS.find((x) => x.value === duration)!;
        onChange(await api.pauseWatcher(w.name, d.seconds));
        const name = LABELS[w.name] || w.name;
        toast(d.seconds ? t('watchers.pausedFor', { name, duration: d.label }) : t('watchers.pausedUntilResumed', { name }));
      }
    } catch (e) {
      toast(t(paused ? 'watchers.resumeFailed' : 'watchers.pauseFailed', { name: w.name, error: errorMessage(e) }), 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr data-testid={`watcher-${short}`} data-state={w.state}>
      <td>
        <strong>{LABELS[w.name] || w.name}</strong>
        <div class="muted small mono">{w.name}</div>
      </td>
      <td>
        {stateBadge(w)} <span class="muted small" data-testid={`paused-until-${short}`}>{pausedText(w)}</span>
      </td>
      <td class="num">
        <div class="toolbar" style={{ justifyContent: 'flex-end' }}>
          {!paused && (
            <select
              class="select select-sm"
              aria-label={t('watchers.pauseFor', { name: w.name })}
              data-testid={`pause-duration-${short}`}
              value={duration}
              onChange={(e) => setDuration((e.target as HTMLSelectElement).value)}
            >
              {DURATIONS.map((d) => <option value={d.value}>{d.label}</option>)}
            </select>
          )}
          <button
            class={`btn btn-sm ${paused ? 'btn-primary' : ''}`}
            data-testid={`pause-toggle-${short}`}
            aria-pressed={paused}
            disabled={busy || (w.state === 'stopped' && !paused)}
            onClick={toggle}
          >
            {paused ? t('watchers.resume') : t('watchers.pause')}
          </button>
        </div>
      </td>
    </tr>
  );
}

export function WatchersCard() {
  const [status, setStatus] = useState<WatchersStatus | null>(null);
  const [err, setErr] = useState<unknown>(null);

  useEffect(() => {
    let alive = true;
    const load = () =>
      api
        .watchers()
        .then((s) => alive && (setStatus(s), setErr(null)))
        .catch((e) => alive && setErr(e));
    load();
    const t = setInterval(load, POLL_MS);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, []);

  return (
    <Card title={t('watchers.title')} subtitle={t('watchers.subtitle')} testId="watchers-card" span={2}>
      <ErrorBox error={err} title={t('watchers.readError')} />
      {!status && !err && <Skeleton rows={2} />}
      {status && !status.supervised && (
        <p class="muted" data-testid="watchers-unsupervised">
          {tx('watchers.unsupervised', { start: <code>awnode start</code>, pause: <code>awnode pause</code> })}
        </p>
      )}
      {status?.supervised && !status.watchers.length && (
        <p class="muted" data-testid="watchers-none">{t('watchers.none')}</p>
      )}
      {status?.supervised && status.watchers.length > 0 && (
        <table class="table" data-testid="watchers-table">
          <thead><tr><th>{t('watchers.colWatcher')}</th><th>{t('watchers.colState')}</th><th /></tr></thead>
          <tbody>
            {status.watchers.map((w) => <WatcherRow key={w.name} w={w} onChange={setStatus} />)}
          </tbody>
        </table>
      )}
    </Card>
  );
}
