// User-facing sentences for microphone failures (kept apart from audioCapture.js, which needs
// the browser's audio APIs, so that tests and the Record panel can use them anywhere).

/** A user-facing sentence for a getUserMedia / AudioContext failure. */
export function describeCaptureError(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Microphone access was denied. Allow the microphone for this site in your browser settings, then press Record again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No microphone was found. Connect one and press Record again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The microphone is in use by another application or could not be started.';
    case 'InsecureContextError':
      return 'Recording needs a secure page (HTTPS or localhost).';
    default:
      return `The microphone could not be started (${error?.name ?? 'unknown error'}).`;
  }
}

export function insecureContextError() {
  const error = new Error('navigator.mediaDevices is unavailable');
  error.name = 'InsecureContextError';
  return error;
}

