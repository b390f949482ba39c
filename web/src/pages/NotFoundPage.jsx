import { usePageTitle } from '../hooks/usePageTitle.js';
import { Link } from '../lib/router.jsx';

export function NotFoundPage() {
  usePageTitle('Page not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/">Go to your meetings</Link>.
      </p>
    </>
  );
}
