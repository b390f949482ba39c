import { useEffect } from 'react';

import { AuthProvider, useAuth } from './auth.jsx';
import { LiveMeeting } from './pages/LiveMeeting.jsx';
import { LoginPage } from './pages/LoginPage.jsx';
import { MeetingsPage } from './pages/MeetingsPage.jsx';
import { NotFoundPage } from './pages/NotFoundPage.jsx';
import { RegisterPage } from './pages/RegisterPage.jsx';
import { Link, matchPath, navigate, usePath } from './lib/router.jsx';

const PUBLIC_PATHS = ['/login', '/register'];

/** The login page, remembering a deep link (not the home page) to return to afterwards. */
function loginPathFor(path) {
  return path === '/' || path === '/meetings' ? '/login' : `/login?next=${encodeURIComponent(path)}`;
}

function Routes({ path }) {
  const { token } = useAuth();
  const isPublic = PUBLIC_PATHS.includes(path);

  // Redirects replace the history entry, so Back never returns to a page that redirects again.
  useEffect(() => {
    if (!token && !isPublic) navigate(loginPathFor(path), { replace: true });
    if (token && isPublic) navigate('/', { replace: true });
  }, [token, isPublic, path]);

  if (path === '/login') return <LoginPage />;
  if (path === '/register') return <RegisterPage />;
  if (!token) return null; // redirecting to /login
  if (path === '/' || path === '/meetings') return <MeetingsPage />;
  const meeting = matchPath('/meetings/:id', path);
  // key: a different meeting gets a fresh view and socket instead of merged state
  if (meeting) return <LiveMeeting key={meeting.id} meetingId={meeting.id} />;
  return <NotFoundPage />;
}

function Header() {
  const { token, user, logout } = useAuth();
  return (
    <header className="site-header">
      <Link to="/" className="site-header__brand">
        meetingserve
      </Link>
      {token && (
        <div className="site-header__user">
          <span data-testid="current-user">{user ? user.name || user.email : ''}</span>
          <button type="button" className="button button--secondary button--small" onClick={logout}>
            Log out
          </button>
        </div>
      )}
    </header>
  );
}

export default function App() {
  const path = usePath();
  return (
    <AuthProvider>
      <a href="#main" className="skip-link">
        Skip to main content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Routes path={path} />
      </main>
    </AuthProvider>
  );
}
