import type { Statement } from 'better-sqlite3';
import type { WorkflowStore } from '../../core/store.js';
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
import type { SqliteWriter } from './sqlite-writer.js';

/** Workflows and their immutable versions on SQLite. */
export function sqliteWorkflowMethods(
  prepared: (sql: string) => Statement,
  writer: SqliteWriter,
): Omit<WorkflowStore, 'onWorkflowChanged'> {
  return {
    async putWorkflow(env, input, now) {
      return writer.run(() => {
        const current = prepared('SELECT created_at FROM workflows WHERE environment_id = ? AND key = ?').get(
          env,
          input.key,
        ) as { created_at: number } | undefined;
        // The highest number the key ever had, deleted versions included (workflow_versions_by_key).
        const { highest } = prepared(
          'SELECT MAX(version) AS highest FROM workflow_versions WHERE environment_id = ? AND key = ?',
        ).get(env, input.key) as { highest: number | null };
        const version = (highest ?? 0) + 1;
        const consent = consentJson(input);
        prepared(`
          INSERT INTO workflow_versions (id, environment_id, key, name, version, steps, consent, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
          input.versionId,
          env,
          input.key,
          input.name,
          version,
          JSON.stringify(input.steps),
          consent,
          now,
        );
        prepared(`
          INSERT INTO workflows (environment_id, key, name, version, version_id, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (environment_id, key) DO UPDATE SET
            name = excluded.name, version = excluded.version, version_id = excluded.version_id,
            updated_at = excluded.updated_at`).run(env, input.key, input.name, version, input.versionId, now, now);
        return {
          key: input.key,
          name: input.name,
          ...consentOf(consent),
          steps: input.steps,
          version,
          versionId: input.versionId,
          createdAt: current?.created_at ?? now,
          updatedAt: now,
        };
      });
    },

    // Hot reads by key are cached in front of the store (cached-workflows.ts), so this stays plain.
    async getWorkflow(env, key) {
      const row = prepared(`
        SELECT w.key, w.name, w.version, w.version_id, v.steps, v.consent, w.created_at, w.updated_at
        FROM workflows w JOIN workflow_versions v ON v.id = w.version_id
        WHERE w.environment_id = ? AND w.key = ?`).get(env, key) as WorkflowRow | undefined;
      return row ? toWorkflow(row) : undefined;
    },

    async listWorkflows(env, limit, cursor) {
      const rows = prepared(`
        SELECT w.key, w.name, w.version, w.version_id, v.steps, v.consent, w.created_at, w.updated_at
        FROM workflows w JOIN workflow_versions v ON v.id = w.version_id
        WHERE w.environment_id = ? AND w.key > ?
        ORDER BY w.key LIMIT ?`).all(env, cursor ?? '', limit + 1) as WorkflowRow[];
      return page(rows, limit, toWorkflow, (row) => row.key);
    },

    async deleteWorkflow(env, key) {
      // Versions stay: messages already accepted still render the version they were planned with.
      return writer.run(
        () => prepared('DELETE FROM workflows WHERE environment_id = ? AND key = ?').run(env, key).changes > 0,
      );
    },

    async getWorkflowVersions(versionIds) {
      const rows = prepared(`
        SELECT id, key, name, steps, consent FROM workflow_versions WHERE id IN (SELECT value FROM json_each(?))`).all(
        JSON.stringify(versionIds),
      ) as WorkflowVersionRow[];
      return rows.map(toWorkflowVersion);
    },

    // Both walk workflow_versions_by_key backwards from the key's highest number.
    async listWorkflowVersions(env, key, limit, cursor) {
      const after =
        cursor === undefined
          ? ''
          : `AND (version, id) < (SELECT version, id FROM workflow_versions
               WHERE id = @cursor AND environment_id = @env AND key = @key)`;
      const rows = prepared(`
        SELECT id, version, name, json_array_length(steps) AS step_count, created_at
        FROM workflow_versions
        WHERE environment_id = @env AND key = @key ${after}
        ORDER BY version DESC, id DESC LIMIT @limit`).all({
        env,
        key,
        limit: limit + 1,
        ...(cursor !== undefined && { cursor }),
      }) as WorkflowVersionSummaryRow[];
      return page(rows, limit, toWorkflowVersionSummary, (row) => row.id);
    },

    async getWorkflowVersionByNumber(env, key, version) {
      const row = prepared(`
        SELECT ${NUMBERED_VERSION_COLUMNS} FROM workflow_versions
        WHERE environment_id = ? AND key = ? AND version = ?
        ORDER BY id DESC LIMIT 1`).get(env, key, version) as NumberedWorkflowVersionRow | undefined;
      return row ? toNumberedWorkflowVersion(row) : undefined;
    },
  };
}
