import { useEffect, useRef } from 'react';

import { formatClock, speakerColour } from '../lib/format.js';
import { emptySpeakers, lineSpeaker } from '../lib/speakers.js';
import { SpeakerName } from './SpeakerName.jsx';

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
export function TranscriptFeed({ lines, captionSize, speakers = emptySpeakers, canEdit = false, onRename, onMerge, onEnrol }) {
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
  const labels = [...new Set(lines.map((line) => lineSpeaker(line, speakers).label))].sort();
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
      {lines.map((line) => {
        const who = lineSpeaker(line, speakers);
        return (
        <li
          key={line.seq ?? line.id}
          className="transcript__line"
          style={{ borderLeftColor: speakerColour(who.label) }}
          data-testid="transcript-line"
          data-seq={line.seq}
          data-speaker={who.label}
        >
          <span className="transcript__meta">
            <SpeakerName who={who} labels={labels} canEdit={canEdit} onRename={onRename} onMerge={onMerge} onEnrol={onEnrol} />{' '}
            <time className="transcript__time" dateTime={`PT${Math.floor(line.start)}S`}>
              {formatClock(line.start)}
            </time>
          </span>
          <span className="transcript__text">{line.text}</span>
        </li>
        );
      })}
    </ol>
  );
}
