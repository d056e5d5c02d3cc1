import { percentile, relativeSpread, summarize } from "../../bench/lib/stats";
import { markdownTable, medianWithSpread } from "../../bench/lib/table";
import { parseTimes } from "../../bench/lib/child";

describe("benchmark statistics", () => {
  it("uses nearest-rank percentiles, so every reported value was observed", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 95)).toBe(10);
    expect(percentile(sorted, 10)).toBe(1);
    expect(percentile([42], 99)).toBe(42);
  });

  it("summarizes unsorted samples without reordering the caller's array", () => {
    const samples = [30, 10, 20, 50, 40];
    const s = summarize(samples);
    expect(s).toEqual({ n: 5, min: 10, p25: 20, median: 30, p75: 40, p95: 50, p99: 50, max: 50, mean: 30 });
    expect(samples).toEqual([30, 10, 20, 50, 40]);
    expect(relativeSpread(s)).toBeCloseTo(20 / 30);
  });

  it("refuses empty or non-finite samples instead of reporting NaN", () => {
    expect(() => summarize([])).toThrow(/zero samples/);
    expect(() => summarize([1, NaN])).toThrow(/not a finite number/);
    expect(() => percentile([1], 0)).toThrow(/\(0, 100\]/);
  });
});

describe("shell `times` parsing", () => {
  it("takes the children's user and system time from the second line", () => {
    expect(parseTimes("0m0.001000s 0m0.002000s\n0m0.140000s 0m0.050000s\n")).toBeCloseTo(190);
    expect(parseTimes("0m0.00s 0m0.00s\n1m2.50s 0m0.25s")).toBeCloseTo(62_750);
  });

  it("fails loudly on output without times", () => {
    expect(() => parseTimes("vips: unable to open file")).toThrow(/no CPU times/);
  });
});

describe("markdown tables", () => {
  it("pads columns to the widest cell", () => {
    expect(markdownTable(["a", "bbb"], [["xx", "y"]])).toBe("| a  | bbb |\n| -- | --- |\n| xx | y   |");
  });

  it("rejects rows that do not match the header", () => {
    expect(() => markdownTable(["a", "b"], [["1"]])).toThrow(/1 cells, header has 2/);
  });

  it("formats a median with its interquartile range", () => {
    expect(medianWithSpread({ median: 12.34, p25: 10, p75: 15.05 })).toBe("12.3 [10.0–15.1]");
  });
});
