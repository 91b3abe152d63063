// The app's frame: the header with the waiting writes, the router, and the tab bar.
import type { ComponentChildren } from 'preact';
import { ErrorBoundary, lazy, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { auth, onAuth, signInNeeded } from './auth';
import { dismiss } from './data/queue';
import { usePending } from './data/pending';
import { Invitation, Join } from './pages/join';
import { MagicLink, ResetPassword, SignIn, SignUp, VerifyEmail } from './pages/auth';
import { Home } from './pages/home';
import { Page } from './ui/kit';

const SessionPage = lazy(() => import('./pages/session').then((m) => m.SessionPage));
const Experiments = lazy(() => import('./pages/experiments').then((m) => m.Experiments));
const ExperimentPage = lazy(() => import('./pages/experiments').then((m) => m.ExperimentPage));
const Cohorts = lazy(() => import('./pages/cohorts').then((m) => m.Cohorts));
const CohortPage = lazy(() => import('./pages/cohorts').then((m) => m.CohortPage));
const Board = lazy(() => import('./pages/experiments').then((m) => m.Board));
const Charter = lazy(() => import('./pages/charter').then((m) => m.Charter));
const SkillShares = lazy(() => import('./pages/skillshares').then((m) => m.SkillShares));
const Facilitate = lazy(() => import('./pages/facilitate').then((m) => m.Facilitate));
const Me = lazy(() => import('./pages/me').then((m) => m.Me));
const Notifications = lazy(() => import('./pages/me').then((m) => m.Notifications));

function useSignedIn(): boolean {
  const [signed, setSigned] = useState(!!auth());
  useEffect(() => onAuth((a) => setSigned(!!a)), []);
  return signed;
}

/** Screens that need a sign-in show the sign-in form in place, and come back after it. */
function Signed(props: { children: ComponentChildren }) {
  return useSignedIn() ? <>{props.children}</> : <SignIn />;
}

function Waiting() {
  const items = usePending();
  const [, force] = useState(0);
  useEffect(() => onAuth(() => force((n) => n + 1)), []);
  const waiting = items.filter((w) => !w.failed);
  const failed = items.filter((w) => w.failed);
  return (
    <div aria-live="polite">
      {signInNeeded && (
        <p class="notice" role="alert">
          Your sign-in ended. <a href={`/app/sign-in?next=${encodeURIComponent(location.pathname)}`}>Sign in again</a>{' '}
          {waiting.length > 0 && `to send your ${waiting.length} waiting change${waiting.length > 1 ? 's' : ''}.`}
        </p>
      )}
      {waiting.length > 0 && (
        <details class="pending">
          <summary>
            {waiting.length} change{waiting.length > 1 ? 's' : ''} waiting to be sent
          </summary>
          <ul>
            {waiting.map((w) => (
              <li key={w.id}>{w.label} (pending)</li>
            ))}
          </ul>
        </details>
      )}
      {failed.map((w) => (
        <div class="refused" role="alert" key={w.id}>
          <p>
            <strong>Not saved:</strong> {w.label}. {w.failed!.message}
          </p>
          <button type="button" onClick={() => dismiss(w.id!)}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

function Tabs() {
  const { path } = useLocation();
  const tabs = [
    ['/app/', 'Home'],
    ['/app/experiments', 'Experiments'],
    ['/app/cohorts', 'Cohorts'],
    ['/app/me', 'Me'],
  ];
  return (
    <nav class="tabs" aria-label="Main">
      {tabs.map(([href, label]) => (
        <a key={href} href={href} aria-current={(href === '/app/' ? path === href : path.startsWith(href)) ? 'page' : undefined}>
          {label}
        </a>
      ))}
    </nav>
  );
}

function NotFound() {
  return (
    <Page title="Not found">
      <p>There is nothing here. <a href="/app/">Go home</a></p>
    </Page>
  );
}

export function App() {
  const signed = useSignedIn();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const s = (C: preact.ComponentType<any>) => (props: object) => (
    <Signed>
      <C {...props} />
    </Signed>
  );
  return (
    <LocationProvider scope="/app/">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a href="/app/" class="brand">Roundtable</a>
        <span class="net" id="net" />
      </header>
      {signed && <Waiting />}
      <ErrorBoundary>
        <Router>
          <Route path="/app/" component={s(Home)} />
          <Route path="/app/sign-in" component={SignIn} />
          <Route path="/app/sign-up" component={SignUp} />
          <Route path="/app/verify-email" component={VerifyEmail} />
          <Route path="/app/magic-link" component={MagicLink} />
          <Route path="/app/reset-password" component={ResetPassword} />
          <Route path="/app/invitation" component={Invitation} />
          <Route path="/app/join" component={Join} />
          <Route path="/app/sessions/:id" component={s(SessionPage)} />
          <Route path="/app/experiments" component={s(Experiments)} />
          <Route path="/app/experiments/:id" component={s(ExperimentPage)} />
          <Route path="/app/cohorts" component={s(Cohorts)} />
          <Route path="/app/cohorts/:id" component={s(CohortPage)} />
          <Route path="/app/cohorts/:id/board" component={s(Board)} />
          <Route path="/app/cohorts/:id/charter" component={s(Charter)} />
          <Route path="/app/cohorts/:id/skill-shares" component={s(SkillShares)} />
          <Route path="/app/cohorts/:id/facilitate" component={s(Facilitate)} />
          <Route path="/app/me" component={s(Me)} />
          <Route path="/app/me/notifications" component={s(Notifications)} />
          <Route default component={NotFound} />
        </Router>
      </ErrorBoundary>
      {signed && <Tabs />}
    </LocationProvider>
  );
}
