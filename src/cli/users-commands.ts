import { Command, InvalidArgumentError, Option } from 'commander';
import type { AuditEvent } from '../core/audit.js';
import { newId } from '../core/ids.js';
import { generatePassword, MIN_PASSWORD_LENGTH } from '../core/passwords.js';
import type { Store, User } from '../core/store.js';
import { createUser, emailProblem, normalizeEmail, resetPassword, ROLES, type Role } from '../core/users.js';
import type { KeysCommandHelpers } from './keys-commands.js';

function parseEmail(value: string): string {
  const email = normalizeEmail(value);
  const problem = emailProblem(email);
  if (problem) throw new InvalidArgumentError(`must be ${problem}`);
  return email;
}

const time = (at: number | null) => (at === null ? '-' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** Users as an aligned table, oldest first. */
export function formatUserTable(users: readonly User[]): string {
  const rows = [
    ['ID', 'EMAIL', 'ROLE', 'CREATED', 'DISABLED'],
    ...users.map((user) => [user.id, user.email, user.role, time(user.createdAt), time(user.disabledAt)]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

/** All of stdin, less one final line break (`echo secret | herald users create … --password-stdin`). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Reads a line from the terminal without showing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let answer = '';
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (text: string) => {
      for (const char of text) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new Error('canceled'));
        if (char === '\u007f' || char === '\b') answer = answer.slice(0, -1);
        else answer += char;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * The password for `users create` and `users reset-password`: from stdin with --password-stdin,
 * typed twice at a terminal, else generated (and then shown once).
 */
async function choosePassword(fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (fromStdin) return { password: await readStdin(), generated: false };
  if (process.stdin.isTTY) {
    const password = await promptHidden(`password (at least ${MIN_PASSWORD_LENGTH} characters): `);
    if ((await promptHidden('the same password again: ')) !== password) throw new Error('the two passwords differ');
    return { password, generated: false };
  }
  return { password: generatePassword(), generated: true };
}

function cliEvent(action: string, user: User, status: number): AuditEvent {
  const at = Date.now();
  return {
    id: newId('aud', at),
    environmentId: null,
    at,
    actor: { type: 'cli' },
    action,
    target: { id: user.id },
    status,
  };
}

/**
 * `herald users create | list | reset-password`: the dashboard's users, on the database
 * `--data-dir`/`--database` name (users are instance-wide). Changes are written to the audit log
 * as the `cli` actor. A new password ends every session of the user at once, in every process.
 */
export function addUsersCommands(program: Command, helpers: KeysCommandHelpers): void {
  const users = program.command('users').description('manage dashboard users (create, list, reset-password)');
  const withStore = async <T>(options: { dataDir?: string; database?: string }, use: (store: Store) => Promise<T>) => {
    // Only the database settings: these commands' own --role is not serve's --role.
    const settings = helpers.configFrom({ dataDir: options.dataDir, database: options.database });
    const store = await helpers.openStore({ ...settings, dbPool: 1 });
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  };
  const passwordStdin = new Option(
    '--password-stdin',
    'read the password from stdin; without it, a terminal asks for it, else one is generated and printed once',
  );

  helpers
    .addSettings(
      users
        .command('create')
        .description('add a user who may sign in to the dashboard')
        .requiredOption('--email <email>', 'their email, which they sign in with', parseEmail)
        .addOption(
          new Option('--role <role>', 'owner: everything; admin: all but users; viewer: reads only')
            .choices(ROLES)
            .makeOptionMandatory(),
        )
        .addOption(passwordStdin),
      ['data-dir', 'database'],
    )
    .action(
      async (options: { email: string; role: Role; passwordStdin?: boolean; dataDir?: string; database?: string }) => {
        const { password, generated } = await choosePassword(options.passwordStdin === true);
        const user = await withStore(options, async (store) => {
          const created = await createUser(store, {
            email: options.email,
            role: options.role,
            password,
            now: Date.now(),
          });
          await store.addAuditEvents([cliEvent('herald users create', created, 201)]);
          return created;
        });
        if (generated) process.stdout.write(password + '\n');
        process.stderr.write(
          `created ${user.role} ${user.email} (${user.id})${generated ? ': the password above is shown once' : ''}\n`,
        );
      },
    );

  helpers
    .addSettings(users.command('list').description('list the users, oldest first'), ['data-dir', 'database'])
    .action(async (options: Record<string, string | undefined>) => {
      const list = await withStore(options, (store) => store.listUsers());
      process.stdout.write(
        (list.length ? formatUserTable(list) : 'no users yet: `herald users create` adds one') + '\n',
      );
    });

  helpers
    .addSettings(
      users
        .command('reset-password')
        .description("set a user's password and end every session they have")
        .requiredOption('--email <email>', 'whose password', parseEmail)
        .addOption(passwordStdin),
      ['data-dir', 'database'],
    )
    .action(async (options: { email: string; passwordStdin?: boolean; dataDir?: string; database?: string }) => {
      const { password, generated } = await choosePassword(options.passwordStdin === true);
      const user = await withStore(options, async (store) => {
        const found = await store.findUserByEmail(options.email);
        if (!found) throw new Error(`no user has the email ${options.email}; \`herald users list\` shows them`);
        const changed = await resetPassword(store, { id: found.id, password, now: Date.now() });
        await store.addAuditEvents([cliEvent('herald users reset-password', changed, 200)]);
        return changed;
      });
      if (generated) process.stdout.write(password + '\n');
      process.stderr.write(
        `set a new password for ${user.email}${generated ? ' (above, shown once)' : ''}; their sessions have ended\n`,
      );
    });
}
