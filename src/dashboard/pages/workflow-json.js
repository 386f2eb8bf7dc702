// A plain textarea for JSON with its line numbers beside it (no editor library): the numbers
// scroll with the text; lines do not wrap, so each number stays beside its line.
import { html } from 'htm/preact';
import { useRef } from 'preact/hooks';

export function JsonArea({ id, label, value, onInput, readOnly, rows = 16, hint }) {
  const gutter = useRef(null);
  const count = value.split('\n').length;
  const numbers = Array.from({ length: count }, (_, index) => index + 1).join('\n');
  const hintId = hint ? `${id}-hint` : undefined;
  return html`
    <div class="field wf-json-field">
      <label for=${id}>${label}</label>
      ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
      <div class="wf-json">
        <pre class="wf-gutter" aria-hidden="true" ref=${gutter}>${numbers}</pre>
        <textarea
          id=${id}
          name=${id}
          rows=${rows}
          wrap="off"
          spellcheck="false"
          autocapitalize="off"
          autocomplete="off"
          readonly=${readOnly}
          aria-describedby=${hintId}
          value=${value}
          onInput=${(event) => onInput(event.currentTarget.value)}
          onScroll=${(event) => {
            if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
          }}
        ></textarea>
      </div>
    </div>
  `;
}
