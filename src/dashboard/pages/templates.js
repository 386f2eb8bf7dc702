import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { templateApi } from '../config-api.js';
import { ConfirmButton, LoadState, MailFrame, PageLink, Problem, useAction, useLoad, when } from '../config-parts.js';
import { KINDS, layoutPreview } from './template-kinds.js';

/**
 * Shared template parts, a tab per kind: templates/<kind> lists them, templates/<kind>/<key>
 * edits one, templates/<kind>/new makes one. Saving shows the API's 422 (path and line);
 * deleting one in use shows its 409.
 */
function TemplatesContent({ session, title, path, navigate }) {
  const [, kindPath, keyPath] = path.split('/');
  const kind = KINDS[kindPath] ? kindPath : 'layouts';
  const key = KINDS[kindPath] && keyPath ? decodeURIComponent(keyPath) : null;
  const canEdit = session.user.role !== 'viewer';
  return html`
    <h1 tabindex="-1">${title}</h1>
    <div class="cfg-tabs" role="navigation" aria-label="Template parts">
      ${Object.entries(KINDS).map(
        ([name, spec]) =>
          html`<${PageLink} to=${`templates/${name}`} navigate=${navigate} current=${name === kind}>${spec.title}<//>`,
      )}
    </div>
    <${KindList} kind=${kind} selected=${key} canEdit=${canEdit} navigate=${navigate} key=${kind} />
    ${key ? html`<${Editor} kind=${kind} itemKey=${key} canEdit=${canEdit} navigate=${navigate} key=${`${kind}/${key}`} />` : null}
  `;
}

function KindList({ kind, selected, canEdit, navigate }) {
  const spec = KINDS[kind];
  const api = templateApi(kind);
  const state = useLoad(() => api.list(), [kind, selected]);
  const [more, setMore] = useState([]);
  const [cursor, setCursor] = useState(null);
  useEffect(() => {
    setMore([]);
    setCursor(state.data?.nextCursor ?? null);
  }, [state.data]);
  const items = state.data ? [...state.data.items, ...more] : null;
  const loadMore = async () => {
    const page = await api.list(cursor);
    setMore([...more, ...page.items]);
    setCursor(page.nextCursor);
  };
  return html`<section aria-labelledby="template-list">
    <h2 id="template-list">${spec.title}</h2>
    <${LoadState} state=${state} what=${spec.title.toLowerCase()} />
    ${items && items.length === 0 ? html`<p class="cfg-empty">No ${spec.noun}s yet.</p>` : null}
    ${
      items && items.length > 0
        ? html`<ul class="cfg-template-list">
            ${items.map((item) => {
              const key = spec.keyOf(item);
              return html`<li key=${key}>
                <${PageLink}
                  to=${`templates/${kind}/${encodeURIComponent(key)}`}
                  navigate=${navigate}
                  current=${key === selected}
                  >${key}<//
                >
                ${spec.summary(item) ? html` <span class="cfg-badge">${spec.summary(item)}</span>` : null}
                <span class="hint"> · updated ${when(item.updatedAt)}</span>
              </li>`;
            })}
          </ul>`
        : null
    }
    ${cursor ? html`<button type="button" onClick=${loadMore}>More</button>` : null}
    ${
      canEdit && selected !== 'new'
        ? html`<p><${PageLink} to=${`templates/${kind}/new`} navigate=${navigate}>New ${spec.noun}<//></p>`
        : null
    }
  </section>`;
}

function Editor({ kind, itemKey, canEdit, navigate }) {
  const spec = KINDS[kind];
  const api = templateApi(kind);
  const creating = itemKey === 'new';
  const state = useLoad(() => (creating ? Promise.resolve(null) : api.get(itemKey)), [kind, itemKey]);
  const [form, setForm] = useState(null);
  const [newKey, setNewKey] = useState('');
  const [saved, setSaved] = useState(null);
  const action = useAction();
  useEffect(() => {
    if (creating) setForm({ ...spec.empty });
    else if (state.data) setForm(spec.toForm(state.data));
  }, [state.data, creating]);

  const save = (event) => {
    event.preventDefault();
    setSaved(null);
    void action.run(async () => {
      const key = creating ? newKey.trim() : itemKey;
      const answer = await api.put(key, spec.toBody(form));
      setSaved(`Saved ${spec.noun} ${spec.keyOf(answer)}.`);
      if (creating) navigate(`templates/${kind}/${encodeURIComponent(spec.keyOf(answer))}`);
    });
  };
  const set = (name, value) => setForm({ ...form, [name]: value });
  const heading = creating ? `New ${spec.noun}` : `${spec.title.replace(/s$/, '')} ${itemKey}`;
  const readOnly = !canEdit;

  return html`<section class="cfg-template-editor" aria-labelledby="template-editor">
    <h2 id="template-editor">${heading}</h2>
    <${LoadState} state=${state} what=${`the ${spec.noun}`} />
    ${
      form
        ? html`<form class="cfg-config-form" onSubmit=${save}>
            <${Problem} error=${action.error} />
            ${saved ? html`<p class="notice" role="status">${saved}</p>` : null}
            ${
              creating
                ? html`<div class="field">
                    <label for="template-key">${spec.keyLabel}</label>
                    <input
                      id="template-key"
                      value=${newKey}
                      required
                      aria-describedby="template-key-hint"
                      onInput=${(event) => setNewKey(event.currentTarget.value)}
                    />
                    <p class="hint" id="template-key-hint">${spec.keyHint}</p>
                  </div>`
                : null
            }
            ${spec.fields.map(
              (field) =>
                html`<${FieldOf}
                  field=${field}
                  value=${form[field.name]}
                  onInput=${set}
                  readOnly=${readOnly}
                  errors=${fieldErrors(action.error, field.name)}
                />`,
            )}
            ${
              canEdit
                ? html`<div class="cfg-actions">
                    <button type="submit" class="primary" disabled=${action.busy}>
                      ${action.busy ? 'Saving…' : 'Save'}
                    </button>
                    ${
                      creating
                        ? null
                        : html`<${ConfirmButton}
                            label="Delete"
                            question=${`Delete ${spec.noun} ${itemKey}?`}
                            confirmLabel=${`Delete ${spec.noun}`}
                            busy=${action.busy}
                            onConfirm=${() =>
                              action.run(async () => {
                                await api.remove(itemKey);
                                navigate(`templates/${kind}`);
                              })}
                          />`
                    }
                  </div>`
                : null
            }
          </form>`
        : null
    }
    ${
      form && kind === 'layouts'
        ? html`<h3>Preview</h3>
            <p class="hint">The HTML with sample text in its slot, unrendered (Liquid tags show as written).</p>
            <${MailFrame} source=${layoutPreview(form.html)} title="Layout preview" />`
        : null
    }
  </section>`;
}

/** The messages of a 422 about one field of the body (its path is /<field> or below it). */
const fieldErrors = (error, name) =>
  (error?.problem?.errors ?? [])
    .filter((entry) => entry.path === `/${name}` || entry.path.startsWith(`/${name}/`))
    .map((entry) => entry.message);

function FieldOf({ field, value, onInput, readOnly, errors }) {
  const id = `template-${field.name}`;
  const errorId = errors.length > 0 ? `${id}-error` : null;
  const hintId = [field.hint ? `${id}-hint` : null, errorId].filter(Boolean).join(' ') || undefined;
  const invalid = errors.length > 0 ? 'true' : undefined;
  const errorText = errorId ? html`<p class="cfg-field-error" id=${errorId}>${errors.join('; ')}</p>` : null;
  if (field.type === 'checkbox') {
    return html`<div class="field cfg-checkbox">
      <input
        id=${id}
        type="checkbox"
        checked=${value}
        disabled=${readOnly}
        onChange=${(event) => onInput(field.name, event.currentTarget.checked)}
      />
      <label for=${id}>${field.label}</label>
    </div>`;
  }
  return html`<div class="field">
    <label for=${id}>${field.label}</label>
    ${
      field.rows
        ? html`<textarea
            id=${id}
            class="cfg-code"
            rows=${field.rows}
            spellcheck=${false}
            readonly=${readOnly}
            aria-describedby=${hintId}
            aria-invalid=${invalid}
            value=${value}
            onInput=${(event) => onInput(field.name, event.currentTarget.value)}
          ></textarea>`
        : html`<input
            id=${id}
            value=${value}
            readonly=${readOnly}
            aria-describedby=${hintId}
            aria-invalid=${invalid}
            onInput=${(event) => onInput(field.name, event.currentTarget.value)}
          />`
    }
    ${errorText} ${field.hint ? html`<p class="hint" id=${`${id}-hint`}>${field.hint}</p>` : null}
  </div>`;
}

/** The page, in the wrapper its styles are scoped to. */
export function TemplatesPage(props) {
  return html`<div class="cfg-page"><${TemplatesContent} ...${props} /></div>`;
}
