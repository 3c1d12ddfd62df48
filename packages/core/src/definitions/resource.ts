import type { Logger } from "./context.js";

export const RESOURCE_BRAND = Symbol.for("baton.resource");

export interface ResourceContext {
  readonly runId: string;
  /** The instance home (`$BATON_HOME`, default `./.baton`). */
  readonly home: string;
  readonly log: Logger;
}

/** A named, configured object with setup/teardown, set up once per run that needs it. */
export interface ResourceDefinition<T> {
  readonly [RESOURCE_BRAND]: true;
  readonly description?: string | undefined;
  setup(ctx: ResourceContext): Promise<T> | T;
  teardown?: ((value: T, ctx: ResourceContext) => Promise<void> | void) | undefined;
}

export function resource<T>(options: {
  description?: string;
  setup: (ctx: ResourceContext) => Promise<T> | T;
  teardown?: (value: T, ctx: ResourceContext) => Promise<void> | void;
}): ResourceDefinition<T> {
  return { [RESOURCE_BRAND]: true, ...options };
}

export function isResourceDefinition(value: unknown): value is ResourceDefinition<unknown> {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[RESOURCE_BRAND] === true
  );
}
