// A small line diff for the dashboard (no Node built-ins, nothing to download): the longest common
// subsequence of two texts' lines, as rows of ' ' (both), '-' (only the old) and '+' (only the new).

/** Lines of the old and new text, in order, each marked ' ', '-' or '+'. */
export function lineDiff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  // Common head and tail first: versions of a workflow mostly differ in a few lines.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const rows = a.slice(0, head).map((text) => ({ op: ' ', text }));
  rows.push(...middle(midA, midB));
  rows.push(...a.slice(a.length - tail).map((text) => ({ op: ' ', text })));
  return rows;
}

function middle(a, b) {
  // lengths[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i][j] = a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  const rows = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      rows.push({ op: ' ', text: a[i] });
      i++;
      j++;
    } else if (lengths[i + 1][j] >= lengths[i][j + 1]) {
      rows.push({ op: '-', text: a[i++] });
    } else {
      rows.push({ op: '+', text: b[j++] });
    }
  }
  while (i < a.length) rows.push({ op: '-', text: a[i++] });
  while (j < b.length) rows.push({ op: '+', text: b[j++] });
  return rows;
}
