// @vitest-environment jsdom
// Redirects render their target at once. A redirect issued by a child's effect on the first
// render (logged out at `/`) used to run before the router's listener existed: blank page.
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import App from '../src/App.jsx';
import { navigate, safeNextPath } from '../src/lib/router.jsx';

const REST = {
  '/api/auth/me': { id: 'u1', email: 'ada@example.com', name: 'Ada' },
  '/api/meetings': [],
};

beforeEach(() => {
  vi.stubGlobal('fetch', vi.fn(async (path) => {
    const body = REST[path];
    return new Response(JSON.stringify(body ?? { detail: 'Not Found' }), { status: body ? 200 : 404 });
  }));
  localStorage.clear();
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function openAt(path) {
  window.history.replaceState(null, '', path);
  render(<App />);
}

describe('router redirects', () => {
  it('shows the login form on a first visit to / while logged out', async () => {
    openAt('/');
    await waitFor(() => expect(screen.getByTestId('login-form')).toBeTruthy());
    expect(window.location.pathname).toBe('/login');
    expect(window.location.search).toBe('');
  });

  it('remembers a deep link while sending a logged-out visitor to log in', async () => {
    openAt('/meetings/m42');
    await waitFor(() => expect(screen.getByTestId('login-form')).toBeTruthy());
    expect(window.location.pathname + window.location.search).toBe('/login?next=%2Fmeetings%2Fm42');
  });

  it('sends a logged-in user from the login page to the meetings page', async () => {
    localStorage.setItem('token', 'a.b.c');
    openAt('/login');
    await waitFor(() => expect(screen.getByRole('heading', { level: 1, name: 'Meetings' })).toBeTruthy());
    expect(window.location.pathname).toBe('/');
  });

  it('renders the login page when the session ends while the app is open', async () => {
    localStorage.setItem('token', 'a.b.c');
    localStorage.setItem('token_expires_at', String(Date.now() + 300));
    openAt('/');
    await waitFor(() => expect(screen.getByRole('heading', { level: 1, name: 'Meetings' })).toBeTruthy());
    await waitFor(() => expect(screen.getByTestId('login-form')).toBeTruthy(), { timeout: 3_000 });
    expect(localStorage.getItem('token')).toBeNull();
  });

  it('follows Back to the previous page after a navigation', async () => {
    localStorage.setItem('token', 'a.b.c');
    openAt('/');
    await waitFor(() => expect(screen.getByRole('heading', { level: 1, name: 'Meetings' })).toBeTruthy());
    act(() => navigate('/no-such-page'));
    await waitFor(() => expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeTruthy());
    act(() => {
      window.history.back();
    });
    await waitFor(() => expect(screen.getByRole('heading', { level: 1, name: 'Meetings' })).toBeTruthy());
  });
});

describe('safeNextPath', () => {
  it('returns same-origin paths and refuses anything else', () => {
    expect(safeNextPath('?next=%2Fmeetings%2Fm1')).toBe('/meetings/m1');
    expect(safeNextPath('?next=%2F%2Fevil.example')).toBe('/');
    expect(safeNextPath('?next=https%3A%2F%2Fevil.example')).toBe('/');
    expect(safeNextPath('')).toBe('/');
  });
});
