import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import {
  getPreferences,
  getSubscriber,
  listSubscriberInbox,
  listSubscriberMessages,
  listWorkflows,
  mayEdit,
  searchSubscribers,
} from '../people-api.js';
import { PageLink, Pending, useLoad, when } from './page-parts.js';
import { PreferencesTable } from './preferences-table.js';

const profilePath = (id) => `subscribers/${encodeURIComponent(id)}`;

function Search({ navigate, title }) {
  const [draft, setDraft] = useState({ by: 'id', text: '' });
  const [search, setSearch] = useState(draft);
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const result = useLoad(() => searchSubscribers({ ...search, cursor }), [search.by, search.text, cursor]);
  const submit = (event) => {
    event.preventDefault();
    setSearch({ by: draft.by, text: draft.text.trim() });
    setCursors([undefined]);
  };
  return html`
    <h1 tabindex="-1">${title}</h1>
    <form class="people-filters" role="search" aria-label="Find subscribers" onSubmit=${submit}>
      <div class="field">
        <label for="subscriber-search">Starts with</label>
        <input
          id="subscriber-search"
          type="search"
          value=${draft.text}
          onInput=${(e) => setDraft({ ...draft, text: e.currentTarget.value })}
        />
      </div>
      <div class="field">
        <label for="subscriber-search-by">Search by</label>
        <select
          id="subscriber-search-by"
          class="people-select"
          value=${draft.by}
          onChange=${(e) => setDraft({ ...draft, by: e.currentTarget.value })}
        >
          <option value="id">subscriber id</option>
          <option value="email">email</option>
        </select>
      </div>
      <button type="submit" class="primary">Search</button>
    </form>
    ${
      result.state !== 'ready'
        ? html`<${Pending} result=${result} what="subscribers" />`
        : result.data.items.length === 0
          ? html`<p class="people-empty">${search.text ? 'No subscriber matches.' : 'No subscribers yet.'}</p>`
          : html`<ul class="people-list" aria-label="Subscribers">
              ${result.data.items.map(
                (s) =>
                  html`<li key=${s.subscriberId}>
                    <${PageLink} to=${profilePath(s.subscriberId)} navigate=${navigate}>${s.subscriberId}<//>
                    ${s.email ? html`<span>${s.email}</span>` : null}
                    ${s.name ? html`<span class="hint">${s.name}</span>` : null}
                  </li>`,
              )}
            </ul>`
    }
    <div class="people-pager">
      <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>
        Previous
      </button>
      <button
        type="button"
        disabled=${result.state !== 'ready' || !result.data.nextCursor}
        onClick=${() => setCursors([...cursors, result.data.nextCursor])}
      >
        Next
      </button>
    </div>
  `;
}

function Fields({ subscriber }) {
  const rows = [
    ['Email', subscriber.email],
    ['Phone', subscriber.phone],
    ['Name', subscriber.name],
    ['Locale', subscriber.locale],
    ['Time zone', subscriber.timezone],
    ['Data', subscriber.data ? JSON.stringify(subscriber.data) : null],
    ['Created', when(subscriber.createdAt)],
    ['Updated', when(subscriber.updatedAt)],
  ];
  return html`<dl class="people-fields">
    ${rows.map(
      ([name, value]) =>
        html`<dt>${name}</dt>
          <dd>${value ?? '—'}</dd>`,
    )}
  </dl>`;
}

function ChannelData({ subscriber }) {
  if (subscriber.redacted) {
    return html`<p class="hint">Push tokens, chat addresses and the webhook URL are not shown to viewers.</p>`;
  }
  const push = subscriber.push ?? {};
  const rows = [
    ['Web push', push.webPush?.map((s) => s.endpoint).join(', ')],
    ['FCM tokens', push.fcm?.length ? `${push.fcm.length}` : null],
    ['APNs tokens', push.apns?.length ? `${push.apns.length}` : null],
    ...Object.entries(subscriber.chat ?? {}).map(([service, address]) => [`Chat: ${service}`, address]),
    ['Webhook URL', subscriber.webhookUrl],
  ];
  return html`<dl class="people-fields">
    ${rows.map(
      ([name, value]) =>
        html`<dt>${name}</dt>
          <dd>${value || '—'}</dd>`,
    )}
  </dl>`;
}

function Messages({ subscriberId, channel, navigate, what }) {
  const result = useLoad(() => listSubscriberMessages(subscriberId, { channel }), [subscriberId, channel]);
  if (result.state !== 'ready') return html`<${Pending} result=${result} what=${what} />`;
  const { items, nextCursor } = result.data;
  if (items.length === 0) return html`<p class="people-empty">No ${what}.</p>`;
  return html`
    <ul class="people-list" aria-label=${what}>
      ${items.map(
        (m) =>
          html`<li key=${m.id}>
            <${PageLink} to=${`messages/${m.id}`} navigate=${navigate}>${m.id}<//>
            <span>${m.workflowKey} · ${m.channel} · ${m.status}</span>
            <span class="hint">${when(m.createdAt)}</span>
          </li>`,
      )}
    </ul>
    ${nextCursor ? html`<p class="hint">The ${items.length} newest; the delivery log has the rest.</p>` : null}
  `;
}

/** The item's state as the subscriber's inbox shows it. */
const itemState = (item) => (item.archivedAt ? 'archived' : item.readAt ? 'read' : item.seenAt ? 'seen' : 'unseen');

/** The subscriber's inbox as they see it (GET /v1/subscribers/{id}/inbox); reading it marks nothing. */
function Inbox({ subscriberId, navigate }) {
  const result = useLoad(() => listSubscriberInbox(subscriberId), [subscriberId]);
  if (result.state !== 'ready') return html`<${Pending} result=${result} what="the inbox" />`;
  const { items, nextCursor } = result.data;
  if (items.length === 0) return html`<p class="people-empty">The inbox is empty.</p>`;
  return html`
    <ul class="people-list" aria-label="Inbox items">
      ${items.map(
        (item) =>
          html`<li key=${item.id}>
            <strong>${item.redacted ? '(content not shown to viewers)' : (item.title ?? item.body)}</strong>
            ${item.title && !item.redacted ? html`<span>${item.body}</span>` : null}
            <span class="hint">${itemState(item)} · ${item.workflowKey} · ${when(item.createdAt)}</span>
            <${PageLink} to=${`messages/${item.id}`} navigate=${navigate}>message<//>
          </li>`,
      )}
    </ul>
    ${nextCursor ? html`<p class="hint">The ${items.length} newest items.</p>` : null}
  `;
}

function Profile({ session, subscriberId, navigate }) {
  const result = useLoad(
    () => Promise.all([getSubscriber(subscriberId), getPreferences(subscriberId), listWorkflows()]),
    [subscriberId],
  );
  const back = html`<p><${PageLink} to="subscribers" navigate=${navigate}>← Subscribers<//></p>`;
  if (result.state !== 'ready') {
    return html`${back}
      <h1 tabindex="-1">Subscriber ${subscriberId}</h1>
      <${Pending} result=${result} what="the subscriber" />`;
  }
  const [subscriber, preferences, workflows] = result.data;
  return html`
    ${back}
    <h1 tabindex="-1">Subscriber ${subscriber.subscriberId}</h1>
    <h2>Fields</h2>
    <${Fields} subscriber=${subscriber} />
    <h2>Channel data</h2>
    <${ChannelData} subscriber=${subscriber} />
    <h2>Topics</h2>
    ${
      subscriber.topics.length === 0
        ? html`<p class="people-empty">In no topic.</p>`
        : html`<ul class="people-list" aria-label="Topics of the subscriber">
            ${subscriber.topics.map(
              (key) =>
                html`<li key=${key}>
                  <${PageLink} to=${`topics/${encodeURIComponent(key)}`} navigate=${navigate}>${key}<//>
                </li>`,
            )}
          </ul>`
    }
    <h2>Preferences</h2>
    <${PreferencesTable}
      subscriberId=${subscriber.subscriberId}
      preferences=${preferences}
      workflows=${workflows.items}
      editable=${mayEdit(session)}
    />
    <h2>Messages</h2>
    <${Messages} subscriberId=${subscriber.subscriberId} navigate=${navigate} what="messages" />
    <h2>Inbox</h2>
    <${Inbox} subscriberId=${subscriber.subscriberId} navigate=${navigate} />
  `;
}

/** Subscribers (`subscribers`, `subscribers/<id>`): search, then one subscriber's profile. */
export function SubscribersPage({ session, title, path, navigate }) {
  const id = path.split('/').slice(1).join('/');
  return id
    ? html`<${Profile} session=${session} subscriberId=${decodeURIComponent(id)} navigate=${navigate} />`
    : html`<${Search} title=${title} navigate=${navigate} />`;
}
