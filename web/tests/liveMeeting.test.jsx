// @vitest-environment jsdom
// The whole app on /meetings/m1 against a real room socket and a stubbed REST API: history
// replay, live lines, stage, summary, announcements and caption size, through data-testids.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';

import App from '../src/App.jsx';
import { GOOD_TOKEN, RoomServer, transcriptEvent } from './helpers/roomServer.js';

let server;
let room;

const REST = {
  '/api/auth/me': { id: 'u1', email: 'ada@example.com', name: 'Ada' },
  '/api/meetings/m1': { id: 'm1', title: 'Weekly sync', owner_id: 'u1', status: 'completed', created_at: '2025-01-01T00:00:00Z' },
};

beforeEach(async () => {
  server = await new RoomServer().start();
  server.behaviour = (conn) => {
    room = conn;
    conn.sendConnected(4);
    conn.sendTranscripts(1, 3);
    conn.send({
      type: 'status', seq: 4, meeting_id: 'm1', status: 'processing', timestamp: '',
      details: { message: 'Transcribing audio...', stage: 'transcription', progress: 0.35, window: 3, windows: 9 },
    });
  };
  const base = server.baseUrl;
  // The app derives ws://<page host>/ws/... from window.location; route that to the test server.
  vi.stubGlobal('WebSocket', class extends NodeWebSocket {
    constructor(url, protocols) {
      super(String(url).replace(/^ws:\/\/[^/]+/, base), protocols);
    }
  });
  vi.stubGlobal('fetch', vi.fn(async (path) => {
    const body = REST[path];
    return new Response(JSON.stringify(body ?? { detail: 'Not Found' }), { status: body ? 200 : 404 });
  }));
  localStorage.clear();
  localStorage.setItem('token', GOOD_TOKEN);
  window.history.replaceState(null, '', '/meetings/m1');
});

afterEach(async () => {
  cleanup();
  vi.unstubAllGlobals();
  await server.stop();
});

describe('LiveMeeting page', () => {
  it('replays history, then shows live lines, stage, summary and announcements', async () => {
    render(<App />);
    await waitFor(() => expect(screen.getByTestId('connection-status').dataset.state).toBe('connected'));
    await waitFor(() => expect(screen.getAllByTestId('transcript-line')).toHaveLength(3));
    expect(screen.getByTestId('meeting-title').textContent).toBe('Weekly sync');
    expect(screen.getByTestId('connection-status').textContent).toContain('Connected');
    expect(room.offered).toEqual(['bearer', GOOD_TOKEN]);
    expect(room.url.search).toBe('?last_seq=0');

    const first = screen.getAllByTestId('transcript-line')[0];
    expect(first.dataset.seq).toBe('1');
    expect(first.textContent).toBe('Speaker 01 00:02line 1');
    expect(screen.getByTestId('stage').textContent).toBe('Transcribing');
    expect(screen.getByTestId('stage-window').textContent).toBe(' · window 3 of 9');
    expect(screen.getByTestId('stage-progress').dataset.progress).toBe('35');
    // History is not read aloud.
    expect(screen.getByTestId('live-announcer').textContent).toBe('');
    expect(screen.getByTestId('live-announcer').getAttribute('aria-live')).toBe('polite');

    act(() => room.send(transcriptEvent(5)));
    await waitFor(() => expect(screen.getAllByTestId('transcript-line')).toHaveLength(4));
    expect(screen.getByTestId('live-announcer').textContent).toBe('Speaker 01 at 00:12: line 5');

    act(() =>
      room.send({
        type: 'summary', seq: 6, meeting_id: 'm1', timestamp: '', summary: 'We agreed to ship.',
        action_items: ['Ada: send the build'],
        details: { action_items: [{ text: 'send the build', owner: 'SPEAKER_01', due: 'Friday' }], decisions: [], topics: [] },
      }),
    );
    await waitFor(() => expect(screen.getByTestId('summary-text').textContent).toBe('We agreed to ship.'));
    const items = within(screen.getByTestId('action-items')).getAllByTestId('action-item');
    expect(items.map((li) => li.textContent)).toEqual(['send the build (owner: Speaker 01, due: Friday)']);
    expect(screen.getByTestId('live-announcer').textContent).toBe('The summary and action items are ready.');
  });

  it('changes caption size with the Smaller/Larger text buttons and remembers it', async () => {
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('transcript-line')).toHaveLength(3));
    expect(screen.getByTestId('caption-size').textContent).toBe('18px');
    fireEvent.click(screen.getByRole('button', { name: 'Larger text' }));
    fireEvent.click(screen.getByRole('button', { name: 'Larger text' }));
    expect(screen.getByTestId('transcript').style.fontSize).toBe('24px');
    expect(localStorage.getItem('captionSize')).toBe('24');
    fireEvent.click(screen.getByRole('button', { name: 'Smaller text' }));
    expect(screen.getByTestId('caption-size').textContent).toBe('20px');
  });

  it('shows a reconnecting indicator after a drop and resumes without duplicates', async () => {
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('transcript-line')).toHaveLength(3));
    act(() => room.socket.terminate());
    await waitFor(() => expect(screen.getByTestId('connection-status').dataset.state).toBe('reconnecting'));
    expect(screen.getByTestId('connection-status').textContent).toMatch(/The connection dropped\. Retrying in \d s/);
    await waitFor(() => expect(screen.getByTestId('connection-status').dataset.state).toBe('connected'), { timeout: 3_000 });
    expect(server.connections[1].url.search).toBe('?last_seq=4');
    // The second connection replays 1..3 again (a misbehaving server); nothing doubles.
    expect(screen.getAllByTestId('transcript-line').map((li) => li.dataset.seq)).toEqual(['1', '2', '3']);
  });

  it('announces a summary that arrived while the connection was down, but not caught-up lines', async () => {
    server.behaviour = (conn) => {
      room = conn;
      if (server.connections.length === 1) {
        conn.sendConnected(0); // a new meeting: everything that follows is live
        conn.sendTranscripts(1, 2);
        return;
      }
      // While the page was away the job finished: the resume replays line 3 and the summary.
      conn.sendConnected(4);
      conn.send(transcriptEvent(3));
      conn.send({
        type: 'summary', seq: 4, meeting_id: 'm1', timestamp: '', summary: 'Done.', action_items: [],
        details: { action_items: [], decisions: [], topics: [] },
      });
    };
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('transcript-line')).toHaveLength(2));
    expect(screen.getByTestId('live-announcer').textContent).toBe('Speaker 00 at 00:05: line 2');
    act(() => room.socket.terminate());
    await waitFor(() => expect(screen.getByTestId('connection-status').dataset.state).toBe('reconnecting'));
    await waitFor(() => expect(screen.getByTestId('summary-text').textContent).toBe('Done.'), { timeout: 3_000 });
    expect(server.connections[1].url.search).toBe('?last_seq=2');
    expect(screen.getAllByTestId('transcript-line').map((li) => li.dataset.seq)).toEqual(['1', '2', '3']);
    expect(screen.getByTestId('live-announcer').textContent).toBe('The summary and action items are ready.');
  });

  it('disables Upload while the meeting processes audio, and says why', async () => {
    render(<App />);
    // The room's latest status is `processing` (seq 4).
    await waitFor(() => expect(screen.getByTestId('upload-submit').disabled).toBe(true));
    const reason = screen.getByTestId('upload-busy');
    expect(reason.textContent).toBe('Audio is being processed for this meeting. You can upload again when it finishes.');
    expect(screen.getByTestId('upload-submit').getAttribute('aria-describedby')).toBe(reason.id);
    act(() => room.send({
      type: 'status', seq: 5, meeting_id: 'm1', status: 'completed', timestamp: '',
      details: { message: 'Done', stage: 'done', progress: 1 },
    }));
    await waitFor(() => expect(screen.getByTestId('upload-submit').disabled).toBe(false));
    expect(screen.queryByTestId('upload-busy')).toBeNull();
  });

  it('goes offline with an explanation when the meeting is not accessible', async () => {
    server.behaviour = (conn) => conn.socket.close(4404, 'no access');
    render(<App />);
    // Generous timeout: on a loaded machine the first render and handshake alone can take 1 s.
    await waitFor(() => expect(screen.getByTestId('connection-status').dataset.state).toBe('offline'), { timeout: 3_000 });
    expect(screen.getByTestId('socket-error').textContent).toBe(
      'This meeting does not exist or you do not have access to it.',
    );
    // Reconnecting cannot fix 4404: no Reconnect offer, a way back to the meetings instead.
    expect(screen.queryByRole('button', { name: 'Reconnect' })).toBeNull();
    expect(screen.getByRole('link', { name: 'Go to your meetings' }).getAttribute('href')).toBe('/');
  });
});
