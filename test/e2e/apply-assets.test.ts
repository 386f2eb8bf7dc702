import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { heraldAgainst, planLines, readFiles, resourceFolders, writeFiles } from '../support/resource-files.js';

// `herald apply` and `herald export` with layouts, partials and translations beside workflows
// (workflows alone: apply.test.ts), through the built command against a real Herald.

const folders = resourceFolders();
let herald: TestHerald;

beforeEach(async () => {
  herald = await startTestHerald();
});
afterEach(() => herald.close());
afterAll(() => folders.removeAll());

const FOOTER = `kind: partial
key: footer
name: Footer
template: |
  <footer>
    {% render 'legal' %}
  </footer>
`;

const LEGAL = `kind: partial
key: legal
template: © Example Ltd
`;

const BASE = `kind: layout
key: base
html: |
  <html>
    <body>{{ content }}</body>
  </html>
text: |
  {{ content }}
`;

const GERMAN = `kind: translation
locale: de
messages:
  greeting: Hallo {{ subscriber.name }}
  bye: Tschüss
`;

const WELCOME = `kind: workflow
key: welcome
steps:
  - type: email
    subject: Welcome
    html: |
      <p>Hello</p>
      {% render 'footer' %}
`;

const apply = (args: string[], cwd: string) => heraldAgainst(herald, 'apply', args, cwd);
const get = async (path: string) => (await herald.api('GET', path)).body;

/** The files of one of each, named so that sorting them puts each after what it needs. */
const ALL = {
  'a/welcome.yaml': WELCOME,
  'b/base.yaml': BASE,
  'c/de.yaml': GERMAN,
  'd/footer.yaml': FOOTER,
  'e/legal.yaml': LEGAL,
};

describe('herald apply with layouts, partials and translations', () => {
  it('creates them in dependency order, then changes nothing, then updates only what changed', async () => {
    const dir = folders.folder(ALL);
    const first = await apply(['.'], dir);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(planLines(first)).toEqual([
      '+ create partial legal (e/legal.yaml:1)',
      '+ create partial footer (d/footer.yaml:1)',
      '+ create layout base (b/base.yaml:1)',
      '+ create translation de (c/de.yaml:1)',
      '+ create workflow welcome (a/welcome.yaml:1)',
    ]);
    const paths = ['/v1/partials/legal', '/v1/partials/footer', '/v1/layouts/base', '/v1/translations/de'];
    const saved = await Promise.all(paths.map(get));
    expect(saved[1]).toMatchObject({ name: 'Footer', template: "<footer>\n  {% render 'legal' %}\n</footer>\n" });
    expect(saved[3]).toMatchObject({ messages: { greeting: 'Hallo {{ subscriber.name }}', bye: 'Tschüss' } });

    const second = await apply(['.'], dir);
    expect(second.code).toBe(0);
    expect(planLines(second)).toEqual([
      '= unchanged partial legal',
      '= unchanged partial footer',
      '= unchanged layout base',
      '= unchanged translation de',
      '= unchanged workflow welcome',
    ]);
    expect(await Promise.all(paths.map(get))).toEqual(saved);

    writeFiles(dir, { 'e/legal.yaml': LEGAL.replace('Example Ltd', 'Example GmbH') });
    const third = await apply(['.'], dir);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain(
      ['~ update partial legal (e/legal.yaml:1)', '    @@ -1,3 +1,3 @@', '     kind: partial', '     key: legal'].join(
        '\n',
      ),
    );
    expect(third.stdout).toContain('    -template: © Example Ltd\n    +template: © Example GmbH');
    expect(planLines(third).filter((line) => !line.startsWith('='))).toEqual([
      '~ update partial legal (e/legal.yaml:1)',
    ]);
    const after = await Promise.all(paths.map(get));
    expect(after[0].template).toBe('© Example GmbH');
    expect(after[0].updatedAt).toBeGreaterThan(saved[0].updatedAt);
    expect(after.slice(1)).toEqual(saved.slice(1));
  });

  it("sets a layout's default flag as the file says, absent meaning false", async () => {
    const dir = folders.folder({ 'base.yaml': `${BASE}default: true\n` });
    expect((await apply(['.'], dir)).code).toBe(0);
    expect((await get('/v1/layouts/base')).default).toBe(true);
    writeFiles(dir, { 'base.yaml': BASE });
    const off = await apply(['.'], dir);
    expect(off.stdout).toContain('    -default: true\n');
    expect((await get('/v1/layouts/base')).default).toBe(false);
    expect(planLines(await apply(['.'], dir))).toEqual(['= unchanged layout base']);
  });

  it('with --dry-run writes nothing', async () => {
    const dir = folders.folder(ALL);
    const dry = await apply(['.', '--dry-run'], dir);
    expect(dry.code).toBe(0);
    expect(planLines(dry)).toHaveLength(5);
    expect(dry.stdout).toContain('dry run: nothing was written');
    for (const list of ['/v1/partials', '/v1/layouts', '/v1/translations', '/v1/workflows']) {
      expect((await get(list)).items).toEqual([]);
    }
  });

  it('refuses wrong types and unknown kinds, naming file and line, and a circle of partials', async () => {
    const wrong = folders.folder({
      'layout.yaml': 'kind: layout\nkey: base\nhtml: 123\n',
      'translation.yaml': 'kind: translation\nkey: de\nmessages:\n  - hallo\n',
      'kinds.yaml': 'kind: partial\nkey: p\n---\nkind: template\nkey: t\n',
      'locale.yaml': 'kind: translation\nlocale: pt-br\nmessages: {}\n',
    });
    const run = await apply(['.'], wrong);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'herald: kinds.yaml:1: a partial needs template',
      'herald: kinds.yaml:4: unknown kind "template": expected workflow, layout, partial or translation',
      'herald: layout.yaml:3: html must be a string (quote it if it looks like a number or true/false), not a number (123)',
      'herald: locale.yaml:2: locale "pt-br": write it as pt-BR, the form the server keeps',
      'herald: translation.yaml:1: a translation needs locale',
      'herald: translation.yaml:2: unknown field "key" in a translation (its fields: locale, messages)',
      'herald: translation.yaml:3: messages must be a mapping, not a list',
      'herald: nothing was applied',
    ]);

    const circle = folders.folder({
      'a.yaml': 'kind: partial\nkey: a\ntemplate: "{% render \'b\' %}"\n',
      'b.yaml': 'kind: partial\nkey: b\ntemplate: "{% render \'a\' %}"\n',
    });
    const cycled = await apply(['.'], circle);
    expect(cycled.code).toBe(1);
    expect(cycled.stderr).toContain('herald: a.yaml:1: partials render each other in a circle: a → b → a');
    expect((await get('/v1/partials')).items).toEqual([]);
  });

  it("names the file and line of the server's refusal of a partial's template", async () => {
    const dir = folders.folder({
      'ok.yaml': LEGAL,
      'p.yaml': 'kind: partial\nkey: broken\ntemplate: |\n  <p>\n  {% if subscriber.name %}\n  </p>\n',
    });
    const run = await apply(['.'], dir);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^herald: p\.yaml:1: the server refused partial broken \(422 [A-Z_]+\)/);
    // The template's line 2, the `{% if %}`, is the file's line 5.
    expect(lines[1]).toMatch(/^herald: p\.yaml:5: \/template: line 2: .*not closed/);
    expect(lines.at(-1)).toBe('herald: 1 of 2 changes were applied before it; the rest were not sent');
    expect((await herald.api('GET', '/v1/partials/broken')).status).toBe(404);
  });

  it('names the file and line of a workflow that renders a partial the server does not have', async () => {
    const dir = folders.folder({ 'w.yaml': WELCOME });
    const run = await apply(['w.yaml'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^herald: w\.yaml:6: \/steps\/0\/html: .*"footer"/m);
    expect((await herald.api('GET', '/v1/workflows/welcome')).status).toBe(404);
  });

  it('deletes with --prune, workflows before the partials they render', async () => {
    await apply(['.'], folders.folder(ALL));
    const pruned = await apply(['.', '--prune'], folders.folder({ 'de.yaml': GERMAN }));
    expect(pruned.code).toBe(0);
    expect(planLines(pruned)).toEqual([
      '= unchanged translation de',
      '- delete workflow welcome',
      '- delete layout base',
      '- delete partial footer',
      '- delete partial legal',
    ]);
    for (const list of ['/v1/partials', '/v1/layouts', '/v1/workflows']) expect((await get(list)).items).toEqual([]);
    expect((await get('/v1/translations')).items).toHaveLength(1);
  });
});

describe('herald export with layouts, partials and translations', () => {
  it('writes files that apply finds unchanged, and that a fresh environment exports byte for byte', async () => {
    expect((await apply(['.'], folders.folder(ALL))).code).toBe(0);
    const out = folders.folder();
    const exported = await heraldAgainst(herald, 'export', ['.'], out);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('exported 2 partials, 1 layout, 1 translation, 1 workflow');
    const files = readFiles(out);
    expect(files).toEqual({
      'layouts/base.yaml': BASE,
      'partials/footer.yaml': FOOTER,
      'partials/legal.yaml': LEGAL,
      'translations/de.yaml': GERMAN,
      'workflows/welcome.yaml': WELCOME,
    });

    const check = await apply(['.', '--dry-run'], out);
    expect(planLines(check).every((line) => line.startsWith('= unchanged'))).toBe(true);
    expect(planLines(check)).toHaveLength(5);

    const fresh = await startTestHerald();
    try {
      expect((await heraldAgainst(fresh, 'apply', ['.'], out)).code).toBe(0);
      const again = folders.folder();
      expect((await heraldAgainst(fresh, 'export', ['.'], again)).code).toBe(0);
      expect(readFiles(again)).toEqual(files);
    } finally {
      await fresh.close();
    }
  });
});
