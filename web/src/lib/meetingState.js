// Pure reducer for the live meeting view: the room's messages fold into one state object.
// It de-duplicates by seq as well, so a re-created socket that replays history (e.g. after a
// token refresh) can never double a line on screen.

import { emptySpeakers, speakersFrom } from './speakers.js';

export const initialMeetingState = {
  lastSeq: 0,
  speakers: emptySpeakers,
  lines: [],
  status: null,
  details: {},
  summary: null,
  errors: [],
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
  };
}

export function meetingReducer(state, action) {
  if (action.type === 'reset') return initialMeetingState;
  const message = action.message;
  if (!message || !isNew(state, message)) return state;
  const lastSeq = advance(state, message);
  switch (message.type) {
    case 'transcript':
      return { ...state, lastSeq, lines: [...state.lines, toLine(message)] };
    case 'status':
      return {
        ...state,
        lastSeq,
        status: message.status,
        details: mergeDetails(state.details, message.details ?? {}, message.status),
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
