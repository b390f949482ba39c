// Pure reducer for the live meeting view: the room's messages fold into one state object.
// It de-duplicates by seq as well, so a re-created socket that replays history (e.g. after a
// token refresh) can never double a line on screen.
//
// Live partials (`transcript_partial`, no seq) are kept apart from the final lines, one per
// open utterance (`segment_id`), and the final `transcript` with the same `segment_id`
// replaces its partial: a caption is shown once, first provisional, then final. A partial
// older than the one shown (revision) or for an utterance already final is stale and ignored.

import { emptySpeakers, speakersFrom } from './speakers.js';

export const initialMeetingState = {
  lastSeq: 0,
  speakers: emptySpeakers,
  lines: [],
  partials: [],
  finalSegmentIds: {},
  status: null,
  details: {},
  summary: null,
  errors: [],
  language: null, // { code, probability, source } once the server says (detected or requested)
};

function isNew(state, message) {
  return typeof message.seq !== 'number' || message.seq > state.lastSeq;
}

function advance(state, message) {
  return typeof message.seq === 'number' ? Math.max(state.lastSeq, message.seq) : state.lastSeq;
}

function toLine(message) {
  const segment = message.segment ?? {};
  const start = segment.start ?? segment.timestamp ?? 0;
  return {
    seq: message.seq,
    id: segment.id ?? `seq-${message.seq}`,
    speaker: segment.speaker ?? '',
    text: segment.text ?? '',
    start,
    end: segment.end ?? start,
    ...(segment.segment_id ? { segmentId: segment.segment_id } : {}),
    // English caption of the same speech, on meetings that ask for translated captions
    ...(segment.translation ? { translation: segment.translation } : {}),
  };
}

function languageFrom(details, previous) {
  if (!details.language) return previous;
  return {
    code: details.language,
    probability: details.language_probability ?? null,
    source: details.language_source ?? null,
  };
}

/** Keeps the stage's last known progress when a later status message omits it. */
function mergeDetails(previous, next, status) {
  const merged = { ...next };
  if (next.stage && next.stage === previous.stage) {
    for (const key of ['progress', 'window', 'windows']) {
      if (merged[key] === undefined && previous[key] !== undefined) merged[key] = previous[key];
    }
  }
  if (status === 'completed') return { ...merged, stage: merged.stage ?? 'done', progress: 1 };
  return merged;
}

function summaryFrom(message) {
  const details = message.details ?? {};
  const structured = Array.isArray(details.action_items) ? details.action_items : null;
  const actionItems = structured ?? (message.action_items ?? []).map((text) => ({ text }));
  return {
    text: message.summary ?? '',
    actionItems: actionItems.map((item) => (typeof item === 'string' ? { text: item } : item)),
    decisions: details.decisions ?? [],
    topics: details.topics ?? [],
    // what the engine could not do in the meeting's language (e.g. English-only rules)
    ...(details.language_note ? { languageNote: details.language_note } : {}),
  };
}

function toPartial(message) {
  return {
    segmentId: message.segment_id,
    revision: message.revision ?? 0,
    speaker: message.speaker ?? '',
    text: message.text ?? '',
    pendingText: message.pending_text ?? '',
    start: message.start ?? 0,
    end: message.end ?? message.start ?? 0,
  };
}

function withPartial(state, message) {
  const id = message.segment_id;
  if (typeof id !== 'string' || state.finalSegmentIds[id]) return state;
  const shown = state.partials.find((p) => p.segmentId === id);
  if (shown && shown.revision >= (message.revision ?? 0)) return state;
  const others = state.partials.filter((p) => p.segmentId !== id);
  const withdrawn = !(message.words?.length || message.text || message.pending_text);
  if (withdrawn) return shown ? { ...state, partials: others } : state;
  const next = toPartial(message);
  const partials = shown
    ? state.partials.map((p) => (p.segmentId === id ? next : p))
    : [...others, next].sort((a, b) => a.start - b.start);
  return { ...state, partials };
}

function withFinal(state, message, lastSeq) {
  const id = message.segment?.segment_id;
  const lines = [...state.lines, toLine(message)];
  if (typeof id !== 'string') return { ...state, lastSeq, lines };
  return {
    ...state,
    lastSeq,
    lines,
    partials: state.partials.filter((p) => p.segmentId !== id),
    finalSegmentIds: { ...state.finalSegmentIds, [id]: true },
  };
}

/** Partials end with the job: a finished or failed session has nothing left open. */
function closePartials(state, status) {
  return status === 'completed' || status === 'failed' ? [] : state.partials;
}

export function meetingReducer(state, action) {
  if (action.type === 'reset') return initialMeetingState;
  const message = action.message;
  if (!message || !isNew(state, message)) return state;
  if (message.type === 'transcript_partial') return withPartial(state, message);
  const lastSeq = advance(state, message);
  switch (message.type) {
    case 'transcript':
      return withFinal(state, message, lastSeq);
    case 'status':
      return {
        ...state,
        lastSeq,
        status: message.status,
        partials: closePartials(state, message.status),
        details: mergeDetails(state.details, message.details ?? {}, message.status),
        language: languageFrom(message.details ?? {}, state.language),
      };
    case 'summary':
      return { ...state, lastSeq, summary: summaryFrom(message) };
    case 'speakers':
      return { ...state, lastSeq, speakers: speakersFrom(message) };
    case 'error':
      return {
        ...state,
        lastSeq,
        errors: [...state.errors, { seq: message.seq, text: message.error, code: message.code ?? null }],
      };
    default:
      return { ...state, lastSeq };
  }
}
