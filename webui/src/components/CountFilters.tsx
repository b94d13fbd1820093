// How the Activity page counts time: ActivityWatch's query options (only not-AFK time,
// audible browser tabs count as active, categories to keep) and its "always count as
// active" pattern. The toggles are this browser's view preference (kept in localStorage,
// shared by every Activity view, like aw-webui's); the pattern is the shared setting
// `always_active_pattern`, so every device and both UIs count the same windows as active.
// lib/queries.ts turns the options into query lines (CountOptions).
import { useEffect, useState } from 'preact/hooks';
import type { CountOptions } from '../lib/queries';
import type { Listeners } from '../lib/subscribe';
import { useListeners } from '../lib/subscribe';
import { saveSetting, useStore } from '../lib/store';
import { toJsRegExp } from '../lib/categories';
import { t } from '../lib/i18n';
import { toast } from './ui';
import './count-filters.css';

const STORAGE_KEY = 'awnode.activity.count';

interface ViewFilters {
  filterAfk: boolean;
  audibleActive: boolean;
  categories: string[][];
}

const DEFAULTS: ViewFilters = { filterAfk: true, audibleActive: true, categories: [] };

function load(): ViewFilters {
  try {
    const v = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    if (!v || typeof v !== 'object') return DEFAULTS;
    return {
      filterAfk: v.filterAfk !== false,
      audibleActive: v.audibleActive !== false,
      categories: Array.isArray(v.categories) ? v.categories.filter((c: unknown) => Array.isArray(c) && c.every((p) => typeof p === 'string')) : [],
    };
  } catch {
    return DEFAULTS;
  }
}

let view: ViewFilters = load();
const listeners: Listeners = new Set();
const currentView = () => view;

function setView(patch: Partial<ViewFilters>) {
  view = { ...view, ...patch };
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(view));
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  listeners.forEach((l) => l());
}

/** The options the Activity queries run with, and a key that changes when they do. */
export function useCountOptions(): { opts: CountOptions; key: string } {
  useListeners(listeners, currentView);
  const st = useStore();
  const opts: CountOptions = {
    filterAfk: view.filterAfk,
    audibleActive: view.audibleActive,
    alwaysActive: st.settings.always_active_pattern || undefined,
    categories: view.categories.length ? view.categories : undefined,
  };
  return { opts, key: JSON.stringify(opts) };
}

/** True when the figures are counted some other way than ActivityWatch's defaults. */
export function countIsFiltered(o: CountOptions): boolean {
  return o.filterAfk === false || o.audibleActive === false || !!o.alwaysActive || !!o.categories?.length;
}

const catKey = (c: string[]) => c.join(' > ');

/** The filter bar: a disclosure under the Activity toolbar. `categories`: the category
 * names to offer (the rules' names, parents before children). */
export function CountFilters({ categories }: { categories: string[][] }) {
  useListeners(listeners, currentView);
  const st = useStore();
  const [pattern, setPattern] = useState(st.settings.always_active_pattern);
  const [patternErr, setPatternErr] = useState('');
  useEffect(() => setPattern(st.settings.always_active_pattern), [st.settings.always_active_pattern]);
  const chosen = new Set(view.categories.map(catKey));
  const offered = [['Uncategorized'], ...categories.filter((c) => c.length && catKey(c) !== 'Uncategorized')];
  const active = countIsFiltered({ ...view, alwaysActive: st.settings.always_active_pattern || undefined });

  const toggleCat = (c: string[]) => {
    const k = catKey(c);
    setView({ categories: chosen.has(k) ? view.categories.filter((x) => catKey(x) !== k) : [...view.categories, c] });
  };
  const savePattern = async () => {
    const p = pattern.trim();
    if (p === st.settings.always_active_pattern) return;
    try {
      if (p) toJsRegExp(p);
    } catch (e) {
      setPatternErr(t('count.invalidRegex', { error: (e as Error).message }));
      return;
    }
    setPatternErr('');
    try {
      await saveSetting('always_active_pattern', p);
      toast(p ? t('count.patternSaved') : t('count.patternRemoved'));
    } catch (e) {
      setPatternErr(t('settings.couldNotSave', { error: (e as Error).message }));
    }
  };

  return (
    <details class="count-filters" data-testid="count-filters">
      <summary>
        {t('count.summary')}{active ? <span class="count-filters-on" data-testid="count-filters-on">{t('count.filtered')}</span> : null}
      </summary>
      <div class="count-filters-body">
        <label class="check-inline">
          <input type="checkbox" data-testid="filter-afk" checked={view.filterAfk} onChange={(e) => setView({ filterAfk: (e.target as HTMLInputElement).checked })} />
          {t('count.filterAfk')}
        </label>
        <label class="check-inline">
          <input
            type="checkbox"
            data-testid="filter-audible"
            checked={view.audibleActive}
            disabled={!view.filterAfk}
            onChange={(e) => setView({ audibleActive: (e.target as HTMLInputElement).checked })}
          />
          {t('count.audible')}
        </label>
        <label class="field-inline count-filters-pattern">
          {t('count.alwaysActive')}
          <input
            class="input input-sm"
            data-testid="always-active"
            placeholder={t('count.alwaysActivePlaceholder')}
            value={pattern}
            onInput={(e) => setPattern((e.target as HTMLInputElement).value)}
            onChange={savePattern}
            onKeyDown={(e) => e.key === 'Enter' && savePattern()}
          />
        </label>
        {patternErr && <div class="count-filters-err" role="alert">{patternErr}</div>}
        <fieldset class="count-filters-cats" data-testid="filter-categories">
          <legend>{t('count.onlyCategories')} {view.categories.length ? <button class="btn btn-sm" onClick={() => setView({ categories: [] })}>{t('count.showAll')}</button> : t('count.allShown')}</legend>
          {offered.map((c) => (
            <label class={'count-cat' + (chosen.has(catKey(c)) ? ' on' : '')} style={{ marginLeft: `${(c.length - 1) * 14}px` }}>
              <input type="checkbox" checked={chosen.has(catKey(c))} data-cat={catKey(c)} onChange={() => toggleCat(c)} />
              {c[c.length - 1]}
            </label>
          ))}
        </fieldset>
      </div>
    </details>
  );
}
