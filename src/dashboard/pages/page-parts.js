import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * Loads what `load` answers whenever `deps` change: `{ state: 'loading' | 'failed' | 'ready', data,
 * error, reload }`. A late answer of an earlier load is dropped.
 */
export function useLoad(load, deps) {
  const [result, setResult] = useState({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setResult({ state: 'loading' });
    load().then(
      (data) => current && setResult({ state: 'ready', data }),
      (error) => current && setResult({ state: 'failed', error }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  return { ...result, reload: () => setRound((n) => n + 1) };
}

/** The loading and error states every view shows before its data. */
export function Pending({ result, what }) {
  if (result.state === 'loading') return html`<p class="people-loading" aria-busy="true">Loading ${what}…</p>`;
  return html`<p class="alert" role="alert">Could not load ${what}: ${result.error.message}</p>`;
}

export const when = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString());

/** A link inside the dashboard that the shell follows without reloading. */
export function PageLink({ to, navigate, children }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return html`<a href=${`/dashboard/${to}`} onClick=${onClick}>${children}</a>`;
}
