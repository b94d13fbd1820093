// The Activity page's views (as aw-webui's "views"): named lists of the cards to show, in
// order, each card with a width (a third, two thirds or the whole row, as aw-webui's
// element sizes). They are kept in the node's settings under VIEWS_KEY, so they travel with the
// settings to the other devices (docs/webui.md); a card id this UI does not know (a
// removed card, a newer UI's) is left out when read, and a missing or unreadable setting
// means the default views.
import { t } from './i18n';

export const VIEWS_KEY = 'awnode.activity.views';

export type CardId =
  | 'bars' | 'devices' | 'apps' | 'categories' | 'titles' | 'domains' | 'urls' | 'browser-titles'
  | 'editor-projects' | 'editor-files' | 'editor-languages';

/** Every card, in the default order, with its name and when it has something to show (in
 * the UI's language, which is fixed when the page loads). */
export const CARDS: { id: CardId; name: string; note?: string }[] = [
  { id: 'bars', name: t('views.card.bars') },
  { id: 'devices', name: t('views.card.devices'), note: t('views.note.allDevices') },
  { id: 'apps', name: t('views.card.apps') },
  { id: 'categories', name: t('views.card.categories') },
  { id: 'titles', name: t('views.card.titles') },
  { id: 'domains', name: t('views.card.domains') },
  { id: 'urls', name: t('views.card.urls') },
  { id: 'browser-titles', name: t('views.card.browserTitles') },
  { id: 'editor-projects', name: t('views.card.projects'), note: t('views.note.editor') },
  { id: 'editor-files', name: t('views.card.files'), note: t('views.note.editor') },
  { id: 'editor-languages', name: t('views.card.languages'), note: t('views.note.editor') },
];
const KNOWN = new Set<string>(CARDS.map((c) => c.id));
export const cardName = (id: CardId) => CARDS.find((c) => c.id === id)?.name || id;

/** A card's width in columns of the page's three-column grid (narrower screens have two
 * columns or one, and a card never gets more than the row). */
export type CardWidth = 1 | 2 | 3;
export const WIDTHS: CardWidth[] = [1, 2, 3];

// Each card's width when its view does not set one: the page's layout before views.
const DEFAULT_WIDTH: Record<CardId, CardWidth> = {
  bars: 3, devices: 3, apps: 1, categories: 2, titles: 2, domains: 1, urls: 2, 'browser-titles': 1,
  'editor-projects': 1, 'editor-files': 1, 'editor-languages': 1,
};

export interface ActivityView {
  id: string;
  name: string;
  cards: CardId[];
  /** Widths chosen by the user; a card not named here has its default width. Stored only
   * when some card has one, so a view saved by an older UI reads the same. */
  widths?: Partial<Record<CardId, CardWidth>>;
}

/** The width `view` gives card `id`. */
export function cardWidth(view: ActivityView, id: CardId): CardWidth {
  return view.widths?.[id] ?? DEFAULT_WIDTH[id];
}

/** `view` with card `id` at width `w`: the default width is not stored. */
export function withWidth(view: ActivityView, id: CardId, w: CardWidth): ActivityView {
  const widths = { ...view.widths };
  if (w === DEFAULT_WIDTH[id]) delete widths[id];
  else widths[id] = w;
  const next: ActivityView = { ...view, widths };
  if (!Object.keys(widths).length) delete next.widths;
  return next;
}

/** The default views: Summary is every card (the page as it was before views), the
 * others aw-webui's Window, Browser and Editor views. */
export const DEFAULT_VIEWS: ActivityView[] = [
  { id: 'summary', name: 'Summary', cards: CARDS.map((c) => c.id) },
  { id: 'window', name: 'Window', cards: ['bars', 'apps', 'titles', 'categories'] },
  { id: 'browser', name: 'Browser', cards: ['domains', 'urls', 'browser-titles'] },
  { id: 'editor', name: 'Editor', cards: ['editor-projects', 'editor-files', 'editor-languages'] },
];

// The default views' names as shown: their stored names are English (they travel to other
// devices and to aw-webui), so a default view still under its default name is shown in the
// UI's language; a name the user gave is data and shown as stored.
const DEFAULT_NAMES: Record<string, Parameters<typeof t>[0]> = {
  summary: 'views.view.summary', window: 'views.view.window', browser: 'views.view.browser', editor: 'views.view.editor',
};

/** The name to show for a view. */
export function viewName(v: ActivityView): string {
  const key = DEFAULT_NAMES[v.id];
  return key && v.name === DEFAULT_VIEWS.find((d) => d.id === v.id)?.name ? t(key) : v.name;
}

/** A default view's cards, or (a view the user added) every card. */
export function defaultCards(id: string): CardId[] {
  return [...(DEFAULT_VIEWS.find((v) => v.id === id)?.cards || CARDS.map((c) => c.id))];
}

/** The views a stored setting describes: known card ids only, each once; widths only for
 * known cards and only 1, 2 or 3; views without an id are dropped, a missing name becomes
 * the id. Not a list, or none left: the defaults. */
export function parseViews(raw: unknown): ActivityView[] {
  if (!Array.isArray(raw)) return DEFAULT_VIEWS;
  const out: ActivityView[] = [];
  for (const v of raw) {
    if (!v || typeof v !== 'object') continue;
    const o = v as Record<string, unknown>;
    const id = typeof o.id === 'string' ? o.id.trim() : '';
    if (!id || out.some((x) => x.id === id)) continue;
    const cards = Array.isArray(o.cards) ? o.cards.filter((c): c is CardId => typeof c === 'string' && KNOWN.has(c)) : [];
    const view: ActivityView = { id, name: typeof o.name === 'string' && o.name.trim() ? o.name.trim() : id, cards: [...new Set(cards)] };
    const widths = parseWidths(o.widths);
    out.push(widths ? { ...view, widths } : view);
  }
  return out.length ? out : DEFAULT_VIEWS;
}

function parseWidths(raw: unknown): Partial<Record<CardId, CardWidth>> | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const out: Partial<Record<CardId, CardWidth>> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>))
    if (KNOWN.has(k) && (v === 1 || v === 2 || v === 3)) out[k as CardId] = v;
  return Object.keys(out).length ? out : undefined;
}

/** `cards` with `id` moved `by` places (-1 up, +1 down), unchanged at the ends. */
export function moveCard(cards: CardId[], id: CardId, by: number): CardId[] {
  const i = cards.indexOf(id);
  const j = i + by;
  if (i < 0 || j < 0 || j >= cards.length) return cards;
  const r = [...cards];
  [r[i], r[j]] = [r[j], r[i]];
  return r;
}

/** The shown cards, then the hidden ones in the default order: the rows of the editor. */
export function editorRows(cards: CardId[]): { id: CardId; shown: boolean }[] {
  return [...cards.map((id) => ({ id, shown: true })), ...CARDS.filter((c) => !cards.includes(c.id)).map((c) => ({ id: c.id, shown: false }))];
}

/** A new view's id from its name ("Deep work" -> "deep-work", "deep-work-2" when taken). */
export function newViewId(name: string, views: ActivityView[]): string {
  const base = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'view';
  let id = base;
  for (let n = 2; views.some((v) => v.id === id); n++) id = `${base}-${n}`;
  return id;
}
