// Errors that carry their HTTP meaning. The HTTP error handler maps them in one place; a 503 tells
// the caller to retry.

export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "kafka_unavailable"
  | "redis_unavailable"
  | "internal";

/** The one code -> HTTP status table. */
export const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  kafka_unavailable: 503,
  redis_unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.status = STATUS[code];
  }
  get field(): string | undefined {
    return this.options.field;
  }
}

export const badRequest = (message: string, field?: string) => new AppError("bad_request", message, { field });
export const validationFailed = (message: string, field?: string) =>
  new AppError("validation_failed", message, { field });
export const notFound = (message: string) => new AppError("not_found", message);
export const conflict = (message: string, field?: string) => new AppError("conflict", message, { field });
