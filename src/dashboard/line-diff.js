import { diffLines } from 'diff';

// The line diff of two versions for the dashboard, by jsdiff (as `herald apply` diffs): rows of
// ' ' (in both), '-' (only the old) and '+' (only the new).

/** Lines of the old and new text, in order, each marked ' ', '-' or '+'. */
export function lineDiff(before, after) {
  // Both end in one newline: a missing last newline is not a change of the last line.
  const ended = (text) => `${text.replace(/\n$/, '')}\n`;
  return diffLines(ended(before), ended(after)).flatMap((change) => {
    const op = change.added ? '+' : change.removed ? '-' : ' ';
    return change.value
      .replace(/\n$/, '')
      .split('\n')
      .map((text) => ({ op, text }));
  });
}
