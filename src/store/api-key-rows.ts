import type { ApiKey } from '../core/store.js';

/** The columns an API key is listed with: never its hash. */
export const API_KEY_COLUMNS = 'id, environment_id, name, prefix, created_at, last_used_at';

export interface ApiKeyRow {
  id: string;
  environment_id: string;
  name: string;
  prefix: string | null;
  created_at: number;
  last_used_at: number | null;
}

export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    environmentId: row.environment_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}
