import { describe, expect, it } from 'vitest';

import { SPEAKER_COLOURS, formatClock, formatSpeaker, formatStage, speakerColour, toPercent } from '../src/lib/format.js';

function luminance(hex) {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const linear = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
}

const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

describe('format helpers', () => {
  it('formats media offsets as mm:ss', () => {
    expect([0, 5.9, 61.2, 599, 4503, -3, NaN].map(formatClock)).toEqual([
      '00:00', '00:05', '01:01', '09:59', '75:03', '00:00', '00:00',
    ]);
  });

  it('writes speaker names readably', () => {
    expect(formatSpeaker('SPEAKER_01')).toBe('Speaker 01');
    expect(formatSpeaker('Alice')).toBe('Alice');
    expect(formatSpeaker('')).toBe('Unknown speaker');
  });

  it('gives each speaker a stable colour', () => {
    expect(speakerColour('SPEAKER_00')).toBe(SPEAKER_COLOURS[0]);
    expect(speakerColour('SPEAKER_09')).toBe(SPEAKER_COLOURS[1]);
    expect(speakerColour('Alice')).toBe(speakerColour('Alice'));
  });

  it('uses speaker colours that pass WCAG AA as text on white', () => {
    for (const colour of SPEAKER_COLOURS) expect(contrast(colour, '#ffffff')).toBeGreaterThanOrEqual(4.5);
  });

  it('names stages and clamps progress', () => {
    expect(formatStage('diarization')).toBe('Identifying speakers');
    expect(formatStage('custom')).toBe('Custom');
    expect(formatStage(undefined)).toBe('Waiting');
    expect([0.354, 1.7, -1, undefined].map(toPercent)).toEqual([35, 100, 0, null]);
  });
});
