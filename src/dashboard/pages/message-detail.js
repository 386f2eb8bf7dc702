import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getMessage, getTrigger, retryMessage } from '../messages-api.js';
import { EmailFrame } from '../email-frame.js';

/** Statuses a message stays in: after a retry, the view looks again until it reaches one. */
const SETTLED = new Set(['sent', 'failed', 'skipped', 'seen', 'read', 'archived', 'canceled', 'throttled', 'digested']);
/** How often, and how many times, the view looks again at a message on its way. */
const POLL_MS = 1000;
const POLL_TIMES = 60;

export const when = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString());

export function StatusBadge({ status }) {
  return html`<span class=${`msg-status msg-status-${status}`}>${status}</span>`;
}

/** A link to another dashboard path that the shell follows without reloading. */
function PageLink({ to, navigate, children, current }) {
  const follow = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return html`<a href=${`/dashboard/${to}`} onClick=${follow} aria-current=${current ? 'page' : undefined}
    >${children}</a
  >`;
}

/** One message: its facts, timeline, content, run, and Retry now for a failed one. */
export function MessageDetail({ id, session, navigate }) {
  const [state, setState] = useState({ name: 'loading' });
  const [retry, setRetry] = useState({ name: 'idle' });
  const polls = useRef(0);
  const canWrite = session.user.role !== 'viewer';

  const load = async () => {
    try {
      setState({ name: 'ready', message: await getMessage(id) });
    } catch (caught) {
      setState({ name: 'failed', message: caught.message, status: caught.status });
    }
  };
  useEffect(() => void load(), [id]);

  // After a retry, look again until the message settles (or a minute has passed).
  const message = state.name === 'ready' ? state.message : null;
  useEffect(() => {
    if (retry.name !== 'queued' || !message || SETTLED.has(message.status) || polls.current >= POLL_TIMES) return;
    const timer = setTimeout(() => {
      polls.current += 1;
      void load();
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [retry, message]);

  const retryNow = async () => {
    setRetry({ name: 'running' });
    try {
      const retried = await retryMessage(id);
      polls.current = 0;
      setState({ name: 'ready', message: retried });
      setRetry({ name: 'queued' });
    } catch (caught) {
      setRetry({ name: 'failed', message: caught.message });
    }
  };

  const back = html`<p class="msg-back"><${PageLink} to="messages" navigate=${navigate}>← All messages</${PageLink}></p>`;
  if (state.name === 'loading') {
    return html`${back}
      <h1 tabindex="-1">Message</h1>
      <p aria-busy="true">Loading the message…</p>`;
  }
  if (state.name === 'failed') {
    return html`${back}
      <h1 tabindex="-1">Message</h1>
      <p class="alert" role="alert">Could not load message ${id}: ${state.message}</p>`;
  }
  return html`
    ${back}
    <h1 tabindex="-1">Message <code>${message.id}</code></h1>
    <div class="msg-actions">
      <${StatusBadge} status=${message.status} />
      ${
        canWrite && message.status === 'failed'
          ? html`<button
              type="button"
              class="primary msg-retry"
              onClick=${retryNow}
              disabled=${retry.name === 'running'}
            >
              ${retry.name === 'running' ? 'Retrying…' : 'Retry now'}
            </button>`
          : null
      }
    </div>
    ${
      retry.name === 'queued'
        ? html`<p class="notice" role="status">
            Queued again: ${SETTLED.has(message.status) ? `now ${message.status}.` : 'waiting for the outcome…'}
          </p>`
        : null
    }
    ${retry.name === 'failed' ? html`<p class="alert" role="alert">Retry failed: ${retry.message}</p>` : null}
    <dl class="msg-facts">
      <dt>Reason</dt>
      <dd>${message.reason ?? '—'}</dd>
      <dt>Channel</dt>
      <dd>${message.channel} (step ${message.stepIndex + 1})</dd>
      <dt>Workflow</dt>
      <dd><code>${message.workflowKey}</code>${message.test ? ' (test send)' : ''}</dd>
      <dt>Subscriber</dt>
      <dd><code>${message.subscriberId}</code></dd>
      <dt>Recipient</dt>
      <dd>${message.recipient ?? '—'}</dd>
      <dt>Subject</dt>
      <dd>${message.redacted ? html`<em>hidden from viewers</em>` : (message.subject ?? '—')}</dd>
      <dt>Created</dt>
      <dd>${when(message.createdAt)}</dd>
      <dt>Sent</dt>
      <dd>${when(message.sentAt)}</dd>
      <dt>Provider message id</dt>
      <dd>${message.providerMessageId ?? '—'}</dd>
    </dl>
    <${Timeline} attempts=${message.attempts} />
    <${Content} message=${message} />
    <${RunPath} message=${message} navigate=${navigate} />
  `;
}

function Timeline({ attempts }) {
  return html`
    <section aria-labelledby="msg-timeline">
      <h2 id="msg-timeline">Attempts (${attempts.length})</h2>
      ${
        attempts.length === 0
          ? html`<p class="hint">No attempt yet: nothing was handed to a provider.</p>`
          : html`<ol class="msg-timeline">
              ${attempts.map(
                (attempt) => html`
                  <li class=${`msg-attempt msg-attempt-${attempt.outcome}`}>
                    <div>
                      <strong>${attempt.outcome}</strong> · ${when(attempt.at)} · ${attempt.durationMs} ms
                      ${
                        attempt.provider || attempt.integrationId
                          ? html` ·
                            ${attempt.provider ?? ''}${attempt.integrationId ? ` (${attempt.integrationId})` : ''}`
                          : null
                      }
                    </div>
                    <div class="msg-detail">${attempt.detail}</div>
                  </li>
                `,
              )}
            </ol>`
      }
    </section>
  `;
}

/** The rendered content: text as text, HTML only in a sandboxed frame where no script runs. */
function Content({ message }) {
  let body;
  if (message.redacted) body = html`<p class="notice">Content is hidden from viewers.</p>`;
  else if (!message.content) body = html`<p class="hint">No content kept (not rendered yet, or pruned).</p>`;
  else {
    const { html: markup, text, warnings } = message.content;
    body = html`
      ${
        warnings && warnings.length > 0
          ? html`<div class="msg-warnings">
              <h3>Warnings</h3>
              <ul>
                ${warnings.map((warning) => html`<li>${warning}</li>`)}
              </ul>
            </div>`
          : null
      }
      ${
        markup !== null && markup !== undefined
          ? html`<h3>HTML</h3>
              <${EmailFrame} className="msg-html" html=${markup} title="The email's HTML, without scripts" />`
          : null
      }
      <h3>Text</h3>
      <pre class="msg-text">${text}</pre>
    `;
  }
  return html`<section aria-labelledby="msg-content">
    <h2 id="msg-content">Content</h2>
    ${body}
  </section>`;
}

/** The message's run: its state and each of its messages, step by step, from GET /v1/triggers/{id}. */
function RunPath({ message, navigate }) {
  const [state, setState] = useState({ name: 'loading' });
  useEffect(() => {
    let live = true;
    getTrigger(message.triggerId).then(
      (trigger) => live && setState({ name: 'ready', trigger }),
      (caught) => live && setState({ name: 'failed', message: caught.message }),
    );
    return () => {
      live = false;
    };
  }, [message.triggerId, message.status]);

  let body;
  if (state.name === 'loading') body = html`<p aria-busy="true">Loading the run…</p>`;
  else if (state.name === 'failed')
    body = html`<p class="alert" role="alert">Could not load the run: ${state.message}</p>`;
  else {
    const run = state.trigger.runs.find((candidate) => candidate.subscriberId === message.subscriberId);
    body = run
      ? html`
          <p class="msg-id-line">
            Run <code>${run.runId}</code>: <strong>${run.state}</strong>${run.reason ? ` (${run.reason})` : ''}${`;
            created ${when(run.createdAt)}.`}
          </p>
          <ol class="msg-run">
            ${[...run.messages]
              .sort((a, b) => a.stepIndex - b.stepIndex)
              .map(
                (step) => html`
                  <li key=${step.id}>
                    Step ${step.stepIndex + 1}: ${step.channel} <${StatusBadge} status=${step.status} />
                    ${' '}
                    <${PageLink} to=${`messages/${step.id}`} navigate=${navigate} current=${step.id === message.id}
                      >${step.id === message.id ? 'this message' : step.id}</${PageLink}
                    >
                  </li>
                `,
              )}
          </ol>
          <p class="hint">
            A retry re-drives this message only: later steps whose conditions read its status are not looked at again.
          </p>
        `
      : html`<p class="hint">This recipient's run is not among the trigger's first 1,000 runs.</p>`;
  }
  return html`<section aria-labelledby="msg-run">
    <h2 id="msg-run">Trigger and run</h2>
    <p class="msg-id-line">Trigger <code>${message.triggerId}</code></p>
    ${body}
  </section>`;
}
