import { useState } from 'react';

import { EXPORT_FORMATS, downloadTranscript } from '../lib/api.js';

/** Download buttons; the request needs the bearer header, so these are buttons, not links. */
export function ExportPanel({ token, meetingId, onApiError, textMode = 'original' }) {
  const [busy, setBusy] = useState(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const onDownload = async (format) => {
    setBusy(format);
    setError('');
    setMessage('');
    try {
      const name = await downloadTranscript(token, meetingId, format, fetch, textMode);
      setMessage(`Saved ${name}.`);
    } catch (err) {
      setError(err.status === 404 ? 'There is no transcript to export yet.' : onApiError(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="panel" aria-labelledby="export-heading">
      <h2 id="export-heading">Export transcript</h2>
      <p className="hint">Plain text, subtitles (SRT, WebVTT) or JSON with word timings.</p>
      {/* Short visible labels keep the four buttons on one row in the narrow side column; the
          accessible name starts with the visible text (WCAG 2.5.3) and says what it does. */}
      <div className="button-row">
        {EXPORT_FORMATS.map((format) => (
          <button
            key={format}
            type="button"
            className="button button--secondary"
            onClick={() => onDownload(format)}
            disabled={busy !== null}
            aria-label={`${format.toUpperCase()}: download the transcript`}
            aria-busy={busy === format}
            data-testid={`export-${format}`}
          >
            {busy === format ? `${format.toUpperCase()}…` : format.toUpperCase()}
          </button>
        ))}
      </div>
      {message && <p role="status" data-testid="export-message">{message}</p>}
      {error && <p role="alert" className="error" data-testid="export-error">{error}</p>}
    </section>
  );
}
