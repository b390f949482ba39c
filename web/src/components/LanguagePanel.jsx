import { useState } from 'react';

import { api } from '../lib/api.js';
import { languageName } from '../lib/languages.js';

const CHOICES = ['auto', 'en', 'it', 'fi', 'cs', 'de', 'es', 'fr', 'nl', 'pl', 'pt', 'sv'];
// A meeting created without a language is transcribed in the server's default (English on the
// CPU profile), not detected: the select says so, and saving it leaves the language unset.
const UNSET = 'unset';
const TEXT_LABELS = { original: 'Original', translation: 'English', both: 'Both' };

/** The meeting's language (detected or set), English captions, and which text to show. */
export function LanguagePanel({ token, meeting, detected, textMode, onTextMode, canEdit, onApiError }) {
  const [language, setLanguage] = useState(meeting?.language ?? UNSET);
  const [captions, setCaptions] = useState(meeting?.translate_to === 'en');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  if (!meeting) return null;
  const spoken = detected?.code ?? meeting.spoken_language;
  const probability = detected?.probability ?? meeting.language_probability;

  const save = async (reprocess) => {
    setBusy(true);
    setError('');
    setMessage('');
    try {
      await api.updateMeetingLanguage(token, meeting.id, {
        language: language === UNSET ? undefined : language,
        translateTo: captions ? 'en' : null,
        reprocess,
      });
      setMessage(reprocess ? 'Saved; processing the recording again.' : 'Saved for the next recording.');
    } catch (err) {
      setError(onApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="language-heading">
      <h2 id="language-heading">Language</h2>
      <p data-testid="meeting-language">
        {spoken ? languageName(spoken) : 'Not known yet'}
        {spoken && probability != null && ` (detected, ${Math.round(probability * 100)}%)`}
        {detected?.code && detected.source === 'default' && ' (default: no language set)'}
      </p>
      <fieldset className="caption-text" data-testid="caption-text">
        <legend>Show</legend>
        {Object.entries(TEXT_LABELS).map(([mode, label]) => (
          <label key={mode}>
            <input
              type="radio"
              name="caption-text"
              value={mode}
              checked={textMode === mode}
              onChange={() => onTextMode(mode)}
              data-testid={`caption-text-${mode}`}
            />{' '}
            {label}
          </label>
        ))}
      </fieldset>
      {canEdit && (
        <form onSubmit={(e) => { e.preventDefault(); save(false); }}>
          <label>
            Spoken language{' '}
            <select value={language} onChange={(e) => setLanguage(e.target.value)} data-testid="language-select">
              {!meeting.language && <option value={UNSET}>Not set (the server&apos;s default)</option>}
              {CHOICES.map((code) => (
                <option key={code} value={code}>
                  {code === 'auto' ? 'Detect automatically' : languageName(code)}
                </option>
              ))}
            </select>
          </label>
          <label>
            <input type="checkbox" checked={captions} onChange={(e) => setCaptions(e.target.checked)} data-testid="captions-toggle" />{' '}
            English captions
          </label>
          <div className="button-row">
            <button type="submit" className="button button--secondary" disabled={busy} data-testid="language-save">
              Save
            </button>
            <button type="button" className="button button--secondary" disabled={busy} onClick={() => save(true)}>
              Save and process again
            </button>
          </div>
        </form>
      )}
      {message && <p role="status">{message}</p>}
      {error && <p role="alert" className="error" data-testid="language-error">{error}</p>}
    </section>
  );
}
