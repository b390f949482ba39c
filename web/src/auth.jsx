// Session state shared by the pages: the token, the signed-in user and a uniform way to turn
// API errors into messages (a 401 anywhere ends the session and returns to the login page).

import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';

import { ApiError, api } from './lib/api.js';
import { clearToken, loadToken, msUntilExpiry, saveToken } from './lib/auth.js';
import { navigate } from './lib/router.jsx';

const AuthContext = createContext(null);

// setTimeout fires at once for delays above 2**31-1 ms (~24.8 days); re-arm instead.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Ends the session when the token expires while the app is open (no 401 needed first). */
function useSessionExpiry(token, logout) {
  useEffect(() => {
    if (!token) return undefined;
    let timer;
    const arm = () => {
      const ms = msUntilExpiry();
      if (ms === null) return;
      timer = ms > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(logout, ms);
    };
    arm();
    return () => clearTimeout(timer);
  }, [token, logout]);
}

export function AuthProvider({ children }) {
  const [token, setToken] = useState(() => loadToken());
  const [user, setUser] = useState(null);

  // Forget the token locally at once; tell the server to revoke it (and the user's other
  // sessions) without waiting, so a slow or unreachable server never keeps anyone signed in.
  const endSession = useCallback(() => {
    clearToken();
    setToken(null);
    setUser(null);
    navigate('/login', { replace: true });
  }, []);

  const logout = useCallback(() => {
    const current = loadToken();
    if (current) api.logout(current).catch(() => {}); // already invalid or offline: nothing to revoke
    endSession();
  }, [endSession]);

  const login = useCallback((accessToken, expiresIn) => {
    saveToken(accessToken, expiresIn);
    setToken(accessToken);
  }, []);

  const describeError = useCallback(
    (error) => {
      if (error instanceof ApiError && error.status === 401) {
        endSession(); // the token is already refused: nothing to revoke
        return 'Your session has expired. Please log in again.';
      }
      if (error instanceof ApiError) return error.message;
      return 'Could not reach the server. Check your connection and try again.';
    },
    [endSession],
  );

  useSessionExpiry(token, logout);

  useEffect(() => {
    if (!token) return undefined;
    let cancelled = false;
    api
      .me(token)
      .then((me) => !cancelled && setUser(me))
      .catch((error) => !cancelled && describeError(error));
    return () => {
      cancelled = true;
    };
  }, [token, describeError]);

  const value = useMemo(
    () => ({ token, user, login, logout, describeError }),
    [token, user, login, logout, describeError],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth() {
  return useContext(AuthContext);
}
