// The Activity page's "Edit view" panel: which cards the current view shows and in what
// order (show/hide, move up/down, width, reset to the view's default), and adding or deleting
// views. Every change is saved at once to the node's settings (lib/views.ts).
import { useState } from 'preact/hooks';
import { errorMessage } from '../lib/api';
import { saveActivityViews } from '../lib/store';
import { ActivityView, CardId, CardWidth, CARDS, cardName, cardWidth, defaultCards, editorRows, moveCard, newViewId, viewName, WIDTHS, withWidth } from '../lib/views';
import { t } from '../lib/i18n';
import { Card, toast } from './ui';
import * as I from './icons';

// up and down arrows in the style of ./icons (24×24 stroke, currentColor)
const arrow = (d: string) => () => (
  <svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    <path d={d} />
  </svg>
);
const IconUp = arrow('M6 15l6-6 6 6');
const IconDown = arrow('M6 9l6 6 6-6');

export function ViewEditor({ views, view, onClose, onOpenView }: {
  views: ActivityView[];
  view: ActivityView;
  onClose: () => void;
  onOpenView: (id: string) => void;
}) {
  const [name, setName] = useState('');
  // (the page keys this panel by view, so a newly opened view starts with its own name; a
  // default view under its default name starts with that name in the UI's language, and
  // is renamed only when the user changes it)
  const shownName = viewName(view);
  const [title, setTitle] = useState(shownName);
  const save = (next: ActivityView[]) =>
    saveActivityViews(next).catch((e) => toast(t('views.saveFailed', { error: errorMessage(e) }), 'error'));
  const setView = (next: ActivityView) => save(views.map((v) => (v.id === view.id ? next : v)));
  const setCards = (cards: CardId[]) => setView({ ...view, cards });
  const setWidth = (id: CardId, w: CardWidth) => setView(withWidth(view, id, w));
  // reset: the default cards at their default widths
  const reset = () => {
    const next: ActivityView = { ...view, cards: defaultCards(view.id) };
    delete next.widths;
    setView(next);
  };
  const rows = editorRows(view.cards);
  const addView = () => {
    const n = name.trim();
    if (!n) return;
    const id = newViewId(n, views);
    save([...views, { id, name: n, cards: [...view.cards] }]);
    setName('');
    onOpenView(id);
  };
  const rename = () => {
    const n = title.trim();
    if (n && n !== shownName) save(views.map((v) => (v.id === view.id ? { ...v, name: n } : v)));
  };
  // deleting takes one click, so the toast offers to bring the view back (where it was)
  const deleteView = () => {
    const before = views;
    const rest = views.filter((v) => v.id !== view.id);
    save(rest);
    onOpenView(rest[0].id);
    toast(t('views.deleted', { name: shownName }), 'ok', {
      testId: 'view-deleted', focus: true,
      returnFocus: () => document.querySelector<HTMLElement>('[data-testid=edit-view]'),
      action: { label: t('views.undo'), run: async () => {
        await save(before);
        onOpenView(view.id);
      } },
    });
  };
  return (
    <Card title={t('views.title', { name: shownName })} subtitle={t('views.sub')}
      testId="view-editor" class="view-editor">
      <form class="ve-rename" onSubmit={(e) => (e.preventDefault(), rename())}>
        <label class="ve-rename-label" for="ve-title">{t('views.name')}</label>
        <input id="ve-title" class="input input-sm" data-testid="ve-title" value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        <button type="submit" class="btn btn-sm" data-testid="ve-rename" disabled={!title.trim() || title.trim() === shownName}>{t('views.rename')}</button>
      </form>
      <ul class="ve-list">
        {rows.map(({ id, shown }, i) => {
          const note = CARDS.find((c) => c.id === id)?.note;
          return (
            <li key={id} class={'ve-row' + (shown ? '' : ' ve-hidden')} data-card={id}>
              <label class="ve-check">
                <input type="checkbox" checked={shown} data-testid={`ve-show-${id}`}
                  onChange={() => setCards(shown ? view.cards.filter((c) => c !== id) : [...view.cards, id])} />
                <span class="ve-name">{cardName(id)}</span>
                {note && <span class="ve-note">({note})</span>}
              </label>
              <select class="select select-sm ve-width" aria-label={t('views.width', { card: cardName(id) })} data-testid={`ve-width-${id}`}
                disabled={!shown} value={String(cardWidth(view, id))}
                onChange={(e) => setWidth(id, Number((e.target as HTMLSelectElement).value) as CardWidth)}>
                {WIDTHS.map((w) => <option key={w} value={String(w)}>{t(`views.width.${w}` as const)}</option>)}
              </select>
              <span class="ve-moves">
                <button type="button" class="btn btn-ghost btn-icon btn-xs" aria-label={t('views.moveUp', { card: cardName(id) })} data-testid={`ve-up-${id}`}
                  disabled={!shown || i === 0} onClick={() => setCards(moveCard(view.cards, id, -1))}><IconUp /></button>
                <button type="button" class="btn btn-ghost btn-icon btn-xs" aria-label={t('views.moveDown', { card: cardName(id) })} data-testid={`ve-down-${id}`}
                  disabled={!shown || i >= view.cards.length - 1} onClick={() => setCards(moveCard(view.cards, id, 1))}><IconDown /></button>
              </span>
            </li>
          );
        })}
      </ul>
      <div class="ve-foot">
        <div class="ve-foot-group">
          <button type="button" class="btn btn-sm" data-testid="ve-reset" onClick={reset}>
            <I.IconUndo /> {t('views.reset')}
          </button>
          {views.length > 1 && (
            <button type="button" class="btn btn-sm btn-danger-outline" data-testid="ve-delete" onClick={deleteView}>
              <I.IconTrash /> {t('views.delete')}
            </button>
          )}
        </div>
        <form class="ve-new" onSubmit={(e) => (e.preventDefault(), addView())}>
          <input class="input input-sm" aria-label={t('views.newName')} placeholder={t('views.newName')} data-testid="ve-new-name"
            value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          <button type="submit" class="btn btn-sm" data-testid="ve-add" disabled={!name.trim()}><I.IconPlus /> {t('views.add')}</button>
          <button type="button" class="btn btn-sm btn-primary" data-testid="ve-done" onClick={onClose}>{t('views.done')}</button>
        </form>
      </div>
    </Card>
  );
}
