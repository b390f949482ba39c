// React binding for the meeting room socket, keeping the seed's `useWebSocket` API:
//   const { isConnected, connectionStatus, connect, disconnect } =
//     useMeetingSocket(meetingId, token, { onTranscript, onStatus, onSummary, onError, onConnected });
// All protocol rules (backoff, resume, de-duplication, keepalive) live in lib/meetingSocket.js.

import { useCallback, useEffect, useRef, useState } from 'react';

import { MeetingSocket } from '../lib/meetingSocket.js';

const IDLE_STATE = { status: 'idle', attempt: 0, retryInMs: null, closeCode: null, reason: '', lastSeq: 0 };

/**
 * @param {string} meetingId
 * @param {string} token  JWT, sent in the `bearer` subprotocol (never in the URL)
 * @param {object} handlers  onTranscript(segment, msg), onStatus(status, details, msg),
 *   onSummary(summary, actionItems, msg), onError(error, info), onConnected(msg),
 *   onPartial(msg) (live `transcript_partial`: provisional words, not durable),
 *   onSpeakers(msg) (the meeting's speaker names, merges and reassigned lines)
 * @param {object} [options]  baseUrl, WebSocketImpl, baseMs, capMs, pingIntervalMs, random
 *   (tests and non-browser hosts; the defaults suit the browser)
 */
export function useMeetingSocket(meetingId, token, handlers = {}, options = {}) {
  const [state, setState] = useState(IDLE_STATE);
  const socketRef = useRef(null);
  // Handlers change on every render; reading them through a ref keeps the socket open.
  const handlersRef = useRef(handlers);
  const optionsRef = useRef(options);
  // Survives re-creation of the socket for the same meeting (e.g. a refreshed token), so the
  // new socket resumes instead of replaying everything into a view that already has it.
  const resumeRef = useRef({ meetingId: null, lastSeq: 0 });

  useEffect(() => {
    handlersRef.current = handlers;
    optionsRef.current = options;
  });

  useEffect(() => {
    if (!meetingId || !token) return undefined;
    if (resumeRef.current.meetingId !== meetingId) resumeRef.current = { meetingId, lastSeq: 0 };
    const relay = (name) => (...args) => handlersRef.current[name]?.(...args);
    const socket = new MeetingSocket({
      ...optionsRef.current,
      meetingId,
      token,
      lastSeq: resumeRef.current.lastSeq,
      handlers: {
        onTranscript: relay('onTranscript'),
        onPartial: relay('onPartial'),
        onStatus: relay('onStatus'),
        onSummary: relay('onSummary'),
        onError: relay('onError'),
        onConnected: relay('onConnected'),
        onSpeakers: relay('onSpeakers'),
      },
      onStateChange: (next) => {
        resumeRef.current.lastSeq = next.lastSeq;
        setState(next);
      },
    });
    socketRef.current = socket;
    socket.connect();
    const onOnline = () => socket.reconnectNow();
    window.addEventListener('online', onOnline);
    return () => {
      window.removeEventListener('online', onOnline);
      resumeRef.current.lastSeq = socket.lastSeq;
      socket.disconnect();
      if (socketRef.current === socket) socketRef.current = null;
    };
  }, [meetingId, token]);

  const connect = useCallback(() => socketRef.current?.connect(), []);
  const disconnect = useCallback(() => socketRef.current?.disconnect(), []);

  return {
    isConnected: state.status === 'connected',
    connectionStatus: state.status,
    connectionState: state,
    connect,
    disconnect,
  };
}

export default useMeetingSocket;
