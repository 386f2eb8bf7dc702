// Email HTML shown with its own styles, still inert. A `srcdoc` frame would inherit the
// dashboard's CSP (style-src 'self'), which refuses the inline styles emails are made of. Instead
// a hidden form posts the HTML to POST /dashboard/api/frame, whose answer is the same HTML under
// its own policy (sandbox, inline styles and data: images only, nothing loaded, nothing run),
// shown in a sandboxed iframe (no allow-scripts, no allow-same-origin).
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { csrfTokenOf } from './api.js';

let frames = 0;

/**
 * A sandboxed frame showing `html`. Each new `html` gets a new frame (and name): the first
 * document a fresh frame loads replaces its empty one, so previews add no entry to the history.
 */
export function EmailFrame({ html: markup, title, className }) {
  const form = useRef(null);
  const name = useMemo(() => `herald-email-${++frames}`, [markup]);
  useEffect(() => {
    const element = form.current;
    if (!element) return;
    element.elements.namedItem('html').value = markup ?? '';
    element.elements.namedItem('csrf').value = csrfTokenOf() ?? '';
    element.submit();
  }, [name]);
  return html`
    <iframe key=${name} class=${className} sandbox="" name=${name} title=${title} referrerpolicy="no-referrer"></iframe>
    <form ref=${form} hidden method="post" action="/dashboard/api/frame" target=${name} aria-hidden="true">
      <input type="hidden" name="html" />
      <input type="hidden" name="csrf" />
    </form>
  `;
}
