// Signing in, signing up and the targets of the mails the server sends about an account:
// /app/verify-email, /app/magic-link and /app/reset-password, each with its secret in `#token=`.
// Nothing is redeemed on load: the person presses the one button (a mail scanner that opens the
// link does nothing).
import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { call } from '../api/client';
import type { TokenResponse, User } from '../api/types';
import { afterSignIn } from '../session';
import { Field, Form, Page, useFragment } from '../ui/kit';
import { zone } from '../ui/format';
import { auth } from '../auth';
import { refreshAll } from '../data/resource';
import { pendingJoin } from './join';

function next(): string {
  const n = new URLSearchParams(location.search).get('next');
  return n && n.startsWith('/app/') ? n : '/app/';
}

// The invite link being followed (/app/join#code=…), if any: its code goes with the sign-up, which a
// server that admits only invited people needs (an open one ignores it).
function inviteCode(): string | null {
  const link = [next(), pendingJoin() ?? ''].find((l) => l.startsWith('/app/join#'));
  return link ? new URLSearchParams(link.slice(link.indexOf('#') + 1)).get('code') : null;
}

export function SignIn() {
  const { route } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [mailed, setMailed] = useState(false);
  return (
    <Page title="Sign in">
      <Form
        submit="Sign in"
        action={async () => {
          await afterSignIn(await call<TokenResponse>('post', '/api/v1/auth/login', { email, password }, { anonymous: true }));
          const to = next();
          if (to.includes('#')) location.assign(to); // a mailed link's page, with its secret
          else route(to);
        }}
      >
        <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <Field label="Password" type="password" name="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      </Form>
      <h2>No password at hand?</h2>
      {mailed ? (
        <p role="status">If {email} has an account, a sign-in link is on its way. It works once, for 15 minutes.</p>
      ) : (
        <Form
          submit="Email me a sign-in link"
          action={async () => {
            if (!email) throw new Error('Enter your email address above first.');
            await call('post', '/api/v1/auth/magic-links', { email }, { anonymous: true });
            setMailed(true);
          }}
        />
      )}
      <p>
        <a href="/app/reset-password">Forgot your password?</a> · <a href="/app/sign-up">Create an account</a>
      </p>
    </Page>
  );
}

export function SignUp() {
  const { route } = useLocation();
  const [form, setForm] = useState({ display_name: '', email: '', password: '' });
  const [done, setDone] = useState<User | null>(null);
  const set = (k: keyof typeof form) => (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [k]: e.currentTarget.value });
  if (done)
    return (
      <Page title="Check your mail">
        <p role="status">
          We sent a link to {done.email}. Open it on this phone to confirm your address, then sign in.
        </p>
        <p>
          <a href="/app/sign-in">Sign in</a>
        </p>
      </Page>
    );
  return (
    <Page title="Create an account">
      <Form
        submit="Create account"
        action={async () => {
          const code = inviteCode();
          const body = { ...form, time_zone: zone(), locale: navigator.language || 'en', ...(code ? { invite_code: code } : {}) };
          const user = await call<User>('post', '/api/v1/auth/signup', body, { anonymous: true });
          // Signed in at once, so the confirmation link opened on this phone proves the address
          // for this sign-in and keeps the password chosen here.
          const signedIn = await call<TokenResponse>('post', '/api/v1/auth/login', { email: form.email, password: form.password }, { anonymous: true })
            .then(afterSignIn)
            .then(() => true, () => false);
          if (signedIn) {
            const to = next();
            if (to.includes('#')) location.assign(to);
            else route(to);
          } else setDone(user);
        }}
      >
        <Field label="Your name" name="display_name" autoComplete="name" required value={form.display_name} onInput={set('display_name')} />
        <Field label="Email" type="email" name="email" autoComplete="email" required value={form.email} onInput={set('email')} />
        <Field label="Password" type="password" name="password" autoComplete="new-password" minLength={8} required hint="8 characters or more." value={form.password} onInput={set('password')} />
      </Form>
      <p>
        Times are shown in {zone()}; change it under Me. <a href="/app/sign-in">I have an account</a>
      </p>
    </Page>
  );
}

export function VerifyEmail() {
  const token = useFragment('token');
  const [ok, setOk] = useState<'signed-in' | 'signed-out' | null>(null);
  return (
    <Page title="Confirm your email address">
      {!token ? (
        <p role="alert" class="error">This link is incomplete. Open the link from the mail again.</p>
      ) : ok === 'signed-in' ? (
        <>
          <p role="status">Your address is confirmed.</p>
          <p>
            <a href="/app/">Go to Roundtable</a>
          </p>
        </>
      ) : ok === 'signed-out' ? (
        <>
          <p role="status">Your address is confirmed.</p>
          <p>
            Since it was confirmed without a sign-in, the password chosen at sign-up no longer works (someone
            else may have chosen it). <a href="/app/sign-in">Sign in with a mailed link</a> or{' '}
            <a href="/app/reset-password">choose a new password</a>.
          </p>
        </>
      ) : (
        <Form submit="Confirm my address" action={async () => {
          // Signed in on this phone: the bearer token says so, and the sign-in keeps its password.
          const signed = !!auth();
          await call('post', '/api/v1/auth/email-verifications/redeem', { token }, { anonymous: !signed });
          setOk(signed ? 'signed-in' : 'signed-out');
          refreshAll();
        }} />
      )}
    </Page>
  );
}

export function MagicLink() {
  const token = useFragment('token');
  const { route } = useLocation();
  return (
    <Page title="Sign in with your link">
      {!token ? (
        <p role="alert" class="error">This link is incomplete. Open the link from the mail again.</p>
      ) : (
        <Form submit="Sign in" action={async () => {
          await afterSignIn(await call<TokenResponse>('post', '/api/v1/auth/magic-links/redeem', { token }, { anonymous: true }));
          route('/app/');
        }} />
      )}
    </Page>
  );
}

export function ResetPassword() {
  const token = useFragment('token');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [state, setState] = useState<'form' | 'mailed' | 'done'>('form');
  if (state === 'mailed' && !token)
    return (
      <Page title="Check your mail">
        <p role="status">If {email} has an account, a link to choose a new password is on its way.</p>
      </Page>
    );
  if (state === 'done')
    return (
      <Page title="Password changed">
        <p role="status">Your new password is set. Other devices were signed out.</p>
        <p><a href="/app/sign-in">Sign in</a></p>
      </Page>
    );
  return (
    <Page title={token ? 'Choose a new password' : 'Reset your password'}>
      {token ? (
        <Form submit="Set new password" action={async () => {
          await call('post', '/api/v1/auth/password-resets/redeem', { token, password }, { anonymous: true });
          setState('done');
        }}>
          <Field label="New password" type="password" name="password" autoComplete="new-password" minLength={8} required hint="8 characters or more." value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Form>
      ) : (
        <Form submit="Email me a link" action={async () => {
          await call('post', '/api/v1/auth/password-resets', { email }, { anonymous: true });
          setState('mailed');
        }}>
          <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Form>
      )}
    </Page>
  );
}
