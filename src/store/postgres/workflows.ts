import type pg from 'pg';
import type { WorkflowStore } from '../../core/store.js';
import type { Workflow } from '../../core/types.js';
import {
  consentJson,
  consentOf,
  NUMBERED_VERSION_COLUMNS,
  page,
  toNumberedWorkflowVersion,
  toWorkflow,
  toWorkflowVersion,
  toWorkflowVersionSummary,
  type NumberedWorkflowVersionRow,
  type WorkflowRow,
  type WorkflowVersionRow,
  type WorkflowVersionSummaryRow,
} from '../rows.js';
import { rowQueries } from './connection.js';

/**
 * Workflows and their immutable versions on PostgreSQL. Saves and deletes announce the workflow
 * on `workflowChannel` in their transaction; the assembly (postgres-store.ts) listens.
 */
export function postgresWorkflowMethods(
  pool: pg.Pool,
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
  workflowChannel: string,
): Omit<WorkflowStore, 'onWorkflowChanged'> {
  const { query } = rowQueries(pool);
  /** Tells every process's workflow cache, at commit, that this workflow changed. */
  const announceWorkflow = (client: pg.PoolClient | pg.Pool, env: string, key: string) =>
    client.query('SELECT pg_notify($1, $2)', [workflowChannel, JSON.stringify([env, key])]);

  // Versions are immutable, so their parsed steps (and consent) can be kept: a trigger then reads
  // one small row instead of parsing the templates again.
  type Parsed = Pick<Workflow, 'steps' | 'category' | 'critical' | 'preferences'>;
  const parsedByVersion = new Map<string, Parsed>();
  const versionOf = async (versionId: string): Promise<Parsed> => {
    let parsed = parsedByVersion.get(versionId);
    if (!parsed) {
      const [row] = await query<{ steps: string; consent: string | null }>(
        'SELECT steps, consent FROM workflow_versions WHERE id = $1',
        [versionId],
      );
      parsed = { ...consentOf(row!.consent), steps: JSON.parse(row!.steps) as Workflow['steps'] };
      if (parsedByVersion.size >= 1000) parsedByVersion.delete(parsedByVersion.keys().next().value!);
      parsedByVersion.set(versionId, parsed);
    }
    return parsed;
  };

  return {
    async putWorkflow(env, input, now) {
      return transaction(async (client) => {
        // The next number is one past the highest the key ever had, deleted versions included
        // (workflow_versions_by_key). The upsert takes the workflow's row lock, so concurrent saves
        // get successive numbers: one that waited for the lock reads the row as the other left it
        // (workflows.version), which its statement's snapshot of workflow_versions may not show yet.
        const { rows } = await client.query<{ version: number; created_at: number }>(
          `INSERT INTO workflows (environment_id, key, name, version, version_id, created_at, updated_at)
           VALUES ($1, $2, $3,
             (SELECT COALESCE(MAX(version), 0) + 1 FROM workflow_versions WHERE environment_id = $1 AND key = $2),
             $4, $5, $5)
           ON CONFLICT (environment_id, key) DO UPDATE SET
             name = excluded.name, version = GREATEST(workflows.version + 1, excluded.version),
             version_id = excluded.version_id, updated_at = excluded.updated_at
           RETURNING version, created_at`,
          [env, input.key, input.name, input.versionId, now],
        );
        const { version, created_at: createdAt } = rows[0]!;
        const consent = consentJson(input);
        await client.query(
          `INSERT INTO workflow_versions (id, environment_id, key, name, version, steps, consent, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [input.versionId, env, input.key, input.name, version, JSON.stringify(input.steps), consent, now],
        );
        await announceWorkflow(client, env, input.key);
        return {
          key: input.key,
          name: input.name,
          ...consentOf(consent),
          steps: input.steps,
          version,
          versionId: input.versionId,
          createdAt,
          updatedAt: now,
        };
      });
    },

    async getWorkflow(env, key) {
      const [row] = await query<Omit<WorkflowRow, 'steps' | 'consent'>>(
        `SELECT key, name, version, version_id, created_at, updated_at
         FROM workflows WHERE environment_id = $1 AND key = $2`,
        [env, key],
      );
      if (!row) return undefined;
      return {
        key: row.key,
        name: row.name,
        ...(await versionOf(row.version_id)),
        version: row.version,
        versionId: row.version_id,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      };
    },

    async listWorkflows(env, limit, cursor) {
      const rows = await query<WorkflowRow>(
        `SELECT w.key, w.name, w.version, w.version_id, v.steps, v.consent, w.created_at, w.updated_at
         FROM workflows w JOIN workflow_versions v ON v.id = w.version_id
         WHERE w.environment_id = $1 AND w.key > $2
         ORDER BY w.key LIMIT $3`,
        [env, cursor ?? '', limit + 1],
      );
      return page(rows, limit, toWorkflow, (row) => row.key);
    },

    async deleteWorkflow(env, key) {
      // Versions stay: messages already accepted still render the version they were planned with.
      return transaction(async (client) => {
        const result = await client.query('DELETE FROM workflows WHERE environment_id = $1 AND key = $2', [env, key]);
        await announceWorkflow(client, env, key);
        return (result.rowCount ?? 0) > 0;
      });
    },

    async getWorkflowVersions(versionIds) {
      const rows = await query<WorkflowVersionRow>(
        'SELECT id, key, name, steps, consent FROM workflow_versions WHERE id = ANY($1::text[])',
        [versionIds],
      );
      return rows.map(toWorkflowVersion);
    },

    // Both walk workflow_versions_by_key backwards from the key's highest number.
    async listWorkflowVersions(env, key, limit, cursor) {
      const columns = 'id, version, name, json_array_length(steps::json) AS step_count, created_at';
      const rows =
        cursor === undefined
          ? await query<WorkflowVersionSummaryRow>(
              `SELECT ${columns} FROM workflow_versions WHERE environment_id = $1 AND key = $2
               ORDER BY version DESC, id DESC LIMIT $3`,
              [env, key, limit + 1],
            )
          : await query<WorkflowVersionSummaryRow>(
              `SELECT ${columns} FROM workflow_versions
               WHERE environment_id = $1 AND key = $2
                 AND (version, id) < (SELECT version, id FROM workflow_versions
                                      WHERE id = $4 AND environment_id = $1 AND key = $2)
               ORDER BY version DESC, id DESC LIMIT $3`,
              [env, key, limit + 1, cursor],
            );
      return page(rows, limit, toWorkflowVersionSummary, (row) => row.id);
    },

    async getWorkflowVersionByNumber(env, key, version) {
      const [row] = await query<NumberedWorkflowVersionRow>(
        `SELECT ${NUMBERED_VERSION_COLUMNS} FROM workflow_versions
         WHERE environment_id = $1 AND key = $2 AND version = $3
         ORDER BY id DESC LIMIT 1`,
        [env, key, version],
      );
      return row ? toNumberedWorkflowVersion(row) : undefined;
    },
  };
}
