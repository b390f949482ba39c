// A real WebSocket server on 127.0.0.1 (random port) that plays the backend's side of the
// live audio protocol (PROTOCOL.md "Live audio in"): bearer subprotocol, start → started with
// a session id and `received_s`, binary PCM frames, stop → stopped and close 1000.

import { WebSocketServer } from 'ws';

import { GOOD_TOKEN } from './roomServer.js';

const RATE = 16_000;

export class AudioServer {
  constructor() {
    this.connections = [];
    /** Samples received per session id (survives reconnects, like the Processor's session). */
    this.sessions = new Map();
    /** Test hook: (conn, message) => boolean; return true to handle a text message yourself. */
    this.onText = () => false;
    /** Test hook: (conn, bytes) => void, after a binary frame is counted. */
    this.onFrame = () => {};
    this.nextSession = 1;
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
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const conn = { socket, path: request.url, offered, texts: [], frames: [], sessionId: null, closeCode: null };
    conn.send = (message) => socket.send(JSON.stringify(message));
    // An abrupt drop. Frames already parsed from the same TCP read are discarded, as a real
    // server loses whatever had not reached its session when the connection broke.
    conn.drop = () => {
      conn.dead = true;
      socket.terminate();
    };
    socket.on('close', (code) => {
      conn.closeCode = code;
    });
    socket.on('message', (data, isBinary) => (isBinary ? this.#frame(conn, data) : this.#text(conn, String(data))));
    this.connections.push(conn);
    if (offered[1] !== GOOD_TOKEN) socket.close(4401, 'invalid token');
  }

  #text(conn, text) {
    const message = JSON.parse(text);
    conn.texts.push(message);
    if (this.onText(conn, message)) return;
    if (message.type === 'start') {
      const known = message.session_id && this.sessions.has(message.session_id);
      if (message.session_id && !known) {
        conn.socket.close(4410, 'No such live session');
        return;
      }
      conn.sessionId = known ? message.session_id : `s${this.nextSession++}`;
      if (!known) this.sessions.set(conn.sessionId, []);
      conn.send({ type: 'started', session_id: conn.sessionId, job_id: 'j1', received_s: this.receivedSeconds(conn.sessionId) });
    } else if (message.type === 'stop') {
      conn.send({ type: 'stopped', session_id: conn.sessionId, job_id: 'j1', received_s: this.receivedSeconds(conn.sessionId) });
      conn.socket.close(1000, 'Stopped');
    }
  }

  #frame(conn, data) {
    if (conn.dead) return;
    const bytes = new Uint8Array(data);
    conn.frames.push(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const samples = this.sessions.get(conn.sessionId);
    for (let i = 0; i + 1 < bytes.length; i += 2) samples.push(view.getInt16(i, true));
    this.onFrame(conn, bytes);
  }

  /** All samples the server holds for a session, in arrival order. */
  samples(sessionId) {
    return this.sessions.get(sessionId) ?? [];
  }

  receivedSeconds(sessionId) {
    return this.samples(sessionId).length / RATE;
  }

  async stop() {
    for (const client of this.wss.clients) client.terminate();
    await new Promise((resolve) => this.wss.close(resolve));
  }
}
