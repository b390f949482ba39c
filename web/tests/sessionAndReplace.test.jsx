// @vitest-environment jsdom
// Logout revokes on the server; uploading over a transcript asks first and sends replace=true.
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { AuthProvider, useAuth } from '../src/auth.jsx';
import { UploadPanel } from '../src/components/UploadPanel.jsx';
import { ApiError, api, uploadAudio } from '../src/lib/api.js';
import { loadToken, saveToken } from '../src/lib/auth.js';

function jsonResponse(status, body) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status });
}

class FakeXhr {
  static all = [];
  constructor() {
    FakeXhr.all.push(this);
    this.upload = {};
    this.headers = {};
  }
  open(method, url) {
    Object.assign(this, { method, url });
  }
  setRequestHeader(name, value) {
    this.headers[name] = value;
  }
  send(body) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  answer(status, body) {
    Object.assign(this, { status, responseText: JSON.stringify(body) });
    this.onload();
  }
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  localStorage.clear();
  FakeXhr.all = [];
});

describe('logout', () => {
  it('api.logout posts to /api/auth/logout with the bearer token', async () => {
    const fetchImpl = vi.fn(async () => jsonResponse(204));
    vi.stubGlobal('fetch', fetchImpl);
    await api.logout('tok');
    const [path, init] = fetchImpl.mock.calls[0];
    expect([path, init.method, init.headers.Authorization]).toEqual(['/api/auth/logout', 'POST', 'Bearer tok']);
  });

  it('the Log out action revokes the token on the server and forgets it locally', async () => {
    const calls = [];
    vi.stubGlobal('fetch', async (path, init) => {
      calls.push([path, init.method ?? 'GET', init.headers.Authorization]);
      if (path === '/api/auth/me') return jsonResponse(200, { id: 'u1', email: 'a@example.com', name: 'A' });
      return jsonResponse(204);
    });
    saveToken('jwt-1', 3600);
    function LogoutButton() {
      const { logout, user } = useAuth();
      return (
        <button type="button" onClick={logout}>
          {user ? `Log out ${user.name}` : 'Log out'}
        </button>
      );
    }
    render(
      <AuthProvider>
        <LogoutButton />
      </AuthProvider>,
    );
    await screen.findByText('Log out A');
    act(() => fireEvent.click(screen.getByRole('button')));
    await waitFor(() => expect(calls).toContainEqual(['/api/auth/logout', 'POST', 'Bearer jwt-1']));
    expect(loadToken()).toBeNull();
  });
});

describe('replacing a transcript', () => {
  it('uploadAudio sends replace=true only when asked and keeps the server code', async () => {
    const file = new File(['RIFF'], 'talk.wav', { type: 'audio/wav' });
    const first = uploadAudio('tok', 'm1', file, () => {}, FakeXhr);
    expect(FakeXhr.all[0].url).toBe('/api/meetings/m1/audio');
    FakeXhr.all[0].answer(409, { detail: 'has a transcript; send replace=true', code: 'transcript_exists' });
    const error = await first.promise.catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message]).toEqual([409, 'transcript_exists', 'has a transcript; send replace=true']);
    uploadAudio('tok', 'm1', file, () => {}, FakeXhr, { replace: true });
    expect(FakeXhr.all[1].url).toBe('/api/meetings/m1/audio?replace=true');
  });

  it('asks in an accessible dialog when the server says a transcript exists, then replaces', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    render(<UploadPanel token="tok" meetingId="m1" onApiError={(e) => e.message} />);
    const file = new File(['RIFF'], 'talk.wav', { type: 'audio/wav' });
    fireEvent.change(screen.getByTestId('upload-input'), { target: { files: [file] } });
    fireEvent.click(screen.getByTestId('upload-submit'));
    act(() => FakeXhr.all[0].answer(409, { detail: 'exists', code: 'transcript_exists' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Replace the transcript?' });
    // The dialog opened on an async XHR answer, outside act(): its focus effect may run a tick
    // after it is in the DOM, so wait for it instead of racing it.
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('confirm-cancel')));
    expect(screen.queryByTestId('upload-error')).toBeNull(); // a question, not an error
    fireEvent.click(screen.getByTestId('confirm-accept'));
    expect(dialog.isConnected).toBe(false);
    expect(FakeXhr.all[1].url).toBe('/api/meetings/m1/audio?replace=true');
    act(() => FakeXhr.all[1].answer(202, { job_id: 'j2', status: 'queued' }));
    expect((await screen.findByTestId('upload-message')).textContent).toContain('Uploaded talk.wav');
  });

  it('asks before uploading when the meeting is known to have a transcript; Cancel sends nothing', () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    render(<UploadPanel token="tok" meetingId="m1" onApiError={(e) => e.message} hasTranscript />);
    const file = new File(['RIFF'], 'talk.wav', { type: 'audio/wav' });
    fireEvent.change(screen.getByTestId('upload-input'), { target: { files: [file] } });
    fireEvent.click(screen.getByTestId('upload-submit'));
    expect(screen.getByRole('alertdialog')).toBeTruthy();
    fireEvent.click(screen.getByTestId('confirm-cancel'));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(FakeXhr.all).toHaveLength(0);
  });
});

describe('SharePanel members', () => {
  it('lists who has access and removes a member through the server', async () => {
    const { SharePanel } = await import('../src/components/SharePanel.jsx');
    let members = [
      { meeting_id: 'm1', user_id: 'u1', email: 'alice@example.com', role: 'owner' },
      { meeting_id: 'm1', user_id: 'u2', email: 'bob@example.com', role: 'viewer' },
    ];
    const calls = [];
    vi.stubGlobal('fetch', async (path, init) => {
      calls.push([init.method ?? 'GET', path]);
      if (init.method === 'DELETE') {
        members = members.filter((m) => m.user_id !== 'u2');
        return jsonResponse(204);
      }
      return jsonResponse(200, members);
    });
    render(<SharePanel token="tok" meetingId="m1" onApiError={(e) => e.message} />);
    const list = await screen.findByRole('list', { name: 'People with access' });
    expect(list.textContent).toContain('bob@example.com (viewer)');
    expect(list.textContent).not.toContain('alice@example.com'); // the owner cannot be removed
    fireEvent.click(screen.getByRole('button', { name: 'Remove bob@example.com' }));
    expect((await screen.findByTestId('share-message')).textContent).toBe('bob@example.com no longer has access.');
    expect(calls).toContainEqual(['DELETE', '/api/meetings/m1/members/u2']);
    await waitFor(() => expect(screen.queryByRole('list', { name: 'People with access' })).toBeNull());
  });
});
