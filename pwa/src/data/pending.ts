import { useEffect, useState } from 'preact/hooks';
import type { QueuedWrite } from './db';
import { onQueue, pending } from './queue';

/** The writes of this account still waiting for the network (or refused), kept up to date. */
export function usePending(): QueuedWrite[] {
  const [items, setItems] = useState<QueuedWrite[]>([]);
  useEffect(() => {
    let live = true;
    const load = () => pending().then((p) => live && setItems(p)).catch(() => {});
    load();
    const off = onQueue(load);
    return () => {
      live = false;
      off();
    };
  }, []);
  return items;
}

/** The newest queued write to this URL, if any. */
export function latestFor(items: QueuedWrite[], url: string): QueuedWrite | undefined {
  return items.filter((w) => w.url === url).at(-1);
}
