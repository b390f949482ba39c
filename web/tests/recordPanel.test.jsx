// @vitest-environment jsdom
// The Record panel against a real audio socket server, with the microphone replaced by a stub
// (jsdom has no getUserMedia or AudioWorklet; the browser test covers the real capture).
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';

import { RecordPanel } from '../src/components/RecordPanel.jsx';
import { pcm16ToBytes } from '../src/lib/pcm.js';
import { AudioServer } from './helpers/audioServer.js';
import { GOOD_TOKEN } from './helpers/roomServer.js';

const mic = vi.hoisted(() => ({ onFrame: null, failWith: null, stopped: 0 }));

vi.mock('../src/lib/audioCapture.js', () => ({
  startCapture: async ({ onFrame }) => {
    if (mic.failWith) throw Object.assign(new Error('denied'), { name: mic.failWith });
    mic.onFrame = onFrame;
    return { sampleRate: 48_000, stop: async () => void (mic.stopped += 1) };
  },
}));

let server;

beforeEach(async () => {
  Object.assign(mic, { onFrame: null, failWith: null, stopped: 0 });
  server = await new AudioServer().start();
  const base = server.baseUrl;
  vi.stubGlobal('WebSocket', class extends NodeWebSocket {
    constructor(url, protocols) {
      super(String(url).replace(/^ws:\/\/[^/]+/, base), protocols);
    }
  });
});

afterEach(async () => {
  cleanup();
  vi.unstubAllGlobals();
  await server.stop();
});

const status = () => screen.getByTestId('record-status');
const frame = (value) => pcm16ToBytes(new Int16Array(1600).fill(value));

describe('RecordPanel', () => {
  it('cannot start while the meeting processes audio, and says why', () => {
    render(<RecordPanel token={GOOD_TOKEN} meetingId="m1" busyReason="Busy: try later." />);
    const button = screen.getByTestId('record-button');
    expect(button.disabled).toBe(true);
    expect(screen.getByTestId('record-busy').textContent).toBe('Busy: try later.');
    expect(button.getAttribute('aria-describedby')).toBe(screen.getByTestId('record-busy').id);
  });

  it('keeps Stop available for its own recording while the meeting processes', async () => {
    const { rerender } = render(<RecordPanel token={GOOD_TOKEN} meetingId="m1" />);
    fireEvent.click(screen.getByTestId('record-button'));
    await waitFor(() => expect(status().dataset.status).toBe('recording'));
    rerender(<RecordPanel token={GOOD_TOKEN} meetingId="m1" busyReason="Busy: try later." />);
    expect(screen.getByTestId('record-button').textContent).toBe('Stop');
    expect(screen.getByTestId('record-button').disabled).toBe(false);
    expect(screen.queryByTestId('record-busy')).toBeNull();
  });

  it('records: meter, elapsed time and lag, then Stop sends stop and ends cleanly', async () => {
    render(<RecordPanel token={GOOD_TOKEN} meetingId="m1" lagS={1.25} />);
    const button = screen.getByTestId('record-button');
    expect(button.textContent).toBe('Record');
    expect(status().dataset.status).toBe('idle');
    fireEvent.click(button);
    await waitFor(() => expect(status().dataset.status).toBe('recording'));
    expect(button.textContent).toBe('Stop');
    expect(screen.getByTestId('record-lag').textContent).toBe(' Processing lag: 1.3 s.');
    act(() => {
      for (let k = 0; k < 15; k += 1) mic.onFrame(frame(1000), Math.sqrt(0.001));
    });
    const meter = screen.getByRole('meter', { name: 'Microphone level' });
    expect(meter.getAttribute('aria-valuenow')).toBe('50');
    expect(screen.getByTestId('record-elapsed').textContent).toBe('00:01');
    await waitFor(() => expect(server.samples('s1')).toHaveLength(15 * 1600));
    fireEvent.click(button);
    await waitFor(() => expect(status().dataset.status).toBe('stopped'));
    expect(server.connections[0].texts.at(-1)).toEqual({ type: 'stop' });
    expect(mic.stopped).toBe(1);
    expect(button.textContent).toBe('Record');
    expect(meter.getAttribute('aria-valuenow')).toBe('0');
  });

  it('explains a denied microphone permission without opening a socket', async () => {
    mic.failWith = 'NotAllowedError';
    render(<RecordPanel token={GOOD_TOKEN} meetingId="m1" />);
    fireEvent.click(screen.getByTestId('record-button'));
    const alert = await screen.findByTestId('record-error');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toContain('Microphone access was denied');
    expect(server.connections).toHaveLength(0);
  });

  it('says the meeting is busy on 4409 and releases the microphone', async () => {
    server.onText = (conn) => {
      conn.socket.close(4409, 'The meeting is already being processed');
      return true;
    };
    render(<RecordPanel token={GOOD_TOKEN} meetingId="m1" />);
    fireEvent.click(screen.getByTestId('record-button'));
    const alert = await screen.findByTestId('record-error');
    expect(alert.textContent).toBe('This meeting is already being processed. Wait for it to finish before recording.');
    await waitFor(() => expect(mic.stopped).toBe(1));
    expect(screen.getByTestId('record-button').textContent).toBe('Record');
  });

  it('asks before recording over an existing transcript, then connects with replace=true', async () => {
    render(<RecordPanel token={GOOD_TOKEN} meetingId="m1" hasTranscript />);
    const button = screen.getByTestId('record-button');
    button.focus();
    fireEvent.click(button);
    const dialog = screen.getByRole('alertdialog', { name: 'Replace the transcript?' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(dialog.textContent).toContain('stays available as an earlier version');
    expect(document.activeElement).toBe(screen.getByTestId('confirm-cancel')); // the safe choice
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(document.activeElement).toBe(button); // focus returns to the Record button
    expect(server.connections).toHaveLength(0); // nothing started, nothing replaced
    fireEvent.click(button);
    fireEvent.click(screen.getByTestId('confirm-accept'));
    await waitFor(() => expect(status().dataset.status).toBe('recording'));
    expect(server.connections[0].path).toBe('/ws/meeting/m1/audio?replace=true');
  });

  it('explains a refused replacement (4409 transcript_exists)', async () => {
    server.onText = (conn) => {
      conn.socket.close(4409, 'transcript_exists');
      return true;
    };
    render(<RecordPanel token={GOOD_TOKEN} meetingId="m1" />);
    fireEvent.click(screen.getByTestId('record-button'));
    const alert = await screen.findByTestId('record-error');
    expect(alert.textContent).toBe('This meeting already has a transcript. Press Record again and confirm to replace it.');
  });
});
