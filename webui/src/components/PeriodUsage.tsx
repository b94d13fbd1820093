// A strip of neighbouring periods' active time (aw-webui's PeriodUsage), above the
// Activity page's cards: one button per period, its bar as tall as its share of the
// busiest period's time, the current one marked; a button opens its period. The figures
// come from one query with a timeperiod per period (the Activity page runs it).
import { fmtDuration } from '../lib/time';
import { formatNumber, t } from '../lib/i18n';
import '../pages/activity.css';

export interface UsagePeriod {
  /** the route date naming the period (YYYY-MM-DD) */
  key: string;
  /** short label under the bar ("Mon 30", "Dec", "2026") */
  label: string;
  /** full name for the tooltip and screen readers */
  title: string;
  seconds: number | null;
  current: boolean;
}

/** A short figure for a narrow column: "0", "45m", "2.7h", "12h" (the decimal separator
 * the UI's language's: "2,7h" in German). */
export function shortDuration(sec: number): string {
  if (!(sec > 0)) return '0';
  if (sec < 3600) return `${Math.max(1, Math.round(sec / 60))}m`;
  const d = sec < 36000 ? 1 : 0;
  return `${formatNumber(sec / 3600, { minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: false })}h`;
}

export function PeriodUsage({ periods, onPick, error }: { periods: UsagePeriod[]; onPick: (key: string) => void; error?: boolean }) {
  const max = Math.max(0, ...periods.map((p) => p.seconds || 0));
  return (
    <nav class="period-usage" data-testid="period-usage" aria-label={t('activity.usage')}>
      {periods.map((p) => {
        const frac = p.seconds !== null && max > 0 ? p.seconds / max : 0;
        const dur = p.seconds === null ? (error ? '—' : '…') : fmtDuration(p.seconds);
        const short = p.seconds === null ? (error ? '—' : '…') : shortDuration(p.seconds);
        return (
          <button
            type="button"
            class={'pu-item' + (p.current ? ' pu-current' : '')}
            aria-current={p.current ? 'true' : undefined}
            aria-label={`${p.title}: ${dur}`}
            title={`${p.title}: ${dur}`}
            data-date={p.key}
            data-seconds={p.seconds ?? undefined}
            onClick={() => onPick(p.key)}
          >
            <span class="pu-track" aria-hidden="true">
              <span class="pu-bar" data-frac={frac.toFixed(4)} style={{ height: `${(frac * 100).toFixed(2)}%` }} />
            </span>
            <span class="pu-label">{p.label}</span>
            <span class="pu-dur">{short}</span>
          </button>
        );
      })}
    </nav>
  );
}
