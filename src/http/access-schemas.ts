import { Type } from 'typebox';
import { idPattern } from '../core/ids.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../core/passwords.js';
import { ROLES } from '../core/users.js';
import { component, PatternString, StringEnum } from './components.js';
import { Cursor, Printable } from './schemas.js';

/** Schemas of the dashboard's access routes: users, the session, the audit log (docs/dashboard.md). */

const Email = Type.String({ minLength: 3, maxLength: 254, description: 'Compared without case' });
const Password = Type.String({
  minLength: MIN_PASSWORD_LENGTH,
  maxLength: MAX_PASSWORD_LENGTH,
  description: `At least ${MIN_PASSWORD_LENGTH} characters`,
});
const Role = StringEnum(ROLES, { description: 'owner: everything; admin: all but users; viewer: reads only' });

export const User = component(
  'User',
  Type.Object({
    id: Type.String(),
    email: Type.String(),
    role: Role,
    createdAt: Type.Number(),
    updatedAt: Type.Number(),
    disabledAt: Type.Union([Type.Number(), Type.Null()], { description: 'Set while the user may not sign in' }),
  }),
);

export const UserBody = component(
  'UserInput',
  Type.Object({ email: Email, role: Role, password: Password }, { additionalProperties: false }),
);

export const UserChangeBody = component(
  'UserChange',
  Type.Object(
    {
      email: Type.Optional(Email),
      role: Type.Optional(Role),
      password: Type.Optional(Password),
      disabled: Type.Optional(Type.Boolean({ description: "true: may not sign in (the user's sessions end)" })),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
);

export const UserParams = Type.Object({
  id: PatternString(idPattern('usr'), 'a user id such as usr_01jd…', { description: 'The user id' }),
});

export const Credentials = component(
  'Credentials',
  Type.Object(
    { email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: MAX_PASSWORD_LENGTH }) },
    { additionalProperties: false },
  ),
);

export const SetupBody = component(
  'SetupInput',
  Type.Object({ email: Email, password: Password }, { additionalProperties: false }),
);

export const SessionView = component(
  'Session',
  Type.Object({
    user: Type.Object({ id: Type.String(), email: Type.String(), role: Role }),
    csrfToken: Type.String({ description: 'Send as X-CSRF-Token on every request that changes something' }),
    expiresAt: Type.Number({ description: 'When the session ends at the latest (absolute expiry)' }),
  }),
);

export const DashboardState = component(
  'DashboardState',
  Type.Object({
    setupRequired: Type.Boolean({ description: 'true while Herald has no user: the first one becomes its owner' }),
    signedIn: Type.Boolean({ description: 'Whether the request carries a live session cookie' }),
  }),
);

const AuditActor = Type.Object({
  type: StringEnum(['user', 'api_key', 'cli'] as const),
  id: Type.Optional(Type.String({ description: 'usr_… or key_…' })),
  email: Type.Optional(Type.String()),
});

export const AuditEvent = component(
  'AuditEvent',
  Type.Object({
    id: Type.String(),
    environmentId: Type.Union([Type.String(), Type.Null()], { description: 'null for instance-wide events' }),
    at: Type.Number(),
    actor: AuditActor,
    action: Type.String({ description: 'e.g. PUT /v1/workflows/{key}' }),
    target: Type.Record(Type.String(), Type.String(), { description: "The route's parameters" }),
    status: Type.Integer(),
  }),
);

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Cursor(idPattern('aud')),
    actor: Type.Optional(Printable(254, 'An actor id (usr_…, key_…) or a user email')),
    action: Type.Optional(Printable(300, 'An action exactly as listed, e.g. PUT /v1/workflows/{key}')),
  },
  { additionalProperties: false },
);
