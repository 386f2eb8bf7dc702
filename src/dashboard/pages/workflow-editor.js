// One workflow's editor (workflows/<key>, workflows/new): its name, category, critical flag and
// steps as JSON, previewed as you type (POST /v1/workflows/preview, ~400 ms after the last edit),
// saved with PUT, deleted after a confirmation. Viewers read it; they change and preview nothing.
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { parseJson, pointerLines } from '../json-lines.js';
import { deleteWorkflow, getWorkflow, previewDraft, saveWorkflow } from '../workflows-api.js';
import { JsonArea } from './workflow-json.js';
import { ConfirmButton, formatTime, PageLink, Problem } from './workflow-parts.js';
import { PreviewPanel } from './workflow-preview.js';
import { SendPanel } from './workflow-send.js';

const PREVIEW_DELAY_MS = 400;
const pretty = (value) => JSON.stringify(value, null, 2);

const NEW_STEPS = [
  {
    type: 'email',
    subject: 'Hello {{ subscriber.name }}',
    html: '<p>{{ data.message }}</p>',
  },
];
const SAMPLE_DATA = { message: 'Your report is ready.' };
const SAMPLE_SUBSCRIBER = { subscriberId: 'preview', email: 'ann@example.com', name: 'Ann' };

/** The form's fields from a saved workflow (or a new one's defaults). */
const formOf = (workflow) => ({
  key: workflow?.key ?? '',
  name: workflow?.name ?? '',
  category: workflow?.category ?? '',
  critical: workflow?.critical ?? false,
  steps: pretty(workflow?.steps ?? NEW_STEPS),
});

export function WorkflowEditor({ session, workflowKey, navigate }) {
  const isNew = workflowKey === null;
  const canEdit = session.user.role !== 'viewer';
  const [loaded, setLoaded] = useState(isNew ? { status: 'ok', workflow: null } : { status: 'loading' });
  const [form, setForm] = useState(formOf(null));

  useEffect(() => {
    if (isNew) return;
    let live = true;
    setLoaded({ status: 'loading' });
    getWorkflow(workflowKey).then(
      (workflow) => {
        if (!live) return;
        setLoaded({ status: 'ok', workflow });
        setForm(formOf(workflow));
      },
      (error) => live && setLoaded({ status: 'failed', error }),
    );
    return () => {
      live = false;
    };
  }, [workflowKey]);

  if (loaded.status === 'loading') {
    return html`<h1 tabindex="-1">Workflow ${workflowKey}</h1>
      <p aria-busy="true">Loading…</p>`;
  }
  if (loaded.status === 'failed') {
    return html`<h1 tabindex="-1">Workflow ${workflowKey}</h1>
      <${Problem} error=${loaded.error} />
      <p><${PageLink} to="workflows" navigate=${navigate}>All workflows</${PageLink}></p>`;
  }
  return html`<${EditorForm}
    key=${workflowKey ?? 'new'}
    workflow=${loaded.workflow}
    form=${form}
    setForm=${setForm}
    canEdit=${canEdit}
    navigate=${navigate}
    onSaved=${(workflow) => {
      if (isNew) navigate(`workflows/${workflow.key}`);
      else setLoaded({ status: 'ok', workflow });
    }}
  />`;
}

function EditorForm({ workflow, form, setForm, canEdit, navigate, onSaved }) {
  const isNew = workflow === null;
  const [sampleData, setSampleData] = useState(pretty(SAMPLE_DATA));
  const [sampleSubscriber, setSampleSubscriber] = useState(pretty(SAMPLE_SUBSCRIBER));
  const [subscriberId, setSubscriberId] = useState('');
  const [preview, setPreview] = useState({ status: 'idle' });
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState(null);
  const [saved, setSaved] = useState(null);
  const lines = useMemo(() => pointerLines(form.steps), [form.steps]);
  const set = (field) => (value) => setForm({ ...form, [field]: value });

  /** The workflow as a PUT takes it, or a { what, error, line } the JSON editor has. */
  const draft = () => {
    const steps = parseJson(form.steps);
    if (steps.error) return { invalid: { what: 'Steps', message: steps.error, line: steps.line } };
    const body = { steps: steps.value };
    if (form.name.trim()) body.name = form.name.trim();
    if (form.category.trim()) body.category = form.category.trim();
    if (form.critical) body.critical = true;
    if (workflow?.preferences) body.preferences = workflow.preferences;
    return { body };
  };

  // The live preview: the latest edit wins; an answer to an older one is dropped.
  const sequence = useRef(0);
  useEffect(() => {
    if (!canEdit) return;
    const ask = ++sequence.current;
    const timer = setTimeout(async () => {
      const { body, invalid } = draft();
      if (invalid) return setPreview({ status: 'local', ...invalid });
      const data = parseJson(sampleData);
      if (data.error) return setPreview({ status: 'local', what: 'Sample data', message: data.error, line: data.line });
      const request = { workflow: { ...body }, data: data.value };
      const key = form.key.trim() || workflow?.key;
      if (key) request.workflow.key = key;
      if (subscriberId.trim()) {
        request.to = subscriberId.trim();
      } else {
        const subscriber = parseJson(sampleSubscriber);
        if (subscriber.error) {
          return setPreview({
            status: 'local',
            what: 'Sample subscriber',
            message: subscriber.error,
            line: subscriber.line,
          });
        }
        request.subscriber = subscriber.value;
      }
      setPreview((before) => ({ status: 'loading', preview: before.preview ?? null }));
      try {
        const answer = await previewDraft(request);
        if (ask === sequence.current) setPreview({ status: 'ok', preview: answer });
      } catch (error) {
        if (ask !== sequence.current) return;
        if (error.status === 422) {
          const errors = error.problem?.errors ?? [];
          const message = errors.length && error.problem.title ? error.problem.title : error.message;
          setPreview({ status: 'invalid', message, errors });
        } else {
          setPreview({ status: 'failed', message: error.message });
        }
      }
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [form, sampleData, sampleSubscriber, subscriberId]);

  const save = async (event) => {
    event.preventDefault();
    const key = isNew ? form.key.trim() : workflow.key;
    const { body, invalid } = draft();
    setSaved(null);
    if (invalid) {
      setSaveError({ message: `Steps are not valid JSON (line ${invalid.line ?? '?'}): ${invalid.message}` });
      return;
    }
    if (!key) return setSaveError({ message: 'Give the workflow a key, e.g. comment-created.' });
    setSaving(true);
    setSaveError(null);
    try {
      const answer = await saveWorkflow(key, body);
      setSaved(`Saved as version ${answer.version}.`);
      onSaved(answer);
    } catch (error) {
      setSaveError(error);
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    setSaving(true);
    try {
      await deleteWorkflow(workflow.key);
      navigate('workflows');
    } catch (error) {
      setSaveError(error);
      setSaving(false);
    }
  };

  const title = isNew ? 'New workflow' : `Workflow ${workflow.key}`;
  return html`
    <h1 tabindex="-1">${title}</h1>
    <p class="wf-crumbs">
      <${PageLink} to="workflows" navigate=${navigate}>All workflows</${PageLink}>
      ${
        isNew
          ? null
          : html`${' · '}<${PageLink} to=${`workflows/${workflow.key}/versions`} navigate=${navigate}>Versions</${PageLink}
            >${` · version ${workflow.version}, updated ${formatTime(workflow.updatedAt)}`}`
      }
    </p>
    ${canEdit ? null : html`<p class="notice">You are a viewer: this workflow is shown read-only.</p>`}
    <div class="wf-editor">
      <form class="wf-form" onSubmit=${save} aria-label="Workflow">
        ${
          isNew
            ? html`<${Input}
                id="wf-key"
                label="Key"
                value=${form.key}
                onInput=${set('key')}
                hint="Lower case, digits and - _ . e.g. comment-created"
              />`
            : null
        }
        <${Input} id="wf-name" label="Name" value=${form.name} onInput=${set('name')} readOnly=${!canEdit} hint="Default: the key" />
        <${Input} id="wf-category" label="Category" value=${form.category} onInput=${set('category')} readOnly=${!canEdit} hint="Groups workflows in subscribers' preferences, e.g. billing" />
        <div class="field wf-check">
          <input
            id="wf-critical"
            type="checkbox"
            checked=${form.critical}
            disabled=${!canEdit}
            onChange=${(event) => set('critical')(event.currentTarget.checked)}
          />
          <label for="wf-critical">Critical (sent whatever preferences and quiet hours say)</label>
        </div>
        <${JsonArea}
          id="wf-steps"
          label="Steps (JSON)"
          value=${form.steps}
          onInput=${set('steps')}
          readOnly=${!canEdit}
          rows=${18}
          hint="An array of steps as docs/workflows.md describes them; templates are Liquid (docs/templates.md)."
        />
        <${Problem} error=${saveError} lines=${lines} focus />
        ${saved ? html`<p class="notice" role="status">${saved}</p>` : null}
        ${
          canEdit
            ? html`<div class="wf-actions">
                <button type="submit" class="wf-save" disabled=${saving}>${saving ? 'Saving…' : 'Save'}</button>
                ${
                  isNew
                    ? null
                    : html`<${ConfirmButton}
                        label="Delete"
                        question=${`Delete workflow ${workflow.key}? Messages already accepted are still delivered.`}
                        confirmLabel="Yes, delete"
                        busy=${saving}
                        onConfirm=${remove}
                      />`
                }
              </div>`
            : null
        }
      </form>
      ${
        canEdit
          ? html`<div class="wf-side">
              <${JsonArea}
                id="wf-data"
                label="Sample data (JSON)"
                value=${sampleData}
                onInput=${setSampleData}
                rows=${5}
              />
              <div class="field">
                <label for="wf-subscriber-id">Stored subscriber's id</label>
                <input
                  id="wf-subscriber-id"
                  value=${subscriberId}
                  onInput=${(e) => setSubscriberId(e.currentTarget.value)}
                  aria-describedby="wf-subscriber-id-hint"
                />
                <p class="hint" id="wf-subscriber-id-hint">Leave empty to preview for the sample subscriber below.</p>
              </div>
              ${
                subscriberId.trim()
                  ? null
                  : html`<${JsonArea}
                      id="wf-subscriber"
                      label="Sample subscriber (JSON)"
                      value=${sampleSubscriber}
                      onInput=${setSampleSubscriber}
                      rows=${5}
                    />`
              }
              <${PreviewPanel} state=${preview} lines=${lines} />
            </div>`
          : null
      }
    </div>
    ${canEdit && !isNew ? html`<${SendPanel} workflowKey=${workflow.key} sampleData=${sampleData} navigate=${navigate} />` : null}
  `;
}

function Input({ id, label, value, onInput, readOnly, hint }) {
  const hintId = hint ? `${id}-hint` : undefined;
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <input
        id=${id}
        name=${id}
        value=${value}
        readonly=${readOnly}
        aria-describedby=${hintId}
        onInput=${(e) => onInput(e.currentTarget.value)}
      />
      ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
    </div>
  `;
}
