import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { ApiClient } from './api-client.js';
import type { Output } from './apply.js';
import { CommandFailure } from './cli-errors.js';
import { renderResource } from './resource-diff.js';
import { KIND_SPECS, KINDS, type Resource } from './resource-kinds.js';
import { fetchServerResources } from './resource-plan.js';

/** A key or locale that is safe as a file name on every system: no separators, no leading dot. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The resource files under `dir` (what `herald apply <dir>` would read), relative to it. */
function resourceFilesUnder(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return resourceFilesUnder(join(dir, entry.name), path);
    return ['.yaml', '.yml', '.json'].includes(extname(entry.name).toLowerCase()) ? [path] : [];
  });
}

/**
 * `herald export <dir>`: every workflow, layout, partial and translation of the environment as
 * YAML files, `<dir>/<collection>/<key>.yaml`, in the form `herald apply` reads, so that applying
 * the folder changes nothing and exporting again writes the same bytes. Other files are left
 * alone; those `apply` would also read are named.
 */
export async function runExport(client: ApiClient, dir: string, out: Output): Promise<void> {
  const server = await fetchServerResources(client);
  const root = resolve(dir);
  const files: { path: string; text: string; resource: Resource }[] = [];
  for (const kind of KINDS) {
    const spec = KIND_SPECS[kind];
    const resources = [...(server.byKind.get(kind)?.values() ?? [])].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
    for (const resource of resources) {
      if (!FILE_NAME.test(resource.id)) {
        throw new CommandFailure([`${kind} ${JSON.stringify(resource.id)} cannot be a file name; nothing was written`]);
      }
      const text = renderResource(resource);
      // What apply reads back must be what the server holds, or the round trip is broken: refuse
      // to write a file that would not say the same.
      const expected = { kind, [spec.idField]: resource.id, ...resource.body };
      if (!isDeepStrictEqual(parse(text), expected)) {
        throw new CommandFailure([
          `${kind} ${resource.id} does not survive being written as YAML; nothing was written`,
        ]);
      }
      files.push({ path: `${spec.collection}/${resource.id}.yaml`, text, resource });
    }
  }
  for (const file of files) {
    const path = join(root, file.path);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, file.text);
  }
  const counts = KINDS.map((kind) =>
    server.unsupported.has(kind)
      ? `no ${KIND_SPECS[kind].collection} (this Herald has no /v1/${KIND_SPECS[kind].collection})`
      : plural(server.byKind.get(kind)?.size ?? 0, kind),
  );
  const shown = relative(process.cwd(), root);
  out(`exported ${counts.join(', ')} to ${shown.startsWith('..') ? root : shown || '.'}`);
  const written = new Set(files.map((file) => file.path));
  const others = resourceFilesUnder(root).filter((path) => !written.has(path));
  if (others.length > 0) {
    out(
      `not written by this export, and read by \`herald apply\` all the same: ${others.join(', ')} ` +
        '(delete them if their resources are gone)',
    );
  }
}
