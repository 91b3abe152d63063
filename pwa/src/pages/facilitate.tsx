// The facilitator's screen: the rota with its fairness chart (turns per member and role), planning
// and overriding duties, who has not accepted the charter, experiments that are stuck or overdue,
// the RSVPs of the next session per person, invitations and invite links, the series.
import { useState } from 'preact/hooks';
import { call, route as fill } from '../api/client';
import type { S, Session } from '../api/types';
import { refreshAll, useResource } from '../data/resource';
import { day, when, zones } from '../ui/format';
import { Field, Form, Loaded, Page, Person, Select, TextArea } from '../ui/kit';

type RotaRow = { session_id: string; title: string; starts_at: string; duties: S['Duty'][] };
type Role = { id: string; name: string; retired?: boolean };

function FairnessChart(props: { f: S['Fairness']; roles: Role[] }) {
  const max = Math.max(1, ...props.f.members.map((m) => m.total));
  const name = (id: string) => props.roles.find((r) => r.id === id)?.name ?? 'role';
  return (
    <table class="fairness">
      <caption>Duties served since {day(props.f.from)}, per member and role</caption>
      <thead>
        <tr>
          <th scope="col">Member</th>
          <th scope="col">Turns</th>
          <th scope="col">Upcoming</th>
        </tr>
      </thead>
      <tbody>
        {props.f.members.map((m) => (
          <tr key={m.user_id}>
            <th scope="row">
              <Person p={m.user} />
              {m.overloaded && <span class="badge warn">overloaded</span>}
            </th>
            <td>
              <span class="bar" style={{ width: `${(m.total / max) * 100}%` }} aria-hidden="true" />
              {m.total} ({m.turns.filter((t) => t.turns > 0).map((t) => `${name(t.role_id)} ${t.turns}`).join(', ') || 'none'})
            </td>
            <td>{m.upcoming}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Override(props: { duty: S['Duty']; members: S['Member'][]; when: string }) {
  const [who, setWho] = useState(props.duty.user_id ?? '');
  return (
    <Form class="inline" submit="Set" action={async () => {
      await call('put', fill('/api/v1/assignments/{assignment_id}', { assignment_id: props.duty.id }), { user_id: who || null });
      refreshAll();
    }}>
      <Select label={`${props.duty.role}, ${props.when}`} value={who} onChange={setWho}
        options={[{ value: '', label: 'Nobody' }, ...props.members.filter((m) => m.state === 'active').map((m) => ({ value: m.user_id, label: m.display_name }))]} />
    </Form>
  );
}

function Settings(props: { cohort: S['Cohort']; approval: boolean | undefined; reload: () => void }) {
  const c = props.cohort;
  const [f, setF] = useState({ name: c.name, description: c.description, time_zone: c.time_zone });
  const [approval, setApproval] = useState(!!props.approval);
  return (
    <Form submit="Save settings" done="Saved." action={async () => {
      if (c.role === 'organizer') await call('patch', fill('/api/v1/cohorts/{cohort_id}', { cohort_id: c.id }), f);
      await call('put', fill('/api/v1/cohorts/{cohort_id}/skill-share-settings', { cohort_id: c.id }), { approval_required: approval });
      props.reload();
    }}>
      {c.role === 'organizer' && (
        <>
          <Field label="Cohort name" required value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
          <TextArea label="Description" value={f.description} onInput={(e) => setF({ ...f, description: e.currentTarget.value })} />
          <Select label="Cohort time zone (sessions are scheduled in it)" value={f.time_zone} onChange={(v) => setF({ ...f, time_zone: v })} options={zones().map((z) => ({ value: z, label: z }))} />
        </>
      )}
      <div class="field check">
        <input id="approval" type="checkbox" checked={approval} onChange={(e) => setApproval(e.currentTarget.checked)} />
        <label for="approval">Skill-share offers wait for a facilitator's approval</label>
      </div>
    </Form>
  );
}

function Members(props: { cohortId: string; members: S['Member'][]; organizer: boolean }) {
  return (
    <ul class="list plain">
      {props.members.filter((m) => m.state !== 'left').map((m) => (
        <li key={m.user_id}>
          {props.organizer ? (
            <Select label={`${m.display_name}${m.state === 'paused' ? ' (paused)' : ''}`} value={m.role}
              onChange={(role) => void call('patch', fill('/api/v1/cohorts/{cohort_id}/members/{user_id}', { cohort_id: props.cohortId, user_id: m.user_id }), { role }).then(refreshAll, (e) => alert(e.message))}
              options={[{ value: 'member', label: 'Member' }, { value: 'facilitator', label: 'Facilitator' }, { value: 'organizer', label: 'Organizer' }]} />
          ) : (
            <>
              {m.display_name} <span class="muted">{m.role}</span>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function Rsvps(props: { session: Session }) {
  const res = useResource<{ items: { user: S['Person']; response: string; note: string }[] }>(fill('/api/v1/sessions/{session_id}/rsvps', { session_id: props.session.id }));
  return (
    <Loaded res={res} what="the answers">
      {(d) => (
        <ul class="list plain">
          {d.items.map((r) => (
            <li key={r.user.id}>
              <Person p={r.user} />: {r.response}
              {r.note && ` (${r.note})`}
            </li>
          ))}
          {d.items.length === 0 && <li class="muted">No answers yet.</li>}
        </ul>
      )}
    </Loaded>
  );
}

export function Facilitate(props: { params?: { id: string }; id?: string }) {
  const id = props.params?.id ?? props.id ?? '';
  const c = (p: string) => fill(p, { cohort_id: id });
  const fairness = useResource<S['Fairness']>(c('/api/v1/cohorts/{cohort_id}/rota/fairness'));
  const roles = useResource<{ items: Role[] }>(c('/api/v1/cohorts/{cohort_id}/roles'));
  const rota = useResource<{ items: RotaRow[] }>(c('/api/v1/cohorts/{cohort_id}/rota') + '?limit=8');
  const members = useResource<{ items: S['Member'][] }>(c('/api/v1/cohorts/{cohort_id}/members'));
  const acceptances = useResource<S['Acceptances']>(c('/api/v1/cohorts/{cohort_id}/charter/acceptances'));
  const attention = useResource<{ items: { experiment: S['Experiment']; overdue: boolean; quiet_since?: string | null; repeated_blocker?: string | null }[] }>(c('/api/v1/cohorts/{cohort_id}/experiments/attention'));
  const next = useResource<{ items: Session[] }>(c('/api/v1/cohorts/{cohort_id}/sessions') + `?from=${encodeURIComponent(new Date().toISOString())}&limit=1`);
  const series = useResource<{ items: { id: string; title: string; rrule: string; local_time: string; time_zone: string }[] }>(c('/api/v1/cohorts/{cohort_id}/series'));
  const cohortRes = useResource<S['Cohort']>(c('/api/v1/cohorts/{cohort_id}'));
  const shareSettings = useResource<S['SkillShareSettings']>(c('/api/v1/cohorts/{cohort_id}/skill-share-settings'));
  const [emails, setEmails] = useState('');
  const [link, setLink] = useState<string | null>(null);
  return (
    <Page title="Facilitate" back={{ href: `/app/cohorts/${id}`, label: 'Cohort' }}>
      <section aria-labelledby="fair">
        <h2 id="fair">Rota fairness</h2>
        <Loaded res={fairness} what="the fairness chart">{(f) => <FairnessChart f={f} roles={roles.data?.items ?? []} />}</Loaded>
      </section>
      <section aria-labelledby="rota">
        <h2 id="rota">Rota</h2>
        <Form submit="Plan the next 12 weeks" done="Planned." action={async () => {
          await call('post', c('/api/v1/cohorts/{cohort_id}/rota/plan'), { weeks: 12 }, { idempotencyKey: crypto.randomUUID() });
          refreshAll();
        }} />
        <Loaded res={rota} what="the rota">
          {(d) => (
            <ul class="list">
              {d.items.map((r) => (
                <li key={r.session_id} class="card">
                  <h3>{r.title}, {when(r.starts_at)}</h3>
                  {r.duties.map((duty) => <Override key={duty.id} duty={duty} members={members.data?.items ?? []} when={day(r.starts_at)} />)}
                </li>
              ))}
            </ul>
          )}
        </Loaded>
      </section>
      <section aria-labelledby="charter">
        <h2 id="charter">Not yet accepted the charter</h2>
        <Loaded res={acceptances} what="the acceptances">
          {(a) => (a.pending.length ? <ul class="list plain">{a.pending.map((p) => <li key={p.user_id}><Person p={p.user} /></li>)}</ul> : <p class="muted">Everyone has accepted.</p>)}
        </Loaded>
      </section>
      <section aria-labelledby="stuck">
        <h2 id="stuck">Stuck and overdue experiments</h2>
        <Loaded res={attention} what="the experiments">
          {(d) =>
            d.items.length ? (
              <ul class="list plain">
                {d.items.map((x) => (
                  <li key={x.experiment.id}>
                    <a href={`/app/experiments/${x.experiment.id}`}>{x.experiment.title}</a> (<Person p={x.experiment.owner} />):{' '}
                    {[x.overdue && 'overdue', x.quiet_since && `quiet since ${day(x.quiet_since)}`, x.repeated_blocker && `blocked twice by "${x.repeated_blocker}"`].filter(Boolean).join(', ')}
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">Nothing stuck.</p>
            )
          }
        </Loaded>
      </section>
      <section aria-labelledby="rsvps">
        <h2 id="rsvps">Answers for the next session</h2>
        {next.data?.items[0] ? <Rsvps session={next.data.items[0]} /> : <p class="muted">No session planned.</p>}
      </section>
      <section aria-labelledby="invite">
        <h2 id="invite">Invite</h2>
        <Form submit="Send invitations" done="Sent." action={async () => {
          const list = emails.split(/[\s,;]+/).filter(Boolean);
          if (!list.length) throw new Error('Enter at least one address.');
          await call('post', c('/api/v1/cohorts/{cohort_id}/invitations'), { emails: list }, { idempotencyKey: crypto.randomUUID() });
          setEmails('');
        }}>
          <TextArea label="Email addresses, one per line" value={emails} onInput={(e) => setEmails(e.currentTarget.value)} />
        </Form>
        <Form submit="Make an invite link" action={async () => {
          const made = await call<{ url: string }>('post', c('/api/v1/cohorts/{cohort_id}/invite-links'), {}, { idempotencyKey: crypto.randomUUID() });
          setLink(made.url);
        }} />
        {link && (
          <p>
            Share this link (shown once): <code class="break">{link}</code>
          </p>
        )}
      </section>
      <section aria-labelledby="settings">
        <h2 id="settings">Settings</h2>
        <Loaded res={cohortRes} what="the settings">
          {(co) => <Settings key={co.id + String(shareSettings.data?.approval_required)} cohort={co} approval={shareSettings.data?.approval_required} reload={() => { cohortRes.reload(); shareSettings.reload(); }} />}
        </Loaded>
      </section>
      <section aria-labelledby="members">
        <h2 id="members">Members and roles</h2>
        <Loaded res={members} what="the members">{(d) => <Members cohortId={id} members={d.items} organizer={cohortRes.data?.role === 'organizer'} />}</Loaded>
      </section>
      <section aria-labelledby="series">
        <h2 id="series">Series</h2>
        <Loaded res={series} what="the series">
          {(d) => (
            <ul class="list plain">
              {d.items.map((x) => (
                <li key={x.id}>
                  {x.title}: {x.rrule} at {x.local_time} ({x.time_zone})
                </li>
              ))}
            </ul>
          )}
        </Loaded>
      </section>
    </Page>
  );
}
