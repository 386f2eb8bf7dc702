// The JSON editor's lines: where a parse fails, and on which line each value of a valid document
// starts (so a 422's path such as /workflow/steps/0/html points at a line of the editor).

/** JSON.parse, or { error, line } naming the line the parse stopped at (1-based). */
export function parseJson(text) {
  try {
    return { value: JSON.parse(text) };
  } catch (caught) {
    const message = String(caught.message);
    const lineColumn = /line (\d+) column \d+/.exec(message);
    const position = /position (\d+)/.exec(message);
    let line = null;
    if (lineColumn) line = Number(lineColumn[1]);
    else if (position) line = text.slice(0, Number(position[1])).split('\n').length;
    else if (/end of (JSON|data) input/i.test(message)) line = text.split('\n').length;
    return { error: message.replace(/^JSON\.parse: /, ''), line };
  }
}

/**
 * The line each value of a valid JSON document starts on, by JSON Pointer ('' for the whole,
 * '/0/html' for the html of the first item). A document that does not parse gives an empty map.
 */
export function pointerLines(text) {
  const lines = new Map();
  let at = 0;
  let line = 1;
  const skip = () => {
    while (at < text.length && /\s/.test(text[at])) {
      if (text[at] === '\n') line++;
      at++;
    }
  };
  const string = () => {
    const start = at++;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at++;
    return JSON.parse(text.slice(start, at));
  };
  const value = (pointer) => {
    skip();
    lines.set(pointer, line);
    const char = text[at];
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      at++;
      let index = 0;
      skip();
      while (at < text.length && text[at] !== close) {
        let name = String(index++);
        if (close === '}') {
          name = string();
          skip();
          at++; // the colon
        }
        value(`${pointer}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`);
        skip();
        if (text[at] === ',') at++;
        skip();
      }
      at++;
    } else if (char === '"') {
      string();
    } else {
      while (at < text.length && /[^\s,\]}]/.test(text[at])) at++;
    }
  };
  try {
    JSON.parse(text);
    value('');
  } catch {
    lines.clear();
  }
  return lines;
}

/** The editor line of a pointer, or of its nearest parent the document has. */
export function lineOf(lines, pointer) {
  for (let at = pointer; ; at = at.slice(0, at.lastIndexOf('/'))) {
    if (lines.has(at)) return lines.get(at);
    if (at === '') return null;
  }
}
