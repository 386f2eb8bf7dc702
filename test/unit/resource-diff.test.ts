import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { lineDiff, normalizeResource, renderResource, sameBody } from '../../src/cli/resource-diff.js';

describe('lineDiff', () => {
  it('is empty for equal texts', () => {
    expect(lineDiff('a\nb\n', 'a\nb\n')).toEqual([]);
  });

  it('shows a change with two lines of context and the line numbers of both sides', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n');
    const after = ['1', '2', '3', '4', 'five', '6', '7', '8', '9'].join('\n');
    expect(lineDiff(before, after)).toEqual(['@@ -3,5 +3,5 @@', ' 3', ' 4', '-5', '+five', ' 6', ' 7']);
  });

  it('keeps changes far apart in separate hunks and near ones in one', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const far = [...lines];
    far[1] = 'changed 2';
    far[17] = 'changed 18';
    expect(lineDiff(lines.join('\n'), far.join('\n')).filter((line) => line.startsWith('@@'))).toEqual([
      '@@ -1,4 +1,4 @@',
      '@@ -16,5 +16,5 @@',
    ]);
    const near = [...lines];
    near[4] = 'changed 5';
    near[9] = 'changed 10';
    expect(lineDiff(lines.join('\n'), near.join('\n')).filter((line) => line.startsWith('@@'))).toEqual([
      '@@ -3,10 +3,10 @@',
    ]);
  });

  it('shows added and removed lines', () => {
    expect(lineDiff('a\nb\nc', 'a\nc\nd')).toEqual(['@@ -1,3 +1,3 @@', ' a', '-b', ' c', '+d']);
  });

  it('turns the old text into the new one, whatever the texts', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 }).map((lines) => lines.join('\n'));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const hunks = lineDiff(before, after);
        if (before === after) {
          expect(hunks).toEqual([]);
          return;
        }
        // Applying the hunks to the old lines gives the new lines.
        const old = before.split('\n');
        const result: string[] = [];
        let next = 0;
        for (const line of hunks) {
          const header = /^@@ -(\d+),\d+ \+\d+,\d+ @@$/.exec(line);
          if (header) {
            const start = Number(header[1]) - 1;
            result.push(...old.slice(next, start));
            next = start;
          } else if (line[0] === ' ') {
            expect(line.slice(1)).toBe(old[next]);
            result.push(old[next++]!);
          } else if (line[0] === '-') {
            expect(line.slice(1)).toBe(old[next]);
            next++;
          } else result.push(line.slice(1));
        }
        result.push(...old.slice(next));
        expect(result).toEqual(after.split('\n'));
      }),
    );
  });
});

describe('renderResource', () => {
  it('writes kind and key first, the fields in the API order, several lines as a | block', () => {
    const text = renderResource({
      kind: 'workflow',
      id: 'welcome',
      body: { steps: [{ type: 'email', subject: 'Hi', html: '<p>\n  Hello\n</p>\n' }], name: 'Welcome' },
    });
    expect(text).toBe(
      [
        'kind: workflow',
        'key: welcome',
        'name: Welcome',
        'steps:',
        '  - type: email',
        '    subject: Hi',
        '    html: |',
        '      <p>',
        '        Hello',
        '      </p>',
        '',
      ].join('\n'),
    );
  });

  it('reads back as what it wrote, whatever the strings hold', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), fc.string(), fc.jsonValue(), (template, name, data) => {
        const body = { name, template: `${template}\n${template}`, data };
        const text = renderResource({ kind: 'partial', id: 'p', body: { name: body.name, template: body.template } });
        expect(parse(text)).toEqual({ kind: 'partial', key: 'p', name, template: body.template });
        const workflow = renderResource({
          kind: 'workflow',
          id: 'w',
          body: { steps: [{ type: 'webhook', body: data }] },
        });
        expect(JSON.stringify(parse(workflow).steps[0].body)).toBe(JSON.stringify(data));
      }),
    );
  });
});

describe('normalizeResource', () => {
  it('drops what a GET adds and the values the server fills in', () => {
    const fromServer = normalizeResource('workflow', 'w', {
      key: 'w',
      name: 'w',
      critical: false,
      steps: [{ type: 'sms', text: 'hi' }],
      version: 3,
      versionId: 'wfv_1',
      createdAt: 1,
      updatedAt: 2,
    });
    expect(fromServer.body).toEqual({ steps: [{ type: 'sms', text: 'hi' }] });
    expect(sameBody(fromServer, normalizeResource('workflow', 'w', { steps: [{ text: 'hi', type: 'sms' }] }))).toBe(
      true,
    );
    expect(sameBody(fromServer, normalizeResource('workflow', 'w', { steps: [{ type: 'sms', text: 'ho' }] }))).toBe(
      false,
    );
  });
});
