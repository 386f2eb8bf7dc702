/** A Slack integration's config, as given or as a slack:// URL becomes. */
export interface SlackConfig {
  /** A bot token (xoxb-…) with chat:write, for destinations that are channel ids. */
  botToken?: string;
  /** A fixed incoming webhook, used for subscribers without `chat.slack`. */
  webhookUrl?: string;
  /** A fixed channel id (or #name) for chat.postMessage, used when there is no webhookUrl either. */
  channel?: string;
  /** The Web API origin; https://slack.com unless a test points it elsewhere. */
  baseUrl?: string;
}

const USAGE =
  'expected slack://{tokenA}/{tokenB}/{tokenC} (an incoming webhook) or slack://{xoxb-bot-token}/#{channel}';

/** Webhook token parts: letters and digits only, as Slack issues them. */
const WEBHOOK_TOKEN = /^[A-Za-z0-9]+$/;

/** Bot and user OAuth tokens (xoxb-, xoxp-, and rotating xoxe.xoxb-). */
const OAUTH_TOKEN = /^(xoxe\.)?xox[abp]-[A-Za-z0-9-]+$/;

/**
 * Turns Apprise's slack:// URL into config (https://github.com/caronc/apprise/wiki/Notify_slack):
 * - `slack://[botname@]{tokenA}/{tokenB}/{tokenC}[/#channel…]`: the incoming webhook
 *   https://hooks.slack.com/services/{tokenA}/{tokenB}/{tokenC} (`?mode=gov-hook`: slack-gov.com).
 *   Channels after the tokens are dropped: a webhook posts to the channel chosen when it was made,
 *   and Slack ignores overrides.
 * - `slack://{xoxb-token}[/#channel | /+{channelId} | /@{userId}]`: chat.postMessage with that
 *   token; the one channel becomes the default destination. The botname is dropped (Herald posts
 *   as the app).
 */
export function slackConfigFromUrl(url: URL): SlackConfig {
  const token = decodeURIComponent(url.hostname);
  // `#channel` starts a URL fragment, so targets sit in the path, the hash, or `?to=`.
  const parts = [url.pathname, url.hash, url.searchParams.get('to') ?? '']
    .flatMap((part) => part.split(/[\s,/]+/))
    .filter(Boolean)
    .map((part) => decodeURIComponent(part));

  if (OAUTH_TOKEN.test(token)) {
    const channels = parts.map((target) => target.replace(/^[+@]/, ''));
    if (channels.length > 1) {
      throw new Error(`slack:// names ${channels.length} channels; a Herald integration posts to one at most`);
    }
    return { botToken: token, ...(channels[0] && { channel: channels[0] }) };
  }

  const [tokenB, tokenC] = parts;
  if (!token || !tokenB || !tokenC || ![token, tokenB, tokenC].every((part) => WEBHOOK_TOKEN.test(part))) {
    throw new Error(USAGE);
  }
  const host = url.searchParams.get('mode') === 'gov-hook' ? 'hooks.slack-gov.com' : 'hooks.slack.com';
  return { webhookUrl: `https://${host}/services/${token}/${tokenB}/${tokenC}` };
}
