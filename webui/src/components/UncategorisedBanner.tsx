// A banner saying how much of a period's time no category covers, leading to the category
// builder (#/categorize). Meant for the Activity page's summary:
//
//   <UncategorisedBanner uncategorized={seconds in ["Uncategorized"]} total={active seconds} />
//
// It renders nothing when there is no time or the uncategorised share is below `minShare`
// (default 0.2), so a well-categorised period stays quiet. Styles live in
// pages/categorize.css (bundled with every page).
import { href } from '../lib/router';
import { fmtDuration } from '../lib/time';
import { t, tx } from '../lib/i18n';
import '../pages/categorize.css';

export interface UncategorisedBannerProps {
  /** seconds of the period whose category is ["Uncategorized"] */
  uncategorized: number;
  /** all active seconds of the period */
  total: number;
  /** the share (0..1) from which the banner shows; default 0.2 */
  minShare?: number;
}

export function UncategorisedBanner({ uncategorized, total, minShare = 0.2 }: UncategorisedBannerProps) {
  if (!(total > 0) || !(uncategorized > 0) || uncategorized / total < minShare) return null;
  const share = Math.round((uncategorized / total) * 100);
  return (
    <div class="uncat-banner" role="note" data-testid="uncat-banner">
      <p>
        {tx('activity.uncatBanner', { time: <strong>{fmtDuration(uncategorized)}</strong>, pct: share })}
      </p>
      <a class="btn btn-sm" href={href('/categorize')} data-testid="uncat-banner-link">{t('activity.uncatBuild')}</a>
    </div>
  );
}
