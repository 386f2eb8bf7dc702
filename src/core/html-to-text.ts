/** The named entities email HTML actually uses; numeric ones are decoded generally. */
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  mdash: '—',
  ndash: '–',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  copy: '©',
  reg: '®',
  trade: '™',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  deg: '°',
  times: '×',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (whole, name: string) => {
    const lower = name.toLowerCase();
    if (lower.startsWith('#x')) return safeCodePoint(parseInt(lower.slice(2), 16), whole);
    if (lower.startsWith('#')) return safeCodePoint(parseInt(lower.slice(1), 10), whole);
    return ENTITIES[lower] ?? whole;
  });
}

function safeCodePoint(code: number, fallback: string): string {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : fallback;
}

const BLOCK_END = new Set([
  'p',
  'div',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'tr',
  'table',
  'ul',
  'ol',
  'blockquote',
  'section',
  'article',
  'header',
  'footer',
]);

/** What a tag becomes in text; every other tag disappears. */
function tagToText(_tag: string, closing: string, name: string): string {
  const lower = name.toLowerCase();
  if (lower === 'br') return '\n';
  if (closing) {
    if (BLOCK_END.has(lower)) return '\n\n';
    if (lower === 'td' || lower === 'th') return ' ';
    return '';
  }
  return lower === 'li' ? '\n- ' : '';
}

/**
 * Derives the text part of an email from its HTML: drops head, style and script, keeps link
 * targets, turns block ends into line breaks. Lean on purpose: it runs once per email sent, so
 * every pass is linear (no pattern that backtracks over runs of spaces) and tags go in one pass.
 */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    // Line breaks in the source are layout, not content: only tags make lines.
    .replace(/[\r\n]\s*/g, ' ')
    .replace(/<a\b[^>]*?href\s*=\s*["']([^"']+)["'][^>]*>([\s\S]*?)<\/a\s*>/gi, (_m, href: string, inner: string) =>
      inner.trim() && inner.trim() !== href ? `${inner} (${href})` : href,
    )
    .replace(/<(\/?)([a-z][a-z0-9]*)\b[^>]*>|<[^>]*>/gi, (tag, closing?: string, name?: string) =>
      name === undefined ? '' : tagToText(tag, closing ?? '', name),
    );
  return decodeEntities(text)
    .replace(/[ \t\f\v]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
