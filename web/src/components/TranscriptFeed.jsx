import { memo, useEffect, useMemo, useRef, useState } from 'react';

import { formatClock, formatSpeaker, speakerColour } from '../lib/format.js';
import { emptySpeakers, lineSpeaker } from '../lib/speakers.js';
import { SpeakerName } from './SpeakerName.jsx';

/**
 * The transcript as a list. Each line writes the speaker's name and time; the colour is extra.
 * It follows new lines until the reader scrolls up, so scrolling back to re-read is not yanked
 * away by the next line; scrolling back to the bottom (or "Follow live") follows again.
 *
 * A meeting that had already finished when the page opened is history, read from the top: its
 * replay does not pull the view down (the replay of a long meeting used to open the page at
 * its last lines). Following starts once the feed grows live: a line past the replay point
 * (``historyUntil``, the first ``connected`` message's ``last_seq``) or partial words. A
 * meeting that was processing when the page opened (``openedLive``) follows from the start.
 *
 * Only an upward scroll stops the following. Deciding from "is the view at the bottom?" on
 * every scroll event breaks when lines arrive in a burst: the scroll event of our own jump to
 * the bottom is delivered after the next lines have already made the list taller, so it looks
 * like the reader left the bottom and the view would stop following mid-meeting.
 *
 * Live partials (words of an utterance still being spoken) come last, marked provisional by
 * style (italic, dotted underline) and in words ("typing…"), not by colour alone; the final
 * line replaces each one. This list is not a live region: the page's announcer speaks finals.
 */
/** The text of a line for the chosen caption mode: the original speech, its English
 * translation (the original where a line has none), or both. */
// dir="auto": a line in Arabic, Hebrew, Persian or Urdu reads right to left, its punctuation
// at its end, inside a feed laid out left to right.
function LineText({ line, textMode }) {
  const translation = line.translation;
  if (!translation || textMode === 'original') {
    return <span className="transcript__text" dir="auto">{line.text}</span>;
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
      <span className="transcript__text" dir="auto">{line.text}</span>
      <span className="transcript__translation" lang="en" data-testid="transcript-translation">
        {translation}
      </span>
    </>
  );
}

export function TranscriptFeed({
  lines,
  partials = [],
  captionSize,
  textMode = 'original',
  language = null,
  historyUntil = 0,
  openedLive = true,
  speakers = emptySpeakers,
  canEdit = false,
  onRename,
  onMerge,
  onEnrol,
}) {
  const listRef = useRef(null);
  const stickRef = useRef(true);
  const lastTopRef = useRef(0);
  const [following, setFollowing] = useState(true);
  // Worked out again only when the lines or the speaker state change, not on every partial.
  const whos = useMemo(() => lines.map((line) => lineSpeaker(line, speakers)), [lines, speakers]);
  const labelsKey = [...new Set(whos.map((who) => who.label))].sort().join('\n');
  // One object while nothing in it changes, so that FinalLine's memo holds (see there).
  const speakerEdit = useMemo(
    () => ({ labels: labelsKey ? labelsKey.split('\n') : [], canEdit, onRename, onMerge, onEnrol }),
    [labelsKey, canEdit, onRename, onMerge, onEnrol],
  );
  // Changes whenever the bottom of the list can have grown: a new line or new partial words.
  const growth = `${lines.length}:${partials.map((p) => `${p.segmentId}/${p.revision}`).join(',')}`;
  // Lines come in seq order (the reducer takes only seqs above its last), so the newest decides.
  const live = openedLive || partials.length > 0 || (lines.at(-1)?.seq ?? 0) > historyUntil;

  useEffect(() => {
    const list = listRef.current;
    if (!list || !stickRef.current || !live) return;
    list.scrollTop = list.scrollHeight;
    lastTopRef.current = list.scrollTop;
  }, [growth, live]);

  const follow = (value) => {
    stickRef.current = value;
    setFollowing(value);
  };

  const onScroll = () => {
    const list = listRef.current;
    if (!list) return;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (atBottom) follow(true);
    else if (list.scrollTop < lastTopRef.current) follow(false);
    lastTopRef.current = list.scrollTop;
  };

  const followLive = () => {
    const list = listRef.current;
    follow(true);
    if (list) {
      list.scrollTop = list.scrollHeight;
      lastTopRef.current = list.scrollTop;
    }
  };

  if (lines.length === 0 && partials.length === 0) {
    return (
      <p className="transcript transcript--empty" data-testid="transcript-empty">
        No transcript yet. Lines appear here as each part of the audio is transcribed.
      </p>
    );
  }
  return (
    <>
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
        {lines.map((line, index) => (
          <FinalLine
            key={line.seq ?? line.id}
            line={line}
            textMode={textMode}
            who={whos[index]}
            speakerEdit={speakerEdit}
          />
        ))}
        {partials.map((partial) => (
          <PartialLine key={`partial-${partial.segmentId}`} partial={partial} />
        ))}
      </ol>
      {live && !following && (
        <button type="button" className="button button--small transcript__follow" onClick={followLive} data-testid="follow-live">
          Follow live
        </button>
      )}
    </>
  );
}

/** Whether a final line would render the same: the line object (the reducer never changes one
 * in place), the speaker it reads as, and the caption mode. A live meeting re-renders the feed
 * on every partial, several times a second, and hours of unchanged lines must not re-render
 * with it. */
function sameFinalLine(before, after) {
  const [a, b] = [before.who, after.who];
  return before.line === after.line && before.textMode === after.textMode
    && before.speakerEdit === after.speakerEdit && a.label === b.label && a.name === b.name
    && a.confidence === b.confidence && a.source === b.source;
}

const FinalLine = memo(function FinalLine({ line, textMode, who, speakerEdit }) {
  return (
    <li
      className="transcript__line"
      style={{ borderLeftColor: speakerColour(who.label) }}
      data-testid="transcript-line"
      data-seq={line.seq}
      data-speaker={who.label}
      data-segment-id={line.segmentId}
    >
      <span className="transcript__meta">
        <SpeakerName who={who} {...speakerEdit} />{' '}
        <time className="transcript__time" dateTime={`PT${Math.floor(line.start)}S`}>
          {formatClock(line.start)}
        </time>
      </span>
      <LineText line={line} textMode={textMode} />
    </li>
  );
}, sameFinalLine);

function PartialLine({ partial }) {
  const speaker = partial.speaker ? formatSpeaker(partial.speaker) : 'Speaking now';
  return (
    <li className="transcript__line transcript__line--partial" data-testid="transcript-partial" data-segment-id={partial.segmentId}>
      <span className="transcript__meta">
        <span className="transcript__speaker">{speaker}</span>{' '}
        <time className="transcript__time" dateTime={`PT${Math.floor(partial.start)}S`}>
          {formatClock(partial.start)}
        </time>{' '}
        <span className="transcript__typing">(typing…)</span>
      </span>
      {/* Stable words only: the newest guess (pendingText) changes too often to read. */}
      <span className="transcript__text transcript__text--provisional" dir="auto">
        {partial.text}
      </span>
    </li>
  );
}
