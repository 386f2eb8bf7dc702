import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { useSubmit } from '../forms.js';
import { createUser, deleteUser, listUsers, updateUser } from '../people-api.js';
import { Pending, useLoad, when } from './page-parts.js';

const ROLES = ['owner', 'admin', 'viewer'];

/** A password of 20 random characters from the browser's CSPRNG (about 119 bits). */
function generatePassword() {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = window.crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
}

/** A password shown once: the user's owner passes it on; Herald keeps only its hash. */
function OneTimePassword({ shown, onDone }) {
  return html`
    <div class="notice people-once" role="status">
      <p>
        The password of <strong>${shown.email}</strong> is <code class="people-secret">${shown.password}</code>. It is
        shown only now: pass it on, then close this.
      </p>
      <button type="button" onClick=${onDone}>Done</button>
    </div>
  `;
}

function AddUser({ onAdded }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const [password, setPassword] = useState('');
  const { busy, onSubmit, alert } = useSubmit(async () => {
    const initial = password || generatePassword();
    const user = await createUser({ email, role, password: initial });
    onAdded(user, password ? null : initial);
    setEmail('');
    setPassword('');
  });
  return html`
    <form class="people-form card" onSubmit=${onSubmit} aria-labelledby="add-user">
      <h2 id="add-user">Add a user</h2>
      ${alert}
      <div class="field">
        <label for="user-email">Email</label>
        <input id="user-email" type="email" value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} required />
      </div>
      <div class="field">
        <label for="user-role">Role</label>
        <select id="user-role" value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
          ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="user-password">Password</label>
        <input
          id="user-password"
          type="password"
          autocomplete="new-password"
          minlength="12"
          value=${password}
          aria-describedby="user-password-hint"
          onInput=${(e) => setPassword(e.currentTarget.value)}
        />
        <p class="hint" id="user-password-hint">At least 12 characters; left empty, one is generated and shown once.</p>
      </div>
      <button type="submit" class="primary" disabled=${busy}>Add user</button>
    </form>
  `;
}

function UserRow({ user, self, onChanged, onPassword }) {
  const [role, setRole] = useState(user.role);
  const [confirming, setConfirming] = useState(false);
  const { busy, onSubmit, alert, setError } = useSubmit(async () => {
    onChanged(await updateUser(user.id, { role }));
  });
  const act = async (work) => {
    setError(null);
    try {
      await work();
    } catch (caught) {
      setError(caught.message);
    }
  };
  const resetPassword = () =>
    act(async () => {
      const password = generatePassword();
      onChanged(await updateUser(user.id, { password }));
      onPassword({ email: user.email, password });
    });
  const toggle = () => act(async () => onChanged(await updateUser(user.id, { disabled: user.disabledAt === null })));
  const remove = () =>
    act(async () => {
      await deleteUser(user.id);
      onChanged(null);
    });
  return html`
    <li class="people-user card">
      <p class="people-user-head">
        <strong>${user.email}</strong>${self ? ' (you)' : ''}
        <span class="role">${user.role}</span>
        ${user.disabledAt !== null ? html`<span class="people-badge">disabled since ${when(user.disabledAt)}</span>` : null}
      </p>
      ${alert}
      <form class="people-inline" onSubmit=${onSubmit}>
        <label for=${`role-${user.id}`}>Role of ${user.email}</label>
        <select id=${`role-${user.id}`} value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
          ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
        </select>
        <button type="submit" disabled=${busy || role === user.role}>Change role</button>
      </form>
      <div class="people-actions">
        <button type="button" onClick=${toggle}>${user.disabledAt === null ? 'Disable' : 'Enable'}</button>
        <button type="button" onClick=${resetPassword} aria-describedby=${self ? 'reset-self-hint' : undefined}>
          Reset password
        </button>
        ${
          confirming
            ? html`<span class="people-confirm">
                Delete ${user.email}?
                <button type="button" class="danger" onClick=${remove}>Yes, delete</button>
                <button type="button" onClick=${() => setConfirming(false)}>Keep</button>
              </span>`
            : html`<button type="button" onClick=${() => setConfirming(true)}>Delete…</button>`
        }
      </div>
      ${
        self
          ? html`<p class="hint" id="reset-self-hint">Disabling yourself or a new password ends your own sessions.</p>`
          : null
      }
    </li>
  `;
}

/** Dashboard users (owners only): add, change role, disable, reset password, delete (/v1/users). */
export function UsersPage({ session, title }) {
  const result = useLoad(() => listUsers(), []);
  const [shown, setShown] = useState(null);
  const added = (user, password) => {
    if (password) setShown({ email: user.email, password });
    result.reload();
  };
  return html`
    <h1 tabindex="-1">${title}</h1>
    <p class="hint">
      Users are the people of the whole instance. The instance always keeps an enabled owner: Herald refuses to demote,
      disable or delete the last one.
    </p>
    ${shown ? html`<${OneTimePassword} shown=${shown} onDone=${() => setShown(null)} />` : null}
    ${
      result.state !== 'ready'
        ? html`<${Pending} result=${result} what="users" />`
        : html`<ul class="people-users" aria-label="Users">
            ${result.data.items.map(
              (user) =>
                html`<${UserRow}
                  key=${`${user.id}-${user.updatedAt}`}
                  user=${user}
                  self=${user.id === session.user.id}
                  onChanged=${() => result.reload()}
                  onPassword=${setShown}
                />`,
            )}
          </ul>`
    }
    <${AddUser} onAdded=${added} />
  `;
}
