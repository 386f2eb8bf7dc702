import { expect } from 'vitest';
import type { ApiResponse } from './herald.js';

/** Asserts an RFC 9457 problem+json answer with Herald's fields, and optionally its status and code. */
export function expectProblem(res: ApiResponse, status?: number, code?: string): void {
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status: res.status,
    detail: expect.any(String),
    code: expect.any(String),
  });
  if (status !== undefined) expect(res.status).toBe(status);
  if (code !== undefined) expect(res.body.code).toBe(code);
}
