// The Reports page (docs/webui.md): time per day and per category or project over a range,
// rounded, priced, exported as CSV or printed; definitions saved in the setting
// `awnode.reports`. The time is the Activity page's active time (the same query), one
// query period per logical day.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, errorMessage } from '../lib/api';
import { normalise, rulesForQuery } from '../lib/categories';
import { activityHosts, categoryPeriodQuery, CategoryPeriodResult, deviceBuckets } from '../lib/queries';
import {
  buildTable, columnOf, emptyReport, fmtHM, fmtHours, parseReports, projectRules, RANGE_KINDS, rangeDays,
  RangeKind, ReportDef, reportCsv, reportDays, ReportTable, REPORTS_KEY, Rounding, ROUNDINGS,
} from '../lib/report';
import { navigate } from '../lib/router';
import { remoteDevices, setRawSetting, useStore } from '../lib/store';
import { DayOpts, periodString, ymd } from '../lib/time';
import { Card, download, Empty, ErrorBox, Segmented, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';
import { formatDate, formatNumber, t } from '../lib/i18n';
import './reports.css';

export function ReportsPage({ parts }: { parts: string[] }) {
  const st = useStore();
  const urlName = parts[0] || '';
  const opts: DayOpts = { startOfDay: st.settings.startOfDay, startOfWeek: st.settings.startOfWeek };
  const remotes = remoteDevices(st.buckets, st.info);
  const hosts = activityHosts(st.buckets, remotes);
  const classes = useMemo(() => normalise(st.settings.classes), [st.settings.classes]);
  const catPaths = useMemo(() => classes.map((c) => c.name).sort((a, b) => a.join('\u0000').localeCompare(b.join('\u0000'))), [classes]);

  const [saved, setSaved] = useState<ReportDef[] | null>(null);
  const [def, setDef] = useState<ReportDef>(emptyReport());
  // the saved definition being edited (a save under another name renames it)
  const [loaded, setLoaded] = useState('');
  // edits apply to the latest form, not the one of the last render: a fast typist's (or a
  // test's) changes can come before the page renders again
  const patch = (p: Partial<ReportDef> | ((d: ReportDef) => Partial<ReportDef>)) => setDef((d) => ({ ...d, ...(typeof p === 'function' ? p(d) : p) }));

  useEffect(() => {
    let live = true;
    api
      .settings()
      .then((all) => live && setSaved(parseReports(all?.[REPORTS_KEY])))
      .catch((e) => live && (setSaved([]), toast(t('reports.readFailed', { error: errorMessage(e) }), 'error')));
    return () => {
      live = false;
    };
  }, []);

  // The URL names the saved report to show. Applied when the URL changes (or the list
  // first arrives), not on every save, so that a save does not throw away the form.
  const applied = useRef<string | null>(null);
  const missing = !!saved && !!urlName && !saved.some((x) => x.name === urlName);
  useEffect(() => {
    if (!saved || applied.current === urlName) return;
    // the first time, a form begun before the list arrived is the user's: kept
    const first = applied.current === null;
    applied.current = urlName;
    const r = saved.find((x) => x.name === urlName);
    if (r) {
      setDef(r);
      setLoaded(r.name);
    } else if (!urlName && !first) {
      setDef(emptyReport());
      setLoaded('');
    }
  }, [saved, urlName]);

  // the rate as typed ("12." is on its way to 12.5, not 12); the definition gets its number
  const [rateText, setRateText] = useState(String(def.rate));
  useEffect(() => {
    if (Number(rateText) !== def.rate) setRateText(String(def.rate));
  }, [def.rate]);
  useEffect(() => {
    const v = Number(rateText);
    if (Number.isFinite(v) && v !== def.rate) patch({ rate: v });
  }, [rateText]);

  const ready = st.bucketsLoaded && st.settingsLoaded && !!st.info;
  const range = rangeDays(def, opts);
  const days = useMemo(() => (range ? reportDays(range.first, range.last, opts) : []), [range && ymd(range.first), range && ymd(range.last), opts.startOfDay]);
  const selected = useMemo(
    () => (def.devices.length ? def.devices.filter((h) => hosts.includes(h)) : hosts).map((h) => deviceBuckets(st.buckets, h, remotes)).filter((h) => h.window),
    [st.buckets, hosts.join('|'), def.devices.join('|')],
  );
  // The regexes are the form's as typed (a re-render must not put back an older value),
  // queried once typing pauses, so that half a regex is not sent.
  const typedPatterns = JSON.stringify(def.projects.map((p) => [p.regex, !!p.ignore_case]));
  const [patterns, setPatterns] = useState(typedPatterns);
  useEffect(() => {
    const timer = setTimeout(() => setPatterns(typedPatterns), 350);
    return () => clearTimeout(timer);
  }, [typedPatterns]);
  const rules = useMemo(
    () => (def.mode === 'projects' ? projectRules((JSON.parse(patterns) as [string, boolean][]).map(([regex, ic]) => ({ name: '', regex, ignore_case: ic }))) : rulesForQuery(classes)),
    [def.mode, patterns, classes],
  );
  // what decides which column a category lands in (project names do not)
  const columnsKey = JSON.stringify([def.mode, def.categories, def.projects.length, patterns]);

  const [raw, setRaw] = useState<{ key: string; cells: number[][] } | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const reqKey = JSON.stringify([days.map((d) => d.date), selected.map((h) => h.host), rules, columnsKey]);
  useEffect(() => {
    if (!ready || !days.length) return;
    if (!selected.length) {
      setRaw({ key: reqKey, cells: days.map(() => []) });
      return;
    }
    let live = true;
    setErr(null);
    const forDef = def;
    api
      .query(days.map((d) => periodString(d.start, d.end)), categoryPeriodQuery(selected, rules))
      .then((res) => {
        if (!live) return;
        const cells = (res as CategoryPeriodResult[]).map((r) => {
          const row: number[] = [];
          for (const e of r.cats || []) {
            const j = columnOf(forDef, (e.data.$category as string[]) || []);
            if (j >= 0) row[j] = (row[j] || 0) + e.duration;
          }
          return row;
        });
        setRaw({ key: reqKey, cells });
      })
      .catch((e) => live && setErr(e));
    return () => {
      live = false;
    };
  }, [ready, reqKey]);

  const table: ReportTable | null = raw && raw.key === reqKey ? buildTable(def, days, raw.cells) : null;

  const persist = async (list: ReportDef[]) => {
    await setRawSetting(REPORTS_KEY, list);
    setSaved(list);
  };
  const save = async () => {
    const name = def.name.trim();
    if (!name) return toast(t('reports.nameFirst'), 'error');
    const list = (saved || []).filter((r) => r.name !== name && r.name !== loaded);
    const at = (saved || []).findIndex((r) => r.name === loaded || r.name === name);
    const next = { ...def, name };
    if (at >= 0) list.splice(Math.min(at, list.length), 0, next);
    else list.push(next);
    try {
      await persist(list);
      setLoaded(name);
      toast(loaded && loaded !== name ? t('reports.renamed', { from: loaded, to: name }) : t('reports.saved', { name }));
      if (urlName !== name) {
        applied.current = name;
        navigate(`/reports/${encodeURIComponent(name)}`, true);
      }
    } catch (e) {
      toast(t('settings.couldNotSave', { error: errorMessage(e) }), 'error');
    }
  };
  const remove = async () => {
    if (!loaded || !confirm(t('reports.confirmDelete', { name: loaded }))) return;
    try {
      await persist((saved || []).filter((r) => r.name !== loaded));
      toast(t('reports.deleted', { name: loaded }));
      setLoaded('');
      navigate('/reports', true);
    } catch (e) {
      toast(t('reports.deleteFailed', { error: errorMessage(e) }), 'error');
    }
  };
  const exportCsv = () => {
    if (!table) return;
    const base = (def.name.trim() || 'report').replace(/[^\w.-]+/g, '_');
    download(`${base}-${table.days[0]?.date}-${table.days[table.days.length - 1]?.date}.csv`, reportCsv(def, table), 'text/csv');
  };

  const rangeLabel = range
    ? `${formatDate(range.first, { year: 'numeric', month: 'short', day: 'numeric' })} – ${formatDate(range.last, { year: 'numeric', month: 'short', day: 'numeric' })}`
    : t('reports.pickDays');
  const roundingText =
    def.rounding === 'none'
      ? t('reports.notRounded')
      : t(def.mode === 'projects' ? 'reports.roundedProject' : 'reports.roundedCategory', { n: Number(def.rounding) });

  return (
    <div class="page reports-page" data-testid="reports-page">
      <div class="page-head">
        <div>
          <h1>{t('nav.reports')}</h1>
          <div class="page-sub report-print-title" data-testid="report-heading">
            {def.name.trim() ? <strong>{def.name.trim()} · </strong> : null}
            {rangeLabel}
            {' · '}
            {def.devices.length ? def.devices.join(', ') : t('reports.allDevicesLower')}
          </div>
        </div>
        <div class="card-actions reports-controls">
          <label class="sr-only" for="report-saved">{t('reports.savedReports')}</label>
          <select
            id="report-saved" class="select" data-testid="report-saved" value={loaded}
            onChange={(e) => navigate('/reports' + (e.currentTarget.value ? '/' + encodeURIComponent(e.currentTarget.value) : ''))}
          >
            <option value="">{t('reports.new')}</option>
            {(saved || []).map((r) => <option value={r.name}>{r.name}</option>)}
          </select>
        </div>
      </div>

      {missing && (
        <div class="card reports-controls" data-testid="report-missing">
          <div class="card-body muted">{t('reports.missing', { name: urlName })}</div>
        </div>
      )}

      <section class="card reports-controls" data-testid="report-controls">
        <div class="card-body report-form">
          <div class="report-field">
            <label for="report-name">{t('settings.cat.name')}</label>
            <div class="report-inline">
              <input id="report-name" class="input" data-testid="report-name" value={def.name} onInput={(e) => patch({ name: e.currentTarget.value })} placeholder={t('reports.namePlaceholder')} />
              <button class="btn btn-primary" data-testid="report-save" onClick={save}>{loaded && loaded !== def.name.trim() && def.name.trim() ? t('reports.renameSave') : t('common.save')}</button>
              {loaded && <button class="btn btn-danger-outline" data-testid="report-delete" onClick={remove}>{t('common.delete')}</button>}
            </div>
          </div>

          <div class="report-field">
            <span class="report-label">{t('reports.range')}</span>
            <Segmented value={def.range} options={RANGE_KINDS} onChange={(v: RangeKind) => patch({ range: v, ...(v === 'custom' && !def.from && range ? { from: ymd(range.first), to: ymd(range.last) } : {}) })} testId="report-range" />
            {def.range === 'custom' && (
              <div class="report-inline">
                <label>{t('query.from')} <input type="date" class="input" data-testid="report-from" value={def.from || ''} onChange={(e) => patch({ from: e.currentTarget.value })} /></label>
                <label>{t('query.to')} <input type="date" class="input" data-testid="report-to" value={def.to || ''} onChange={(e) => patch({ to: e.currentTarget.value })} /></label>
              </div>
            )}
          </div>

          <fieldset class="report-field" data-testid="report-devices">
            <legend class="report-label">{t('reports.devices')}</legend>
            <label class="report-check">
              <input type="checkbox" checked={!def.devices.length} onChange={() => patch({ devices: [] })} /> {t('search.allDevices')}
            </label>
            {hosts.map((h) => (
              <label class="report-check">
                <input
                  type="checkbox" data-host={h} checked={def.devices.includes(h)}
                  onChange={(e) => { const on = e.currentTarget.checked; patch((d) => ({ devices: on ? [...d.devices, h] : d.devices.filter((x) => x !== h) })); }}
                /> {h}
              </label>
            ))}
          </fieldset>

          <div class="report-field">
            <span class="report-label">{t('reports.reportOn')}</span>
            <Segmented value={def.mode} options={[{ value: 'projects', label: t('reports.projects') }, { value: 'categories', label: t('settings.tab.categories') }]} onChange={(v) => patch({ mode: v })} testId="report-mode" />
            {def.mode === 'projects' ? (
              <div class="report-projects" data-testid="report-projects">
                {def.projects.map((p, i) => {
                  const set = (q: Partial<typeof p>) => patch((d) => ({ projects: d.projects.map((x, k) => (k === i ? { ...x, ...q } : x)) }));
                  return (
                    <div class="report-project" data-row={i}>
                      <input class="input" aria-label={t('reports.projectName', { i: i + 1 })} placeholder={t('reports.project')} data-field="name" value={p.name} onInput={(e) => set({ name: e.currentTarget.value })} />
                      <input class="input mono" aria-label={t('reports.projectRegex', { i: i + 1 })} placeholder={t('reports.regexPlaceholder')} data-field="regex" value={p.regex} onInput={(e) => set({ regex: e.currentTarget.value })} />
                      <label class="report-check"><input type="checkbox" data-field="ignore_case" checked={!!p.ignore_case} onChange={(e) => set({ ignore_case: e.currentTarget.checked })} /> {t('reports.ignoreCase')}</label>
                      <button class="btn btn-ghost btn-sm" aria-label={t('reports.removeProject', { i: i + 1 })} onClick={() => patch((d) => ({ projects: d.projects.filter((_, k) => k !== i) }))}>{t('settings.privacy.remove')}</button>
                    </div>
                  );
                })}
                <button class="btn btn-sm" data-testid="report-add-project" onClick={() => patch((d) => ({ projects: [...d.projects, { name: '', regex: '' }] }))}>{t('reports.addProject')}</button>
                <p class="muted small">{t('reports.firstWins')}</p>
              </div>
            ) : (
              <div class="report-cats" data-testid="report-categories">
                {catPaths.map((c) => {
                  const k = c.join(' > ');
                  const on = def.categories.some((x) => x.join(' > ') === k);
                  return (
                    <label class="report-check" style={{ paddingLeft: `${(c.length - 1) * 16}px` }}>
                      <input type="checkbox" data-category={k} checked={on} onChange={() => patch((d) => ({ categories: on ? d.categories.filter((x) => x.join(' > ') !== k) : [...d.categories, c] }))} /> {c[c.length - 1]}
                    </label>
                  );
                })}
                <p class="muted small">{t('reports.catColumns')}</p>
              </div>
            )}
          </div>

          <div class="report-field">
            <span class="report-label">{t('reports.rounding')}</span>
            <Segmented value={def.rounding} options={ROUNDINGS} onChange={(v: Rounding) => patch({ rounding: v })} testId="report-rounding" />
            <div class="report-inline">
              <label>{t('reports.rate')} <input type="number" min="0" step="0.01" class="input report-rate" data-testid="report-rate" value={rateText} onInput={(e) => setRateText(e.currentTarget.value)} /></label>
              <label>{t('reports.currency')} <input class="input report-currency" data-testid="report-currency" value={def.currency} onInput={(e) => patch({ currency: e.currentTarget.value })} /></label>
            </div>
          </div>
        </div>
      </section>

      <Card
        title={<span class="report-title"><I.IconReport /> {t('reports.timePerDay')}</span>}
        subtitle={<span data-testid="report-rounding-text">{roundingText}</span>}
        actions={
          <div class="reports-controls card-actions">
            <button class="btn btn-sm" data-testid="report-csv" disabled={!table} onClick={exportCsv}><I.IconDownload /> {t('buckets.exportCsv')}</button>
            <button class="btn btn-sm" data-testid="report-print" disabled={!table} onClick={() => window.print()}>{t('reports.print')}</button>
          </div>
        }
        testId="report-table-card"
      >
        {err ? <ErrorBox error={err} /> : !range ? <Empty>{t('reports.pickDays')}.</Empty> : !table ? <Skeleton rows={6} /> : !table.columns.length ? (
          <Empty>{t('reports.nothingToReport')}</Empty>
        ) : (
          <ReportGrid t={table} currency={def.currency} rate={def.rate} />
        )}
      </Card>
    </div>
  );
}

/** Hours and money with two decimals in the UI's language, without grouping: "112.50",
 * "112,50" (the CSV export keeps report.ts's fixed format). */
const num = (v: number) => formatNumber(v, { minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: false });

function ReportGrid({ t: tab, currency, rate }: { t: ReportTable; currency: string; rate: number }) {
  const cell = (s: number, testid?: string) => (
    <td class="num" data-seconds={s} data-testid={testid} title={`${num(Number(fmtHours(s)))} h`}>{s > 0 ? fmtHM(s) : '–'}</td>
  );
  return (
    <>
      <div class="table-wrap report-wrap">
        <table class="table report-table" data-testid="report-table">
          <thead>
            <tr>
              <th scope="col">{t('reports.day')}</th>
              {tab.columns.map((c) => <th scope="col" class="num">{c || t('reports.unnamed')}</th>)}
              <th scope="col" class="num">{t('reports.total')}</th>
            </tr>
          </thead>
          <tbody>
            {tab.days.map((d, i) => (
              <tr data-date={d.date}>
                <th scope="row">{formatDate(d.start, { weekday: 'short', month: 'short', day: 'numeric' })}</th>
                {tab.cells[i].map((s) => cell(s))}
                {cell(tab.rowTotals[i], 'row-total')}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr data-testid="report-col-totals">
              <th scope="row">{t('reports.total')}</th>
              {tab.colTotals.map((s) => cell(s))}
              {cell(tab.total, 'report-total')}
            </tr>
            <tr data-testid="report-amounts">
              <th scope="row">{t('reports.amount')}</th>
              {tab.colAmounts.map((a) => <td class="num" data-amount={a}>{num(a)}</td>)}
              <td class="num" data-amount={tab.amount} data-testid="report-amount">{num(tab.amount)} {currency}</td>
            </tr>
          </tfoot>
        </table>
      </div>
      <p class="report-summary" data-testid="report-summary">
        {num(Number(fmtHours(tab.total)))} h × {num(rate)} {currency}/h = <strong>{num(tab.amount)} {currency}</strong>
      </p>
    </>
  );
}
