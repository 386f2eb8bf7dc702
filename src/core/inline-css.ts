import { createRequire } from 'node:module';
import type Juice from 'juice';

/**
 * CSS inlining of email HTML with juice: the rules of `<style>` blocks become `style` attributes,
 * which mail clients that drop `<style>` still show; media queries, font faces and keyframes stay
 * in a `<style>` block for the clients that read one.
 *
 * Only juice's core (`juice/client`) is loaded: it reads the HTML it is given and nothing else.
 * juice's main module adds web-resource-inliner, which fetches `<link>`ed stylesheets, images and
 * scripts by URL; an email template must never make Herald fetch anything, so it is never loaded,
 * and `<link>` tags are left as they are.
 *
 * Loading juice takes a few hundred milliseconds of CPU (cheerio), so it is loaded on first use,
 * and render threads load it before they take their first render (render-thread.ts): a render
 * never pays for it against its time limit.
 */
let juice: typeof Juice | undefined;

const OPTIONS: Juice.Options = {
  applyStyleTags: true,
  removeStyleTags: true,
  preserveMediaQueries: true,
  preserveFontFaces: true,
  preserveKeyFrames: true,
  preservePseudos: true,
  applyWidthAttributes: true,
  applyHeightAttributes: true,
  applyAttributesTableElements: true,
  resolveCSSVariables: true,
};

/** A `<style>` element: only HTML holding one is handed to juice. */
const STYLE_BLOCK = /<style[\s>]/i;

export function hasStyleBlock(html: string): boolean {
  return STYLE_BLOCK.test(html);
}

/** Loads juice's core now (see above); later calls do nothing. */
export function loadCssInliner(): void {
  juice ??= createRequire(import.meta.url)('juice/client') as typeof Juice;
}

/**
 * The HTML with the rules of its `<style>` blocks inlined; HTML without one is returned as it is,
 * at the cost of one scan for `<style`.
 */
export function inlineCss(html: string): string {
  if (!hasStyleBlock(html)) return html;
  loadCssInliner();
  return juice!(html, OPTIONS);
}
