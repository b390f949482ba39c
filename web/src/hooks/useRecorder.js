// Record button state: microphone capture (audioCapture.js) feeding a LiveAudioClient.
// The capture starts first so a permission problem is reported before any session exists;
// frames captured while the socket is still opening wait in the client's ring buffer.
import { useCallback, useEffect, useRef, useState } from 'react';

import { describeCaptureError } from '../lib/captureErrors.js';
import { LiveAudioClient } from '../lib/liveAudio.js';
import { levelPercent } from '../lib/pcm.js';

const IDLE = { status: 'idle', reason: '', closeCode: null, level: 0, elapsedS: 0 };

async function loadCapture() {
  // Loaded on demand: the worklet URL import is a Vite build feature and the capture code is
  // only needed by people who record.
  return import('../lib/audioCapture.js');
}

export function useRecorder(meetingId, token) {
  const [state, setState] = useState(IDLE);
  const clientRef = useRef(null);
  const captureRef = useRef(null);
  const patch = useCallback((p) => setState((s) => ({ ...s, ...p })), []);

  const releaseCapture = useCallback(async () => {
    const capture = captureRef.current;
    captureRef.current = null;
    if (capture) await capture.stop();
  }, []);

  const start = useCallback(async ({ replace = false } = {}) => {
    if (clientRef.current) return;
    setState({ ...IDLE, status: 'starting' });
    const { startCapture } = await loadCapture();
    const client = new LiveAudioClient({
      meetingId,
      token,
      replace,
      onStateChange: (s) => patch({ status: s.status, reason: s.reason, closeCode: s.closeCode }),
    });
    clientRef.current = client;
    try {
      captureRef.current = await startCapture({
        onFrame: (pcm, rms) => {
          client.push(pcm);
          patch({ level: levelPercent(rms), elapsedS: client.capturedSeconds });
        },
      });
    } catch (error) {
      clientRef.current = null;
      setState({ ...IDLE, status: 'failed', reason: describeCaptureError(error) });
      return;
    }
    client.start().then(async () => {
      await releaseCapture();
      if (clientRef.current === client) clientRef.current = null;
      patch({ level: 0 });
    });
  }, [meetingId, token, patch, releaseCapture]);

  const stop = useCallback(async () => {
    const client = clientRef.current;
    if (!client) return;
    await releaseCapture(); // posts the last partial frame before `stop` goes out
    client.stop();
  }, [releaseCapture]);

  useEffect(
    () => () => {
      clientRef.current?.abort('The page was closed.');
      clientRef.current = null;
      releaseCapture();
    },
    [releaseCapture],
  );

  return { ...state, start, stop };
}
