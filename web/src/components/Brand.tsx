import { Link } from 'react-router';

/** The Tierline mark and name, linking home. */
export function Brand({ compact = false }: { compact?: boolean }) {
  return (
    <Link to="/" className="brand-mark" aria-label="Tierline home">
      <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
        <rect width="32" height="32" rx="7" fill="var(--mantine-color-indigo-6)" />
        <path d="M8 10h16M8 16h11M8 22h6" stroke="#fff" strokeWidth="3.2" strokeLinecap="round" />
      </svg>
      {!compact && <span>Tierline</span>}
    </Link>
  );
}
