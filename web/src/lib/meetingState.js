// Pure reducer for the live meeting view: the room's messages fold into one state object.
// It de-duplicates by seq as well, so a re-created socket that replays history (e.g. after a
// token refresh) can never double a line on screen.

export const initialMeetingState = {
  lastSeq: 0,
  lines: [],
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
        language: languageFrom(message.details ?? {}, state.language),
      };
    case 'summary':
      return { ...state, lastSeq, summary: summaryFrom(message) };
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
