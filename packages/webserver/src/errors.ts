import { type BatonErrorCode, describeError, isBatonError } from "@baton/core/internal";
import { HTTPException } from "hono/http-exception";

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly error: {
    /** Machine-readable: `invalid_request`, `not_found`, `conflict`, `unauthorized`, … */
    readonly code: string;
    readonly message: string;
    /** For 400s: where the problem is (`body.partitions.keys[1]`, `query.limit`). */
    readonly field?: string;
  };
}

/** An error a handler throws on purpose, with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 503,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Core error codes → HTTP statuses, in one place. */
const STATUS_OF: Record<BatonErrorCode, 400 | 404 | 409 | 500 | 503> = {
  INVALID_DEFINITION: 400,
  INVALID_SELECTION: 400,
  INVALID_CONFIG: 400,
  INVALID_PARTITION: 400,
  RUN_NOT_FOUND: 404,
  USAGE_ERROR: 409,
  RUN_CANCELED: 409,
  STORAGE_ERROR: 503,
  DEFINITIONS_LOAD_FAILED: 503,
  USER_CODE_ERROR: 500,
};

/**
 * The request field a core validation error is about, as precisely as the body allows: the bad
 * partition key's position, the config path, or the selection.
 */
export function fieldOfCoreError(error: unknown, body: unknown): string | undefined {
  if (!isBatonError(error)) return undefined;
  const b = (body ?? {}) as { partitions?: { keys?: unknown[]; range?: { from?: unknown; to?: unknown } } };
  if (error.code === "INVALID_PARTITION") {
    const key = (error as { partitionKey?: string }).partitionKey;
    if (key !== undefined) {
      const i = b.partitions?.keys?.indexOf(key) ?? -1;
      if (i >= 0) return `body.partitions.keys[${i}]`;
      if (b.partitions?.range?.from === key) return "body.partitions.range.from";
      if (b.partitions?.range?.to === key) return "body.partitions.range.to";
    }
    return "body.partitions";
  }
  if (error.code === "INVALID_CONFIG") {
    const path = (error as { issues?: { path: string }[] }).issues?.[0]?.path;
    return path ? `body.config.${path}` : "body.config";
  }
  if (error.code === "INVALID_SELECTION")
    return /partition/i.test(error.message) && !/^Invalid selection/.test(error.message)
      ? "body.partitions"
      : "body.selection";
  return undefined;
}

/** API error codes for core codes whose name says little over HTTP. */
const CODE_OF: Partial<Record<BatonErrorCode, string>> = {
  USAGE_ERROR: "conflict",
  RUN_CANCELED: "conflict",
  RUN_NOT_FOUND: "not_found",
  STORAGE_ERROR: "unavailable",
};

/** The request field a core validation error is about (launch and backfill bodies). */
const FIELD_OF: Partial<Record<BatonErrorCode, string>> = {
  INVALID_PARTITION: "body.partitions",
  INVALID_CONFIG: "body.config",
  INVALID_SELECTION: "body.selection",
};

export function errorAnswer(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ApiError)
    return {
      status: error.status,
      body: {
        error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) },
      },
    };
  if (isBatonError(error)) {
    const status = STATUS_OF[error.code] ?? 500;
    const field = FIELD_OF[error.code];
    return {
      status,
      body: {
        error: {
          code: CODE_OF[error.code] ?? error.code.toLowerCase(),
          message: error.message,
          ...(field ? { field } : {}),
        },
      },
    };
  }
  // Postgres rejecting a value's bytes (e.g. NUL in text): the client's input, not a fault.
  if ((error as { code?: unknown })?.code === "22021")
    return {
      status: 400,
      body: {
        error: {
          code: "invalid_request",
          message: "The request contains bytes the store cannot hold (e.g. NUL).",
        },
      },
    };
  // Text that is not JSON is refused before the routes (checkJsonBody): what reaches Hono's JSON
  // validator as malformed is an empty body where one is required.
  if (error instanceof HTTPException && error.status === 400 && /Malformed JSON/.test(error.message))
    return {
      status: 400,
      body: {
        error: {
          code: "invalid_request",
          message: "body: empty; send a JSON object (Content-Type: application/json)",
          field: "body",
        },
      },
    };
  // Hono's own (…): the client's fault, with Hono's status.
  if (error instanceof HTTPException && error.status < 500)
    return {
      status: error.status,
      body: { error: { code: "invalid_request", message: `body: ${error.message}`, field: "body" } },
    };
  return {
    status: 500,
    body: { error: { code: "internal", message: `Internal error: ${describeError(error).split("\n")[0]}` } },
  };
}
