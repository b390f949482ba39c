import { useEffect } from 'react';

/** Sets document.title so screen reader users hear where a navigation landed. */
export function usePageTitle(title) {
  useEffect(() => {
    document.title = title ? `${title} · meetingserve` : 'meetingserve';
  }, [title]);
}
