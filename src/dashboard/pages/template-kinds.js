// What the Templates page edits, per kind: the fields of a layout, a partial and a translation,
// how a stored one becomes the form, and how the form becomes the body a PUT takes.

const json = (value) => JSON.stringify(value, null, 2);

/** JSON.parse with the field named in the error the form shows. */
function parseJson(text, field) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw Object.assign(new Error(`${field} is not valid JSON: ${error.message}`), { status: null });
  }
}

export const KINDS = {
  layouts: {
    title: 'Layouts',
    noun: 'layout',
    keyOf: (item) => item.key,
    keyLabel: 'Key',
    keyHint: 'e.g. brand; steps name it as layout: "brand"',
    fields: [
      { name: 'name', label: 'Name' },
      {
        name: 'html',
        label: 'HTML',
        rows: 12,
        hint: 'Liquid HTML around the email; {{ content }} once, where the email goes.',
      },
      {
        name: 'text',
        label: 'Text (optional)',
        rows: 6,
        hint: "Around the text part, with the same slot; empty: the email's own text.",
      },
      {
        name: 'variables',
        label: 'Variables (JSON)',
        rows: 4,
        hint: 'e.g. {"brand": "Acme"}, read as {{ layout.brand }}.',
      },
      { name: 'default', label: 'The default layout of the environment', type: 'checkbox' },
    ],
    empty: { name: '', html: '<html><body>\n{{ content }}\n</body></html>', text: '', variables: '{}', default: false },
    toForm: (item) => ({
      name: item.name,
      html: item.html,
      text: item.text ?? '',
      variables: json(item.variables),
      default: item.default,
    }),
    toBody: (form) => ({
      ...(form.name && { name: form.name }),
      html: form.html,
      ...(form.text && { text: form.text }),
      variables: parseJson(form.variables || '{}', 'Variables'),
      default: form.default,
    }),
    summary: (item) => (item.default ? 'default' : ''),
  },
  partials: {
    title: 'Partials',
    noun: 'partial',
    keyOf: (item) => item.key,
    keyLabel: 'Key',
    keyHint: "e.g. footer; templates render it with {% render 'footer' %}",
    fields: [
      { name: 'name', label: 'Name' },
      { name: 'template', label: 'Template', rows: 10, hint: 'Liquid; it sees what the template rendering it passes.' },
    ],
    empty: { name: '', template: '' },
    toForm: (item) => ({ name: item.name, template: item.template }),
    toBody: (form) => ({ ...(form.name && { name: form.name }), template: form.template }),
    summary: () => '',
  },
  translations: {
    title: 'Translations',
    noun: 'translation',
    keyOf: (item) => item.locale,
    keyLabel: 'Locale',
    keyHint: 'a BCP 47 locale such as en, fr-CA or pt-BR',
    fields: [
      {
        name: 'messages',
        label: 'Messages (JSON)',
        rows: 12,
        hint: 'e.g. {"greeting": "Hello {{ name }}", "items": {"one": "1 item", "other": "{{ count }} items"}}',
      },
    ],
    empty: { messages: '{}' },
    toForm: (item) => ({ messages: json(item.messages) }),
    toBody: (form) => ({ messages: parseJson(form.messages, 'Messages') }),
    summary: (item) => `${Object.keys(item.messages).length} keys`,
  },
};

/** A layout with sample text in its slot, for the preview frame. */
export const layoutPreview = (source) =>
  source.replace(/\{\{-?\s*content\s*-?\}\}/g, '<p>Sample email content: the email&#39;s own HTML goes here.</p>');
