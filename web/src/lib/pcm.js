// Pure audio helpers for live recording (PROTOCOL.md "Live audio in": 16 kHz mono PCM16 LE).
//
// Framework- and DOM-free on purpose: the AudioWorklet imports this module (it runs on the
// audio thread, where there is no window) and Vitest drives it directly with exact numbers.

export const TARGET_RATE = 16_000;
/** 100 ms at 16 kHz: small enough for low latency, far below the server's frame limit. */
export const FRAME_SAMPLES = 1_600;
export const BYTES_PER_SAMPLE = 2;

/**
 * Linear-interpolating resampler from any input rate to `outRate`, carrying its state across
 * chunks so that a stream cut into 128-sample render quanta comes out exactly as if it had
 * been resampled in one piece.
 *
 * Why integer bookkeeping: output sample `n` sits at input position n * inRate / outRate.
 * Computing that product from integers (instead of adding a float step each time) keeps the
 * position exact for hours, so a long meeting never drifts against the wall clock.
 */
export class LinearResampler {
  constructor(inRate, outRate = TARGET_RATE) {
    if (!(inRate > 0 && outRate > 0) || !Number.isInteger(inRate) || !Number.isInteger(outRate)) {
      throw new RangeError(`sample rates must be positive integers (got ${inRate} → ${outRate})`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    this.produced = 0; // output samples emitted so far
    this.consumed = 0; // input samples before the current chunk
    this.previous = 0; // the last sample of the previous chunk (index -1 of the next one)
  }

  /** Resamples one chunk (Float32Array); returns the output samples it completes. */
  process(input) {
    const length = input.length;
    const out = [];
    for (;;) {
      const position = (this.produced * this.inRate) / this.outRate - this.consumed;
      const index = Math.floor(position);
      if (index + 1 >= length) break; // the next sample is not here yet
      const frac = position - index;
      const left = index < 0 ? this.previous : input[index];
      out.push(left + (input[index + 1] - left) * frac);
      this.produced += 1;
    }
    if (length > 0) this.previous = input[length - 1];
    this.consumed += length;
    return Float32Array.from(out);
  }
}

/**
 * Low-pass FIR (windowed sinc, Blackman window) for the microphone's rate before it is taken
 * down to 16 kHz. Linear interpolation alone folds everything between 8 kHz and the input's
 * Nyquist (a 12 kHz hiss of fricatives, fans, keyboard clicks at 48 kHz) back into the speech
 * band. At 48 kHz this passes up to 6 kHz (-0.4 dB; 7 kHz -4.3 dB) and takes 9 kHz down 52 dB,
 * 12 kHz 85 dB (measured through `Downsampler`). History
 * carries across chunks, so render quanta give exactly what one whole chunk would.
 */
export class AntiAliasFilter {
  constructor(inRate, outRate = TARGET_RATE, taps = 63) {
    const cutoff = (0.45 * outRate) / inRate; // cycles per input sample: 7.2 kHz at 16 kHz out
    const middle = (taps - 1) / 2;
    const weights = Array.from({ length: taps }, (_, k) => {
      const x = k - middle;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      const window =
        0.42 - 0.5 * Math.cos((2 * Math.PI * k) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * k) / (taps - 1));
      return sinc * window;
    });
    const gain = weights.reduce((sum, w) => sum + w, 0);
    this.weights = Float32Array.from(weights, (w) => w / gain); // unity gain at 0 Hz
    this.history = new Float32Array(taps - 1);
  }

  process(input) {
    const taps = this.weights.length;
    const padded = new Float32Array(this.history.length + input.length);
    padded.set(this.history);
    padded.set(input, this.history.length);
    const out = new Float32Array(input.length);
    for (let i = 0; i < input.length; i += 1) {
      let sum = 0;
      for (let k = 0; k < taps; k += 1) sum += this.weights[k] * padded[i + k];
      out[i] = sum;
    }
    this.history = padded.slice(padded.length - this.history.length);
    return out;
  }
}

/** The microphone's rate → 16 kHz: the anti-alias filter first when going down, then linear
 * interpolation (enough once nothing above the new Nyquist is left). */
export class Downsampler {
  constructor(inRate, outRate = TARGET_RATE) {
    this.resampler = new LinearResampler(inRate, outRate);
    this.filter = inRate > outRate ? new AntiAliasFilter(inRate, outRate) : null;
  }

  process(input) {
    return this.resampler.process(this.filter ? this.filter.process(input) : input);
  }
}

/** Float samples in [-1, 1] (clipped outside) → 16-bit little-endian PCM bytes. */
export function floatToPcm16(samples) {
  const buffer = new ArrayBuffer(samples.length * BYTES_PER_SAMPLE);
  const view = new DataView(buffer);
  for (let i = 0; i < samples.length; i += 1) {
    const s = Math.max(-1, Math.min(1, samples[i] || 0));
    view.setInt16(i * BYTES_PER_SAMPLE, Math.round(s < 0 ? s * 32768 : s * 32767), true);
  }
  return buffer;
}

/** Root mean square of float samples (0 for an empty chunk). */
export function rms(samples) {
  if (!samples.length) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i += 1) sum += samples[i] * samples[i];
  return Math.sqrt(sum / samples.length);
}

/**
 * A level in 0..100 for the meter: RMS on a decibel scale from `floorDb` (silence, 0) to
 * 0 dBFS (100). A linear scale would leave normal speech (about -30 dBFS) at 3 %.
 */
export function levelPercent(rmsValue, floorDb = -60) {
  if (!(rmsValue > 0)) return 0;
  const db = 20 * Math.log10(rmsValue);
  return Math.round(Math.max(0, Math.min(1, 1 - db / floorDb)) * 100);
}

/**
 * Collects resampled float audio into fixed frames of `frameSamples` (100 ms at 16 kHz),
 * each returned as PCM16 LE bytes with its RMS level.
 */
export class PcmFramer {
  constructor(frameSamples = FRAME_SAMPLES) {
    this.frameSamples = frameSamples;
    this.pending = new Float32Array(frameSamples);
    this.filled = 0;
  }

  /** Adds samples; returns the frames they complete: [{ pcm: ArrayBuffer, rms: number }]. */
  push(samples) {
    const frames = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.frameSamples - this.filled, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.frameSamples) frames.push(this.#emit());
    }
    return frames;
  }

  /** The partial last frame (or null), e.g. when recording stops. */
  flush() {
    return this.filled ? this.#emit() : null;
  }

  #emit() {
    const frame = this.pending.slice(0, this.filled);
    this.filled = 0;
    return { pcm: floatToPcm16(frame), rms: rms(frame) };
  }
}

/**
 * The last `capacity` PCM16 samples of a stream, addressed by absolute sample index (sample
 * 0 is the first one ever pushed). Used to resend what a dropped connection lost: memory stays
 * bounded however long the meeting runs.
 */
export class PcmRing {
  constructor(capacity) {
    if (!(capacity > 0)) throw new RangeError('capacity must be positive');
    this.capacity = capacity;
    this.data = new Int16Array(capacity);
    this.end = 0; // absolute index one past the newest sample
  }

  /** Absolute index of the oldest sample still held. */
  get start() {
    return Math.max(0, this.end - this.capacity);
  }

  /** Appends samples (Int16Array, or PCM16 LE bytes as an ArrayBuffer). */
  push(samples) {
    const values = samples instanceof ArrayBuffer ? pcm16FromBytes(samples) : samples;
    const tail = values.length > this.capacity ? values.subarray(values.length - this.capacity) : values;
    const skipped = values.length - tail.length;
    let write = (this.end + skipped) % this.capacity;
    for (let i = 0; i < tail.length; i += 1) {
      this.data[write] = tail[i];
      write = write + 1 === this.capacity ? 0 : write + 1;
    }
    this.end += values.length;
  }

  /** Samples [from, to) as a new Int16Array; throws when part of that range is gone. */
  slice(from, to = this.end) {
    if (from < this.start || to > this.end || from > to) {
      throw new RangeError(`samples ${from}..${to} are not held (have ${this.start}..${this.end})`);
    }
    const out = new Int16Array(to - from);
    for (let i = 0; i < out.length; i += 1) out[i] = this.data[(from + i) % this.capacity];
    return out;
  }
}

/** PCM16 LE bytes → Int16Array, independent of the machine's byte order. */
export function pcm16FromBytes(buffer) {
  const view = new DataView(buffer);
  const out = new Int16Array(Math.floor(buffer.byteLength / BYTES_PER_SAMPLE));
  for (let i = 0; i < out.length; i += 1) out[i] = view.getInt16(i * BYTES_PER_SAMPLE, true);
  return out;
}

/** Int16Array → PCM16 LE bytes (an ArrayBuffer of exactly 2 bytes per sample). */
export function pcm16ToBytes(samples) {
  const buffer = new ArrayBuffer(samples.length * BYTES_PER_SAMPLE);
  const view = new DataView(buffer);
  for (let i = 0; i < samples.length; i += 1) view.setInt16(i * BYTES_PER_SAMPLE, samples[i], true);
  return buffer;
}
