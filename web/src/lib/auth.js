// Token storage. The seed reads `localStorage.getItem('token')`, so the token keeps that key;
// its expiry sits beside it so an expired session shows the login page instead of 401s.

const TOKEN_KEY = 'token';
const EXPIRES_KEY = 'token_expires_at';

export function loadToken(storage = globalThis.localStorage, now = Date.now()) {
  const token = storage?.getItem(TOKEN_KEY);
  if (!token) return null;
  const expiresAt = Number(storage.getItem(EXPIRES_KEY));
  if (expiresAt && now >= expiresAt) {
    clearToken(storage);
    return null;
  }
  return token;
}

export function saveToken(token, expiresInSeconds, storage = globalThis.localStorage, now = Date.now()) {
  storage.setItem(TOKEN_KEY, token);
  if (expiresInSeconds) storage.setItem(EXPIRES_KEY, String(now + expiresInSeconds * 1000));
  else storage.removeItem(EXPIRES_KEY);
}

export function clearToken(storage = globalThis.localStorage) {
  storage?.removeItem(TOKEN_KEY);
  storage?.removeItem(EXPIRES_KEY);
}

/** Milliseconds until the stored session expires, or null when no expiry is known. */
export function msUntilExpiry(storage = globalThis.localStorage, now = Date.now()) {
  const expiresAt = Number(storage?.getItem(EXPIRES_KEY));
  return expiresAt ? Math.max(0, expiresAt - now) : null;
}
