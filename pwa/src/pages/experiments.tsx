// Experiments: mine, the cohort's board, commit a new one, and one experiment with the 30-second
// check-in (queued, so it works on a train), its metric as a small chart, comments, help,
// celebrations, the outcome and seeding the next one.
import { useState } from 'preact/hooks';
import { call, route as fill } from '../api/client';
import type { CheckIn, Experiment, S, Session } from '../api/types';
import { auth } from '../auth';
import { enqueue } from '../data/queue';
import { usePending } from '../data/pending';
import { refreshAll, useResource } from '../data/resource';
import { day, when } from '../ui/format';
import { Action, Field, Form, Loaded, Page, Person, Select, TextArea } from '../ui/kit';

type Params = { params?: { id: string }; id?: string };
const idOf = (p: Params) => p.params?.id ?? p.id ?? '';

function ExperimentCard(props: { e: Experiment }) {
  const e = props.e;
  return (
    <li class="card">
      <h2>
        <a href={`/app/experiments/${e.id}`}>{e.title}</a>
      </h2>
      <p class="muted">
        <Person p={e.owner} /> · {e.state.replace('_', ' ')}
        {e.overdue && <strong> · overdue</strong>}
        {e.due_at && ` · due ${day(e.due_at)}`} · {e.check_in_count} check-ins · {e.celebrations} 🎉
      </p>
    </li>
  );
}

export function Experiments() {
  const mine = useResource<{ items: Experiment[] }>('/api/v1/me/experiments?limit=50');
  return (
    <Page title="My experiments">
      <Loaded res={mine} what="your experiments">
        {(d) =>
          d.items.length ? (
            <ul class="list">{d.items.map((e) => <ExperimentCard key={e.id} e={e} />)}</ul>
          ) : (
            <p class="muted">No experiments yet. Commit to one from your cohort's board.</p>
          )
        }
      </Loaded>
      <p>
        <a href="/app/cohorts">Your cohorts' boards</a>
      </p>
    </Page>
  );
}

function Commit(props: { cohortId: string }) {
  const sessions = useResource<{ items: Session[] }>(fill('/api/v1/cohorts/{cohort_id}/sessions', { cohort_id: props.cohortId }) + `?from=${encodeURIComponent(new Date().toISOString())}&limit=10`);
  const [f, setF] = useState({ title: '', success_signal: '', due_session_id: '', metric: '', unit: '' });
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Commit to an experiment
      </button>
    );
  const set = (k: keyof typeof f) => (e: { currentTarget: { value: string } }) => setF({ ...f, [k]: e.currentTarget.value });
  return (
    <Form submit="Commit" action={async () => {
      const made = await call<Experiment>('post', fill('/api/v1/cohorts/{cohort_id}/experiments', { cohort_id: props.cohortId }), {
        title: f.title,
        success_signal: f.success_signal,
        due_session_id: f.due_session_id || null,
        metric: f.metric ? { name: f.metric, unit: f.unit || null } : null,
      }, { idempotencyKey: crypto.randomUUID() });
      location.assign(`/app/experiments/${made.id}`);
    }}>
      <Field label="What I will try" required value={f.title} onInput={set('title')} />
      <Field label="How I'll know it worked" required value={f.success_signal} onInput={set('success_signal')} />
      <Select label="Due at session" value={f.due_session_id} onChange={(v) => setF({ ...f, due_session_id: v })}
        options={[{ value: '', label: 'No session' }, ...(sessions.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.title}, ${when(s.starts_at)}` }))]} />
      <Field label="Metric (optional)" value={f.metric} onInput={set('metric')} hint="Something you can count, e.g. pages written." />
      <Field label="Metric unit (optional)" value={f.unit} onInput={set('unit')} />
    </Form>
  );
}

export function Board(props: Params) {
  const id = idOf(props);
  const board = useResource<{ items: Experiment[] }>(fill('/api/v1/cohorts/{cohort_id}/experiments', { cohort_id: id }) + '?limit=100');
  return (
    <Page title="Experiments board" back={{ href: `/app/cohorts/${id}`, label: 'Cohort' }}>
      <Commit cohortId={id} />
      <Loaded res={board} what="the board">
        {(d) => (d.items.length ? <ul class="list">{d.items.map((e) => <ExperimentCard key={e.id} e={e} />)}</ul> : <p class="muted">Nobody has committed yet.</p>)}
      </Loaded>
    </Page>
  );
}

/** The metric over time as a small SVG line (no chart library needed for one line). */
export function Chart(props: { points: { at: string; value: number }[]; name: string; unit?: string | null }) {
  const pts = props.points;
  if (pts.length < 2) return <p class="muted">{pts.length ? `${props.name}: ${pts[0].value}` : 'No values yet.'}</p>;
  const w = 300, h = 90, pad = 6;
  const xs = pts.map((p) => Date.parse(p.at)), ys = pts.map((p) => p.value);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (w - 2 * pad);
  const sy = (y: number) => h - pad - ((y - y0) / (y1 - y0 || 1)) * (h - 2 * pad);
  const d = pts.map((p, i) => `${i ? 'L' : 'M'}${sx(xs[i]).toFixed(1)},${sy(p.value).toFixed(1)}`).join(' ');
  const last = pts[pts.length - 1];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${props.name} over time: from ${pts[0].value} to ${last.value}${props.unit ? ' ' + props.unit : ''}`}>
        <path d={d} fill="none" stroke="currentColor" stroke-width="2" />
        {pts.map((p, i) => (
          <circle key={i} cx={sx(xs[i])} cy={sy(p.value)} r="3" />
        ))}
      </svg>
      <figcaption>
        {props.name}: {last.value}
        {props.unit ? ` ${props.unit}` : ''} (lowest {y0}, highest {y1})
      </figcaption>
    </figure>
  );
}

function CheckInForm(props: { e: Experiment }) {
  const e = props.e;
  const [f, setF] = useState({ done: '', next: '', blockers: '', value: '' });
  const set = (k: keyof typeof f) => (ev: { currentTarget: { value: string } }) => setF({ ...f, [k]: ev.currentTarget.value });
  const url = fill('/api/v1/experiments/{experiment_id}/check-ins', { experiment_id: e.id });
  return (
    <Form submit="Check in" done="Saved on this phone; it is sent as soon as there is a network." action={async () => {
      const body: S['NewCheckIn'] = {
        done: f.done || null,
        next: f.next || null,
        blockers: f.blockers || null,
        value: f.value === '' ? null : Number(f.value),
      };
      if (!body.done && !body.next && !body.blockers && body.value === null) throw new Error('Write at least one line.');
      await enqueue({ method: 'post', url, body, label: `Check-in on ${e.title}: ${f.done || f.next || f.blockers || f.value}` });
      setF({ done: '', next: '', blockers: '', value: '' });
    }}>
      <Field label="Done" value={f.done} onInput={set('done')} />
      <Field label="Next" value={f.next} onInput={set('next')} />
      <Field label="Blockers" value={f.blockers} onInput={set('blockers')} />
      {e.metric && <Field label={`${e.metric.name}${e.metric.unit ? ` (${e.metric.unit})` : ''}`} type="number" step="any" inputMode="decimal" value={f.value} onInput={set('value')} />}
    </Form>
  );
}

function Outcome(props: { e: Experiment }) {
  const e = props.e;
  const [f, setF] = useState({ result: 'worked', learned: '', next_step: '' });
  return (
    <Form submit="Record the outcome" action={async () => {
      await call('patch', fill('/api/v1/experiments/{experiment_id}', { experiment_id: e.id }), {
        state: 'done',
        outcome: { result: f.result as S['OutcomeResult'], learned: f.learned || null, next_step: f.next_step || null },
      });
      refreshAll();
    }}>
      <Select label="Did it work?" value={f.result} onChange={(v) => setF({ ...f, result: v })}
        options={[{ value: 'worked', label: 'It worked' }, { value: 'partly', label: 'Partly' }, { value: 'did_not', label: 'It did not' }]} />
      <TextArea label="What I learned" value={f.learned} onInput={(ev) => setF({ ...f, learned: ev.currentTarget.value })} />
      <TextArea label="What I will try next" value={f.next_step} onInput={(ev) => setF({ ...f, next_step: ev.currentTarget.value })} />
    </Form>
  );
}

export function ExperimentPage(props: Params) {
  const id = idOf(props);
  const res = useResource<Experiment>(fill('/api/v1/experiments/{experiment_id}', { experiment_id: id }));
  const checkUrl = fill('/api/v1/experiments/{experiment_id}/check-ins', { experiment_id: id });
  const commentsUrl = fill('/api/v1/experiments/{experiment_id}/comments', { experiment_id: id });
  const checkins = useResource<{ items: CheckIn[] }>(checkUrl + '?limit=50');
  const metric = useResource<{ items: { at: string; value: number }[] }>(fill('/api/v1/experiments/{experiment_id}/metric', { experiment_id: id }) + '?limit=200');
  const comments = useResource<{ items: S['Comment'][] }>(commentsUrl + '?limit=100');
  const waiting = usePending();
  const [comment, setComment] = useState('');
  const [help, setHelp] = useState('');
  return (
    <Page title={res.data?.title ?? 'Experiment'} back={{ href: '/app/experiments', label: 'Experiments' }}>
      <Loaded res={res} what="this experiment">
        {(e) => {
          const mine = e.owner_id === auth()?.userId;
          const open = e.state === 'committed' || e.state === 'in_progress';
          return (
            <>
              <p>
                <Person p={e.owner} /> · {e.state.replace('_', ' ')}
                {e.overdue && <strong> · overdue</strong>}
                {e.due_at && ` · due ${when(e.due_at)}`}
              </p>
              <p>How they'll know: {e.success_signal}</p>
              {e.outcome && (
                <p>
                  Outcome: <strong>{e.outcome.result.replace('_', ' ')}</strong>
                  {e.outcome.learned && ` · learned: ${e.outcome.learned}`}
                  {e.outcome.next_step && ` · next: ${e.outcome.next_step}`}
                </p>
              )}
              {mine && open && (
                <section aria-labelledby="checkin">
                  <h2 id="checkin">Check in</h2>
                  <CheckInForm e={e} />
                </section>
              )}
              {e.metric && (
                <section aria-labelledby="metric">
                  <h2 id="metric">{e.metric.name}</h2>
                  <Chart points={metric.data?.items ?? []} name={e.metric.name} unit={e.metric.unit} />
                </section>
              )}
              <section aria-labelledby="history">
                <h2 id="history">Check-ins</h2>
                <ul class="list plain">
                  {waiting.filter((w) => w.url === checkUrl && !w.failed).map((w) => {
                    const b = w.body as S['NewCheckIn'];
                    return (
                      <li key={w.id} class="pending-item">
                        <span class="badge">pending</span> {[b.done && `done: ${b.done}`, b.next && `next: ${b.next}`, b.blockers && `blockers: ${b.blockers}`, b.value != null && `value: ${b.value}`].filter(Boolean).join(' · ')}
                      </li>
                    );
                  })}
                  {(checkins.data?.items ?? []).map((c) => (
                    <li key={c.id}>
                      <time dateTime={c.created_at} class="muted">{when(c.created_at)}</time>{' '}
                      {[c.done && `done: ${c.done}`, c.next && `next: ${c.next}`, c.blockers && `blockers: ${c.blockers}`, c.value != null && `value: ${c.value}`].filter(Boolean).join(' · ')}
                    </li>
                  ))}
                </ul>
              </section>
              <p class="buttons">
                {!mine && (
                  <Action label={e.celebrated_by_me ? 'Celebrated 🎉' : 'Celebrate 🎉'} run={() =>
                    enqueue({ method: 'post', url: fill('/api/v1/experiments/{experiment_id}/celebrations', { experiment_id: e.id }), label: `Celebrate ${e.title}` })
                  } />
                )}
                {mine && e.state === 'done' && (
                  <Action label="Seed the next experiment" run={async () => {
                    const n = await call<Experiment>('post', fill('/api/v1/experiments/{experiment_id}/seed-next', { experiment_id: e.id }), undefined, { idempotencyKey: crypto.randomUUID() });
                    location.assign(`/app/experiments/${n.id}`);
                  }} />
                )}
              </p>
              {mine && open && (
                <section aria-labelledby="outcome">
                  <h2 id="outcome">Outcome</h2>
                  <Outcome e={e} />
                </section>
              )}
              {!mine && open && (
                <section aria-labelledby="help">
                  <h2 id="help">Offer help</h2>
                  <Form submit="Offer help" done="Offered." action={async () => {
                    await call('post', fill('/api/v1/experiments/{experiment_id}/help-offers', { experiment_id: e.id }), { message: help }, { idempotencyKey: crypto.randomUUID() });
                    setHelp('');
                  }}>
                    <TextArea label="How you could help" required value={help} onInput={(ev) => setHelp(ev.currentTarget.value)} />
                  </Form>
                </section>
              )}
              <section aria-labelledby="comments">
                <h2 id="comments">Comments</h2>
                <ul class="list plain">
                  {(comments.data?.items ?? []).map((c) => (
                    <li key={c.id}>
                      <Person p={c.author} /> <span class="muted">{when(c.created_at)}</span>
                      <div class="prose" dangerouslySetInnerHTML={{ __html: c.body_html }} />
                    </li>
                  ))}
                  {waiting.filter((w) => w.url === commentsUrl && !w.failed).map((w) => (
                    <li key={w.id} class="pending-item">
                      <span class="badge">pending</span> {(w.body as { body: string }).body}
                    </li>
                  ))}
                </ul>
                <Form submit="Comment" action={async () => {
                  if (!comment.trim()) throw new Error('Write a comment first.');
                  await enqueue({ method: 'post', url: commentsUrl, body: { body: comment }, label: `Comment on ${e.title}` });
                  setComment('');
                }}>
                  <TextArea label="Your comment" value={comment} onInput={(ev) => setComment(ev.currentTarget.value)} />
                </Form>
              </section>
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
