// @vitest-environment jsdom
// Meetings in other languages: the reducer keeps captions and the detected language, the feed
// shows original, English or both, the summary says what it could not do, exports choose.
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { LanguagePanel } from '../src/components/LanguagePanel.jsx';
import { SummaryPanel } from '../src/components/SummaryPanel.jsx';
import { TranscriptFeed } from '../src/components/TranscriptFeed.jsx';
import { downloadTranscript, errorDetail } from '../src/lib/api.js';
import { initialMeetingState, meetingReducer } from '../src/lib/meetingState.js';

afterEach(cleanup);

const fold = (messages) => messages.reduce((s, message) => meetingReducer(s, { message }), initialMeetingState);

const italianLine = {
  type: 'transcript',
  seq: 2,
  segment: { id: 'w0-0', speaker: 'SPEAKER_00', text: 'Buongiorno a tutti.', start: 0.5, end: 2, translation: 'Good morning everyone.' },
};
const detected = {
  type: 'status',
  seq: 1,
  status: 'processing',
  details: { stage: 'transcription', message: 'Detected language: Italian', language: 'it', language_probability: 0.97, language_source: 'detected' },
};

describe('languages in the meeting state', () => {
  it('keeps the caption of a line and the detected language across later statuses', () => {
    const state = fold([detected, italianLine, { type: 'status', seq: 3, status: 'completed', details: { message: 'done' } }]);
    expect(state.lines[0].translation).toBe('Good morning everyone.');
    expect(state.language).toEqual({ code: 'it', probability: 0.97, source: 'detected' });
  });

  it('carries the summary language note', () => {
    const state = fold([{ type: 'summary', seq: 1, summary: 'S', action_items: [], details: { language_note: 'English rules only' } }]);
    expect(state.summary.languageNote).toBe('English rules only');
  });
});

describe('TranscriptFeed caption modes', () => {
  const lines = fold([italianLine, { ...italianLine, seq: 3, segment: { id: 'w0-1', speaker: 'SPEAKER_01', text: 'Hello.', start: 3, end: 4 } }]).lines;

  it('shows the original by default', () => {
    render(<TranscriptFeed lines={lines} captionSize={18} />);
    expect(screen.getByTestId('transcript').textContent).toContain('Buongiorno a tutti.');
    expect(screen.queryByTestId('transcript-translation')).toBeNull();
  });

  it('shows English only, falling back to the original where a line has no caption', () => {
    render(<TranscriptFeed lines={lines} captionSize={18} textMode="translation" language="it" />);
    const [first, second] = screen.getAllByTestId('transcript-line');
    expect(first.textContent).toContain('Good morning everyone.');
    expect(first.textContent).not.toContain('Buongiorno');
    expect(second.textContent).toContain('Hello.');
    expect(screen.getByTestId('transcript').getAttribute('lang')).toBe('it');
  });

  it('lets a right-to-left line take its own direction', () => {
    const arabic = { ...italianLine, segment: { ...italianLine.segment, text: 'صباح الخير للجميع.', translation: undefined } };
    render(<TranscriptFeed lines={fold([arabic]).lines} captionSize={18} />);
    const text = screen.getByText('صباح الخير للجميع.');
    expect(text.getAttribute('dir')).toBe('auto');
  });

  it('shows both, the caption marked as English', () => {
    render(<TranscriptFeed lines={lines} captionSize={18} textMode="both" />);
    const [first] = screen.getAllByTestId('transcript-line');
    expect(first.textContent).toContain('Buongiorno a tutti.');
    expect(within(first).getByTestId('transcript-translation').getAttribute('lang')).toBe('en');
  });
});

describe('panels', () => {
  it('the language panel shows the detected language and its probability', () => {
    const meeting = { id: 'm1', language: 'auto', spoken_language: null, translate_to: 'en' };
    render(
      <LanguagePanel token="t" meeting={meeting} detected={{ code: 'it', probability: 0.97 }} textMode="both" onTextMode={() => {}} canEdit onApiError={(e) => e.message} />,
    );
    expect(screen.getByTestId('meeting-language').textContent).toBe('Italian (detected, 97%)');
    expect(screen.getByTestId('caption-text-both').checked).toBe(true);
    expect(screen.getByTestId('captions-toggle').checked).toBe(true);
  });

  it('the language panel names the default language a meeting with none set was transcribed in', () => {
    const meeting = { id: 'm1', language: null, spoken_language: null, translate_to: null };
    const state = fold([
      { type: 'status', seq: 1, status: 'processing', details: { stage: 'transcription', message: 'Transcribing in English (no language was set)', language: 'en', language_source: 'default' } },
    ]);
    render(
      <LanguagePanel token="t" meeting={meeting} detected={state.language} textMode="original" onTextMode={() => {}} canEdit onApiError={(e) => e.message} />,
    );
    expect(screen.getByTestId('meeting-language').textContent).toBe('English (default: no language set)');
    // Not "Detect automatically": saving captions alone must not switch the meeting to detection.
    expect(screen.getByTestId('language-select').value).toBe('unset');
  });

  it('saving a meeting without a language leaves it unset', async () => {
    const fetchImpl = vi.fn(async () => new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchImpl);
    const meeting = { id: 'm1', language: null, spoken_language: null, translate_to: null };
    render(
      <LanguagePanel token="t" meeting={meeting} detected={null} textMode="original" onTextMode={() => {}} canEdit onApiError={(e) => e.message} />,
    );
    screen.getByTestId('captions-toggle').click();
    screen.getByTestId('language-save').click();
    await vi.waitFor(() => expect(fetchImpl).toHaveBeenCalled());
    expect(JSON.parse(fetchImpl.mock.calls[0][1].body)).toEqual({ translate_to: 'en', reprocess: false });
    vi.unstubAllGlobals();
  });

  it('the summary panel says what the engine could not do in the language', () => {
    render(<SummaryPanel summary={{ text: 'S', actionItems: [], decisions: [], topics: [], languageNote: 'Key sentences only.' }} />);
    expect(screen.getByTestId('summary-language-note').textContent).toBe('Key sentences only.');
  });
});

describe('api', () => {
  it('exports ask for the chosen text', async () => {
    const fetchImpl = vi.fn(async () => new Response('x', { status: 404 }));
    await expect(downloadTranscript('t', 'm1', 'srt', fetchImpl, 'both')).rejects.toThrow();
    expect(fetchImpl.mock.calls[0][0]).toBe('/api/meetings/m1/transcript?format=srt&text=both');
  });

  it('turns an unsupported_language detail into its message', () => {
    const body = { detail: { code: 'unsupported_language', message: 'No loaded model transcribes Klingon' } };
    expect(errorDetail(body, 400)).toBe('No loaded model transcribes Klingon');
  });
});
