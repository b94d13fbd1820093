import { useEffect, useState } from 'preact/hooks';

/** The change listeners of a module-level state (the store, the toasts): whoever changes
 * the state calls each of them. */
export type Listeners = Set<() => void>;

/** Re-render the calling component whenever the state behind `listeners` changes. */
export function useListeners(listeners: Listeners): void {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, [listeners]);
}
