// A workflow's versions (workflows/<key>/versions): every save, newest first; two of them side by
// side as a line diff of their JSON; restoring one saves it again as the newest version.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { lineDiff } from '../line-diff.js';
import { getVersion, listVersions, restoreVersion } from '../workflows-api.js';
import { ConfirmButton, formatTime, PageLink, Problem } from './workflow-parts.js';

/** What a version holds that a save sets, as the diff compares it. */
const comparable = (version) =>
  JSON.stringify(
    {
      name: version.name,
      category: version.category,
      critical: version.critical,
      preferences: version.preferences,
      steps: version.steps,
    },
    null,
    2,
  );

export function WorkflowVersions({ session, workflowKey, navigate }) {
  const canEdit = session.user.role !== 'viewer';
  const [list, setList] = useState({ status: 'loading' });
  const [pair, setPair] = useState({ from: null, to: null });
  const [restoring, setRestoring] = useState(false);
  const [notice, setNotice] = useState(null);
  const [restoreError, setRestoreError] = useState(null);

  const load = async () => {
    setList({ status: 'loading' });
    try {
      const items = [];
      let cursor = null;
      do {
        const page = await listVersions(workflowKey, cursor);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && items.length < 1000);
      items.sort((a, b) => b.version - a.version);
      setList({ status: 'ok', items });
      setPair({ from: items[1]?.version ?? items[0]?.version ?? null, to: items[0]?.version ?? null });
    } catch (error) {
      setList({ status: 'failed', error });
    }
  };
  useEffect(() => void load(), [workflowKey]);

  const restore = async (n) => {
    setRestoring(true);
    setRestoreError(null);
    try {
      const saved = await restoreVersion(workflowKey, n);
      setNotice(`Version ${n} restored as version ${saved.version}.`);
      await load();
    } catch (error) {
      setRestoreError(error);
    } finally {
      setRestoring(false);
    }
  };

  return html`
    <h1 tabindex="-1">Versions of ${workflowKey}</h1>
    <p class="wf-crumbs">
      <${PageLink} to="workflows" navigate=${navigate}>All workflows</${PageLink}>${' · '}<${PageLink} to=${`workflows/${workflowKey}`} navigate=${navigate}>Editor</${PageLink}>
    </p>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <${Problem} error=${restoreError} focus />
    ${list.status === 'loading' ? html`<p aria-busy="true">Loading…</p>` : null}
    ${list.status === 'failed' ? html`<${Problem} error=${list.error} />` : null}
    ${list.status === 'ok' && list.items.length === 0 ? html`<p>This workflow has no versions.</p>` : null}
    ${
      list.status === 'ok' && list.items.length > 0
        ? html`
            <div class="wf-table-wrap">
              <table class="wf-table">
                <caption>
                  Pick two versions to compare
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Name</th>
                    <th scope="col">Steps</th>
                    <th scope="col">Saved</th>
                    <th scope="col">Old</th>
                    <th scope="col">New</th>
                    ${canEdit ? html`<th scope="col">Restore</th>` : null}
                  </tr>
                </thead>
                <tbody>
                  ${list.items.map(
                    (item) =>
                      html`<tr>
                        <th scope="row">${item.version}</th>
                        <td>${item.name}</td>
                        <td>${item.stepCount}</td>
                        <td>${formatTime(item.createdAt)}</td>
                        <td>
                          <input
                            type="radio"
                            name="wf-from"
                            aria-label=${`Compare from version ${item.version}`}
                            checked=${pair.from === item.version}
                            onChange=${() => setPair({ ...pair, from: item.version })}
                          />
                        </td>
                        <td>
                          <input
                            type="radio"
                            name="wf-to"
                            aria-label=${`Compare to version ${item.version}`}
                            checked=${pair.to === item.version}
                            onChange=${() => setPair({ ...pair, to: item.version })}
                          />
                        </td>
                        ${
                          canEdit
                            ? html`<td>
                                ${
                                  item.version === list.items[0].version
                                    ? html`<span class="hint">current</span>`
                                    : html`<${ConfirmButton}
                                        label=${`Restore ${item.version}`}
                                        question=${`Save version ${item.version} again as the newest version?`}
                                        confirmLabel="Yes, restore"
                                        busy=${restoring}
                                        onConfirm=${() => restore(item.version)}
                                      />`
                                }
                              </td>`
                            : null
                        }
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
            ${
              pair.from !== null && pair.to !== null
                ? html`<${VersionDiff} workflowKey=${workflowKey} from=${pair.from} to=${pair.to} />`
                : null
            }
          `
        : null
    }
  `;
}

function VersionDiff({ workflowKey, from, to }) {
  const [state, setState] = useState({ status: 'loading' });
  useEffect(() => {
    let live = true;
    setState({ status: 'loading' });
    Promise.all([getVersion(workflowKey, from), getVersion(workflowKey, to)]).then(
      ([before, after]) => live && setState({ status: 'ok', rows: lineDiff(comparable(before), comparable(after)) }),
      (error) => live && setState({ status: 'failed', error }),
    );
    return () => {
      live = false;
    };
  }, [workflowKey, from, to]);

  return html`
    <section aria-labelledby="wf-diff-title">
      <h2 id="wf-diff-title">Version ${from} → version ${to}</h2>
      ${state.status === 'loading' ? html`<p aria-busy="true">Loading…</p>` : null}
      ${state.status === 'failed' ? html`<${Problem} error=${state.error} />` : null}
      ${
        state.status === 'ok'
          ? state.rows.every((row) => row.op === ' ')
            ? html`<p>These versions are the same.</p>`
            : html`<pre class="wf-diff" aria-label="Differences">
${state.rows.map(
                  (row) =>
                    html`<span class=${row.op === '+' ? 'wf-add' : row.op === '-' ? 'wf-del' : 'wf-same'}
                      >${row.op === ' ' ? '  ' : `${row.op} `}${row.text}
                    </span>`,
                )}</pre>`
          : null
      }
    </section>
  `;
}
