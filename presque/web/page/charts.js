// Throughput charts: jobs enqueued, processed and failed per second, from
// readings of a queue's totals (or of every queue's). Drawn by uPlot, which
// index.html loads (vendored: see VENDORED.txt).
import { element } from "./common.js";

const SERIES = [["enqueued", "--accent"], ["processed", "--ok"], ["failed", "--bad"]];
const HEIGHT = 180;

/** Per-second rates between consecutive readings [{at, totals}], as uPlot's columns. */
export function rates(readings) {
  const columns = [[], ...SERIES.map(() => [])];
  for (let i = 1; i < readings.length; i += 1) {
    const [before, after] = [readings[i - 1], readings[i]];
    const span = after.at - before.at;
    if (span <= 0) continue;
    columns[0].push(after.at);
    SERIES.forEach(([name], k) => {
      // A purge resets the totals: no negative rates.
      columns[k + 1].push(Math.max(0, (after.totals[name] - before.totals[name]) / span));
    });
  }
  return columns;
}

function colour(variable) {
  return getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
}

/**
 * A chart titled C{title}, its element to place in the page once (so that
 * refreshes do not rebuild it), and draw(readings) to show new readings.
 */
export function throughputChart(id, title) {
  const box = element("figure", { class: "chart", id, "data-points": "0" },
    element("figcaption", {}, title));
  const empty = element("p", { class: "muted empty" }, "No figures yet.");
  box.append(empty);
  let plot = null;
  const draw = (readings) => {
    const data = rates(readings);
    box.dataset.points = String(data[0].length);
    // One point makes no line, and uPlot would stretch its time axis over years.
    const drawable = data[0].length >= 2;
    empty.hidden = drawable;
    if (plot) plot.root.hidden = !drawable;
    if (!drawable) return;
    if (plot) {
      plot.setData(data);
      return;
    }
    const axis = { stroke: colour("--muted"), grid: { stroke: colour("--line") }, ticks: { show: false } };
    plot = new window.uPlot({
      width: Math.max(box.clientWidth - 16, 240),
      height: HEIGHT,
      series: [{}, ...SERIES.map(([name, variable]) => ({
        label: `${name}/s`, stroke: colour(variable), width: 1.5,
        value: (_, v) => (v === null || v === undefined ? "–" : v.toFixed(v < 10 ? 2 : 0)),
      }))],
      axes: [axis, { ...axis, size: 48 }],
      scales: { y: { range: (_, min, max) => [0, Math.max(1, max * 1.1)] } },
    }, data, box);
  };
  return { element: box, draw };
}

/** The readings kept for a live chart: the last C{count}, one per distinct time. */
export function liveReadings(count = 150) {
  const readings = [];
  return (at, totals) => {
    if (!readings.length || readings[readings.length - 1].at < at) readings.push({ at, totals });
    if (readings.length > count) readings.shift();
    return readings;
  };
}
