import { frameCategory, profileBreakdown, type CpuProfile, type ProfileNode } from "../../bench/lib/cpu-profile";

const NM = "file:///repo/node_modules";
const frame = (functionName: string, url: string) => ({ functionName, url });

/**
 * A hand-made profile: a tree of stacks and one sample per entry of `samples`, 1 ms apart.
 *   (root) ─┬─ (idle)
 *           ├─ (program)
 *           ├─ (garbage collector)
 *           ├─ processTimers (node:internal/timers) ── renew (worker-runner.js) ── query (pg/lib/client.js)
 *           ├─ onStreamRead (node:internal/stream_base_commons) ─┬─ parse (pg-protocol/dist/parser.js)
 *           │                                                   └─ emit (node:events)
 *           └─ processJob (worker/src/process-job.js) ─┬─ send (@smithy/smithy-client) ─┬─ sign (@smithy/signature-v4) ─┬─ digest (node:internal/crypto/hash)
 *                                                      │                                │                               └─ update (@smithy/core checksum)
 *                                                      │                                └─ serialize (@smithy/core protocols) ── update (@smithy/core checksum)
 *                                                      ├─ parseXml (fast-xml-parser) ── charCodeAt (node:buffer)
 *                                                      ├─ handle (@smithy/node-http-handler)
 *                                                      ├─ info (pino/lib/proto.js)
 *                                                      └─ invertImage (worker/src/transform.js) ── toBuffer (sharp/lib/output.js)
 */
function profile(samples: number[], timeDeltas?: number[]): CpuProfile {
  const nodes: ProfileNode[] = [
    { id: 1, callFrame: frame("(root)", ""), children: [2, 3, 4, 5, 7, 10] },
    { id: 2, callFrame: frame("(idle)", "") },
    { id: 3, callFrame: frame("(program)", "") },
    { id: 4, callFrame: frame("(garbage collector)", "") },
    { id: 5, callFrame: frame("processTimers", "node:internal/timers"), children: [6] },
    { id: 6, callFrame: frame("renew", "file:///tmp/js/worker/src/worker-runner.js"), children: [20] },
    { id: 20, callFrame: frame("query", `${NM}/pg/lib/client.js`) },
    { id: 7, callFrame: frame("onStreamRead", "node:internal/stream_base_commons"), children: [8, 9] },
    { id: 8, callFrame: frame("parse", `${NM}/pg-protocol/dist/parser.js`) },
    { id: 9, callFrame: frame("emit", "node:events") },
    { id: 10, callFrame: frame("processJob", "file:///tmp/js/worker/src/process-job.js"), children: [11, 14, 16, 17, 18] },
    { id: 11, callFrame: frame("send", `${NM}/@smithy/smithy-client/dist-cjs/index.js`), children: [12, 22] },
    { id: 12, callFrame: frame("sign", `${NM}/@smithy/signature-v4/dist-cjs/index.js`), children: [13, 21] },
    { id: 13, callFrame: frame("digest", "node:internal/crypto/hash") },
    { id: 14, callFrame: frame("parseXml", `${NM}/fast-xml-parser/src/xmlparser/OrderedObjParser.js`), children: [15] },
    { id: 15, callFrame: frame("charCodeAt", "node:buffer") },
    { id: 16, callFrame: frame("handle", `${NM}/@smithy/node-http-handler/dist-cjs/index.js`) },
    { id: 17, callFrame: frame("info", `${NM}/pino/lib/proto.js`) },
    { id: 18, callFrame: frame("invertImage", "file:///tmp/js/worker/src/transform.js"), children: [19] },
    { id: 19, callFrame: frame("toBuffer", `${NM}/sharp/lib/output.js`) },
    { id: 21, callFrame: frame("update", `${NM}/@smithy/core/dist-cjs/submodules/checksum/index.js`) },
    { id: 22, callFrame: frame("serialize", `${NM}/@smithy/core/dist-cjs/submodules/protocols/index.js`), children: [23] },
    { id: 23, callFrame: frame("update", `${NM}/@smithy/core/dist-cjs/submodules/checksum/index.js`) },
  ];
  return {
    nodes,
    startTime: 1_000_000,
    endTime: 1_000_000 + (samples.length + 1) * 1000,
    samples,
    timeDeltas: timeDeltas ?? samples.map(() => 1000),
  };
}

describe("CPU profile breakdown", () => {
  it("attributes Node internals to the nearest package or repository frame that called them", () => {
    const b = profileBreakdown(profile([13, 15, 16, 17, 19, 20, 8, 6]));
    expect(b.ms).toMatchObject({
      "AWS SDK: signing": 1,
      "AWS SDK: XML": 1,
      "HTTP and sockets": 1,
      "pino logging": 1,
      "sharp (JavaScript side)": 1,
      "pg protocol": 2,
      "worker code": 1,
      timers: 0,
    });
    expect(b.busyMs).toBe(8);
  });

  it("falls back to the internal module only for stacks of Node internals, and counts idle apart from busy time", () => {
    const b = profileBreakdown(profile([9, 5, 2, 2, 3, 4]));
    expect(b.ms["HTTP and sockets"]).toBe(1);
    expect(b.ms.timers).toBe(1);
    expect(b.ms["V8 and native (program)"]).toBe(1);
    expect(b.ms.GC).toBe(1);
    expect(b.idleMs).toBe(2);
    expect(b.busyMs).toBe(4);
  });

  it("gives each sample the time until the next one, and the last one the time until the profile ends", () => {
    const p = { ...profile([17, 19, 17]), endTime: 1_000_000 + 10_000 };
    // Samples at 1.0 ms, 4.0 ms and 5.0 ms after the start; the profile ends at 10 ms.
    const b = profileBreakdown({ ...p, timeDeltas: [1000, 3000, 1000] });
    expect(b.ms["sharp (JavaScript side)"]).toBe(1);
    expect(b.ms["pino logging"]).toBe(3 + 5);
  });

  it("counts only the samples inside the window, cut at its end", () => {
    // Samples at 1, 2, 3, 4 ms after the start.
    const b = profileBreakdown(profile([17, 19, 19, 17]), { startUs: 1_002_000, endUs: 1_003_500 });
    expect(b.samples).toBe(2);
    expect(b.ms["sharp (JavaScript side)"]).toBe(1.5);
    expect(b.ms["pino logging"]).toBe(0);
  });

  it("gives the SDK's shared helpers to the SDK step that called them: a hash under the signer is signing", () => {
    const b = profileBreakdown(profile([21, 21, 23]));
    expect(b.ms["AWS SDK: signing"]).toBe(2);
    expect(b.ms["AWS SDK: middleware and serde"]).toBe(1);
  });

  it("refuses a sample naming a node the profile does not have", () => {
    expect(() => profileBreakdown(profile([99]))).toThrow(/node 99/);
  });

  it("classifies frames by package path, whatever the install prefix", () => {
    expect(frameCategory(frame("x", "/app/node_modules/@aws-sdk/signature-v4-multi-region/dist-cjs/index.js"))).toBe("AWS SDK: signing");
    expect(frameCategory(frame("x", "/app/node_modules/@aws-sdk/client-s3/dist-cjs/index.js"))).toBe("AWS SDK: middleware and serde");
    expect(frameCategory(frame("x", "/app/node_modules/sonic-boom/index.js"))).toBe("pino logging");
    expect(frameCategory(frame("x", "/app/node_modules/pg-pool/index.js"))).toBe("pg protocol");
    expect(frameCategory(frame("x", "node:internal/timers"))).toBeUndefined();
  });
});
