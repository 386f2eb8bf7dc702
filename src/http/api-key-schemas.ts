import { Type } from 'typebox';

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

export const ApiKey = Type.Object(apiKeyFields);

export const CreatedApiKey = Type.Object({
  ...apiKeyFields,
  key: Type.String({ description: 'The key itself: shown in this answer only, stored only as a hash' }),
});

export const ApiKeyBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[^\\u0000-\\u001f\\u007f]+$',
      description: 'A label for people, e.g. where the key is used',
    }),
  },
  { additionalProperties: false },
);

export const ApiKeyParams = Type.Object({
  id: Type.String({ pattern: '^key_[A-Za-z0-9]{1,60}$', description: 'The key id, e.g. key_01jd…' }),
});
