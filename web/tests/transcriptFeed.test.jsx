// @vitest-environment jsdom
// When the transcript view follows its last line. jsdom lays nothing out, so the list's
// scrollHeight is given a value and scrollTop says whether the feed jumped to the bottom.
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { TranscriptFeed } from '../src/components/TranscriptFeed.jsx';
import { formatClock } from '../src/lib/format.js';

// Every rendered line (final or partial) formats its time once: the count of calls says how
// many lines a render went through.
vi.mock('../src/lib/format.js', async (original) => {
  const real = await original();
  return { ...real, formatClock: vi.fn(real.formatClock) };
});

const FULL_HEIGHT = 5000;

function line(seq) {
  return { seq, id: `s${seq}`, speaker: 'SPEAKER_00', text: `line ${seq}`, start: seq, end: seq + 1 };
}

function lines(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => line(from + i));
}

function feed(props) {
  return <TranscriptFeed captionSize={18} historyUntil={0} openedLive {...props} />;
}

function list() {
  return screen.getByTestId('transcript');
}

beforeEach(() => {
  vi.spyOn(HTMLElement.prototype, 'scrollHeight', 'get').mockReturnValue(FULL_HEIGHT);
  vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(400);
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('TranscriptFeed following', () => {
  it('opens a meeting that had finished at its first line, with nothing to follow', () => {
    render(feed({ lines: lines(1, 40), historyUntil: 45, openedLive: false }));
    expect(list().scrollTop).toBe(0);
    expect(screen.queryByTestId('follow-live')).toBeNull();
  });

  it('follows a meeting that was processing when the page opened', () => {
    render(feed({ lines: lines(1, 40), historyUntil: 45, openedLive: true }));
    expect(list().scrollTop).toBe(FULL_HEIGHT);
  });

  it('follows a finished meeting once it grows live (a new line past the replay point)', () => {
    const view = render(feed({ lines: lines(1, 40), historyUntil: 45, openedLive: false }));
    expect(list().scrollTop).toBe(0);
    view.rerender(feed({ lines: lines(1, 46), historyUntil: 45, openedLive: false }));
    expect(list().scrollTop).toBe(FULL_HEIGHT);
  });

  it('follows a finished meeting when partial words arrive (someone records again)', () => {
    const view = render(feed({ lines: lines(1, 40), historyUntil: 45, openedLive: false }));
    const partial = { segmentId: 'p1', revision: 1, speaker: 'SPEAKER_00', text: 'hello', start: 50 };
    view.rerender(feed({ lines: lines(1, 40), partials: [partial], historyUntil: 45, openedLive: false }));
    expect(list().scrollTop).toBe(FULL_HEIGHT);
  });

  it('stops following a live feed when the reader scrolls up, and offers to follow again', () => {
    const view = render(feed({ lines: lines(1, 40) }));
    const el = list();
    el.scrollTop = 1000;
    fireEvent.scroll(el);
    view.rerender(feed({ lines: lines(1, 41) }));
    expect(el.scrollTop).toBe(1000);
    fireEvent.click(screen.getByTestId('follow-live'));
    expect(el.scrollTop).toBe(FULL_HEIGHT);
  });
});

describe('TranscriptFeed rendering', () => {
  const noop = () => {};
  const edit = { canEdit: true, onRename: noop, onMerge: noop, onEnrol: noop };

  function partial(revision) {
    return [{ segmentId: 'p1', revision, speaker: 'SPEAKER_00', text: `words ${revision}`, start: 500 }];
  }

  it('renders only the partial, not every final line, when partial words change', () => {
    const all = lines(1, 300); // the reducer keeps the lines array while only partials change
    const view = render(feed({ lines: all, partials: partial(1), ...edit }));
    formatClock.mockClear();
    view.rerender(feed({ lines: all, partials: partial(2), ...edit }));
    expect(formatClock).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('transcript-partial').textContent).toContain('words 2');
  });

  it('still shows a rename on every line of that speaker', () => {
    const all = lines(1, 30);
    const view = render(feed({ lines: all, ...edit }));
    const named = { speakers: { SPEAKER_00: { name: 'Ada' } }, merges: {}, segment_speakers: {} };
    view.rerender(feed({ lines: all, speakers: named, ...edit }));
    const names = screen.getAllByTestId('speaker-rename-button').map((b) => b.textContent);
    expect(names).toEqual(Array(30).fill('Ada'));
  });
});
