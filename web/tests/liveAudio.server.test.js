// LiveAudioClient against a real WebSocket server (package `ws`) on a random local port.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { LiveAudioClient, buildAudioUrl } from '../src/lib/liveAudio.js';
import { pcm16ToBytes } from '../src/lib/pcm.js';
import { AudioServer } from './helpers/audioServer.js';
import { GOOD_TOKEN, sleep, waitUntil } from './helpers/roomServer.js';

let server;
let client;
let states;

/** Frame k (100 ms) holds the samples k*1600 .. k*1600+1599 (mod 2^15), so order is checkable. */
function frame(k, samples = 1600) {
  return pcm16ToBytes(Int16Array.from({ length: samples }, (_, i) => (k * 1600 + i) % 32768));
}
const expected = (count) => Array.from({ length: count }, (_, i) => i % 32768);

function makeClient(overrides = {}) {
  states = [];
  client = new LiveAudioClient({
    meetingId: 'm1',
    token: GOOD_TOKEN,
    baseUrl: server.baseUrl,
    WebSocketImpl: WebSocket,
    random: () => 0,
    baseMs: 20,
    onStateChange: (state) => states.push(state.status),
    ...overrides,
  });
  return client;
}

beforeEach(async () => {
  server = await new AudioServer().start();
});

afterEach(async () => {
  client?.abort();
  await server.stop();
});

describe('buildAudioUrl', () => {
  it('maps http(s) bases to ws(s) and appends the audio path', () => {
    expect(buildAudioUrl('http://h:1/base/', 'a b')).toBe('ws://h:1/base/ws/meeting/a%20b/audio');
    expect(buildAudioUrl('https://h', 'm1')).toBe('wss://h/ws/meeting/m1/audio');
  });
});

describe('LiveAudioClient over a real socket', () => {
  it('handshakes, streams 16-bit PCM frames of 3200 bytes, then stops cleanly', async () => {
    const done = makeClient().start();
    await waitUntil(() => client.state.status === 'recording', 'started');
    const [conn] = server.connections;
    expect(conn.offered).toEqual(['bearer', GOOD_TOKEN]);
    expect(conn.path).toBe('/ws/meeting/m1/audio');
    expect(conn.texts[0]).toEqual({ type: 'start', sample_rate: 16000, encoding: 'pcm_s16le' });
    expect(client.state).toMatchObject({ sessionId: 's1', jobId: 'j1' });
    for (let k = 0; k < 5; k += 1) client.push(frame(k));
    await waitUntil(() => conn.frames.length === 5, 'five frames');
    expect(conn.frames.map((f) => f.byteLength)).toEqual([3200, 3200, 3200, 3200, 3200]);
    expect(server.samples('s1')).toEqual(expected(8000));
    const final = await client.stop();
    expect(conn.texts.at(-1)).toEqual({ type: 'stop' });
    expect(final).toMatchObject({ status: 'stopped', closeCode: 1000 });
    expect(final.stopped).toMatchObject({ type: 'stopped', session_id: 's1', received_s: 0.5 });
    expect(await done).toEqual(final);
    expect(states).toEqual(['connecting', 'recording', 'stopping', 'stopped']);
  });

  it('sends audio captured before `started` once the session exists, in 100 ms frames', async () => {
    makeClient();
    client.push(pcm16ToBytes(Int16Array.from(expected(4000)))); // 250 ms in one go
    client.start();
    await waitUntil(() => server.connections[0]?.frames.length === 3, 'buffered audio');
    expect(server.connections[0].frames.map((f) => f.byteLength)).toEqual([3200, 3200, 1600]);
    expect(server.samples('s1')).toEqual(expected(4000));
  });

  it('resumes the same session after a drop and resends only what the server lacks', async () => {
    let dropped = false;
    server.onFrame = (conn) => {
      // The server has 3 frames (0.3 s) when the link breaks; frames 3.. are lost in flight.
      if (!dropped && conn.frames.length === 3) {
        dropped = true;
        conn.drop();
      }
    };
    makeClient().start();
    await waitUntil(() => client.state.status === 'recording', 'started');
    for (let k = 0; k < 6; k += 1) client.push(frame(k));
    await waitUntil(() => server.connections.length === 2 && client.state.status === 'recording', 'resume');
    for (let k = 6; k < 8; k += 1) client.push(frame(k)); // captured after the resume
    const final = await client.stop();
    const [first, second] = server.connections;
    expect(second.texts[0]).toEqual({ type: 'start', sample_rate: 16000, encoding: 'pcm_s16le', session_id: 's1' });
    expect(first.frames).toHaveLength(3);
    expect(server.samples('s1')).toEqual(expected(8 * 1600)); // no gap, no duplicate
    expect(final.stopped.received_s).toBe(0.8);
    expect(final.sessionId).toBe('s1');
    expect(second.frames).toHaveLength(5); // frames 3-5 resent from the ring, then 6 and 7
    expect(client.resentSamples).toBe(3 * 1600);
    expect(client.lostSamples).toBe(0);
    expect(states).toContain('reconnecting');
  });

  it('reports samples the ring no longer holds when the outage outlasted it', async () => {
    let dropped = false;
    server.onText = (conn, message) => {
      // Hold the resumed handshake until the client has captured more than its ring.
      if (message.type === 'start' && message.session_id && !conn.released) {
        setTimeout(() => {
          conn.released = true;
          conn.sessionId = 's1';
          conn.send({ type: 'started', session_id: 's1', job_id: 'j1', received_s: server.receivedSeconds('s1') });
        }, 100);
        return true;
      }
      return false;
    };
    server.onFrame = (conn) => {
      if (!dropped && conn.frames.length === 1) {
        dropped = true;
        conn.drop();
      }
    };
    makeClient({ ringSeconds: 0.3 }); // 3 frames
    client.start();
    await waitUntil(() => client.state.status === 'recording', 'started');
    client.push(frame(0));
    await waitUntil(() => client.state.status === 'reconnecting', 'drop');
    for (let k = 1; k < 6; k += 1) client.push(frame(k));
    await waitUntil(() => server.connections.length === 2 && client.state.status === 'recording', 'resume');
    await client.stop();
    expect(client.lostSamples).toBe(2 * 1600); // frames 1 and 2 fell out of the 3-frame ring
    expect(server.samples('s1').length).toBe(4 * 1600);
  });

  it.each([
    [4409, 'already being processed'],
    [4429, 'refused this recording for now'],
    [4403, 'owner or an editor'],
  ])('gives up with a clear message on close %i', async (code, text) => {
    server.onText = (conn) => {
      conn.socket.close(code, 'refused');
      return true;
    };
    const final = await makeClient().start();
    expect(final.status).toBe('failed');
    expect(final.closeCode).toBe(code);
    expect(final.reason).toContain(text);
    await sleep(100);
    expect(server.connections).toHaveLength(1); // no retry
  });

  it('gives up after the configured number of failed reconnects', async () => {
    server.onText = (conn) => {
      conn.socket.terminate();
      return true;
    };
    const final = await makeClient({ maxAttempts: 2 }).start();
    expect(final.status).toBe('failed');
    expect(final.reason).toContain('could not be restored');
    expect(server.connections).toHaveLength(3);
  });
});
