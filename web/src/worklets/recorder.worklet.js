// AudioWorklet processor: microphone at the context's rate → 16 kHz mono PCM16 frames of
// 100 ms (low-passed first, so nothing above 8 kHz folds into the speech band), each posted to
// the main thread with its RMS level. Runs on the audio thread, so it only resamples and
// encodes; the socket lives on the main thread (liveAudio.js).
/* global sampleRate, registerProcessor, AudioWorkletProcessor */

import { Downsampler, PcmFramer } from '../lib/pcm.js';

class RecorderProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new Downsampler(sampleRate);
    this.framer = new PcmFramer();
    this.port.onmessage = (event) => {
      if (event.data?.type === 'flush') this.#flush();
    };
  }

  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length) {
      for (const frame of this.framer.push(this.resampler.process(mixToMono(channels)))) {
        this.port.postMessage({ type: 'frame', ...frame }, [frame.pcm]);
      }
    }
    return true; // keep running while the graph holds this node
  }

  #flush() {
    const frame = this.framer.flush();
    if (frame) this.port.postMessage({ type: 'frame', ...frame }, [frame.pcm]);
    this.port.postMessage({ type: 'flushed' });
  }
}

function mixToMono(channels) {
  if (channels.length === 1) return channels[0];
  const mono = new Float32Array(channels[0].length);
  for (const channel of channels) {
    for (let i = 0; i < mono.length; i += 1) mono[i] += channel[i] / channels.length;
  }
  return mono;
}

registerProcessor('recorder-processor', RecorderProcessor);
