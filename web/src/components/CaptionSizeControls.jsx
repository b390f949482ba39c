/** A-/A+ buttons for the transcript text size. */
export function CaptionSizeControls({ caption }) {
  return (
    <div className="caption-controls" role="group" aria-label="Caption text size">
      <button
        type="button"
        className="button button--small"
        onClick={caption.decrease}
        disabled={!caption.canDecrease}
        aria-label="Decrease caption text size"
        data-testid="caption-smaller"
      >
        A-
      </button>
      <span data-testid="caption-size" aria-live="polite">
        {caption.size}px
      </span>
      <button
        type="button"
        className="button button--small"
        onClick={caption.increase}
        disabled={!caption.canIncrease}
        aria-label="Increase caption text size"
        data-testid="caption-larger"
      >
        A+
      </button>
    </div>
  );
}
