import { html } from 'htm/preact';

/** The statuses the chart stacks, bottom up, with their legend labels. */
export const CHART_STATUSES = [
  ['sent', 'Sent'],
  ['failed', 'Failed'],
  ['skipped', 'Skipped'],
];

const WIDTH = 720;
const HEIGHT = 200;
const AXIS = 2;

/**
 * Stacked bars drawn as SVG (no chart library: a few dozen rects need none, and SVG geometry is
 * attributes, not styles, so the CSP's style-src stays untouched; colours come from classes in
 * styles.css). `buckets` is [{at, sent, failed, skipped}], oldest first; `label(at)` names one.
 */
export function BarChart({ buckets, label, caption }) {
  const max = Math.max(1, ...buckets.map((b) => CHART_STATUSES.reduce((sum, [status]) => sum + b[status], 0)));
  const slot = WIDTH / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.8);
  const plot = HEIGHT - AXIS;
  const ticks = tickIndexes(buckets.length);
  return html`
    <figure class="chart">
      <svg
        viewBox=${`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label=${caption}
        preserveAspectRatio="none"
        class="chart-svg"
        data-max=${max}
      >
        <line class="chart-axis" x1="0" y1=${plot} x2=${WIDTH} y2=${plot} />
        ${buckets.map((bucket, i) => {
          let y = plot;
          const x = i * slot + (slot - barWidth) / 2;
          return html`<g key=${bucket.at}>
            <title>${describe(bucket, label)}</title>
            ${CHART_STATUSES.map(([status]) => {
              if (bucket[status] === 0) return null;
              const h = (bucket[status] / max) * (plot - 4);
              y -= h;
              return html`<rect class=${`bar bar-${status}`} x=${x} y=${y} width=${barWidth} height=${h} />`;
            })}
          </g>`;
        })}
      </svg>
      <div class="chart-ticks" aria-hidden="true">
        ${ticks.map((i) => html`<span key=${i}>${label(buckets[i].at)}</span>`)}
      </div>
      <figcaption>
        <ul class="legend">
          ${CHART_STATUSES.map(
            ([status, name]) => html`<li><span class=${`swatch bar-${status}`} aria-hidden="true"></span>${name}</li>`,
          )}
          <li class="hint">highest bar: ${max}</li>
        </ul>
      </figcaption>
    </figure>
  `;
}

function describe(bucket, label) {
  return `${label(bucket.at)}: ${CHART_STATUSES.map(([status, name]) => `${bucket[status]} ${name.toLowerCase()}`).join(', ')}`;
}

/** The first, middle and last bucket get a label under the chart (HTML: SVG text would stretch with the bars). */
function tickIndexes(n) {
  if (n === 0) return [];
  if (n < 3) return [...Array(n).keys()];
  return [0, Math.floor((n - 1) / 2), n - 1];
}
