import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getInboxSettings, putInboxSettings, rotateInboxSecret } from '../config-api.js';
import { ConfirmButton, LoadState, Problem, useAction, useLoad } from '../config-parts.js';

/**
 * The in-app inbox's settings: the origins whose pages may call the inbox API, and the secret
 * subscriber hashes are made with (shown to admins on request; viewers get it redacted).
 */
export function InboxSettings({ canEdit }) {
  const state = useLoad(getInboxSettings);
  const [origins, setOrigins] = useState('');
  const [shown, setShown] = useState(false);
  const [saved, setSaved] = useState(null);
  const action = useAction();
  const settings = state.data;
  useEffect(() => {
    if (settings) setOrigins(settings.allowedOriginsDefault ? '' : settings.allowedOrigins.join('\n'));
  }, [settings]);

  const save = (event) => {
    event.preventDefault();
    setSaved(null);
    void action.run(async () => {
      const list = origins
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      await putInboxSettings(list.length > 0 ? list : null);
      await state.reload();
      setSaved('Allowed origins saved.');
    });
  };

  return html`<section aria-labelledby="inbox-settings">
    <h2 id="inbox-settings">Inbox settings</h2>
    <${LoadState} state=${state} what="the inbox settings" />
    ${
      settings
        ? html`
            <p>
              Pages allowed to call the inbox API: ${settings.allowedOriginsDefault ? ' (the default) ' : ' '}
              ${
                settings.allowedOrigins.length > 0
                  ? settings.allowedOrigins.map((origin) => html`<code class="cfg-origin">${origin}</code> `)
                  : html`<em>none</em>`
              }
            </p>
            <${Problem} error=${action.error} />
            ${saved ? html`<p class="notice" role="status">${saved}</p>` : null}
            ${
              canEdit
                ? html`<form class="cfg-config-form" onSubmit=${save}>
                      <div class="field">
                        <label for="inbox-origins">Allowed origins, one per line</label>
                        <textarea
                          id="inbox-origins"
                          class="cfg-code"
                          rows="3"
                          aria-describedby="inbox-origins-hint"
                          value=${origins}
                          onInput=${(event) => setOrigins(event.currentTarget.value)}
                        ></textarea>
                        <p class="hint" id="inbox-origins-hint">
                          Each as the browser sends it in Origin: scheme, host and port, no path. Empty: back to the
                          default (docs/inbox.md).
                        </p>
                      </div>
                      <button type="submit" disabled=${action.busy}>Save origins</button>
                    </form>
                    <h3>Secret</h3>
                    <p class="hint">
                      subscriberHash = hex(HMAC-SHA256(secret, subscriberId)), computed by your backend.
                    </p>
                    <div class="cfg-actions">
                      <button type="button" aria-expanded=${shown ? 'true' : 'false'} onClick=${() => setShown(!shown)}>
                        ${shown ? 'Hide secret' : 'Show secret'}
                      </button>
                      <${ConfirmButton}
                        label="Rotate secret"
                        question="Hashes and tokens made with the old secret stop working at once. Rotate?"
                        confirmLabel="Rotate inbox secret"
                        busy=${action.busy}
                        onConfirm=${() =>
                          action.run(async () => {
                            await rotateInboxSecret();
                            await state.reload();
                            setShown(true);
                            setSaved('A new inbox secret is in use.');
                          })}
                      />
                    </div>
                    ${shown ? html`<p><code class="cfg-secret">${settings.secret}</code></p>` : null}`
                : html`<p class="hint">The inbox secret is not shown to viewers.</p>`
            }
          `
        : null
    }
  </section>`;
}
