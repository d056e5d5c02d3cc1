/** JSON over HTTP with retries, for the hand-written OpenStack clients (Keystone, Blazar). */
import { backoffDelayMs, sleep } from "../../worker/src/backoff";

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 15_000 };

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Honour Retry-After (seconds) when the server sends it, else exponential backoff with equal jitter. */
function delayFor(attempt: number, policy: RetryPolicy, retryAfter: string | null): number {
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, policy.maxDelayMs);
  return backoffDelayMs(attempt, { initialMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: true });
}

/**
 * Sends one request, retrying 429, 5xx and connection errors with backoff. `what` names the call in every
 * error ("create lease pipeline-dev-lease"), so a failure in a long `pulumi up` log is self-explanatory.
 */
export async function requestJson(
  what: string,
  method: string,
  url: string,
  init: { headers?: Record<string, string>; body?: unknown; expect: number[]; retry?: RetryPolicy },
): Promise<HttpResponse> {
  const policy = init.retry ?? DEFAULT_RETRY;
  let lastError = "";
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          Accept: "application/json",
          ...(init.body === undefined ? {} : { "Content-Type": "application/json" }),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      lastError = `${method} ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`;
      if (attempt + 1 < policy.attempts) await sleep(delayFor(attempt, policy, null));
      continue;
    }
    const text = await response.text();
    if (init.expect.includes(response.status)) {
      let body: unknown = undefined;
      if (text !== "") {
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(
            `${what}: ${method} ${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
            response.status,
            text,
          );
        }
      }
      return { status: response.status, headers: response.headers, body, text };
    }
    lastError = `${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`;
    if (!retryable(response.status)) throw new HttpError(`${what}: ${lastError}`, response.status, text);
    if (attempt + 1 < policy.attempts) await sleep(delayFor(attempt, policy, response.headers.get("retry-after")));
  }
  throw new HttpError(`${what}: gave up after ${policy.attempts} attempts; last: ${lastError}`, undefined, lastError);
}
