import { useEffect, useRef } from 'react';

import { formatClock, formatSpeaker, speakerColour } from '../lib/format.js';

/**
 * The transcript as a list. Each line writes the speaker's name and time; the colour is extra.
 * It follows new lines until the reader scrolls up, so scrolling back to re-read is not yanked
 * away by the next line; scrolling back to the bottom follows again.
 *
 * Only an upward scroll stops the following. Deciding from "is the view at the bottom?" on
 * every scroll event breaks when lines arrive in a burst: the scroll event of our own jump to
 * the bottom is delivered after the next lines have already made the list taller, so it looks
 * like the reader left the bottom and the view would stop following mid-meeting.
 */
/** The text of a line for the chosen caption mode: the original speech, its English
 * translation (the original where a line has none), or both. */
function LineText({ line, textMode }) {
  const translation = line.translation;
  if (!translation || textMode === 'original') {
    return <span className="transcript__text">{line.text}</span>;
  }
  if (textMode === 'translation') {
    return (
      <span className="transcript__text" lang="en" data-testid="transcript-translation">
        {translation}
      </span>
    );
  }
  return (
    <>
      <span className="transcript__text">{line.text}</span>
      <span className="transcript__translation" lang="en" data-testid="transcript-translation">
        {translation}
      </span>
    </>
  );
}

export function TranscriptFeed({ lines, captionSize, textMode = 'original', language = null }) {
  const listRef = useRef(null);
  const stickRef = useRef(true);
  const lastTopRef = useRef(0);

  useEffect(() => {
    const list = listRef.current;
    if (!list || !stickRef.current) return;
    list.scrollTop = list.scrollHeight;
    lastTopRef.current = list.scrollTop;
  }, [lines.length]);

  const onScroll = () => {
    const list = listRef.current;
    if (!list) return;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (atBottom) stickRef.current = true;
    else if (list.scrollTop < lastTopRef.current) stickRef.current = false;
    lastTopRef.current = list.scrollTop;
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
      lang={language ?? undefined}
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
          <LineText line={line} textMode={textMode} />
        </li>
      ))}
    </ol>
  );
}
