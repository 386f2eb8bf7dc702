import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import type { Store } from '../../../src/core/store.js';
import { T0, type OpenStore } from './fixtures.js';

let added = 0;
/** A user created a millisecond after the one before (users are listed by creation). */
function addUser(store: Store, email: string, role: 'owner' | 'admin' | 'viewer', options = { firstOnly: false }) {
  const now = T0 + added++;
  return store.createUser({ id: newId('usr', now), email, role, passwordHash: `hash-of-${email}`, now }, options);
}

const session = (id: string, userId: string, at = T0) => ({
  id,
  userId,
  createdAt: at,
  lastSeenAt: at,
  expiresAt: at + 3_600_000,
  csrfToken: `csrf-${id}`,
});

/** Dashboard users, sessions and failed logins (AccessStore). */
export function describeAccessContract(name: string, open: OpenStore) {
  describe(`${name} store: users, sessions, failed logins`, () => {
    it('adds users once per email, the first only while there is none', async () => {
      const { store, close } = await open();
      expect(await store.countUsers()).toBe(0);
      const first = await addUser(store, 'ann@example.com', 'owner', { firstOnly: true });
      expect(first).toEqual({
        status: 'created',
        user: {
          id: expect.stringMatching(/^usr_/),
          email: 'ann@example.com',
          role: 'owner',
          createdAt: expect.any(Number),
          updatedAt: expect.any(Number),
          disabledAt: null,
        },
      });
      expect(await addUser(store, 'bob@example.com', 'owner', { firstOnly: true })).toEqual({ status: 'users_exist' });
      expect(await addUser(store, 'ann@example.com', 'viewer')).toEqual({ status: 'email_taken' });
      const bob = await addUser(store, 'bob@example.com', 'viewer');
      expect(await store.countUsers()).toBe(2);
      expect((await store.listUsers()).map((user) => user.email)).toEqual(['ann@example.com', 'bob@example.com']);
      expect(await store.findUserByEmail('ann@example.com')).toMatchObject({
        role: 'owner',
        passwordHash: 'hash-of-ann@example.com',
      });
      expect(await store.getUser(bob.status === 'created' ? bob.user.id : '')).toMatchObject({
        email: 'bob@example.com',
      });
      expect(await store.findUserByEmail('nobody@example.com')).toBeUndefined();
      await close();
    });

    it('keeps an enabled owner through updates and deletes', async () => {
      const { store, close } = await open();
      const ann = (await addUser(store, 'ann@example.com', 'owner')) as { user: { id: string } };
      const bob = (await addUser(store, 'bob@example.com', 'admin')) as { user: { id: string } };
      expect(await store.updateUser(ann.user.id, { role: 'admin' }, T0 + 1)).toEqual({ status: 'last_owner' });
      expect(await store.updateUser(ann.user.id, { disabled: true }, T0 + 1)).toEqual({ status: 'last_owner' });
      expect(await store.deleteUser(ann.user.id)).toBe('last_owner');
      expect(await store.updateUser(bob.user.id, { email: 'ann@example.com' }, T0 + 1)).toEqual({
        status: 'email_taken',
      });
      expect(await store.updateUser('usr_none', { role: 'admin' }, T0 + 1)).toEqual({ status: 'not_found' });
      const promoted = await store.updateUser(bob.user.id, { role: 'owner' }, T0 + 2);
      expect(promoted).toMatchObject({ status: 'updated', user: { role: 'owner', updatedAt: T0 + 2 } });
      expect(await store.updateUser(ann.user.id, { disabled: true }, T0 + 3)).toMatchObject({
        user: { disabledAt: T0 + 3 },
      });
      expect(await store.deleteUser(bob.user.id)).toBe('last_owner'); // ann is disabled
      expect(await store.updateUser(ann.user.id, { disabled: false }, T0 + 4)).toMatchObject({
        user: { disabledAt: null },
      });
      expect(await store.deleteUser(bob.user.id)).toBe('deleted');
      expect(await store.deleteUser(bob.user.id)).toBe('not_found');
      await close();
    });

    it('finds live sessions with their user; a new password, disabling or deleting ends them', async () => {
      const { store, close } = await open();
      const ann = (await addUser(store, 'ann@example.com', 'owner')) as { user: { id: string } };
      const bob = (await addUser(store, 'bob@example.com', 'admin')) as { user: { id: string } };
      await store.createSession(session('s1', ann.user.id));
      await store.createSession(session('s2', bob.user.id));
      await store.createSession(session('s3', bob.user.id));
      expect(await store.findSession('s1')).toEqual({
        session: session('s1', ann.user.id),
        user: expect.objectContaining({ id: ann.user.id, email: 'ann@example.com', role: 'owner' }),
      });
      await store.touchSession('s1', T0 + 60_000);
      await store.touchSession('s1', T0 + 30_000); // never back
      expect((await store.findSession('s1'))!.session.lastSeenAt).toBe(T0 + 60_000);
      await store.updateUser(bob.user.id, { passwordHash: 'new' }, T0 + 1);
      expect(await store.findSession('s2')).toBeUndefined();
      await store.createSession(session('s4', bob.user.id));
      await store.updateUser(bob.user.id, { disabled: true }, T0 + 2);
      expect(await store.findSession('s4')).toBeUndefined();
      await store.updateUser(bob.user.id, { disabled: false }, T0 + 3);
      await store.createSession(session('s5', bob.user.id));
      await store.createSession(session('s6', bob.user.id));
      expect(await store.deleteUserSessions(bob.user.id)).toBe(2);
      await store.createSession(session('s7', bob.user.id));
      await store.deleteUser(bob.user.id);
      expect(await store.findSession('s7')).toBeUndefined();
      await store.deleteSession('s1');
      expect(await store.findSession('s1')).toBeUndefined();
      await close();
    });

    it('prunes sessions past their absolute expiry or idle too long', async () => {
      const { store, close } = await open();
      const ann = (await addUser(store, 'ann@example.com', 'owner')) as { user: { id: string } };
      await store.createSession({ ...session('expired', ann.user.id), expiresAt: T0 + 10 });
      await store.createSession({ ...session('idle', ann.user.id), lastSeenAt: T0 - 100 });
      await store.createSession(session('live', ann.user.id));
      expect(await store.pruneSessions(T0 + 10, T0 - 50)).toBe(2);
      expect(await store.findSession('live')).toBeDefined();
      await close();
    });

    it('counts failed logins per email and per address within a window', async () => {
      const { store, close } = await open();
      for (const [email, address, at] of [
        ['a@x', '10.0.0.1', T0],
        ['a@x', '10.0.0.2', T0 + 10],
        ['b@x', '10.0.0.1', T0 + 20],
        ['a@x', '10.0.0.1', T0 - 1000],
      ] as const) {
        await store.recordLoginFailure({ email, address, at });
      }
      expect(await store.countLoginFailures({ email: 'a@x', address: '10.0.0.1', since: T0 - 1 })).toEqual({
        email: { count: 2, oldestAt: T0 },
        address: { count: 2, oldestAt: T0 },
      });
      expect(await store.countLoginFailures({ email: 'c@x', address: '10.0.0.9', since: T0 - 1 })).toEqual({
        email: { count: 0, oldestAt: null },
        address: { count: 0, oldestAt: null },
      });
      await store.clearLoginFailures('a@x');
      expect((await store.countLoginFailures({ email: 'a@x', address: '10.0.0.1', since: 0 })).email.count).toBe(0);
      expect(await store.pruneLoginFailures(T0 + 20)).toBe(1);
      await close();
    });
  });
}
