import { useEffect, useId, useState } from 'react';

import { useAuth } from '../auth.jsx';
import { usePageTitle } from '../hooks/usePageTitle.js';
import { api, listMeetings } from '../lib/api.js';
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

/** The newest page of meetings at first, and older pages on demand. */
function useMeetingPages(token, describeError) {
  const [meetings, setMeetings] = useState(null);
  const [next, setNext] = useState(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    listMeetings(token)
      .then((page) => {
        if (cancelled) return;
        setMeetings(page.meetings);
        setNext(page.next);
      })
      .catch((err) => !cancelled && setError(describeError(err)));
    return () => {
      cancelled = true;
    };
  }, [token, describeError]);

  const loadMore = async () => {
    setLoadingMore(true);
    setError('');
    try {
      const page = await listMeetings(token, next);
      setMeetings((shown) => [...shown, ...page.meetings]);
      setNext(page.next);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setLoadingMore(false);
    }
  };

  return { meetings, next, loadingMore, error, loadMore };
}

export function MeetingsPage() {
  usePageTitle('Meetings');
  const { token, user, describeError } = useAuth();
  const { meetings, next, loadingMore, error, loadMore } = useMeetingPages(token, describeError);

  return (
    <>
      <h1>Meetings</h1>
      <div className="columns">
        <section aria-labelledby="list-heading" className="panel">
          <h2 id="list-heading">Your and shared meetings</h2>
          {error && <p role="alert" className="error">{error}</p>}
          {meetings === null && !error && <p>Loading meetings…</p>}
          {meetings && <MeetingList meetings={meetings} userId={user?.id} />}
          {meetings && next && (
            <button type="button" className="button button--secondary" onClick={loadMore} disabled={loadingMore} data-testid="meetings-more">
              {loadingMore ? 'Loading…' : 'Show older meetings'}
            </button>
          )}
        </section>
        <CreateMeetingForm token={token} describeError={describeError} />
      </div>
    </>
  );
}
