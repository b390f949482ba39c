import { useId, useState } from 'react';

import { api } from '../lib/api.js';

/** Share the meeting with another registered user as a viewer. */
export function SharePanel({ token, meetingId, onApiError }) {
  const emailId = useId();
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const onSubmit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    setMessage('');
    try {
      await api.shareMeeting(token, meetingId, email.trim());
      setMessage(`Shared with ${email.trim()} (viewer).`);
      setEmail('');
    } catch (err) {
      setError(err.status === 404 ? 'No user with that email address is registered.' : onApiError(err));
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
      {message && <p role="status" data-testid="share-message">{message}</p>}
      {error && <p role="alert" className="error" data-testid="share-error">{error}</p>}
    </section>
  );
}
