import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { logIn } from './api.js';
import { Field, useSubmit } from './forms.js';

/** Sign in with email and password. */
export function LoginPage({ onSignedIn, notice }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, onSubmit, alert } = useSubmit(async () => {
    try {
      onSignedIn(await logIn(email, password));
    } catch (error) {
      if (error.status === 429 && error.retryAfter) {
        throw new Error(`${error.message} (about ${Math.ceil(error.retryAfter / 60)} min)`);
      }
      throw error;
    }
  });
  return html`
    <main class="card" id="main">
      <h1>Sign in to Herald</h1>
      ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
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
          autocomplete="current-password"
        />
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <p class="hint">
        Forgot your password? An owner can set a new one, or run <code>herald users reset-password</code> on the server.
      </p>
    </main>
  `;
}
