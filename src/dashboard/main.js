import './styles.css';
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, dashboardState } from './api.js';
import { LoginPage } from './login-page.js';
import { SetupPage } from './setup-page.js';
import { Shell } from './shell.js';

/**
 * The dashboard: first-run setup while Herald has no user, else sign-in, else the shell. What
 * decides is GET /dashboard/api/state, which answers 200 either way (a 401 would be logged in the
 * browser's console on every visit while signed out).
 */
function App() {
  const [view, setView] = useState({ name: 'loading' });

  const start = async (notice) => {
    try {
      const state = await dashboardState();
      if (state.setupRequired) return setView({ name: 'setup' });
      if (!state.signedIn) return setView({ name: 'login', notice });
      setView({ name: 'shell', session: await currentSession() });
    } catch (error) {
      setView({ name: 'failed', message: error.message });
    }
  };
  useEffect(() => void start(), []);

  const signedIn = (session) => setView({ name: 'shell', session });
  const signedOut = (notice) => setView({ name: 'login', notice });

  switch (view.name) {
    case 'setup':
      return html`<${SetupPage} onSignedIn=${signedIn} />`;
    case 'login':
      return html`<${LoginPage} onSignedIn=${signedIn} notice=${view.notice} />`;
    case 'shell':
      return html`<${Shell} session=${view.session} onSignedOut=${signedOut} />`;
    case 'failed':
      return html`<main class="card" id="main">
        <h1>Herald is not answering</h1>
        <p role="alert">${view.message}</p>
      </main>`;
    default:
      return html`<main class="card" id="main" aria-busy="true"><p>Loading…</p></main>`;
  }
}

render(html`<${App} />`, document.getElementById('app'));
