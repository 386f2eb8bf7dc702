import { createDecipheriv, createECDH, createHmac, randomBytes, type ECDH } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { importJWK, jwtVerify, type JWTPayload } from 'jose';
import type { WebPushSubscription } from '../../src/channels/provider.js';

/** http_ece ships no types; this is the part of its API the fake uses. */
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(content: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer;
};

export interface DeliveredPush {
  subscriptionId: string;
  headers: IncomingHttpHeaders;
  vapidClaims: JWTPayload;
  /** The decrypted payload, parsed as JSON. */
  payload: unknown;
}

export interface FakePushService {
  /** http://127.0.0.1:<port> */
  url: string;
  /** A new browser subscription on this service (as PushSubscription.toJSON() gives it). */
  subscribe(): WebPushSubscription;
  /** The browser withdrew the subscription: the service answers 410 Gone from now on. */
  unsubscribe(subscription: WebPushSubscription): void;
  delivered: DeliveredPush[];
  close(): Promise<void>;
}

interface Receiver {
  ecdh: ECDH;
  auth: Buffer;
  gone: boolean;
}

/** RFC 8030 limits what a push service must accept; 4096 bytes is what browsers' services take. */
const MAX_BODY = 4096;

/**
 * A push service (RFC 8030) as a browser vendor runs one: it holds the receiving keys of its
 * subscriptions, checks the VAPID JWT against the application server key (RFC 8292), decrypts
 * the aes128gcm body (RFC 8291) as the browser would, and answers like Mozilla's autopush:
 * 201 + Location, 404 for an unknown subscription, 410 for a withdrawn one, 413 for a big body.
 */
export async function startFakePushService(vapidPublicKey: string): Promise<FakePushService> {
  const receivers = new Map<string, Receiver>();
  const delivered: DeliveredPush[] = [];
  const sockets = new Set<Socket>();
  const point = Buffer.from(vapidPublicKey, 'base64url');
  const vapidKey = await importJWK({
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url'),
    alg: 'ES256',
  });
  let origin = '';

  const answer = async (id: string, headers: IncomingHttpHeaders, body: Buffer) => {
    const receiver = receivers.get(id);
    if (!receiver) return error(404, 102, 'Not Found', 'Request did not validate invalid token');
    if (receiver.gone) return error(410, 106, 'Gone', 'Subscription is no longer valid');
    if (headers['content-encoding'] !== 'aes128gcm') return error(400, 101, 'Bad Request', 'Missing crypto keys');
    if (!/^\d+$/.test(String(headers.ttl))) return error(400, 111, 'Bad Request', 'Missing TTL header');
    if (body.length > MAX_BODY) return error(413, 104, 'Payload Too Large', 'Body too large');
    const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(headers.authorization ?? '');
    if (!match || match[2] !== vapidPublicKey) return error(401, 109, 'Unauthorized', 'Invalid VAPID header');
    let vapidClaims: JWTPayload;
    try {
      ({ payload: vapidClaims } = await jwtVerify(match[1]!, vapidKey, { algorithms: ['ES256'], audience: origin }));
    } catch (failure) {
      return error(401, 109, 'Unauthorized', `Invalid VAPID JWT: ${(failure as Error).message}`);
    }
    if (!/^(mailto:|https:)/.test(String(vapidClaims.sub)) || (vapidClaims.exp ?? 0) > Date.now() / 1000 + 86_400) {
      return error(401, 109, 'Unauthorized', 'VAPID sub or exp out of bounds');
    }
    const plain = ece.decrypt(body, {
      version: 'aes128gcm',
      privateKey: receiver.ecdh,
      authSecret: b64(receiver.auth),
    });
    // A second, from-the-RFC decryption: web-push encrypts with http_ece itself, so agreeing with
    // it alone would not show the body follows RFC 8291.
    if (!decryptPerRfc8291(body, receiver).equals(plain)) throw new Error('http_ece and RFC 8291 disagree');
    delivered.push({ subscriptionId: id, headers, vapidClaims, payload: JSON.parse(plain.toString('utf8')) });
    return { status: 201, headers: { location: `${origin}/message/${delivered.length}` }, body: '' };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const id = req.method === 'POST' ? /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1] : undefined;
      void (
        id ? answer(id, req.headers, Buffer.concat(chunks)) : Promise.resolve(error(404, 102, 'Not Found', 'No route'))
      )
        .catch((failure: Error) => error(400, 110, 'Bad Request', `Cannot decrypt: ${failure.message}`))
        .then((reply) => {
          res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
          res.end(reply.body);
        });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    delivered,
    subscribe() {
      const id = randomBytes(12).toString('base64url');
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      receivers.set(id, { ecdh, auth, gone: false });
      return { endpoint: `${origin}/push/${id}`, keys: { p256dh: b64(ecdh.getPublicKey()), auth: b64(auth) } };
    },
    unsubscribe(subscription) {
      const receiver = receivers.get(subscription.endpoint.split('/').at(-1)!);
      if (receiver) receiver.gone = true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function error(status: number, errno: number, title: string, message: string) {
  const body = JSON.stringify({ code: status, errno, error: title, message });
  return { status, headers: {} as Record<string, string>, body };
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** HKDF with one output block (RFC 5869), enough for every length RFC 8291 asks for. */
function hkdf(salt: Buffer, ikm: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  return createHmac('sha256', prk)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest()
    .subarray(0, length);
}

/** RFC 8291 §3.4 + RFC 8188 §2, for a single record: header, then ciphertext with its tag. */
function decryptPerRfc8291(body: Buffer, receiver: Receiver): Buffer {
  const salt = body.subarray(0, 16);
  const keyIdLength = body[20]!;
  const senderKey = body.subarray(21, 21 + keyIdLength);
  const record = body.subarray(21 + keyIdLength);
  const shared = receiver.ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiver.ecdh.getPublicKey(), senderKey]);
  const ikm = hkdf(receiver.auth, shared, keyInfo, 32);
  const cek = hkdf(salt, ikm, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(salt, ikm, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(-16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, -16)), decipher.final()]);
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end);
}
