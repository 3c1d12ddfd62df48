import { type BatonErrorCode, describeError, isBatonError } from "@baton/core";

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
    return { status, body: { error: { code: error.code.toLowerCase(), message: error.message } } };
  }
  return {
    status: 500,
    body: { error: { code: "internal", message: `Internal error: ${describeError(error).split("\n")[0]}` } },
  };
}
