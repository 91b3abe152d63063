// Skill shares of a cohort: offer one, sign up (or join the waitlist), see my place, leave.
import { useState } from 'preact/hooks';
import { call, route as fill } from '../api/client';
import type { S, Session, SkillShare } from '../api/types';
import { enqueue } from '../data/queue';
import { latestFor, usePending } from '../data/pending';
import { refreshAll, useResource } from '../data/resource';
import { when } from '../ui/format';
import { Action, Field, Form, Loaded, Page, Person, Select, TextArea } from '../ui/kit';

function Share(props: { k: SkillShare }) {
  const k = props.k;
  const signups = fill('/api/v1/skill-shares/{id}/signups', { id: k.id });
  const leave = fill('/api/v1/skill-shares/{id}/signups/me', { id: k.id });
  const items = usePending();
  const queuedJoin = latestFor(items, signups);
  const queuedLeave = latestFor(items, leave);
  const what = `${k.title} (${when(k.session.starts_at)})`;
  return (
    <li class="card">
      <h2>{k.title}</h2>
      <p class="muted">
        <Person p={k.presenter} /> · {k.minutes} min · {when(k.session.starts_at)}
        {k.status !== 'approved' && ` · ${k.status.replace('_', ' ')}`}
      </p>
      {k.summary && <p>{k.summary}</p>}
      <p>
        {k.attending_count} attending
        {k.capacity != null && ` of ${k.capacity}`}
        {k.waitlist_count > 0 && ` · ${k.waitlist_count} waiting`}
      </p>
      {k.presenting ? (
        <p class="badge ok">You present this</p>
      ) : k.my_status === 'attending' ? (
        <p>
          <span class="badge ok">You have a place</span>{' '}
          {queuedLeave && !queuedLeave.failed ? <span class="badge">leaving (pending)</span> : <Action label={`Leave ${k.title}`} class="secondary" run={() => enqueue({ method: 'delete', url: leave, label: `Leave ${what}` })} />}
        </p>
      ) : k.my_status === 'waitlisted' ? (
        <p>
          <span class="badge">Place {k.my_position} on the waitlist</span>{' '}
          <Action label={`Leave the waitlist of ${k.title}`} class="secondary" run={() => enqueue({ method: 'delete', url: leave, label: `Leave the waitlist of ${what}` })} />
        </p>
      ) : queuedJoin && !queuedJoin.failed ? (
        <span class="badge">sign-up pending</span>
      ) : k.signups_open ? (
        <Action
          label={k.places_left === 0 ? `Join the waitlist of ${k.title}` : `Sign up for ${k.title}`}
          run={() => enqueue({ method: 'post', url: signups, body: {}, label: `Sign up for ${what}` })}
        />
      ) : null}
    </li>
  );
}

function Offer(props: { cohortId: string }) {
  const sessions = useResource<{ items: Session[] }>(fill('/api/v1/cohorts/{cohort_id}/sessions', { cohort_id: props.cohortId }) + `?from=${encodeURIComponent(new Date().toISOString())}&limit=10`);
  const [f, setF] = useState({ session: '', title: '', summary: '', minutes: '20', capacity: '' });
  const [open, setOpen] = useState(false);
  if (!open) return <button type="button" onClick={() => setOpen(true)}>Offer a skill share</button>;
  const list = sessions.data?.items ?? [];
  return (
    <Form submit="Offer" done="Offered." action={async () => {
      const session = f.session || list[0]?.id;
      if (!session) throw new Error('There is no upcoming session to offer it in.');
      const body: S['NewSkillShare'] = { title: f.title, summary: f.summary || null, minutes: Number(f.minutes), capacity: f.capacity ? Number(f.capacity) : null };
      await call('post', fill('/api/v1/sessions/{session_id}/skill-shares', { session_id: session }), body, { idempotencyKey: crypto.randomUUID() });
      setOpen(false);
      refreshAll();
    }}>
      <Select label="Session" value={f.session || list[0]?.id || ''} onChange={(v) => setF({ ...f, session: v })} options={list.map((s) => ({ value: s.id, label: `${s.title}, ${when(s.starts_at)}` }))} />
      <Field label="Title" required value={f.title} onInput={(e) => setF({ ...f, title: e.currentTarget.value })} />
      <TextArea label="What others will be able to do afterwards" value={f.summary} onInput={(e) => setF({ ...f, summary: e.currentTarget.value })} />
      <Field label="Minutes" type="number" min={5} max={240} required value={f.minutes} onInput={(e) => setF({ ...f, minutes: e.currentTarget.value })} />
      <Field label="Places (empty for unlimited)" type="number" min={1} max={500} value={f.capacity} onInput={(e) => setF({ ...f, capacity: e.currentTarget.value })} />
    </Form>
  );
}

export function SkillShares(props: { params?: { id: string }; id?: string }) {
  const id = props.params?.id ?? props.id ?? '';
  const res = useResource<{ items: SkillShare[] }>(fill('/api/v1/cohorts/{cohort_id}/skill-shares', { cohort_id: id }) + '?limit=100');
  return (
    <Page title="Skill shares" back={{ href: `/app/cohorts/${id}`, label: 'Cohort' }}>
      <Offer cohortId={id} />
      <Loaded res={res} what="the skill shares">
        {(d) => (d.items.length ? <ul class="list">{d.items.map((k) => <Share key={k.id} k={k} />)}</ul> : <p class="muted">None offered yet.</p>)}
      </Loaded>
    </Page>
  );
}
