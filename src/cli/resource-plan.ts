import type { ApiClient } from './api-client.js';
import { normalizeResource, sameBody } from './resource-diff.js';
import type { FileProblem, FileResource } from './resource-files.js';
import { KIND_SPECS, KINDS, partialReferences, type Kind, type Resource } from './resource-kinds.js';

/** What the server holds, by kind and key (or locale), normalized as files are. */
export interface ServerResources {
  byKind: Map<Kind, Map<string, Resource>>;
  /** Kinds this Herald has no routes for (one older than the CLI): nothing of them is read or written. */
  unsupported: Set<Kind>;
}

/** Reads every resource of every kind from the server, page after page. */
export async function fetchServerResources(client: ApiClient): Promise<ServerResources> {
  const byKind = new Map<Kind, Map<string, Resource>>();
  const unsupported = new Set<Kind>();
  for (const kind of KINDS) {
    const spec = KIND_SPECS[kind];
    const items = await client.listAll<Record<string, unknown>>(`/v1/${spec.collection}`);
    const resources = new Map<string, Resource>();
    if (items === undefined) unsupported.add(kind);
    for (const item of items ?? []) {
      const id = String(item[spec.idField]);
      resources.set(id, normalizeResource(kind, id, item));
    }
    byKind.set(kind, resources);
  }
  return { byKind, unsupported };
}

/**
 * Resources in the order they can be saved: partials first, each after the partials it renders;
 * then layouts, translations and workflows (KINDS). A circle of partials rendering each other has
 * no such order: `onCycle` hears of it.
 */
export function saveOrder<T extends Resource>(resources: readonly T[], onCycle: (cycle: T[]) => void): T[] {
  const ordered: T[] = [];
  for (const kind of KINDS) {
    const ofKind = resources.filter((resource) => resource.kind === kind);
    if (kind !== 'partial') {
      ordered.push(...ofKind);
      continue;
    }
    const byId = new Map(ofKind.map((partial) => [partial.id, partial]));
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (partial: T, path: T[]) => {
      const seen = state.get(partial.id);
      if (seen === 'done') return;
      if (seen === 'visiting') {
        onCycle([...path.slice(path.indexOf(partial)), partial]);
        return;
      }
      state.set(partial.id, 'visiting');
      for (const name of partialReferences(partial.body.template)) {
        const dependency = byId.get(name);
        if (dependency) visit(dependency, [...path, partial]);
      }
      state.set(partial.id, 'done');
      ordered.push(partial);
    };
    for (const partial of ofKind) visit(partial, []);
  }
  return ordered;
}

/** One line of the plan: what `apply` does (or, with --dry-run, would do) to one resource. */
export type Change =
  | { op: 'create'; resource: FileResource }
  /** `wanted`: the file's resource as it is compared (normalized as the server's `current`). */
  | { op: 'update'; resource: FileResource; current: Resource; wanted: Resource }
  | { op: 'unchanged'; resource: FileResource }
  | { op: 'delete'; current: Resource };

export interface Plan {
  changes: Change[];
  /** Resources on the server and not in the files, which only --prune deletes. */
  extra: Resource[];
  /** Problems found while planning (a circle of partials, a kind this Herald lacks): nothing is sent. */
  problems: FileProblem[];
}

/** Compares the files with the server: saves in save order, then (with `prune`) deletions in reverse. */
export function planChanges(files: readonly FileResource[], server: ServerResources, prune: boolean): Plan {
  const problems: FileProblem[] = [];
  const ordered = saveOrder(files, (cycle) =>
    problems.push({
      file: cycle[0]!.file,
      line: cycle[0]!.line,
      message: `partials render each other in a circle: ${cycle.map((partial) => partial.id).join(' → ')}`,
    }),
  );
  const changes: Change[] = [];
  for (const resource of ordered) {
    if (server.unsupported.has(resource.kind)) {
      problems.push({
        file: resource.file,
        line: resource.line,
        message: `this Herald has no /v1/${KIND_SPECS[resource.kind].collection} (it is older than this herald command)`,
      });
      continue;
    }
    const current = server.byKind.get(resource.kind)?.get(resource.id);
    const wanted = normalizeResource(resource.kind, resource.id, resource.body);
    if (!current) changes.push({ op: 'create', resource });
    else if (sameBody(current, wanted)) changes.push({ op: 'unchanged', resource });
    else changes.push({ op: 'update', resource, current, wanted });
  }
  const wanted = new Set(files.map((resource) => `${resource.kind} ${resource.id}`));
  const extra = [...server.byKind.values()]
    .flatMap((resources) => [...resources.values()])
    .filter((resource) => !wanted.has(`${resource.kind} ${resource.id}`));
  if (prune) {
    // Workflows go before the layouts and partials they use; a partial before those it renders.
    const deletions = saveOrder(extra, () => {}).reverse();
    changes.push(...deletions.map((current): Change => ({ op: 'delete', current })));
  }
  return { changes, extra, problems };
}
