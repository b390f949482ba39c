// Framework-free client for the live audio socket (`WS /ws/meeting/{id}/audio`, PROTOCOL.md
// "Live audio in"): start/started handshake, 100 ms PCM16 frames, stop/stopped, and resume
// of the same session after a dropped connection.
//
// Every captured sample goes into a bounded ring first and is sent from there, so the resume
// rule is one line: after `started`, send everything from the server's `received_s` on. Audio
// captured while the connection is down is therefore not lost either (up to the ring's size).

import { computeBackoffMs, defaultSocketBase } from './meetingSocket.js';
import { FRAME_SAMPLES, PcmRing, TARGET_RATE, pcm16ToBytes } from './pcm.js';

export const RING_SECONDS = 30;
export const MAX_RECONNECT_ATTEMPTS = 8;
export const STARTED_TIMEOUT_MS = 10_000;
export const STOPPED_TIMEOUT_MS = 300_000; // the server answers `stop` after the summary

/** Close codes after which retrying cannot help, with what the user should be told. */
export const FATAL_AUDIO_CLOSES = {
  1003: 'The server did not accept the recording format.',
  1009: 'An audio frame was too large for the server.',
  4400: "No model on this server can transcribe the meeting's language. Change the meeting's language and try again.",
  4401: 'Your session has expired or is invalid. Please log in again.',
  4403: 'Only the owner or an editor of this meeting can record audio.',
  4404: 'This meeting does not exist or you do not have access to it.',
  4409: 'This meeting is already being processed. Wait for it to finish before recording.',
  4410: 'The recording session has expired on the server. Start a new recording.',
  4429: 'The server refused this recording for now (too fast, overloaded, or too many open connections or live sessions for this account). Try again later.',
};

const OPEN = 1;
const noop = () => {};

/** The server's close reason (with 4409) when the meeting has a transcript and no `replace`. */
export const TRANSCRIPT_EXISTS_REASON = 'transcript_exists';
export const TRANSCRIPT_EXISTS_TEXT =
  'This meeting already has a transcript. Press Record again and confirm to replace it.';

/** `ws(s)://host/ws/meeting/{id}/audio` from an http(s) or ws(s) base URL (`?replace=true`
 * confirms replacing an existing transcript). */
export function buildAudioUrl(baseUrl, meetingId, { replace = false } = {}) {
  const url = new URL(baseUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  const prefix = url.pathname.replace(/\/+$/, '');
  url.pathname = `${prefix}/ws/meeting/${encodeURIComponent(meetingId)}/audio`;
  url.search = replace ? '?replace=true' : '';
  url.hash = '';
  return url.toString();
}

/**
 * One recording session. `status`: idle, connecting, recording, reconnecting, stopping,
 * stopped, failed. `push(pcm)` takes PCM16 LE frames (ArrayBuffer or Int16Array) at 16 kHz.
 */
export class LiveAudioClient {
  constructor({
    meetingId,
    token,
    baseUrl = defaultSocketBase(),
    WebSocketImpl = globalThis.WebSocket,
    ringSeconds = RING_SECONDS,
    maxAttempts = MAX_RECONNECT_ATTEMPTS,
    baseMs = 500,
    capMs = 5_000,
    random = Math.random,
    startedTimeoutMs = STARTED_TIMEOUT_MS,
    stoppedTimeoutMs = STOPPED_TIMEOUT_MS,
    onStateChange = noop,
    replace = false,
  }) {
    if (!WebSocketImpl) throw new Error('No WebSocket implementation available');
    Object.assign(this, { meetingId, token, baseUrl, WebSocketImpl, maxAttempts, onStateChange, replace });
    Object.assign(this, { startedTimeoutMs, stoppedTimeoutMs, backoff: { baseMs, capMs, random } });
    this.ring = new PcmRing(ringSeconds * TARGET_RATE);
    this.sent = 0; // absolute sample index sent on the current connection
    this.resentSamples = 0; // samples sent twice because a connection dropped
    this.lostSamples = 0; // samples the ring no longer held when a connection resumed
    this.ws = null;
    this.startedWs = null; // the socket that has answered `started`
    this.timer = null;
    this.stopRequested = false;
    this.state = { status: 'idle', sessionId: null, jobId: null, attempt: 0, closeCode: null, reason: '' };
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  /** Opens the socket and starts a session. Resolves with the final state (see `finished`). */
  start() {
    if (this.state.status !== 'idle') return this.finished;
    this.#open('connecting');
    return this.finished;
  }

  /** Buffers one frame of 16 kHz PCM16 and sends it if the session is live. */
  push(pcm) {
    if (this.#isOver()) return;
    this.ring.push(pcm);
    this.#flush();
  }

  /** Sends the rest of the audio, then `stop`; resolves when the server says `stopped`. */
  stop() {
    if (this.#isOver() || this.stopRequested) return this.finished;
    this.stopRequested = true;
    this.#setState({ status: 'stopping' });
    if (this.#live()) this.#sendStop();
    return this.finished;
  }

  /** Gives up at once without `stop` (the server finishes the session after its grace time). */
  abort(reason = 'Recording cancelled.') {
    if (this.#isOver()) return;
    this.#finish('failed', { reason, closeCode: null });
  }

  /** Seconds of audio pushed so far. */
  get capturedSeconds() {
    return this.ring.end / TARGET_RATE;
  }

  #isOver() {
    return this.state.status === 'stopped' || this.state.status === 'failed';
  }

  #live() {
    return this.ws !== null && this.ws === this.startedWs && this.ws.readyState === OPEN;
  }

  #setState(patch) {
    this.state = { ...this.state, ...patch };
    this.onStateChange({ ...this.state });
  }

  #open(status) {
    this.#clearTimer();
    this.#setState({ status: this.stopRequested ? 'stopping' : status });
    let ws;
    try {
      const url = buildAudioUrl(this.baseUrl, this.meetingId, { replace: this.replace });
      ws = new this.WebSocketImpl(url, ['bearer', this.token]);
    } catch (error) {
      this.#finish('failed', { reason: `Could not open the audio connection (${error?.name ?? 'Error'}).` });
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => this.ws === ws && this.#sendStart(ws);
    ws.onmessage = (event) => this.ws === ws && this.#handleMessage(ws, event.data);
    ws.onerror = noop; // the close event that follows carries the code
    ws.onclose = (event) => this.ws === ws && this.#handleClose(event.code, event.reason);
  }

  #sendStart(ws) {
    const start = { type: 'start', sample_rate: TARGET_RATE, encoding: 'pcm_s16le' };
    if (this.state.sessionId) start.session_id = this.state.sessionId;
    ws.send(JSON.stringify(start));
    // A server that accepts the socket but never answers must not stall the recording.
    this.timer = setTimeout(() => this.ws === ws && this.#drop(ws), this.startedTimeoutMs);
  }

  #handleMessage(ws, data) {
    let message;
    try {
      message = JSON.parse(typeof data === 'string' ? data : '');
    } catch {
      return;
    }
    if (message?.type === 'started') this.#onStarted(ws, message);
    else if (message?.type === 'stopped') {
      this.#finish('stopped', { closeCode: 1000, reason: '', stopped: message });
    }
  }

  #onStarted(ws, message) {
    this.#clearTimer();
    const received = Math.round((Number(message.received_s) || 0) * TARGET_RATE);
    const from = Math.max(received, this.ring.start);
    if (received < this.ring.start) this.lostSamples += this.ring.start - received;
    if (this.state.sessionId) this.resentSamples += Math.max(0, this.sent - from);
    this.sent = from;
    this.startedWs = ws;
    const patch = { sessionId: message.session_id, jobId: message.job_id ?? null, attempt: 0 };
    this.#setState({ ...patch, status: this.stopRequested ? 'stopping' : 'recording', closeCode: null, reason: '' });
    this.#flush();
    if (this.stopRequested) this.#sendStop();
  }

  /** Sends every buffered sample after `sent`, in frames of at most 100 ms. */
  #flush() {
    if (!this.#live()) return;
    while (this.sent < this.ring.end) {
      const to = Math.min(this.sent + FRAME_SAMPLES, this.ring.end);
      this.ws.send(pcm16ToBytes(this.ring.slice(this.sent, to)));
      this.sent = to;
    }
  }

  #sendStop() {
    this.#flush();
    this.ws.send(JSON.stringify({ type: 'stop' }));
    const ws = this.ws;
    this.timer = setTimeout(() => this.ws === ws && this.#drop(ws), this.stoppedTimeoutMs);
  }

  #handleClose(code, reason) {
    this.ws = null;
    this.#clearTimer();
    if (this.#isOver()) return;
    const fatal = code === 4409 && reason === TRANSCRIPT_EXISTS_REASON ? TRANSCRIPT_EXISTS_TEXT : FATAL_AUDIO_CLOSES[code];
    if (fatal) {
      this.#finish('failed', { closeCode: code, reason: fatal, serverReason: reason || '' });
      return;
    }
    this.#scheduleReconnect(code);
  }

  #scheduleReconnect(code) {
    const attempt = this.state.attempt;
    if (attempt >= this.maxAttempts) {
      this.#finish('failed', { closeCode: code, reason: 'The recording connection was lost and could not be restored.' });
      return;
    }
    const delay = computeBackoffMs(attempt, this.backoff);
    const reason = 'The recording connection dropped; reconnecting…';
    this.#setState({ status: this.stopRequested ? 'stopping' : 'reconnecting', attempt: attempt + 1, closeCode: code, reason });
    this.timer = setTimeout(() => this.#open('reconnecting'), delay);
  }

  /** Treats a silent socket as dropped (its close event is ignored from now on). */
  #drop(ws) {
    this.ws = null;
    try {
      ws.close(4000, 'no answer');
    } catch {
      // already closing
    }
    this.#handleClose(1006, '');
  }

  #finish(status, patch) {
    this.#clearTimer();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= OPEN) {
      try {
        ws.close(1000, 'client done');
      } catch {
        // closing a socket that never opened can throw; nothing to do
      }
    }
    this.#setState({ status, ...patch });
    this.resolveFinished({ ...this.state });
  }

  #clearTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
