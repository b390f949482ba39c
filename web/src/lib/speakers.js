// The meeting's speaker state from `speakers` events (names, merges, reassigned lines), and
// how a line or a summary reads with it. Segments are never re-sent, so names are applied
// on display; the same rules as the server's exports (core/speaker_edits.py).

import { formatSpeaker } from './format.js';

export const emptySpeakers = { speakers: {}, merges: {}, segment_speakers: {} };

/** The speaker state carried by a `speakers` message (complete; it replaces the old one). */
export function speakersFrom(message) {
  return {
    speakers: message.speakers ?? {},
    merges: message.merges ?? {},
    segment_speakers: message.segment_speakers ?? {},
  };
}

/** A label after following merges (bounded, in case of a cycle). */
export function resolveLabel(label, state) {
  let current = label;
  for (let i = 0; i < 64 && state.merges[current]; i += 1) current = state.merges[current];
  return current;
}

/** `{label, name, confidence}` of a transcript line: reassignment, then merges, then name. */
export function lineSpeaker(line, state) {
  const label = resolveLabel(state.segment_speakers[line.id] ?? line.speaker, state);
  const named = state.speakers[label];
  return { label, name: named?.name ?? formatSpeaker(label), confidence: named?.confidence ?? null, source: named?.source ?? null };
}

/** Free text (a summary, an action item) with SPEAKER_NN labels replaced by names. */
export function withNames(text, state) {
  if (!text) return text;
  return text.replace(/\b[A-Z]+_\d{2,}\b/g, (label) => {
    const resolved = resolveLabel(label, state);
    return state.speakers[resolved]?.name ?? formatSpeaker(resolved);
  });
}
