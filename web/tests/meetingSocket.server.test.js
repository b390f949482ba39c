// MeetingSocket against a real WebSocket server (package `ws`) on a random local port.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';

import { MeetingSocket } from '../src/lib/meetingSocket.js';
import { GOOD_TOKEN, RoomServer, sleep, transcriptEvent, waitUntil } from './helpers/roomServer.js';

let server;
let client;
let states;
let seqs;

function makeClient(overrides = {}) {
  states = [];
  seqs = [];
  client = new MeetingSocket({
    meetingId: 'm1',
    token: GOOD_TOKEN,
    baseUrl: server.baseUrl,
    WebSocketImpl: WebSocket,
    random: () => 0, // lower edge of the jitter: delays are exactly 250, 500, 1000 ms
    onStateChange: (state) => states.push(state),
    ...overrides,
    handlers: { onTranscript: (_segment, message) => seqs.push(message.seq), ...overrides.handlers },
  });
  return client;
}

beforeEach(async () => {
  server = await new RoomServer().start();
});

afterEach(async () => {
  client?.disconnect();
  await server.stop();
});

describe('MeetingSocket over a real socket', () => {
  it('authenticates with the bearer subprotocol and asks for the full history', async () => {
    server.behaviour = (conn) => {
      conn.sendConnected(2);
      conn.sendTranscripts(1, 2);
    };
    makeClient().connect();
    await waitUntil(() => seqs.length === 2, 'history');
    const [conn] = server.connections;
    expect(conn.offered).toEqual(['bearer', GOOD_TOKEN]);
    expect(conn.path).toBe('/ws/meeting/m1');
    expect(conn.url.search).toBe('?last_seq=0&batch=1');
    expect(client.state.status).toBe('connected');
    expect(seqs).toEqual([1, 2]);
  });

  it('unpacks batch frames in order, dropping what it already has', async () => {
    server.behaviour = (conn) => {
      conn.sendConnected(3);
      conn.sendTranscripts(1, 1);
      conn.send({ type: 'batch', timestamp: '', messages: [transcriptEvent(1), transcriptEvent(2), transcriptEvent(3)] });
    };
    makeClient().connect();
    await waitUntil(() => seqs.length === 3, 'three transcript events');
    expect(seqs).toEqual([1, 2, 3]);
    expect(client.duplicatesDropped).toBe(1);
  });

  it('reconnects after a drop, resumes from last seq and drops replayed duplicates', async () => {
    server.behaviour = (conn) => {
      conn.sendConnected();
      if (server.connections.length === 1) {
        conn.sendTranscripts(1, 3);
        setTimeout(() => conn.socket.terminate(), 50); // abrupt drop: client sees 1006
      } else {
        conn.sendTranscripts(2, 5); // the server replays more than asked: 2 and 3 are duplicates
      }
    };
    makeClient().connect();
    await waitUntil(() => seqs.length === 5, 'five transcript events');
    await sleep(50);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(client.duplicatesDropped).toBe(2);
    const [first, second] = server.connections;
    expect(second.url.search).toBe('?last_seq=3&batch=1');
    expect(second.offered).toEqual(['bearer', GOOD_TOKEN]);
    expect(second.openedAt - first.openedAt).toBeGreaterThanOrEqual(250);
    const retry = states.find((s) => s.status === 'reconnecting');
    expect(retry).toMatchObject({ retryInMs: 250, closeCode: 1006, attempt: 1 });
    expect(client.state.status).toBe('connected');
  });

  it('backs off exponentially across failures closed with 1001, 4429 and 1006', async () => {
    server.behaviour = (conn) => {
      const n = server.connections.length;
      if (n === 1) conn.socket.close(1001, 'going away');
      else if (n === 2) conn.socket.close(4429, 'too slow');
      else if (n === 3) conn.socket.terminate();
      else conn.sendConnected();
    };
    makeClient().connect();
    await waitUntil(() => client.state.status === 'connected', 'fourth connection', 6_000);
    const retries = states.filter((s) => s.status === 'reconnecting' && s.retryInMs !== null);
    expect(retries.map((s) => [s.closeCode, s.retryInMs])).toEqual([
      [1001, 250],
      [4429, 500],
      [1006, 1000],
    ]);
    const opened = server.connections.map((c) => c.openedAt);
    const gaps = opened.slice(1).map((t, i) => t - opened[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(245);
    expect(gaps[1]).toBeGreaterThanOrEqual(495);
    expect(gaps[2]).toBeGreaterThanOrEqual(995);
    expect(client.state.attempt).toBe(0); // reset once the server confirmed the connection
  });

  it.each([
    [4401, 'wrong-token', 'Your session has expired or is invalid. Please log in again.'],
    [4404, GOOD_TOKEN, 'This meeting does not exist or you do not have access to it.'],
  ])('does not reconnect after close code %i and reports it', async (code, token, text) => {
    server.behaviour = (conn) => conn.socket.close(4404, 'no such meeting');
    const onError = vi.fn();
    makeClient({ token, handlers: { onError } }).connect();
    await waitUntil(() => onError.mock.calls.length === 1, 'onError');
    expect(onError).toHaveBeenCalledWith(text, { type: 'close', code });
    await sleep(800); // longer than the largest first backoff (500 ms)
    expect(server.connections).toHaveLength(1);
    expect(client.state).toMatchObject({ status: 'offline', closeCode: code, reason: text });
  });

  it('closes with code 1000 on disconnect and never reconnects', async () => {
    makeClient().connect();
    await waitUntil(() => client.state.status === 'connected', 'connected');
    client.disconnect();
    await waitUntil(() => server.connections[0].closeCode !== null, 'server-side close');
    expect(server.connections[0].closeCode).toBe(1000);
    await sleep(600);
    expect(server.connections).toHaveLength(1);
    expect(client.state.status).toBe('offline');
  });

  it('sends keepalive pings and swallows the pongs', async () => {
    const onConnected = vi.fn();
    makeClient({ pingIntervalMs: 40, handlers: { onConnected } }).connect();
    await waitUntil(() => server.connections[0]?.received.length >= 2, 'two pings');
    expect(server.connections[0].received.slice(0, 2)).toEqual([{ type: 'ping' }, { type: 'ping' }]);
    expect(onConnected).toHaveBeenCalledTimes(1);
    expect(client.state.status).toBe('connected');
  });

  it('treats a silent server as dead and resumes on a new socket', async () => {
    server.behaviour = (conn) => {
      conn.sendConnected();
      conn.sendTranscripts(1, 1);
      if (server.connections.length === 1) conn.socket.removeAllListeners('message'); // no pongs
    };
    makeClient({ pingIntervalMs: 30, staleAfterMs: 100 }).connect();
    await waitUntil(() => server.connections.length === 2, 'second connection');
    expect(server.connections[1].url.search).toBe('?last_seq=1&batch=1');
    expect(seqs).toEqual([1]);
  });
});

describe('MeetingSocket without a usable socket', () => {
  it('goes offline and reports when the WebSocket constructor throws', () => {
    class Refusing {
      constructor() {
        throw new SyntaxError('bad subprotocol');
      }
    }
    const onError = vi.fn();
    const socket = new MeetingSocket({ meetingId: 'm1', token: 'bad token', baseUrl: 'ws://127.0.0.1:9', WebSocketImpl: Refusing, handlers: { onError } });
    socket.connect();
    expect(socket.state).toMatchObject({ status: 'offline', reason: 'Could not open the live connection (SyntaxError).' });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0][1].type).toBe('open');
  });
});
