// Billing reports (the Reports page): definitions saved in the setting `awnode.reports`,
// the days of a range, the category rules a report's query uses, the table of time per
// day and column with its rounding, and the CSV export. Pure functions, so the page and
// the browser tests agree on one set of rules.
import type { Rule } from './categories';
import { addPeriod, DayOpts, logicalToday, parseYmd, period, periodStartDate, ymd } from './time';
import { t } from './i18n';

export const REPORTS_KEY = 'awnode.reports';

export type RangeKind = 'this-week' | 'last-week' | 'this-month' | 'last-month' | 'custom';
export const RANGE_KINDS: { value: RangeKind; label: string }[] = [
  { value: 'this-week', label: t('reports.range.thisWeek') },
  { value: 'last-week', label: t('reports.range.lastWeek') },
  { value: 'this-month', label: t('reports.range.thisMonth') },
  { value: 'last-month', label: t('reports.range.lastMonth') },
  { value: 'custom', label: t('reports.range.custom') },
];

export type Rounding = 'none' | '6' | '15';
export const ROUNDINGS: { value: Rounding; label: string }[] = [
  { value: 'none', label: t('reports.rounding.none') },
  { value: '6', label: t('reports.rounding.min', { n: 6 }) },
  { value: '15', label: t('reports.rounding.min', { n: 15 }) },
];

export interface Project {
  name: string;
  regex: string;
  ignore_case?: boolean;
}

export interface ReportDef {
  name: string;
  range: RangeKind;
  /** custom range: first and last day, inclusive ("YYYY-MM-DD") */
  from?: string;
  to?: string;
  /** device labels as the Activity page lists them; empty means all devices */
  devices: string[];
  mode: 'categories' | 'projects';
  /** category paths (categories mode) */
  categories: string[][];
  /** named title regexes (projects mode) */
  projects: Project[];
  rounding: Rounding;
  rate: number;
  currency: string;
}

export function emptyReport(): ReportDef {
  return { name: '', range: 'this-week', devices: [], mode: 'projects', categories: [], projects: [{ name: '', regex: '' }], rounding: 'none', rate: 0, currency: 'EUR' };
}

const isStr = (v: unknown): v is string => typeof v === 'string';

/** The saved list from the setting's value; anything malformed is left out rather than
 * breaking the page (the setting travels between devices and other versions). */
export function parseReports(v: unknown): ReportDef[] {
  if (!Array.isArray(v)) return [];
  const out: ReportDef[] = [];
  for (const x of v) {
    if (!x || typeof x !== 'object' || !isStr((x as ReportDef).name)) continue;
    const r = x as Partial<ReportDef>;
    const d = emptyReport();
    out.push({
      name: r.name!,
      range: RANGE_KINDS.some((k) => k.value === r.range) ? r.range! : d.range,
      from: isStr(r.from) ? r.from : undefined,
      to: isStr(r.to) ? r.to : undefined,
      devices: Array.isArray(r.devices) ? r.devices.filter(isStr) : [],
      mode: r.mode === 'categories' ? 'categories' : 'projects',
      categories: Array.isArray(r.categories) ? r.categories.filter((c) => Array.isArray(c) && c.every(isStr)) : [],
      projects: Array.isArray(r.projects)
        ? r.projects.filter((p) => p && isStr(p.name) && isStr(p.regex)).map((p) => ({ name: p.name, regex: p.regex, ...(p.ignore_case ? { ignore_case: true } : {}) }))
        : [],
      rounding: ROUNDINGS.some((k) => k.value === r.rounding) ? r.rounding! : 'none',
      rate: typeof r.rate === 'number' && Number.isFinite(r.rate) ? r.rate : 0,
      currency: isStr(r.currency) ? r.currency : '',
    });
  }
  return out;
}

/** The first and last logical day of a range (local calendar dates). */
export function rangeDays(def: Pick<ReportDef, 'range' | 'from' | 'to'>, o: DayOpts, now = new Date()): { first: Date; last: Date } | null {
  const today = logicalToday(o, now);
  const span = (kind: 'week' | 'month', back: number) => {
    const first = addPeriod(kind, periodStartDate(kind, today, o), -back);
    return { first, last: addPeriod('day', addPeriod(kind, first, 1), -1) };
  };
  switch (def.range) {
    case 'this-week': return span('week', 0);
    case 'last-week': return span('week', 1);
    case 'this-month': return span('month', 0);
    case 'last-month': return span('month', 1);
    case 'custom': {
      const first = parseYmd(def.from);
      const last = parseYmd(def.to);
      if (!first || !last || last < first) return null;
      // a year of days is one query with 366 periods; more is a mistake, not a report
      if ((last.getTime() - first.getTime()) / 86_400_000 > 370) return null;
      return { first, last };
    }
  }
}

export interface ReportDay {
  date: string;
  start: Date;
  end: Date;
}

/** Each logical day of the range, from the start-of-day offset to the next day's. */
export function reportDays(first: Date, last: Date, o: DayOpts): ReportDay[] {
  const out: ReportDay[] = [];
  for (let d = first; d <= last; d = addPeriod('day', d, 1)) {
    const p = period('day', d, o);
    out.push({ date: ymd(d), start: p.start, end: p.end });
  }
  return out;
}

/** The column names of a report: category paths joined with " > ", or project names. */
export function columnNames(def: ReportDef): string[] {
  return def.mode === 'categories' ? def.categories.map((c) => c.join(' > ')) : def.projects.map((p) => p.name);
}

/** The `categorize` rules of a projects report: each project a top-level category whose
 * rule looks at the title only. categorize keeps the last of equally deep matches, so the
 * rows go in reverse: a title matching several projects counts for the first row. */
export function projectRules(projects: Project[]): [string[], Rule][] {
  return projects
    .map((p, i) => [[String(i)], { type: 'regex', regex: p.regex, ...(p.ignore_case ? { ignore_case: true } : {}), select_keys: ['title'] } as Rule] as [string[], Rule])
    .filter(([, r]) => !!r.regex)
    .reverse();
}

/** Which column a categorised moment belongs to, or -1. Categories mode: the deepest picked
 * category that is the moment's category or an ancestor of it (so a picked category's
 * column holds its subcategories' time except for subcategories picked themselves, and no
 * moment counts twice). Projects mode: the project index the rules carry as the name. */
export function columnOf(def: ReportDef, category: string[]): number {
  if (def.mode === 'projects') {
    const i = category.length === 1 ? Number(category[0]) : NaN;
    return Number.isInteger(i) && i >= 0 && i < def.projects.length ? i : -1;
  }
  let best = -1;
  let depth = 0;
  def.categories.forEach((c, i) => {
    if (c.length > depth && c.length <= category.length && c.every((n, k) => n === category[k])) {
      best = i;
      depth = c.length;
    }
  });
  return best;
}

/** Seconds of one cell after rounding: up to the next multiple of the increment (a cell
 * already on a multiple, or empty, stays as it is; less than a millisecond over a multiple
 * is the query's float noise, not time worked). */
export function roundCell(sec: number, rounding: Rounding): number {
  if (rounding === 'none' || sec <= 0) return Math.max(0, sec);
  const inc = Number(rounding) * 60;
  return Math.ceil((sec - 0.001) / inc) * inc;
}

export interface ReportTable {
  days: ReportDay[];
  columns: string[];
  /** [day][column] seconds, rounded */
  cells: number[][];
  rowTotals: number[];
  colTotals: number[];
  total: number;
  /** rate × hours per column and in all */
  colAmounts: number[];
  amount: number;
}

/** The table from the raw seconds per day and column: each cell rounded, then the totals
 * summed from the rounded cells; amounts are the rate times those hours. */
export function buildTable(def: ReportDef, days: ReportDay[], raw: number[][]): ReportTable {
  const columns = columnNames(def);
  const cells = raw.map((row) => columns.map((_, j) => roundCell(row[j] || 0, def.rounding)));
  const rowTotals = cells.map((r) => r.reduce((a, b) => a + b, 0));
  const colTotals = columns.map((_, j) => cells.reduce((a, r) => a + r[j], 0));
  const total = colTotals.reduce((a, b) => a + b, 0);
  const rate = Number.isFinite(def.rate) ? def.rate : 0;
  return { days, columns, cells, rowTotals, colTotals, total, colAmounts: colTotals.map((s) => (s / 3600) * rate), amount: (total / 3600) * rate };
}

/** "7:05": hours and minutes, the minutes rounded to the nearest. */
export function fmtHM(sec: number): string {
  const m = Math.round(sec / 60);
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

export const fmtHours = (sec: number) => (sec / 3600).toFixed(2);
export const fmtAmount = (v: number) => v.toFixed(2);

/** One CSV field as RFC 4180 wants it: quoted when it holds a comma, quote or line break,
 * with quotes doubled. */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** The CSV export: a header, one line per day and column with time (after rounding), then
 * one line for the grand total; lines end in CRLF. */
export function reportCsv(def: ReportDef, t: ReportTable): string {
  const lines = [['date', 'item', 'seconds', 'hours', 'rate', 'amount', 'currency']];
  const sec = (s: number) => (Number.isInteger(s) ? String(s) : s.toFixed(3));
  t.days.forEach((d, i) =>
    t.columns.forEach((c, j) => {
      const s = t.cells[i][j];
      if (s > 0) lines.push([d.date, c, sec(s), (s / 3600).toFixed(4), String(def.rate), fmtAmount((s / 3600) * def.rate), def.currency]);
    }),
  );
  lines.push(['total', '', sec(t.total), (t.total / 3600).toFixed(4), String(def.rate), fmtAmount(t.amount), def.currency]);
  return lines.map((l) => l.map(csvField).join(',')).join('\r\n') + '\r\n';
}
