// The connection indicator's sentence for each state: words, never colour alone.
import { describe, expect, it } from 'vitest';

import { describeConnection, recoveryAction } from '../src/components/ConnectionIndicator.jsx';

const RESUME = 'Nothing will be lost: the transcript resumes where it stopped.';

describe('describeConnection', () => {
  it('counts down the wait between reconnect attempts', () => {
    const state = { status: 'reconnecting', reason: 'The connection dropped.', retryInMs: 2_400, attempt: 2 };
    expect(describeConnection(state)).toBe(`The connection dropped. Retrying in 2 s (attempt 2). ${RESUME}`);
  });

  it('says an attempt is under way when there is no wait', () => {
    const state = { status: 'reconnecting', reason: 'The server is restarting.', retryInMs: null, attempt: 1 };
    expect(describeConnection(state)).toBe(`The server is restarting. Trying again now (attempt 1). ${RESUME}`);
  });

  it('explains why the page is offline', () => {
    const state = { status: 'offline', reason: 'Your session has expired or is invalid. Please log in again.' };
    expect(describeConnection(state)).toBe('Your session has expired or is invalid. Please log in again.');
  });
});

describe('recoveryAction', () => {
  it('offers a reconnect (no other step) while the close is one that retrying can fix', () => {
    expect(recoveryAction({ status: 'offline', closeCode: 1006 })).toBeNull();
    expect(recoveryAction({ status: 'reconnecting', closeCode: 4404 })).toBeNull();
  });

  it('sends the user to log in after 4401', () => {
    expect(recoveryAction({ status: 'offline', closeCode: 4401 })).toBe('login');
  });

  it('sends the user back to the meetings list after 4403 and 4404', () => {
    expect(recoveryAction({ status: 'offline', closeCode: 4403 })).toBe('meetings');
    expect(recoveryAction({ status: 'offline', closeCode: 4404 })).toBe('meetings');
  });
});
