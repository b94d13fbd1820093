import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useListeners, type Listeners } from '../lib/subscribe';
import { fmtDuration } from '../lib/time';
import * as I from './icons';
// `t` names a toast in this file, so the messages are `tr`
import { t as tr } from '../lib/i18n';

export function Card(props: {
  title?: ComponentChildren;
  subtitle?: ComponentChildren;
  actions?: ComponentChildren;
  children?: ComponentChildren;
  class?: string;
  testId?: string;
  span?: 1 | 2 | 3;
}) {
  return (
    <section class={`card ${props.span ? 'span-' + props.span : ''} ${props.class || ''}`} data-testid={props.testId}>
      {(props.title || props.subtitle || props.actions) && (
        <header class="card-head">
          <div>
            {props.title && <h3>{props.title}</h3>}
            {props.subtitle && <div class="card-sub">{props.subtitle}</div>}
          </div>
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </header>
      )}
      <div class="card-body">{props.children}</div>
    </section>
  );
}

export function Badge({ kind = 'neutral', children, title }: { kind?: string; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${kind}`} title={title}>
      {children}
    </span>
  );
}

export function Spinner({ label }: { label?: string }) {
  return (
    <div class="spinner-wrap" role="status">
      <span class="spinner" />
      {label && <span class="muted">{label}</span>}
    </div>
  );
}

export function Skeleton({ rows = 5 }: { rows?: number }) {
  return (
    <div class="skeleton" aria-busy="true">
      {Array.from({ length: rows }, (_, i) => (
        <div class="sk-row" style={{ width: `${90 - i * 12}%` }} />
      ))}
    </div>
  );
}

export function ErrorBox({ error, title = tr('common.somethingWrong') }: { error: unknown; title?: string }) {
  if (!error) return null;
  const msg = error instanceof Error ? error.message : String(error);
  return (
    <div class="alert alert-error" role="alert">
      <strong>{title}</strong>
      <div class="mono">{msg}</div>
    </div>
  );
}

type IconComponent = () => JSX.Element;

// Pages name their empty-state icon by the character they used to draw it with; those
// characters need an emoji or symbol font the system may lack (they rendered as boxes), so
// each is drawn as an inline SVG instead.
const EMPTY_ICONS: Record<string, IconComponent> = {
  '⏱': I.IconTimer,
  '✎': I.IconEdit,
  '🛡': I.IconShield,
  '⛁': I.IconDatabase,
  '◔': I.IconActivity,
  '⌁': I.IconTimeline,
};

export function Empty({ children, icon }: { children: ComponentChildren; icon?: string | IconComponent }) {
  const Icon = typeof icon === 'function' ? icon : (icon && EMPTY_ICONS[icon]) || I.IconInbox;
  return (
    <div class="empty">
      <div class="empty-icon"><Icon /></div>
      <div>{children}</div>
    </div>
  );
}

export function pct(v: number, total: number): string {
  const p = (v / (total || 1)) * 100;
  return p > 0 && p < 1 ? '<1%' : `${Math.round(p)}%`;
}

export interface TopItem {
  key: string;
  label: ComponentChildren;
  sub?: ComponentChildren;
  value: number;
  color: string;
  title?: string;
}

/** Ranked list with proportional bars. */
export function TopList({ items, total, limit = 10, testId, empty = tr('ui.noData') }: {
  items: TopItem[];
  total?: number;
  limit?: number;
  testId?: string;
  empty?: string;
}) {
  const [expanded, setExpanded] = useState(false);
  if (!items.length) return <Empty>{empty}</Empty>;
  const max = items[0].value || 1;
  const shown = expanded ? items : items.slice(0, limit);
  return (
    <div class="toplist" data-testid={testId}>
      {shown.map((it) => (
        <div class="tl-row" key={it.key} title={it.title}>
          <div class="tl-bar" style={{ width: `${Math.max(0.5, (it.value / max) * 100)}%`, background: it.color }} />
          <div class="tl-text">
            <span class="tl-dot" style={{ background: it.color }} />
            <span class="tl-label">{it.label}</span>
            {it.sub && <span class="tl-sub">{it.sub}</span>}
          </div>
          <div class="tl-value">
            <span class="tl-dur" data-seconds={it.value}>{fmtDuration(it.value)}</span>
            {total ? <span class="tl-pct">{pct(it.value, total)}</span> : null}
          </div>
        </div>
      ))}
      {items.length > limit && (
        <button class="btn btn-ghost btn-sm tl-more" onClick={() => setExpanded(!expanded)}>
          {expanded ? tr('ui.showLess') : tr('ui.showMore', { n: Math.min(items.length, 100) - limit })}
        </button>
      )}
    </div>
  );
}

export function Segmented<T extends string>({ value, options, onChange, testId }: {
  value: T;
  options: { value: T; label: ComponentChildren }[];
  onChange: (v: T) => void;
  testId?: string;
}) {
  return (
    <div class="segmented" role="tablist" data-testid={testId}>
      {options.map((o) => (
        <button
          role="tab"
          aria-selected={o.value === value}
          class={o.value === value ? 'active' : ''}
          onClick={() => onChange(o.value)}
          data-value={o.value}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}

/** What Tab can reach inside a dialog, in document order. */
const TABBABLE = 'button:not([disabled]):not([hidden]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), a[href], [tabindex]:not([tabindex="-1"])';

/** A dialog over the page. While it is open the keyboard stays in it: Tab and Shift+Tab
 * go round its controls, the focus moves into it when it opens (onto the dialog itself,
 * unless the content has put it on one of its controls), Escape closes it, and the focus
 * goes back to where it was when it opened (the button that opened it) when that is still
 * on the page. */
export function Modal({ title, children, onClose, footer, wide }: {
  title: ComponentChildren;
  children: ComponentChildren;
  onClose: () => void;
  footer?: ComponentChildren;
  wide?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  // read during the first render, before any effect has moved the focus
  const opener = useRef<Element | null>(null);
  if (opener.current === null) opener.current = document.activeElement;
  useEffect(() => {
    const k = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', k);
    return () => window.removeEventListener('keydown', k);
  }, [onClose]);
  useEffect(() => {
    const dialog = box.current;
    if (!dialog) return;
    // Listened for on the document, in the capture phase: a Tab from wherever the focus
    // still is (the content may move it in only once it has loaded) lands in the dialog.
    const trap = (e: KeyboardEvent) => {
      if (e.key !== 'Tab') return;
      const all = [...dialog.querySelectorAll<HTMLElement>(TABBABLE)];
      if (!all.length) return;
      const first = all[0], last = all[all.length - 1];
      if (!dialog.contains(document.activeElement) || document.activeElement === dialog) {
        e.preventDefault();
        (e.shiftKey ? last : first).focus();
      } else if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    };
    document.addEventListener('keydown', trap, true);
    if (!dialog.contains(document.activeElement)) dialog.focus();
    const back = opener.current;
    return () => {
      document.removeEventListener('keydown', trap, true);
      // only when nothing else has taken the focus since (a page that moves it on close)
      const now = document.activeElement;
      if (back instanceof HTMLElement && back.isConnected && (!now || now === document.body || dialog.contains(now))) back.focus();
    };
  }, []);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={box} class={`modal ${wide ? 'modal-wide' : ''}`} role="dialog" aria-modal="true" tabIndex={-1}>
        <header class="modal-head">
          <h3>{title}</h3>
          <button class="btn btn-ghost btn-icon" aria-label={tr('common.close')} onClick={onClose}>
            <I.IconClose />
          </button>
        </header>
        <div class="modal-body">{children}</div>
        {footer && <footer class="modal-foot">{footer}</footer>}
      </div>
    </div>
  );
}

/** One labelled value of a details grid (bucket metadata, sync status), with an optional
 * hint line below it in `hintClass` (added to "stat-hint"). */
export function Meta({ label, value, hint, hintClass }: { label: string; value: string; hint?: string; hintClass?: string }) {
  return (
    <div class="meta">
      <div class="stat-label">{label}</div>
      <div class="meta-value">{value}</div>
      {hint && <div class={hintClass ? `stat-hint ${hintClass}` : 'stat-hint'}>{hint}</div>}
    </div>
  );
}

// ---- toasts ---------------------------------------------------------------------------
/** A button in a toast (e.g. Undo): runs once, then the toast closes. */
export interface ToastAction {
  label: string;
  run: () => void | Promise<void>;
}
type Toast = { id: number; text: string; kind: 'ok' | 'error' | 'info'; action?: ToastAction; focus?: boolean; returnFocus?: () => HTMLElement | null; testId?: string };
let toasts: Toast[] = [];
const currentToasts = () => toasts;
const toastListeners: Listeners = new Set();
const toastTimers = new Map<number, ReturnType<typeof setTimeout>>();
let toastId = 0;
const notify = () => toastListeners.forEach((l) => l());
// A toast with a button stays longer: the button must be reachable in time by keyboard
// and screen-reader users, not only by a quick mouse.
const toastLife = (t: Toast) => (t.action ? 10000 : t.kind === 'error' ? 7000 : 3500);

function dismissToast(id: number) {
  clearTimeout(toastTimers.get(id));
  toastTimers.delete(id);
  const t = toasts.find((x) => x.id === id);
  if (!t) return;
  // a keyboard user inside the toast must not be dropped onto <body> when it goes away
  const el = document.querySelector(`[data-toast="${id}"]`);
  const hadFocus = !!el && el.contains(document.activeElement);
  toasts = toasts.filter((x) => x.id !== id);
  notify();
  if (hadFocus) t.returnFocus?.()?.focus();
}

function armToast(t: Toast, ms = toastLife(t)) {
  clearTimeout(toastTimers.get(t.id));
  toastTimers.set(t.id, setTimeout(() => dismissToast(t.id), ms));
}

/** Show a toast; with `action`, it carries that button (focused when `focus`), and stays
 * while the pointer or the focus is on it. Returns its id. */
export function toast(text: string, kind: Toast['kind'] = 'ok', more: Pick<Toast, 'action' | 'focus' | 'returnFocus' | 'testId'> = {}): number {
  const t: Toast = { id: ++toastId, text, kind, ...more };
  toasts = [...toasts, t];
  notify();
  armToast(t);
  return t.id;
}

function ToastView({ t }: { t: Toast }) {
  const [busy, setBusy] = useState(false);
  const btn = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (t.focus) btn.current?.focus();
  }, []);
  const hold = () => clearTimeout(toastTimers.get(t.id));
  const release = () => armToast(t, 4000);
  // Keyboard focus holds the toast; the focus a mouse click sends here does not, or the
  // toast would stay until the user clicked elsewhere.
  const focusHold = (e: FocusEvent) => (e.target as HTMLElement).matches(':focus-visible') && hold();
  return (
    <div class={`toast toast-${t.kind}`} data-toast={t.id} data-testid={t.testId} role={t.kind === 'error' ? 'alert' : undefined}
      onMouseEnter={hold} onMouseLeave={release} onFocusIn={focusHold} onFocusOut={release}
      onKeyDown={(e) => e.key === 'Escape' && dismissToast(t.id)}>
      <span class="toast-text">{t.text}</span>
      {t.action && (
        <>
          <button ref={btn} class="btn btn-sm toast-action" disabled={busy} onClick={async () => {
            setBusy(true);
            try {
              await t.action!.run();
            } finally {
              dismissToast(t.id);
            }
          }}>{t.action.label}</button>
          <button class="btn btn-ghost btn-icon btn-xs" aria-label={tr('common.dismiss')} onClick={() => dismissToast(t.id)}><I.IconClose /></button>
        </>
      )}
    </div>
  );
}

export function Toasts() {
  useListeners(toastListeners, currentToasts);
  return (
    <div class="toasts" aria-live="polite">
      {toasts.map((t) => <ToastView t={t} key={t.id} />)}
    </div>
  );
}

/** Trigger a browser download of text content. */
export function download(name: string, text: string, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
