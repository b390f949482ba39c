import { useEffect, useId, useState } from 'react';

import { useAuth } from '../auth.jsx';
import { usePageTitle } from '../hooks/usePageTitle.js';
import { api } from '../lib/api.js';
import { formatDate } from '../lib/format.js';
import { Link, navigate } from '../lib/router.jsx';

function CreateMeetingForm({ token, describeError }) {
  const titleId = useId();
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  const onSubmit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const meeting = await api.createMeeting(token, title.trim());
      navigate(`/meetings/${encodeURIComponent(meeting.id)}`);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <form onSubmit={onSubmit} className="panel" aria-labelledby="create-heading" data-testid="create-meeting-form">
      <h2 id="create-heading">New meeting</h2>
      <label htmlFor={titleId}>Title</label>
      <input id={titleId} type="text" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
      <button type="submit" className="button" disabled={busy}>
        {busy ? 'Creating…' : 'Create meeting'}
      </button>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}

function MeetingList({ meetings, userId }) {
  if (meetings.length === 0) return <p data-testid="meetings-empty">No meetings yet. Create one to upload audio.</p>;
  return (
    <ul className="meeting-list" data-testid="meeting-list">
      {meetings.map((m) => (
        <li key={m.id} className="meeting-list__item" data-testid="meeting-item" data-meeting-id={m.id}>
          <Link to={`/meetings/${encodeURIComponent(m.id)}`}>{m.title || 'Untitled meeting'}</Link>
          <span className="muted">
            {' · '}
            {m.status} · {formatDate(m.created_at)} · {userId && m.owner_id !== userId ? 'Shared with you' : 'Yours'}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function MeetingsPage() {
  usePageTitle('Meetings');
  const { token, user, describeError } = useAuth();
  const [meetings, setMeetings] = useState(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    api
      .listMeetings(token)
      .then((list) => !cancelled && setMeetings(list))
      .catch((err) => !cancelled && setError(describeError(err)));
    return () => {
      cancelled = true;
    };
  }, [token, describeError]);

  return (
    <>
      <h1>Meetings</h1>
      <div className="columns">
        <section aria-labelledby="list-heading" className="panel">
          <h2 id="list-heading">Your and shared meetings</h2>
          {error && <p role="alert" className="error">{error}</p>}
          {meetings === null && !error && <p>Loading meetings…</p>}
          {meetings && <MeetingList meetings={meetings} userId={user?.id} />}
        </section>
        <CreateMeetingForm token={token} describeError={describeError} />
      </div>
    </>
  );
}
