/**
 * The probe's side of forkProbe (child.ts): answers each request over IPC with its handler's reply, or with an error
 * reply, and says it is ready. A probe only ever runs forked by the benchmark.
 */
export function serveProbe<Req, Reply extends object>(
  name: string,
  handle: (req: Req) => Promise<Reply>,
  options: { readonly onDisconnect?: () => void } = {},
): void {
  if (!process.send) {
    process.stderr.write(`${name} must be started with child_process.fork (it answers over IPC)\n`);
    process.exit(1);
  }
  const send = (reply: Reply | { readonly type: "error" | "ready"; readonly message?: string }): void => void process.send?.(reply);
  // The benchmark owns the probe: when it goes, whatever the probe started must stop.
  if (options.onDisconnect) process.on("disconnect", options.onDisconnect);
  process.on("message", (req: Req) => {
    handle(req).then(send, (err: unknown) =>
      send({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
  send({ type: "ready" });
}
