import { describe, expect, it } from 'vitest';
import { compileSteps, renderFailure, renderStep, type RenderContext } from '../../src/core/templates.js';

const context: RenderContext = { subscriber: { id: 's1' }, data: {}, workflow: { key: 'w', name: 'W' } };

/** Renders a one-step SMS workflow and classifies what it threw, as the render threads do. */
function outcome(text: string) {
  const [step] = compileSteps([{ type: 'sms', text }]);
  try {
    renderStep(step!, context);
    return { status: 'rendered' };
  } catch (error) {
    return renderFailure(error, 250);
  }
}

describe('render limits', () => {
  it("calls a render past Liquid's memory limit an overrun, not a template failure", () => {
    // Doubling a string 30 times asks for 10^9 characters; the sandbox allows 10^7 per render.
    const doubling =
      '{% assign s = "x" %}{% for i in (1..30) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}';
    expect(outcome(doubling)).toEqual({
      status: 'overran',
      reason: expect.stringMatching(/^render memory limit exceeded/),
    });
  });
});
