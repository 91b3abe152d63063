// One session: the agenda as a timeline of time boxes (with a live timer while it runs), who holds
// which duty, my RSVP, my duties (confirm, swap, cover), skill-share slots, and for those on duty
// the attendance and the notes.
import { useEffect, useState } from 'preact/hooks';
import { auth } from '../auth';
import { ApiProblem, call, raw, route as fill } from '../api/client';
import type { Session, S } from '../api/types';
import { enqueue } from '../data/queue';
import { refreshAll, useResource } from '../data/resource';
import { clock, when } from '../ui/format';
import { Action, Form, Loaded, Page, Person, Select, TextArea } from '../ui/kit';
import { ConfirmDuty, Rsvp } from './common';

type RotaRow = { session_id: string; title: string; starts_at: string; duties: S['Duty'][] };

/** Downloads the session as a calendar file (`GET /sessions/{id}/calendar.ics`), which the phone
 * hands to its calendar app. */
async function download(sessionId: string, title: string): Promise<void> {
  const res = await raw('get', fill('/api/v1/sessions/{session_id}/calendar.ics', { session_id: sessionId }));
  if (!res.ok) throw new ApiProblem(res.status, await res.json().catch(() => ({})));
  const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/calendar' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${title.replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'session'}.ics`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function useNow(every = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(t);
  }, [every]);
  return now;
}

function Timeline(props: { s: Session; timekeeper: boolean }) {
  const { s } = props;
  const now = useNow();
  const start = Date.parse(s.starts_at);
  let t = start;
  const boxes = s.agenda.map((a) => {
    const from = t;
    t += a.minutes * 60_000;
    return { ...a, from, to: t };
  });
  const current = boxes.find((b) => now >= b.from && now < b.to);
  return (
    <>
      {current && (
        <p class={props.timekeeper ? 'timer big' : 'timer'} role="timer" aria-live="off">
          Now: <strong>{current.title}</strong>, {Math.ceil((current.to - now) / 60_000)} min left
          {props.timekeeper && ` (${formatLeft(current.to - now)})`}
        </p>
      )}
      <ol class="timeline">
        {boxes.map((b) => (
          <li key={b.id} class={b === current ? 'now' : undefined} aria-current={b === current ? 'step' : undefined}>
            <time dateTime={new Date(b.from).toISOString()}>{clock(new Date(b.from).toISOString())}</time>{' '}
            <strong>{b.title}</strong> <span class="muted">{b.minutes} min</span>
          </li>
        ))}
      </ol>
    </>
  );
}

function formatLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The duties I could exchange mine with: other people's, in sessions where I hold none, held by
 * people who hold none in my session (the server refuses the others).
 */
function swappable(rows: RotaRow[], sessionId: string): S['Duty'][] {
  const me = auth()?.userId;
  const busyHere = new Set(rows.find((r) => r.session_id === sessionId)?.duties.map((d) => d.user_id));
  return rows
    .filter((r) => r.session_id !== sessionId && !r.duties.some((d) => d.user_id === me))
    .flatMap((r) => r.duties.filter((d) => d.user_id && !busyHere.has(d.user_id)).map((d) => ({ ...d, role: `${d.role}, ${when(r.starts_at)}` })));
}

function MyDuty(props: { s: Session; d: Session['my_duties'][number]; peers: S['Duty'][] }) {
  const { s, d } = props;
  const [peer, setPeer] = useState('');
  const what = `${s.title} on ${when(s.starts_at)}`;
  const others = props.peers;
  const ask = (body: S['NewSwapRequest']) =>
    call('post', fill('/api/v1/assignments/{assignment_id}/swap-requests', { assignment_id: d.assignment_id }), body, {
      idempotencyKey: crypto.randomUUID(),
    }).then(refreshAll);
  return (
    <li>
      <p>
        <strong>{d.role}</strong> <ConfirmDuty assignmentId={d.assignment_id} role={d.role} confirmed={d.confirmed} what={what} />
      </p>
      <Action label="Ask for cover" class="secondary" run={() => ask({ kind: 'cover' })} />
      {others.length > 0 && (
        <Form submit="Ask to swap" action={async () => {
          const p = others.find((o) => o.id === peer) ?? others[0];
          await ask({ kind: 'swap', peer_id: p.user_id, peer_assignment_id: p.id });
        }} done="Asked.">
          <Select
            label={`Swap your ${d.role} with`}
            value={peer || others[0].id}
            onChange={setPeer}
            options={others.map((o) => ({ value: o.id, label: `${o.user?.display_name ?? '?'} (${o.role})` }))}
          />
        </Form>
      )}
    </li>
  );
}

function OnDuty(props: { s: Session; members: S['Member'][] }) {
  const { s } = props;
  const [status, setStatus] = useState<Record<string, string>>(
    Object.fromEntries((s.details?.attendance ?? []).map((a) => [a.user_id, a.status])),
  );
  const [notes, setNotes] = useState(s.details?.notes ?? '');
  const active = props.members.filter((m) => m.state === 'active');
  return (
    <section aria-labelledby="onduty">
      <h2 id="onduty">For those on duty</h2>
      <Form submit="Save attendance" done="Saved." action={() =>
        call('put', fill('/api/v1/sessions/{session_id}/attendance', { session_id: s.id }), {
          records: active.map((m) => ({ user_id: m.user_id, status: status[m.user_id] ?? 'present' })),
        }).then(refreshAll)
      }>
        {active.map((m) => (
          <Select key={m.user_id} label={m.display_name} value={status[m.user_id] ?? 'present'} onChange={(v) => setStatus({ ...status, [m.user_id]: v })}
            options={[{ value: 'present', label: 'Present' }, { value: 'late', label: 'Late' }, { value: 'absent', label: 'Absent' }]} />
        ))}
      </Form>
      <Form submit="Save notes" done="Saved." action={() =>
        enqueue({ method: 'put', url: fill('/api/v1/sessions/{session_id}/notes', { session_id: s.id }), body: { notes }, label: `Notes of ${s.title}` })
      }>
        <TextArea label="Notes (Markdown)" value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
      </Form>
    </section>
  );
}

export function SessionPage(props: { id?: string; params?: { id: string } }) {
  const id = props.params?.id ?? props.id ?? '';
  const res = useResource<Session>(fill('/api/v1/sessions/{session_id}', { session_id: id }));
  const cohort = res.data?.cohort_id;
  const rota = useResource<{ items: RotaRow[] }>(cohort ? fill('/api/v1/cohorts/{cohort_id}/rota', { cohort_id: cohort }) + '?limit=50' : null);
  const members = useResource<{ items: S['Member'][] }>(cohort ? fill('/api/v1/cohorts/{cohort_id}/members', { cohort_id: cohort }) : null);
  const shares = useResource<{ items: S['SkillShare'][] }>(fill('/api/v1/sessions/{session_id}/skill-shares', { session_id: id }));
  return (
    <Page title={res.data?.title ?? 'Session'} back={{ href: '/app/', label: 'Home' }}>
      <Loaded res={res} what="this session">
        {(s) => {
          const duties = rota.data?.items.find((r) => r.session_id === s.id)?.duties ?? [];
          const timekeeper = s.my_duties.some((d) => /time/i.test(d.role));
          return (
            <>
              <p>
                <time dateTime={s.starts_at}>{when(s.starts_at)}</time>–{clock(s.ends_at)}
                {s.location && ` · ${s.location}`}
                {s.status === 'cancelled' && <strong> · cancelled{s.cancel_reason ? `: ${s.cancel_reason}` : ''}</strong>}
              </p>
              <Rsvp session={s} />
              <Action label="Add to my calendar" class="secondary" run={() => download(s.id, s.title)} />
              {s.details && (
                <p class="muted">
                  {s.details.rsvp_counts.yes} going · {s.details.rsvp_counts.maybe} maybe · {s.details.rsvp_counts.no} not going
                </p>
              )}
              {s.my_duties.length > 0 && (
                <section aria-labelledby="mine">
                  <h2 id="mine">Your duties</h2>
                  <ul class="list">
                    {s.my_duties.map((d) => <MyDuty key={d.assignment_id} s={s} d={d} peers={swappable(rota.data?.items ?? [], s.id)} />)}
                  </ul>
                </section>
              )}
              <section aria-labelledby="agenda">
                <h2 id="agenda">Agenda</h2>
                <Timeline s={s} timekeeper={timekeeper} />
              </section>
              <section aria-labelledby="duties">
                <h2 id="duties">Who does what</h2>
                {duties.length ? (
                  <ul class="list plain">
                    {duties.map((d) => (
                      <li key={d.id}>
                        {d.role}: {d.user ? <Person p={d.user} /> : <em>nobody yet</em>} {d.confirmed && <span class="badge ok">confirmed</span>}
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p class="muted">No duties planned.</p>
                )}
              </section>
              {(shares.data?.items.length ?? 0) > 0 && (
                <section aria-labelledby="shares">
                  <h2 id="shares">Skill shares</h2>
                  <ul class="list plain">
                    {shares.data!.items.map((k) => (
                      <li key={k.id}>
                        <strong>{k.title}</strong> by <Person p={k.presenter} />, {k.minutes} min
                        {k.my_status && ` · you: ${k.my_status}${k.my_position ? ` (place ${k.my_position})` : ''}`}
                      </li>
                    ))}
                  </ul>
                  <a href={`/app/cohorts/${s.cohort_id}/skill-shares`}>Sign up for skill shares</a>
                </section>
              )}
              {s.details && (s.details.notes_html || s.details.action_items.length > 0) && (
                <section aria-labelledby="notes">
                  <h2 id="notes">Notes and action items</h2>
                  {s.details.notes_html && <div class="prose" dangerouslySetInnerHTML={{ __html: s.details.notes_html }} />}
                  <ul class="list plain">
                    {s.details.action_items.map((a, i) => (
                      <li key={i}>
                        {a.text} {a.owner && <>— <Person p={a.owner} /></>} {a.due_on && <span class="muted">by {a.due_on}</span>}
                      </li>
                    ))}
                  </ul>
                </section>
              )}
              {s.my_duties.length > 0 && members.data && <OnDuty s={s} members={members.data.items} />}
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
