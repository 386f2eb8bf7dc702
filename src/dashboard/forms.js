import { html } from 'htm/preact';
import { useRef, useState } from 'preact/hooks';

/** A labelled input; its hint and error are tied to it for screen readers. */
export function Field({ id, label, type = 'text', value, onInput, autocomplete, hint, minLength, autofocus }) {
  const hintId = hint ? `${id}-hint` : undefined;
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <input
        id=${id}
        name=${id}
        type=${type}
        value=${value}
        onInput=${(event) => onInput(event.currentTarget.value)}
        autocomplete=${autocomplete}
        minlength=${minLength}
        aria-describedby=${hintId}
        autofocus=${autofocus}
        required
      />
      ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
    </div>
  `;
}

/**
 * A form that submits once at a time and shows what went wrong in an alert region, moving focus
 * there so keyboard and screen-reader users hear it.
 */
export function useSubmit(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const alertRef = useRef(null);
  const onSubmit = async (event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught.message);
      queueMicrotask(() => alertRef.current?.focus());
    } finally {
      setBusy(false);
    }
  };
  const alert = error ? html`<p class="alert" role="alert" tabindex="-1" ref=${alertRef}>${error}</p>` : null;
  return { busy, onSubmit, alert, setError };
}
