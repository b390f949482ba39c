import { useEffect, useRef } from 'react';

import { formatClock, formatSpeaker, speakerColour } from '../lib/format.js';

/**
 * The transcript as a list. Each line writes the speaker's name and time; the colour is extra.
 * It follows new lines only while the reader is at the bottom, so scrolling back to re-read
 * is not yanked away by the next line.
 */
export function TranscriptFeed({ lines, captionSize }) {
  const listRef = useRef(null);
  const stickRef = useRef(true);

  useEffect(() => {
    const list = listRef.current;
    if (list && stickRef.current) list.scrollTop = list.scrollHeight;
  }, [lines.length]);

  const onScroll = () => {
    const list = listRef.current;
    if (list) stickRef.current = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  };

  if (lines.length === 0) {
    return (
      <p className="transcript transcript--empty" data-testid="transcript-empty">
        No transcript yet. Lines appear here as each part of the audio is transcribed.
      </p>
    );
  }
  return (
    <ol
      className="transcript"
      ref={listRef}
      onScroll={onScroll}
      style={{ fontSize: `${captionSize}px` }}
      data-testid="transcript"
      tabIndex={0}
      aria-label="Transcript"
    >
      {lines.map((line) => (
        <li
          key={line.seq ?? line.id}
          className="transcript__line"
          style={{ borderLeftColor: speakerColour(line.speaker) }}
          data-testid="transcript-line"
          data-seq={line.seq}
          data-speaker={line.speaker}
        >
          <span className="transcript__meta">
            <span className="transcript__speaker" style={{ color: speakerColour(line.speaker) }}>
              {formatSpeaker(line.speaker)}
            </span>{' '}
            <time className="transcript__time" dateTime={`PT${Math.floor(line.start)}S`}>
              {formatClock(line.start)}
            </time>
          </span>
          <span className="transcript__text">{line.text}</span>
        </li>
      ))}
    </ol>
  );
}
