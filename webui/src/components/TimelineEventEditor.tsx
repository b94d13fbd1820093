// The Timeline's event dialog (docs/webui.md, "Timeline"): an event's time, duration and
// data; for this device's buckets editable (Save replaces the stored event: POST …/events
// with its id, docs/api.md) and deletable; remote buckets' events are shown read-only, as
// the node refuses writes to them.
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../lib/api';
import type { AWEvent, Bucket } from '../lib/types';
import { fetchEvent, fromLocalInput, toLocalInput } from '../lib/timeline';
import { fmtDuration } from '../lib/time';
import { formatDateTime, t } from '../lib/i18n';
import { Badge, ErrorBox, Modal, Spinner } from './ui';
import * as I from './icons';

type Kind = 'string' | 'number' | 'json';
interface Field {
  key: string;
  kind: Kind;
  value: string;
}

const toFields = (data: Record<string, unknown>): Field[] =>
  Object.entries(data || {}).map(([key, v]) =>
    typeof v === 'string' ? { key, kind: 'string', value: v }
      : typeof v === 'number' ? { key, kind: 'number', value: String(v) }
        : { key, kind: 'json', value: JSON.stringify(v) });

export function TimelineEventEditor({ bucket, event, readOnly, onClose, onSave, onDelete }: {
  bucket: Bucket;
  /** the event as the Timeline has it (clipped to the range shown) */
  event: AWEvent;
  readOnly: boolean;
  onClose: () => void;
  onSave: (e: AWEvent) => Promise<void>;
  onDelete: (e: AWEvent) => Promise<void>;
}) {
  // the stored event, whole (null while it is read)
  const [orig, setOrig] = useState<AWEvent | null>(event.id == null ? event : null);
  const [loadErr, setLoadErr] = useState<unknown>(null);
  const [start, setStart] = useState('');
  const [duration, setDuration] = useState('');
  const [fields, setFields] = useState<Field[]>([]);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const body = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (event.id == null) return;
    let live = true;
    fetchEvent(bucket.id, event.id).then((e) => live && setOrig(e)).catch((x) => live && setLoadErr(x));
    return () => {
      live = false;
    };
  }, [bucket.id, event.id]);

  useEffect(() => {
    if (!orig) return;
    setStart(toLocalInput(Date.parse(orig.timestamp)));
    setDuration(String(+orig.duration.toFixed(3)));
    setFields(toFields(orig.data));
  }, [orig]);

  // the keyboard lands in the dialog: on its first field, or on Close when read-only
  useEffect(() => {
    if (!orig) return;
    const dialog = body.current?.closest('[role=dialog]');
    const first = dialog?.querySelector<HTMLElement>(readOnly ? 'button' : 'input:not([disabled])');
    first?.focus();
  }, [!!orig]);

  // Tab and Shift+Tab stay in the dialog: Modal keeps them there.

  const startMs = fromLocalInput(start);
  const dur = Number(duration);
  const durOk = duration.trim() !== '' && Number.isFinite(dur) && dur >= 0;

  const build = (): AWEvent | string => {
    if (!orig) return t('timeline.editor.notLoaded');
    if (!Number.isFinite(startMs)) return t('timeline.editor.badStart');
    if (!durOk) return t('timeline.editor.badDuration');
    const data: Record<string, unknown> = {};
    for (const f of fields) {
      if (f.kind === 'string') data[f.key] = f.value;
      else if (f.kind === 'number') {
        const n = Number(f.value);
        if (f.value.trim() === '' || !Number.isFinite(n)) return t('timeline.editor.notNumber', { key: f.key });
        data[f.key] = n;
      } else {
        try {
          data[f.key] = JSON.parse(f.value);
        } catch {
          return t('timeline.editor.notJson', { key: f.key });
        }
      }
    }
    // an untouched start keeps the stored timestamp to the nanosecond (the input has seconds)
    const stored = Date.parse(orig.timestamp);
    const timestamp = startMs === stored - (((stored % 1000) + 1000) % 1000) ? orig.timestamp : new Date(startMs).toISOString();
    return { id: orig.id, timestamp, duration: dur, data };
  };

  const save = async () => {
    const e = build();
    if (typeof e === 'string') {
      setErr(e);
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      await onSave(e);
    } catch (x) {
      setErr(errorMessage(x));
      setBusy(false);
    }
  };

  const del = async () => {
    if (!orig) return;
    setBusy(true);
    try {
      await onDelete(orig);
    } catch (x) {
      setErr(errorMessage(x));
      setBusy(false);
    }
  };

  const footer = readOnly || !orig ? (
    <button class="btn" onClick={onClose}>{t('common.close')}</button>
  ) : (
    <>
      <button class="btn btn-danger-outline tle-delete" data-testid="editor-delete" disabled={busy} onClick={del}><I.IconTrash /> {t('common.delete')}</button>
      <button class="btn" onClick={onClose} disabled={busy}>{t('common.cancel')}</button>
      <button class="btn btn-primary" data-testid="editor-save" disabled={busy} onClick={save}>{t('common.save')}</button>
    </>
  );

  return (
    <Modal title={t('timeline.editor.title')} onClose={onClose} footer={footer}>
      <div ref={body} class="tle" data-testid="timeline-editor" data-readonly={readOnly ? '1' : '0'}>
        <div class="tle-bucket">
          <span class="mono">{bucket.id}</span>
          {readOnly && <Badge kind="remote">{t('timeline.remote')}</Badge>}
        </div>
        {readOnly && (
          <p class="muted tle-note" data-testid="editor-readonly">
            <I.IconLock /> {t('timeline.editor.readOnly', { host: bucket.hostname || t('timeline.editor.thatDevice') })}
          </p>
        )}
        <ErrorBox error={loadErr} title={t('timeline.editor.readFailed')} />
        {!orig && !loadErr && <Spinner label={t('timeline.editor.reading')} />}
        {orig && (
          <form class="form tle-form" onSubmit={(e) => { e.preventDefault(); if (!readOnly) save(); }}>
            <div class="form-row">
              <label class="field grow">
                <span>{t('timeline.editor.start')}</span>
                <input type="datetime-local" step={1} class={'input' + (Number.isFinite(startMs) ? '' : ' invalid')} data-testid="editor-start"
                  value={start} disabled={readOnly} onInput={(e) => setStart((e.target as HTMLInputElement).value)} />
              </label>
              <label class="field tle-dur">
                <span>{t('timeline.editor.duration')}</span>
                <input type="number" min={0} step="any" class={'input' + (durOk ? '' : ' invalid')} data-testid="editor-duration"
                  value={duration} disabled={readOnly} onInput={(e) => setDuration((e.target as HTMLInputElement).value)} />
              </label>
            </div>
            <div class="muted tle-span" data-testid="editor-span">
              {Number.isFinite(startMs) && durOk
                ? `${formatDateTime(new Date(startMs), true)} → ${formatDateTime(new Date(startMs + dur * 1000), true)} · ${fmtDuration(dur, true)}`
                : '—'}
            </div>
            {fields.length > 0 && <div class="tle-data-head">{t('timeline.editor.data')}</div>}
            {fields.map((f, i) => (
              <label class="field" key={f.key}>
                <span class="mono">{f.key}{f.kind === 'json' ? ' (JSON)' : ''}</span>
                <input class="input" type={f.kind === 'number' ? 'number' : 'text'} step={f.kind === 'number' ? 'any' : undefined}
                  data-testid="editor-field" data-key={f.key} value={f.value} disabled={readOnly}
                  onInput={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, value: (e.target as HTMLInputElement).value } : x)))} />
              </label>
            ))}
            {/* Enter in a field saves */}
            <button type="submit" hidden />
          </form>
        )}
        {err && <div class="alert alert-error" role="alert" data-testid="editor-error">{err}</div>}
      </div>
    </Modal>
  );
}
