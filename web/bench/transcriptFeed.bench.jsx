// @vitest-environment jsdom
// What one partial-words update costs the transcript view of a long meeting: `npm run bench`.
// jsdom, not a browser: the figure compares versions of this code, it is not a frame time.
import { cleanup, render } from '@testing-library/react';
import { afterAll, bench, describe } from 'vitest';

import { TranscriptFeed } from '../src/components/TranscriptFeed.jsx';

const LINES = 2000; // about two hours of meeting
const lines = Array.from({ length: LINES }, (_, i) => ({
  seq: i + 1,
  id: `s${i}`,
  speaker: `SPEAKER_0${i % 4}`,
  text: `line ${i}, a sentence of about the usual length in a meeting`,
  start: i * 3.5,
  end: i * 3.5 + 3,
}));
const noop = () => {};

function feed(revision) {
  const partials = [{ segmentId: 'p', revision, speaker: 'SPEAKER_00', text: `words ${revision}`, start: LINES * 3.5 }];
  return (
    <TranscriptFeed lines={lines} partials={partials} captionSize={18} canEdit onRename={noop} onMerge={noop} onEnrol={noop} />
  );
}

describe(`transcript view, ${LINES} final lines`, () => {
  const view = render(feed(0));
  let revision = 0;
  afterAll(() => cleanup());
  bench('one partial-words update', () => {
    revision += 1;
    view.rerender(feed(revision));
  });
});
