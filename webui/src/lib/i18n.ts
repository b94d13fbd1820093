// The web UI's languages: English and German, through a message catalogue (docs/webui.md,
// "Languages").
//
// Usage in a page or component:
//
//   import { t, tx, formatNumber, formatDate } from '../lib/i18n';
//
//   t('nav.activity')                        // "Activity" / "Aktivität"
//   t('buckets.delete.confirm', { id })      // "{id}" in the message is replaced by id
//   t('common.events', { n: 1234 })         // a plural message: { one, other } chosen by
//                                            // Intl.PluralRules for n; a number parameter
//                                            // is formatted for the locale ("1.234")
//   tx('settings.hint', { cmd: <code>awnode start</code> })
//                                            // the same with elements as parameters: returns
//                                            // an array of strings and those elements, for JSX
//   formatNumber(n), formatDate(d, { month: 'short' }), formatDateTime(t), formatTime(t),
//   formatAgo(t)                             // Intl in the chosen language (not the browser's
//                                            // locale when the user picked another language)
//
// Messages live in messages/en.ts (the source of truth: every key, with its English text)
// and messages/de.ts (typed as Messages, so a key missing there fails `npm run check`). Keys
// are "<page or area>.<what>"; shared words are under "common.". Translate what a user reads
// (labels, titles, aria-labels, toasts, errors); never data (bucket ids, app names, category
// names), data-testid values, file formats or API routes.
//
// The language is fixed when the page loads: an explicit choice saved in localStorage
// (awnode.language, set on the Settings page, which reloads the page), else the first of
// navigator.languages whose primary subtag is en or de, else English. Module-level constants
// calling t() are therefore safe, but calling t() in render is preferred.
import { en, type Message, type Messages } from './messages/en';
import { de } from './messages/de';

export type Lang = 'en' | 'de';
export type MessageKey = keyof typeof en;
export type Params = Record<string, string | number>;

export const LANGUAGES: { value: Lang; label: string }[] = [
  { value: 'en', label: 'English' },
  { value: 'de', label: 'Deutsch' },
];
const CATALOGUES: Record<Lang, Messages> = { en, de };
export const LANGUAGE_KEY = 'awnode.language';

const isLang = (v: unknown): v is Lang => v === 'en' || v === 'de';

/** The saved choice, or 'auto' when the browser's languages decide. */
export function languageChoice(): Lang | 'auto' {
  try {
    const v = localStorage.getItem(LANGUAGE_KEY);
    return isLang(v) ? v : 'auto';
  } catch {
    return 'auto'; // storage disabled
  }
}

function browserLanguages(): string[] {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages?.length ? [...navigator.languages] : navigator.language ? [navigator.language] : [];
}

const primary = (tag: string) => tag.toLowerCase().split(/[-_]/)[0];

function pick(): { lang: Lang; locale: string } {
  const tags = browserLanguages();
  const choice = languageChoice();
  const lang: Lang = choice !== 'auto' ? choice : (tags.map(primary).find(isLang) ?? 'en');
  // Format with the browser's own variant of that language (en-GB dates for an en-GB
  // browser), or the bare language when the browser does not list it.
  const locale = tags.find((tg) => primary(tg) === lang) ?? lang;
  return { lang, locale };
}

const chosen = pick();
if (typeof document !== 'undefined') document.documentElement.lang = chosen.lang;

/** The UI's language. */
export const language = (): Lang => chosen.lang;
/** The BCP 47 locale the UI formats numbers and dates with. */
export const locale = (): string => chosen.locale;

/** Save the choice ('auto' forgets it) and reload, so every page renders in it. */
export function setLanguage(v: Lang | 'auto', reload = true) {
  try {
    if (v === 'auto') localStorage.removeItem(LANGUAGE_KEY);
    else localStorage.setItem(LANGUAGE_KEY, v);
  } catch {
    /* storage disabled: the choice cannot be kept */
  }
  if (reload) location.reload();
}

const plurals = new Intl.PluralRules(chosen.locale);
const numbers = new Intl.NumberFormat(chosen.locale);

function message(key: MessageKey, params?: Params): string {
  const m: Message = CATALOGUES[chosen.lang][key] ?? en[key];
  if (typeof m === 'string') return m;
  const n = Number(params?.n ?? 0);
  return plurals.select(n) === 'one' ? m.one : m.other;
}

const PLACEHOLDER = /\{(\w+)\}/g;

/** The message `key` in the UI's language with its {placeholders} filled in. */
export function t(key: MessageKey, params?: Params): string {
  const m = message(key, params);
  if (!params) return m;
  return m.replace(PLACEHOLDER, (all, name: string) => {
    const v = params[name];
    return v === undefined ? all : typeof v === 'number' ? numbers.format(v) : v;
  });
}

/** t() with elements as parameters: the message split into strings and those elements. */
export function tx<E>(key: MessageKey, params: Record<string, string | number | E>): (string | E)[] {
  const m = message(key, params as Params);
  const out: (string | E)[] = [];
  let last = 0;
  for (const match of m.matchAll(PLACEHOLDER)) {
    out.push(m.slice(last, match.index));
    const v = params[match[1]];
    out.push(v === undefined ? match[0] : typeof v === 'number' ? numbers.format(v) : v);
    last = match.index! + match[0].length;
  }
  out.push(m.slice(last));
  return out.filter((x) => x !== '');
}

// ---- formatting in the chosen locale -------------------------------------------------------
export function formatNumber(n: number, o?: Intl.NumberFormatOptions): string {
  return o ? n.toLocaleString(chosen.locale, o) : numbers.format(n);
}

const asDate = (t: string | number | Date) => (t instanceof Date ? t : new Date(t));

export function formatDate(t: string | number | Date, o?: Intl.DateTimeFormatOptions): string {
  return asDate(t).toLocaleDateString(chosen.locale, o);
}

/** "Feb 3, 2025, 09:41" (time.ts's fmtDateTime in the chosen locale); "—" for none. */
export function formatDateTime(t: string | number | Date | null | undefined, withSeconds = false): string {
  if (t === null || t === undefined || t === '') return '—';
  const d = asDate(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(chosen.locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: withSeconds ? '2-digit' : undefined,
  });
}

/** Any toLocaleString in the chosen locale. */
export function formatDateTimeWith(t: string | number | Date, o: Intl.DateTimeFormatOptions): string {
  return asDate(t).toLocaleString(chosen.locale, o);
}

/** "09:41:07" (time.ts's fmtTime in the chosen locale). */
export function formatTime(t: string | number | Date, o: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', second: '2-digit' }): string {
  return asDate(t).toLocaleTimeString(chosen.locale, o);
}

/** "3 minutes ago" (time.ts's fmtAgo in the chosen language). */
export function formatAgo(t: string | null | undefined, now = Date.now()): string {
  if (!t) return message('time.never');
  const diff = (now - new Date(t).getTime()) / 1000;
  if (diff < 0) return message('time.future');
  if (diff < 60) return message('time.justNow');
  const rtf = new Intl.RelativeTimeFormat(chosen.locale, { numeric: 'auto' });
  if (diff < 3600) return rtf.format(-Math.round(diff / 60), 'minute');
  if (diff < 86400) return rtf.format(-Math.round(diff / 3600), 'hour');
  if (diff < 86400 * 60) return rtf.format(-Math.round(diff / 86400), 'day');
  if (diff < 86400 * 730) return rtf.format(-Math.round(diff / (86400 * 30)), 'month');
  return rtf.format(-Math.round(diff / (86400 * 365)), 'year');
}
