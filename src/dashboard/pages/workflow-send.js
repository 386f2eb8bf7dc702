// Test send (POST /v1/workflows/{key}/test) and trigger (POST /v1/workflows/{key}/trigger) from
// the editor of a saved workflow: a recipient, the data, and the answer with links to its messages.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { parseJson } from '../json-lines.js';
import { testSend, triggerWorkflow } from '../workflows-api.js';
import { JsonArea } from './workflow-json.js';
import { PageLink, Problem } from './workflow-parts.js';

/**
 * A recipient as typed: an email makes {subscriberId: email, email} (created or updated, as a
 * trigger's recipient object is); anything else is a stored subscriber's id.
 */
const recipientOf = (text) => (text.includes('@') ? { subscriberId: text, email: text } : text);

export function SendPanel({ workflowKey, sampleData, navigate }) {
  return html`
    <section class="wf-send" aria-labelledby="wf-send-title">
      <h2 id="wf-send-title">Send</h2>
      <div class="wf-send-forms">
        <${SendForm}
          id="wf-test"
          title="Test send"
          hint="Every sending step goes out once, now, marked as a test: delays, conditions and preferences are passed over."
          button="Send test"
          data=${sampleData}
          send=${(to, data) => testSend(workflowKey, { to, data })}
          navigate=${navigate}
        />
        <${SendForm}
          id="wf-trigger"
          title="Trigger"
          hint="Runs the saved workflow for this recipient, as your application would."
          button="Trigger"
          data=${sampleData}
          send=${(to, data) => triggerWorkflow(workflowKey, { to, data })}
          navigate=${navigate}
        />
      </div>
    </section>
  `;
}

function SendForm({ id, title, hint, button, data: initialData, send, navigate }) {
  const [recipient, setRecipient] = useState('');
  const [data, setData] = useState(initialData);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [answer, setAnswer] = useState(null);

  const submit = async (event) => {
    event.preventDefault();
    setAnswer(null);
    setError(null);
    const to = recipient.trim();
    if (!to) return setError({ message: 'Give a recipient: a subscriber id or an email address.' });
    const parsed = parseJson(data);
    if (parsed.error)
      return setError({ message: `Data is not valid JSON (line ${parsed.line ?? '?'}): ${parsed.error}` });
    setBusy(true);
    try {
      setAnswer(await send(recipientOf(to), parsed.value));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <form class="wf-send-form" onSubmit=${submit} aria-labelledby=${`${id}-title`}>
      <h3 id=${`${id}-title`}>${title}</h3>
      <p class="hint">${hint}</p>
      <div class="field">
        <label for=${`${id}-to`}>Recipient (subscriber id or email)</label>
        <input id=${`${id}-to`} value=${recipient} onInput=${(e) => setRecipient(e.currentTarget.value)} />
      </div>
      <${JsonArea} id=${`${id}-data`} label="Data (JSON)" value=${data} onInput=${setData} rows=${4} />
      <button type="submit" disabled=${busy}>${busy ? 'Sending…' : button}</button>
      <${Problem} error=${error} focus />
      ${
        answer
          ? html`<div class="notice" role="status">
              <p>Accepted: trigger <code>${answer.triggerId}</code></p>
              ${
                answer.messageIds?.length
                  ? html`<ul class="wf-message-links">
                      ${answer.messageIds.map(
                        (messageId) =>
                          html`<li><${PageLink} to=${`messages/${messageId}`} navigate=${navigate}>${messageId}</${PageLink}></li>`,
                      )}
                    </ul>`
                  : html`<p>No message was made (no sending step reached this recipient).</p>`
              }
            </div>`
          : null
      }
    </form>
  `;
}
