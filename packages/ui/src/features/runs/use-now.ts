import { useEffect, useState } from "react";

/** Now, re-read every second while `on` (a running run's or backfill's duration counts up). */
export function useNow(on: boolean) {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}
