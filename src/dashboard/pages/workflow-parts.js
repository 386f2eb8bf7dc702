// Parts the Workflows pages share: a link inside the dashboard, a problem shown in full, a button
// that asks before it acts, and the 422 errors of a save or preview with their editor lines.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { lineOf } from '../json-lines.js';

/** A link to another dashboard page that moves without a reload. */
export function PageLink({ to, navigate, children, className }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return html`<a class=${className} href=${`/dashboard/${to}`} onClick=${onClick}>${children}</a>`;
}

/**
 * An API failure: its detail (or, for a 422, its title and each field error) and its code. With
 * `focus`, a new failure takes the focus, so keyboard and screen-reader users land on it.
 */
export function Problem({ error, lines, focus }) {
  const ref = useRef(null);
  useEffect(() => {
    if (focus && error) ref.current?.focus();
  }, [error]);
  if (!error) return null;
  const errors = error.problem?.errors ?? [];
  return html`
    <div class="alert" role="alert" tabindex="-1" ref=${ref}>
      <p class="wf-problem">
        ${errors.length && error.problem.title ? error.problem.title : error.message}${error.code ? html` <code>${error.code}</code>` : null}
      </p>
      ${errors.length ? html`<${FieldErrors} errors=${errors} lines=${lines} />` : null}
    </div>
  `;
}

/** Where a path such as /workflow/steps/0/html or /steps/0/html is in the steps editor. */
export function editorLine(lines, path) {
  const steps = /^(?:\/workflow)?\/steps(\/.*)?$/.exec(path);
  if (!steps || !lines) return null;
  return lineOf(lines, steps[1] ?? '');
}

/** A 422's errors[]: each path, its line in the steps editor where it has one, and the message. */
export function FieldErrors({ errors, lines }) {
  return html`
    <ul class="wf-errors">
      ${errors.map((item) => {
        const line = editorLine(lines, item.path ?? '');
        return html`<li>
          ${line !== null ? html`<strong>Editor line ${line}</strong> · ` : null}<code>${item.path || '/'}</code>${`: ${item.message}`}
        </li>`;
      })}
    </ul>
  `;
}

/** A button that asks "are you sure" inline before it acts (no window.confirm). */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, busy }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return html`<button type="button" class="wf-danger" onClick=${() => setAsking(true)} disabled=${busy}>
      ${label}
    </button>`;
  }
  return html`
    <span class="wf-confirm" role="group" aria-label=${question}>
      <span>${question}</span>
      <button
        type="button"
        class="wf-danger"
        disabled=${busy}
        onClick=${async () => {
          await onConfirm();
          setAsking(false);
        }}
      >
        ${confirmLabel}
      </button>
      <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
    </span>
  `;
}

export const formatTime = (ms) => new Date(ms).toLocaleString();
