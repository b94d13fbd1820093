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
import { fmtDateTime, fmtDuration } from '../lib/time';
import { Badge, Card, download, Empty, ErrorBox, Segmented, Skeleton, toast } from '../components/ui';
import * as I from '../components/icons';
import { WatchersCard } from '../components/Watchers';

const TABS = [
  { value: 'general', label: 'General' },
  { value: 'categories', label: 'Categories' },
  { value: 'privacy', label: 'Privacy' },
] as const;
type Tab = (typeof TABS)[number]['value'];

export function SettingsPage({ tab }: { tab?: string }) {
  const t = (TABS.some((x) => x.value === tab) ? tab : 'general') as Tab;
  useEffect(() => {
    loadSettingsHistory();
  }, [t]);
  return (
    <div class="page" data-testid="settings-page">
      <div class="page-head">
        <div>
          <h1>Settings</h1>
          <div class="page-sub">Stored on this node under ActivityWatch's keys, so both web UIs share them; with sync they travel to your other devices (the last change wins) unless kept on this device.</div>
        </div>
        <Segmented testId="settings-tabs" value={t} options={TABS.map((x) => ({ value: x.value, label: x.label }))} onChange={(v) => navigate('/settings/' + v)} />
      </div>
      {t === 'general' && <General />}
      {t === 'categories' && <CategoriesEditor />}
      {t === 'privacy' && <PrivacyEditor />}
    </div>
  );
}

async function save<K extends keyof Settings>(key: K, v: Settings[K], what: string) {
  try {
    await saveSetting(key, v);
    toast(`${what} saved`);
  } catch (e) {
    toast(`Could not save ${what.toLowerCase()}: ${errorMessage(e)}`, 'error');
  }
}

function General() {
  const { settings: s } = useStore();
  return (
    <div class="grid grid-2">
      <Card title="Days and weeks" subtitle="How periods are cut in Activity and Timeline">
        <div class="form">
          <label class="field">
            <span>Start of day</span>
            <input type="time" class="input" data-testid="start-of-day" value={s.startOfDay} onChange={(e) => save('startOfDay', (e.target as HTMLInputElement).value || '00:00', 'Start of day')} />
            <small class="muted">Activity before this time counts towards the previous day (ActivityWatch's default is 04:00).</small>
          </label>
          <SettingOrigin k="startOfDay" what="Start of day" />
          <label class="field">
            <span>Start of week</span>
            <select class="select" value={s.startOfWeek} onChange={(e) => save('startOfWeek', (e.target as HTMLSelectElement).value, 'Start of week')}>
              <option>Monday</option>
              <option>Sunday</option>
            </select>
          </label>
          <SettingOrigin k="startOfWeek" what="Start of week" />
        </div>
      </Card>
      <Card title="Appearance">
        <div class="form">
          <div class="field">
            <span>Theme</span>
            <Segmented testId="theme-select" value={s.theme} onChange={(v) => save('theme', v, 'Theme')} options={[{ value: 'light', label: 'Light' }, { value: 'dark', label: 'Dark' }, { value: 'auto', label: 'System' }]} />
          </div>
          <SettingOrigin k="theme" what="Theme" />
          <label class="field">
            <span>Landing page</span>
            <select class="select" value={s.landingpage} onChange={(e) => save('landingpage', (e.target as HTMLSelectElement).value, 'Landing page')}>
              <option value="/activity">Activity</option>
              <option value="/timeline">Timeline</option>
              <option value="/stopwatch">Stopwatch</option>
              <option value="/buckets">Raw data</option>
            </select>
          </label>
          <SettingOrigin k="landingpage" what="Landing page" />
        </div>
      </Card>
      <WatchersCard />
    </div>
  );
}

// ---- where a setting comes from (GET /api/0/settings-history) ------------------------------

function fmtWhen(t: string): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return t;
  const o: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  if (d.getFullYear() !== new Date().getFullYear()) o.year = 'numeric';
  return d.toLocaleString(undefined, o);
}

/** "this device", or the device's name as the Raw data page shows it (its current name,
 * told apart from another device of the same name), else the name it had then. */
function deviceName(id: string | null, hostname: string | null, h: SettingsHistory, labels: Map<string | null, string>): string {
  if (id === null || id === h.device_id) return 'this device';
  return labels.get(id) || hostname || `device ${id.slice(0, 8)}`;
}

/** A short text for a stored value of `key`. */
function valuePreview(key: string, v: unknown): string {
  if (key === 'classes' && Array.isArray(v)) return `${v.length} categor${v.length === 1 ? 'y' : 'ies'}`;
  if (key === 'privacy_filters' && Array.isArray(v)) return `${v.length} rule${v.length === 1 ? '' : 's'}`;
  if (key === 'theme' && v === 'auto') return 'System';
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
    ? 'Default value, never changed'
    : !o.changed_at
      ? `Set on ${who} before changes were recorded`
      : `${o.deleted ? 'Reset' : 'Changed'} on ${who}, ${fmtWhen(o.changed_at)}`;
  const act = async (f: () => Promise<void>, done: string) => {
    setBusy(true);
    try {
      await f();
      toast(done);
    } catch (e) {
      toast(`${what}: ${errorMessage(e)}`, 'error');
    } finally {
      setBusy(false);
    }
  };
  const restore = (e: SettingHistoryEntry) => act(() => setRawSetting(k, e.value), `${what} restored`);
  return (
    <div class="setting-origin" data-testid={`origin-${k}`} data-setting={k} data-device-id={o?.device_id ?? ''} data-changed-at={o?.changed_at ?? ''} data-local={local ? '1' : '0'}>
      <div class="origin-line">
        <span class="small muted" data-testid="origin-text" title={o?.changed_at ? fmtDateTime(o.changed_at, true) : undefined}>{text}</span>
        {local && <Badge kind="neutral" title="Kept on this device: not sent to your other devices, not replaced by their changes"><I.IconDevice /> device-local</Badge>}
        <label class="origin-toggle small">
          <input type="checkbox" data-testid="device-local-toggle" checked={local} disabled={busy}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              act(() => setDeviceLocal(k, on), on ? `${what} is kept on this device` : `${what} travels to your other devices`);
            }} />
          Keep on this device only
        </label>
      </div>
      {o && o.history.length > 0 && (
        <details class="origin-history" data-testid="history">
          <summary class="small"><I.IconClock /> Earlier values ({o.history.length})</summary>
          <ul>
            {o.history.map((e) => (
              <li data-testid="history-entry" data-changed-at={e.changed_at ?? ''} data-device-id={e.device_id ?? ''}>
                <span class={'origin-value' + (e.deleted ? ' muted' : ' mono')} data-testid="history-value">{e.deleted ? '(reset to default)' : valuePreview(k, e.value)}</span>
                <span class="small muted">
                  {e.changed_at ? `set on ${deviceName(e.device_id, e.hostname, h, labels)}, ${fmtWhen(e.changed_at)}` : `set on ${deviceName(e.device_id, e.hostname, h, labels)}`}
                  {e.replaced_at && ` · replaced ${fmtWhen(e.replaced_at)}`}
                </span>
                {!e.deleted && (
                  <button class="btn btn-xs" data-action="restore" disabled={busy} title={`Set ${what.toLowerCase()} back to this value`} onClick={() => restore(e)}>
                    <I.IconUndo /> Restore
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
    let name = 'New category';
    let n = 2;
    while (draft.some((c) => key(c) === [...parent, name].join('\u0000'))) name = `New category ${n++}`;
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
      toast(`Fix the pattern of ${bad.name.join(' › ')} first`, 'error');
      setSel(bad.id!);
      return;
    }
    setSaving(true);
    try {
      // empty regex rules are stored as "none" so ActivityWatch's UI accepts them too
      const clean = draft.map((c) => (c.rule.type === 'regex' && !c.rule.regex ? { ...c, rule: { type: 'none' as const } } : c));
      await saveSetting('classes', clean);
      setDirty(false);
      toast('Categories saved');
    } catch (e) {
      toast(`Could not save: ${errorMessage(e)}`, 'error');
    } finally {
      setSaving(false);
    }
  };

  const onImport = async (f: File) => {
    try {
      const j: unknown = JSON.parse(await f.text());
      const doc = j as { categories?: unknown; classes?: unknown }; // a category export, or a settings object
      const list = Array.isArray(j) ? j : doc.categories || doc.classes;
      if (!Array.isArray(list) || !list.every((c: Partial<Category>) => Array.isArray(c.name) && c.rule)) throw new Error('not a category list');
      update(normalise(list as Category[]));
      toast(`Loaded ${list.length} categories from ${f.name}; review and save`, 'info');
    } catch (e) {
      toast(`Import failed: ${errorMessage(e)}`, 'error');
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
          {dirty ? <strong>Unsaved changes</strong> : <span class="muted">{st.settings.classesCustomised ? `${draft.length} categories` : 'Using the default categories'}</span>}
          {stats && stats.tot > 0 && (
            <span class="muted"> · {Math.round((stats.unc / stats.tot) * 100)}% of recent time is uncategorised</span>
          )}
        </div>
        <div class="toolbar">
          <input ref={fileRef} type="file" accept=".json,application/json" hidden onChange={(e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) onImport(f); (e.target as HTMLInputElement).value = ''; }} />
          <a class="btn btn-sm" href={href('/categorize')} data-testid="build-categories"
            onClick={(e) => {
              // the builder starts from the saved rules; unsaved edits here would be lost
              if (!dirty) return;
              e.preventDefault();
              toast('Save or discard your changes first', 'info');
            }}>Build from uncategorised time</a>
          <select class="select select-sm" data-testid="category-preset" aria-label="Add a preset" value=""
            onChange={(e) => {
              const el = e.target as HTMLSelectElement;
              const p = CATEGORY_PRESETS.find((x) => x.id === el.value);
              el.value = '';
              if (!p) return;
              const r = addPreset(draft, p);
              if (r.added) update(normalise(r.classes));
              toast(r.added ? `Added ${r.added} categor${r.added === 1 ? 'y' : 'ies'} from “${p.label}”; review and save` : `You already have every category of “${p.label}”`, 'info');
            }}>
            <option value="">Add a preset…</option>
            {CATEGORY_PRESETS.map((p) => <option value={p.id}>{p.label}</option>)}
          </select>
          <button class="btn btn-sm" onClick={() => fileRef.current?.click()}><I.IconUpload /> Import</button>
          <button class="btn btn-sm" onClick={() => download('aw-category-export.json', JSON.stringify({ categories: draft }, null, 2))}><I.IconDownload /> Export</button>
          <button class="btn btn-sm" onClick={() => { update(normalise(DEFAULT_CLASSES)); setSel(null); }}>Reset to defaults</button>
          {dirty && <button class="btn btn-sm" onClick={() => { setDraft(normalise(st.settings.classes)); setDirty(false); }}>Discard</button>}
          <button class="btn btn-sm btn-primary" disabled={!dirty || saving} onClick={doSave} data-testid="save-categories">{saving ? 'Saving…' : 'Save'}</button>
        </div>
      </div>
      <SettingOrigin k="classes" what="Categories" />
      <div class="cat-layout">
        <Card title="Categories" actions={<button class="btn btn-sm" data-testid="add-category" onClick={() => add([])}><I.IconPlus /> Add</button>}>
          <div class="cat-list" data-testid="category-list">
            {sorted.map((c) => {
              const depth = c.name.length - 1;
              const t = stats?.by.get(key(c)) || 0;
              return (
                <div class={'cat-row' + (c.id === sel ? ' selected' : '')} style={{ paddingLeft: `${10 + depth * 20}px` }} onClick={() => setSel(c.id!)} data-category={c.name.join(' > ')}>
                  <span class="tl-dot" style={{ background: categoryColor(c.name, draft) }} />
                  <span class="cat-name">{c.name[c.name.length - 1]}</span>
                  <span class="cat-rule mono small">{c.rule.type === 'regex' && c.rule.regex ? c.rule.regex : <span class="muted">no rule</span>}</span>
                  {c.rule.ignore_case && <span class="tag small" title="Case-insensitive">Aa</span>}
                  {ruleError(c.rule) && c.rule.regex ? <span class="tag tag-error small">invalid</span> : null}
                  <span class="cat-time muted small">{t ? fmtDuration(t) : ''}</span>
                  <button class="btn btn-ghost btn-icon btn-xs" title="Add subcategory" onClick={(e) => { e.stopPropagation(); add(c.name); }}><I.IconPlus /></button>
                  <button class="btn btn-ghost btn-icon btn-xs btn-danger-text" title="Delete with subcategories" onClick={(e) => { e.stopPropagation(); remove(c); }}><I.IconTrash /></button>
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
                <p>Select a category to edit its name, parent, rule and colour, and to preview what its rule matches in your recent activity.</p>
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
      toast('A category with that name already exists here', 'error');
      setName(cat.name[cat.name.length - 1]);
    }
  };

  return (
    <Card title={cat.name.join(' › ')} testId="category-form">
      <div class="form">
        <div class="form-row">
          <label class="field grow">
            <span>Name</span>
            <input class="input" data-testid="cat-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} onBlur={commitName} onKeyDown={(e) => e.key === 'Enter' && commitName()} />
          </label>
          <label class="field grow">
            <span>Parent</span>
            <select class="select" data-testid="cat-parent" value={parent.join('\u0000')} onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              const np = v ? v.split('\u0000') : [];
              if (!onRename([...np, cat.name[cat.name.length - 1]])) toast('A category with that name already exists there', 'error');
            }}>
              <option value="">(top level)</option>
              {parents.map((p) => <option value={p.join('\u0000')}>{p.join(' › ')}</option>)}
            </select>
          </label>
          <label class="field">
            <span>Colour</span>
            <div class="color-field">
              <input type="color" value={cat.data?.color || categoryColor(cat.name, all)} onInput={(e) => onPatch({ data: { ...(cat.data || {}), color: (e.target as HTMLInputElement).value } })} />
              {cat.data?.color && <button class="btn btn-ghost btn-xs" onClick={() => { const d = { ...(cat.data || {}) }; delete d.color; onPatch({ data: d }); }}>inherit</button>}
            </div>
          </label>
        </div>
        <div class="field">
          <span>Rule</span>
          <Segmented value={cat.rule.type === 'regex' ? 'regex' : 'none'} onChange={(v) => onPatch({ rule: v === 'regex' ? { type: 'regex', regex: cat.rule.regex || '', ignore_case: cat.rule.ignore_case } : { type: 'none' } })}
            options={[{ value: 'regex', label: 'Regular expression' }, { value: 'none', label: 'No rule (only groups subcategories)' }]} />
        </div>
        {cat.rule.type === 'regex' && (
          <>
            <div class="form-row">
              <label class="field grow">
                <span>Pattern — matched against the app, window title, URL and every other text field</span>
                <input class={'input mono' + (error && cat.rule.regex ? ' invalid' : '')} data-testid="cat-regex" placeholder="e.g. GitHub|Stack Overflow|vim" value={cat.rule.regex || ''}
                  onInput={(e) => onPatch({ rule: { ...cat.rule, regex: (e.target as HTMLInputElement).value } })} />
              </label>
              <label class="check">
                <input type="checkbox" data-testid="cat-ignore-case" checked={!!cat.rule.ignore_case} onChange={(e) => onPatch({ rule: { ...cat.rule, ignore_case: (e.target as HTMLInputElement).checked || undefined } })} />
                Ignore case
              </label>
            </div>
            {error && cat.rule.regex && <div class="field-error">{error}</div>}
          </>
        )}
      </div>
      <div class="preview">
        <div class="preview-head">
          <strong>Live preview</strong>
          <span class="muted small">recent 14 days of window and browser events</span>
        </div>
        <ErrorBox error={sampleErr} title="Cannot load recent events" />
        {!sample && !sampleErr && <Skeleton rows={4} />}
        {sample && cat.rule.type !== 'regex' && <div class="muted">This category has no rule of its own.</div>}
        {sample && cat.rule.type === 'regex' && !re && <div class="muted">Type a pattern to see what it matches.</div>}
        {preview && (
          <>
            <div class="preview-stats" data-testid="preview-stats">
              <span><b>{preview.hits.length.toLocaleString()}</b> distinct titles match</span>
              <span><b>{fmtDuration(preview.time)}</b> matched</span>
              <span title="Deeper or later rules may take some matches"><b>{fmtDuration(preview.won)}</b> ends up here</span>
            </div>
            <ul class="preview-list">
              {preview.hits.slice(0, 14).map((h) => (
                <li>
                  <span class="preview-text"><Highlight text={sampleLabel(h)} re={re!} /></span>
                  <span class="muted small">{fmtDuration(h.duration)}</span>
                </li>
              ))}
              {!preview.hits.length && <li class="muted">Nothing in your recent activity matches.</li>}
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
          Privacy filters drop or redact matching events <em>before they are stored</em>. Rules are kept in the <code>privacy_filters</code> setting
          (ActivityWatch's format: bucket prefix, dotted field, regex pattern, drop or redact); they apply to new data only.
        </span>
      </div>
      <SettingOrigin k="privacy_filters" what="Privacy filters" />
      <Card
        title="Filter rules"
        testId="privacy-rules"
        actions={
          <>
            <button class="btn btn-sm" data-testid="add-filter" onClick={() => { setRules([...rules, { ...EMPTY_FILTER }]); setDirty(true); }}><I.IconPlus /> Add rule</button>
            <button class="btn btn-sm btn-primary" disabled={!dirty} data-testid="save-filters" onClick={async () => {
              const bad = rules.find((r) => { try { jsRegex(r.pattern); return !r.pattern; } catch { return true; } });
              if (bad) return toast('Every rule needs a valid pattern', 'error');
              // optional keys are left out when empty (docs/privacy.md); the node validates and may refuse with 400
              const clean = rules.map((r) => {
                const o: PrivacyFilter = { enabled: r.enabled, pattern: r.pattern, action: r.action };
                if (r.bucket_prefix) o.bucket_prefix = r.bucket_prefix;
                if (r.field) o.field = r.field;
                if (r.action === 'redact') o.replacement = r.replacement ?? '';
                return o;
              });
              try { await saveSetting('privacy_filters', clean); setDirty(false); toast('Privacy filters saved'); } catch (e) { toast(`Not saved: ${errorMessage(e)}`, 'error'); }
            }}>Save</button>
          </>
        }
      >
        {!rules.length ? (
          <Empty icon="🛡">No rules. Add one to keep, for example, private-browsing titles or banking sites out of your history.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table privacy-table">
              <thead>
                <tr><th>On</th><th>Bucket prefix</th><th>Field</th><th>Pattern (regex)</th><th>Action</th><th>Replacement</th><th class="num">Recent matches</th><th /></tr>
              </thead>
              <tbody>
                {rules.map((r, i) => {
                  const h = hits(r);
                  return (
                    <tr>
                      <td><input type="checkbox" checked={r.enabled} onChange={(e) => upd(i, { enabled: (e.target as HTMLInputElement).checked })} /></td>
                      <td><input class="input input-sm mono" value={r.bucket_prefix ?? ''} placeholder="(all buckets)" onInput={(e) => upd(i, { bucket_prefix: (e.target as HTMLInputElement).value })} /></td>
                      <td><input class="input input-sm mono" value={r.field ?? ''} placeholder="(whole event)" onInput={(e) => upd(i, { field: (e.target as HTMLInputElement).value })} /></td>
                      <td><input class={'input input-sm mono' + (h === -1 ? ' invalid' : '')} value={r.pattern} placeholder="(?i)bank|private" onInput={(e) => upd(i, { pattern: (e.target as HTMLInputElement).value })} /></td>
                      <td>
                        <select class="select select-sm" value={r.action} onChange={(e) => upd(i, { action: (e.target as HTMLSelectElement).value as 'drop' | 'redact' })}>
                          <option value="redact">redact</option>
                          <option value="drop">drop</option>
                        </select>
                      </td>
                      <td><input class="input input-sm" disabled={r.action !== 'redact'} value={r.replacement ?? ''} onInput={(e) => upd(i, { replacement: (e.target as HTMLInputElement).value })} /></td>
                      <td class="num">{h === null ? '—' : h === -1 ? <span class="tag tag-error">invalid</span> : h.toLocaleString()}</td>
                      <td><button class="btn btn-ghost btn-icon btn-xs btn-danger-text" title="Remove" onClick={() => { setRules(rules.filter((_, j) => j !== i)); setDirty(true); }}><I.IconTrash /></button></td>
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
