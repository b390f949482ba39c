// Which text the transcript shows on meetings with English captions: the original speech,
// the translation, or both. Remembered across visits like the caption size.

import { useEffect, useState } from 'react';

export const CAPTION_TEXT_MODES = ['original', 'translation', 'both'];
const STORAGE_KEY = 'captionText';

function readStoredMode() {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    return CAPTION_TEXT_MODES.includes(stored) ? stored : 'both';
  } catch {
    return 'both'; // storage disabled: the default still applies
  }
}

export function useCaptionText() {
  const [mode, setMode] = useState(readStoredMode);
  useEffect(() => {
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, mode);
    } catch {
      // not persisted; the choice still applies for this visit
    }
  }, [mode]);
  return { mode, setMode };
}
