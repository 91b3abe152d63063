// The app's IndexedDB: the last answer of every GET a screen made (per account), and the queue of
// writes made offline.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export interface Cached {
  key: string; // `${userId} ${url}`
  uid: string;
  url: string;
  data: unknown;
  at: number; // ms since epoch, when the server answered
}

export interface QueuedWrite {
  id?: number;
  uid: string;
  method: 'post' | 'put' | 'patch' | 'delete';
  url: string;
  body?: unknown;
  key: string; // Idempotency-Key, fixed when queued: a replay never does the write twice
  label: string; // what a person sees: "Check-in: booked the room"
  created: number;
  /** Set when the server refused the write: its message, shown until dismissed. */
  failed?: { status: number; message: string };
}

interface Schema extends DBSchema {
  cache: { key: string; value: Cached; indexes: { uid: string } };
  queue: { key: number; value: QueuedWrite; indexes: { uid: string } };
}

let db: Promise<IDBPDatabase<Schema>> | null = null;

export function open(): Promise<IDBPDatabase<Schema>> {
  db ??= openDB<Schema>('roundtable', 1, {
    upgrade(d) {
      d.createObjectStore('cache', { keyPath: 'key' }).createIndex('uid', 'uid');
      d.createObjectStore('queue', { keyPath: 'id', autoIncrement: true }).createIndex('uid', 'uid');
    },
  });
  return db;
}

/** Removes one account's cached answers and queued writes (signing out). */
export async function clearAccount(uid: string) {
  const d = await open();
  const tx = d.transaction(['cache', 'queue'], 'readwrite');
  for (const store of ['cache', 'queue'] as const) {
    let cursor = await tx.objectStore(store).index('uid').openCursor(uid);
    while (cursor) {
      await cursor.delete();
      cursor = await cursor.continue();
    }
  }
  await tx.done;
}
