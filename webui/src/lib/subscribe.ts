import { useEffect, useRef, useState } from 'preact/hooks';

/** The change listeners of a module-level state (the store, the toasts): whoever changes
 * the state calls each of them. */
export type Listeners = Set<() => void>;

/** Re-render the calling component whenever the state behind `listeners` changes.
 * `current` returns that state; every change must replace it (a new object or array),
 * not modify it in place.
 *
 * The component subscribes in an effect, which runs after the browser has painted the
 * first render: a change made in between (an answer to a request sent before the first
 * render, see main.tsx) calls the listeners before this one is among them. The effect
 * therefore compares the state with the one the render saw and catches up once if it
 * moved; without that, a page could wait forever for buckets it already has. */
export function useListeners(listeners: Listeners, current: () => unknown): void {
  const [, force] = useState(0);
  const seen = useRef<unknown>(undefined);
  seen.current = current();
  useEffect(() => {
    const l = () => force((n) => n + 1);
    listeners.add(l);
    if (current() !== seen.current) l();
    return () => {
      listeners.delete(l);
    };
  }, [listeners]); // `current` reads the same module-level variable all along
}
