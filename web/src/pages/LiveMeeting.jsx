// The live meeting view: processing stage, transcript as it arrives, summary, and the tools
// (upload, share, export). All room state comes from the socket; on load the socket asks for
// last_seq=0, so a finished meeting replays its whole transcript the same way a live one grows.

import { useCallback, useEffect, useReducer, useRef, useState } from 'react';

import { useAuth } from '../auth.jsx';
import { CaptionSizeControls } from '../components/CaptionSizeControls.jsx';
import { ConnectionIndicator } from '../components/ConnectionIndicator.jsx';
import { ExportPanel } from '../components/ExportPanel.jsx';
import { LanguagePanel } from '../components/LanguagePanel.jsx';
import { RecordPanel } from '../components/RecordPanel.jsx';
import { SharePanel } from '../components/SharePanel.jsx';
import { StageProgress } from '../components/StageProgress.jsx';
import { SummaryPanel } from '../components/SummaryPanel.jsx';
import { TranscriptFeed } from '../components/TranscriptFeed.jsx';
import { UploadPanel } from '../components/UploadPanel.jsx';
import { useCaptionSize } from '../hooks/useCaptionSize.js';
import { useCaptionText } from '../hooks/useCaptionText.js';
import { useMeetingSocket } from '../hooks/useMeetingSocket.jsx';
import { usePageTitle } from '../hooks/usePageTitle.js';
import { api } from '../lib/api.js';
import { formatClock } from '../lib/format.js';
import { initialMeetingState, meetingReducer } from '../lib/meetingState.js';
import { lineSpeaker } from '../lib/speakers.js';
import { Link } from '../lib/router.jsx';

// Why Upload/Record are disabled while a job or live session runs (the server would answer 409).
const UPLOAD_BUSY = 'Audio is being processed for this meeting. You can upload again when it finishes.';
const RECORD_BUSY = 'This meeting is already processing audio. You can record when it finishes.';

function isBusy(status) {
  return status === 'queued' || status === 'processing';
}

function useMeetingInfo(token, meetingId, describeError) {
  const [meeting, setMeeting] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let cancelled = false;
    api
      .getMeeting(token, meetingId)
      .then((m) => !cancelled && setMeeting(m))
      .catch((err) => {
        if (cancelled) return;
        setError(err.status === 404 ? 'This meeting does not exist or has not been shared with you.' : describeError(err));
      });
    return () => {
      cancelled = true;
    };
  }, [token, meetingId, describeError]);
  return { meeting, error };
}

/**
 * Wires the socket to the reducer. Lines replayed from history are not announced (a screen
 * reader would read the whole meeting aloud); lines after the replay point are. The summary
 * is different: one that arrived while the connection was down is still news, so it is
 * announced unless it was already there when the page first connected.
 */
function useLiveRoom(meetingId, token) {
  const [room, dispatch] = useReducer(meetingReducer, initialMeetingState);
  const [announcement, setAnnouncement] = useState('');
  const [socketError, setSocketError] = useState('');
  const replayUntilRef = useRef(0);
  const historyUntilRef = useRef(null);
  const [historyUntil, setHistoryUntil] = useState(0); // the page's first replay point, for the feed

  const handlers = {
    onConnected: (message) => {
      const lastSeq = message.last_seq ?? 0;
      replayUntilRef.current = Math.max(replayUntilRef.current, lastSeq);
      if (historyUntilRef.current === null) {
        historyUntilRef.current = lastSeq;
        setHistoryUntil(lastSeq);
      }
      setSocketError('');
    },
    onTranscript: (segment, message) => {
      dispatch({ message });
      if (message.seq > replayUntilRef.current) {
        setAnnouncement(`${lineSpeaker({ id: segment.id, speaker: segment.speaker }, room.speakers).name} at ${formatClock(segment.start ?? segment.timestamp)}: ${segment.text}`);
      }
    },
    // Partials go to the screen only: the announcer speaks final lines, never provisional words.
    onPartial: (message) => dispatch({ message }),
    onStatus: (_status, _details, message) => dispatch({ message }),
    onSpeakers: (message) => dispatch({ message }),
    onSummary: (_summary, _items, message) => {
      dispatch({ message });
      if (message.seq > (historyUntilRef.current ?? 0)) setAnnouncement('The summary and action items are ready.');
    },
    onError: (error, info) => {
      if (info?.type === 'close') setSocketError(error);
      else dispatch({ message: info });
    },
  };
  const socket = useMeetingSocket(meetingId, token, handlers);
  return { room, announcement, socketError, socket, historyUntil };
}

export function LiveMeeting({ meetingId }) {
  const { token, user, describeError, logout } = useAuth();
  const { meeting, error: loadError } = useMeetingInfo(token, meetingId, describeError);
  const { room, announcement, socketError, socket, historyUntil } = useLiveRoom(meetingId, token);
  const caption = useCaptionSize();
  const captionText = useCaptionText();
  usePageTitle(meeting?.title ?? 'Meeting');
  const onApiError = useCallback((err) => describeError(err), [describeError]);
  const isOwner = !meeting || !user || meeting.owner_id === user.id;
  // Viewers cannot stream audio (the server closes with 4403), so they never see the button.
  const canRecord = Boolean(meeting) && (meeting.role ? meeting.role !== 'viewer' : isOwner);
  const status = room.status ?? meeting?.status ?? null;
  const processing = isBusy(status);
  // Whether the meeting was still running when the page opened (the API's answer, not the
  // replay's, which passes through every status the meeting ever had).
  const openedLive = isBusy(meeting?.status);
  // A finished transcript is replaced only after the user confirms (the server insists too).
  const hasTranscript = room.lines.length > 0 && !processing;
  const canEditSpeakers = canRecord;
  const onRename = useCallback((label, name) => api.renameSpeaker(token, meetingId, label, name || null), [token, meetingId]);
  const onEnrol = useCallback((label, name) => api.enrolVoice(token, meetingId, label, name), [token, meetingId]);
  const onMerge = useCallback((from, into) => api.mergeSpeakers(token, meetingId, from, into), [token, meetingId]);

  return (
    <>
      <p>
        <Link to="/">← All meetings</Link>
      </p>
      <h1 data-testid="meeting-title">{meeting?.title ?? 'Meeting'}</h1>
      {loadError && <p role="alert" className="error">{loadError}</p>}
      <ConnectionIndicator state={socket.connectionState} onReconnect={socket.connect} onLogin={logout} />
      {socketError && <p role="alert" className="error" data-testid="socket-error">{socketError}</p>}
      {room.errors.map((e) => (
        <p key={e.seq ?? e.text} role="alert" className="error" data-testid="processing-error">
          {e.text}
        </p>
      ))}
      <div className="live-layout">
        <div className="live-layout__main">
          <StageProgress status={status} details={room.details} />
          <section className="panel" aria-labelledby="transcript-heading">
            <div className="panel__header">
              <h2 id="transcript-heading">Transcript</h2>
              <CaptionSizeControls caption={caption} />
            </div>
            <TranscriptFeed
              lines={room.lines}
              partials={room.partials}
              captionSize={caption.size}
              textMode={captionText.mode}
              language={room.language?.code ?? meeting?.spoken_language ?? null}
              historyUntil={historyUntil}
              openedLive={openedLive}
              speakers={room.speakers}
              canEdit={canEditSpeakers}
              onRename={onRename}
              onMerge={onMerge}
              onEnrol={onEnrol}
            />
          </section>
          <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="live-announcer">
            {announcement}
          </div>
        </div>
        <aside className="live-layout__side" aria-label="Meeting tools">
          {canRecord && (
            <RecordPanel
              token={token}
              meetingId={meetingId}
              lagS={room.details.lag_s}
              hasTranscript={hasTranscript}
              busyReason={processing ? RECORD_BUSY : ''}
            />
          )}
          <SummaryPanel summary={room.summary} speakers={room.speakers} />
          <LanguagePanel
            key={meeting?.id ?? 'loading'}
            token={token}
            meeting={meeting}
            detected={room.language}
            textMode={captionText.mode}
            onTextMode={captionText.setMode}
            canEdit={canRecord}
            onApiError={onApiError}
          />
          <UploadPanel
            token={token}
            meetingId={meetingId}
            onApiError={onApiError}
            hasTranscript={hasTranscript}
            busyReason={processing ? UPLOAD_BUSY : ''}
          />
          <ExportPanel token={token} meetingId={meetingId} onApiError={onApiError} textMode={captionText.mode} />
          {isOwner && <SharePanel token={token} meetingId={meetingId} onApiError={onApiError} />}
        </aside>
      </div>
    </>
  );
}
