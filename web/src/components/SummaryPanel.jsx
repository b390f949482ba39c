import { emptySpeakers, withNames } from '../lib/speakers.js';

function ActionItem({ item, speakers }) {
  const extras = [
    item.owner ? `owner: ${withNames(item.owner, speakers)}` : null,
    item.due ? `due: ${item.due}` : null,
  ].filter(Boolean);
  return (
    <li data-testid="action-item">
      {withNames(item.text, speakers)}
      {extras.length > 0 && <span className="muted"> ({extras.join(', ')})</span>}
    </li>
  );
}

function TextList({ title, items, testId }) {
  if (!items?.length) return null;
  return (
    <>
      <h3>{title}</h3>
      <ul data-testid={testId}>
        {items.map((item, i) => (
          <li key={i}>{typeof item === 'string' ? item : (item.text ?? JSON.stringify(item))}</li>
        ))}
      </ul>
    </>
  );
}

/** Summary, action items, decisions and topics from the `summary` message. */
export function SummaryPanel({ summary, speakers = emptySpeakers }) {
  return (
    <section className="panel" aria-labelledby="summary-heading" data-testid="summary-panel">
      <h2 id="summary-heading">Summary</h2>
      {!summary ? (
        <p className="muted" data-testid="summary-pending">
          The summary and action items appear here when the transcript is complete.
        </p>
      ) : (
        <>
          <p data-testid="summary-text">{withNames(summary.text, speakers)}</p>
          {summary.languageNote && (
            <p className="hint" data-testid="summary-language-note">{summary.languageNote}</p>
          )}
          <h3>Action items</h3>
          {summary.actionItems.length === 0 ? (
            <p className="muted">No action items found.</p>
          ) : (
            <ul data-testid="action-items">
              {summary.actionItems.map((item, i) => (
                <ActionItem key={i} item={item} speakers={speakers} />
              ))}
            </ul>
          )}
          <TextList title="Decisions" items={summary.decisions} testId="decisions" />
          <TextList title="Topics" items={summary.topics} testId="topics" />
        </>
      )}
    </section>
  );
}
