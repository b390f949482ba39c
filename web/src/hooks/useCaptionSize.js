// Caption text size for the transcript, adjustable with the Smaller/Larger text buttons and remembered across visits.

import { useCallback, useEffect, useState } from 'react';

export const CAPTION_SIZES = [14, 16, 18, 20, 24, 28, 32, 40];
export const DEFAULT_CAPTION_SIZE = 18;
const STORAGE_KEY = 'captionSize';

function readStoredSize() {
  try {
    const stored = Number(globalThis.localStorage?.getItem(STORAGE_KEY));
    return CAPTION_SIZES.includes(stored) ? stored : DEFAULT_CAPTION_SIZE;
  } catch {
    return DEFAULT_CAPTION_SIZE; // storage disabled (private mode): fall back silently
  }
}

export function useCaptionSize() {
  const [size, setSize] = useState(readStoredSize);

  useEffect(() => {
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, String(size));
    } catch {
      // not persisted; the size still applies for this visit
    }
  }, [size]);

  const step = useCallback((delta) => {
    setSize((current) => {
      const index = CAPTION_SIZES.indexOf(current);
      const next = Math.min(CAPTION_SIZES.length - 1, Math.max(0, index + delta));
      return CAPTION_SIZES[next];
    });
  }, []);

  return {
    size,
    increase: () => step(1),
    decrease: () => step(-1),
    canIncrease: size < CAPTION_SIZES[CAPTION_SIZES.length - 1],
    canDecrease: size > CAPTION_SIZES[0],
  };
}
