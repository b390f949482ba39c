// Display helpers shared by the transcript, exports and tests.

/** Media offset in seconds as mm:ss (hours roll into minutes: 75:03 for 1 h 15 min 3 s). */
export function formatClock(seconds) {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const minutes = Math.floor(total / 60);
  const rest = total % 60;
  return `${String(minutes).padStart(2, '0')}:${String(rest).padStart(2, '0')}`;
}

/** "SPEAKER_01" reads badly aloud; show "Speaker 01". Other labels (real names) stay as they are. */
export function formatSpeaker(label) {
  if (!label) return 'Unknown speaker';
  const match = /^SPEAKER_(\d+)$/i.exec(label);
  return match ? `Speaker ${match[1]}` : label;
}

// Dark enough for 4.5:1 against white and light enough for 4.5:1 against nothing else: these
// colour the speaker name text and a border, so they must pass as text colours (WCAG AA).
export const SPEAKER_COLOURS = [
  '#1f5fa8', // blue
  '#a13d00', // burnt orange
  '#1d7a3a', // green
  '#8e2a8e', // purple
  '#b00035', // crimson
  '#00707a', // teal
  '#6b5300', // olive
  '#4b4ba8', // indigo
];

/** A stable colour per speaker: the number in SPEAKER_NN when present, else a string hash. */
export function speakerColour(label) {
  const match = /(\d+)$/.exec(label ?? '');
  let index;
  if (match) {
    index = Number(match[1]);
  } else {
    index = 0;
    for (const char of label ?? '') index = (index * 31 + char.charCodeAt(0)) >>> 0;
  }
  return SPEAKER_COLOURS[index % SPEAKER_COLOURS.length];
}

export const STAGE_LABELS = {
  upload: 'Audio received',
  diarization: 'Identifying speakers',
  transcription: 'Transcribing',
  alignment: 'Aligning words to speakers',
  summarization: 'Summarising',
  done: 'Done',
};

export function formatStage(stage) {
  return STAGE_LABELS[stage] ?? (stage ? stage[0].toUpperCase() + stage.slice(1) : 'Waiting');
}

/** Percent 0-100 from a 0-1 fraction, clamped; null when unknown. */
export function toPercent(progress) {
  if (typeof progress !== 'number' || Number.isNaN(progress)) return null;
  return Math.round(Math.min(1, Math.max(0, progress)) * 100);
}

export function formatDate(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
