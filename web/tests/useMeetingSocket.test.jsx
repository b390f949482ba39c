// @vitest-environment jsdom
// The React hook against a real WebSocket server; `ws` supplies the socket implementation.
import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';

import { useMeetingSocket } from '../src/hooks/useMeetingSocket.jsx';
import { GOOD_TOKEN, RoomServer, sleep } from './helpers/roomServer.js';

let server;

beforeEach(async () => {
  server = await new RoomServer().start();
  server.behaviour = (conn) => {
    conn.sendConnected(3);
    conn.sendTranscripts(conn.lastSeq + 1, 3);
    conn.send({ type: 'status', seq: 4, meeting_id: 'm1', status: 'completed', details: { stage: 'done', progress: 1 }, timestamp: '' });
  };
});

afterEach(async () => {
  await server.stop();
});

function renderSocketHook(handlers, token = GOOD_TOKEN) {
  const options = { baseUrl: server.baseUrl, WebSocketImpl: WebSocket, random: () => 0 };
  return renderHook(({ h, t }) => useMeetingSocket('m1', t, h, options), {
    initialProps: { h: handlers, t: token },
  });
}

describe('useMeetingSocket', () => {
  it('connects, delivers history through the seed handlers and closes with 1000 on unmount', async () => {
    const lines = [];
    const onStatus = vi.fn();
    const onConnected = vi.fn();
    const { result, unmount } = renderSocketHook({
      onTranscript: (segment) => lines.push(segment.text),
      onStatus,
      onConnected,
    });
    expect(result.current.connectionStatus).toBe('connecting');
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    await waitFor(() => expect(onStatus).toHaveBeenCalledTimes(1));
    expect(lines).toEqual(['line 1', 'line 2', 'line 3']);
    expect(onStatus).toHaveBeenCalledWith('completed', { stage: 'done', progress: 1 }, expect.objectContaining({ seq: 4 }));
    expect(onConnected).toHaveBeenCalledWith(expect.objectContaining({ type: 'connected', last_seq: 3 }));
    expect(server.connections[0].offered).toEqual(['bearer', GOOD_TOKEN]);

    unmount();
    await waitFor(() => expect(server.connections[0].closeCode).toBe(1000));
    await sleep(600);
    expect(server.connections).toHaveLength(1);
  });

  it('keeps the socket when handlers change and uses the newest handlers', async () => {
    const first = vi.fn();
    const { result, rerender } = renderSocketHook({ onTranscript: first });
    await waitFor(() => expect(first).toHaveBeenCalledTimes(3));
    const second = vi.fn();
    rerender({ h: { onTranscript: second }, t: GOOD_TOKEN });
    server.connections[0].send({ type: 'transcript', seq: 5, meeting_id: 'm1', segment: { text: 'late' }, timestamp: '' });
    await waitFor(() => expect(second).toHaveBeenCalledTimes(1));
    expect(second.mock.calls[0][0]).toEqual({ text: 'late' });
    expect(first).toHaveBeenCalledTimes(3);
    expect(server.connections).toHaveLength(1);
    expect(result.current.isConnected).toBe(true);
  });

  it('disconnect() and connect() resume from the last seq without duplicates', async () => {
    const seqs = [];
    const { result } = renderSocketHook({ onTranscript: (_s, m) => seqs.push(m.seq) });
    await waitFor(() => expect(seqs).toEqual([1, 2, 3]));
    act(() => result.current.disconnect());
    expect(result.current.connectionStatus).toBe('offline');
    await waitFor(() => expect(server.connections[0].closeCode).toBe(1000));
    act(() => result.current.connect());
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    expect(server.connections[1].url.search).toBe('?last_seq=4&batch=1');
    expect(seqs).toEqual([1, 2, 3]);
  });

  it('reports a rejected token through onError and goes offline without retrying', async () => {
    const onError = vi.fn();
    const { result } = renderSocketHook({ onError }, 'expired');
    await waitFor(() => expect(result.current.connectionStatus).toBe('offline'));
    expect(onError).toHaveBeenCalledWith(
      'Your session has expired or is invalid. Please log in again.',
      { type: 'close', code: 4401 },
    );
    expect(result.current.connectionState.closeCode).toBe(4401);
    await sleep(600);
    expect(server.connections).toHaveLength(1);
  });
});
