import { useId, useState } from 'react';

import { useAuth } from '../auth.jsx';
import { usePageTitle } from '../hooks/usePageTitle.js';
import { api } from '../lib/api.js';
import { Link, navigate, safeNextPath } from '../lib/router.jsx';

export function LoginPage() {
  usePageTitle('Log in');
  const { login, describeError } = useAuth();
  const ids = { email: useId(), password: useId() };
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  const onSubmit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const result = await api.login(email.trim(), password);
      login(result.access_token, result.expires_in);
      navigate(safeNextPath(window.location.search), { replace: true });
    } catch (err) {
      setError(err.status === 401 ? 'Wrong email or password.' : describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="narrow">
      <h1>Log in</h1>
      <form onSubmit={onSubmit} className="panel" data-testid="login-form">
        <label htmlFor={ids.email}>Email</label>
        <input id={ids.email} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <label htmlFor={ids.password}>Password</label>
        <input id={ids.password} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        {error && <p role="alert" className="error" data-testid="login-error">{error}</p>}
      </form>
      <p>
        No account yet? <Link to="/register">Register</Link>
      </p>
    </div>
  );
}
