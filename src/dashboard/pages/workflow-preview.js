// The editor's live preview: what each step of the draft would do for the sample subscriber and
// data (POST /v1/workflows/preview). Rendered content stays inert: text through Preact (escaped),
// email HTML only in a sandboxed iframe without allow-scripts.
import { html } from 'htm/preact';
import { FieldErrors } from './workflow-parts.js';
import { EmailFrame } from '../email-frame.js';

/** state: { status: 'idle' | 'loading' | 'ok' | 'invalid' | 'local' | 'failed', ... } */
export function PreviewPanel({ state, lines }) {
  return html`
    <section
      class="wf-preview"
      aria-labelledby="wf-preview-title"
      aria-live="polite"
      aria-busy=${state.status === 'loading'}
    >
      <h2 id="wf-preview-title">Live preview</h2>
      ${body(state, lines)}
    </section>
  `;
}

function body(state, lines) {
  switch (state.status) {
    case 'idle':
      return html`<p class="hint">The preview follows your edits.</p>`;
    case 'loading':
      return state.preview ? steps(state.preview, true) : html`<p class="hint">Previewing…</p>`;
    case 'local':
      return html`<div class="alert" role="alert">
        <p class="wf-problem">
          ${state.what} is not valid JSON${state.line ? ` (line ${state.line})` : ''}: ${state.message}
        </p>
      </div>`;
    case 'invalid':
      return html`<div class="alert" role="alert">
        <p class="wf-problem">A save would refuse this workflow: ${state.message}</p>
        <${FieldErrors} errors=${state.errors} lines=${lines} />
      </div>`;
    case 'failed':
      return html`<div class="alert" role="alert"><p class="wf-problem">The preview failed: ${state.message}</p></div>`;
    default:
      return steps(state.preview, false);
  }
}

function steps(preview, stale) {
  return html`
    <p class="hint">
      For subscriber
      <code>${preview.subscriberId}</code>${preview.locale ? html`, locale <code>${preview.locale}</code>` : null}${
        stale ? ' (updating…)' : ''
      }
    </p>
    ${
      preview.warnings.length
        ? html`<ul class="wf-warnings">
            ${preview.warnings.map((w) => html`<li>${w}</li>`)}
          </ul>`
        : null
    }
    <ol class="wf-steps">
      ${preview.steps.map((step) => html`<li><${StepPreview} step=${step} /></li>`)}
    </ol>
  `;
}

function StepPreview({ step }) {
  return html`
    <article class="wf-step">
      <h3>
        <code>${step.ref}</code> · ${step.type}${step.channel && step.channel !== step.type ? ` (${step.channel})` : ''}
        <span class=${step.wouldRun ? 'wf-badge wf-runs' : 'wf-badge wf-skips'}>
          ${step.wouldRun ? 'would run' : 'would not run'}
        </span>
      </h3>
      ${step.reason ? html`<p>Reason: ${step.reason}</p>` : null}
      ${step.address !== undefined ? html`<p>To: ${step.address === null ? 'nowhere' : html`<code>${step.address}</code>`}</p>` : null}
      ${step.via ? html`<p>Via: <code>${step.via}</code></p>` : null} ${step.does ? html`<p>${step.does}</p>` : null}
      ${step.error ? html`<p class="alert" role="alert">Error: ${step.error}</p>` : null}
      ${
        step.warnings.length
          ? html`<ul class="wf-warnings">
              ${step.warnings.map((w) => html`<li>${w}</li>`)}
            </ul>`
          : null
      }
      ${step.rendered ? html`<${Rendered} type=${step.type} rendered=${step.rendered} />` : null}
    </article>
  `;
}

/** A step's rendered content: email HTML in a sandboxed iframe, everything else as text. */
function Rendered({ type, rendered }) {
  return html`
    <dl class="wf-rendered">
      ${Object.entries(rendered).map(([field, value]) => {
        if (value === null || value === undefined) return null;
        if (type === 'email' && field === 'html') {
          return html`<dt>html</dt>
            <dd>
              <${EmailFrame} className="wf-html" html=${value} title="Rendered email HTML" />
            </dd>`;
        }
        const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
        return html`<dt>${field}</dt>
          <dd><pre class="wf-pre">${text}</pre></dd>`;
      })}
    </dl>
  `;
}
