import { useEffect, useId, useRef, useState } from 'react';

import { TRANSCRIPT_EXISTS, uploadAudio } from '../lib/api.js';
import { ConfirmDialog, REPLACE_MESSAGE, REPLACE_TITLE } from './ConfirmDialog.jsx';

/**
 * Audio upload with a real byte-level progress bar (XMLHttpRequest upload events). Uploading
 * over an existing transcript asks first (`hasTranscript`, or the server's 409
 * `transcript_exists`) and only then sends `replace=true`.
 * `busyReason`: why an upload cannot start now (a job or live session runs), shown and tied to
 * the disabled button so screen readers hear it too; empty when uploading is possible.
 * Uploading over an existing transcript asks first (`hasTranscript`, or the server's 409
 * `transcript_exists`) and only then sends `replace=true`.
 */
export function UploadPanel({ token, meetingId, onApiError, hasTranscript = false, busyReason = '' }) {
  const inputId = useId();
  const busyId = useId();
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [uploading, setUploading] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const uploadRef = useRef(null);

  useEffect(() => () => uploadRef.current?.abort(), []);

  const onSubmit = (event) => {
    event.preventDefault();
    if (!file) {
      setError('Choose an audio file first.');
      return;
    }
    if (hasTranscript) setConfirming(true);
    else send(false);
  };

  const send = async (replace) => {
    setConfirming(false);
    setError('');
    setMessage('');
    setProgress(0);
    setUploading(true);
    const upload = uploadAudio(token, meetingId, file, setProgress, undefined, { replace });
    uploadRef.current = upload;
    try {
      const result = await upload.promise;
      // The job's own progress is shown (and kept current) by the Processing panel, so this
      // message only confirms the upload instead of repeating a status that will go stale.
      const job = result?.status ? ` (job ${result.status})` : '';
      setMessage(`Uploaded ${file.name}${job}. Processing progress and transcript lines appear on this page as they are ready.`);
    } catch (err) {
      setProgress(null);
      if (err?.code === TRANSCRIPT_EXISTS && !replace) setConfirming(true);
      else setError(onApiError(err));
    } finally {
      uploadRef.current = null;
      setUploading(false);
    }
  };

  const percent = progress === null ? null : Math.round(progress * 100);
  return (
    <section className="panel" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload audio</h2>
      <form onSubmit={onSubmit}>
        <label htmlFor={inputId}>Audio file</label>
        <input
          id={inputId}
          type="file"
          accept="audio/*,video/*,.wav,.mp3,.m4a,.ogg,.flac,.webm"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          data-testid="upload-input"
        />
        <div className="button-row">
          <button
            type="submit"
            className="button"
            disabled={uploading || Boolean(busyReason)}
            aria-describedby={busyReason ? busyId : undefined}
            data-testid="upload-submit"
          >
            Upload
          </button>
          {uploading && (
            <button type="button" className="button button--secondary" onClick={() => uploadRef.current?.abort()}>
              Cancel upload
            </button>
          )}
        </div>
        {busyReason && !uploading && (
          <p id={busyId} className="hint" data-testid="upload-busy">
            {busyReason}
          </p>
        )}
      </form>
      {percent !== null && (
        <div className="progress-row">
          <progress max="100" value={percent} aria-label="Upload progress" data-testid="upload-progress" data-progress={percent} />
          <span aria-hidden="true">{percent}%</span>
        </div>
      )}
      {message && <p role="status" data-testid="upload-message">{message}</p>}
      {error && <p role="alert" className="error" data-testid="upload-error">{error}</p>}
      <ConfirmDialog
        open={confirming}
        title={REPLACE_TITLE}
        message={REPLACE_MESSAGE}
        confirmLabel="Replace transcript"
        onConfirm={() => send(true)}
        onCancel={() => setConfirming(false)}
      />
    </section>
  );
}
