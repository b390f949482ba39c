// A minimal History-API router: four routes do not justify a routing library. Links are real
// <a href> elements, so keyboard, middle-click and "open in new tab" all work.

import { useSyncExternalStore } from 'react';

const NAVIGATE_EVENT = 'app:navigate';

export function navigate(path, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

function subscribeToLocation(onChange) {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

const readPath = () => window.location.pathname;

/**
 * The current pathname, read from the browser's location itself rather than copied into state.
 * Why: a child's effect runs before its parent's, so a redirect issued by a child on the first
 * render used to fire before a parent's listener existed and the new page never rendered.
 * useSyncExternalStore re-reads the location after subscribing, so no change can be missed.
 */
export function usePath() {
  return useSyncExternalStore(subscribeToLocation, readPath);
}

/** Same-origin path to return to after logging in, or '/' when `next` is missing or foreign. */
export function safeNextPath(search) {
  const next = new URLSearchParams(search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

/** Matches `/meetings/:id` style patterns; returns the params or null. */
export function matchPath(pattern, path) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return '([^/]+)';
  });
  const match = new RegExp(`^${source}/?$`).exec(path);
  if (!match) return null;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
}

export function Link({ to, children, ...rest }) {
  const onClick = (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
