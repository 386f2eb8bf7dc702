import { describe, expect, it } from 'vitest';
// @ts-expect-error: the dashboard's modules are plain JavaScript, bundled for the browser
import { lineOf, parseJson, pointerLines } from '../../src/dashboard/json-lines.js';
// @ts-expect-error: the dashboard's modules are plain JavaScript, bundled for the browser
import { lineDiff } from '../../src/dashboard/line-diff.js';

// The Workflows editor's helpers: the line a JSON Pointer (a 422's path) starts on, the line a
// parse stops at, and the versions page's line diff.

describe('the steps editor lines', () => {
  const text = JSON.stringify(
    [
      { type: 'email', subject: 'Hi "you" / {{ a }}', html: '<p>x</p>' },
      { type: 'sms', 'a/b~c': ['x', { y: 1 }], text: 'y' },
    ],
    null,
    2,
  );

  it('names the line each value starts on, escaped keys and nested arrays included', () => {
    const lines = pointerLines(text);
    expect(lines.get('')).toBe(1);
    expect(lines.get('/0/html')).toBe(5);
    expect(lines.get('/1')).toBe(7);
    expect(lines.get('/1/a~1b~0c/1/y')).toBe(12);
    expect(lines.get('/1/text')).toBe(15);
    // A path below what the document has points at its nearest parent.
    expect(lineOf(lines, '/0/subject/extra')).toBe(4);
    expect(lineOf(lines, '/7/html')).toBe(1);
  });

  it('knows no lines of a document that does not parse, and says where the parse stopped', () => {
    expect(pointerLines('[{"a": 1,}]').size).toBe(0);
    expect(parseJson('[\n  {"type": "sms",\n  }\n]')).toMatchObject({ line: 3 });
    expect(parseJson('[\n  {')).toMatchObject({ line: 2 });
    expect(parseJson('{"a": [1]}')).toEqual({ value: { a: [1] } });
  });
});

describe('the line diff', () => {
  it('keeps the common lines and marks what each side alone has', () => {
    expect(lineDiff('a\nb\nc\nd', 'a\nx\nc\nd\ne')).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'x' },
      { op: ' ', text: 'c' },
      { op: ' ', text: 'd' },
      { op: '+', text: 'e' },
    ]);
    expect(lineDiff('same', 'same')).toEqual([{ op: ' ', text: 'same' }]);
    expect(lineDiff('x\ny', 'y\nx')).toEqual([
      { op: '-', text: 'x' },
      { op: ' ', text: 'y' },
      { op: '+', text: 'x' },
    ]);
  });
});
