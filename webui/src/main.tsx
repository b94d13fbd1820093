import { render } from 'preact';
import { App } from './app';
import { loadBuckets, loadInfo, loadSettings } from './lib/store';
import './style.css';

// Ask the node for what every page needs before the first render rather than from an
// effect after it: effects run after the first paint, and these answers gate the
// Activity page's queries (docs/webui.md, "Building", "Speed").
loadInfo();
loadBuckets();
loadSettings();

// Apply the remembered theme before the first render (the server's setting follows).
try {
  const t = localStorage.getItem('awnode.theme');
  if (t === 'dark' || (t !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches)) document.documentElement.dataset.theme = 'dark';
} catch {
  /* storage disabled */
}

render(<App />, document.getElementById('app')!);
