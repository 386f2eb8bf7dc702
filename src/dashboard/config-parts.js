// Parts the configuration pages share: loading/empty/error states, a confirm-before-acting
// button, dates, and a frame for email HTML.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { EmailFrame } from './email-frame.js';

/** Loads `load()` on mount and whenever `deps` change; `reload` runs it again. */
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const run = async () => {
    setState((previous) => ({ ...previous, loading: true, error: null }));
    try {
      setState({ loading: false, data: await load(), error: null });
    } catch (error) {
      setState({ loading: false, data: null, error });
    }
  };
  useEffect(() => void run(), deps);
  return { ...state, reload: run };
}

/** What a load shows before its data: loading, or the API's problem. Null once there is data. */
export function LoadState({ state, what }) {
  if (state.error) return html`<${Problem} error=${state.error} />`;
  if (state.loading && !state.data) return html`<p aria-busy="true" class="hint">Loading ${what}…</p>`;
  return null;
}

/** An API failure: its detail, and the code and status that name it. */
export function Problem({ error }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), [error]);
  if (!error) return null;
  const code = error.code ? ` (${error.status} ${error.code})` : error.status ? ` (${error.status})` : '';
  return html`<p class="alert" role="alert" tabindex="-1" ref=${ref}>${error.message}${code}</p>`;
}

/**
 * A button that asks again inline before acting (no window.confirm: it stays keyboard friendly).
 * Asking moves the focus to the confirming button; cancelling brings it back.
 */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, busy }) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef(null);
  const askRef = useRef(null);
  const asked = useRef(false);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (asked.current) askRef.current?.focus();
    asked.current = asking;
  }, [asking]);
  if (!asking) {
    return html`<button type="button" class="cfg-danger" ref=${askRef} onClick=${() => setAsking(true)}>
      ${label}
    </button>`;
  }
  return html`<span class="cfg-confirm" role="group" aria-label=${question}>
    <span>${question}</span>
    <button
      type="button"
      class="cfg-danger"
      ref=${confirmRef}
      disabled=${busy}
      onClick=${async () => {
        await onConfirm();
        setAsking(false);
      }}
    >
      ${confirmLabel}
    </button>
    <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

/** Runs an action once at a time and keeps its error (an ApiError) for display. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (action) => {
    if (busy) return undefined;
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (caught) {
      setError(caught);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

export const when = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString());

/** A link inside the dashboard that moves by `navigate` (history), not by reloading the page. */
export function PageLink({ to, navigate, children, current }) {
  return html`<a
    href=${`/dashboard/${to}`}
    aria-current=${current ? 'page' : undefined}
    onClick=${(event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(to);
    }}
    >${children}</a
  >`;
}

/** A sandboxed frame for rendered email HTML (or a layout's preview), with its styles. */
export function MailFrame({ source, title }) {
  return html`<${EmailFrame} className="cfg-mail-frame" html=${source} title=${title} />`;
}
