import type { ReactNode } from "react";

/** A badge with a coloured dot, for states that are not asset headlines (fresh, passed, blocking…). */
export function Pill({ color, children, title }: { color: string; children: ReactNode; title?: string }) {
  return (
    <span className="badge" title={title}>
      <span className="status-dot" style={{ background: color }} aria-hidden="true" />
      {children}
    </span>
  );
}
