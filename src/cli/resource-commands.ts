import { Command, Option } from 'commander';
import { createApiClient } from './api-client.js';
import { runApply } from './apply.js';
import { runExport } from './export.js';

/** Where `herald serve` listens by default: apply and export reach a local Herald without --url. */
const DEFAULT_URL = 'http://127.0.0.1:8750';

const write = (line: string) => process.stdout.write(line + '\n');

/** --url and --key, with the environment variables a shell that runs Herald already sets. */
function withApiOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', "Herald's URL").env('HERALD_URL').default(DEFAULT_URL))
    .addOption(new Option('--key <api key>', 'an API key of the environment').env('HERALD_API_KEY'));
}

/**
 * `herald apply` and `herald export`: workflows, layouts, partials and translations as files kept
 * in a repository, through the HTTP API (docs/workflows-as-code.md).
 */
export function addResourceCommands(program: Command): void {
  withApiOptions(
    program
      .command('apply')
      .description(
        'make the workflows, layouts, partials and translations of YAML/JSON files the server’s: ' +
          'prints what differs, then saves it',
      )
      .argument('<paths...>', 'files, or folders searched for .yaml, .yml and .json files')
      .option('--dry-run', 'print what would change and write nothing')
      .option('--prune', 'also delete what the server has and the files do not'),
  ).action(async (paths: string[], options: { url?: string; key?: string; dryRun?: boolean; prune?: boolean }) => {
    const client = createApiClient(options);
    await runApply(client, { paths, dryRun: options.dryRun === true, prune: options.prune === true }, write);
  });

  withApiOptions(
    program
      .command('export')
      .description('write every workflow, layout, partial and translation as YAML files that `herald apply` reads')
      .argument('<dir>', 'the folder to write <kind>/<key>.yaml files into'),
  ).action(async (dir: string, options: { url?: string; key?: string }) => {
    await runExport(createApiClient(options), dir, write);
  });
}
