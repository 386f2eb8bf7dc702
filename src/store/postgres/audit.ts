import type pg from 'pg';
import { firstIdAt } from '../../core/ids.js';
import type { AuditStore } from '../../core/store.js';
import { AUDIT_INSERT_COLUMNS, auditValues, auditWhere, toAuditEvent, type AuditRow } from '../access-rows.js';
import { page } from '../rows.js';

/**
 * The audit log on PostgreSQL: a batch of events is one multi-row insert; lists walk the primary
 * key backwards (or audit_events_by_actor, audit_events_by_actor_email, audit_events_by_action with
 * a filter); retention deletes by id.
 */
export function postgresAuditMethods(pool: pg.Pool): AuditStore {
  return {
    async addAuditEvents(events) {
      if (events.length === 0) return;
      const width = 9;
      const tuples = events.map(
        (_, row) => `(${Array.from({ length: width }, (_, column) => `$${row * width + column + 1}`).join(', ')})`,
      );
      await pool.query(
        `INSERT INTO audit_events (${AUDIT_INSERT_COLUMNS}) VALUES ${tuples.join(', ')}`,
        events.flatMap(auditValues),
      );
    },

    async listAuditEvents(environmentId, filter) {
      const { where, values } = auditWhere(environmentId, filter, (index) => `$${index}`);
      const { rows } = await pool.query<AuditRow>(
        `SELECT * FROM audit_events WHERE ${where} ORDER BY id DESC LIMIT $${values.length + 1}`,
        [...values, filter.limit + 1],
      );
      return page(rows, filter.limit, toAuditEvent, (row) => row.id);
    },

    async pruneAuditEvents(before, limit) {
      const { rowCount } = await pool.query(
        'DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE id < $1 ORDER BY id LIMIT $2)',
        [firstIdAt('aud', before), limit],
      );
      return rowCount ?? 0;
    },
  };
}
