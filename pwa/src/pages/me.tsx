// Me: profile and time zone, notification preferences and quiet hours, personal access tokens,
// sign-ins, and signing out (which clears this account's data from the phone).
import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { call, route as fill } from '../api/client';
import type { S, User } from '../api/types';
import { useResource } from '../data/resource';
import { setZone, when, zones } from '../ui/format';
import { Action, Field, Form, Loaded, Page, Select } from '../ui/kit';
import { signOut } from '../session';

function Profile(props: { me: User; reload: () => void }) {
  const [name, setName] = useState(props.me.display_name);
  const [tz, setTz] = useState(props.me.time_zone);
  const [locale, setLocale] = useState(props.me.locale);
  return (
    <Form submit="Save profile" done="Saved." action={async () => {
      const me = await call<User>('patch', '/api/v1/me', { display_name: name, time_zone: tz, locale });
      setZone(me.time_zone);
      props.reload();
    }}>
      <Field label="Your name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <Select label="Time zone" value={tz} onChange={setTz} options={zones().map((z) => ({ value: z, label: z }))} />
      <Field label="Locale" value={locale} onInput={(e) => setLocale(e.currentTarget.value)} hint="How dates and times read in your mail, e.g. en-GB (18:00, 3 Mar) or en-US (6:00 PM, Mar 3)." />
      <p class="muted">Email: {props.me.email}{props.me.email_verified ? '' : ' (not confirmed yet)'}</p>
    </Form>
  );
}

function Tokens() {
  const res = useResource<{ items: S['PersonalToken'][] }>('/api/v1/me/tokens');
  const [name, setName] = useState('');
  const [write, setWrite] = useState(false);
  const [made, setMade] = useState<string | null>(null);
  return (
    <>
      <Loaded res={res} what="your tokens">
        {(d) => (
          <ul class="list plain">
            {d.items.map((t) => (
              <li key={t.id}>
                {t.name} <span class="muted">{t.token_hint} · {t.scopes.join(', ')}</span>{' '}
                <Action label={`Revoke ${t.name}`} class="secondary" run={async () => {
                  await call('delete', fill('/api/v1/me/tokens/{token_id}', { token_id: t.id }));
                  res.reload();
                }} />
              </li>
            ))}
            {d.items.length === 0 && <li class="muted">No tokens.</li>}
          </ul>
        )}
      </Loaded>
      <Form submit="Create token" action={async () => {
        const areas = ['cohorts', 'charter', 'sessions', 'rota', 'experiments', 'skillshare', 'notifications'];
        const scopes = areas.flatMap((a) => (write ? [`${a}:read`, `${a}:write`] : [`${a}:read`]));
        const t = await call<{ token: string }>('post', '/api/v1/me/tokens', { name, scopes }, { idempotencyKey: crypto.randomUUID() });
        setMade(t.token);
        setName('');
        res.reload();
      }}>
        <Field label="Token name" required value={name} onInput={(e) => setName(e.currentTarget.value)} hint="What it is for, e.g. calendar sync." />
        <div class="field check">
          <input id="tok-write" type="checkbox" checked={write} onChange={(e) => setWrite(e.currentTarget.checked)} />
          <label for="tok-write">May also change things (not only read)</label>
        </div>
      </Form>
      {made && (
        <p role="status">
          Your token (copy it now; it is not shown again): <code class="break">{made}</code>
        </p>
      )}
    </>
  );
}

/** My calendar feed: a secret URL to subscribe to in a calendar app. Asking again makes a new URL
 * and the old one stops working (the server keeps only a hash, so the URL cannot be shown again). */
function CalendarFeed() {
  const [url, setUrl] = useState<string | null>(null);
  return (
    <>
      <p class="muted">
        Your sessions (with your duties), skill-share slots and experiment due dates in any calendar app. The link is
        private: anyone who has it can read your calendar. Making a new one turns off the one you made before.
      </p>
      <Action label={url ? 'Make a new calendar link' : 'Get my calendar link'} class="secondary" run={async () => {
        const made = await call<{ url: string }>('post', '/api/v1/me/calendar-feed', undefined, { idempotencyKey: crypto.randomUUID() });
        setUrl(made.url);
      }} />
      {url && (
        <div role="status">
          <Field label="Your calendar link" readOnly value={url} onFocus={(e) => e.currentTarget.select()} hint="Copy it into your calendar app's “subscribe by URL”." />
          <p>
            <a href={url.replace(/^https?:/, 'webcal:')}>Open it in my calendar app</a>
          </p>
        </div>
      )}
    </>
  );
}

function SignIns() {
  const res = useResource<{ items: { id: string; method: string; created_at: string; last_used_at: string; current: boolean; user_agent?: string | null }[] }>('/api/v1/me/sign-ins');
  return (
    <Loaded res={res} what="your sign-ins">
      {(d) => (
        <ul class="list plain">
          {d.items.map((s) => (
            <li key={s.id}>
              {s.user_agent ?? 'A device'} <span class="muted">· {s.method.replace('_', ' ')} · last used {when(s.last_used_at)}</span>
              {s.current ? (
                <span class="badge ok">this device</span>
              ) : (
                <Action label="Sign it out" class="secondary" run={async () => {
                  await call('delete', fill('/api/v1/me/sign-ins/{sign_in_id}', { sign_in_id: s.id }));
                  res.reload();
                }} />
              )}
            </li>
          ))}
        </ul>
      )}
    </Loaded>
  );
}

export function Me() {
  const me = useResource<User>('/api/v1/me');
  const { route } = useLocation();
  return (
    <Page title="Me">
      <Loaded res={me} what="your profile">{(m) => <Profile me={m} reload={me.reload} />}</Loaded>
      <p>
        <a href="/app/me/notifications">Notifications and quiet hours</a>
      </p>
      <h2>Calendar</h2>
      <CalendarFeed />
      <h2>Personal access tokens</h2>
      <Tokens />
      <h2>Sign-ins</h2>
      <SignIns />
      <h2>Sign out</h2>
      <p class="muted">Signing out removes your data and any unsent changes from this phone.</p>
      <Action label="Sign out" run={async () => {
        await signOut();
        route('/app/sign-in');
      }} />
    </Page>
  );
}

export function Notifications() {
  const res = useResource<S['NotificationPreferences']>('/api/v1/me/notification-preferences');
  return (
    <Page title="Notifications" back={{ href: '/app/me', label: 'Me' }}>
      <Loaded res={res} what="your notification settings">{(p) => <Prefs p={p} reload={res.reload} />}</Loaded>
    </Page>
  );
}

function Prefs(props: { p: S['NotificationPreferences']; reload: () => void }) {
  const { p } = props;
  const [email, setEmail] = useState<Record<string, boolean>>(Object.fromEntries(Object.entries(p.kinds).map(([k, v]) => [k, !!v?.email])));
  const [digest, setDigest] = useState<string>(p.digest);
  const [quiet, setQuiet] = useState({ start: p.quiet_hours?.start ?? '', end: p.quiet_hours?.end ?? '' });
  return (
    <Form submit="Save notification settings" done="Saved." action={async () => {
      const kinds = Object.fromEntries(
        Object.entries(p.kinds)
          .filter(([k, v]) => !v?.required && email[k] !== !!v?.email)
          .map(([k]) => [k, { email: email[k] }]),
      );
      await call('put', '/api/v1/me/notification-preferences', {
        digest: digest as S['DigestMode'],
        kinds,
        quiet_hours: quiet.start && quiet.end ? quiet : null,
      });
      props.reload();
    }}>
      <fieldset>
        <legend>Email me about</legend>
        {Object.entries(p.kinds).map(([k, v]) => (
          <div class="field check" key={k}>
            <input id={`kind-${k}`} type="checkbox" checked={v?.required || email[k]} disabled={v?.required} onChange={(e) => setEmail({ ...email, [k]: e.currentTarget.checked })} />
            <label for={`kind-${k}`}>
              {v?.description ?? k}
              {v?.required && ' (always sent)'}
            </label>
          </div>
        ))}
      </fieldset>
      <Select label="Gather mail that can wait into" value={digest} onChange={setDigest}
        options={[{ value: 'off', label: 'No digest: each mail as it falls due' }, { value: 'daily', label: 'One mail a day' }, { value: 'weekly', label: 'One mail a week' }]} />
      <fieldset>
        <legend>Quiet hours (in {p.time_zone})</legend>
        <Field label="Quiet from" type="time" value={quiet.start} onInput={(e) => setQuiet({ ...quiet, start: e.currentTarget.value })} />
        <Field label="Quiet until" type="time" value={quiet.end} onInput={(e) => setQuiet({ ...quiet, end: e.currentTarget.value })} />
      </fieldset>
    </Form>
  );
}
