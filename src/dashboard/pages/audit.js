import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { listAudit } from '../people-api.js';
import { Pending, useLoad, when } from './page-parts.js';

const actorOf = (actor) =>
  actor.type === 'user' ? (actor.email ?? actor.id) : actor.type === 'api_key' ? `API key ${actor.id}` : 'command line';

/** The audit log: who changed what, newest first, filtered by actor and action (GET /v1/audit). */
export function AuditPage({ title }) {
  const [filter, setFilter] = useState({ actor: '', action: '' });
  const [draft, setDraft] = useState(filter);
  // The cursors of the pages before this one, so "Newer" can go back.
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const result = useLoad(() => listAudit({ ...filter, cursor }), [filter.actor, filter.action, cursor]);

  const apply = (event) => {
    event.preventDefault();
    setFilter({ actor: draft.actor.trim(), action: draft.action.trim() });
    setCursors([undefined]);
  };

  return html`
    <h1 tabindex="-1">${title}</h1>
    <form class="people-filters" onSubmit=${apply} role="search" aria-label="Filter the audit log">
      <div class="field">
        <label for="audit-actor">Actor</label>
        <input
          id="audit-actor"
          value=${draft.actor}
          placeholder="usr_…, key_… or an email"
          onInput=${(e) => setDraft({ ...draft, actor: e.currentTarget.value })}
        />
      </div>
      <div class="field">
        <label for="audit-action">Action</label>
        <input
          id="audit-action"
          value=${draft.action}
          placeholder="PUT /v1/workflows/{key}"
          aria-describedby="audit-action-hint"
          onInput=${(e) => setDraft({ ...draft, action: e.currentTarget.value })}
        />
        <p class="hint" id="audit-action-hint">Exactly as the log lists it.</p>
      </div>
      <button type="submit" class="primary">Filter</button>
    </form>
    ${
      result.state !== 'ready'
        ? html`<${Pending} result=${result} what="the audit log" />`
        : result.data.items.length === 0
          ? html`<p class="people-empty">
              No events${filter.actor || filter.action ? ' match these filters' : ' yet'}.
            </p>`
          : html`
              <div class="people-table-wrap">
                <table class="people-table">
                  <caption class="people-hidden">
                    Events, newest first
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Who</th>
                      <th scope="col">Action</th>
                      <th scope="col">Target</th>
                      <th scope="col">Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${result.data.items.map(
                      (event) => html`
                        <tr key=${event.id}>
                          <td>${when(event.at)}</td>
                          <td>${actorOf(event.actor)}</td>
                          <td><code>${event.action}</code></td>
                          <td>
                            ${Object.entries(event.target).map(
                              ([name, value]) =>
                                html`<span class="people-param">${name}: <code>${value}</code></span> `,
                            )}
                          </td>
                          <td>${event.status}</td>
                        </tr>
                      `,
                    )}
                  </tbody>
                </table>
              </div>
            `
    }
    <div class="people-pager">
      <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>
        Newer
      </button>
      <button
        type="button"
        disabled=${result.state !== 'ready' || !result.data.nextCursor}
        onClick=${() => setCursors([...cursors, result.data.nextCursor])}
      >
        Older
      </button>
    </div>
  `;
}
