import type { VNode } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, errorMessage } from '../lib/api';
import type { AWEvent, JsonObject, PrivacyFilter, SettingHistoryEntry, SettingsHistory } from '../lib/types';
import {
  addPreset, Category, CATEGORY_PRESETS, categorizeLocal, categoryColor, compileRule, DEFAULT_CLASSES, matches, normalise, ruleError, rulesForQuery,
  toJsRegExp,
} from '../lib/categories';
import { href, navigate } from '../lib/router';
import { devices, getState, loadSettingsHistory, saveSetting, setDeviceLocal, setRawSetting, Settings, useStore } from '../lib/store';
import { fmtDuration } from '../lib/time';
import { formatDateTime, formatDateTimeWith, formatNumber, LANGUAGES, languageChoice, setLanguage, t, tx, type Lang, type MessageKey } from '../lib/i18n';
import { Badge, Card, download, Empty, ErrorBox, Segmented, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';
import { WatchersCard } from '../components/Watchers';
import { AlertsEditor } from '../components/AlertsEditor';

const TABS = [
  { value: 'general', label: 'settings.tab.general' },
  { value: 'categories', label: 'settings.tab.categories' },
  { value: 'privacy', label: 'settings.tab.privacy' },
  { value: 'alerts', label: 'settings.tab.alerts' },
] as const satisfies readonly { value: string; label: MessageKey }[];
type Tab = (typeof TABS)[number]['value'];

export function SettingsPage({ tab }: { tab?: string }) {
  const cur = (TABS.some((x) => x.value === tab) ? tab : 'general') as Tab;
  useEffect(() => {
    loadSettingsHistory();
  }, [cur]);
  return (
    <div class="page" data-testid="settings-page">
      <div class="page-head">
        <div>
          <h1>{t('nav.settings')}</h1>
          <div class="page-sub">{t('settings.sub')}</div>
        </div>
        <Segmented testId="settings-tabs" value={cur} options={TABS.map((x) => ({ value: x.value, label: t(x.label) }))} onChange={(v) => navigate('/settings/' + v)} />
      </div>
      {cur === 'general' && <General />}
      {cur === 'categories' && <CategoriesEditor />}
      {cur === 'privacy' && <PrivacyEditor />}
      {cur === 'alerts' && <AlertsEditor />}
    </div>
  );
}

async function save<K extends keyof Settings>(key: K, v: Settings[K], what: string) {
  try {
    await saveSetting(key, v);
    toast(t('settings.saved', { what }));
  } catch (e) {
    toast(t('settings.saveFailed', { what, whatLower: what.toLowerCase(), error: errorMessage(e) }), 'error');
  }
}

function General() {
  const { settings: s } = useStore();
  return (
    <div class="grid grid-2">
      <Card title={t('settings.days.title')} subtitle={t('settings.days.sub')}>
        <div class="form">
          <label class="field">
            <span>{t('settings.startOfDay')}</span>
            <input type="time" class="input" data-testid="start-of-day" value={s.startOfDay} onChange={(e) => save('startOfDay', (e.target as HTMLInputElement).value || '00:00', t('settings.startOfDay'))} />
            <small class="muted">{t('settings.startOfDay.hint')}</small>
          </label>
          <SettingOrigin k="startOfDay" what={t('settings.startOfDay')} />
          <label class="field">
            <span>{t('settings.startOfWeek')}</span>
            <select class="select" value={s.startOfWeek} onChange={(e) => save('startOfWeek', (e.target as HTMLSelectElement).value, t('settings.startOfWeek'))}>
              <option value="Monday">{t('settings.monday')}</option>
              <option value="Sunday">{t('settings.sunday')}</option>
            </select>
          </label>
          <SettingOrigin k="startOfWeek" what={t('settings.startOfWeek')} />
        </div>
      </Card>
      <Card title={t('settings.appearance')}>
        <div class="form">
          <div class="field">
            <span>{t('settings.theme')}</span>
            <Segmented testId="theme-select" value={s.theme} onChange={(v) => save('theme', v, t('settings.theme'))} options={[{ value: 'light', label: t('settings.theme.light') }, { value: 'dark', label: t('settings.theme.dark') }, { value: 'auto', label: t('settings.theme.system') }]} />
          </div>
          <SettingOrigin k="theme" what={t('settings.theme')} />
          <label class="field">
            <span>{t('settings.landingPage')}</span>
            <select class="select" value={s.landingpage} onChange={(e) => save('landingpage', (e.target as HTMLSelectElement).value, t('settings.landingPage'))}>
              <option value="/activity">{t('nav.activity')}</option>
              <option value="/timeline">{t('nav.timeline')}</option>
              <option value="/stopwatch">{t('nav.stopwatch')}</option>
              <option value="/buckets">{t('nav.buckets')}</option>
            </select>
          </label>
          <SettingOrigin k="landingpage" what={t('settings.landingPage')} />
          <LanguageField />
        </div>
      </Card>
      <WatchersCard />
    </div>
  );
}

/** The UI's language: kept in this browser only (localStorage awnode.language, not a node
 * setting, so each device and browser can differ); the page reloads to render in it. */
function LanguageField() {
  const choice = languageChoice();
  return (
    <label class="field">
      <span>{t('settings.language')}</span>
      <select class="select" data-testid="language-select" value={choice} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value as Lang | 'auto')}>
        <option value="auto">{t('settings.language.auto')}</option>
        {LANGUAGES.map((l) => <option value={l.value} lang={l.value}>{l.label}</option>)}
      </select>
      <small class="muted">{t('settings.language.hint')}</small>
    </label>
  );
}

// ---- where a setting comes from (GET /api/0/settings-history) ------------------------------

function fmtWhen(when: string): string {
  const d = new Date(when);
  if (Number.isNaN(d.getTime())) return when;
  const o: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  if (d.getFullYear() !== new Date().getFullYear()) o.year = 'numeric';
  return formatDateTimeWith(d, o);
}

/** "this device", or the device's name as the Raw data page shows it (its current name,
 * told apart from another device of the same name), else the name it had then. */
function deviceName(id: string | null, hostname: string | null, h: SettingsHistory, labels: Map<string | null, string>): string {
  if (id === null || id === h.device_id) return t('settings.thisDevice');
  return labels.get(id) || hostname || t('app.device', { id: id.slice(0, 8) });
}

/** A short text for a stored value of `key`. */
function valuePreview(key: string, v: unknown): string {
  if (key === 'classes' && Array.isArray(v)) return t('settings.nCategories', { n: v.length });
  if (key === 'privacy_filters' && Array.isArray(v)) return t('settings.nRules', { n: v.length });
  if (key === 'theme' && v === 'auto') return t('settings.theme.system');
  if (typeof v === 'string') return v;
  const j = JSON.stringify(v);
  return j.length > 60 ? j.slice(0, 60) + '…' : j;
}

/** Where and when a setting was last changed, its device-local mark and toggle, and the
 * values it replaced with a way to restore each (restore = store that value again). */
function SettingOrigin({ k, what }: { k: string; what: string }) {
  const st = useStore();
  const [busy, setBusy] = useState(false);
  const h = st.settingsHistory;
  if (!h) return null; // a node without settings origins
  const labels = new Map(devices(st.buckets, st.info).map((d) => [d.id, d.label]));
  const o = h.settings[k];
  const local = o ? o.local : st.settings.deviceLocal.includes(k);
  const who = o ? deviceName(o.device_id, o.hostname, h, labels) : '';
  const text = !o
    ? t('settings.origin.default')
    : !o.changed_at
      ? t('settings.origin.before', { who })
      : t(o.deleted ? 'settings.origin.reset' : 'settings.origin.changed', { who, when: fmtWhen(o.changed_at) });
  const act = async (f: () => Promise<void>, done: string) => {
    setBusy(true);
    try {
      await f();
      toast(done);
    } catch (e) {
      toast(t('settings.origin.error', { what, error: errorMessage(e) }), 'error');
    } finally {
      setBusy(false);
    }
  };
  const restore = (e: SettingHistoryEntry) => act(() => setRawSetting(k, e.value), t('settings.origin.restored', { what }));
  return (
    <div class="setting-origin" data-testid={`origin-${k}`} data-setting={k} data-device-id={o?.device_id ?? ''} data-changed-at={o?.changed_at ?? ''} data-local={local ? '1' : '0'}>
      <div class="origin-line">
        <span class="small muted" data-testid="origin-text" title={o?.changed_at ? formatDateTime(o.changed_at, true) : undefined}>{text}</span>
        {local && <Badge kind="neutral" title={t('settings.origin.localTitle')}><I.IconDevice /> {t('settings.origin.local')}</Badge>}
        <label class="origin-toggle small">
          <input type="checkbox" data-testid="device-local-toggle" checked={local} disabled={busy}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              act(() => setDeviceLocal(k, on), t(on ? 'settings.origin.keptHere' : 'settings.origin.travels', { what }));
            }} />
          {t('settings.origin.keepHere')}
        </label>
      </div>
      {o && o.history.length > 0 && (
        <details class="origin-history" data-testid="history">
          <summary class="small"><I.IconClock /> {t('settings.origin.earlier', { n: o.history.length })}</summary>
          <ul>
            {o.history.map((e) => (
              <li data-testid="history-entry" data-changed-at={e.changed_at ?? ''} data-device-id={e.device_id ?? ''}>
                <span class={'origin-value' + (e.deleted ? ' muted' : ' mono')} data-testid="history-value">{e.deleted ? t('settings.origin.resetToDefault') : valuePreview(k, e.value)}</span>
                <span class="small muted">
                  {e.changed_at
                    ? t('settings.origin.setOnAt', { who: deviceName(e.device_id, e.hostname, h, labels), when: fmtWhen(e.changed_at) })
                    : t('settings.origin.setOn', { who: deviceName(e.device_id, e.hostname, h, labels) })}
                  {e.replaced_at && ' · ' + t('settings.origin.replaced', { when: fmtWhen(e.replaced_at) })}
                </span>
                {!e.deleted && (
                  <button class="btn btn-xs" data-action="restore" disabled={busy} title={t('settings.origin.restoreTitle', { what, whatLower: what.toLowerCase() })} onClick={() => restore(e)}>
                    <I.IconUndo /> {t('settings.origin.restore')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

// ---- sample of recent events for live previews ------------------------------------------

interface Sample {
  bucket: string;
  data: JsonObject;
  duration: number;
  count: number;
}
let sampleCache: Promise<Sample[]> | null = null;

/** Recent window (and browser) events of every device, merged by data: the preview sample.
 * Read with plain REST calls so previews work without the query engine. */
function recentSample(): Promise<Sample[]> {
  if (sampleCache) return sampleCache;
  const { buckets } = getState();
  const ws = buckets.filter((b) => b.type === 'currentwindow' || b.type === 'web.tab.current');
  sampleCache = Promise.all(
    ws.map(async (b) => {
      const end = b.metadata?.end ? new Date(new Date(b.metadata.end).getTime() + 1000) : new Date();
      const start = new Date(end.getTime() - 14 * 86400_000);
      const ev = await api.events(b.id, { start: start.toISOString(), end: end.toISOString(), limit: 4000 });
      return ev.map((e) => ({ b: b.id, e }));
    }),
  ).then((lists) => {
    const m = new Map<string, Sample>();
    for (const { b, e } of lists.flat() as { b: string; e: AWEvent }[]) {
      const k = b + '\u0000' + JSON.stringify(e.data);
      const s = m.get(k);
      if (s) {
        s.duration += e.duration;
        s.count++;
      } else m.set(k, { bucket: b, data: e.data, duration: e.duration, count: 1 });
    }
    return [...m.values()].sort((a, b) => b.duration - a.duration);
  });
  sampleCache.catch(() => (sampleCache = null));
  return sampleCache;
}

function useSample() {
  const st = useStore();
  const [s, setS] = useState<Sample[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    if (!st.bucketsLoaded) return;
    recentSample().then(setS).catch(setErr);
  }, [st.bucketsLoaded]);
  return { sample: s, err };
}

function sampleLabel(s: Sample): string {
  const d = s.data;
  if (d.app !== undefined) return `${d.app} — ${d.title ?? ''}`;
  return String(d.title || d.url || JSON.stringify(d));
}

// ---- categories ---------------------------------------------------------------------

const key = (c: Category) => c.name.join('\u0000');
const isUnder = (c: string[], p: string[]) => p.length <= c.length && p.every((x, i) => c[i] === x);

function CategoriesEditor() {
  const st = useStore();
  const [draft, setDraft] = useState<Category[]>(() => normalise(st.settings.classes));
  const [dirty, setDirty] = useState(false);
  const [sel, setSel] = useState<number | null>(null);
  const [saving, setSaving] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const { sample, err } = useSample();

  useEffect(() => {
    if (!dirty) setDraft(normalise(st.settings.classes));
  }, [st.settings.classes]);

  const sorted = useMemo(() => [...draft].sort((a, b) => key(a).localeCompare(key(b))), [draft]);
  const selected = draft.find((c) => c.id === sel) || null;

  const update = (next: Category[]) => {
    setDraft(next);
    setDirty(true);
  };
  const patch = (id: number, p: Partial<Category>) => update(draft.map((c) => (c.id === id ? { ...c, ...p } : c)));

  const rename = (c: Category, newPath: string[]) => {
    // move a category and its whole subtree
    const old = c.name;
    const clash = draft.some((x) => x.id !== c.id && key(x) === newPath.join('\u0000') && !isUnder(x.name, old));
    if (clash || !newPath.every((p) => p.trim())) return false;
    update(draft.map((x) => (isUnder(x.name, old) ? { ...x, name: [...newPath, ...x.name.slice(old.length)] } : x)));
    return true;
  };

  const add = (parent: string[]) => {
    const id = Math.max(0, ...draft.map((c) => c.id || 0)) + 1;
    const base = t('settings.cat.newName');
    let name = base;
    let n = 2;
    while (draft.some((c) => key(c) === [...parent, name].join('\u0000'))) name = `${base} ${n++}`;
    update([...draft, { id, name: [...parent, name], rule: { type: 'regex', regex: '' } }]);
    setSel(id);
  };

  const remove = (c: Category) => {
    update(draft.filter((x) => !isUnder(x.name, c.name)));
    if (sel === c.id) setSel(null);
  };

  const doSave = async () => {
    const bad = draft.find((c) => ruleError(c.rule) && c.rule.type === 'regex' && c.rule.regex);
    if (bad) {
      toast(t('settings.cat.fixPattern', { name: bad.name.join(' › ') }), 'error');
      setSel(bad.id!);
      return;
    }
    setSaving(true);
    try {
      // empty regex rules are stored as "none" so ActivityWatch's UI accepts them too
      const clean = draft.map((c) => (c.rule.type === 'regex' && !c.rule.regex ? { ...c, rule: { type: 'none' as const } } : c));
      await saveSetting('classes', clean);
      setDirty(false);
      toast(t('settings.cat.saved'));
    } catch (e) {
      toast(t('settings.couldNotSave', { error: errorMessage(e) }), 'error');
    } finally {
      setSaving(false);
    }
  };

  const onImport = async (f: File) => {
    try {
      const j: unknown = JSON.parse(await f.text());
      const doc = j as { categories?: unknown; classes?: unknown }; // a category export, or a settings object
      const list = Array.isArray(j) ? j : doc.categories || doc.classes;
      if (!Array.isArray(list) || !list.every((c: Partial<Category>) => Array.isArray(c.name) && c.rule)) throw new Error(t('settings.cat.notAList'));
      update(normalise(list as Category[]));
      toast(t('settings.cat.loaded', { n: list.length, file: f.name }), 'info');
    } catch (e) {
      toast(t('settings.importFailed', { error: errorMessage(e) }), 'error');
    }
  };

  // Uncategorised share of the sample with the draft rules
  const stats = useMemo(() => {
    if (!sample) return null;
    const compiled = rulesForQuery(draft).map(([p, r]) => [p, compileRule(r)] as [string[], RegExp | null]).filter((x) => x[1]) as [string[], RegExp][];
    let tot = 0, unc = 0;
    const by = new Map<string, number>();
    for (const s of sample) {
      const cat = categorizeLocal(s.data, compiled);
      tot += s.duration;
      if (cat[0] === 'Uncategorized') unc += s.duration;
      const k = cat.join('\u0000');
      by.set(k, (by.get(k) || 0) + s.duration);
    }
    return { tot, unc, by, compiled };
  }, [sample, draft]);

  return (
    <div class="cat-editor">
      <div class="savebar" data-dirty={dirty ? '1' : '0'}>
        <div>
          {dirty ? <strong>{t('settings.cat.unsaved')}</strong> : <span class="muted">{st.settings.classesCustomised ? t('settings.nCategories', { n: draft.length }) : t('settings.cat.usingDefaults')}</span>}
          {stats && stats.tot > 0 && (
            <span class="muted"> · {t('settings.cat.uncategorisedShare', { pct: Math.round((stats.unc / stats.tot) * 100) })}</span>
          )}
        </div>
        <div class="toolbar">
          <input ref={fileRef} type="file" accept=".json,application/json" hidden onChange={(e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) onImport(f); (e.target as HTMLInputElement).value = ''; }} />
          <a class="btn btn-sm" href={href('/categorize')} data-testid="build-categories"
            onClick={(e) => {
              // the builder starts from the saved rules; unsaved edits here would be lost
              if (!dirty) return;
              e.preventDefault();
              toast(t('settings.cat.saveFirst'), 'info');
            }}>{t('settings.cat.build')}</a>
          <select class="select select-sm" data-testid="category-preset" aria-label={t('settings.cat.addPresetLabel')} value=""
            onChange={(e) => {
              const el = e.target as HTMLSelectElement;
              const p = CATEGORY_PRESETS.find((x) => x.id === el.value);
              el.value = '';
              if (!p) return;
              const r = addPreset(draft, p);
              if (r.added) update(normalise(r.classes));
              toast(r.added ? t('settings.cat.presetAdded', { n: r.added, preset: p.label }) : t('settings.cat.presetHave', { preset: p.label }), 'info');
            }}>
            <option value="">{t('settings.cat.addPreset')}</option>
            {CATEGORY_PRESETS.map((p) => <option value={p.id}>{p.label}</option>)}
          </select>
          <button class="btn btn-sm" onClick={() => fileRef.current?.click()}><I.IconUpload /> {t('settings.import')}</button>
          <button class="btn btn-sm" onClick={() => download('aw-category-export.json', JSON.stringify({ categories: draft }, null, 2))}><I.IconDownload /> {t('settings.export')}</button>
          <button class="btn btn-sm" onClick={() => { update(normalise(DEFAULT_CLASSES)); setSel(null); }}>{t('settings.cat.resetDefaults')}</button>
          {dirty && <button class="btn btn-sm" onClick={() => { setDraft(normalise(st.settings.classes)); setDirty(false); }}>{t('settings.discard')}</button>}
          <button class="btn btn-sm btn-primary" disabled={!dirty || saving} onClick={doSave} data-testid="save-categories">{saving ? t('settings.saving') : t('common.save')}</button>
        </div>
      </div>
      <SettingOrigin k="classes" what={t('settings.tab.categories')} />
      <div class="cat-layout">
        <Card title={t('settings.tab.categories')} actions={<button class="btn btn-sm" data-testid="add-category" onClick={() => add([])}><I.IconPlus /> {t('settings.cat.add')}</button>}>
          <div class="cat-list" data-testid="category-list">
            {sorted.map((c) => {
              const depth = c.name.length - 1;
              const secs = stats?.by.get(key(c)) || 0;
              return (
                <div class={'cat-row' + (c.id === sel ? ' selected' : '')} style={{ paddingLeft: `${10 + depth * 20}px` }} onClick={() => setSel(c.id!)} data-category={c.name.join(' > ')}>
                  <span class="tl-dot" style={{ background: categoryColor(c.name, draft) }} />
                  <span class="cat-name">{c.name[c.name.length - 1]}</span>
                  <span class="cat-rule mono small">{c.rule.type === 'regex' && c.rule.regex ? c.rule.regex : <span class="muted">{t('settings.cat.noRule')}</span>}</span>
                  {c.rule.ignore_case && <span class="tag small" title={t('settings.cat.caseInsensitive')}>Aa</span>}
                  {ruleError(c.rule) && c.rule.regex ? <span class="tag tag-error small">{t('settings.invalid')}</span> : null}
                  <span class="cat-time muted small">{secs ? fmtDuration(secs) : ''}</span>
                  <button class="btn btn-ghost btn-icon btn-xs" title={t('settings.cat.addSub')} onClick={(e) => { e.stopPropagation(); add(c.name); }}><I.IconPlus /></button>
                  <button class="btn btn-ghost btn-icon btn-xs btn-danger-text" title={t('settings.cat.deleteWithSubs')} onClick={(e) => { e.stopPropagation(); remove(c); }}><I.IconTrash /></button>
                </div>
              );
            })}
          </div>
        </Card>
        <div>
          {selected ? (
            <CategoryForm key={selected.id} cat={selected} all={draft} onPatch={(p) => patch(selected.id!, p)} onRename={(path) => rename(selected, path)} sample={sample} sampleErr={err} compiled={stats?.compiled || []} />
          ) : (
            <Card>
              <Empty icon="✎">
                <p>{t('settings.cat.selectHint')}</p>
              </Empty>
            </Card>
          )}
        </div>
      </div>
    </div>
  );
}

function CategoryForm({ cat, all, onPatch, onRename, sample, sampleErr, compiled }: {
  cat: Category;
  all: Category[];
  onPatch: (p: Partial<Category>) => void;
  onRename: (path: string[]) => boolean;
  sample: Sample[] | null;
  sampleErr: unknown;
  compiled: [string[], RegExp][];
}) {
  const [name, setName] = useState(cat.name[cat.name.length - 1]);
  useEffect(() => setName(cat.name[cat.name.length - 1]), [cat.name.join('\u0000')]);
  const parent = cat.name.slice(0, -1);
  const parents = all.filter((c) => !isUnder(c.name, cat.name)).map((c) => c.name).sort((a, b) => a.join('>').localeCompare(b.join('>')));
  const re = compileRule(cat.rule);
  const error = ruleError(cat.rule);

  const preview = useMemo(() => {
    if (!sample || !re) return null;
    const hits = sample.filter((s) => matches(re, s.data));
    let won = 0;
    for (const h of hits) {
      const c = categorizeLocal(h.data, compiled);
      if (c.join('\u0000') === cat.name.join('\u0000')) won += h.duration;
    }
    return { hits, time: hits.reduce((a, h) => a + h.duration, 0), won };
  }, [sample, cat.rule.regex, cat.rule.ignore_case, cat.rule.type, compiled]);

  const commitName = () => {
    const n = name.trim();
    if (!n || n === cat.name[cat.name.length - 1]) return setName(cat.name[cat.name.length - 1]);
    if (!onRename([...parent, n])) {
      toast(t('settings.cat.existsHere'), 'error');
      setName(cat.name[cat.name.length - 1]);
    }
  };

  return (
    <Card title={cat.name.join(' › ')} testId="category-form">
      <div class="form">
        <div class="form-row">
          <label class="field grow">
            <span>{t('settings.cat.name')}</span>
            <input class="input" data-testid="cat-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} onBlur={commitName} onKeyDown={(e) => e.key === 'Enter' && commitName()} />
          </label>
          <label class="field grow">
            <span>{t('settings.cat.parent')}</span>
            <select class="select" data-testid="cat-parent" value={parent.join('\u0000')} onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              const np = v ? v.split('\u0000') : [];
              if (!onRename([...np, cat.name[cat.name.length - 1]])) toast(t('settings.cat.existsThere'), 'error');
            }}>
              <option value="">{t('settings.cat.topLevel')}</option>
              {parents.map((p) => <option value={p.join('\u0000')}>{p.join(' › ')}</option>)}
            </select>
          </label>
          <label class="field">
            <span>{t('settings.cat.colour')}</span>
            <div class="color-field">
              <input type="color" value={cat.data?.color || categoryColor(cat.name, all)} onInput={(e) => onPatch({ data: { ...(cat.data || {}), color: (e.target as HTMLInputElement).value } })} />
              {cat.data?.color && <button class="btn btn-ghost btn-xs" onClick={() => { const d = { ...(cat.data || {}) }; delete d.color; onPatch({ data: d }); }}>{t('settings.cat.inherit')}</button>}
            </div>
          </label>
        </div>
        <div class="field">
          <span>{t('settings.cat.rule')}</span>
          <Segmented value={cat.rule.type === 'regex' ? 'regex' : 'none'} onChange={(v) => onPatch({ rule: v === 'regex' ? { type: 'regex', regex: cat.rule.regex || '', ignore_case: cat.rule.ignore_case } : { type: 'none' } })}
            options={[{ value: 'regex', label: t('settings.cat.regex') }, { value: 'none', label: t('settings.cat.none') }]} />
        </div>
        {cat.rule.type === 'regex' && (
          <>
            <div class="form-row">
              <label class="field grow">
                <span>{t('settings.cat.pattern')}</span>
                <input class={'input mono' + (error && cat.rule.regex ? ' invalid' : '')} data-testid="cat-regex" placeholder={t('settings.cat.patternPlaceholder')} value={cat.rule.regex || ''}
                  onInput={(e) => onPatch({ rule: { ...cat.rule, regex: (e.target as HTMLInputElement).value } })} />
              </label>
              <label class="check">
                <input type="checkbox" data-testid="cat-ignore-case" checked={!!cat.rule.ignore_case} onChange={(e) => onPatch({ rule: { ...cat.rule, ignore_case: (e.target as HTMLInputElement).checked || undefined } })} />
                {t('settings.cat.ignoreCase')}
              </label>
            </div>
            {error && cat.rule.regex && <div class="field-error">{error}</div>}
          </>
        )}
      </div>
      <div class="preview">
        <div class="preview-head">
          <strong>{t('settings.cat.preview')}</strong>
          <span class="muted small">{t('settings.cat.previewSub')}</span>
        </div>
        <ErrorBox error={sampleErr} title={t('settings.cat.sampleError')} />
        {!sample && !sampleErr && <Skeleton rows={4} />}
        {sample && cat.rule.type !== 'regex' && <div class="muted">{t('settings.cat.noOwnRule')}</div>}
        {sample && cat.rule.type === 'regex' && !re && <div class="muted">{t('settings.cat.typePattern')}</div>}
        {preview && (
          <>
            <div class="preview-stats" data-testid="preview-stats">
              <span>{tx('settings.cat.distinct', { n: preview.hits.length, count: <b>{formatNumber(preview.hits.length)}</b> })}</span>
              <span>{tx('settings.cat.matched', { time: <b>{fmtDuration(preview.time)}</b> })}</span>
              <span title={t('settings.cat.wonTitle')}>{tx('settings.cat.won', { time: <b>{fmtDuration(preview.won)}</b> })}</span>
            </div>
            <ul class="preview-list">
              {preview.hits.slice(0, 14).map((h) => (
                <li>
                  <span class="preview-text"><Highlight text={sampleLabel(h)} re={re!} /></span>
                  <span class="muted small">{fmtDuration(h.duration)}</span>
                </li>
              ))}
              {!preview.hits.length && <li class="muted">{t('settings.cat.nothing')}</li>}
            </ul>
          </>
        )}
      </div>
    </Card>
  );
}

function Highlight({ text, re }: { text: string; re: RegExp }) {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  const out: (string | VNode)[] = [];
  let last = 0;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = g.exec(text)) && n++ < 20) {
    if (m[0] === '') {
      g.lastIndex++;
      continue;
    }
    out.push(text.slice(last, m.index), <mark>{m[0]}</mark>);
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return <>{out}</>;
}

// ---- privacy filters --------------------------------------------------------------------

const EMPTY_FILTER: PrivacyFilter = { enabled: true, bucket_prefix: 'aw-watcher-window', field: 'title', pattern: '', action: 'redact', replacement: '[redacted]' };

function fieldValue(data: JsonObject, field: string): unknown {
  const path = field.replace(/^data\./, '').split('.').filter(Boolean);
  let v: unknown = data;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

const jsRegex = (p: string) => toJsRegExp(p);

function PrivacyEditor() {
  const st = useStore();
  const [rules, setRules] = useState<PrivacyFilter[]>(st.settings.privacy_filters);
  const [dirty, setDirty] = useState(false);
  const { sample } = useSample();
  useEffect(() => {
    if (!dirty) setRules(st.settings.privacy_filters);
  }, [st.settings.privacy_filters]);
  const upd = (i: number, p: Partial<PrivacyFilter>) => {
    setRules(rules.map((r, j) => (j === i ? { ...r, ...p } : r)));
    setDirty(true);
  };
  const hits = (r: PrivacyFilter): number | null => {
    if (!sample || !r.pattern) return null;
    let re: RegExp;
    try {
      re = jsRegex(r.pattern);
    } catch {
      return -1;
    }
    // as the node: without a field the rule takes every event of its buckets
    return sample.filter((s) => (!r.bucket_prefix || s.bucket.startsWith(r.bucket_prefix)) && (r.field ? typeof fieldValue(s.data, r.field) === 'string' && re.test(fieldValue(s.data, r.field) as string) : true)).length;
  };
  return (
    <div>
      <div class="alert alert-info">
        <span>
          {tx('settings.privacy.intro', { before: <em>{t('settings.privacy.beforeStored')}</em>, key: <code>privacy_filters</code> })}
        </span>
      </div>
      <SettingOrigin k="privacy_filters" what={t('settings.privacy.what')} />
      <Card
        title={t('settings.privacy.rules')}
        testId="privacy-rules"
        actions={
          <>
            <button class="btn btn-sm" data-testid="add-filter" onClick={() => { setRules([...rules, { ...EMPTY_FILTER }]); setDirty(true); }}><I.IconPlus /> {t('settings.privacy.addRule')}</button>
            <button class="btn btn-sm btn-primary" disabled={!dirty} data-testid="save-filters" onClick={async () => {
              const bad = rules.find((r) => { try { jsRegex(r.pattern); return !r.pattern; } catch { return true; } });
              if (bad) return toast(t('settings.privacy.needPattern'), 'error');
              // optional keys are left out when empty (docs/privacy.md); the node validates and may refuse with 400
              const clean = rules.map((r) => {
                const o: PrivacyFilter = { enabled: r.enabled, pattern: r.pattern, action: r.action };
                if (r.bucket_prefix) o.bucket_prefix = r.bucket_prefix;
                if (r.field) o.field = r.field;
                if (r.action === 'redact') o.replacement = r.replacement ?? '';
                return o;
              });
              try { await saveSetting('privacy_filters', clean); setDirty(false); toast(t('settings.privacy.saved')); } catch (e) { toast(t('settings.notSaved', { error: errorMessage(e) }), 'error'); }
            }}>{t('common.save')}</button>
          </>
        }
      >
        {!rules.length ? (
          <Empty icon="🛡">{t('settings.privacy.empty')}</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table privacy-table">
              <thead>
                <tr><th>{t('settings.privacy.on')}</th><th>{t('settings.privacy.prefix')}</th><th>{t('settings.privacy.field')}</th><th>{t('settings.privacy.pattern')}</th><th>{t('settings.privacy.action')}</th><th>{t('settings.privacy.replacement')}</th><th class="num">{t('settings.privacy.recent')}</th><th /></tr>
              </thead>
              <tbody>
                {rules.map((r, i) => {
                  const h = hits(r);
                  return (
                    <tr>
                      <td><input type="checkbox" checked={r.enabled} onChange={(e) => upd(i, { enabled: (e.target as HTMLInputElement).checked })} /></td>
                      <td><input class="input input-sm mono" value={r.bucket_prefix ?? ''} placeholder={t('settings.privacy.allBuckets')} onInput={(e) => upd(i, { bucket_prefix: (e.target as HTMLInputElement).value })} /></td>
                      <td><input class="input input-sm mono" value={r.field ?? ''} placeholder={t('settings.privacy.wholeEvent')} onInput={(e) => upd(i, { field: (e.target as HTMLInputElement).value })} /></td>
                      <td><input class={'input input-sm mono' + (h === -1 ? ' invalid' : '')} value={r.pattern} placeholder="(?i)bank|private" onInput={(e) => upd(i, { pattern: (e.target as HTMLInputElement).value })} /></td>
                      <td>
                        <select class="select select-sm" value={r.action} onChange={(e) => upd(i, { action: (e.target as HTMLSelectElement).value as 'drop' | 'redact' })}>
                          <option value="redact">{t('settings.privacy.redact')}</option>
                          <option value="drop">{t('settings.privacy.drop')}</option>
                        </select>
                      </td>
                      <td><input class="input input-sm" disabled={r.action !== 'redact'} value={r.replacement ?? ''} onInput={(e) => upd(i, { replacement: (e.target as HTMLInputElement).value })} /></td>
                      <td class="num">{h === null ? '—' : h === -1 ? <span class="tag tag-error">{t('settings.invalid')}</span> : formatNumber(h)}</td>
                      <td><button class="btn btn-ghost btn-icon btn-xs btn-danger-text" title={t('settings.privacy.remove')} onClick={() => { setRules(rules.filter((_, j) => j !== i)); setDirty(true); }}><I.IconTrash /></button></td>
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
