// Usage and cost over time, drawn by uPlot: cost per day as bars, tokens per day by type as
// lines. The same figures are in the table below each chart, for screen readers and for copying.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { UsageGroup } from "../../http/contract/types.ts";
import { TOKEN_TYPES } from "../../domain/token-types.ts";

const COLORS = ["#1d4ed8", "#0f766e", "#7c3aed", "#b45309", "#be123c"];

function Plot(p: { label: string; opts: Omit<uPlot.Options, "width" | "height">; data: uPlot.AlignedData }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const width = Math.max(320, el.current.clientWidth);
    const chart = new uPlot({ ...p.opts, width, height: 220 }, p.data, el.current);
    return () => chart.destroy();
  }, [p.data]);
  return <div ref={el} role="img" aria-label={p.label} class="plot" />;
}

const dayTime = (key: string) => Date.parse(`${key}T12:00:00Z`) / 1000;

// a point is a whole day: the legend names the day, never the noon it is drawn at
const dayOf = (ts: number) => new Date(ts * 1000).toISOString().slice(0, 10);
const xSeries = { label: "day", value: (_u: uPlot, v: number | null) => (v === null ? "—" : dayOf(v)) };
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** The y axis: ticks in compact form (12K, 1.5M), wide enough that none is cut. */
const yAxis = (format: (n: number) => string): uPlot.Axis => ({
  values: (_u, ticks) => ticks.map(format),
  size: (_u, values) => Math.max(48, 12 + Math.max(0, ...(values ?? []).map((v) => String(v).length)) * 7.5),
});

export function UsageCharts(p: { days: UsageGroup[]; currency: string; from: string }) {
  if (p.days.length === 0) return <p class="muted">No metered usage in this range.</p>;
  const x = p.days.map((d) => dayTime(d.key));
  const cost = p.days.map((d) => Number(d.cost)); // drawing only: the tables show the exact decimals
  const compactMoney = new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: p.currency,
    notation: "compact",
    maximumSignificantDigits: 3,
  });
  // days are the billing zone's local days; drawn at noon UTC so no zone moves one across a date line
  // the x axis spans the range asked for, however few of its days had usage
  const span: uPlot.Range.MinMax = [Date.parse(p.from) / 1000, Date.now() / 1000 + 129_600]; // room for today's bar
  const scales = { x: { time: true, range: () => span } };
  return (
    <div class="charts">
      <figure>
        <figcaption>Cost per day ({p.currency})</figcaption>
        <Plot
          label={`Cost per day in ${p.currency}; the figures are in the table below`}
          opts={{
            scales,
            tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "UTC"),
            axes: [{}, yAxis((n) => compactMoney.format(n))],
            series: [
              xSeries,
              {
                label: "cost",
                value: (_u: uPlot, v: number | null) => (v === null ? "—" : compactMoney.format(v)),
                stroke: "#1d4ed8",
                fill: "rgba(29,78,216,0.35)",
                paths: uPlot.paths.bars!({ size: [0.6, 40] }),
              },
            ],
          }}
          data={[x, cost]}
        />
      </figure>
      <figure>
        <figcaption>Tokens per day by type</figcaption>
        <Plot
          label="Tokens per day by token type; the figures are in the table below"
          opts={{
            scales,
            tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "UTC"),
            axes: [{}, yAxis((n) => compact.format(n))],
            series: [
              xSeries,
              ...TOKEN_TYPES.map((t, i) => ({
                label: t,
                stroke: COLORS[i],
                width: 2,
                value: (_u: uPlot, v: number | null) => (v === null ? "—" : v.toLocaleString("en-US")),
              })),
            ],
          }}
          data={[x, ...TOKEN_TYPES.map((t) => p.days.map((d) => d.by_token_type[t]?.tokens ?? 0))]}
        />
      </figure>
    </div>
  );
}
