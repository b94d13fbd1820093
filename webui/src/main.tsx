import { render } from 'preact';
import { App } from './app';
import './style.css';

// Apply the remembered theme before the first render (the server's setting follows).
try {
  const t = localStorage.getItem('awnode.theme');
  if (t === 'dark' || (t !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches)) document.documentElement.dataset.theme = 'dark';
} catch {
  /* storage disabled */
}

render(<App />, document.getElementById('app')!);
