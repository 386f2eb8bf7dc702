import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import { checkPreferences, NO_PREFERENCES, type SubscriberPreferences } from '../../core/preferences.js';
import type { AppDeps } from '../deps.js';
import { SubscriberPreferences as PreferencesSchema, SubscriberPreferencesBody } from '../preference-schemas.js';
import { SubscriberParams } from '../schemas.js';

/**
 * A subscriber's preferences: for key holders by subscriber id, and for the subscriber themself
 * from the browser (inbox credentials, their own document only). A PUT replaces the whole document.
 */
export const preferenceRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const notFound = (id: string) =>
      new HeraldError(
        'SUBSCRIBER_NOT_FOUND',
        `No subscriber ${JSON.stringify(id)}: create it with PUT /v1/subscribers/{subscriberId} first`,
      );
    const read = async (environmentId: string, subscriberId: string) =>
      (await deps.store.getSubscriber(environmentId, subscriberId))?.preferences;
    const replace = async (environmentId: string, subscriberId: string, preferences: SubscriberPreferences) => {
      const invalid = checkPreferences(preferences);
      if (invalid.length > 0) {
        throw new HeraldError('VALIDATION_FAILED', invalid.map((e) => `${e.path}: ${e.message}`).join('; '), invalid);
      }
      const saved = await deps.store.putSubscriberPreferences(
        environmentId,
        subscriberId,
        preferences,
        deps.clock.now(),
      );
      if (!saved) throw notFound(subscriberId);
      return saved.preferences ?? NO_PREFERENCES;
    };

    const tags = ['subscribers'];
    app.get(
      '/subscribers/:subscriberId/preferences',
      {
        schema: {
          tags,
          operationId: 'getSubscriberPreferences',
          summary: "A subscriber's preferences ({} before any are set)",
          params: SubscriberParams,
          response: { 200: PreferencesSchema },
        },
      },
      async (request) => {
        const { subscriberId } = request.params;
        const preferences = await read(request.environmentId, subscriberId);
        if (preferences === undefined) throw notFound(subscriberId);
        return preferences ?? NO_PREFERENCES;
      },
    );

    app.put(
      '/subscribers/:subscriberId/preferences',
      {
        schema: {
          tags,
          operationId: 'putSubscriberPreferences',
          summary: "Replace a subscriber's preferences (the whole document: what it leaves out is cleared)",
          params: SubscriberParams,
          body: SubscriberPreferencesBody,
          response: { 200: PreferencesSchema },
        },
      },
      async (request) => replace(request.environmentId, request.params.subscriberId, request.body),
    );

    const security: { [scheme: string]: string[] }[] = [{ subscriberHash: [] }, { inboxToken: [] }];
    const inbox = { tags: ['inbox (browser)'], security };
    const config = { auth: 'subscriber', cors: true } as const;
    app.get(
      '/inbox/preferences',
      {
        config,
        schema: {
          ...inbox,
          operationId: 'getInboxPreferences',
          summary: "The signed-in subscriber's own preferences ({} before any are set)",
          response: { 200: PreferencesSchema },
        },
      },
      // A subscriber not created yet has an inbox with nothing in it, and no preferences.
      async (request) => (await read(request.environmentId, request.subscriberId)) ?? NO_PREFERENCES,
    );

    app.put(
      '/inbox/preferences',
      {
        config,
        schema: {
          ...inbox,
          operationId: 'putInboxPreferences',
          summary: "Replace the signed-in subscriber's own preferences (the whole document)",
          body: SubscriberPreferencesBody,
          response: { 200: PreferencesSchema },
        },
      },
      async (request) => replace(request.environmentId, request.subscriberId, request.body),
    );
  };
