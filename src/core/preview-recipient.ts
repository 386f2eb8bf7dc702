import { HeraldError } from './errors.js';
import { checkPreferences, type SubscriberPreferences } from './preferences.js';
import type { SubscriberStore } from './store.js';
import { unknownSubscribers, type RecipientInput } from './trigger-workflow.js';
import type { Subscriber, SubscriberFields } from './types.js';

/** A subscriber given whole in a preview: used as it is, never stored. */
export interface InlineSubscriber extends SubscriberFields {
  /** Default `preview`. */
  subscriberId?: string;
  preferences?: SubscriberPreferences | null;
}

const TRIGGER_FIELDS = ['email', 'phone', 'name', 'locale', 'timezone', 'data'] as const;

/**
 * Who a preview is for, read and never written: `to` names a recipient as a trigger does (a
 * stored subscriber's id, which must exist; or an object, whose fields are laid over the stored
 * subscriber as the trigger's upsert would, or make a new one), `subscriber` gives one whole.
 * Exactly one of them.
 */
export async function previewRecipient(
  store: Pick<SubscriberStore, 'getSubscriber'>,
  environmentId: string,
  input: { to?: RecipientInput; subscriber?: InlineSubscriber },
  now: number,
): Promise<Subscriber> {
  if ((input.to === undefined) === (input.subscriber === undefined)) {
    const message =
      'give to (a subscriber, as a trigger names one) or subscriber (its fields, not stored): one of them';
    throw new HeraldError('VALIDATION_FAILED', message, [{ path: '/to', message }]);
  }
  const blank = (subscriberId: string): Subscriber => ({
    subscriberId,
    email: null,
    phone: null,
    name: null,
    locale: null,
    timezone: null,
    data: null,
    push: null,
    chat: null,
    webhookUrl: null,
    preferences: null,
    createdAt: now,
    updatedAt: now,
  });
  if (input.subscriber !== undefined) {
    const { subscriberId, preferences, ...fields } = input.subscriber;
    if (preferences) {
      const invalid = checkPreferences(preferences, '/subscriber/preferences');
      if (invalid.length > 0) {
        throw new HeraldError('VALIDATION_FAILED', invalid.map((e) => `${e.path}: ${e.message}`).join('; '), invalid);
      }
    }
    const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    return { ...blank(subscriberId ?? 'preview'), ...given, preferences: preferences ?? null };
  }
  const to = input.to!;
  const subscriberId = typeof to === 'string' ? to : to.subscriberId;
  const stored = await store.getSubscriber(environmentId, subscriberId);
  if (typeof to === 'string') {
    if (!stored) throw unknownSubscribers([to]);
    return stored;
  }
  const merged: Subscriber = { ...(stored ?? blank(subscriberId)) };
  for (const field of TRIGGER_FIELDS)
    if (to[field] !== undefined) (merged as unknown as Record<string, unknown>)[field] = to[field];
  return merged;
}
