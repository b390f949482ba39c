import { useId, useState } from 'react';

import { useAuth } from '../auth.jsx';
import { usePageTitle } from '../hooks/usePageTitle.js';
import { api } from '../lib/api.js';
import { Link, navigate } from '../lib/router.jsx';

export function RegisterPage() {
  usePageTitle('Register');
  const { login, describeError } = useAuth();
  const ids = { name: useId(), email: useId(), password: useId(), hint: useId() };
  const [form, setForm] = useState({ name: '', email: '', password: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const update = (field) => (e) => setForm((f) => ({ ...f, [field]: e.target.value }));

  const onSubmit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api.register(form.email.trim(), form.password, form.name.trim());
      const session = await api.login(form.email.trim(), form.password);
      login(session.access_token, session.expires_in);
      navigate('/', { replace: true });
    } catch (err) {
      setError(err.status === 409 ? 'An account with this email already exists. Log in instead.' : describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="narrow">
      <h1>Create an account</h1>
      <form onSubmit={onSubmit} className="panel" data-testid="register-form">
        <label htmlFor={ids.name}>Name (optional)</label>
        <input id={ids.name} type="text" autoComplete="name" value={form.name} onChange={update('name')} />
        <label htmlFor={ids.email}>Email</label>
        <input id={ids.email} type="email" autoComplete="email" required value={form.email} onChange={update('email')} />
        <label htmlFor={ids.password}>Password</label>
        <input
          id={ids.password}
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          aria-describedby={ids.hint}
          value={form.password}
          onChange={update('password')}
        />
        <p id={ids.hint} className="hint">
          At least 8 characters.
        </p>
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Creating account…' : 'Register'}
        </button>
        {error && <p role="alert" className="error" data-testid="register-error">{error}</p>}
      </form>
      <p>
        Already registered? <Link to="/login">Log in</Link>
      </p>
    </div>
  );
}
