// Microphone capture for live recording: getUserMedia → AudioWorklet (resampling to 16 kHz
// PCM16, see src/worklets/recorder.worklet.js) → `onFrame(pcm, rms)` every 100 ms.
//
// `?worker&url` makes Vite bundle the worklet with its imports into one file and hand back its
// URL, so `audioWorklet.addModule` works in the production build as well as in dev.
import workletUrl from '../worklets/recorder.worklet.js?worker&url';

import { insecureContextError } from './captureErrors.js';

export { describeCaptureError } from './captureErrors.js';

/**
 * Starts capturing. Resolves with `{ sampleRate, stop }`; `stop()` posts the last partial
 * frame and releases the microphone. Rejects with the getUserMedia error (captureErrors.js words it).
 */
export async function startCapture({ onFrame }) {
  if (!globalThis.navigator?.mediaDevices?.getUserMedia) throw insecureContextError();
  // Created before any await, while the click's user activation still lets it start playing.
  const context = new AudioContext();
  let stream = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: false },
    });
    await context.audioWorklet.addModule(workletUrl);
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, 'recorder-processor', { numberOfInputs: 1, numberOfOutputs: 1 });
    node.port.onmessage = (event) => {
      if (event.data?.type === 'frame') onFrame(event.data.pcm, event.data.rms);
    };
    // A muted path to the destination: only nodes the destination pulls are sure to run.
    const mute = context.createGain();
    mute.gain.value = 0;
    source.connect(node).connect(mute).connect(context.destination);
    if (context.state === 'suspended') await context.resume();
    return { sampleRate: context.sampleRate, stop: () => stopCapture({ stream, context, source, node }) };
  } catch (error) {
    stream?.getTracks().forEach((track) => track.stop());
    await context.close();
    throw error;
  }
}

/** Flushes the worklet's partial frame (waits at most 500 ms), then releases everything. */
async function stopCapture({ stream, context, source, node }) {
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 500);
    const previous = node.port.onmessage;
    node.port.onmessage = (event) => {
      previous(event);
      if (event.data?.type === 'flushed') {
        clearTimeout(timer);
        resolve();
      }
    };
    node.port.postMessage({ type: 'flush' });
  });
  source.disconnect();
  node.port.onmessage = null;
  stream.getTracks().forEach((track) => track.stop());
  await context.close();
}
