import { useEffect } from 'preact/hooks';
import { ComponentType } from 'preact';
import { errorMessage } from './lib/api';
import { href, navigate, useRoute } from './lib/router';
import { applyTheme, saveSetting, useStore } from './lib/store';
import { Toasts, toast } from './components/ui';
import * as I from './components/icons';
import { t, type MessageKey } from './lib/i18n';
import { ActivityPage } from './pages/Activity';
import { TimelinePage } from './pages/Timeline';
import { BucketsPage } from './pages/Buckets';
import { BucketPage } from './pages/Bucket';
import { QueryPage } from './pages/Query';
import { SettingsPage } from './pages/Settings';
import { SyncPage } from './pages/Sync';
import { StopwatchPage } from './pages/Stopwatch';
import { SearchPage } from './pages/Search';
import { ReportsPage } from './pages/Reports';
import { CategorizePage } from './pages/Categorize';

const NAV: { path: string; label: MessageKey; icon: ComponentType }[] = [
  { path: '/activity', label: 'nav.activity', icon: I.IconActivity },
  { path: '/timeline', label: 'nav.timeline', icon: I.IconTimeline },
  { path: '/search', label: 'nav.search', icon: I.IconSearch },
  { path: '/reports', label: 'nav.reports', icon: I.IconReport },
  { path: '/stopwatch', label: 'nav.stopwatch', icon: I.IconTimer },
  { path: '/buckets', label: 'nav.buckets', icon: I.IconDatabase },
  { path: '/query', label: 'nav.query', icon: I.IconCode },
  { path: '/sync', label: 'nav.sync', icon: I.IconSync },
  { path: '/settings', label: 'nav.settings', icon: I.IconSettings },
];

export function App() {
  const st = useStore();
  const { parts } = useRoute();

  useEffect(() => {
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const f = () => getTheme() === 'auto' && applyTheme('auto');
    mq.addEventListener('change', f);
    return () => mq.removeEventListener('change', f);
  }, []);

  const getTheme = () => st.settings.theme;
  const page = parts[0] || '';
  useEffect(() => {
    if (!page) navigate(st.settings.landingpage || '/activity', true);
  }, [page]);

  const toggleTheme = async () => {
    const dark = document.documentElement.dataset.theme === 'dark';
    try {
      await saveSetting('theme', dark ? 'light' : 'dark');
    } catch (e) {
      toast(t('app.themeSaveFailed', { error: errorMessage(e) }), 'error');
    }
  };

  let content;
  switch (page) {
    case 'activity': content = <ActivityPage parts={parts.slice(1)} />; break;
    case 'timeline': content = <TimelinePage />; break;
    case 'buckets': content = parts[1] ? <BucketPage id={parts[1]} /> : <BucketsPage />; break;
    case 'query': content = <QueryPage />; break;
    case 'settings': content = <SettingsPage tab={parts[1]} />; break;
    case 'sync': content = <SyncPage />; break;
    case 'stopwatch': content = <StopwatchPage />; break;
    case 'search': content = <SearchPage parts={parts.slice(1)} />; break;
    case 'reports': content = <ReportsPage parts={parts.slice(1)} />; break;
    case 'categorize': content = <CategorizePage />; break;
    case '': content = null; break;
    default: content = <div class="page"><h1>{t('app.notFound')}</h1><p class="muted">{t('app.noPage', { path: '#/' + parts.join('/') })}</p></div>;
  }

  const dark = typeof document !== 'undefined' && document.documentElement.dataset.theme === 'dark';
  return (
    <div class="shell">
      <aside class="sidebar">
        <a class="brand" href={href('/activity')}>
          <img src="./favicon.svg" alt="" width="28" height="28" />
          <span>awnode</span>
        </a>
        <nav>
          {NAV.map((n) => (
            <a href={href(n.path)} class={'nav-item' + ('/' + page === n.path ? ' active' : '')} data-nav={n.path.slice(1)}>
              <n.icon />
              <span>{t(n.label)}</span>
            </a>
          ))}
        </nav>
        <div class="sidebar-foot">
          <div class="host" title={st.info ? t('app.device', { id: st.info.device_id }) : ''}>
            <I.IconDevice />
            <div>
              <div class="host-name">{st.info?.hostname || '…'}</div>
              <div class="host-ver">{st.info ? st.info.version + (st.info.testing ? ' · ' + t('app.testing') : '') : st.error ? t('app.offline') : ''}</div>
            </div>
          </div>
          <button class="btn btn-ghost btn-icon" onClick={toggleTheme} title={dark ? t('app.lightTheme') : t('app.darkTheme')} aria-label={t('app.toggleTheme')}>
            {dark ? <I.IconSun /> : <I.IconMoon />}
          </button>
        </div>
      </aside>
      <main class="main">{content}</main>
      <Toasts />
    </div>
  );
}
