import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHeraldCli } from '../support/herald-cli.js';
import { startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald.js';
import { heraldAgainst, planLines, readFiles, resourceFolders, writeFiles } from '../support/resource-files.js';

// `herald apply` and `herald export` with workflows, through the built command against a real
// Herald. Layouts, partials and translations: apply-assets.test.ts.

const folders = resourceFolders();
let herald: TestHerald;

beforeEach(async () => {
  herald = await startTestHerald();
});
afterEach(() => herald.close());
afterAll(() => folders.removeAll());

const WELCOME = `kind: workflow
key: welcome
name: Welcome
category: account
steps:
  - type: email
    subject: Welcome, {{ subscriber.name }}
    html: |
      <h1>Hello {{ subscriber.name }}</h1>
      <p>Glad you are here.</p>
  - type: in_app
    body: Finish your profile
`;

const REMINDER = `kind: workflow
key: reminder
steps:
  - type: delay
    for: 1d
  - type: sms
    text: Still there?
`;

const apply = (args: string[], cwd: string) => heraldAgainst(herald, 'apply', args, cwd);
const exportTo = (dir: string, cwd: string) => heraldAgainst(herald, 'export', [dir], cwd);
const workflow = async (key: string) => (await herald.api('GET', `/v1/workflows/${key}`)).body;

describe('herald apply', () => {
  it('creates what is new, leaves what is the same untouched, and updates only what changed', async () => {
    const dir = folders.folder({ 'workflows/welcome.yaml': WELCOME, 'workflows/reminder.yml': REMINDER });
    const first = await apply(['.'], dir);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(planLines(first)).toEqual([
      '+ create workflow reminder (workflows/reminder.yml:1)',
      '+ create workflow welcome (workflows/welcome.yaml:1)',
    ]);
    expect(first.stdout).toContain('applied 2 changes');
    const welcome = await workflow('welcome');
    expect(welcome).toMatchObject({ name: 'Welcome', category: 'account', version: 1 });
    expect(welcome.steps[0].html).toBe('<h1>Hello {{ subscriber.name }}</h1>\n<p>Glad you are here.</p>\n');
    const reminder = await workflow('reminder');
    expect(reminder.name).toBe('reminder'); // the server's default, which the next apply must not see as a change

    const second = await apply(['.'], dir);
    expect(second.code).toBe(0);
    expect(planLines(second)).toEqual(['= unchanged workflow reminder', '= unchanged workflow welcome']);
    expect(second.stdout).toContain('nothing to apply');
    expect(await workflow('welcome')).toEqual(welcome);
    expect(await workflow('reminder')).toEqual(reminder);

    writeFiles(dir, { 'workflows/welcome.yaml': WELCOME.replace('Glad you are here.', 'Glad to see you.') });
    const third = await apply(['.'], dir);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain(
      [
        '~ update workflow welcome (workflows/welcome.yaml:1)',
        '    @@ -8,5 +8,5 @@',
        '         html: |',
        '           <h1>Hello {{ subscriber.name }}</h1>',
        '    -      <p>Glad you are here.</p>',
        '    +      <p>Glad to see you.</p>',
        '       - type: in_app',
        '         body: Finish your profile',
      ].join('\n'),
    );
    expect(planLines(third)).toEqual([
      '= unchanged workflow reminder',
      '~ update workflow welcome (workflows/welcome.yaml:1)',
    ]);
    expect((await workflow('welcome')).version).toBe(2);
    expect(await workflow('reminder')).toEqual(reminder);
  });

  it('compares what the server fills in and the order of keys as no change', async () => {
    const dir = folders.folder({
      'a.yaml': `kind: workflow\nkey: quiet\ncritical: false\nname: quiet\nsteps:\n  - text: hi\n    type: sms\n`,
    });
    expect((await apply(['a.yaml'], dir)).code).toBe(0);
    const again = await apply(['a.yaml'], dir);
    expect(planLines(again)).toEqual(['= unchanged workflow quiet']);
  });

  it('with --dry-run prints the plan and writes nothing', async () => {
    const dir = folders.folder({ 'welcome.yaml': WELCOME });
    const dry = await apply(['welcome.yaml', '--dry-run'], dir);
    expect(dry.code).toBe(0);
    expect(planLines(dry)).toEqual(['+ create workflow welcome (welcome.yaml:1)']);
    expect(dry.stdout).toContain('dry run: nothing was written');
    expect((await herald.api('GET', '/v1/workflows/welcome')).status).toBe(404);

    await apply(['welcome.yaml'], dir);
    const before = await workflow('welcome');
    writeFiles(dir, { 'welcome.yaml': WELCOME.replace('name: Welcome', 'name: Hello') });
    const dryUpdate = await apply(['welcome.yaml', '--dry-run'], dir);
    expect(dryUpdate.stdout).toMatch(/~ update workflow welcome[^]*-name: Welcome\n\s+\+name: Hello/);
    expect(await workflow('welcome')).toEqual(before);
  });

  it('reads several resources from one file (YAML documents, a JSON array) and JSON files', async () => {
    const dir = folders.folder({
      'all.yaml': `${WELCOME}---\n${REMINDER}`,
      'more.json': JSON.stringify(
        [
          { kind: 'workflow', key: 'ping', steps: [{ type: 'sms', text: 'ping' }] },
          { kind: 'workflow', key: 'pong', steps: [{ type: 'sms', text: 'pong' }] },
        ],
        null,
        2,
      ),
      'notes.md': 'not a resource file: skipped',
    });
    const run = await apply(['.'], dir);
    expect(run.code).toBe(0);
    expect(planLines(run)).toEqual([
      '+ create workflow welcome (all.yaml:1)',
      '+ create workflow reminder (all.yaml:14)',
      '+ create workflow ping (more.json:2)',
      '+ create workflow pong (more.json:12)',
    ]);
  });

  it('refuses files with a wrong type, an unknown kind or field, a duplicate, naming file and line, and writes nothing', async () => {
    const dir = folders.folder({
      'a/good.yaml': WELCOME,
      'b/bad.yaml': [
        'kind: workflow',
        'key: typed',
        'critical: "yes"',
        'steps:',
        '  - type: sms',
        '    text: hi',
        '---',
        'kind: workflows',
        'key: plural',
        '---',
        'kind: workflow',
        'key: misspelt',
        'stpes: []',
        '---',
        'kind: workflow',
        'key: welcome',
        'steps: []',
        '',
      ].join('\n'),
      'c/broken.json': '{\n  "kind": "workflow",\n  "key": "x",\n  "steps": [,]\n}\n',
      'd/syntax.yaml': 'kind: workflow\nkey: [unclosed\n',
    });
    const run = await apply(['.'], dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual([
      'herald: b/bad.yaml:3: critical must be true or false, not a string',
      'herald: b/bad.yaml:8: unknown kind "workflows": expected workflow, layout, partial or translation',
      'herald: b/bad.yaml:11: a workflow needs steps',
      'herald: b/bad.yaml:13: unknown field "stpes" in a workflow (its fields: key, name, category, critical, preferences, steps)',
      'herald: b/bad.yaml:15: workflow welcome is also defined at a/good.yaml:1',
      expect.stringMatching(/^herald: c\/broken\.json:4: .*JSON/),
      expect.stringMatching(/^herald: d\/syntax\.yaml:\d: /),
      'herald: nothing was applied',
    ]);
    expect((await herald.api('GET', '/v1/workflows')).body.items).toEqual([]);
  });

  it("names the file and line of the server's refusal: the template line inside a | block", async () => {
    const dir = folders.folder({
      'a.yaml': REMINDER,
      'b.yaml': WELCOME.replace('<p>Glad you are here.</p>', '<p>{{ subscriber.name </p>'),
    });
    const run = await apply(['.'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'herald: b.yaml:1: the server refused workflow welcome (422 TEMPLATE_INVALID)',
      expect.stringMatching(/^herald: b\.yaml:10: \/steps\/0\/html: line 2: .*not closed/),
      'herald: 1 of 2 changes were applied before it; the rest were not sent',
    ]);
    expect((await herald.api('GET', '/v1/workflows/reminder')).status).toBe(200);
  });

  it('names the line of a step field the server refuses', async () => {
    const dir = folders.folder({
      'w.yaml': 'kind: workflow\nkey: w\nsteps:\n  - type: sms\n    text: hi\n  - type: delay\n    for: soon\n',
    });
    const run = await apply(['w.yaml'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^herald: w\.yaml:1: the server refused workflow w \(422 [A-Z_]+\)\n/);
    expect(run.stderr).toMatch(/\nherald: w\.yaml:7: \/steps\/1\/for: /);
    expect(run.stderr).toContain('herald: nothing was applied');
  });

  it('deletes what the files lack only with --prune', async () => {
    const dir = folders.folder({ 'welcome.yaml': WELCOME, 'reminder.yaml': REMINDER });
    await apply(['.'], dir);
    const keep = folders.folder({ 'welcome.yaml': WELCOME });
    const without = await apply(['.'], keep);
    expect(without.code).toBe(0);
    expect(planLines(without)).toEqual(['= unchanged workflow welcome']);
    expect(without.stdout).toContain(
      '1 on the server but not in the files, kept: workflow reminder (--prune deletes them)',
    );
    expect((await herald.api('GET', '/v1/workflows/reminder')).status).toBe(200);

    const dry = await apply(['.', '--prune', '--dry-run'], keep);
    expect(planLines(dry)).toEqual(['= unchanged workflow welcome', '- delete workflow reminder']);
    expect((await herald.api('GET', '/v1/workflows/reminder')).status).toBe(200);

    const pruned = await apply(['.', '--prune'], keep);
    expect(pruned.code).toBe(0);
    expect(planLines(pruned)).toEqual(['= unchanged workflow welcome', '- delete workflow reminder']);
    expect((await herald.api('GET', '/v1/workflows/reminder')).status).toBe(404);
    expect((await herald.api('GET', '/v1/workflows/welcome')).status).toBe(200);
  });

  it('takes the URL and key from HERALD_URL and HERALD_API_KEY; usage errors exit 2 naming the flag', async () => {
    const dir = folders.folder({ 'welcome.yaml': WELCOME });
    const byEnv = await runHeraldCli(['apply', 'welcome.yaml'], {
      cwd: dir,
      env: { HERALD_URL: herald.url, HERALD_API_KEY: TEST_API_KEY },
    });
    expect(byEnv.code).toBe(0);
    expect(planLines(byEnv)).toEqual(['+ create workflow welcome (welcome.yaml:1)']);

    const noKey = await runHeraldCli(['apply', 'welcome.yaml', '--url', herald.url], { cwd: dir });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--key <api key> or HERALD_API_KEY');
    const badUrl = await runHeraldCli(['apply', '.', '--url', 'ftp://x', '--key', TEST_API_KEY], { cwd: dir });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--url (or HERALD_URL)');
    const noPath = await heraldAgainst(herald, 'apply', ['missing/'], dir);
    expect(noPath.code).toBe(2);
    expect(noPath.stderr).toContain('missing/: no such file or folder');
    const noFiles = await heraldAgainst(herald, 'apply', ['.'], folders.folder({ 'x.txt': '' }));
    expect(noFiles.code).toBe(2);
    expect(noFiles.stderr).toContain('no .yaml, .yml or .json files');
    const empty = await heraldAgainst(herald, 'apply', ['.', '--prune'], folders.folder({ 'empty.yaml': '# none\n' }));
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('the files hold no resources (.); nothing was applied');
    const noArgs = await runHeraldCli(['apply'], { cwd: dir });
    expect(noArgs.code).toBe(2);

    const wrongKey = await runHeraldCli(['apply', '.', '--url', herald.url, '--key', 'hk_wrong'], { cwd: dir });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('refused the API key (--key or HERALD_API_KEY)');
    const closed = await startTestHerald();
    const closedUrl = closed.url;
    await closed.close();
    const unreachable = await runHeraldCli(['apply', '.', '--url', closedUrl, '--key', TEST_API_KEY], { cwd: dir });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`cannot reach Herald at ${closedUrl} (--url or HERALD_URL)`);
  });
});

describe('herald export', () => {
  it('writes files that apply finds unchanged, and that a fresh environment exports byte for byte', async () => {
    const source = folders.folder({
      'welcome.yaml': WELCOME,
      'reminder.yaml': REMINDER,
      'odd.json': JSON.stringify({
        kind: 'workflow',
        key: 'odd.one_1',
        name: 'Odd: "quotes", #hash, trailing space ',
        critical: true,
        preferences: { channels: { sms: false } },
        steps: [
          { type: 'sms', text: 'line one\nline two\n\n' },
          { type: 'webhook', url: 'https://example.com/hook', body: { z: 1, a: [true, null, '{{ data.x }}'] } },
          { type: 'chat', text: '  leading spaces\nand a tab\tinside' },
        ],
      }),
    });
    expect((await apply(['.'], source)).code).toBe(0);

    const out = folders.folder();
    const exported = await exportTo('export', out);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('3 workflows');
    const files = readFiles(out);
    expect(Object.keys(files)).toEqual([
      'export/workflows/odd.one_1.yaml',
      'export/workflows/reminder.yaml',
      'export/workflows/welcome.yaml',
    ]);
    expect(files['export/workflows/welcome.yaml']).toBe(WELCOME);
    expect(files['export/workflows/reminder.yaml']).toBe(REMINDER);

    const check = await apply(['export', '--dry-run'], out);
    expect(check.code).toBe(0);
    expect(planLines(check)).toEqual([
      '= unchanged workflow odd.one_1',
      '= unchanged workflow reminder',
      '= unchanged workflow welcome',
    ]);

    const fresh = await startTestHerald();
    try {
      const applied = await heraldAgainst(fresh, 'apply', ['export'], out);
      expect(applied.code).toBe(0);
      expect(planLines(applied).every((line) => line.startsWith('+ create'))).toBe(true);
      const again = folders.folder();
      expect((await heraldAgainst(fresh, 'export', ['export'], again)).code).toBe(0);
      expect(readFiles(again)).toEqual(files);
    } finally {
      await fresh.close();
    }
  });

  it('pages through every workflow and names resource files it did not write', async () => {
    for (let i = 0; i < 120; i++) {
      const res = await herald.api('PUT', `/v1/workflows/w${String(i).padStart(3, '0')}`, {
        steps: [{ type: 'sms', text: `n${i}` }],
      });
      expect(res.status).toBe(200);
    }
    const out = folders.folder({ 'workflows/gone.yaml': REMINDER, 'README.md': 'kept' });
    const run = await exportTo('.', out);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('120 workflows');
    expect(run.stdout).toContain(
      'not written by this export, and read by `herald apply` all the same: workflows/gone.yaml',
    );
    const files = readFiles(out);
    expect(Object.keys(files).filter((path) => path.startsWith('workflows/w'))).toHaveLength(120);
    expect(files['README.md']).toBe('kept');
  });
});
