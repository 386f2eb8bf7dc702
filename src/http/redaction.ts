import type { FastifyRequest } from 'fastify';

/**
 * What a viewer reads without: secrets and message content, by route pattern (GET only: viewers
 * change nothing). Integration credentials need nothing here: every reader gets them masked
 * (channels/integration-service.ts). Each redacted object says so with `redacted: true`.
 */
type Json = Record<string, unknown>;
const redactMessage = (message: Json): Json => ({ ...message, subject: null, redacted: true });
const redactSubscriber = (subscriber: Json): Json => ({
  ...subscriber,
  push: null,
  chat: null,
  webhookUrl: null,
  redacted: true,
});
const mapItems = (page: Json, map: (item: Json) => Json): Json => ({ ...page, items: (page.items as Json[]).map(map) });

const REDACTIONS: Record<string, (payload: Json) => Json> = {
  '/v1/messages': (page) => mapItems(page, redactMessage),
  '/v1/messages/:id': (message) => ({ ...redactMessage(message), content: null }),
  '/v1/dev/mail': (page) =>
    mapItems(page, (mail) => ({ ...mail, subject: '', html: null, text: '', headers: {}, redacted: true })),
  '/v1/triggers/:triggerId': (trigger) => ({
    ...trigger,
    data: {},
    runs: (trigger.runs as Json[]).map((run) => ({
      ...run,
      digest: run.digest ? { ...(run.digest as Json), events: [] } : null,
      messages: (run.messages as Json[]).map(redactMessage),
    })),
    redacted: true,
  }),
  '/v1/inbox/settings': (settings) => ({ ...settings, secret: '', redacted: true }),
  '/v1/subscribers/:subscriberId': (subscriber) => redactSubscriber(subscriber),
  '/v1/subscribers': (page) => mapItems(page, redactSubscriber),
  '/v1/subscribers/:subscriberId/inbox': (page) =>
    mapItems(page, (item) => ({
      ...item,
      title: null,
      body: '',
      actionUrl: null,
      avatarUrl: null,
      data: null,
      redacted: true,
    })),
};

/** The routes whose answers viewers get redacted (docs/dashboard.md lists them). */
export const REDACTED_ROUTES = Object.keys(REDACTIONS);

/**
 * The preSerialization hook: a viewer's answer without secrets and content. Callback-style, like
 * the other hooks every request passes (no promise per request on the trigger path).
 */
export function redactForViewers(
  request: FastifyRequest,
  reply: { statusCode: number },
  payload: unknown,
  done: (error: null, payload: unknown) => void,
): void {
  const actor = request.actor;
  if (actor?.type !== 'user' || actor.role !== 'viewer' || reply.statusCode >= 300) return done(null, payload);
  const redact = REDACTIONS[request.routeOptions.url ?? ''];
  done(null, redact && payload !== null && typeof payload === 'object' ? redact(payload as Json) : payload);
}
