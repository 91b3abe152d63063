// Signing in and out of this device.
import { auth, forget, signedIn } from './auth';
import { call } from './api/client';
import type { TokenResponse, User } from './api/types';
import { clearAccount } from './data/db';
import { remember } from './data/resource';
import { setZone } from './ui/format';

export async function afterSignIn(tokens: TokenResponse) {
  signedIn(tokens);
  const me = await call<User>('get', '/api/v1/me');
  setZone(me.time_zone);
  await remember('/api/v1/me', me);
}

/** Ends the sign-in on the server (when reachable) and clears this account's data from the phone. */
export async function signOut() {
  const a = auth();
  if (!a) return;
  await call('post', '/api/v1/auth/logout', { refresh_token: a.refresh }, { anonymous: true }).catch(() => {});
  await clearAccount(a.userId).catch(() => {});
  localStorage.removeItem('rt.zone');
  forget();
}
