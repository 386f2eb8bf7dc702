import { Type } from 'typebox';
import { component, PatternString } from './components.js';

/** Schemas of the API-key routes (validation and OpenAPI). */

const apiKeyFields = {
  id: Type.String({ description: 'What DELETE /v1/api-keys/{id} and `herald keys revoke` take' }),
  name: Type.String(),
  prefix: Type.Union([Type.String(), Type.Null()], {
    description:
      "The key's first characters, to recognise it (hk_AbCdEfGh); null for keys made before Herald kept them",
  }),
  createdAt: Type.Number(),
  lastUsedAt: Type.Union([Type.Number(), Type.Null()], {
    description: 'Recorded at most once a minute per key, so up to a minute behind; null when never used',
  }),
};

export const ApiKey = component('ApiKey', Type.Object(apiKeyFields));

export const CreatedApiKey = component(
  'CreatedApiKey',
  Type.Object({
    ...apiKeyFields,
    key: Type.String({ description: 'The key itself: shown in this answer only, stored only as a hash' }),
  }),
);

export const ApiKeyBody = component(
  'ApiKeyInput',
  Type.Object(
    {
      name: PatternString('^[^\\u0000-\\u001f\\u007f]+$', 'text without control characters', {
        minLength: 1,
        maxLength: 100,
        description: 'A label for people, e.g. where the key is used',
      }),
    },
    { additionalProperties: false },
  ),
);

export const ApiKeyParams = Type.Object({
  id: PatternString('^key_[A-Za-z0-9]{1,60}$', 'a key id such as key_01jd…', { description: 'The key id' }),
});
