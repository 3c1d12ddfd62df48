export interface RetryPolicy {
  /** Retries after the first attempt (0 = no retry). */
  readonly maxRetries: number;
  /** Base delay between attempts in milliseconds (default 1000). */
  readonly delayMs?: number;
  /** How the delay grows: constant (default), linear (delay × attempt) or exponential (delay × 2^(attempt-1)). */
  readonly backoff?: "constant" | "linear" | "exponential";
  /** Randomize delays: "full" picks in [0, delay], "plus-minus" in [delay/2, delay × 1.5]. */
  readonly jitter?: "none" | "full" | "plus-minus";
}

/** Delay before retry number `retry` (1-based). `random` is injectable for tests. */
export function retryDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const base = policy.delayMs ?? 1000;
  const backoff = policy.backoff ?? "constant";
  const raw =
    backoff === "linear" ? base * retry : backoff === "exponential" ? base * 2 ** (retry - 1) : base;
  switch (policy.jitter ?? "none") {
    case "full":
      return Math.round(raw * random());
    case "plus-minus":
      return Math.round(raw * (0.5 + random()));
    default:
      return raw;
  }
}

export function retryPolicyProblem(policy: RetryPolicy): string | undefined {
  if (!Number.isInteger(policy.maxRetries) || policy.maxRetries < 0)
    return `retryPolicy.maxRetries must be a whole number >= 0 (got ${String(policy.maxRetries)})`;
  if (policy.delayMs !== undefined && (!Number.isFinite(policy.delayMs) || policy.delayMs < 0))
    return `retryPolicy.delayMs must be a number >= 0 (got ${String(policy.delayMs)})`;
  return undefined;
}
