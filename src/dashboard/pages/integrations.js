import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import {
  deleteIntegration,
  getIntegration,
  listIntegrations,
  putIntegration,
  rotateIntegrationSecret,
  testIntegration,
} from '../config-api.js';
import { ConfirmButton, LoadState, PageLink, Problem, useAction, useLoad, when } from '../config-parts.js';
import { InboxSettings } from './inbox-settings.js';
import { PROVIDERS, SECRET_FIELDS, TEST_TO_HINT } from './integration-providers.js';

/**
 * Integrations: the list (integrations), one integration (integrations/<id>) with its editor and
 * test, and the inbox settings below the list. Viewers read; they get no controls.
 */
function IntegrationsContent({ session, title, path, navigate }) {
  const id = path.split('/')[1];
  const canEdit = session.user.role !== 'viewer';
  if (id) return html`<${IntegrationDetail} id=${decodeURIComponent(id)} canEdit=${canEdit} navigate=${navigate} />`;
  return html`
    <h1 tabindex="-1">${title}</h1>
    <p class="hint">
      Providers per channel, tried in priority order (lower first). Credentials are masked in every answer: only their
      last four characters show.
    </p>
    <${IntegrationList} navigate=${navigate} canEdit=${canEdit} />
    <${InboxSettings} canEdit=${canEdit} />
  `;
}

const circuitLabel = (circuit) => (circuit ? circuit.state : 'closed');

function IntegrationList({ navigate, canEdit }) {
  const state = useLoad(listIntegrations);
  const items = state.data?.items;
  return html`
    <section aria-labelledby="integrations-list">
      <h2 id="integrations-list">Configured</h2>
      <${LoadState} state=${state} what="integrations" />
      ${
        items && items.length === 0
          ? html`<p class="cfg-empty">No integrations yet: email goes to the dev mailbox until one is added.</p>`
          : null
      }
      ${
        items && items.length > 0
          ? html`<div class="cfg-table-scroll">
              <table class="cfg-config-table">
                <thead>
                  <tr>
                    <th scope="col">Id</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Priority</th>
                    <th scope="col">Enabled</th>
                    <th scope="col">Breaker</th>
                  </tr>
                </thead>
                <tbody>
                  ${items.map(
                    (item) =>
                      html`<tr key=${item.id}>
                        <td>
                          <${PageLink} to=${`integrations/${encodeURIComponent(item.id)}`} navigate=${navigate}
                            >${item.id}<//
                          >
                          ${item.source === 'environment' ? html` <span class="cfg-badge">read-only</span>` : null}
                        </td>
                        <td>${item.channel}</td>
                        <td>${item.provider}</td>
                        <td>${item.priority}</td>
                        <td>${item.enabled ? 'yes' : 'no'}</td>
                        <td>
                          <span class=${`cfg-breaker cfg-breaker-${circuitLabel(item.circuit)}`}
                            >${circuitLabel(item.circuit)}</span
                          >
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : null
      }
    </section>
    ${canEdit ? html`<${NewIntegration} navigate=${navigate} />` : null}
  `;
}

const bodyFor = (provider) => {
  const known = PROVIDERS[provider];
  return JSON.stringify(
    { channel: known?.channel ?? 'email', provider, config: known?.config ?? {}, priority: 0, enabled: true },
    null,
    2,
  );
};

/** Parses the JSON editor's text, or throws an error the form shows. */
function parseBody(text) {
  try {
    const body = JSON.parse(text);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    return body;
  } catch (error) {
    throw Object.assign(new Error(`The body is not a JSON object: ${error.message}`), { status: null });
  }
}

function NewIntegration({ navigate }) {
  const [id, setId] = useState('');
  const [provider, setProvider] = useState('smtp');
  const [text, setText] = useState(bodyFor('smtp'));
  const action = useAction();
  const [created, setCreated] = useState(null);
  const submit = (event) => {
    event.preventDefault();
    void action.run(async () => {
      const answer = await putIntegration(id, parseBody(text));
      if (answer.secret) setCreated(answer);
      else navigate(`integrations/${encodeURIComponent(answer.id)}`);
    });
  };
  if (created) return html`<${ShownOnce} integration=${created} navigate=${navigate} />`;
  return html`
    <section aria-labelledby="integration-new">
      <h2 id="integration-new">Add an integration</h2>
      <form onSubmit=${submit} class="cfg-config-form">
        <${Problem} error=${action.error} />
        <div class="field">
          <label for="integration-id">Id</label>
          <input
            id="integration-id"
            value=${id}
            required
            aria-describedby="integration-id-hint"
            onInput=${(event) => setId(event.currentTarget.value)}
          />
          <p class="hint" id="integration-id-hint">Lower case letters, digits, - and _, e.g. twilio-main.</p>
        </div>
        <div class="field">
          <label for="integration-provider">Provider</label>
          <select
            id="integration-provider"
            value=${provider}
            onChange=${(event) => {
              setProvider(event.currentTarget.value);
              setText(bodyFor(event.currentTarget.value));
            }}
          >
            ${Object.keys(PROVIDERS).map((name) => html`<option value=${name}>${name} (${PROVIDERS[name].channel})</option>`)}
          </select>
        </div>
        <${BodyEditor} id="integration-body" value=${text} onInput=${setText} provider=${provider} />
        <button type="submit" class="primary" disabled=${action.busy}>
          ${action.busy ? 'Saving…' : 'Add integration'}
        </button>
      </form>
    </section>
  `;
}

function BodyEditor({ id, value, onInput, provider }) {
  const secrets = SECRET_FIELDS[provider] ?? [];
  return html`<div class="field">
    <label for=${id}>Body (JSON)</label>
    <textarea
      id=${id}
      class="cfg-code"
      rows="10"
      spellcheck=${false}
      aria-describedby=${`${id}-hint`}
      value=${value}
      onInput=${(event) => onInput(event.currentTarget.value)}
    ></textarea>
    <p class="hint" id=${`${id}-hint`}>
      ${'{channel, provider, config, priority, enabled, rateLimit: {limit, interval}}'} or ${'{url}'} (an Apprise URL).
      ${secrets.length > 0 ? ` Secret fields: ${secrets.join(', ')}; a masked value sent back unchanged keeps the stored one. ` : ' '}See
      docs/channels.md for each provider's fields.
    </p>
  </div>`;
}

/** A webhook integration's signing secret, in the one answer that holds it. */
function ShownOnce({ integration, navigate }) {
  return html`<section class="cfg-shown-once" aria-labelledby="secret-once">
    <h2 id="secret-once" tabindex="-1">Signing secret of ${integration.id}</h2>
    <p class="cfg-warning">Copy it now: it is shown this once. Receivers verify signatures with it.</p>
    <p><code class="cfg-secret">${integration.secret}</code></p>
    <${PageLink} to=${`integrations/${encodeURIComponent(integration.id)}`} navigate=${navigate}
      >Open ${integration.id}<//
    >
  </section>`;
}

/** The body a PUT takes, from an integration as the API shows it (masked secrets round-trip). */
const editableBody = (integration) => ({
  channel: integration.channel,
  provider: integration.provider,
  config: integration.config,
  priority: integration.priority,
  enabled: integration.enabled,
  rateLimit: integration.rateLimit
    ? { limit: integration.rateLimit.limit, interval: `${integration.rateLimit.intervalMs}ms` }
    : null,
});

function IntegrationDetail({ id, canEdit, navigate }) {
  const state = useLoad(() => getIntegration(id), [id]);
  const integration = state.data;
  const action = useAction();
  const [editing, setEditing] = useState(null);
  const [secret, setSecret] = useState(null);
  const readOnly = integration?.source === 'environment';
  const save = (body) =>
    action.run(async () => {
      await putIntegration(id, body);
      setEditing(null);
      await state.reload();
    });
  return html`
    <p><${PageLink} to="integrations" navigate=${navigate}>← Integrations<//></p>
    <h1 tabindex="-1">Integration ${id}</h1>
    <${LoadState} state=${state} what="the integration" />
    ${
      integration
        ? html`
            ${
              readOnly
                ? html`<p class="notice">
                    Read-only: defined by the server's environment (HERALD_SMTP_URL), not the API.
                  </p>`
                : null
            }
            <dl class="cfg-facts">
              <dt>Channel</dt>
              <dd>${integration.channel}</dd>
              <dt>Provider</dt>
              <dd>${integration.provider}</dd>
              <dt>Priority</dt>
              <dd>${integration.priority}</dd>
              <dt>Enabled</dt>
              <dd>${integration.enabled ? 'yes' : 'no'}</dd>
              <dt>Rate limit</dt>
              <dd>
                ${integration.rateLimit ? `${integration.rateLimit.limit} per ${integration.rateLimit.intervalMs} ms` : 'none'}
              </dd>
              <dt>Breaker</dt>
              <dd>
                <span class=${`cfg-breaker cfg-breaker-${circuitLabel(integration.circuit)}`}
                  >${circuitLabel(integration.circuit)}</span
                >
                ${integration.circuit?.consecutiveFailures ? ` after ${integration.circuit.consecutiveFailures} failures` : ''}
                ${integration.circuit?.lastFailure ? html`<br /><span class="hint">${integration.circuit.lastFailure}</span>` : null}
              </dd>
              <dt>Updated</dt>
              <dd>${when(integration.updatedAt)}</dd>
            </dl>
            <h2>Config</h2>
            <pre class="cfg-code-block" aria-label="Config (credentials masked)">
${JSON.stringify(integration.config, null, 2)}</pre>
            <${Problem} error=${action.error} />
            ${secret ? html`<p class="cfg-warning">New signing secret, shown once: <code class="cfg-secret">${secret}</code></p>` : null}
            ${
              canEdit && !readOnly
                ? html`<div class="cfg-actions">
                    <button
                      type="button"
                      disabled=${action.busy}
                      onClick=${() => save({ ...editableBody(integration), enabled: !integration.enabled })}
                    >
                      ${integration.enabled ? 'Disable' : 'Enable'}
                    </button>
                    <button
                      type="button"
                      onClick=${() => setEditing(JSON.stringify(editableBody(integration), null, 2))}
                    >
                      Edit
                    </button>
                    ${
                      integration.provider === 'webhook'
                        ? html`<${ConfirmButton}
                            label="Rotate signing secret"
                            question="The old secret signs alongside for 24 h. Rotate?"
                            confirmLabel="Rotate"
                            busy=${action.busy}
                            onConfirm=${() =>
                              action.run(async () => {
                                setSecret((await rotateIntegrationSecret(id)).secret);
                                await state.reload();
                              })}
                          />`
                        : null
                    }
                    <${ConfirmButton}
                      label="Delete"
                      question=${`Delete ${id}?`}
                      confirmLabel="Delete integration"
                      busy=${action.busy}
                      onConfirm=${() =>
                        action.run(async () => {
                          await deleteIntegration(id);
                          navigate('integrations');
                        })}
                    />
                  </div>`
                : null
            }
            ${
              editing !== null
                ? html`<form
                    class="cfg-config-form"
                    onSubmit=${(event) => {
                      event.preventDefault();
                      void action.run(async () => {
                        await putIntegration(id, parseBody(editing));
                        setEditing(null);
                        await state.reload();
                      });
                    }}
                  >
                    <${BodyEditor}
                      id="integration-edit"
                      value=${editing}
                      onInput=${setEditing}
                      provider=${integration.provider}
                    />
                    <div class="cfg-actions">
                      <button type="submit" class="primary" disabled=${action.busy}>Save</button>
                      <button type="button" onClick=${() => setEditing(null)}>Cancel</button>
                    </div>
                  </form>`
                : null
            }
            ${canEdit ? html`<${TestForm} id=${id} channel=${integration.channel} />` : null}
          `
        : null
    }
  `;
}

/** Sends one test message through the integration now and shows what the provider answered. */
function TestForm({ id, channel }) {
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [result, setResult] = useState(null);
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    setResult(null);
    void action.run(async () => {
      const trimmed = to.trim();
      const body = {};
      if (trimmed) body.to = trimmed.startsWith('{') ? JSON.parse(trimmed) : trimmed;
      if (text) body.text = text;
      setResult(await testIntegration(id, body));
    });
  };
  return html`<section aria-labelledby="integration-test">
    <h2 id="integration-test">Test</h2>
    <form class="cfg-config-form" onSubmit=${submit}>
      <div class="field">
        <label for="test-to">Send to</label>
        <input
          id="test-to"
          value=${to}
          aria-describedby="test-to-hint"
          onInput=${(event) => setTo(event.currentTarget.value)}
        />
        <p class="hint" id="test-to-hint">${TEST_TO_HINT[channel] ?? 'the address'}</p>
      </div>
      <div class="field">
        <label for="test-text">Text (optional)</label>
        <input id="test-text" value=${text} maxlength="1000" onInput=${(event) => setText(event.currentTarget.value)} />
      </div>
      <button type="submit" disabled=${action.busy}>${action.busy ? 'Sending…' : 'Send test message'}</button>
    </form>
    <${Problem} error=${action.error} />
    ${
      result
        ? html`<div class=${`cfg-test-result cfg-test-${result.status}`} role="status">
            <p><strong>${result.status}</strong>: ${result.detail}</p>
            ${result.providerMessageId ? html`<p class="hint">Provider message id: <code>${result.providerMessageId}</code></p>` : null}
          </div>`
        : null
    }
  </section>`;
}

/** The page, in the wrapper its styles are scoped to. */
export function IntegrationsPage(props) {
  return html`<div class="cfg-page"><${IntegrationsContent} ...${props} /></div>`;
}
