/**
 * What every bench sends: one workflow with an email step (a ~5 KB HTML template with 10
 * variables, as in perf.md) and ~500 B single-recipient trigger bodies.
 */

export const WORKFLOW_KEY = 'bench-order-shipped';
export const EMAIL_FROM = 'Herald <herald@localhost.localdomain>';

const SUBJECT = 'Order {{ data.orderId }} has shipped, {{ subscriber.name }}';

// Static rows bring the template to ~5 KB, like a real transactional email with inline styles.
const INFO_ROWS = [
  ['Packaging', 'Recycled cardboard, no plastic fillers'],
  ['Returns', 'Free within 30 days of delivery, from any drop-off point'],
  ['Signature', 'Not needed: the parcel may be left with a neighbour'],
  ['Insurance', 'Included up to the order value'],
  ['Customs', 'None: shipped from a warehouse in your country'],
  ['Invoice', 'Attached to your account under Orders → Documents'],
]
  .map(
    ([label, value]) => `
        <tr>
          <td style="padding:8px 12px;border-bottom:1px solid #eceef1;color:#5f6b7a;font-size:14px;width:35%">${label}</td>
          <td style="padding:8px 12px;border-bottom:1px solid #eceef1;color:#1f2933;font-size:14px">${value}</td>
        </tr>`,
  )
  .join('');

const HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Your order has shipped</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif">
  <table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="background:#f4f5f7;padding:24px 0">
    <tr><td align="center">
      <table role="presentation" width="600" cellspacing="0" cellpadding="0" style="background:#ffffff;border-radius:8px;overflow:hidden;border:1px solid #e3e6ea">
        <tr><td style="background:#1f3a5f;padding:20px 32px;color:#ffffff;font-size:20px;font-weight:600">Example Shop</td></tr>
        <tr><td style="padding:32px 32px 8px 32px;color:#1f2933;font-size:16px;line-height:24px">
          <p style="margin:0 0 16px 0">Hello {{ subscriber.name }},</p>
          <p style="margin:0 0 16px 0">Good news: your order <strong>{{ data.orderId }}</strong> with {{ data.itemCount }} items
          left our warehouse today and is now on its way with {{ data.carrier }}. The expected delivery date is
          <strong>{{ data.eta }}</strong>. We will send another message when the parcel is out for delivery.</p>
        </td></tr>
        <tr><td style="padding:8px 32px">
          <table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="border:1px solid #eceef1;border-radius:6px">
            <tr>
              <td style="padding:8px 12px;border-bottom:1px solid #eceef1;color:#5f6b7a;font-size:14px;width:35%">Tracking number</td>
              <td style="padding:8px 12px;border-bottom:1px solid #eceef1;color:#1f2933;font-size:14px">{{ data.trackingNumber }}</td>
            </tr>
            <tr>
              <td style="padding:8px 12px;border-bottom:1px solid #eceef1;color:#5f6b7a;font-size:14px;width:35%">Order total</td>
              <td style="padding:8px 12px;border-bottom:1px solid #eceef1;color:#1f2933;font-size:14px">{{ data.total }} {{ data.currency }}</td>
            </tr>${INFO_ROWS}
          </table>
        </td></tr>
        <tr><td align="center" style="padding:24px 32px">
          <a href="{{ data.trackingUrl }}" style="display:inline-block;background:#2f6fde;color:#ffffff;text-decoration:none;padding:12px 28px;border-radius:6px;font-size:16px;font-weight:600">Track your parcel</a>
        </td></tr>
        <tr><td style="padding:8px 32px 24px 32px;color:#5f6b7a;font-size:14px;line-height:22px">
          <p style="margin:0 0 12px 0">Not at home on the delivery day? The carrier leaves a card with instructions, and you can
          change the delivery address or pick a collection point from the tracking page until the parcel is out for delivery.</p>
          <p style="margin:0">Questions about this order? Reply to this email or visit <a href="{{ data.supportUrl }}" style="color:#2f6fde">our help centre</a>;
          we answer within one working day.</p>
        </td></tr>
        <tr><td style="background:#f9fafb;padding:20px 32px;color:#8a94a3;font-size:12px;line-height:18px;border-top:1px solid #eceef1">
          You receive this email at {{ subscriber.email }} because you placed an order with Example Shop. This is a
          service message about your order; it is sent even if you unsubscribed from newsletters.<br>
          Example Shop Ltd · 1 Example Street · 10115 Berlin · Germany
        </td></tr>
      </table>
    </td></tr>
  </table>
</body>
</html>
`;

/** BENCH_TEMPLATE=small swaps the ~5 KB email for a one-line one (same subject and variables). */
const SMALL_HTML =
  '<p>Hello {{ subscriber.name }}, order {{ data.orderId }} is on its way with {{ data.carrier }}.</p>';
const TEMPLATE = process.env.BENCH_TEMPLATE === 'small' ? SMALL_HTML : HTML;

/** The PUT /v1/workflows/{key} body: one email step; Herald derives the text part from the HTML. */
export const WORKFLOW = { name: 'Bench: order shipped', steps: [{ type: 'email', subject: SUBJECT, html: TEMPLATE }] };

export const TEMPLATE_BYTES = Buffer.byteLength(TEMPLATE);

const TARGET_BODY_BYTES = 500;

function bodyFor(subscriberId, padding) {
  return JSON.stringify({
    to: { subscriberId, email: `${subscriberId}@example.com`, name: 'Alex Example' },
    data: {
      orderId: 'ORD-2024-118842',
      itemCount: 3,
      carrier: 'DHL Express',
      eta: 'Thursday, 14 March',
      trackingNumber: 'JD014600003828',
      trackingUrl: 'https://track.example.com/JD014600003828?ref=herald',
      total: '129.90',
      currency: 'EUR',
      supportUrl: 'https://shop.example.com/help',
      note: padding,
    },
  });
}

// Padding chosen once so bodies are ~500 B whatever the subscriber id length.
const PADDING_BASE = TARGET_BODY_BYTES - Buffer.byteLength(bodyFor('sub-00000000', ''));
const PADDING = 'x'.repeat(Math.max(0, PADDING_BASE));

/** A single-recipient trigger body of ~500 B for a distinct subscriber. */
export function triggerBody(subscriberId) {
  return bodyFor(subscriberId, PADDING);
}

/** The data the templates see for a subscriber, as Herald's worker passes it (for rendering once up front). */
export function renderContext(subscriberId) {
  return renderContextFor(JSON.parse(triggerBody(subscriberId)));
}

/** The data the templates see for a trigger body ({ to, data }), as Herald's worker passes it. */
export function renderContextFor(body) {
  return {
    subscriber: {
      subscriberId: body.to.subscriberId,
      email: body.to.email,
      phone: null,
      name: body.to.name,
      locale: null,
      timezone: null,
      data: null,
    },
    data: body.data,
    workflow: { key: WORKFLOW_KEY, name: WORKFLOW.name },
  };
}
