// The Workflows pages: the list (workflows), one workflow's editor (workflows/<key>, and
// workflows/new for a new one) and its versions (workflows/<key>/versions).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { listWorkflows } from '../workflows-api.js';
import { WorkflowEditor } from './workflow-editor.js';
import { formatTime, PageLink, Problem } from './workflow-parts.js';
import { WorkflowVersions } from './workflow-versions.js';

export function WorkflowsPage({ session, path, navigate }) {
  const [, key, sub] = path.split('/').map((part) => decodeURIComponent(part));
  if (key === undefined || key === '') return html`<${WorkflowList} session=${session} navigate=${navigate} />`;
  if (sub === 'versions') {
    return html`<${WorkflowVersions} key=${`v:${key}`} session=${session} workflowKey=${key} navigate=${navigate} />`;
  }
  const workflowKey = key === 'new' ? null : key;
  return html`<${WorkflowEditor}
    key=${`e:${key}`}
    session=${session}
    workflowKey=${workflowKey}
    navigate=${navigate}
  />`;
}

function WorkflowList({ session, navigate }) {
  const [state, setState] = useState({ status: 'loading', items: [], nextCursor: null });

  const load = async (cursor) => {
    setState((before) => ({ ...before, status: 'loading' }));
    try {
      const page = await listWorkflows(cursor);
      setState((before) => ({
        status: 'ok',
        items: cursor ? [...before.items, ...page.items] : page.items,
        nextCursor: page.nextCursor,
      }));
    } catch (error) {
      setState((before) => ({ ...before, status: 'failed', error }));
    }
  };
  useEffect(() => void load(null), []);

  return html`
    <h1 tabindex="-1">Workflows</h1>
    ${
      session.user.role === 'viewer'
        ? null
        : html`<p>
            <${PageLink} className="wf-button" to="workflows/new" navigate=${navigate}>New workflow</${PageLink}>
          </p>`
    }
    ${state.status === 'failed' ? html`<${Problem} error=${state.error} />` : null}
    ${
      state.status === 'ok' && state.items.length === 0
        ? html`<p>No workflows yet. A workflow says what to send, to which channels, in which order.</p>`
        : null
    }
    ${
      state.items.length > 0
        ? html`<div class="wf-table-wrap">
            <table class="wf-table">
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Name</th>
                  <th scope="col">Category</th>
                  <th scope="col">Critical</th>
                  <th scope="col">Version</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                ${state.items.map(
                  (workflow) => html`<tr>
                  <th scope="row">
                    <${PageLink} to=${`workflows/${encodeURIComponent(workflow.key)}`} navigate=${navigate}
                      >${workflow.key}</${PageLink}
                    >
                  </th>
                  <td>${workflow.name}</td>
                  <td>${workflow.category ?? '—'}</td>
                  <td>${workflow.critical ? 'yes' : 'no'}</td>
                  <td>${workflow.version}</td>
                  <td>${formatTime(workflow.updatedAt)}</td>
                </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null
    }
    ${state.status === 'loading' ? html`<p aria-busy="true">Loading…</p>` : null}
    ${
      state.status === 'ok' && state.nextCursor
        ? html`<p><button type="button" onClick=${() => load(state.nextCursor)}>More workflows</button></p>`
        : null
    }
  `;
}
