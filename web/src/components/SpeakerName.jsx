import { useState } from 'react';

import { speakerColour } from '../lib/format.js';

/**
 * A line's speaker. For editors it is a button that opens an inline form: rename the speaker
 * (every line of theirs changes, for everyone in the room) or mark them as the same person as
 * another speaker (merge). Escape or Cancel closes the form without a change; the result
 * arrives as a `speakers` event, so the form only reports errors.
 */
export function SpeakerName({ who, labels, canEdit, onRename, onMerge, onEnrol }) {
  const [editing, setEditing] = useState(false);
  const colour = { color: speakerColour(who.label) };
  const title = who.source === 'profile' && who.confidence != null
    ? `Recognised from a voice profile (similarity ${who.confidence.toFixed(2)})`
    : undefined;
  if (!canEdit) {
    return <span className="transcript__speaker" style={colour} title={title}>{who.name}</span>;
  }
  if (!editing) {
    return (
      <button
        type="button"
        className="transcript__speaker transcript__speaker--edit"
        style={colour}
        title={title}
        aria-label={`${who.name}: rename speaker`}
        data-testid="speaker-rename-button"
        onClick={() => setEditing(true)}
      >
        {who.name}
      </button>
    );
  }
  return (
    <SpeakerForm
      who={who}
      labels={labels}
      onRename={onRename}
      onMerge={onMerge}
      onEnrol={onEnrol}
      onClose={() => setEditing(false)}
    />
  );
}

function SpeakerForm({ who, labels, onRename, onMerge, onEnrol, onClose }) {
  const [name, setName] = useState(who.name === who.label ? '' : who.name);
  const [into, setInto] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const others = labels.filter((label) => label !== who.label);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      if (into) await onMerge(who.label, into);
      else {
        await onRename(who.label, name.trim());
        if (remember && name.trim() && onEnrol) await onEnrol(who.label, name.trim());
      }
      onClose();
    } catch (err) {
      setError(err.message || 'Could not change the speaker');
      setBusy(false);
    }
  };

  return (
    <form
      className="speaker-form"
      aria-label={`Edit speaker ${who.label}`}
      data-testid="speaker-form"
      onSubmit={submit}
      onKeyDown={(event) => event.key === 'Escape' && onClose()}
    >
      <label>
        Name for {who.label}
        <input
          autoFocus
          value={name}
          maxLength={100}
          onChange={(event) => setName(event.target.value)}
          data-testid="speaker-name-input"
        />
      </label>
      {onEnrol && (
        <label className="speaker-form__check">
          <input type="checkbox" checked={remember} onChange={(event) => setRemember(event.target.checked)} data-testid="speaker-remember" />
          Remember this voice in future meetings (stores a voice profile, not audio)
        </label>
      )}
      {others.length > 0 && (
        <label>
          Same person as
          <select value={into} onChange={(event) => setInto(event.target.value)} data-testid="speaker-merge-select">
            <option value="">(nobody else)</option>
            {others.map((label) => (
              <option key={label} value={label}>{label}</option>
            ))}
          </select>
        </label>
      )}
      <button type="submit" className="button button--small" disabled={busy} data-testid="speaker-save">Save</button>
      <button type="button" className="button button--small button--secondary" onClick={onClose}>Cancel</button>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
