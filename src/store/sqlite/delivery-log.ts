import type { Database, Statement } from 'better-sqlite3';
import type { DeliveryLogStore } from '../../core/store.js';
import type { DevMail } from '../../core/types.js';
import { unpackContent } from '../content.js';
import {
  ATTEMPT_COLUMNS,
  devMailValues,
  logPage,
  MESSAGE_COLUMNS,
  page,
  toAttempt,
  toDevMail,
  toMessage,
  type AttemptRow,
  type DevMailRow,
  type MessageRow,
} from '../rows.js';
import { listMessagesParams, listMessagesSql } from './list-messages.js';
import { preparePruneMessages } from './prune-messages.js';
import type { SqliteWriter } from './sqlite-writer.js';

/** The delivery log, its retention and the dev mailbox on SQLite; retention is in prune-messages.ts. */
export function sqliteDeliveryLogMethods(
  db: Database,
  prepared: (sql: string) => Statement,
  writer: SqliteWriter,
): DeliveryLogStore {
  const pruneMessages = preparePruneMessages(db);
  return {
    async listMessages(env, filter) {
      const rows = prepared(listMessagesSql(filter)).all(listMessagesParams(env, filter)) as MessageRow[];
      return page(rows, filter.limit, toMessage, (row) => row.id);
    },

    async listMessagesSince(env, since, limit) {
      // messages_by_seq, walked forward from (environment, since).
      const rows = prepared(`
        SELECT ${MESSAGE_COLUMNS} FROM messages WHERE environment_id = ? AND seq > ? ORDER BY seq LIMIT ?`).all(
        env,
        since,
        limit,
      ) as MessageRow[];
      return logPage(rows, since);
    },

    async messageLogHead(env) {
      // One step on messages_by_seq.
      return prepared('SELECT COALESCE(MAX(seq), 0) FROM messages WHERE environment_id = ?').pluck().get(env) as number;
    },

    async getMessage(env, messageId) {
      const row = prepared(`SELECT ${MESSAGE_COLUMNS}, content FROM messages WHERE id = ? AND environment_id = ?`).get(
        messageId,
        env,
      ) as (MessageRow & { content: Buffer | null }) | undefined;
      if (!row) return undefined;
      const attempts = prepared(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE message_id = ? ORDER BY at, rowid`).all(
        messageId,
      ) as AttemptRow[];
      return { ...toMessage(row), attempts: attempts.map(toAttempt), content: unpackContent(row.content) };
    },

    pruneMessages(before, batchSize) {
      return writer.run(() => pruneMessages(before, batchSize));
    },

    async addDevMail(mail: DevMail) {
      await writer.run(() =>
        prepared(`
          INSERT INTO dev_mail (id, environment_id, message_id, sender, recipient, subject, html, text, headers, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...devMailValues(mail)),
      );
    },

    async listDevMail(env, limit, cursor) {
      const rows = prepared(`
        SELECT * FROM dev_mail WHERE environment_id = ? AND id < ? ORDER BY id DESC LIMIT ?`).all(
        env,
        cursor ?? '\uffff',
        limit + 1,
      ) as DevMailRow[];
      return page(rows, limit, toDevMail, (row) => row.id);
    },
  };
}
