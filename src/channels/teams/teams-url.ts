/** A Teams integration's config, as given or as a workflows:// URL becomes. */
export interface TeamsConfig {
  /** A fixed Workflows webhook, used for subscribers without `chat.teams`. */
  webhookUrl?: string;
}

/** Apprise's default api-version for each of the two Workflows URL shapes. */
const API_VERSION = { workflows: '2016-06-01', powerAutomate: '2022-03-01-preview' };

/** Workflow ids and signatures: letters, digits, `_` and `-`, as Azure issues them. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

function parseBool(value: string | null): boolean {
  return value !== null && /^(y|yes|true|1|on|enable|enabled|allow)$/i.test(value.trim());
}

/**
 * Turns Apprise's workflows:// URL into config (https://github.com/caronc/apprise/wiki/Notify_workflows):
 * `workflows://{host}[:{port}]/{workflow}/{signature}[?pa=yes][&ver={api-version}]` is the trigger
 * URL https://{host}[:{port}][/powerautomate/automations/direct]/workflows/{workflow}/triggers/
 * manual/paths/invoke?api-version=…&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={signature}.
 * `?id=`/`?workflow=` and `?sig=`/`?signature=` may carry the two tokens instead of the path.
 *
 * Apprise's msteams:// names an Office 365 connector webhook (webhook.office.com), which Microsoft
 * retired; its tokens have no Workflows equivalent, so it is refused with what to do instead.
 */
export function teamsConfigFromUrl(url: URL): TeamsConfig {
  if (url.protocol === 'msteams:') {
    throw new Error(
      'msteams:// names an Office 365 connector webhook, which Microsoft retired and which has no Workflows ' +
        'equivalent: in Teams, add the workflow "Post to a channel when a webhook request is received" and use ' +
        'its URL (https://… or workflows://{host}/{workflow}/{signature})',
    );
  }
  const query = url.searchParams;
  const path = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const workflow = query.get('workflow') ?? query.get('id') ?? path.shift();
  const signature = query.get('signature') ?? query.get('sig') ?? path.shift();
  if (!url.hostname || !workflow || !signature || !TOKEN.test(workflow) || !TOKEN.test(signature)) {
    throw new Error('expected workflows://{host}[:{port}]/{workflow}/{signature}');
  }
  const powerAutomate = parseBool(query.get('powerautomate') ?? query.get('pa'));
  const version =
    query.get('api-version') ?? query.get('ver') ?? (powerAutomate ? API_VERSION.powerAutomate : API_VERSION.workflows);
  const trigger = new URL(
    `https://${url.host}${powerAutomate ? '/powerautomate/automations/direct' : ''}` +
      `/workflows/${workflow}/triggers/manual/paths/invoke`,
  );
  trigger.search = new URLSearchParams({
    'api-version': version,
    sp: '/triggers/manual/run',
    sv: '1.0',
    sig: signature,
  }).toString();
  return { webhookUrl: trigger.toString() };
}
