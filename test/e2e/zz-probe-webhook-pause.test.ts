import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startTestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

it('probe: one receiver 429 Retry-After pauses others?', async () => {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url!);
    req.resume();
    req.on('end', () => {
      if (req.url === '/a') { res.writeHead(429, { 'retry-after': '5' }); res.end('x'); }
      else { res.writeHead(200); res.end('ok'); }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const h = await startTestHerald({ 'secret-key': 'x'.repeat(40), 'allow-private-networks': '127.0.0.0/8', 'retry-schedule': '50ms,50ms' });
  await h.api('PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' });
  await h.api('PUT', '/v1/workflows/w', { steps: [{ type: 'webhook', url: '{{ data.u }}' }] });
  const a = await h.api('POST', '/v1/workflows/w/trigger', { to: 'a', data: { u: `${url}/a` } });
  await waitFor(() => hits.length === 1);
  const t0 = Date.now();
  const b = await h.api('POST', '/v1/workflows/w/trigger', { to: 'b', data: { u: `${url}/b` } });
  const m = await waitFor(async () => { const r = await h.api('GET', `/v1/messages/${b.body.messageIds[0]}`); return r.body.status === 'sent' ? r.body : undefined; }, { timeoutMs: 15000 });
  console.log('b sent after', Date.now() - t0, 'ms', JSON.stringify(m.attempts), m.reason);
  await h.close(); server.close();
});
