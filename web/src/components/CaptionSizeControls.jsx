/**
 * Smaller/Larger buttons for the transcript text size. The visible words are the accessible
 * names (WCAG 2.5.3 Label in Name): a speech-control user says what they see.
 */
export function CaptionSizeControls({ caption }) {
  return (
    <div className="caption-controls" role="group" aria-label="Caption text size">
      <button
        type="button"
        className="button button--small"
        onClick={caption.decrease}
        disabled={!caption.canDecrease}
        data-testid="caption-smaller"
      >
        Smaller text
      </button>
      <span data-testid="caption-size" aria-live="polite">
        {caption.size}px
      </span>
      <button
        type="button"
        className="button button--small"
        onClick={caption.increase}
        disabled={!caption.canIncrease}
        data-testid="caption-larger"
      >
        Larger text
      </button>
    </div>
  );
}
