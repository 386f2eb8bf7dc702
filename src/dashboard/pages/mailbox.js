import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { listDevMail, listIntegrations } from '../config-api.js';
import { LoadState, MailFrame, PageLink, useLoad, when } from '../config-parts.js';

/**
 * The dev mailbox: email captured while no email integration is configured (mailbox), and one
 * email (mailbox/<id>): headers, text, and the HTML in a sandboxed frame that runs nothing.
 */
function MailboxContent({ title, path, navigate }) {
  const id = path.split('/')[1];
  const state = useLoad(async () => {
    const [mail, integrations] = await Promise.all([listDevMail(), listIntegrations()]);
    return { ...mail, capturing: !integrations.items.some((item) => item.channel === 'email' && item.enabled) };
  });
  const [more, setMore] = useState({ items: [], cursor: undefined });
  const cursor = more.cursor === undefined ? state.data?.nextCursor : more.cursor;
  const items = state.data ? [...state.data.items, ...more.items] : null;
  const loadMore = async () => {
    const page = await listDevMail(cursor);
    setMore({ items: [...more.items, ...page.items], cursor: page.nextCursor });
  };

  if (id) {
    const mail = items?.find((item) => item.id === id);
    return html`
      <p><${PageLink} to="mailbox" navigate=${navigate}>← ${title}<//></p>
      <h1 tabindex="-1">${mail ? mail.subject || '(no subject)' : 'Email'}</h1>
      <${LoadState} state=${state} what="the mailbox" />
      ${
        items && !mail
          ? html`<p class="cfg-empty">No email ${id} among the latest ${items.length} captured.</p>
              ${cursor ? html`<button type="button" onClick=${loadMore}>Look further back</button>` : null}`
          : null
      }
      ${mail ? html`<${Mail} mail=${mail} />` : null}
    `;
  }
  return html`
    <h1 tabindex="-1">${title}</h1>
    <p class="hint">
      Herald keeps email here, instead of sending it, while the environment has no enabled email integration (nor
      HERALD_SMTP_URL).
    </p>
    <${LoadState} state=${state} what="the mailbox" />
    ${
      state.data && !state.data.capturing
        ? html`<p class="notice">An email integration is enabled: new email is sent, not captured here.</p>`
        : null
    }
    ${items && items.length === 0 ? html`<p class="cfg-empty">No email captured yet.</p>` : null}
    ${
      items && items.length > 0
        ? html`<ul class="cfg-mail-list">
            ${items.map(
              (mail) =>
                html`<li key=${mail.id}>
                  <${PageLink} to=${`mailbox/${mail.id}`} navigate=${navigate}
                    >${mail.redacted ? '(redacted)' : mail.subject || '(no subject)'}<//
                  >
                  <span class="hint"> to ${mail.to} · ${when(mail.createdAt)}</span>
                </li>`,
            )}
          </ul>`
        : null
    }
    ${cursor ? html`<button type="button" onClick=${loadMore}>More</button>` : null}
  `;
}

function Mail({ mail }) {
  if (mail.redacted) {
    return html`<dl class="cfg-facts">
        <dt>From</dt>
        <dd>${mail.from}</dd>
        <dt>To</dt>
        <dd>${mail.to}</dd>
        <dt>Captured</dt>
        <dd>${when(mail.createdAt)}</dd>
      </dl>
      <p class="notice">Viewers do not see email content: subject, headers and bodies are left out.</p>`;
  }
  return html`
    <dl class="cfg-facts">
      <dt>From</dt>
      <dd>${mail.from}</dd>
      <dt>To</dt>
      <dd>${mail.to}</dd>
      <dt>Captured</dt>
      <dd>${when(mail.createdAt)}</dd>
      <dt>Message-ID</dt>
      <dd><code>${mail.messageId}</code></dd>
    </dl>
    <details>
      <summary>Headers</summary>
      <dl class="cfg-facts cfg-headers">
        ${Object.entries(mail.headers).map(
          ([name, value]) =>
            html`<dt>${name}</dt>
              <dd>${value}</dd>`,
        )}
      </dl>
    </details>
    <h2>HTML</h2>
    ${
      mail.html
        ? html`<p class="hint">Shown in a sandbox: scripts, styles and remote images are left out.</p>
            <${MailFrame} source=${mail.html} title="The email's HTML" />`
        : html`<p class="cfg-empty">This email has no HTML part.</p>`
    }
    <h2>Text</h2>
    <pre class="cfg-code-block cfg-mail-text">${mail.text}</pre>
  `;
}

/** The page, in the wrapper its styles are scoped to. */
export function MailboxPage(props) {
  return html`<div class="cfg-page"><${MailboxContent} ...${props} /></div>`;
}
