import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { createApiKey, listApiKeys, revokeApiKey } from '../config-api.js';
import { ConfirmButton, LoadState, Problem, useAction, useLoad, when } from '../config-parts.js';

/** The environment's API keys: list, create (the key shown once), revoke (never the last one). */
function ApiKeysContent({ session, title }) {
  const canEdit = session.user.role !== 'viewer';
  const state = useLoad(listApiKeys);
  const [created, setCreated] = useState(null);
  const action = useAction();
  const items = state.data?.items;
  return html`
    <h1 tabindex="-1">${title}</h1>
    <p class="hint">
      Keys authenticate scripts on this environment (Authorization: Bearer). Herald keeps only their hash.
    </p>
    ${created ? html`<${CreatedKey} created=${created} onDone=${() => setCreated(null)} />` : null}
    <${LoadState} state=${state} what="API keys" />
    <${Problem} error=${action.error} />
    ${items && items.length === 0 ? html`<p class="cfg-empty">No API keys.</p>` : null}
    ${
      items && items.length > 0
        ? html`<div class="cfg-table-scroll">
            <table class="cfg-config-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  ${canEdit ? html`<th scope="col"><span class="cfg-visually-hidden">Actions</span></th>` : null}
                </tr>
              </thead>
              <tbody>
                ${items.map(
                  (key) =>
                    html`<tr key=${key.id}>
                      <td>${key.name}</td>
                      <td><code>${key.prefix}…</code></td>
                      <td>${when(key.createdAt)}</td>
                      <td>${key.lastUsedAt ? when(key.lastUsedAt) : 'never'}</td>
                      ${
                        canEdit
                          ? html`<td>
                              <${ConfirmButton}
                                label=${`Revoke ${key.name}`}
                                question="Requests with this key fail at once. Revoke?"
                                confirmLabel="Revoke key"
                                busy=${action.busy}
                                onConfirm=${() =>
                                  action.run(async () => {
                                    await revokeApiKey(key.id);
                                    await state.reload();
                                  })}
                              />
                            </td>`
                          : null
                      }
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null
    }
    ${
      canEdit
        ? html`<${NewKey}
            onCreated=${async (key) => {
              setCreated(key);
              await state.reload();
            }}
          />`
        : null
    }
  `;
}

function NewKey({ onCreated }) {
  const [name, setName] = useState('');
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    void action.run(async () => {
      await onCreated(await createApiKey(name));
      setName('');
    });
  };
  return html`<section aria-labelledby="api-key-new">
    <h2 id="api-key-new">Create a key</h2>
    <form class="cfg-config-form" onSubmit=${submit}>
      <${Problem} error=${action.error} />
      <div class="field">
        <label for="api-key-name">Name</label>
        <input
          id="api-key-name"
          value=${name}
          required
          maxlength="100"
          onInput=${(event) => setName(event.currentTarget.value)}
        />
      </div>
      <button type="submit" class="primary" disabled=${action.busy}>${action.busy ? 'Creating…' : 'Create key'}</button>
    </form>
  </section>`;
}

/** The new key, in the one answer that holds it: copy it now. */
function CreatedKey({ created, onDone }) {
  const [copied, setCopied] = useState(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied.');
    } catch {
      setCopied('The browser refused: select the key and copy it.');
    }
  };
  return html`<section class="cfg-shown-once" aria-labelledby="api-key-created">
    <h2 id="api-key-created">Key ${created.name} created</h2>
    <p class="cfg-warning" role="status">Copy it now: it is shown this once, and Herald cannot show it again.</p>
    <p><code class="cfg-secret" id="api-key-secret">${created.key}</code></p>
    <div class="cfg-actions">
      <button type="button" onClick=${copy}>Copy key</button>
      <button type="button" onClick=${onDone}>Done</button>
    </div>
    ${copied ? html`<p class="hint" role="status">${copied}</p>` : null}
  </section>`;
}

/** The page, in the wrapper its styles are scoped to. */
export function ApiKeysPage(props) {
  return html`<div class="cfg-page"><${ApiKeysContent} ...${props} /></div>`;
}
