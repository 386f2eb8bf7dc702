import type { Statement } from 'better-sqlite3';
import { firstIdAt } from '../../core/ids.js';
import type { AuditStore } from '../../core/store.js';
import { AUDIT_INSERT_COLUMNS, auditValues, auditWhere, toAuditEvent, type AuditRow } from '../access-rows.js';
import { page } from '../rows.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * The audit log on SQLite: lists walk the primary key backwards (or audit_events_by_actor,
 * audit_events_by_actor_email, audit_events_by_action with a filter); retention deletes by id.
 */
export function sqliteAuditMethods(prepared: (sql: string) => Statement, writer: SqliteWriter): AuditStore {
  return {
    async addAuditEvents(events) {
      if (events.length === 0) return;
      const insert = prepared(`INSERT INTO audit_events (${AUDIT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      await writer.run(() => {
        for (const event of events) insert.run(...auditValues(event));
      });
    },

    async listAuditEvents(environmentId, filter) {
      const { where, values } = auditWhere(environmentId, filter, () => '?');
      const rows = prepared(`SELECT * FROM audit_events WHERE ${where} ORDER BY id DESC LIMIT ?`).all(
        ...values,
        filter.limit + 1,
      ) as AuditRow[];
      return page(rows, filter.limit, toAuditEvent, (row) => row.id);
    },

    pruneAuditEvents(before, limit) {
      return writer.run(
        () =>
          prepared(
            'DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE id < ? ORDER BY id LIMIT ?)',
          ).run(firstIdAt('aud', before), limit).changes,
      );
    },
  };
}
