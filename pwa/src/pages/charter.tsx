// The charter: the current version, accepting it, what changed since the previous version (the
// diff, word by word), proposing a change and commenting on drafts.
import { useState } from 'preact/hooks';
import { call, route as fill } from '../api/client';
import type { S } from '../api/types';
import { refreshAll, useResource } from '../data/resource';
import { when } from '../ui/format';
import { Action, Form, Loaded, Page, Person, TextArea } from '../ui/kit';

type Version = S['CharterVersion'];

function Diff(props: { cohortId: string; from: string; to: string }) {
  const res = useResource<S['CharterDiff']>(
    fill('/api/v1/cohorts/{cohort_id}/charter/diff', { cohort_id: props.cohortId }) + `?from=${props.from}&to=${props.to}`,
  );
  return (
    <Loaded res={res} what="the changes">
      {(d) => (
        <dl class="diff">
          {d.fields.filter((f) => f.changed).map((f) => (
            <div key={f.field}>
              <dt>{f.field.replace('_', ' ')}</dt>
              <dd>
                {f.words ? (
                  f.words.map((w, i) => (w.op === 'insert' ? <ins key={i}>{w.text}</ins> : w.op === 'delete' ? <del key={i}>{w.text}</del> : <span key={i}>{w.text}</span>))
                ) : (
                  <>
                    {(f.added ?? []).map((a) => <ins key={a}>{a} </ins>)}
                    {(f.removed ?? []).map((a) => <del key={a}>{a} </del>)}
                  </>
                )}
              </dd>
            </div>
          ))}
        </dl>
      )}
    </Loaded>
  );
}

function Comments(props: { cohortId: string; version: Version }) {
  const url = fill('/api/v1/cohorts/{cohort_id}/charter/versions/{version_id}/comments', { cohort_id: props.cohortId, version_id: props.version.id });
  const res = useResource<{ items: S['Comment'][] }>(url + '?limit=100');
  const [body, setBody] = useState('');
  return (
    <>
      <ul class="list plain">
        {(res.data?.items ?? []).map((c) => (
          <li key={c.id}>
            <Person p={c.author} /> <span class="muted">{when(c.created_at)}</span>
            <div class="prose" dangerouslySetInnerHTML={{ __html: c.body_html }} />
          </li>
        ))}
      </ul>
      <Form submit="Comment on this draft" action={async () => {
        await call('post', url, { body }, { idempotencyKey: crypto.randomUUID() });
        setBody('');
        res.reload();
      }}>
        <TextArea label="Your comment on the draft" value={body} onInput={(e) => setBody(e.currentTarget.value)} />
      </Form>
    </>
  );
}

function Propose(props: { cohortId: string; current: Version | null | undefined }) {
  const [open, setOpen] = useState(false);
  const [mission, setMission] = useState(props.current?.mission ?? '');
  const [norms, setNorms] = useState(props.current?.norms ?? '');
  if (!open) return <button type="button" class="secondary" onClick={() => setOpen(true)}>Propose a change</button>;
  return (
    <Form submit="Propose" done="Proposed: the cohort can comment on it now." action={async () => {
      const c = props.current;
      await call('post', fill('/api/v1/cohorts/{cohort_id}/charter/versions', { cohort_id: props.cohortId }), {
        ...(c
          ? {
              goals: c.goals,
              learning_formats: c.learning_formats,
              other_learning_formats: c.other_learning_formats,
              project_kinds: c.project_kinds,
              confidentiality: c.confidentiality,
              review_cadence: c.review_cadence,
              weekly_minutes: c.weekly_minutes,
            }
          : { weekly_minutes: 90, review_cadence: { every: 3, unit: 'months' as const } }),
        mission,
        norms,
      }, { idempotencyKey: crypto.randomUUID() });
      refreshAll();
    }}>
      <TextArea label="Mission" value={mission} onInput={(e) => setMission(e.currentTarget.value)} />
      <TextArea label="Norms" value={norms} onInput={(e) => setNorms(e.currentTarget.value)} />
    </Form>
  );
}

export function Charter(props: { params?: { id: string }; id?: string }) {
  const id = props.params?.id ?? props.id ?? '';
  const res = useResource<S['Charter']>(fill('/api/v1/cohorts/{cohort_id}/charter', { cohort_id: id }));
  const versions = useResource<{ items: Version[] }>(fill('/api/v1/cohorts/{cohort_id}/charter/versions', { cohort_id: id }) + '?limit=20');
  const [showDiff, setShowDiff] = useState(false);
  return (
    <Page title="Charter" back={{ href: `/app/cohorts/${id}`, label: 'Cohort' }}>
      <Loaded res={res} what="the charter">
        {(c) => {
          const v = c.version;
          const previous = versions.data?.items.find((x) => x.state === 'superseded');
          const drafts = versions.data?.items.filter((x) => x.state === 'draft') ?? [];
          return (
            <>
              {!v && <p>No charter adopted yet.</p>}
              {v && (
                <article>
                  <h2>Version {v.number}</h2>
                  <p class="muted">Adopted {v.adopted_at ? when(v.adopted_at) : ''}{v.adopted_by && <> by <Person p={v.adopted_by} /></>}</p>
                  {c.owes_acceptance ? (
                    <Action label="I accept this charter" run={async () => {
                      await call('post', fill('/api/v1/cohorts/{cohort_id}/charter/acceptances', { cohort_id: id }), { version_id: v.id }, { idempotencyKey: crypto.randomUUID() });
                      res.reload();
                    }} />
                  ) : c.my_acceptance ? (
                    <p class="badge ok">You accepted it {when(c.my_acceptance.accepted_at)}</p>
                  ) : null}
                  <h3>Mission</h3>
                  <p>{v.mission}</p>
                  {v.goals.length > 0 && (
                    <>
                      <h3>Goals</h3>
                      <ul>{v.goals.map((g) => <li key={g}>{g}</li>)}</ul>
                    </>
                  )}
                  <h3>Norms</h3>
                  <div class="prose" dangerouslySetInnerHTML={{ __html: v.norms_html }} />
                  <h3>Confidentiality</h3>
                  <div class="prose" dangerouslySetInnerHTML={{ __html: v.confidentiality_html }} />
                  {previous && (
                    <p>
                      <button type="button" class="secondary" aria-expanded={showDiff} onClick={() => setShowDiff(!showDiff)}>
                        What changed since version {previous.number}
                      </button>
                    </p>
                  )}
                  {showDiff && previous && <Diff cohortId={id} from={previous.id} to={v.id} />}
                </article>
              )}
              {drafts.map((d) => (
                <section key={d.id} aria-label={`Draft of ${when(d.created_at)}`}>
                  <h2>Draft of {when(d.created_at)}</h2>
                  <p class="muted">Proposed by <Person p={d.author} /></p>
                  <p>{d.mission}</p>
                  <Comments cohortId={id} version={d} />
                </section>
              ))}
              <Propose cohortId={id} current={v} />
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
