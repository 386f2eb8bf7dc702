import type pg from 'pg';
import type { DeliveryLogStore } from '../../core/store.js';
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
import { rowQueries } from './connection.js';
import { LIST_MESSAGES_SINCE, listMessagesQuery, MESSAGE_LOG_HEAD } from './list-messages.js';
import { pruneMessages } from './prune-messages.js';

/** The delivery log, its retention and the dev mailbox on PostgreSQL; retention is in prune-messages.ts. */
export function postgresDeliveryLogMethods(pool: pg.Pool): DeliveryLogStore {
  const { query, named } = rowQueries(pool);
  return {
    async listMessages(env, filter) {
      const { text, values } = listMessagesQuery(env, filter);
      const rows = await query<MessageRow>(text, values);
      return page(rows, filter.limit, toMessage, (row) => row.id);
    },

    async listMessagesSince(env, since, limit) {
      const rows = await named<MessageRow>('herald_list_messages_since', LIST_MESSAGES_SINCE, [env, since, limit]);
      return logPage(rows, since);
    },

    async messageLogHead(env) {
      const [row] = await named<{ seq: number }>('herald_message_log_head', MESSAGE_LOG_HEAD, [env]);
      return row!.seq;
    },

    async getMessage(env, messageId) {
      const [row] = await query<MessageRow & { content: Buffer | null }>(
        `SELECT ${MESSAGE_COLUMNS}, content FROM messages WHERE id = $1 AND environment_id = $2`,
        [messageId, env],
      );
      if (!row) return undefined;
      const attempts = await query<AttemptRow>(
        `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE message_id = $1 ORDER BY at, seq`,
        [messageId],
      );
      return { ...toMessage(row), attempts: attempts.map(toAttempt), content: unpackContent(row.content) };
    },

    pruneMessages(before, batchSize) {
      return pruneMessages(pool, before, batchSize);
    },

    async addDevMail(mail) {
      await query(
        `INSERT INTO dev_mail (id, environment_id, message_id, sender, recipient, subject, html, text, headers, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        devMailValues(mail),
      );
    },

    async listDevMail(env, limit, cursor) {
      const rows = await query<DevMailRow>(
        'SELECT * FROM dev_mail WHERE environment_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
        [env, cursor ?? '\uffff', limit + 1],
      );
      return page(rows, limit, toDevMail, (row) => row.id);
    },
  };
}
