// Times are stored in UTC by the server and shown in the person's own zone (their account's
// `time_zone`, remembered on this device), whatever zone the phone is in.
const ZONE_KEY = 'rt.zone';

export function zone(): string {
  return localStorage.getItem(ZONE_KEY) || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function setZone(z: string) {
  localStorage.setItem(ZONE_KEY, z);
}

function fmt(iso: string, opts: Intl.DateTimeFormatOptions): string {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: zone(), ...opts }).format(new Date(iso));
  } catch {
    return new Date(iso).toLocaleString();
  }
}

/** "Tue 3 Mar, 18:00" in the person's zone. */
export function when(iso: string): string {
  return fmt(iso, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function day(iso: string): string {
  return fmt(iso, { weekday: 'short', day: 'numeric', month: 'short' });
}

export function clock(iso: string): string {
  return fmt(iso, { hour: '2-digit', minute: '2-digit' });
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function age(at: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export function zones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return [zone()];
  }
}
