import { createHash } from 'node:crypto';

// The small pages a person sees behind an unsubscribe link: static markup around escaped text,
// one inline style allowed by its hash, no script at all.

const STYLE =
  'body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;background:#f9fafb}' +
  'main{max-width:28rem;margin:12vh auto;padding:2rem;background:#fff;border:1px solid #e5e7eb;border-radius:8px}' +
  'h1{margin:0 0 .75rem;font-size:1.375rem}p{margin:0 0 1rem}' +
  'button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:6px;background:#4f46e5;color:#fff;cursor:pointer}' +
  'button:focus-visible{outline:3px solid #a5b4fc;outline-offset:2px}';

/**
 * Nothing may load, run or frame the page; its one style is allowed by hash, and its form may only
 * post back to Herald. The link's token is in the URL: no referrer leaves with it.
 */
export const PAGE_HEADERS = {
  'content-security-policy':
    `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; ` +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-robots-tag': 'noindex',
};

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>` +
    `<style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`
  );
}

/**
 * The confirmation a GET shows. Mail scanners fetch links to check them, so a GET changes nothing:
 * the button posts the one-click body (RFC 8058) back to the same URL.
 */
export function confirmPage(workflowName: string): string {
  return page(
    'Unsubscribe',
    `<p>Stop emails about “${escapeHtml(workflowName)}”? Other notifications are not affected.</p>` +
      '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">' +
      '<button type="submit">Unsubscribe</button></form>',
  );
}

export function donePage(workflowName: string): string {
  return page('You are unsubscribed', `<p>You will no longer receive emails about “${escapeHtml(workflowName)}”.</p>`);
}

export function invalidPage(): string {
  return page(
    'This link does not work',
    '<p>The unsubscribe link is incomplete or was changed. Use the link from the email as it is, or the ' +
      'preferences of the service that sent it.</p>',
  );
}
