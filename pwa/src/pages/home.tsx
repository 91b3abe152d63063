// Home: my next sessions across cohorts (time in my zone, my duty, my RSVP in one tap) and what is
// asked of me.
import { call, route as fill } from '../api/client';
import type { ListItem, Session } from '../api/types';
import { refreshAll, useResource } from '../data/resource';
import { setZone, when } from '../ui/format';
import { Action, Loaded, Page, Person } from '../ui/kit';
import { ConfirmDuty, Rsvp } from './common';
import { pendingJoin } from './join';
import type { User } from '../api/types';
import { useEffect } from 'preact/hooks';

type Ask = ListItem<'/api/v1/me/inbox'>;

function AskItem(props: { a: Ask }) {
  const a = props.a;
  const due = a.due_at ? ` · ${when(a.due_at)}` : '';
  switch (a.kind) {
    case 'swap_asked':
    case 'cover_needed':
      return (
        <li>
          <p>
            {a.kind === 'swap_asked' ? (
              <>
                <Person p={a.from} /> asks you to swap <strong>{a.title}</strong>
              </>
            ) : (
              <>
                <Person p={a.from} /> needs cover for <strong>{a.title}</strong>
              </>
            )}
            <span class="muted">{due} · {a.cohort.name}</span>
          </p>
          <p class="buttons">
            <Action label={a.kind === 'swap_asked' ? 'Accept swap' : 'Cover it'} run={async () => {
              await call('post', fill('/api/v1/swap-requests/{swap_request_id}/accept', { swap_request_id: a.subject_id }));
              refreshAll();
            }} />
            {a.kind === 'swap_asked' && (
              <Action label="Decline" class="secondary" run={async () => {
                await call('post', fill('/api/v1/swap-requests/{swap_request_id}/decline', { swap_request_id: a.subject_id }));
                refreshAll();
              }} />
            )}
          </p>
        </li>
      );
    case 'duty_to_confirm':
      return (
        <li>
          <p>
            Your duty: <strong>{a.title}</strong>
            <span class="muted">{due} · {a.cohort.name}</span>
          </p>
          <ConfirmDuty assignmentId={a.subject_id} role={a.title} confirmed={false} what={a.due_at ? when(a.due_at) : a.cohort.name} />
        </li>
      );
    case 'charter_to_accept':
      return (
        <li>
          <p>
            The charter of {a.cohort.name} ({a.title}) waits for your acceptance.
          </p>
          <a href={`/app/cohorts/${a.cohort.id}/charter`}>Read and accept the charter</a>
        </li>
      );
    case 'checkin_due':
      return (
        <li>
          <p>
            Time for a check-in on <strong>{a.title}</strong>
            <span class="muted"> · {a.cohort.name}</span>
          </p>
          <a href={`/app/experiments/${a.subject_id}`}>Check in on {a.title}</a>
        </li>
      );
    default:
      return <li>{a.title}</li>;
  }
}

export function SessionCard(props: { s: Session }) {
  const s = props.s;
  return (
    <li class="card">
      <h3>
        <a href={`/app/sessions/${s.id}`}>{s.title}</a>
      </h3>
      <p>
        <time dateTime={s.starts_at}>{when(s.starts_at)}</time>
        {s.location && <span class="muted"> · {s.location}</span>}
        {s.status === 'cancelled' && <strong> · cancelled</strong>}
      </p>
      {s.my_duties.map((d) => (
        <p key={d.assignment_id}>
          Your duty: <strong>{d.role}</strong>{' '}
          <ConfirmDuty assignmentId={d.assignment_id} role={d.role} confirmed={d.confirmed} what={`${s.title} on ${when(s.starts_at)}`} />
        </p>
      ))}
      {s.my_skill_shares.map((k) => (
        <p key={k.id}>
          Skill share: {k.title} ({k.my_status}
          {k.my_position ? `, place ${k.my_position} on the waitlist` : ''})
        </p>
      ))}
      <Rsvp session={s} />
    </li>
  );
}

export function Home() {
  const sessions = useResource<{ items: Session[] }>('/api/v1/me/sessions?limit=8');
  const inbox = useResource<{ items: Ask[] }>('/api/v1/me/inbox');
  const me = useResource<User>('/api/v1/me');
  useEffect(() => {
    if (me.data) setZone(me.data.time_zone);
  }, [me.data?.time_zone]);
  const join = pendingJoin();
  return (
    <Page title={me.data ? `Hello, ${me.data.display_name}` : 'Home'}>
      {join && (
        <p class="notice">
          You opened an invitation. <a href={join}>Finish joining</a>
        </p>
      )}
      {me.data && !me.data.email_verified && (
        <p class="notice">
          Please confirm your email address: we sent you a link.{' '}
          <Action label="Send the link again" class="link" run={() => call('post', '/api/v1/auth/email-verifications')} />
        </p>
      )}
      <section aria-labelledby="asked">
        <h2 id="asked">Asked of you</h2>
        <Loaded res={inbox} what="what is asked of you">
          {(d) => (d.items.length ? <ul class="list">{d.items.map((a) => <AskItem key={a.kind + a.subject_id} a={a} />)}</ul> : <p class="muted">Nothing right now.</p>)}
        </Loaded>
      </section>
      <section aria-labelledby="next">
        <h2 id="next">Your next sessions</h2>
        <Loaded res={sessions} what="your sessions">
          {(d) =>
            d.items.length ? (
              <ul class="list">{d.items.map((s) => <SessionCard key={s.id} s={s} />)}</ul>
            ) : (
              <p class="muted">
                No sessions planned. <a href="/app/cohorts">Your cohorts</a>
              </p>
            )
          }
        </Loaded>
      </section>
    </Page>
  );
}

