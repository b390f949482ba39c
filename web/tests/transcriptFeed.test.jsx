// @vitest-environment jsdom
// When the transcript view follows its last line. jsdom lays nothing out, so the list's
// scrollHeight is given a value and scrollTop says whether the feed jumped to the bottom.
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { TranscriptFeed } from '../src/components/TranscriptFeed.jsx';

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
