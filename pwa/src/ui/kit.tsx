// The few building blocks every screen uses: a page with its heading, a loaded resource with its
// age when offline, labelled fields, and forms that show the server's message.
import type { ComponentChildren, PartialInputHTMLAttributes, TargetedEvent, TextareaHTMLAttributes } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiProblem, Offline } from '../api/client';
import type { Resource } from '../data/resource';
import { age } from './format';

export function Page(props: { title: string; children: ComponentChildren; back?: { href: string; label: string } }) {
  useEffect(() => {
    document.title = `${props.title} · Roundtable`;
  }, [props.title]);
  return (
    <main id="main" tabIndex={-1}>
      {props.back && (
        <p class="back">
          <a href={props.back.href}>← {props.back.label}</a>
        </p>
      )}
      <h1>{props.title}</h1>
      {props.children}
    </main>
  );
}

export function Loaded<T>(props: { res: Resource<T>; children: (data: T) => ComponentChildren; what?: string }) {
  const { res } = props;
  if (res.data === undefined) {
    if (res.error) return <p role="alert" class="error">{res.error.message}</p>;
    if (res.stale) return <p class="notice">You are offline, and {props.what ?? 'this'} was not saved on this phone yet.</p>;
    return <p aria-busy="true" class="muted">Loading…</p>;
  }
  return (
    <>
      {res.stale && res.at !== undefined && (
        <p class="notice stale" role="status">
          Offline: showing what you saw {age(res.at)}.
        </p>
      )}
      {res.error && <p role="alert" class="error">{res.error.message}</p>}
      {props.children(res.data)}
    </>
  );
}

let ids = 0;
type InputEvent<T extends EventTarget> = TargetedEvent<T, Event>;
export function Field(
  props: { label: string; hint?: string; onInput?: (e: InputEvent<HTMLInputElement>) => void } & Omit<
    PartialInputHTMLAttributes<HTMLInputElement>,
    'id' | 'onInput'
  >,
) {
  const [id] = useState(() => `f${++ids}`);
  const { label, hint, ...input } = props;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {/* the union of input types is too strict for a pass-through; the props are checked above */}
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...(input as object)} />
      {hint && (
        <small id={`${id}-hint`} class="muted">
          {hint}
        </small>
      )}
    </div>
  );
}

export function TextArea(
  props: { label: string; onInput?: (e: InputEvent<HTMLTextAreaElement>) => void } & Omit<
    TextareaHTMLAttributes<HTMLTextAreaElement>,
    'id' | 'onInput'
  >,
) {
  const [id] = useState(() => `f${++ids}`);
  const { label, ...input } = props;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} rows={3} {...input} />
    </div>
  );
}

export function Select(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; label: string }[];
  name?: string;
}) {
  const [id] = useState(() => `f${++ids}`);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function message(e: unknown): string {
  if (e instanceof ApiProblem || e instanceof Offline) return e.message;
  return 'Something went wrong. Please try again.';
}

/** A form that runs `action` on submit, disables itself meanwhile and shows what went wrong. */
export function Form(props: {
  action: () => Promise<unknown>;
  submit: string;
  children?: ComponentChildren;
  done?: ComponentChildren;
  class?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState(false);
  return (
    <form
      class={props.class}
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await props.action();
          setOk(true);
        } catch (err) {
          setError(message(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.children}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {ok && props.done && <p role="status">{props.done}</p>}
      <button type="submit" disabled={busy}>
        {busy ? `${props.submit}…` : props.submit}
      </button>
    </form>
  );
}

/** A button that runs an action and shows its error next to it. */
export function Action(props: { label: string; run: () => Promise<unknown>; class?: string; name?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span class="action">
      <button
        type="button"
        class={props.class}
        aria-label={props.name}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await props.run();
          } catch (err) {
            setError(message(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        {props.label}
      </button>
      {error && (
        <span role="alert" class="error">
          {error}
        </span>
      )}
    </span>
  );
}

/** The secret a mailed link carries in its fragment (`#token=…`, `#code=…`). */
export function fragment(name: string): string | null {
  return new URLSearchParams(location.hash.slice(1)).get(name);
}

/** `fragment`, read again when the fragment changes (a second link opened in the same tab). */
export function useFragment(name: string): string | null {
  const [value, setValue] = useState(() => fragment(name));
  useEffect(() => {
    const on = () => setValue(fragment(name));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, [name]);
  return value;
}

export function Person(props: { p: { display_name: string } | null | undefined }) {
  return <span class="person">{props.p?.display_name ?? 'someone who left'}</span>;
}
