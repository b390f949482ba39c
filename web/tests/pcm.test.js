// The pure audio helpers the AudioWorklet runs: resampling, PCM16 encoding, levels, framing, ring.
import { describe, expect, it } from 'vitest';

import {
  AntiAliasFilter,
  Downsampler,
  FRAME_SAMPLES,
  LinearResampler,
  PcmFramer,
  PcmRing,
  floatToPcm16,
  levelPercent,
  pcm16FromBytes,
  pcm16ToBytes,
  rms,
} from '../src/lib/pcm.js';

const ramp = (n) => Float32Array.from({ length: n }, (_, i) => i);

function inChunks(resampler, input, sizes) {
  const parts = [];
  let offset = 0;
  for (let k = 0; offset < input.length; k += 1) {
    const size = sizes[k % sizes.length];
    parts.push(...resampler.process(input.subarray(offset, offset + size)));
    offset += size;
  }
  return parts;
}

describe('LinearResampler', () => {
  it('takes every third sample from 48 kHz', () => {
    expect(Array.from(new LinearResampler(48_000).process(ramp(12)))).toEqual([0, 3, 6, 9]);
  });

  it('interpolates linearly between input samples when upsampling 8 kHz', () => {
    expect(Array.from(new LinearResampler(8_000).process(Float32Array.from([0, 1, 0, -1])))).toEqual([
      0, 0.5, 1, 0.5, 0, -0.5,
    ]);
  });

  it('gives the same output whether the stream arrives whole or in render quanta', () => {
    const input = Float32Array.from({ length: 44_100 }, (_, i) => Math.sin(i / 7));
    const whole = Array.from(new LinearResampler(44_100).process(input));
    const chunked = inChunks(new LinearResampler(44_100), input, [128, 1, 77, 300]);
    expect(chunked).toEqual(whole);
    // One second in, one second out (the last output needs one sample of lookahead).
    expect(whole.length).toBe(16_000);
    // 44.1 kHz → 16 kHz: output n sits at input n * 2.75625 (n = 160 → exactly 441).
    expect(whole[160]).toBeCloseTo(Math.sin(441 / 7), 6);
  });

  it('does not drift over a long stream', () => {
    const resampler = new LinearResampler(44_100);
    const quanta = 206_250; // 26 400 000 samples: about 10 minutes at 44.1 kHz
    let produced = 0;
    const quantum = new Float32Array(128);
    for (let i = 0; i < quanta; i += 1) produced += resampler.process(quantum).length;
    // Every output n with n * 44100/16000 < total - 1 (it needs its right neighbour): exact.
    expect(produced).toBe(Math.ceil(((quanta * 128 - 1) * 16_000) / 44_100));
    expect(produced).toBe(9_578_231);
  });

  it('passes 16 kHz through unchanged and rejects bad rates', () => {
    expect(Array.from(new LinearResampler(16_000).process(Float32Array.from([0.25, -0.5, 1])))).toEqual([0.25, -0.5]);
    expect(() => new LinearResampler(0)).toThrow(RangeError);
    expect(() => new LinearResampler(44_100.5)).toThrow(RangeError);
  });
});

const tone = (hz, rate, seconds) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));
const rmsOf = (samples) => Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);

describe('Downsampler (anti-alias filter + linear interpolation)', () => {
  it('keeps speech-band tones and stops what would fold into them', () => {
    // 48 kHz → 16 kHz: 1 kHz passes; 12 kHz would alias to 4 kHz with interpolation alone.
    const steady = (out) => out.subarray(200);
    const speech = steady(new Downsampler(48_000).process(tone(1_000, 48_000, 0.5)));
    expect(rmsOf(speech)).toBeCloseTo(0.5 / Math.SQRT2, 2);
    const hiss = tone(12_000, 48_000, 0.5);
    expect(rmsOf(steady(new LinearResampler(48_000).process(hiss)))).toBeGreaterThan(0.3);
    expect(rmsOf(steady(new Downsampler(48_000).process(hiss)))).toBeLessThan(0.005); // < -40 dB
  });

  it('filters render quanta exactly as one whole chunk', () => {
    const input = tone(3_000, 44_100, 0.2);
    const whole = new AntiAliasFilter(44_100).process(input);
    expect(Float32Array.from(inChunks(new AntiAliasFilter(44_100), input, [128, 7, 300]))).toEqual(whole);
  });

  it('does not filter when the input rate is at or below 16 kHz', () => {
    expect(new Downsampler(16_000).filter).toBeNull();
    expect(Array.from(new Downsampler(8_000).process(Float32Array.from([0, 1, 0, -1])))).toEqual([
      0, 0.5, 1, 0.5, 0, -0.5,
    ]);
  });
});

describe('PCM16 encoding and levels', () => {
  it('encodes floats as clipped little-endian int16', () => {
    const bytes = new Uint8Array(floatToPcm16(Float32Array.from([0, 1, -1, 0.5, 2, -3])));
    expect(Array.from(bytes)).toEqual([0, 0, 0xff, 0x7f, 0x00, 0x80, 0x00, 0x40, 0xff, 0x7f, 0x00, 0x80]);
  });

  it('round-trips Int16Array through bytes', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    expect(Array.from(pcm16FromBytes(pcm16ToBytes(samples)))).toEqual(Array.from(samples));
    expect(pcm16ToBytes(samples).byteLength).toBe(12);
  });

  it('computes RMS and a decibel meter level', () => {
    expect(rms(Float32Array.from([0.5, -0.5, 0.5, -0.5]))).toBe(0.5);
    expect(rms(new Float32Array(0))).toBe(0);
    expect(levelPercent(1)).toBe(100);
    expect(levelPercent(0.001)).toBe(0); // -60 dBFS
    expect(levelPercent(Math.sqrt(0.001))).toBe(50); // -30 dBFS
    expect(levelPercent(0)).toBe(0);
  });
});

describe('PcmFramer', () => {
  it('cuts 100 ms frames of 3200 bytes and keeps the remainder for the next push', () => {
    const framer = new PcmFramer();
    expect(framer.push(new Float32Array(1000).fill(0.5))).toEqual([]);
    const frames = framer.push(new Float32Array(2500).fill(0.5));
    expect(frames).toHaveLength(2);
    expect(frames.map((f) => f.pcm.byteLength)).toEqual([3200, 3200]);
    expect(frames[0].rms).toBe(0.5);
    expect(pcm16FromBytes(frames[1].pcm)[0]).toBe(16384);
    const last = framer.flush();
    expect(last.pcm.byteLength).toBe((3500 - 2 * FRAME_SAMPLES) * 2);
    expect(framer.flush()).toBeNull();
  });
});

describe('PcmRing', () => {
  it('keeps the newest samples by absolute index and refuses what is gone', () => {
    const ring = new PcmRing(5);
    ring.push(Int16Array.from([1, 2, 3]));
    ring.push(pcm16ToBytes(Int16Array.from([4, 5, 6, 7])));
    expect([ring.start, ring.end]).toEqual([2, 7]);
    expect(Array.from(ring.slice(2))).toEqual([3, 4, 5, 6, 7]);
    expect(Array.from(ring.slice(4, 6))).toEqual([5, 6]);
    expect(() => ring.slice(1, 3)).toThrow(RangeError);
    ring.push(Int16Array.from([8, 9, 10, 11, 12, 13, 14]));
    expect([ring.start, ring.end]).toEqual([9, 14]);
    expect(Array.from(ring.slice(9))).toEqual([10, 11, 12, 13, 14]);
  });
});
