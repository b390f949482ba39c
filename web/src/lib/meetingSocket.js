// Framework-free client for the meeting room WebSocket (`WS /ws/meeting/{id}`, PROTOCOL.md).
//
// Why a plain class: the reconnect/resume/de-duplication rules are the part that must be
// right, so they live here where tests can drive them against a real socket server without
// React. `useMeetingSocket` is a thin wrapper that maps this object's status to React state.

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 10_000;
export const PING_INTERVAL_MS = 20_000;

/** Close codes after which reconnecting cannot help (bad token, access revoked, no such meeting). */
export const FATAL_CLOSE_CODES = new Set([4401, 4403, 4404]);

const CLOSE_REASONS = {
  1000: 'The server closed the connection.',
  1001: 'The server is restarting.',
  1006: 'The connection dropped.',
  4401: 'Your session has expired or is invalid. Please log in again.',
  4403: 'You no longer have access to this meeting.',
  4404: 'This meeting does not exist or you do not have access to it.',
  4408: 'The server did not receive credentials in time.',
  4429: 'The server is busy (too many connections or a slow link).',
};

/** A human sentence for a close code, for the connection indicator and onError. */
export function describeCloseCode(code) {
  return CLOSE_REASONS[code] ?? `The connection closed (code ${code}).`;
}

/**
 * Delay before reconnect attempt number `attempt` (0-based): exponential growth from `baseMs`,
 * capped at `capMs`, with "equal jitter" (between half and all of the exponential value) so
 * that many clients dropped together do not all come back in the same instant, while no
 * delay is ever shorter than half the nominal one.
 */
export function computeBackoffMs(
  attempt,
  { baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS, random = Math.random } = {},
) {
  const exponent = Math.max(0, Math.min(attempt, 30)); // 2**30 keeps the product finite
  const nominal = Math.min(capMs, baseMs * 2 ** exponent);
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

/**
 * The room URL. The token never goes into the URL (it would end up in proxy logs); it travels
 * in the `bearer` subprotocol instead. `last_seq` is always sent: 0 on the first connect
 * replays the meeting's whole history, N on a reconnect resumes after the last event seen.
 */
export function buildSocketUrl(baseUrl, meetingId, lastSeq = 0) {
  const url = new URL(baseUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  const prefix = url.pathname.replace(/\/+$/, '');
  url.pathname = `${prefix}/ws/meeting/${encodeURIComponent(meetingId)}`;
  url.search = `?last_seq=${Math.max(0, Math.trunc(lastSeq) || 0)}`;
  url.hash = '';
  return url.toString();
}

/** The page's own origin as a WebSocket base (`ws://host` or `wss://host`). */
export function defaultSocketBase() {
  if (typeof window === 'undefined' || !window.location) return 'ws://127.0.0.1:8000';
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}`;
}

/**
 * Tracks the highest durable `seq` seen. `accept` says whether a message is new: messages
 * without a seq (`connected`, `pong`) always are; a seq at or below the last one is a replayed
 * duplicate. A jump of more than one is reported as a gap (the server promises none) but the
 * message is still accepted so the view never stalls on a server bug.
 */
export class SeqTracker {
  constructor(lastSeq = 0) {
    this.lastSeq = lastSeq;
    this.gaps = 0;
  }

  accept(message) {
    const seq = message?.seq;
    if (typeof seq !== 'number') return true;
    if (seq <= this.lastSeq) return false;
    if (seq > this.lastSeq + 1) this.gaps += 1;
    this.lastSeq = seq;
    return true;
  }
}

function parseMessage(data) {
  if (typeof data !== 'string') return null; // the room only sends text frames
  try {
    const message = JSON.parse(data);
    return message && typeof message === 'object' && typeof message.type === 'string'
      ? message
      : null;
  } catch {
    return null;
  }
}

/**
 * Routes one accepted server message to the seed-style handlers. Extra trailing arguments
 * (the whole message) give access to fields the seed did not have (seq, details, code).
 */
export function dispatchMessage(message, handlers) {
  switch (message.type) {
    case 'transcript':
      handlers.onTranscript?.(message.segment, message);
      break;
    case 'status':
      handlers.onStatus?.(message.status, message.details ?? {}, message);
      break;
    case 'summary':
      handlers.onSummary?.(message.summary, message.action_items ?? [], message);
      break;
    case 'error':
      handlers.onError?.(message.error, message);
      break;
    case 'connected':
      handlers.onConnected?.(message);
      break;
    default:
      break; // pong and future message types
  }
}


const OPEN = 1;
const noop = () => {};

/**
 * One meeting room subscription that survives network trouble: it reconnects with backoff,
 * resumes from the last seen seq, drops replayed duplicates, keeps the link alive with pings
 * and gives up only on close codes that retrying cannot fix (4401, 4403, 4404).
 *
 * `status` is one of: idle, connecting, connected, reconnecting, offline.
 */
export class MeetingSocket {
  constructor({
    meetingId,
    token,
    handlers = {},
    baseUrl = defaultSocketBase(),
    WebSocketImpl = globalThis.WebSocket,
    lastSeq = 0,
    baseMs = BACKOFF_BASE_MS,
    capMs = BACKOFF_CAP_MS,
    pingIntervalMs = PING_INTERVAL_MS,
    staleAfterMs = 2 * pingIntervalMs + 5_000,
    random = Math.random,
    now = Date.now,
    onStateChange = noop,
  }) {
    if (!WebSocketImpl) throw new Error('No WebSocket implementation available');
    Object.assign(this, { meetingId, token, handlers, baseUrl, WebSocketImpl, pingIntervalMs });
    Object.assign(this, { backoff: { baseMs, capMs, random }, staleAfterMs, now, onStateChange });
    this.seq = new SeqTracker(lastSeq);
    this.duplicatesDropped = 0;
    this.ws = null;
    this.stopped = true;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastMessageAt = 0;
    this.state = { status: 'idle', attempt: 0, retryInMs: null, closeCode: null, reason: '' };
  }

  get lastSeq() {
    return this.seq.lastSeq;
  }

  /** Opens the subscription (no-op while one is open or opening). */
  connect() {
    if (!this.stopped) return;
    this.stopped = false;
    this.#setState({ attempt: 0, closeCode: null, reason: '' });
    this.#open('connecting');
  }

  /** Closes cleanly (code 1000) and stops reconnecting. */
  disconnect() {
    this.stopped = true;
    this.#clearRetry();
    const ws = this.#detach();
    if (ws) {
      try {
        ws.close(1000, 'client closing');
      } catch {
        // closing a socket that never opened can throw in some implementations; nothing to do
      }
    }
    this.#setState({ status: 'offline', retryInMs: null, reason: 'Disconnected.' });
  }

  /** Skips the remaining backoff wait (e.g. when the browser comes back online). */
  reconnectNow() {
    if (this.stopped || this.state.status !== 'reconnecting' || this.ws) return;
    this.#open('reconnecting');
  }

  #setState(patch) {
    this.state = { ...this.state, ...patch };
    this.onStateChange({ ...this.state, lastSeq: this.seq.lastSeq });
  }

  #open(status) {
    this.#clearRetry();
    this.confirmed = false;
    this.#setState({ status, retryInMs: null });
    const url = buildSocketUrl(this.baseUrl, this.meetingId, this.seq.lastSeq);
    let ws;
    try {
      ws = new this.WebSocketImpl(url, ['bearer', this.token]);
    } catch (error) {
      // Only a malformed URL/token or a security policy makes the constructor throw, and
      // retrying cannot fix either, so report it instead of looping.
      this.stopped = true;
      const reason = `Could not open the live connection (${error?.name ?? 'Error'}).`;
      this.#setState({ status: 'offline', retryInMs: null, closeCode: null, reason });
      this.handlers.onError?.(reason, { type: 'open', error });
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.ws === ws && this.#startPing();
    ws.onmessage = (event) => this.ws === ws && this.#handleData(event.data);
    ws.onerror = noop; // a close event always follows; the close code is what matters
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.#detach();
      this.#handleClose(event.code);
    };
  }

  #handleData(data) {
    this.lastMessageAt = this.now();
    const message = parseMessage(data);
    if (!message) return;
    if (!this.confirmed) {
      // The first message proves auth succeeded, so the backoff can start over.
      this.confirmed = true;
      this.#setState({ status: 'connected', attempt: 0, closeCode: null, reason: '' });
    }
    if (message.type === 'pong') return;
    if (!this.seq.accept(message)) {
      this.duplicatesDropped += 1;
      return;
    }
    try {
      dispatchMessage(message, this.handlers);
    } catch (error) {
      console.error('meeting socket handler failed', error);
    }
  }

  #handleClose(code) {
    if (this.stopped) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.stopped = true;
      const reason = describeCloseCode(code);
      this.#setState({ status: 'offline', closeCode: code, reason, retryInMs: null });
      this.handlers.onError?.(reason, { type: 'close', code });
      return;
    }
    this.#scheduleReconnect(code);
  }

  #scheduleReconnect(code) {
    const attempt = this.state.attempt;
    const delay = computeBackoffMs(attempt, this.backoff);
    const reason = describeCloseCode(code);
    this.#setState({ status: 'reconnecting', attempt: attempt + 1, retryInMs: delay, closeCode: code, reason });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.#open('reconnecting');
    }, delay);
  }

  #startPing() {
    this.lastMessageAt = this.now();
    this.#stopPing();
    this.pingTimer = setInterval(() => this.#ping(), this.pingIntervalMs);
  }

  #ping() {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    // Silence for two ping periods (the server answers every ping): the link is dead even if
    // the operating system has not noticed yet, so start over instead of waiting for TCP.
    if (this.now() - this.lastMessageAt > this.staleAfterMs) {
      this.#detach();
      try {
        ws.close(4000, 'keepalive timeout');
      } catch {
        // already closing
      }
      this.#handleClose(1006);
      return;
    }
    ws.send(JSON.stringify({ type: 'ping' }));
  }

  #stopPing() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  #clearRetry() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Forgets the current socket so its late events are ignored; returns it. */
  #detach() {
    const ws = this.ws;
    this.ws = null;
    this.#stopPing();
    return ws;
  }
}
