import { formatStage, toPercent } from '../lib/format.js';

const STATUS_LABELS = {
  queued: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
};

/** The processing stage, a progress bar and the window count from status messages. */
export function StageProgress({ status, details }) {
  const percent = toPercent(details.progress);
  const hasWindows = Number.isFinite(details.window) && Number.isFinite(details.windows);
  if (!status) {
    return (
      <section className="panel stage" aria-labelledby="stage-heading" data-testid="stage-panel">
        <h2 id="stage-heading">Processing</h2>
        <p data-testid="stage">No audio processed yet. Upload a recording to start.</p>
      </section>
    );
  }
  return (
    <section className="panel stage" aria-labelledby="stage-heading" data-testid="stage-panel" data-status={status}>
      <h2 id="stage-heading">Processing</h2>
      <p>
        <strong data-testid="meeting-status">{STATUS_LABELS[status] ?? status}</strong>
        {' · '}
        <span data-testid="stage" data-stage={details.stage ?? ''}>
          {formatStage(details.stage)}
        </span>
        {hasWindows && (
          <span data-testid="stage-window">
            {' · '}window {details.window} of {details.windows}
          </span>
        )}
      </p>
      {details.message && <p className="stage__message">{details.message}</p>}
      {percent !== null && (
        <div className="progress-row">
          <progress
            max="100"
            value={percent}
            aria-label="Processing progress"
            data-testid="stage-progress"
            data-progress={percent}
          />
          <span aria-hidden="true">{percent}%</span>
        </div>
      )}
    </section>
  );
}
