// A real WebSocket server on 127.0.0.1 (random port) that plays the backend's side of the
// room protocol, so the client is tested over actual sockets rather than mocks.

import { WebSocketServer } from 'ws';

export const GOOD_TOKEN = 'header.payload.signature';

/** Builds the durable transcript event number `seq` as PROTOCOL.md describes it. */
export function transcriptEvent(seq, meetingId = 'm1') {
  const start = seq * 2.5;
  return {
    type: 'transcript',
    seq,
    meeting_id: meetingId,
    segment: { id: `w0-${seq}`, speaker: `SPEAKER_0${seq % 2}`, text: `line ${seq}`, timestamp: start, start, end: start + 2 },
    timestamp: new Date(0).toISOString(),
  };
}

export class RoomServer {
  constructor() {
    this.connections = [];
    /** Test-supplied behaviour: (conn) => void, called for every accepted connection. */
    this.behaviour = (conn) => conn.sendConnected();
  }

  async start() {
    this.wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
    });
    this.wss.on('connection', (socket, request) => this.#accept(socket, request));
    await new Promise((resolve) => this.wss.once('listening', resolve));
    this.baseUrl = `ws://127.0.0.1:${this.wss.address().port}`;
    return this;
  }

  #accept(socket, request) {
    const url = new URL(request.url, this.baseUrl);
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const conn = {
      socket,
      url,
      path: url.pathname,
      offered,
      token: offered[0] === 'bearer' ? offered[1] : undefined,
      lastSeq: Number(url.searchParams.get('last_seq')),
      openedAt: Date.now(),
      received: [],
      closeCode: null,
      send: (message) => socket.send(JSON.stringify(message)),
      sendConnected: (lastSeq = 0) =>
        conn.send({ type: 'connected', meeting_id: 'm1', message: 'Connected to real-time meeting updates', last_seq: lastSeq, timestamp: new Date(0).toISOString() }),
      sendTranscripts: (from, to) => {
        for (let seq = from; seq <= to; seq += 1) conn.send(transcriptEvent(seq));
      },
    };
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      conn.received.push(message);
      if (message.type === 'ping') conn.send({ type: 'pong', timestamp: new Date(0).toISOString() });
    });
    socket.on('close', (code) => {
      conn.closeCode = code;
    });
    this.connections.push(conn);
    if (conn.token !== GOOD_TOKEN) {
      socket.close(4401, 'invalid token');
      return;
    }
    this.behaviour(conn);
  }

  async stop() {
    for (const client of this.wss.clients) client.terminate();
    await new Promise((resolve) => this.wss.close(resolve));
  }
}

/** Polls `predicate` until it is truthy or `timeoutMs` passes (then throws with `what`). */
export async function waitUntil(predicate, what, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
