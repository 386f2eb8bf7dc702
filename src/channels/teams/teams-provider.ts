import { Type } from 'typebox';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import type { ChatMessage, ProviderDefinition } from '../provider.js';
import { teamsConfigFromUrl, type TeamsConfig } from './teams-url.js';
import { HTTP } from '../outbound/ssrf.js';

/** Logic Apps' error document: `{error: {code, message}}`. */
interface WorkflowsError {
  error?: { code?: string; message?: string };
}

/**
 * Error codes that say this URL can never start the flow, whatever its status (Workflows sends
 * them with 401, which alone would read as a passing credential problem): the signature is wrong
 * or missing, or the flow only takes signed-in callers. A new URL is needed.
 */
const URL_REJECTED = new Set(['DirectApiInvalidAuthorizationSignature', 'DirectApiAuthorizationRequired']);

function describe(error: WorkflowsError['error']): string | undefined {
  if (!error?.code && !error?.message) return undefined;
  return [error.message, error.code && `(${error.code})`].filter(Boolean).join(' ');
}

/** The Adaptive Card Teams posts: the message's blocks as its body, else its text. */
function adaptiveCardMessage(message: ChatMessage) {
  const body =
    message.blocks && message.blocks.length > 0
      ? message.blocks
      : [{ type: 'TextBlock', text: message.text, wrap: true }];
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
        },
      },
    ],
  };
}

/**
 * Microsoft Teams through a Workflows (Power Automate) webhook: POST the flow's trigger URL with
 * an Adaptive Card message. Workflows answers 202 Accepted with an empty body and starts a run;
 * the run's id (`x-ms-workflow-run-id`) is logged as the message id. The flow posts to Teams after
 * that answer, so a card Teams refuses shows in the flow's run history, not here. Errors are
 * `{error: {code, message}}`: 400 TriggerInputSchemaMismatch, 401 on a bad signature, 404
 * WorkflowNotFound, 429 with Retry-After when the flow is throttled, 5xx.
 * https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
 * https://learn.microsoft.com/azure/connectors/connectors-native-reqres
 */
export const teams: ProviderDefinition<'chat', TeamsConfig> = {
  provider: 'teams',
  channel: 'chat',
  address: 'chat',
  configSchema: Type.Object(
    { webhookUrl: Type.Optional(Type.String({ format: 'uri' })) },
    { additionalProperties: false },
  ),
  // The trigger URL carries its signature: whoever has it can post.
  secretFields: ['webhookUrl'],
  destinationFields: [],
  urlFields: { webhookUrl: HTTP },
  urlSchemes: ['workflows', 'workflow', 'msteams'],
  fromUrl: teamsConfigFromUrl,
  chatKey: 'teams',
  defaultDestination: (config) => config.webhookUrl,
  create(_config, context) {
    return {
      async send(message, signal) {
        let response;
        try {
          response = await context.http.request({
            url: message.destination,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(adaptiveCardMessage(message)),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('teams', error);
        }
        if (response.status >= 200 && response.status < 300) {
          return sentOutcome('teams', response, response.headers['x-ms-workflow-run-id']);
        }
        const error = (parseJson(response) as WorkflowsError | undefined)?.error;
        const detail = describe(error);
        if (error?.code && URL_REJECTED.has(error.code) && response.status < 500) {
          return { status: 'failed', reason: `teams: HTTP ${response.status}: ${detail}`.slice(0, 500) };
        }
        return outcomeForStatus('teams', response, context.now(), { detail });
      },
    };
  },
};
