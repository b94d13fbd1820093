// Settings > Alerts: daily time limits per category, the shared setting `awnode.alerts`
// that the tray icon notifies from (docs/watchers.md, "Time-limit alerts"), each shown
// with this device's time in its category today. The time is counted as the tray counts
// it: this device's window time while not AFK (the buckets named after the node's
// hostname), categorised with the category rules, within today's logical day.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorMessage, qlit } from '../lib/api';
import { normalise, rulesForQuery } from '../lib/categories';
import { t } from '../lib/i18n';
import { useStore } from '../lib/store';
import { fmtDuration, iso, logicalToday, period } from '../lib/time';
import * as I from './icons';
import { Card, Empty, ErrorBox, toast } from './ui';

export const ALERTS_KEY = 'awnode.alerts';

export interface Alert {
  category: string[];
  minutes: number;
  enabled: boolean;
}

/** The alerts in a stored value: entries without a category path or a positive limit are
 * left out (the tray ignores them too). */
export function parseAlerts(v: unknown): Alert[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((a) => {
    const o = a as Record<string, unknown>;
    const cat = o?.category;
    const minutes = Number(o?.minutes);
    if (!Array.isArray(cat) || !cat.length || !cat.every((c) => typeof c === 'string') || !(minutes > 0)) return [];
    return [{ category: cat as string[], minutes, enabled: o.enabled !== false }];
  });
}

const key = (path: string[]) => path.join('\u0000');

/** Seconds today per category path (exact), from the node. */
async function timeToday(host: string, rules: unknown, start: Date, end: Date): Promise<Map<string, number>> {
  const lines = [
    `afk = filter_keyvals(flood(query_bucket(${qlit(`aw-watcher-afk_${host}`)})), "status", ["not-afk"]);`,
    `events = filter_period_intersect(flood(query_bucket(${qlit(`aw-watcher-window_${host}`)})), afk);`,
    `events = categorize(events, ${JSON.stringify(rules)});`,
    'RETURN = merge_events_by_keys(events, ["$category"]);',
  ];
  const [res] = (await api.query([`${iso(start)}/${iso(end)}`], lines, { cache: false })) as { duration: number; data: Record<string, unknown> }[][];
  const out = new Map<string, number>();
  for (const e of res || []) {
    const c = e.data?.$category;
    if (Array.isArray(c)) out.set(key(c as string[]), (out.get(key(c as string[])) || 0) + e.duration);
  }
  return out;
}

function secondsIn(path: string[], perCat: Map<string, number>): number {
  let s = 0;
  for (const [k, v] of perCat) {
    const c = k.split('\u0000');
    if (c.length >= path.length && path.every((p, i) => c[i] === p)) s += v;
  }
  return s;
}

export function AlertsEditor() {
  const st = useStore();
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [dirty, setDirty] = useState(false);
  const [loadErr, setLoadErr] = useState<unknown>(null);
  const [today, setToday] = useState<Map<string, number> | null>(null);
  const [todayErr, setTodayErr] = useState<string | null>(null);
  const classes = useMemo(() => normalise(st.settings.classes), [st.settings.classes]);
  const paths = useMemo(() => classes.map((c) => c.name).sort((a, b) => key(a).localeCompare(key(b))), [classes]);
  const host = st.info?.hostname;

  useEffect(() => {
    api.settings().then((all) => setAlerts(parseAlerts((all as Record<string, unknown> | null)?.[ALERTS_KEY])), setLoadErr);
  }, []);

  useEffect(() => {
    if (!host) return;
    const p = period('day', logicalToday(st.settings), st.settings);
    timeToday(host, rulesForQuery(classes), p.start, p.end).then((m) => { setToday(m); setTodayErr(null); }, (e) => setTodayErr(errorMessage(e)));
  }, [host, classes, st.settings.startOfDay]);

  if (loadErr) return <ErrorBox error={loadErr} />;
  if (!alerts) return null;

  const upd = (i: number, patch: Partial<Alert>) => {
    setAlerts(alerts.map((a, j) => (j === i ? { ...a, ...patch } : a)));
    setDirty(true);
  };
  const save = async () => {
    try {
      await api.setSetting(ALERTS_KEY, alerts);
      setDirty(false);
      toast(t('alerts.saved'));
    } catch (e) {
      toast(t('settings.notSaved', { error: errorMessage(e) }), 'error');
    }
  };
  const add = () => {
    setAlerts([...alerts, { category: paths[0] || ['Uncategorized'], minutes: 60, enabled: true }]);
    setDirty(true);
  };

  return (
    <div class="settings-section">
      <p class="muted">{t('alerts.intro')}</p>
      <Card
        title={t('alerts.title')}
        testId="alerts"
        actions={
          <>
            <button class="btn btn-sm" data-testid="add-alert" onClick={add}><I.IconPlus /> {t('alerts.add')}</button>
            <button class="btn btn-sm btn-primary" data-testid="save-alerts" disabled={!dirty} onClick={save}>{t('alerts.save')}</button>
          </>
        }
      >
        {todayErr && <p class="error-text" role="alert">{t('alerts.todayError', { error: todayErr })}</p>}
        {alerts.length === 0 ? (
          <Empty icon={I.IconClock}>{t('alerts.empty')}</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr><th>{t('alerts.on')}</th><th>{t('alerts.category')}</th><th>{t('alerts.limit')}</th><th>{t('alerts.today')}</th><th /></tr>
              </thead>
              <tbody>
                {alerts.map((a, i) => {
                  const spent = today ? secondsIn(a.category, today) : null;
                  const frac = spent === null ? 0 : Math.min(1, spent / (a.minutes * 60));
                  const known = paths.some((p) => key(p) === key(a.category));
                  return (
                    <tr data-testid="alert-row" data-seconds={spent === null ? undefined : spent}>
                      <td><input type="checkbox" checked={a.enabled} aria-label={t('alerts.on')} onChange={(e) => upd(i, { enabled: (e.target as HTMLInputElement).checked })} /></td>
                      <td>
                        <select class="select input-sm" aria-label={t('alerts.category')} value={key(a.category)} onChange={(e) => upd(i, { category: (e.target as HTMLSelectElement).value.split('\u0000') })}>
                          {!known && <option value={key(a.category)}>{a.category.join(' > ')}</option>}
                          {paths.map((p) => <option value={key(p)}>{p.join(' > ')}</option>)}
                        </select>
                      </td>
                      <td>
                        <label class="field-inline">
                          <input class="input input-sm num" type="number" min="1" step="1" style="width: 6em" aria-label={t('alerts.limit')} value={a.minutes}
                            onInput={(e) => { const v = Number((e.target as HTMLInputElement).value); if (v > 0) upd(i, { minutes: v }); }} />
                          {t('alerts.minutes')}
                        </label>
                      </td>
                      <td>
                        {spent === null ? '…' : (
                          <div class="alert-progress" title={t('alerts.ofLimit', { spent: fmtDuration(spent), limit: fmtDuration(a.minutes * 60) })}>
                            <div class="bar-track" style="height: 6px; border-radius: 3px; background: var(--border); min-width: 6em">
                              <div style={`width: ${(frac * 100).toFixed(1)}%; height: 100%; border-radius: 3px; background: ${frac >= 1 ? 'var(--danger, #d93f3c)' : 'var(--accent)'}`} />
                            </div>
                            <span class="small">{t('alerts.ofLimit', { spent: fmtDuration(spent), limit: fmtDuration(a.minutes * 60) })}</span>
                          </div>
                        )}
                      </td>
                      <td><button class="btn btn-sm btn-ghost btn-icon" aria-label={t('alerts.remove')} title={t('alerts.remove')} onClick={() => { setAlerts(alerts.filter((_, j) => j !== i)); setDirty(true); }}><I.IconTrash /></button></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
