import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { useSubmit } from '../forms.js';
import { putPreferences } from '../people-api.js';

/** The channels of preferences, in the order docs/preferences.md gives them. */
export const CHANNELS = ['email', 'sms', 'push', 'chat', 'webhook', 'in_app'];

/** A rule's value for one channel: true, false, or undefined (says nothing). */
const ruleOf = (rules, channel) => rules?.channels?.[channel];
const word = (value) => (value ? 'on' : 'off');

/**
 * What decides a channel for one row, as core/preferences.ts resolves it: for a workflow its own
 * rule, its category's, the subscriber's channels, the workflow's default, else on; for a
 * category its rule, then the channels; for "everything" its rule, else on.
 */
function resolve(doc, row, channel) {
  const own = row.kind === 'all' ? ruleOf(doc, channel) : ruleOf(doc[row.kind]?.[row.key], channel);
  if (own !== undefined) return { value: own, from: 'set here' };
  if (row.kind === 'workflows' && row.workflow?.critical) return { value: true, from: 'critical workflow' };
  if (row.kind === 'workflows' && row.workflow?.category) {
    const category = ruleOf(doc.categories?.[row.workflow.category], channel);
    if (category !== undefined) return { value: category, from: `category ${row.workflow.category}` };
  }
  if (row.kind !== 'all') {
    const all = ruleOf(doc, channel);
    if (all !== undefined) return { value: all, from: 'all notifications' };
  }
  if (row.kind === 'workflows') {
    const fallback = row.workflow?.preferences?.channels?.[channel];
    if (fallback !== undefined) return { value: fallback, from: "the workflow's default" };
  }
  return { value: true, from: 'default' };
}

/** The rows: everything, each category (of workflows or of the document), each workflow. */
function rowsOf(doc, workflows) {
  const categories = new Set([
    ...workflows.map((w) => w.category).filter(Boolean),
    ...Object.keys(doc.categories ?? {}),
  ]);
  const byKey = new Map(workflows.map((w) => [w.key, w]));
  const workflowKeys = new Set([...byKey.keys(), ...Object.keys(doc.workflows ?? {})]);
  return [
    { kind: 'all', key: '', label: 'All notifications' },
    ...[...categories].sort().map((key) => ({ kind: 'categories', key, label: `Category ${key}` })),
    ...[...workflowKeys]
      .sort()
      .map((key) => ({ kind: 'workflows', key, label: `Workflow ${key}`, workflow: byKey.get(key) })),
  ];
}

/** The document with one rule set (true/false) or cleared (undefined); empty rules are dropped. */
function withRule(doc, row, channel, value) {
  const next = JSON.parse(JSON.stringify(doc));
  const holder = row.kind === 'all' ? next : ((next[row.kind] ??= {}), (next[row.kind][row.key] ??= {}));
  holder.channels = { ...holder.channels };
  if (value === undefined) delete holder.channels[channel];
  else holder.channels[channel] = value;
  if (Object.keys(holder.channels).length === 0) delete holder.channels;
  if (row.kind !== 'all') {
    if (Object.keys(holder).length === 0) delete next[row.kind][row.key];
    if (Object.keys(next[row.kind]).length === 0) delete next[row.kind];
  }
  return next;
}

function Cell({ doc, row, channel, editable, onChange }) {
  const own = row.kind === 'all' ? ruleOf(doc, channel) : ruleOf(doc[row.kind]?.[row.key], channel);
  const resolved = resolve(doc, row, channel);
  if (!editable) {
    return html`<td class=${resolved.value ? 'people-on' : 'people-off'}>
      ${word(resolved.value)}${own === undefined ? html` <span class="hint">(${resolved.from})</span>` : null}
    </td>`;
  }
  const inherited = own === undefined ? resolve(withRule(doc, row, channel, undefined), row, channel) : resolved;
  const id = `pref-${row.kind}-${row.key}-${channel}`;
  return html`<td>
    <label class="people-hidden" for=${id}>${row.label}: ${channel}</label>
    <select
      id=${id}
      value=${own === undefined ? 'inherit' : word(own)}
      onChange=${(e) => {
        const choice = e.currentTarget.value;
        onChange(withRule(doc, row, channel, choice === 'inherit' ? undefined : choice === 'on'));
      }}
    >
      <option value="inherit">${word(inherited.value)} (${inherited.from})</option>
      <option value="on">on</option>
      <option value="off">off</option>
    </select>
  </td>`;
}

/**
 * A subscriber's preferences as a table of channels by scope, each cell what would decide a send
 * now; admins and owners change cells and save the whole document (PUT replaces it).
 */
export function PreferencesTable({ subscriberId, preferences, workflows, editable }) {
  const [saved, setSaved] = useState(preferences);
  const [doc, setDoc] = useState(preferences);
  const [status, setStatus] = useState(null);
  const { busy, onSubmit, alert } = useSubmit(async () => {
    const answer = await putPreferences(subscriberId, doc);
    setSaved(answer);
    setDoc(answer);
    setStatus('Preferences saved.');
  });
  const rows = rowsOf(doc, workflows);
  const changed = JSON.stringify(doc) !== JSON.stringify(saved);
  const quiet = doc.quietHours ? `${doc.quietHours.start}–${doc.quietHours.end}` : 'none';
  return html`
    <form class="people-prefs" onSubmit=${onSubmit}>
      ${alert} ${status && !changed ? html`<p class="notice" role="status">${status}</p>` : null}
      <div class="people-table-wrap">
        <table class="people-table">
          <caption class="people-hidden">
            Preferences: channels by scope
          </caption>
          <thead>
            <tr>
              <th scope="col">Scope</th>
              ${CHANNELS.map((channel) => html`<th scope="col">${channel}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (row) =>
                html`<tr key=${`${row.kind}-${row.key}`}>
                  <th scope="row">
                    ${row.label}${row.workflow?.critical ? html` <span class="hint">(critical: always sent)</span>` : null}
                  </th>
                  ${CHANNELS.map(
                    (channel) =>
                      html`<${Cell}
                        doc=${doc}
                        row=${row}
                        channel=${channel}
                        editable=${editable}
                        onChange=${setDoc}
                      />`,
                  )}
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <p class="hint">
        Quiet hours: ${quiet}. The most specific rule wins: workflow, category, all, then the workflow's default.
      </p>
      ${
        editable
          ? html`<div class="people-actions">
              <button type="submit" class="primary" disabled=${busy || !changed}>Save preferences</button>
              <button type="button" disabled=${busy || !changed} onClick=${() => setDoc(saved)}>Undo changes</button>
            </div>`
          : null
      }
    </form>
  `;
}
