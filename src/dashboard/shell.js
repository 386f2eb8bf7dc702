import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { logOut } from './api.js';
import { WorkflowsPage } from './pages/workflows.js';
import { AuditPage } from './pages/audit.js';
import { SubscribersPage } from './pages/subscribers.js';
import { TopicsPage } from './pages/topics.js';
import { UsersPage } from './pages/users.js';
import { MessagesPage } from './pages/messages.js';
import { OverviewPage } from './pages/overview.js';
import { ApiKeysPage } from './pages/api-keys.js';
import { IntegrationsPage } from './pages/integrations.js';
import { MailboxPage } from './pages/mailbox.js';
import { TemplatesPage } from './pages/templates.js';

/**
 * The pages of the dashboard, by path under /dashboard/ (the first segment: a page reads what
 * follows, e.g. messages/msg_…). A page without a component says it is not built yet. Each page
 * is a component of its own module under pages/, given { session, path, navigate }.
 */
const PAGES = [
  { path: '', title: 'Overview', component: OverviewPage },
  { path: 'workflows', title: 'Workflows', component: WorkflowsPage },
  { path: 'templates', title: 'Templates', component: TemplatesPage },
  { path: 'messages', title: 'Messages', component: MessagesPage },
  { path: 'subscribers', title: 'Subscribers', component: SubscribersPage },
  { path: 'topics', title: 'Topics', component: TopicsPage },
  { path: 'integrations', title: 'Integrations', component: IntegrationsPage },
  { path: 'api-keys', title: 'API keys', component: ApiKeysPage },
  { path: 'mailbox', title: 'Dev mailbox', component: MailboxPage },
  { path: 'audit', title: 'Audit log', component: AuditPage },
  { path: 'users', title: 'Users', role: 'owner', component: UsersPage },
];

const currentPath = () => location.pathname.replace(/^\/dashboard\/?/, '').replace(/\/$/, '');
/** The page a path belongs to: its first segment. */
const pageOf = (path) => path.split('/')[0];

function Later({ title }) {
  return html`
    <h1 tabindex="-1">${title}</h1>
    <p>This page is not built yet: it comes in a later release. Until then, the API has it all.</p>
  `;
}

/** The signed-in frame: navigation, who is signed in, logout; the page in the middle. */
export function Shell({ session, onSignedOut }) {
  const [path, setPath] = useState(currentPath);
  const [menuOpen, setMenuOpen] = useState(false);
  const [error, setError] = useState(null);
  const headingRef = useRef(null);
  const pages = PAGES.filter((page) => !page.role || page.role === session.user.role);
  const page = pages.find((candidate) => candidate.path === pageOf(path)) ?? pages[0];

  useEffect(() => {
    const onPop = () => setPath(currentPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    document.title = `${page.title} · Herald`;
  }, [page]);

  const go = (event, target) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    history.pushState(null, '', `/dashboard/${target}`);
    setPath(target);
    setMenuOpen(false);
    // Keyboard and screen-reader users land on the new page's heading.
    queueMicrotask(() => headingRef.current?.querySelector('h1')?.focus());
  };

  const signOut = async (everywhere) => {
    try {
      await logOut(everywhere);
      onSignedOut(everywhere ? 'You are signed out in every browser.' : 'You are signed out.');
    } catch (caught) {
      setError(caught.message);
    }
  };

  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <span class="brand">Herald</span>
      <button
        type="button"
        class="menu-toggle"
        aria-expanded=${menuOpen ? 'true' : 'false'}
        aria-controls="nav"
        onClick=${() => setMenuOpen(!menuOpen)}
      >
        Menu
      </button>
      <div class="account">
        <span class="who"
          ><span class="email">${session.user.email}</span> <span class="role">${session.user.role}</span></span
        >
        <button type="button" onClick=${() => signOut(false)}>Log out</button>
        <button type="button" onClick=${() => signOut(true)}>Log out everywhere</button>
      </div>
    </header>
    <div class="layout">
      <nav id="nav" class=${menuOpen ? 'open' : ''} aria-label="Dashboard">
        <ul>
          ${pages.map(
            (item) => html`
              <li>
                <a
                  href=${`/dashboard/${item.path}`}
                  aria-current=${item === page ? 'page' : undefined}
                  onClick=${(event) => go(event, item.path)}
                  >${item.title}</a
                >
              </li>
            `,
          )}
        </ul>
      </nav>
      <main id="main" ref=${headingRef}>
        ${error ? html`<p class="alert" role="alert">${error}</p>` : null}
        <${page.component ?? Later}
          session=${session}
          title=${page.title}
          path=${path}
          navigate=${(target) => go({ button: 0, preventDefault() {} }, target)}
        />
      </main>
    </div>
  `;
}
