// Pieces shared by Home and the session screen: the one-tap RSVP and duty confirmation, both
// queued so they work offline.
import { route } from '../api/client';
import type { Session } from '../api/types';
import { enqueue } from '../data/queue';
import { latestFor, usePending } from '../data/pending';
import { when } from '../ui/format';

const ANSWERS = [
  ['yes', 'Going'],
  ['maybe', 'Maybe'],
  ['no', 'Not going'],
] as const;

export function Rsvp(props: { session: Pick<Session, 'id' | 'title' | 'starts_at' | 'my_rsvp' | 'status'> }) {
  const s = props.session;
  const url = route('/api/v1/sessions/{session_id}/rsvp', { session_id: s.id });
  const queued = latestFor(usePending(), url);
  const current = (queued?.body as { response?: string } | undefined)?.response ?? s.my_rsvp?.response;
  if (s.status === 'cancelled') return <p class="muted">Cancelled.</p>;
  return (
    <div class="rsvp" role="group" aria-label={`Your answer for ${s.title} on ${when(s.starts_at)}`}>
      {ANSWERS.map(([value, label]) => (
        <button
          type="button"
          key={value}
          aria-pressed={current === value}
          onClick={() => enqueue({ method: 'put', url, body: { response: value }, label: `RSVP "${label}" for ${s.title} on ${when(s.starts_at)}` })}
        >
          {label}
        </button>
      ))}
      {queued && !queued.failed && <span class="badge">pending</span>}
    </div>
  );
}

export function ConfirmDuty(props: { assignmentId: string; role: string; confirmed: boolean; what: string }) {
  const url = route('/api/v1/assignments/{assignment_id}/confirm', { assignment_id: props.assignmentId });
  const queued = latestFor(usePending(), url);
  if (props.confirmed) return <span class="badge ok">confirmed</span>;
  if (queued && !queued.failed) return <span class="badge">confirmation pending</span>;
  return (
    <button
      type="button"
      onClick={() => enqueue({ method: 'post', url, label: `Confirm ${props.role} for ${props.what}` })}
    >
      Confirm {props.role}
    </button>
  );
}
