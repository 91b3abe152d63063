// My cohorts, and one cohort's overview with the way to its charter, board, skill shares and (for
// facilitators) the facilitator's screen.
import { route as fill } from '../api/client';
import type { Cohort, S, Session } from '../api/types';
import { useResource } from '../data/resource';
import { Loaded, Page } from '../ui/kit';
import { SessionCard } from './home';

export function Cohorts() {
  const res = useResource<{ items: Cohort[] }>('/api/v1/cohorts?limit=100');
  return (
    <Page title="Your cohorts">
      <Loaded res={res} what="your cohorts">
        {(d) =>
          d.items.length ? (
            <ul class="list">
              {d.items.map((c) => (
                <li class="card" key={c.id}>
                  <h2>
                    <a href={`/app/cohorts/${c.id}`}>{c.name}</a>
                  </h2>
                  <p class="muted">
                    {c.member_count} members · you are {c.role}
                    {c.membership_state !== 'active' && ` (${c.membership_state})`}
                  </p>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">You are not in a cohort yet. Open the invitation someone sent you.</p>
          )
        }
      </Loaded>
    </Page>
  );
}

export function CohortPage(props: { params?: { id: string }; id?: string }) {
  const id = props.params?.id ?? props.id ?? '';
  const res = useResource<Cohort>(fill('/api/v1/cohorts/{cohort_id}', { cohort_id: id }));
  const sessions = useResource<{ items: Session[] }>(
    fill('/api/v1/cohorts/{cohort_id}/sessions', { cohort_id: id }) + `?from=${new Date().toISOString().slice(0, 10)}T00:00:00Z&limit=5`,
  );
  const members = useResource<{ items: S['Member'][] }>(fill('/api/v1/cohorts/{cohort_id}/members', { cohort_id: id }));
  return (
    <Page title={res.data?.name ?? 'Cohort'} back={{ href: '/app/cohorts', label: 'Cohorts' }}>
      <Loaded res={res} what="this cohort">
        {(c) => (
          <>
            {c.description && <p>{c.description}</p>}
            <nav aria-label="This cohort">
              <ul class="links">
                <li><a href={`/app/cohorts/${c.id}/charter`}>Charter</a></li>
                <li><a href={`/app/cohorts/${c.id}/board`}>Experiments board</a></li>
                <li><a href={`/app/cohorts/${c.id}/skill-shares`}>Skill shares</a></li>
                {c.role !== 'member' && <li><a href={`/app/cohorts/${c.id}/facilitate`}>Facilitate</a></li>}
              </ul>
            </nav>
            <h2>Next sessions</h2>
            <Loaded res={sessions} what="the sessions">
              {(d) => (d.items.length ? <ul class="list">{d.items.map((s) => <SessionCard key={s.id} s={s} />)}</ul> : <p class="muted">None planned.</p>)}
            </Loaded>
            <h2>Members</h2>
            <Loaded res={members} what="the members">
              {(d) => (
                <ul class="list plain">
                  {d.items.filter((m) => m.state !== 'left').map((m) => (
                    <li key={m.user_id}>
                      {m.display_name} <span class="muted">{m.role}{m.state === 'paused' && ', paused'}</span>
                    </li>
                  ))}
                </ul>
              )}
            </Loaded>
          </>
        )}
      </Loaded>
    </Page>
  );
}
