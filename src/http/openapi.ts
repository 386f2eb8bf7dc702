import swagger from '@fastify/swagger';
import type { App } from './deps.js';
import { componentSchemas } from './components.js';
import { Problem } from './schemas.js';
// Its components are declared when it loads: before the document lists them.
import './inbox-schemas.js';

/** What every operation may answer besides its own: problem+json, from the one error handler. */
const PROBLEM = { content: { 'application/problem+json': { schema: Problem } } };
const ERROR_RESPONSES = {
  '4xx': { description: 'The request was refused: problem details say why (docs/errors.md)', ...PROBLEM },
  '5xx': {
    description:
      'Herald could not answer: 503 (with Retry-After) when the database is unavailable or Herald is stopping',
    ...PROBLEM,
  },
};

/**
 * `GET /openapi.json`, generated from the route schemas: the shared components (one per named
 * schema), every route's error answers as problem+json, and the security schemes. Registered
 * before the routes, so that the routes can reference the components and get the error answers.
 */
export async function registerOpenApi(app: App, version: string): Promise<void> {
  for (const schema of componentSchemas()) app.addSchema(schema);

  // Errors are answered by one handler for every route, so they are described once, here.
  app.addHook('onRoute', (route) => {
    if (!route.schema) return;
    route.schema.response = { ...(route.schema.response as object | undefined), ...ERROR_RESPONSES };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald API',
        version,
        description: 'Durable notifications: workflows, subscribers, triggers and the delivery log.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer' },
          subscriberHash: { type: 'apiKey', in: 'header', name: 'X-Herald-Subscriber-Hash' },
          inboxToken: { type: 'http', scheme: 'bearer', description: 'POST /v1/subscribers/{id}/inbox-token' },
        },
      },
      security: [{ apiKey: [] }],
    },
    // Components keep their names (`#/components/schemas/Workflow`), not `def-0`: generators name types after them.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
}
