// The few browser globals the data layer needs, for unit tests in Node: IndexedDB (fake-indexeddb),
// localStorage, window events.
import 'fake-indexeddb/auto';

class MemoryStorage {
  private m = new Map<string, string>();
  getItem(k: string) {
    return this.m.has(k) ? this.m.get(k)! : null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, String(v));
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
  clear() {
    this.m.clear();
  }
}
const g = globalThis as unknown as Record<string, unknown>;
g.localStorage = new MemoryStorage();
const target = new EventTarget();
g.window = Object.assign(globalThis, {
  addEventListener: target.addEventListener.bind(target),
  removeEventListener: target.removeEventListener.bind(target),
  dispatchEvent: target.dispatchEvent.bind(target),
});
if (typeof navigator === 'undefined') g.navigator = { onLine: true };
