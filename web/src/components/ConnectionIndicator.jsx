// Connection state in words (never colour alone), with a manual reconnect when offline, or,
// after a close that reconnecting cannot fix, the step that can.

import { FATAL_CLOSE_CODES } from '../lib/meetingSocket.js';
import { Link } from '../lib/router.jsx';

const LABELS = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export function describeConnection(state) {
  switch (state.status) {
    case 'connected':
      return 'Live: new transcript lines appear as soon as they are ready.';
    case 'connecting':
      return 'Opening the live connection and loading the meeting history.';
    case 'reconnecting': {
      // Between attempts the wait is counted down; during an attempt there is no wait to show.
      const when = state.retryInMs ? `Retrying in ${Math.max(1, Math.round(state.retryInMs / 1000))} s` : 'Trying again now';
      const attempt = state.attempt ? ` (attempt ${state.attempt})` : '';
      return `${state.reason || 'The connection dropped.'} ${when}${attempt}. Nothing will be lost: the transcript resumes where it stopped.`;
    }
    case 'offline':
      return state.reason || 'Not receiving live updates.';
    default:
      return 'Not receiving live updates.';
  }
}

/** What the user can do instead of reconnecting: 'login', 'meetings', or null (reconnect). */
export function recoveryAction(state) {
  if (state.status !== 'offline' || !FATAL_CLOSE_CODES.has(state.closeCode)) return null;
  return state.closeCode === 4401 ? 'login' : 'meetings';
}

export function ConnectionIndicator({ state, onReconnect, onLogin }) {
  const status = state.status ?? 'idle';
  const action = recoveryAction(state);
  const canReconnect = status === 'offline' && action === null;
  return (
    <div className={`connection connection--${status}`} role="status" data-testid="connection-status" data-state={status}>
      <span className="connection__dot" aria-hidden="true" />
      <strong className="connection__label">{LABELS[status] ?? status}</strong>
      <span className="connection__detail">{describeConnection(state)}</span>
      {canReconnect && (
        <button type="button" className="button button--small" onClick={onReconnect}>
          Reconnect
        </button>
      )}
      {action === 'login' && (
        <button type="button" className="button button--small" onClick={onLogin}>
          Log in again
        </button>
      )}
      {action === 'meetings' && <Link to="/">Go to your meetings</Link>}
    </div>
  );
}
