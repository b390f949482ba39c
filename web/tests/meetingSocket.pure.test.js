import { describe, expect, it, vi } from 'vitest';

import {
  SeqTracker,
  buildSocketUrl,
  computeBackoffMs,
  describeCloseCode,
  dispatchMessage,
} from '../src/lib/meetingSocket.js';

describe('computeBackoffMs', () => {
  it('doubles from 500 ms and caps at 10 s, jitter between half and all of it', () => {
    const low = [0, 1, 2, 3, 4, 5, 6, 40].map((a) => computeBackoffMs(a, { random: () => 0 }));
    const high = [0, 1, 2, 3, 4, 5, 6, 40].map((a) => computeBackoffMs(a, { random: () => 1 }));
    expect(low).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    expect(high).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
    expect(computeBackoffMs(0, { random: () => 0.5 })).toBe(375);
  });

  it('honours custom base and cap', () => {
    expect(computeBackoffMs(3, { baseMs: 100, capMs: 600, random: () => 1 })).toBe(600);
    expect(computeBackoffMs(2, { baseMs: 100, capMs: 600, random: () => 1 })).toBe(400);
  });
});

describe('buildSocketUrl', () => {
  it('maps http(s) to ws(s) and always carries last_seq', () => {
    expect(buildSocketUrl('http://example.com', 'abc123')).toBe('ws://example.com/ws/meeting/abc123?last_seq=0&batch=1');
    expect(buildSocketUrl('https://h.example/app/', 'a/b c', 41)).toBe(
      'wss://h.example/app/ws/meeting/a%2Fb%20c?last_seq=41&batch=1',
    );
    expect(buildSocketUrl('ws://127.0.0.1:9', 'm', 7)).toBe('ws://127.0.0.1:9/ws/meeting/m?last_seq=7&batch=1');
  });

  it('never puts a token in the URL, even if the base had a query', () => {
    const url = buildSocketUrl('wss://h.example/?token=leak#x', 'm', 3);
    expect(url).toBe('wss://h.example/ws/meeting/m?last_seq=3&batch=1');
  });
});

describe('SeqTracker', () => {
  it('accepts increasing seqs once and drops replayed ones', () => {
    const tracker = new SeqTracker();
    const verdicts = [1, 2, 2, 1, 3, 5, 4].map((seq) => tracker.accept({ type: 'status', seq }));
    expect(verdicts).toEqual([true, true, false, false, true, true, false]);
    expect(tracker.lastSeq).toBe(5);
    expect(tracker.gaps).toBe(1);
  });

  it('always accepts messages without a seq and resumes from a start value', () => {
    const tracker = new SeqTracker(10);
    expect(tracker.accept({ type: 'connected' })).toBe(true);
    expect(tracker.accept({ type: 'transcript', seq: 10 })).toBe(false);
    expect(tracker.accept({ type: 'transcript', seq: 11 })).toBe(true);
  });
});

describe('dispatchMessage', () => {
  it('calls the seed-style handler for each message type', () => {
    const handlers = {
      onTranscript: vi.fn(),
      onStatus: vi.fn(),
      onSummary: vi.fn(),
      onError: vi.fn(),
      onConnected: vi.fn(),
    };
    const segment = { speaker: 'SPEAKER_01', text: 'Hello', timestamp: 1.2 };
    const messages = [
      { type: 'transcript', seq: 1, segment },
      { type: 'status', seq: 2, status: 'processing', details: { stage: 'transcription' } },
      { type: 'summary', seq: 3, summary: 'S', action_items: ['A'] },
      { type: 'error', seq: 4, error: 'boom', code: 'unsupported_audio' },
      { type: 'connected', last_seq: 0 },
      { type: 'pong' },
    ];
    messages.forEach((m) => dispatchMessage(m, handlers));
    expect(handlers.onTranscript).toHaveBeenCalledWith(segment, messages[0]);
    expect(handlers.onStatus).toHaveBeenCalledWith('processing', { stage: 'transcription' }, messages[1]);
    expect(handlers.onSummary).toHaveBeenCalledWith('S', ['A'], messages[2]);
    expect(handlers.onError).toHaveBeenCalledWith('boom', messages[3]);
    expect(handlers.onConnected).toHaveBeenCalledWith(messages[4]);
    expect(handlers.onTranscript).toHaveBeenCalledTimes(1);
  });
});

describe('describeCloseCode', () => {
  it('explains known codes and names unknown ones', () => {
    expect(describeCloseCode(4404)).toBe('This meeting does not exist or you do not have access to it.');
    expect(describeCloseCode(4999)).toBe('The connection closed (code 4999).');
  });
});
