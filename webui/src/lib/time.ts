// Periods in the user's local time zone (with ActivityWatch's start-of-day offset);
// everything sent to the server is UTC ISO 8601. What is shown (period names, labels,
// dates) is in the UI's language through lib/i18n.ts; files keep fixed formats of their own
// (lib/report.ts writes its CSV without these functions).
import { formatAgo, formatDate, formatDateTime, formatNumber, formatTime, t } from './i18n';

export type PeriodKind = 'day' | 'week' | 'month' | 'year' | 'last7d' | 'last30d';
export const PERIODS: PeriodKind[] = ['day', 'week', 'month', 'year', 'last7d', 'last30d'];

/** Rolling periods (aw-webui's `last7d`, `last30d`): that many logical days ending with the
 * date given (in a route, the period's last day), so they move by their own length. */
export const ROLLING_DAYS: Partial<Record<PeriodKind, number>> = { last7d: 7, last30d: 30 };
export const isRolling = (k: PeriodKind): boolean => !!ROLLING_DAYS[k];

/** Short names for the period choices ("Day", …, "7 days"), in the UI's language (fixed
 * when the page loads). */
export const PERIOD_NAMES: Record<PeriodKind, string> = {
  day: t('period.day'), week: t('period.week'), month: t('period.month'), year: t('period.year'),
  last7d: t('period.last7d'), last30d: t('period.last30d'),
};

export interface Period {
  kind: PeriodKind;
  start: Date;
  end: Date;
}

export interface DayOpts {
  startOfDay: string; // "HH:MM", e.g. "04:00"
  startOfWeek: string; // "Monday" | "Sunday"
}

export function offsetMinutes(startOfDay: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(startOfDay || '');
  return m ? Math.min(23, +m[1]) * 60 + Math.min(59, +m[2]) : 0;
}

/** Local calendar date "YYYY-MM-DD" of a Date. */
export function ymd(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function parseYmd(s: string | undefined): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  if (!m) return null;
  return new Date(+m[1], +m[2] - 1, +m[3]);
}

/** The logical "today" (before the start-of-day offset it is still yesterday). */
export function logicalToday(o: DayOpts, now = new Date()): Date {
  const off = offsetMinutes(o.startOfDay);
  const t = new Date(now.getTime() - off * 60_000);
  return new Date(t.getFullYear(), t.getMonth(), t.getDate());
}

function atOffset(d: Date, off: number): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate(), 0, off);
}

/** Calendar start date (local midnight) of the period containing `date` (a rolling
 * period's: the one ending with `date`). */
export function periodStartDate(kind: PeriodKind, date: Date, o: DayOpts): Date {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const rolling = ROLLING_DAYS[kind];
  if (rolling) d.setDate(d.getDate() - (rolling - 1));
  else if (kind === 'week') {
    const first = o.startOfWeek === 'Sunday' ? 0 : 1;
    const back = (d.getDay() - first + 7) % 7;
    d.setDate(d.getDate() - back);
  } else if (kind === 'month') d.setDate(1);
  else if (kind === 'year') d.setMonth(0, 1);
  return d;
}

export function addPeriod(kind: PeriodKind, d: Date, n: number): Date {
  const r = new Date(d);
  const rolling = ROLLING_DAYS[kind];
  if (kind === 'day') r.setDate(r.getDate() + n);
  else if (rolling) r.setDate(r.getDate() + rolling * n);
  else if (kind === 'week') r.setDate(r.getDate() + 7 * n);
  else if (kind === 'month') r.setMonth(r.getMonth() + n);
  else r.setFullYear(r.getFullYear() + n);
  return r;
}

export function period(kind: PeriodKind, date: Date, o: DayOpts): Period {
  const off = offsetMinutes(o.startOfDay);
  const s = periodStartDate(kind, date, o);
  const e = addPeriod(kind, s, 1);
  return { kind, start: atOffset(s, off), end: atOffset(e, off) };
}

/** The date naming the period `n` periods after the one `date` names (a route's date):
 * a calendar period's first day, a rolling period's last day. */
export function stepPeriod(kind: PeriodKind, date: Date, n: number, o: DayOpts): Date {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  return isRolling(kind) ? addPeriod(kind, d, n) : addPeriod(kind, periodStartDate(kind, d, o), n);
}

/** The periods next to the one `date` names, for a strip of neighbours: `count` of them,
 * the current one in the middle, but none that starts after `now` (so today's period is
 * last when it is shown). Each with the date naming it (as stepPeriod) and its offset. */
export function neighbourPeriods(kind: PeriodKind, date: Date, o: DayOpts, count = 7, now = new Date()): { date: Date; period: Period; offset: number }[] {
  const after = Math.floor(count / 2);
  const all: { date: Date; period: Period; offset: number }[] = [];
  for (let k = -(count - 1); k <= after; k++) {
    const d = stepPeriod(kind, date, k, o);
    const p = period(kind, d, o);
    if (k > 0 && p.start > now) break;
    all.push({ date: d, period: p, offset: k });
  }
  return all.slice(-count);
}

/** Sub-periods for the bar chart: hours of a day, days of a week/month/rolling period,
 * months of a year. A month's (and the last 30 days') day labels are two lines (day
 * number, weekday). */
export function subPeriods(p: Period, o: DayOpts): { start: Date; end: Date; label: string }[] {
  const off = offsetMinutes(o.startOfDay);
  const out: { start: Date; end: Date; label: string }[] = [];
  if (p.kind === 'day') {
    for (let h = 0; h < 24; h++) {
      const s = new Date(p.start.getTime());
      s.setHours(s.getHours() + h);
      const e = new Date(s.getTime());
      e.setHours(e.getHours() + 1);
      out.push({ start: s, end: e, label: `${String(s.getHours()).padStart(2, '0')}:${String(s.getMinutes()).padStart(2, '0')}` });
    }
    return out;
  }
  const unit: PeriodKind = p.kind === 'year' ? 'month' : 'day';
  let d = new Date(p.start.getFullYear(), p.start.getMonth(), p.start.getDate());
  const endDay = new Date(p.end.getFullYear(), p.end.getMonth(), p.end.getDate());
  while (d < endDay) {
    const n = addPeriod(unit, d, 1);
    const label =
      unit === 'month'
        ? formatDate(d, { month: 'short' })
        : p.kind === 'week' || p.kind === 'last7d'
          ? formatDate(d, { weekday: 'short', day: 'numeric' })
          : // a month's bars: the day over its weekday, so weeks can be told apart
            `${d.getDate()}\n${formatDate(d, { weekday: 'short' })}`;
    out.push({ start: atOffset(d, off), end: atOffset(n, off), label });
    d = n;
  }
  return out;
}

export function iso(d: Date): string {
  return d.toISOString();
}

export function periodString(start: Date, end: Date): string {
  return `${iso(start)}/${iso(end)}`;
}

export function periodLabel(p: Period, o: DayOpts): string {
  // (p.start is already a rolling period's first day)
  const s = isRolling(p.kind) ? new Date(p.start.getFullYear(), p.start.getMonth(), p.start.getDate()) : periodStartDate(p.kind, p.start, o);
  switch (p.kind) {
    case 'day':
      return formatDate(s, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
    case 'week':
      return dayRange(s, addPeriod('day', addPeriod('week', s, 1), -1));
    case 'month':
      return formatDate(s, { month: 'long', year: 'numeric' });
    case 'year':
      return String(s.getFullYear());
    case 'last7d':
    case 'last30d':
      return t('period.rolling', { name: PERIOD_NAMES[p.kind], range: dayRange(s, addPeriod('day', addPeriod(p.kind, s, 1), -1)) });
  }
}

/** "Nov 30 – Dec 6, 2026" (the first year only when it differs; "30. Nov. – 6. Dez. 2026"
 * in German). */
export function dayRange(s: Date, e: Date): string {
  const sameYear = s.getFullYear() === e.getFullYear();
  return `${formatDate(s, { month: 'short', day: 'numeric', year: sameYear ? undefined : 'numeric' })} – ${formatDate(e, { month: 'short', day: 'numeric', year: 'numeric' })}`;
}

/** "3h 12m", "12m 5s", "42s". */
export function fmtDuration(sec: number, precise = false): string {
  if (!Number.isFinite(sec) || sec <= 0) return '0s';
  const s = Math.round(sec);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const hh = d * 24 + h;
  if (hh > 0) return precise ? `${hh}h ${m}m ${r}s` : `${hh}h ${m}m`;
  if (m > 0) return `${m}m ${r}s`;
  if (sec < 1) return `${sec.toFixed(2)}s`;
  return `${r}s`;
}

/** Hours with one decimal, e.g. "7.4 h" for charts ("7,4 h" in German). */
export function fmtHours(sec: number): string {
  const d = sec < 36000 ? 1 : 0;
  return `${formatNumber(sec / 3600, { minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: false })} h`;
}

/** "Feb 3, 2025, 09:41" in the UI's language (i18n.ts's formatDateTime); "—" for none. */
export function fmtDateTime(t: string | Date | null | undefined, withSeconds = false): string {
  return formatDateTime(t, withSeconds);
}

/** "09:41:07" in the UI's language. */
export function fmtTime(t: string | Date): string {
  return formatTime(t);
}

/** "3 minutes ago", "2 days ago" in the UI's language. */
export function fmtAgo(t: string | null | undefined, now = Date.now()): string {
  return formatAgo(t, now);
}

/** Value for <input type="datetime-local"> in local time. */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${ymd(d)}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
