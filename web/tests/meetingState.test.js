import { describe, expect, it } from 'vitest';

import { initialMeetingState, meetingReducer } from '../src/lib/meetingState.js';

const fold = (messages, state = initialMeetingState) =>
  messages.reduce((s, message) => meetingReducer(s, { message }), state);

const transcript = (seq, start, speaker = 'SPEAKER_01') => ({
  type: 'transcript',
  seq,
  segment: { id: `w0-${seq}`, speaker, text: `t${seq}`, timestamp: start, start, end: start + 1 },
});

describe('meetingReducer', () => {
  it('appends transcript lines in order and ignores replayed seqs', () => {
    const state = fold([transcript(1, 0.5), transcript(2, 3), transcript(2, 3), transcript(1, 0.5)]);
    expect(state.lines).toEqual([
      { seq: 1, id: 'w0-1', speaker: 'SPEAKER_01', text: 't1', start: 0.5, end: 1.5 },
      { seq: 2, id: 'w0-2', speaker: 'SPEAKER_01', text: 't2', start: 3, end: 4 },
    ]);
    expect(state.lastSeq).toBe(2);
  });

  it('falls back to the seed timestamp field when start is missing', () => {
    const state = fold([{ type: 'transcript', seq: 1, segment: { speaker: 'A', text: 'x', timestamp: 7.5 } }]);
    expect(state.lines[0]).toMatchObject({ start: 7.5, end: 7.5, id: 'seq-1' });
  });

  it('tracks status and keeps window progress within a stage', () => {
    const state = fold([
      { type: 'status', seq: 1, status: 'processing', details: { stage: 'transcription', progress: 0.35, window: 3, windows: 9 } },
      { type: 'status', seq: 2, status: 'processing', details: { stage: 'transcription', message: 'still going' } },
    ]);
    expect(state.status).toBe('processing');
    expect(state.details).toEqual({ stage: 'transcription', message: 'still going', progress: 0.35, window: 3, windows: 9 });
  });

  it('marks completion as stage done at 100%', () => {
    const state = fold([{ type: 'status', seq: 1, status: 'completed', details: { message: 'ok' } }]);
    expect(state.details).toEqual({ message: 'ok', stage: 'done', progress: 1 });
  });

  it('prefers structured action items and falls back to the seed strings', () => {
    const structured = fold([
      {
        type: 'summary',
        seq: 1,
        summary: 'S',
        action_items: ['Alice: send the build'],
        details: { action_items: [{ text: 'send the build', owner: 'SPEAKER_01', due: 'Friday' }], decisions: ['ship'], topics: [] },
      },
    ]);
    expect(structured.summary).toEqual({
      text: 'S',
      actionItems: [{ text: 'send the build', owner: 'SPEAKER_01', due: 'Friday' }],
      decisions: ['ship'],
      topics: [],
    });
    const seed = fold([{ type: 'summary', seq: 1, summary: 'S', action_items: ['Review PRs'] }]);
    expect(seed.summary.actionItems).toEqual([{ text: 'Review PRs' }]);
  });

  it('collects processing errors and resets', () => {
    const state = fold([{ type: 'error', seq: 3, error: 'Processing failed', code: 'unsupported_audio' }]);
    expect(state.errors).toEqual([{ seq: 3, text: 'Processing failed', code: 'unsupported_audio' }]);
    expect(meetingReducer(state, { type: 'reset' })).toBe(initialMeetingState);
  });
});

const partial = (segmentId, revision, text, extra = {}) => ({
  type: 'transcript_partial',
  segment_id: segmentId,
  revision,
  text,
  words: text ? text.split(' ').map((word, i) => ({ word, start: i, end: i + 0.5 })) : [],
  pending_text: '',
  start: 10,
  end: 12,
  ...extra,
});

const final = (seq, segmentId, text) => ({
  type: 'transcript',
  seq,
  segment: { id: `w${seq}-0`, segment_id: segmentId, speaker: 'SPEAKER_00', text, timestamp: 10, start: 10, end: 12 },
});

describe('meetingReducer live partials', () => {
  it('shows the newest partial of an utterance in place, without touching seq', () => {
    const state = fold([partial('u1', 0, 'so the'), partial('u1', 1, 'so the build')]);
    expect(state.partials).toHaveLength(1);
    expect(state.partials[0]).toMatchObject({ segmentId: 'u1', revision: 1, text: 'so the build' });
    expect(state.lines).toEqual([]);
    expect(state.lastSeq).toBe(0);
  });

  it('replaces the partial with the final line of the same segment_id, never duplicating it', () => {
    const state = fold([partial('u1', 0, 'so the'), partial('u2', 0, 'next'), final(1, 'u1', 'So the build goes.')]);
    expect(state.lines.map((l) => l.text)).toEqual(['So the build goes.']);
    expect(state.partials.map((p) => p.segmentId)).toEqual(['u2']);
  });

  it('ignores a stale partial: older revision, or an utterance already final', () => {
    let state = fold([partial('u1', 2, 'so the build'), partial('u1', 1, 'so the')]);
    expect(state.partials[0].text).toBe('so the build');
    state = fold([final(1, 'u1', 'So the build goes.'), partial('u1', 3, 'so the build goes')], state);
    expect(state.partials).toEqual([]);
    expect(state.lines).toHaveLength(1);
  });

  it('drops a withdrawn partial (no words) and all partials when the job ends', () => {
    let state = fold([partial('u1', 0, 'uh'), partial('u1', 1, '')]);
    expect(state.partials).toEqual([]);
    state = fold([partial('u2', 0, 'still talking'), { type: 'status', seq: 1, status: 'completed', details: {} }], state);
    expect(state.partials).toEqual([]);
  });

  it('keeps a resumed replay of finals free of duplicates while partials come and go', () => {
    const messages = [partial('u1', 0, 'hello'), final(1, 'u1', 'Hello.'), partial('u2', 0, 'and')];
    const replay = [final(1, 'u1', 'Hello.'), final(2, 'u2', 'And then.')];
    const state = fold([...messages, ...replay]);
    expect(state.lines.map((l) => l.text)).toEqual(['Hello.', 'And then.']);
    expect(state.partials).toEqual([]);
  });

  it('keeps uploads (finals without segment_id) working as before', () => {
    const state = fold([transcript(1, 0.5)]);
    expect(state.lines).toHaveLength(1);
    expect(state.finalSegmentIds).toEqual({});
  });
});

describe('speakers events', () => {
  it('replace the speaker state and resolve lines through reassignment, merge and name', async () => {
    const { meetingReducer: reduce, initialMeetingState: initial } = await import('../src/lib/meetingState.js');
    const { lineSpeaker, withNames } = await import('../src/lib/speakers.js');
    const message = {
      type: 'speakers', seq: 3, speakers: { SPEAKER_00: { name: 'Dana', source: 'profile', confidence: 0.91 } },
      merges: { SPEAKER_02: 'SPEAKER_00' }, segment_speakers: { 'w0-1': 'SPEAKER_02' },
    };
    const state = reduce(initial, { message });
    expect(state.lastSeq).toBe(3);
    expect(lineSpeaker({ id: 'w0-1', speaker: 'SPEAKER_01' }, state.speakers)).toEqual({
      label: 'SPEAKER_00', name: 'Dana', confidence: 0.91, source: 'profile',
    });
    expect(lineSpeaker({ id: 'w0-9', speaker: 'SPEAKER_01' }, state.speakers).name).toBe('Speaker 01');
    expect(withNames('SPEAKER_02 and SPEAKER_01 agreed', state.speakers)).toBe('Dana and Speaker 01 agreed');
    const cleared = reduce(state, { message: { type: 'speakers', seq: 4, speakers: {}, merges: {}, segment_speakers: {} } });
    expect(cleared.speakers).toEqual({ speakers: {}, merges: {}, segment_speakers: {} });
  });
});
