import { useId, useState } from 'react';

import { useRecorder } from '../hooks/useRecorder.js';
import { formatClock } from '../lib/format.js';
import { ConfirmDialog, REPLACE_MESSAGE, REPLACE_TITLE } from './ConfirmDialog.jsx';

const STATUS_TEXT = {
  idle: 'Not recording.',
  starting: 'Starting the microphone…',
  connecting: 'Recording; connecting to the server…',
  recording: 'Recording. Transcript lines appear as people finish speaking.',
  reconnecting: 'Connection lost; reconnecting. Audio is kept and sent when it is back.',
  stopping: 'Finishing: sending the last audio, then the summary is prepared…',
  stopped: 'Recording finished.',
  failed: 'Not recording.',
};

const ACTIVE = new Set(['starting', 'connecting', 'recording', 'reconnecting', 'stopping']);

/**
 * Record / Stop for the live microphone, with level meter, elapsed time and server lag.
 * Recording over an existing transcript asks first, then connects with `replace=true`.
 * `busyReason`: why recording cannot start now (the meeting is processing audio); Stop stays
 * available for a recording this panel runs itself. Recording over an existing transcript
 * asks first, then connects with `replace=true`.
 */
export function RecordPanel({ token, meetingId, lagS, hasTranscript = false, busyReason = '' }) {
  const recorder = useRecorder(meetingId, token);
  const busyId = useId();
  const [confirming, setConfirming] = useState(false);
  const { status, level, elapsedS, reason } = recorder;
  const active = ACTIVE.has(status);
  const blocked = !active && Boolean(busyReason);
  const busy = status === 'starting' || status === 'stopping';
  const showLag = active && Number.isFinite(lagS);

  return (
    <section className="panel record" aria-labelledby="record-heading" data-testid="record-panel" data-status={status}>
      <h2 id="record-heading">Record live</h2>
      <div className="record__controls">
        <button
          type="button"
          className={active ? 'record__button record__button--stop' : 'record__button'}
          data-testid="record-button"
          onClick={() => {
            if (active) recorder.stop();
            else if (hasTranscript) setConfirming(true);
            else recorder.start();
          }}
          disabled={busy || blocked}
          aria-describedby={blocked ? busyId : undefined}
        >
          {active ? 'Stop' : 'Record'}
        </button>
        <span className="record__elapsed" data-testid="record-elapsed" aria-label="Recorded time">
          {formatClock(elapsedS)}
        </span>
      </div>
      {blocked && (
        <p id={busyId} className="hint" data-testid="record-busy">
          {busyReason}
        </p>
      )}
      <div
        className="record__meter"
        role="meter"
        aria-label="Microphone level"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={level}
        aria-valuetext={`${level} percent`}
        data-testid="level-meter"
      >
        <div className="record__meter-fill" style={{ width: `${level}%` }} />
      </div>
      <p role="status" data-testid="record-status" data-status={status}>
        {STATUS_TEXT[status] ?? status}
        {showLag && <span data-testid="record-lag"> Processing lag: {lagS.toFixed(1)} s.</span>}
      </p>
      {status === 'failed' && reason && (
        <p role="alert" className="error" data-testid="record-error">
          {reason}
        </p>
      )}
      <ConfirmDialog
        open={confirming}
        title={REPLACE_TITLE}
        message={REPLACE_MESSAGE}
        confirmLabel="Record and replace"
        onConfirm={() => {
          setConfirming(false);
          recorder.start({ replace: true });
        }}
        onCancel={() => setConfirming(false)}
      />
    </section>
  );
}
