import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { setUp } from './api.js';
import { Field, useSubmit } from './forms.js';

const MIN_PASSWORD = 12;

/** First run: no user exists yet; the one created here is the owner. */
export function SetupPage({ onSignedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const { busy, onSubmit, alert } = useSubmit(async () => {
    if (password.length < MIN_PASSWORD) throw new Error(`The password needs at least ${MIN_PASSWORD} characters.`);
    if (password !== repeat) throw new Error('The two passwords differ.');
    onSignedIn(await setUp(email, password));
  });
  return html`
    <main class="card" id="main">
      <h1>Welcome to Herald</h1>
      <p>
        No one can sign in yet. Create the first account: it becomes the <strong>owner</strong>, who can add admins and
        viewers later.
      </p>
      <form onSubmit=${onSubmit}>
        ${alert}
        <${Field}
          id="email"
          label="Email"
          type="email"
          value=${email}
          onInput=${setEmail}
          autocomplete="username"
          autofocus
        />
        <${Field}
          id="password"
          label="Password"
          type="password"
          value=${password}
          onInput=${setPassword}
          autocomplete="new-password"
          minLength=${MIN_PASSWORD}
          hint=${`At least ${MIN_PASSWORD} characters; a passphrase is best.`}
        />
        <${Field}
          id="repeat"
          label="Password again"
          type="password"
          value=${repeat}
          onInput=${setRepeat}
          autocomplete="new-password"
          minLength=${MIN_PASSWORD}
        />
        <button type="submit" class="primary" disabled=${busy}>
          ${busy ? 'Creating…' : 'Create the owner account'}
        </button>
      </form>
    </main>
  `;
}
