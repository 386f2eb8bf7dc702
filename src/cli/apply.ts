import { ApiError, type ApiClient } from './api-client.js';
import { CommandFailure } from './cli-errors.js';
import { lineDiff, renderResource } from './resource-diff.js';
import { formatProblem, readResourceFiles, type FileResource } from './resource-files.js';
import { describeResource, KIND_SPECS, putBody, type Resource } from './resource-kinds.js';
import { fetchServerResources, planChanges, type Change } from './resource-plan.js';

export interface ApplyOptions {
  paths: readonly string[];
  dryRun: boolean;
  prune: boolean;
}

/** Resources only the server has that the summary names; past it, it counts them. */
const EXTRA_NAMED = 10;

/** Where a change's lines go: stdout, line by line. */
export type Output = (line: string) => void;

const resourcePath = (resource: Pick<Resource, 'kind' | 'id'>) =>
  `/v1/${KIND_SPECS[resource.kind].collection}/${encodeURIComponent(resource.id)}`;

const where = (resource: FileResource) => `${resource.file}:${resource.line}`;

/** The plan as people read it: one line per resource, and the lines that change under an update. */
function describeChange(change: Change): string[] {
  switch (change.op) {
    case 'create':
      return [`+ create ${describeResource(change.resource)} (${where(change.resource)})`];
    case 'unchanged':
      return [`= unchanged ${describeResource(change.resource)}`];
    case 'delete':
      return [`- delete ${describeResource(change.current)}`];
    case 'update': {
      // The server's side in the file's key order: a field written in another order is no change.
      const before = renderResource(change.current, { like: change.wanted });
      const after = renderResource(change.wanted);
      return [
        `~ update ${describeResource(change.resource)} (${where(change.resource)})`,
        ...lineDiff(before, after).map((line) => `    ${line}`),
      ];
    }
  }
}

/** The lines of a refusal: the resource's file and line, and each field error at the line it names. */
function refusal(change: Change, error: ApiError): string[] {
  const status = `${error.status}${error.code ? ` ${error.code}` : ''}`;
  if (change.op === 'delete') {
    return [`deleting ${describeResource(change.current)} was refused (${status}): ${error.detail}`];
  }
  const { resource } = change;
  const lines = [
    `${where(resource)}: the server refused ${describeResource(resource)} (${status})` +
      (error.errors.length === 0 && error.detail ? `: ${error.detail}` : ''),
  ];
  for (const field of error.errors) {
    const templateLine = /^line (\d+):/.exec(field.message)?.[1];
    const line = resource.lineOf(field.path, templateLine === undefined ? undefined : Number(templateLine));
    lines.push(`${resource.file}:${line}: ${field.path || '/'}: ${field.message}`);
  }
  return lines;
}

/**
 * `herald apply`: reads and checks the files (nothing is sent if one is wrong), compares them with
 * the server, prints the plan, and saves what differs in dependency order (deleting what the files
 * lack only with `prune`). Stops at the first refusal, saying what was already applied.
 */
export async function runApply(client: ApiClient, options: ApplyOptions, out: Output): Promise<void> {
  const { resources, problems } = readResourceFiles(options.paths);
  if (problems.length > 0) {
    throw new CommandFailure([...problems.map(formatProblem), 'nothing was applied']);
  }
  if (resources.length === 0) {
    // Applied, no resources would change nothing, and with --prune delete everything: never by accident.
    throw new CommandFailure([`the files hold no resources (${options.paths.join(', ')}); nothing was applied`]);
  }
  const server = await fetchServerResources(client);
  const plan = planChanges(resources, server, options.prune);
  if (plan.problems.length > 0) {
    throw new CommandFailure([...plan.problems.map(formatProblem), 'nothing was applied']);
  }
  for (const change of plan.changes) for (const line of describeChange(change)) out(line);

  const count = (op: Change['op']) => plan.changes.filter((change) => change.op === op).length;
  const summary = [
    `${count('create')} to create`,
    `${count('update')} to update`,
    `${count('unchanged')} unchanged`,
    ...(options.prune ? [`${count('delete')} to delete`] : []),
  ].join(', ');
  out(summary);
  if (!options.prune && plan.extra.length > 0) {
    const named = plan.extra.slice(0, EXTRA_NAMED).map(describeResource);
    if (plan.extra.length > EXTRA_NAMED) named.push(`${plan.extra.length - EXTRA_NAMED} more`);
    out(`${plan.extra.length} on the server but not in the files, kept: ${named.join(', ')} (--prune deletes them)`);
  }
  const pending = plan.changes.filter((change) => change.op !== 'unchanged');
  if (options.dryRun) {
    out('dry run: nothing was written');
    return;
  }
  let done = 0;
  for (const change of pending) {
    try {
      if (change.op === 'delete') await client.request('DELETE', resourcePath(change.current));
      else await client.request('PUT', resourcePath(change.resource), putBody(change.resource));
    } catch (error) {
      // Deleted meanwhile by someone else: what --prune wanted.
      const gone = change.op === 'delete' && error instanceof ApiError && error.status === 404;
      if (!gone) {
        const lines =
          error instanceof ApiError ? refusal(change, error) : error instanceof CommandFailure ? error.lines : null;
        if (lines === null) throw error;
        throw new CommandFailure([
          ...lines,
          done === 0
            ? 'nothing was applied'
            : `${done} of ${pending.length} changes were applied before it; the rest were not sent`,
        ]);
      }
    }
    done++;
  }
  out(pending.length === 0 ? 'nothing to apply' : `applied ${done} change${done === 1 ? '' : 's'}`);
}
