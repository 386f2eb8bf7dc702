/**
 * A small client program written against the types openapi-typescript generates from
 * /openapi.json (`herald-api.d.ts` next to it), as a team using Herald would write one: it is
 * type-checked, never run, by test/e2e/openapi.test.ts. Kept as text because those types exist
 * only while the test runs. Each line leans on something the document must say: a missing
 * response schema, a lost enum or an untagged step union makes it fail to compile.
 */
export const OPENAPI_CLIENT = `
import type { components, operations } from './herald-api.js';

type Schemas = components['schemas'];
type Problem = Schemas['Problem'];

/** The JSON an operation answers with a status (never, if the document does not say). */
type Json<O extends keyof operations, S extends keyof operations[O]['responses']> =
  operations[O]['responses'][S] extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON body an operation takes. */
type Input<O extends keyof operations> =
  operations[O] extends { requestBody: { content: { 'application/json': infer T } } } ? T : never;
type Query<O extends keyof operations> = NonNullable<operations[O]['parameters']['query']>;
type Path<O extends keyof operations> = operations[O]['parameters']['path'];

/** Every operation, errors included, answers problem+json: checked for all of them at once. */
type ProblemAnswers = {
  [O in keyof operations]: operations[O]['responses'] extends {
    '4XX': { content: { 'application/problem+json': Problem } };
    '5XX': { content: { 'application/problem+json': Problem } };
  }
    ? true
    : O;
}[keyof operations];
export const everyOperationAnswersProblems: ProblemAnswers = true;

declare function send<T>(method: string, path: string, body?: unknown): Promise<T>;
declare const console: { log(...values: unknown[]): void };

async function expectProblem(res: Promise<unknown>): Promise<string[]> {
  const problem = (await res) as Problem;
  const code: string = problem.code;
  return [code, problem.detail, ...(problem.errors ?? []).map((error) => error.path + ' ' + error.message)];
}

export async function subscribers(): Promise<void> {
  const input: Input<'putSubscriber'> = {
    email: 'ada@example.com',
    phone: null,
    data: { plan: 'pro' },
    push: { fcm: ['token'], webPush: [{ endpoint: 'https://push.example/1', keys: { p256dh: 'k', auth: 'a' } }] },
    chat: { slack: 'C024BE91L' },
    webhookUrl: 'https://example.com/hook',
  };
  const path: Path<'putSubscriber'> = { subscriberId: 'ada' };
  const saved = await send<Json<'putSubscriber', 200>>('PUT', '/v1/subscribers/' + path.subscriberId, input);
  const read = await send<Json<'getSubscriber', 200>>('GET', '/v1/subscribers/ada');
  const email: string | null = saved.email ?? read.email;
  const tokens: string[] = read.push?.fcm ?? [];
  const updatedAt: number = read.updatedAt;
  const token = await send<Json<'createInboxToken', 200>>('POST', '/v1/subscribers/ada/inbox-token', {
    expiresIn: 600,
  } satisfies Input<'createInboxToken'>);
  const expiresAt: number = token.expiresAt;
  const gone: operations['deleteSubscriber']['responses'][204]['content'] = undefined;
  console.log(email, tokens, updatedAt, token.token, expiresAt, gone);
  await expectProblem(send('DELETE', '/v1/subscribers/ada'));
}

export async function workflows(): Promise<void> {
  const steps: Schemas['Step'][] = [
    { type: 'email', subject: 'Hi {{ subscriber.name }}', html: '<p>Hello</p>' },
    { type: 'sms', text: 'Hello' },
    { type: 'push', title: 'Hi', body: 'Hello', data: { url: '/x' } },
    { type: 'chat', text: 'Hello', blocks: [] },
    { type: 'webhook', url: 'https://example.com/{{ data.id }}', body: { id: '{{ data.id }}' } },
    { type: 'in_app', body: 'Hello', actionUrl: '/inbox' },
  ];
  // @ts-expect-error: a step type that does not exist
  const fax: Schemas['Step'] = { type: 'fax', text: 'x' };
  // @ts-expect-error: an email step needs its subject
  const noSubject: Schemas['EmailStep'] = { type: 'email', text: 'x' };
  const input: Input<'putWorkflow'> = { name: 'Welcome', steps };
  const workflow = await send<Json<'putWorkflow', 200>>('PUT', '/v1/workflows/welcome', input);
  for (const step of workflow.steps) {
    // The union is tagged by type: each branch has its own fields.
    if (step.type === 'email') console.log(step.subject.toUpperCase(), step.html ?? step.text);
    else if (step.type === 'in_app') console.log(step.body, step.actionUrl);
    else if (step.type === 'push') console.log(step.title);
  }
  const page = await send<Json<'listWorkflows', 200>>('GET', '/v1/workflows?limit=10');
  const next: string | null = page.nextCursor;
  const one = await send<Json<'getWorkflow', 200>>('GET', '/v1/workflows/welcome');
  const version: number = one.version;
  const deleted: operations['deleteWorkflow']['responses'][204]['content'] = undefined;
  console.log(fax, noSubject, next, version, page.items.length, deleted);
}

export async function workflowVersions(): Promise<void> {
  const query: Query<'listWorkflowVersions'> = { limit: 10 };
  const history = await send<Json<'listWorkflowVersions', 200>>('GET', '/v1/workflows/welcome/versions?limit=' + query.limit);
  const newest = history.items[0];
  const summary: [number, string, string, number, number] | undefined = newest && [
    newest.version,
    newest.versionId,
    newest.name,
    newest.stepCount,
    newest.createdAt,
  ];
  const path: Path<'getWorkflowVersion'> = { key: 'welcome', n: 1 };
  const first = await send<Json<'getWorkflowVersion', 200>>('GET', '/v1/workflows/welcome/versions/' + path.n);
  const firstSteps: Schemas['Step'][] = first.steps;
  const category: string | undefined = first.category;
  const restored = await send<Json<'restoreWorkflowVersion', 200>>('POST', '/v1/workflows/welcome/versions/1/restore');
  const number: number = restored.version;
  console.log(history.nextCursor, summary, first.versionId, firstSteps, category, number);
}

export async function triggers(): Promise<void> {
  const input: Input<'triggerWorkflow'> = {
    to: ['ada', { subscriberId: 'bob', email: 'bob@example.com', locale: 'pt-BR' }],
    data: { orderId: 42 },
  };
  const single: Input<'triggerWorkflow'> = { to: 'ada' };
  const headers: NonNullable<operations['triggerWorkflow']['parameters']['header']> = { 'idempotency-key': 'k1' };
  const accepted = await send<Json<'triggerWorkflow', 202>>('POST', '/v1/workflows/welcome/trigger', input);
  // Absent when to names a topic: its members' messages are made after the answer.
  const firstMessage: string | undefined = accepted.messageIds?.[0];
  const toTopics: Input<'triggerWorkflow'> = { to: [{ topic: 'project-42' }, 'ada'], actor: 'bob' };
  const fanout = (await send<Json<'getTrigger', 200>>('GET', '/v1/triggers/' + accepted.triggerId)).fanout;
  const reached: number | undefined = fanout?.recipients;
  const later: Input<'triggerWorkflow'> = { to: 'ada', sendAt: '2026-12-24T09:00:00Z', cancellationKey: 'order-42' };
  const detail = await send<Json<'getTrigger', 200>>('GET', '/v1/triggers/' + accepted.triggerId);
  const state: 'scheduled' | 'active' | 'waiting' | 'digesting' | 'completed' | 'canceled' | 'throttled' | 'digested' | 'failed' =
    detail.runs[0]!.state;
  const dueAt: number | null = detail.runs[0]!.dueAt;
  const canceled = await send<Json<'cancelRuns', 200>>('POST', '/v1/triggers/cancel', { cancellationKey: 'order-42' });
  const counts: [number, number] = [canceled.runs, canceled.messages];
  console.log(single, headers, accepted.triggerId, firstMessage, toTopics, reached, later, state, dueAt, counts);
}

export async function topics(): Promise<void> {
  const put = await send<Json<'putTopic', 201>>('PUT', '/v1/topics/project-42', { name: 'Project 42' });
  const detail = await send<Json<'getTopic', 200>>('GET', '/v1/topics/project-42');
  const count: number = detail.subscriberCount;
  const list = await send<Json<'listTopics', 200>>('GET', '/v1/topics?limit=10');
  const members: Input<'addTopicSubscribers'> = { subscriberIds: ['ada', 'bob'] };
  const added = await send<Json<'addTopicSubscribers', 200>>('POST', '/v1/topics/project-42/subscribers', members);
  const removed = await send<Json<'removeTopicSubscribers', 200>>('DELETE', '/v1/topics/project-42/subscribers', members);
  const page = await send<Json<'listTopicSubscribers', 200>>('GET', '/v1/topics/project-42/subscribers');
  const first: string | undefined = page.items[0]?.subscriberId;
  const topicsOfAda: string[] = (await send<Json<'getSubscriber', 200>>('GET', '/v1/subscribers/ada')).topics;
  console.log(put.name, count, list.nextCursor, added.added, added.topicCreated, removed.removed, first, topicsOfAda);
}

export async function deliveryLog(): Promise<void> {
  const query: Query<'listMessages'> = { status: 'failed', subscriberId: 'ada', limit: 20 };
  // @ts-expect-error: not a message status
  const wrong: Query<'listMessages'> = { status: 'lost' };
  const log = await send<Json<'listMessages', 200>>('GET', '/v1/messages?status=' + query.status);
  const status:
    | 'pending'
    | 'queued'
    | 'sending'
    | 'sent'
    | 'retrying'
    | 'failed'
    | 'skipped'
    | 'seen'
    | 'read'
    | 'archived'
    | 'canceled'
    | 'throttled'
    | 'digested' = log.items[0]!.status;
  const message = await send<Json<'getMessage', 200>>('GET', '/v1/messages/' + log.items[0]!.id);
  const outcomes: ('sent' | 'retry' | 'failed')[] = message.attempts.map((attempt) => attempt.outcome);
  const html: string | null | undefined = message.content?.html;
  const mail = await send<Json<'listDevMail', 200>>('GET', '/v1/dev/mail');
  const subject: string | undefined = mail.items[0]?.subject;
  console.log(wrong, status, outcomes, html, message.channel, subject);
}

export async function integrations(): Promise<void> {
  const input: Input<'putIntegration'> = {
    channel: 'sms',
    provider: 'twilio',
    config: { accountSid: 'AC…', authToken: '…', from: '+15005550006' },
    priority: 0,
    rateLimit: { limit: 10, interval: '1s' },
  };
  const created = await send<Json<'putIntegration', 201>>('PUT', '/v1/integrations/twilio-main', input);
  const replaced = await send<Json<'putIntegration', 200>>('PUT', '/v1/integrations/twilio-main', input);
  const list = await send<Json<'listIntegrations', 200>>('GET', '/v1/integrations');
  const one = await send<Json<'getIntegration', 200>>('GET', '/v1/integrations/twilio-main');
  const state: 'closed' | 'open' | 'half-open' | undefined = one.circuit?.state;
  const test = await send<Json<'testIntegration', 200>>('POST', '/v1/integrations/twilio-main/test', {
    to: '+15005550006',
  } satisfies Input<'testIntegration'>);
  const rotated = await send<Json<'rotateIntegrationSecret', 200>>('POST', '/v1/integrations/hook/rotate-secret');
  const secret: string | undefined = rotated.secret;
  const deleted: operations['deleteIntegration']['responses'][204]['content'] = undefined;
  console.log(created.id, replaced.provider, list.items.length, state, test.status, test.detail, secret, deleted);
}

export async function apiKeys(): Promise<void> {
  const created = await send<Json<'createApiKey', 201>>('POST', '/v1/api-keys', {
    name: 'ci',
  } satisfies Input<'createApiKey'>);
  const secret: string = created.key;
  const list = await send<Json<'listApiKeys', 200>>('GET', '/v1/api-keys');
  const lastUsedAt: number | null | undefined = list.items[0]?.lastUsedAt;
  const path: Path<'revokeApiKey'> = { id: created.id };
  const revoked: operations['revokeApiKey']['responses'][204]['content'] = undefined;
  console.log(secret, created.prefix, lastUsedAt, path.id, revoked);
}

export async function inbox(): Promise<void> {
  const query: Query<'listInboxItems'> = { status: 'unread', limit: 20 };
  const items = await send<Json<'listInboxItems', 200>>('GET', '/v1/inbox/items?status=' + query.status);
  const readAt: number | null | undefined = items.items[0]?.readAt;
  const counts = await send<Json<'getInboxCounts', 200>>('GET', '/v1/inbox/counts');
  const action: Path<'changeInboxItem'>['action'] = 'archive';
  const changed = await send<Json<'changeInboxItem', 200>>('POST', '/v1/inbox/items/msg_1/' + action);
  const all = await send<Json<'markAllInboxItemsRead', 200>>('POST', '/v1/inbox/read-all');
  const seen = await send<Json<'markAllInboxItemsSeen', 200>>('POST', '/v1/inbox/seen-all');
  const stream: operations['streamInbox']['responses'][200]['content']['text/event-stream'] = 'event: counts';
  const settings = await send<Json<'getInboxSettings', 200>>('GET', '/v1/inbox/settings');
  const origins: Input<'putInboxSettings'> = { allowedOrigins: null };
  const put = await send<Json<'putInboxSettings', 200>>('PUT', '/v1/inbox/settings', origins);
  const rotated = await send<Json<'rotateInboxSecret', 200>>('POST', '/v1/inbox/settings/rotate-secret');
  console.log(readAt, counts.unread + changed.counts.unseen + all.changed + seen.counts.total, changed.item.body);
  console.log(stream, settings.secret, put.allowedOrigins, put.allowedOriginsDefault, rotated.secret);
}

export async function operationsRoutes(): Promise<void> {
  const health: 'ok' = (await send<Json<'getHealth', 200>>('GET', '/healthz')).status;
  const ready: 'ready' = (await send<Json<'getReadiness', 200>>('GET', '/readyz')).status;
  const metrics: operations['getMetrics']['responses'][200]['content']['text/plain'] = '# HELP';
  const script: operations['getInboxScript']['responses'][200]['content']['text/javascript'] = 'export {}';
  const document: Record<string, unknown> = await send<Json<'getOpenApiDocument', 200>>('GET', '/openapi.json');
  console.log(health, ready, metrics, script, document);
}
`;
