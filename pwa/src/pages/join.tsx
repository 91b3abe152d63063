// The targets of invitation mails (/app/invitation#token=…) and invite links (/app/join#code=…).
// Joining takes one press of a button, signed in; signed out, the link is remembered on this
// phone while the person signs in or creates an account, and Home offers to finish.
import { useState } from 'preact/hooks';
import { auth } from '../auth';
import { call } from '../api/client';
import type { Cohort } from '../api/types';
import { Form, Page, useFragment } from '../ui/kit';

const PENDING = 'rt.pending-join';

export function pendingJoin(): string | null {
  return localStorage.getItem(PENDING);
}

function JoinPage(props: { title: string; secret: string | null; lead: string; run: (secret: string) => Promise<Cohort> }) {
  const [joined, setJoined] = useState<Cohort | null>(null);
  const here = location.pathname + location.hash;
  if (!props.secret)
    return (
      <Page title={props.title}>
        <p role="alert" class="error">This link is incomplete. Open the link from the mail again.</p>
      </Page>
    );
  if (!auth()) {
    localStorage.setItem(PENDING, here);
    const next = encodeURIComponent(here);
    return (
      <Page title={props.title}>
        <p>{props.lead} Sign in first, or create an account with the address the invitation went to.</p>
        <p class="buttons">
          <a class="button" href={`/app/sign-in?next=${next}`}>Sign in</a>{' '}
          <a class="button secondary" href={`/app/sign-up?next=${next}`}>Create an account</a>
        </p>
      </Page>
    );
  }
  if (joined)
    return (
      <Page title={`Welcome to ${joined.name}`}>
        <p role="status">You are a member of {joined.name}.</p>
        <p><a href={`/app/cohorts/${joined.id}`}>Open {joined.name}</a></p>
      </Page>
    );
  return (
    <Page title={props.title}>
      <p>{props.lead}</p>
      <Form
        submit="Join the cohort"
        action={async () => {
          const c = await props.run(props.secret!);
          localStorage.removeItem(PENDING);
          setJoined(c);
        }}
      />
    </Page>
  );
}

export function Invitation() {
  return (
    <JoinPage
      title="Accept your invitation"
      lead="You were invited to join a cohort on Roundtable."
      secret={useFragment('token')}
      run={(token) => call<Cohort>('post', '/api/v1/invitations/accept', { token })}
    />
  );
}

export function Join() {
  return (
    <JoinPage
      title="Join a cohort"
      lead="Someone shared a link to join their cohort on Roundtable."
      secret={useFragment('code')}
      run={(code) => call<Cohort>('post', '/api/v1/invite-links/join', { code })}
    />
  );
}
