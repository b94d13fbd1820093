// The category builder (#/categorize, docs/webui.md): the uncategorised time of a range
// grouped into suggested rules (apps, title words, browser domains), each accepted into a
// category, edited or skipped; a preview of the time per category with the accepted rules,
// measured on the node, before they are saved into the `classes` setting.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, errorMessage } from '../lib/api';
import { normalise, ruleError, rulesForQuery } from '../lib/categories';
import {
  Accepted, applyAccepted, buildSuggestions, catchQuery, categoryLabel, parseCategory, Suggestion, SuggestResult, suggestQuery,
  timeByCategory,
} from '../lib/builder';
import { activityHosts, categoryPeriodQuery, CategoryPeriodResult, CountOptions, deviceBuckets } from '../lib/queries';
import { href } from '../lib/router';
import { remoteDevices, saveSetting, useStore } from '../lib/store';
import { fmtDuration, periodString } from '../lib/time';
import { Card, Empty, ErrorBox, Segmented, Skeleton, toast } from '../components/ui';
import { t, tx, type MessageKey } from '../lib/i18n';
import './categorize.css';

const RANGES = [
  { value: '7', days: 7 },
  { value: '30', days: 30 },
  { value: '365', days: 365 },
] as const;
type RangeDays = (typeof RANGES)[number]['value'];
type Scope = 'this' | 'all';

const KIND_TITLE: Record<Suggestion['kind'], MessageKey> = { app: 'search.section.window', word: 'cz.kind.word', domain: 'search.section.browser' };
const KIND_HINT: Record<Suggestion['kind'], MessageKey> = {
  app: 'cz.hint.app',
  word: 'cz.hint.word',
  domain: 'cz.hint.domain',
};

interface Row {
  status: 'pending' | 'accepted' | 'skipped';
  editing: boolean;
  regex: string;
  ignore_case: boolean;
  category: string;
}

interface Found {
  key: string;
  suggestions: Suggestion[];
  uncategorized: number;
  total: number;
  before: Map<string, number>;
}

const ruleKey = (regex: string, ic: boolean) => (ic ? 'i:' : 's:') + regex;

export function CategorizePage() {
  const st = useStore();
  const [range, setRange] = useState<RangeDays>('7');
  const [scope, setScope] = useState<Scope>('this');
  const remotes = remoteDevices(st.buckets, st.info);
  const hosts = activityHosts(st.buckets, remotes);
  const local = st.info?.hostname;
  const thisHost = local && hosts.includes(local) ? local : hosts[0];
  const chosen = scope === 'all' ? hosts : thisHost ? [thisHost] : [];
  const selected = useMemo(
    () => chosen.map((h) => deviceBuckets(st.buckets, h, remotes)).filter((h) => h.window),
    [st.buckets, chosen.join('|'), remotes.map((r) => r.label).join('|')],
  );
  const classes = st.settings.classes;
  const rules = useMemo(() => rulesForQuery(normalise(classes)), [classes]);
  const opts: CountOptions = useMemo(() => ({ alwaysActive: st.settings.always_active_pattern || undefined }), [st.settings.always_active_pattern]);
  const ready = st.bucketsLoaded && st.settingsLoaded && !!st.info;

  // the range ends when it is chosen, so the preview compares the same seconds
  const [refresh, setRefresh] = useState(0);
  const period = useMemo(() => {
    const end = new Date();
    return periodString(new Date(end.getTime() - Number(range) * 86_400_000), end);
  }, [range, refresh]);
  const findKey = JSON.stringify([period, selected.map((h) => h.host), rules, opts]);

  const [found, setFound] = useState<Found | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [rows, setRows] = useState<Record<string, Row>>({});
  useEffect(() => {
    if (!ready) return;
    if (!selected.length) {
      setFound({ key: findKey, suggestions: [], uncategorized: 0, total: 0, before: new Map() });
      return;
    }
    let live = true;
    setErr(null);
    Promise.all([api.query([period], suggestQuery(selected, rules, opts)), api.query([period], categoryPeriodQuery(selected, rules, opts))])
      .then(([s, c]) => {
        if (!live) return;
        const res = s[0] as SuggestResult;
        const cats = c[0] as CategoryPeriodResult;
        const suggestions = buildSuggestions(res);
        setFound({ key: findKey, suggestions, uncategorized: res.uncategorized, total: cats.duration, before: timeByCategory(cats.cats || []) });
        setRows(Object.fromEntries(suggestions.map((x) => [x.id, { status: 'pending', editing: false, regex: x.regex, ignore_case: x.ignore_case, category: categoryLabel(x.category) }])));
      })
      .catch((e) => live && setErr(e));
    return () => {
      live = false;
    };
  }, [ready, findKey]);

  // How many uncategorised seconds each rule on screen catches, asked in one batch for
  // the rules not yet measured (typing pauses first).
  const [catches, setCatches] = useState<Map<string, number | string>>(new Map());
  useEffect(() => setCatches(new Map()), [findKey]);
  const wanted = useMemo(() => {
    const m = new Map<string, { regex: string; ignore_case: boolean }>();
    for (const r of Object.values(rows)) {
      if (r.status === 'skipped' || !r.regex || ruleError({ type: 'regex', regex: r.regex })) continue;
      const k = ruleKey(r.regex, r.ignore_case);
      if (!catches.has(k)) m.set(k, { regex: r.regex, ignore_case: r.ignore_case });
    }
    return m;
  }, [rows, catches]);
  const wantedKey = [...wanted.keys()].join('\n');
  useEffect(() => {
    if (!wanted.size || !found || found.key !== findKey || !selected.length) return;
    let live = true;
    const list = [...wanted];
    const timer = setTimeout(() => {
      api
        .query([period], catchQuery(selected, rules, list.map(([, r]) => ({ type: 'regex', ...r })), opts))
        .then((res) => {
          if (!live) return;
          const secs = res[0] as number[];
          setCatches((m) => new Map([...m, ...list.map(([k], i) => [k, secs[i]] as [string, number])]));
        })
        .catch((e) => live && setCatches((m) => new Map([...m, ...list.map(([k]) => [k, errorMessage(e)] as [string, string])])));
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [wantedKey, found]);

  const accepted: Accepted[] = useMemo(
    () =>
      (found?.suggestions || [])
        .filter((x) => rows[x.id]?.status === 'accepted')
        .map((x) => ({ category: parseCategory(rows[x.id].category), regex: rows[x.id].regex, ignore_case: rows[x.id].ignore_case })),
    [found, rows],
  );
  const draft = useMemo(() => applyAccepted(classes, accepted), [classes, accepted]);
  const draftRules = useMemo(() => rulesForQuery(normalise(draft)), [draft]);
  const previewKey = JSON.stringify([findKey, draftRules]);

  // The preview: the range categorised with the draft rules, on the node.
  const [after, setAfter] = useState<{ key: string; by: Map<string, number> } | null>(null);
  const [previewErr, setPreviewErr] = useState<unknown>(null);
  useEffect(() => {
    if (!found || found.key !== findKey) return;
    setPreviewErr(null);
    if (!accepted.length) {
      setAfter({ key: previewKey, by: found.before });
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api
        .query([period], categoryPeriodQuery(selected, draftRules, opts))
        .then((r) => live && setAfter({ key: previewKey, by: timeByCategory((r[0] as CategoryPeriodResult).cats || []) }))
        .catch((e) => live && setPreviewErr(e));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [previewKey, found]);

  const [saving, setSaving] = useState(false);
  const save = async () => {
    setSaving(true);
    try {
      await saveSetting('classes', draft);
      toast(t('cz.saved', { n: accepted.length }));
      setRefresh((n) => n + 1);
    } catch (e) {
      toast(t('cz.saveFailed', { error: errorMessage(e) }), 'error');
    } finally {
      setSaving(false);
    }
  };

  const setRow = (id: string, p: Partial<Row>) => setRows((rs) => ({ ...rs, [id]: { ...rs[id], ...p } }));
  const names = useMemo(() => normalise(classes).map((c) => categoryLabel(c.name)).sort(), [classes]);
  const current = !!found && found.key === findKey;

  return (
    <div class="page categorize-page" data-testid="categorize-page">
      <div class="page-head">
        <div>
          <h1>{t('cz.title')}</h1>
          <div class="page-sub">
            {t('cz.sub')}{' '}
            <a href={href('/settings/categories')}>{t('cz.allCategories')}</a>
          </div>
        </div>
        <div class="cz-controls">
          <Segmented testId="cz-range" value={range} options={RANGES.map((r) => ({ value: r.value, label: t('query.days', { n: r.days }) }))} onChange={setRange} />
          {hosts.length > 1 && (
            <Segmented testId="cz-scope" value={scope} options={[{ value: 'this', label: t('sync.thisDevice') }, { value: 'all', label: t('search.allDevices') }]} onChange={setScope} />
          )}
        </div>
      </div>
      {err ? (
        <ErrorBox error={err} title={t('cz.readError')} />
      ) : !current ? (
        <Card><Skeleton rows={6} /></Card>
      ) : (
        <>
          <p class="cz-summary" data-testid="cz-summary" data-uncategorized={found.uncategorized} data-total={found.total}>
            {found.total > 0 ? (
              tx(scope === 'all' ? 'cz.summaryAll' : 'cz.summary', {
                uncat: <strong>{fmtDuration(found.uncategorized)}</strong>,
                total: fmtDuration(found.total),
                days: Number(range),
                pct: Math.round((found.uncategorized / found.total) * 100),
              })
            ) : (
              t('cz.noActive')
            )}
          </p>
          <div class="cz-layout">
            <div class="cz-suggestions" data-testid="cz-suggestions">
              {found.suggestions.length === 0 && (
                <Card><Empty icon="✓"><p>{t('cz.nothing')}</p></Empty></Card>
              )}
              {(['app', 'word', 'domain'] as const).map((kind) => {
                const list = found.suggestions.filter((x) => x.kind === kind);
                if (!list.length) return null;
                return (
                  <Card title={t(KIND_TITLE[kind])} subtitle={t(KIND_HINT[kind])} testId={`cz-group-${kind}`}>
                    <ul class="cz-list">
                      {list.map((x) => (
                        <SuggestionRow s={x} row={rows[x.id]} catches={catches} names={names} onChange={(p) => setRow(x.id, p)} />
                      ))}
                    </ul>
                  </Card>
                );
              })}
            </div>
            <Preview found={found} after={after && after.key === previewKey ? after.by : null} err={previewErr} accepted={accepted.length} saving={saving} onSave={save} />
          </div>
          {found.suggestions.length > 0 && (
            <div class="cz-bar" data-testid="cz-bar">
              <span>
                {t('cz.uncategorised')} {fmtDuration(found.uncategorized)} → <strong>{after && after.key === previewKey ? fmtDuration(after.by.get('Uncategorized') || 0) : '…'}</strong>
              </span>
              <button class="btn btn-sm btn-primary" data-testid="cz-bar-save" disabled={!accepted.length || saving || !!previewErr} onClick={save}>
                {accepted.length ? t('cz.saveN', { n: accepted.length }) : t('common.save')}
              </button>
            </div>
          )}
          <datalist id="cz-category-names">
            {names.map((n) => <option value={n} />)}
          </datalist>
        </>
      )}
    </div>
  );
}

function SuggestionRow({ s, row, catches, names, onChange }: {
  s: Suggestion;
  row: Row | undefined;
  catches: Map<string, number | string>;
  names: string[];
  onChange: (p: Partial<Row>) => void;
}) {
  const firstField = useRef<HTMLInputElement>(null);
  const li = useRef<HTMLLIElement>(null);
  // a button that was just pressed disappears with the state it changes: the focus moves to
  // the control that takes its place, so a keyboard user stays on this row
  const refocus = useRef(false);
  useEffect(() => {
    if (row?.editing) firstField.current?.focus();
  }, [row?.editing]);
  useLayoutEffect(() => {
    if (!refocus.current) return;
    refocus.current = false;
    li.current?.querySelector<HTMLElement>(row?.status === 'pending' ? '[data-field=category]' : '[data-action=undo]')?.focus();
  }, [row?.status]);
  if (!row) return null;
  const to = (p: Partial<Row>) => {
    refocus.current = true;
    onChange(p);
  };
  const regexErr = row.regex ? ruleError({ type: 'regex', regex: row.regex, ignore_case: row.ignore_case }) : t('cz.emptyPattern');
  const catNameOk = parseCategory(row.category).length > 0 && parseCategory(row.category)[0] !== 'Uncategorized';
  const c = catches.get(ruleKey(row.regex, row.ignore_case));
  const accept = () => {
    if (!regexErr && catNameOk) to({ status: 'accepted', editing: false });
  };
  const exists = names.includes(categoryLabel(parseCategory(row.category)));
  return (
    <li ref={li} class={'cz-row cz-' + row.status} data-suggestion={s.id} data-status={row.status}>
      <div class="cz-head">
        <span class="cz-label" title={s.label}>{s.label}</span>
        <span class="cz-time" data-seconds={s.seconds} title={s.kind === 'domain' ? t('cz.timeTitleDomain') : t('cz.timeTitle')}>
          {fmtDuration(s.seconds)}
        </span>
      </div>
      <div class="cz-rule">
        <code class="cz-regex" data-field="regex-text">{row.regex}</code>
        {row.ignore_case && <span class="tag small" title={t('cz.ignoresCase')}>Aa</span>}
        <span class="cz-catch muted small" data-catch={typeof c === 'number' ? c : ''}>
          {c === 0 ? <span class="cz-error">{t('cz.catchesNothing')}</span> : typeof c === 'number' ? t('cz.catches', { time: fmtDuration(c) }) : typeof c === 'string' ? <span class="cz-error">{c}</span> : regexErr ? '' : t('cz.measuring')}
        </span>
      </div>
      {row.status === 'pending' && (
        <>
          {row.editing && (
            <div class="cz-edit">
              <label class="cz-field">
                <span>{t('cz.pattern')}</span>
                <input ref={firstField} class={'input input-sm mono' + (regexErr ? ' invalid' : '')} data-field="regex" value={row.regex} aria-invalid={!!regexErr}
                  onInput={(e) => onChange({ regex: (e.target as HTMLInputElement).value })} />
              </label>
              <label class="cz-check">
                <input type="checkbox" data-field="ignore-case" checked={row.ignore_case} onChange={(e) => onChange({ ignore_case: (e.target as HTMLInputElement).checked })} />
                {t('settings.cat.ignoreCase')}
              </label>
              {regexErr && <div class="cz-error small" role="alert">{regexErr}</div>}
            </div>
          )}
          <div class="cz-actions">
            <label class="cz-field cz-cat">
              <span>{t('cz.category')}</span>
              <input class={'input input-sm' + (catNameOk ? '' : ' invalid')} data-field="category" list="cz-category-names" value={row.category}
                aria-describedby={`cz-new-${s.id}`}
                onInput={(e) => onChange({ category: (e.target as HTMLInputElement).value })}
                onKeyDown={(e) => {
                  if (e.key !== 'Enter') return;
                  // else the key's press would also click the button the focus moves to
                  e.preventDefault();
                  accept();
                }} />
            </label>
            <span class="cz-new muted small" id={`cz-new-${s.id}`}>{catNameOk ? (exists ? t('cz.addsTo') : t('cz.newCategory')) : t('cz.nameCategory')}</span>
            <div class="cz-buttons">
              <button class="btn btn-sm btn-primary" data-action="accept" disabled={!!regexErr || !catNameOk} onClick={accept}>{t('cz.accept')}</button>
              <button class="btn btn-sm" data-action="edit" aria-pressed={row.editing} onClick={() => onChange({ editing: !row.editing })}>{row.editing ? t('cz.done') : t('cz.editRule')}</button>
              <button class="btn btn-sm btn-ghost" data-action="skip" onClick={() => to({ status: 'skipped', editing: false })}>{t('cz.skip')}</button>
            </div>
          </div>
        </>
      )}
      {row.status === 'accepted' && (
        <div class="cz-done">
          <span>→ <strong data-field="accepted-category">{categoryLabel(parseCategory(row.category))}</strong></span>
          <button class="btn btn-sm" data-action="undo" onClick={() => to({ status: 'pending' })}>{t('cz.change')}</button>
        </div>
      )}
      {row.status === 'skipped' && (
        <div class="cz-done">
          <span class="muted">{t('cz.skipped')}</span>
          <button class="btn btn-sm" data-action="undo" onClick={() => to({ status: 'pending' })}>{t('bucket.undo')}</button>
        </div>
      )}
    </li>
  );
}

function Preview({ found, after, err, accepted, saving, onSave }: {
  found: Found;
  after: Map<string, number> | null;
  err: unknown;
  accepted: number;
  saving: boolean;
  onSave: () => void;
}) {
  const U = 'Uncategorized';
  const rows = useMemo(() => {
    if (!after) return [];
    const names = new Set([...found.before.keys(), ...after.keys()]);
    names.delete(U);
    return [...names]
      .map((n) => ({ name: n, before: found.before.get(n) || 0, after: after.get(n) || 0 }))
      .sort((a, b) => b.after - a.after || a.name.localeCompare(b.name));
  }, [found, after]);
  const ub = found.before.get(U) || 0;
  const ua = after ? after.get(U) || 0 : null;
  return (
    <Card class="cz-preview" title={t('cz.effect')} subtitle={accepted ? t('cz.withAccepted', { n: accepted }) : t('cz.acceptToSee')} testId="cz-preview">
      {err ? (
        <ErrorBox error={err} title={t('cz.rulesFail')} />
      ) : (
        <div data-state={after ? 'ready' : 'busy'} data-testid="cz-preview-body">
          <div class="cz-uncat">
            <div>{t('cz.uncategorised')}</div>
            <div class="cz-uncat-figs">
              <span data-testid="cz-uncat-before" data-seconds={ub}>{fmtDuration(ub)}</span>
              <span aria-hidden="true">→</span>
              <strong data-testid="cz-uncat-after" data-seconds={ua ?? ''}>{ua === null ? '…' : fmtDuration(ua)}</strong>
            </div>
          </div>
          {rows.length > 0 && (
            <div class="table-wrap">
              <table class="table cz-table">
                <thead>
                  <tr><th scope="col">{t('cz.category')}</th><th scope="col" class="num">{t('cz.before')}</th><th scope="col" class="num">{t('cz.after')}</th></tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr data-category={r.name} data-before={r.before} data-after={r.after} class={Math.abs(r.after - r.before) > 0.0005 ? 'cz-changed' : ''}>
                      <th scope="row">{r.name}</th>
                      <td class="num">{fmtDuration(r.before)}</td>
                      <td class="num">{fmtDuration(r.after)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
      <div class="cz-save">
        <button class="btn btn-primary" data-testid="cz-save" disabled={!accepted || saving || !!err} onClick={onSave}>
          {saving ? t('settings.saving') : accepted ? t('cz.saveRules', { n: accepted }) : t('common.save')}
        </button>
      </div>
    </Card>
  );
}

