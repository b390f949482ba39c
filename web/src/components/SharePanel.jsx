import { useCallback, useEffect, useId, useState } from 'react';

import { api } from '../lib/api.js';

/**
 * Share the meeting with another registered user as a viewer, see who has access, and remove
 * people (owner only: their open connections to the meeting are closed by the server).
 */
export function SharePanel({ token, meetingId, onApiError }) {
  const emailId = useId();
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [members, setMembers] = useState([]);

  const refresh = useCallback(async () => {
    try {
      setMembers(await api.listMembers(token, meetingId));
    } catch (err) {
      setError(onApiError(err));
    }
  }, [token, meetingId, onApiError]);

  useEffect(() => {
    let cancelled = false;
    api
      .listMembers(token, meetingId)
      .then((list) => !cancelled && setMembers(list))
      .catch((err) => !cancelled && setError(onApiError(err)));
    return () => {
      cancelled = true;
    };
  }, [token, meetingId, onApiError]);

  const onSubmit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    setMessage('');
    try {
      await api.shareMeeting(token, meetingId, email.trim());
      setMessage(`Shared with ${email.trim()} (viewer).`);
      setEmail('');
      await refresh();
    } catch (err) {
      setError(err.status === 404 ? 'No user with that email address is registered.' : onApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const onRemove = async (member) => {
    setBusy(true);
    setError('');
    setMessage('');
    try {
      await api.removeMember(token, meetingId, member.user_id);
      setMessage(`${member.email} no longer has access.`);
      await refresh();
    } catch (err) {
      setError(onApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="share-heading">
      <h2 id="share-heading">Share</h2>
      <form onSubmit={onSubmit}>
        <label htmlFor={emailId}>Email of the person to share with</label>
        <input
          id={emailId}
          type="email"
          required
          autoComplete="off"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          data-testid="share-email"
        />
        <button type="submit" className="button" disabled={busy} data-testid="share-submit">
          Share as viewer
        </button>
      </form>
      {members.length > 1 && (
        <ul className="member-list" aria-label="People with access" data-testid="member-list">
          {members
            .filter((m) => m.role !== 'owner')
            .map((m) => (
              <li key={m.user_id}>
                <span>
                  {m.email} ({m.role})
                </span>{' '}
                <button
                  type="button"
                  className="button button--secondary button--small"
                  onClick={() => onRemove(m)}
                  disabled={busy}
                  aria-label={`Remove ${m.email}`}
                  data-testid="member-remove"
                >
                  Remove
                </button>
              </li>
            ))}
        </ul>
      )}
      {message && <p role="status" data-testid="share-message">{message}</p>}
      {error && <p role="alert" className="error" data-testid="share-error">{error}</p>}
    </section>
  );
}
