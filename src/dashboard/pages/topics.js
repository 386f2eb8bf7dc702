import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { useSubmit } from '../forms.js';
import {
  addMembers,
  deleteTopic,
  getTopic,
  listMembers,
  listTopics,
  mayEdit,
  putTopic,
  removeMembers,
} from '../people-api.js';
import { PageLink, Pending, useLoad, when } from './page-parts.js';

/** Paging by cursor: the cursors of the pages before, so "Previous" can go back. */
function usePages() {
  const [cursors, setCursors] = useState([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    first: cursors.length === 1,
    back: () => setCursors(cursors.slice(0, -1)),
    next: (cursor) => setCursors([...cursors, cursor]),
    reset: () => setCursors([undefined]),
  };
}

function Pager({ pages, result, label }) {
  return html`
    <div class="people-pager" aria-label=${label}>
      <button type="button" disabled=${pages.first} onClick=${pages.back}>Previous</button>
      <button
        type="button"
        disabled=${result.state !== 'ready' || !result.data.nextCursor}
        onClick=${() => pages.next(result.data.nextCursor)}
      >
        Next
      </button>
    </div>
  `;
}

function CreateTopic({ navigate }) {
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const { busy, onSubmit, alert } = useSubmit(async () => {
    const topic = await putTopic(key.trim(), name.trim());
    navigate(`topics/${encodeURIComponent(topic.key)}`);
  });
  return html`
    <form class="people-form card" onSubmit=${onSubmit} aria-labelledby="create-topic">
      <h2 id="create-topic">Create a topic</h2>
      ${alert}
      <div class="field">
        <label for="topic-key">Key</label>
        <input
          id="topic-key"
          value=${key}
          required
          aria-describedby="topic-key-hint"
          onInput=${(e) => setKey(e.currentTarget.value)}
        />
        <p class="hint" id="topic-key-hint">Letters, digits, ., _ and -, e.g. project-42-watchers.</p>
      </div>
      <div class="field">
        <label for="topic-name">Name (optional)</label>
        <input id="topic-name" value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
      </div>
      <button type="submit" class="primary" disabled=${busy}>Create topic</button>
    </form>
  `;
}

function TopicList({ session, title, navigate }) {
  const pages = usePages();
  const result = useLoad(() => listTopics(pages.cursor), [pages.cursor]);
  return html`
    <h1 tabindex="-1">${title}</h1>
    <p class="hint">Named groups of subscribers that a trigger can fan out to, by key.</p>
    ${
      result.state !== 'ready'
        ? html`<${Pending} result=${result} what="topics" />`
        : result.data.items.length === 0
          ? html`<p class="people-empty">No topics yet.</p>`
          : html`<ul class="people-list" aria-label="Topics">
              ${result.data.items.map(
                (topic) => html`
                  <li key=${topic.key}>
                    <${PageLink} to=${`topics/${encodeURIComponent(topic.key)}`} navigate=${navigate}>${topic.name}<//>
                    <code>${topic.key}</code>
                  </li>
                `,
              )}
            </ul>`
    }
    <${Pager} pages=${pages} result=${result} label="Pages of topics" />
    ${mayEdit(session) ? html`<${CreateTopic} navigate=${navigate} />` : null}
  `;
}

function TopicEditor({ topic, onChanged, navigate }) {
  const [name, setName] = useState(topic.name);
  const [confirming, setConfirming] = useState(false);
  const rename = useSubmit(async () => onChanged(await putTopic(topic.key, name.trim())));
  const remove = useSubmit(async () => {
    await deleteTopic(topic.key);
    navigate('topics');
  });
  return html`
    <form class="people-inline" onSubmit=${rename.onSubmit}>
      ${rename.alert}
      <label for="rename-topic">Name</label>
      <input id="rename-topic" value=${name} required onInput=${(e) => setName(e.currentTarget.value)} />
      <button type="submit" disabled=${rename.busy || name.trim() === topic.name}>Rename</button>
    </form>
    <form class="people-inline" onSubmit=${remove.onSubmit}>
      ${remove.alert}
      ${
        confirming
          ? html`<span class="people-confirm">
              Delete the topic and its memberships? A fan-out to it still running reaches no one more.
              <button type="submit" class="danger" disabled=${remove.busy}>Yes, delete</button>
              <button type="button" onClick=${() => setConfirming(false)}>Keep</button>
            </span>`
          : html`<button type="button" onClick=${() => setConfirming(true)}>Delete topic…</button>`
      }
    </form>
  `;
}

function AddMembers({ topicKey, onAdded }) {
  const [ids, setIds] = useState('');
  const [done, setDone] = useState(null);
  const { busy, onSubmit, alert } = useSubmit(async () => {
    const subscriberIds = ids.split(/[\s,]+/).filter(Boolean);
    const result = await addMembers(topicKey, subscriberIds);
    setDone(`${result.added} added (${subscriberIds.length - result.added} were members already).`);
    setIds('');
    onAdded();
  });
  return html`
    <form class="people-form" onSubmit=${onSubmit} aria-labelledby="add-members">
      <h2 id="add-members">Add members</h2>
      ${alert} ${done ? html`<p class="notice" role="status">${done}</p>` : null}
      <div class="field">
        <label for="member-ids">Subscriber ids</label>
        <input
          id="member-ids"
          value=${ids}
          required
          aria-describedby="member-ids-hint"
          onInput=${(e) => setIds(e.currentTarget.value)}
        />
        <p class="hint" id="member-ids-hint">Separated by spaces or commas; each must name an existing subscriber.</p>
      </div>
      <button type="submit" class="primary" disabled=${busy}>Add</button>
    </form>
  `;
}

function Members({ topicKey, editable, navigate, round, onChanged }) {
  const pages = usePages();
  const result = useLoad(() => listMembers(topicKey, pages.cursor), [topicKey, pages.cursor, round]);
  const [error, setError] = useState(null);
  const remove = async (subscriberId) => {
    setError(null);
    try {
      await removeMembers(topicKey, [subscriberId]);
      onChanged();
    } catch (caught) {
      setError(caught.message);
    }
  };
  return html`
    <h2>Members</h2>
    ${error ? html`<p class="alert" role="alert">${error}</p>` : null}
    ${
      result.state !== 'ready'
        ? html`<${Pending} result=${result} what="members" />`
        : result.data.items.length === 0
          ? html`<p class="people-empty">No members${pages.first ? '' : ' on this page'}.</p>`
          : html`<ul class="people-list" aria-label="Members">
              ${result.data.items.map(
                (member) => html`
                  <li key=${member.subscriberId}>
                    <${PageLink} to=${`subscribers/${encodeURIComponent(member.subscriberId)}`} navigate=${navigate}
                      >${member.subscriberId}<//
                    >
                    <span class="hint">added ${when(member.addedAt)}</span>
                    ${
                      editable
                        ? html`<button
                            type="button"
                            aria-label=${`Remove ${member.subscriberId}`}
                            onClick=${() => remove(member.subscriberId)}
                          >
                            Remove
                          </button>`
                        : null
                    }
                  </li>
                `,
              )}
            </ul>`
    }
    <${Pager} pages=${pages} result=${result} label="Pages of members" />
  `;
}

function TopicDetail({ session, topicKey, navigate }) {
  const result = useLoad(() => getTopic(topicKey), [topicKey]);
  const [round, setRound] = useState(0);
  const changed = () => {
    setRound(round + 1);
    result.reload();
  };
  const editable = mayEdit(session);
  return html`
    <p><${PageLink} to="topics" navigate=${navigate}>← Topics<//></p>
    ${
      result.state !== 'ready'
        ? html`<h1 tabindex="-1">Topic ${topicKey}</h1>
            <${Pending} result=${result} what="the topic" />`
        : html`
            <h1 tabindex="-1">${result.data.name}</h1>
            <p>
              Key <code>${result.data.key}</code> · ${result.data.subscriberCount}
              member${result.data.subscriberCount === 1 ? '' : 's'} · created ${when(result.data.createdAt)}
            </p>
            ${
              editable
                ? html`<${TopicEditor}
                    key=${result.data.updatedAt}
                    topic=${result.data}
                    onChanged=${changed}
                    navigate=${navigate}
                  />`
                : null
            }
          `
    }
    ${editable ? html`<${AddMembers} topicKey=${topicKey} onAdded=${changed} />` : null}
    <${Members} topicKey=${topicKey} editable=${editable} navigate=${navigate} round=${round} onChanged=${changed} />
  `;
}

/** Topics (`topics`, `topics/<key>`): list, create, rename, delete, members (/v1/topics). */
export function TopicsPage({ session, title, path, navigate }) {
  const key = path.split('/')[1];
  return key
    ? html`<${TopicDetail} session=${session} topicKey=${decodeURIComponent(key)} navigate=${navigate} />`
    : html`<${TopicList} session=${session} title=${title} navigate=${navigate} />`;
}
