import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { givenFilters, listMessages, redriveMessages } from '../messages-api.js';
import { MessageDetail, StatusBadge, when } from './message-detail.js';

const STATUSES = [
  'pending',
  'queued',
  'sending',
  'sent',
  'retrying',
  'failed',
  'skipped',
  'seen',
  'read',
  'archived',
  'canceled',
  'throttled',
  'digested',
];
const CHANNELS = ['email', 'sms', 'push', 'chat', 'webhook', 'in_app'];
const NO_FILTERS = { status: '', channel: '', workflow: '', subscriberId: '', triggerId: '', from: '', until: '' };
const FILTER_LABELS = {
  status: 'Status',
  channel: 'Channel',
  workflow: 'Workflow',
  subscriberId: 'Subscriber',
  triggerId: 'Trigger',
  from: 'Created from',
  until: 'Created before',
};

/** The list's filters, kept while the dashboard is open: back from a message, the list is as it was. */
let lastFilters = NO_FILTERS;

/** The Messages page: the delivery log (messages) or one message (messages/<id>). */
export function MessagesPage({ session, title, path, navigate }) {
  const id = path.split('/')[1];
  if (id) return html`<${MessageDetail} key=${id} id=${id} session=${session} navigate=${navigate} />`;
  return html`<${MessageList} session=${session} title=${title} navigate=${navigate} />`;
}

function MessageList({ session, title, navigate }) {
  const [draft, setDraft] = useState(lastFilters);
  const [filters, setFilters] = useState(lastFilters);
  const [state, setState] = useState({ name: 'loading' });
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState(null);
  const canWrite = session.user.role !== 'viewer';

  const load = async (current) => {
    setState({ name: 'loading' });
    try {
      const page = await listMessages(current);
      setState({ name: 'ready', items: page.items, nextCursor: page.nextCursor });
    } catch (caught) {
      setState({ name: 'failed', message: caught.message });
    }
  };
  useEffect(() => void load(filters), [filters]);

  const apply = (event) => {
    event.preventDefault();
    lastFilters = draft;
    setFilters(draft);
  };
  const reset = () => {
    lastFilters = NO_FILTERS;
    setDraft(NO_FILTERS);
    setFilters(NO_FILTERS);
  };
  const more = async () => {
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await listMessages(filters, state.nextCursor);
      setState({ name: 'ready', items: [...state.items, ...page.items], nextCursor: page.nextCursor });
    } catch (caught) {
      setMoreError(caught.message);
    } finally {
      setLoadingMore(false);
    }
  };
  const field = (name) => ({
    id: `msg-filter-${name}`,
    name,
    value: draft[name],
    onInput: (event) => setDraft({ ...draft, [name]: event.currentTarget.value }),
  });
  const open = (event, message) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(`messages/${message.id}`);
  };

  return html`
    <h1 tabindex="-1">${title}</h1>
    <form class="msg-filters" onSubmit=${apply} aria-label="Filter messages">
      <div class="field">
        <label for="msg-filter-status">Status</label>
        <select ...${field('status')}>
          <option value="">any</option>
          ${STATUSES.map((status) => html`<option value=${status}>${status}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="msg-filter-channel">Channel</label>
        <select ...${field('channel')}>
          <option value="">any</option>
          ${CHANNELS.map((channel) => html`<option value=${channel}>${channel}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="msg-filter-workflow">Workflow key</label>
        <input type="text" ...${field('workflow')} />
      </div>
      <div class="field">
        <label for="msg-filter-subscriberId">Subscriber id</label>
        <input type="text" ...${field('subscriberId')} />
      </div>
      <div class="field">
        <label for="msg-filter-triggerId">Trigger id</label>
        <input type="text" ...${field('triggerId')} />
      </div>
      <div class="field">
        <label for="msg-filter-from">Created from</label>
        <input type="datetime-local" step="1" ...${field('from')} />
      </div>
      <div class="field">
        <label for="msg-filter-until">Created before</label>
        <input type="datetime-local" step="1" ...${field('until')} />
      </div>
      <div class="msg-filter-actions">
        <button type="submit">Apply filters</button>
        <button type="button" onClick=${reset}>Clear</button>
      </div>
    </form>
    ${
      canWrite && (filters.status === '' || filters.status === 'failed')
        ? html`<${Redrive} filters=${filters} onDone=${() => load(filters)} />`
        : null
    }
    ${state.name === 'loading' ? html`<p aria-busy="true">Loading messages…</p>` : null}
    ${state.name === 'failed' ? html`<p class="alert" role="alert">Could not load messages: ${state.message}</p>` : null}
    ${
      state.name === 'ready' && state.items.length === 0
        ? html`<p class="notice">No messages match these filters.</p>`
        : null
    }
    ${
      state.name === 'ready' && state.items.length > 0
        ? html`
            <div class="msg-table-scroll">
              <table class="msg-table">
                <caption>
                  Messages, newest first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Message</th>
                    <th scope="col">Status</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Workflow</th>
                    <th scope="col">Subscriber</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  ${state.items.map(
                    (message) => html`
                      <tr key=${message.id}>
                        <td>
                          <a href=${`/dashboard/messages/${message.id}`} onClick=${(event) => open(event, message)}
                            >${message.redacted ? message.id : (message.subject ?? message.id)}</a
                          >
                          ${message.reason ? html`<div class="hint">${message.reason}</div>` : null}
                        </td>
                        <td><${StatusBadge} status=${message.status} /></td>
                        <td>${message.channel}</td>
                        <td>${message.workflowKey}</td>
                        <td>${message.subscriberId}</td>
                        <td>${when(message.createdAt)}</td>
                      </tr>
                    `,
                  )}
                </tbody>
              </table>
            </div>
            ${moreError ? html`<p class="alert" role="alert">Could not load more: ${moreError}</p>` : null}
            ${
              state.nextCursor
                ? html`<button type="button" onClick=${more} disabled=${loadingMore}>
                    ${loadingMore ? 'Loading…' : 'Load more'}
                  </button>`
                : html`<p class="hint">End of the log for these filters.</p>`
            }
          `
        : null
    }
  `;
}

/** Re-drive every failed message matching the list's filters, after a confirmation naming them. */
function Redrive({ filters, onDone }) {
  const [step, setStep] = useState({ name: 'idle' });
  const confirmRef = useRef(null);
  const given = Object.entries(givenFilters({ ...filters, status: 'failed' }));
  useEffect(() => setStep({ name: 'idle' }), [filters]);

  const ask = () => {
    setStep({ name: 'confirm' });
    queueMicrotask(() => confirmRef.current?.focus());
  };
  const run = async () => {
    setStep({ name: 'running' });
    try {
      const result = await redriveMessages(filters);
      setStep({ name: 'done', result });
      onDone();
    } catch (caught) {
      setStep({ name: 'failed', message: caught.message });
    }
  };

  if (step.name === 'idle' || step.name === 'done' || step.name === 'failed') {
    return html`
      <div class="msg-redrive">
        ${
          step.name === 'done'
            ? html`<p class="notice" role="status">
                Re-queued ${step.result.redriven} failed message${step.result.redriven === 1 ? '' : 's'}.
                ${step.result.more ? ' More match: re-drive again for the rest.' : ''}
              </p>`
            : null
        }
        ${step.name === 'failed' ? html`<p class="alert" role="alert">Re-drive failed: ${step.message}</p>` : null}
        <button type="button" onClick=${ask}>Re-drive all failed matching these filters</button>
      </div>
    `;
  }
  return html`
    <section class="msg-redrive msg-confirm" aria-labelledby="msg-redrive-title" tabindex="-1" ref=${confirmRef}>
      <h2 id="msg-redrive-title">Re-drive failed messages?</h2>
      <p>Every failed message matching all of these goes back to the queue and is sent again (up to 10,000):</p>
      <ul>
        ${given.map(([name, value]) => html`<li><strong>${FILTER_LABELS[name]}</strong>: <code>${value}</code></li>`)}
      </ul>
      <div class="msg-filter-actions">
        <button type="button" class="msg-danger" onClick=${run} disabled=${step.name === 'running'}>
          ${step.name === 'running' ? 'Re-driving…' : 'Re-drive now'}
        </button>
        <button type="button" onClick=${() => setStep({ name: 'idle' })} disabled=${step.name === 'running'}>
          Cancel
        </button>
      </div>
    </section>
  `;
}
