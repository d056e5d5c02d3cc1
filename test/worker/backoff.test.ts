import { backoffDelayMs, pollUntil, retryWithBackoff } from "../../worker/src/backoff";

describe("backoffDelayMs", () => {
  test("doubles per retry from the initial delay and stops at the cap", () => {
    const delays = [0, 1, 2, 3, 4, 5].map((retry) => backoffDelayMs(retry, { initialMs: 250, maxMs: 5_000 }));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 5000]);
  });

  test("equal jitter stays between half the delay and the delay", () => {
    const backoff = { initialMs: 1000, maxMs: 60_000, jitter: true };
    expect([backoffDelayMs(3, backoff, () => 0), backoffDelayMs(3, backoff, () => 0.5), backoffDelayMs(3, backoff, () => 1)]).toEqual([
      4000, 6000, 8000,
    ]);
  });
});

describe("retryWithBackoff", () => {
  test("retries until the call succeeds, reporting each wait", async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = await retryWithBackoff(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error(`down ${calls}`);
        return "up";
      },
      { backoff: { initialMs: 1, maxMs: 4 }, shouldRetry: () => true, onRetry: (_err, delayMs) => waits.push(delayMs) },
    );
    expect({ result, calls, waits }).toEqual({ result: "up", calls: 3, waits: [1, 2] });
  });

  test("rethrows the error shouldRetry refuses, without another call", async () => {
    let calls = 0;
    const permanent = new Error("permanent");
    await expect(
      retryWithBackoff(
        async () => {
          calls += 1;
          throw calls === 1 ? new Error("transient") : permanent;
        },
        { backoff: { initialMs: 1, maxMs: 1 }, shouldRetry: (err) => err !== permanent },
      ),
    ).rejects.toBe(permanent);
    expect(calls).toBe(2);
  });
});

describe("pollUntil", () => {
  test("returns the first value a check yields", async () => {
    let checks = 0;
    const value = await pollUntil(async () => (++checks === 3 ? "ready" : undefined), {
      intervalMs: 1,
      deadline: Date.now() + 10_000,
      timedOut: () => new Error("timed out"),
    });
    expect({ value, checks }).toEqual({ value: "ready", checks: 3 });
  });

  test("throws timedOut() when the next check would start after the deadline", async () => {
    let checks = 0;
    const started = Date.now();
    await expect(
      pollUntil(
        async () => {
          checks += 1;
          return undefined;
        },
        { intervalMs: 20, deadline: started + 50, timedOut: () => new Error(`gave up after ${checks} checks`) },
      ),
    ).rejects.toThrow(/^gave up after [23] checks$/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("a check that throws stops the poll at once", async () => {
    let checks = 0;
    await expect(
      pollUntil(
        async () => {
          checks += 1;
          throw new Error("failed");
        },
        { intervalMs: 1, deadline: Date.now() + 10_000, timedOut: () => new Error("timed out") },
      ),
    ).rejects.toThrow("failed");
    expect(checks).toBe(1);
  });
});
