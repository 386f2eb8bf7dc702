import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import { createInboxToken, generateInboxSecret } from '../../core/inbox-credentials.js';
import type { InboxSettings as StoredInboxSettings } from '../../core/inbox.js';
import type { AppDeps } from '../deps.js';
import type { InboxAccess } from '../inbox-access.js';
import { InboxSettings, InboxSettingsBody, InboxToken, InboxTokenBody } from '../inbox-schemas.js';
import { SubscriberParams } from '../schemas.js';

/** Key holders' side of the inbox: the secret subscriber hashes are made with, origins, tokens. */
export const inboxSettingsRoutes =
  (deps: AppDeps & { inboxAccess: InboxAccess }): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['inbox'];
    const { inboxAccess: access } = deps;
    const view = (settings: StoredInboxSettings) => ({
      secret: settings.secret,
      allowedOrigins: [...access.allowedOrigins(settings)],
      allowedOriginsDefault: settings.allowedOrigins === null,
    });
    const update = async (environmentId: string, change: { secret?: string; allowedOrigins?: string[] | null }) => {
      const now = deps.clock.now();
      const settings = await deps.store.updateInboxSettings(environmentId, change, {
        secret: generateInboxSecret(),
        now,
      });
      // Here at once (a rotation ends this process's streams before it is answered); other
      // processes hear of it from the store.
      await access.changed(environmentId);
      return view(settings);
    };

    app.get(
      '/inbox/settings',
      {
        schema: {
          tags,
          operationId: 'getInboxSettings',
          summary: 'The inbox secret (subscriberHash = hex(HMAC-SHA256(secret, subscriberId))) and allowed origins',
          response: { 200: InboxSettings },
        },
      },
      async (request) => view(await access.settings(request.environmentId)),
    );

    app.put(
      '/inbox/settings',
      {
        schema: {
          tags,
          operationId: 'putInboxSettings',
          summary: 'Set the origins whose pages may call the inbox API',
          body: InboxSettingsBody,
          response: { 200: InboxSettings },
        },
      },
      async (request) => update(request.environmentId, { allowedOrigins: request.body.allowedOrigins }),
    );

    app.post(
      '/inbox/settings/rotate-secret',
      {
        schema: {
          tags,
          operationId: 'rotateInboxSecret',
          summary: 'Replace the inbox secret: hashes and tokens made with the old one stop working at once',
          response: { 200: InboxSettings },
        },
      },
      async (request) => update(request.environmentId, { secret: generateInboxSecret() }),
    );

    app.post(
      '/subscribers/:subscriberId/inbox-token',
      {
        // The body is optional: no body means the defaults.
        config: { optionalBody: true },
        preValidation: async (request) => {
          request.body ??= {};
        },
        schema: {
          tags,
          operationId: 'createInboxToken',
          summary: "A short-lived token (at most 24 h) for this subscriber's inbox, for Authorization: Bearer",
          params: SubscriberParams,
          body: InboxTokenBody,
          response: { 200: InboxToken },
        },
      },
      async (request) => {
        const { subscriberId } = request.params;
        if (!(await deps.store.getSubscriber(request.environmentId, subscriberId))) {
          throw new HeraldError('SUBSCRIBER_NOT_FOUND', `No subscriber ${JSON.stringify(subscriberId)}`);
        }
        const { secret } = await access.settings(request.environmentId);
        const expiresAt = deps.clock.now() + (request.body.expiresIn ?? 3600) * 1000;
        const token = createInboxToken(secret, { environmentId: request.environmentId, subscriberId, expiresAt });
        return { token, expiresAt };
      },
    );
  };
