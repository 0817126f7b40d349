// The overview: every queue's totals, throughput charts (live, and the last
// 24 hours from the history Redis keeps), and a card per queue (the first
// 100 by name) that says when it needs a person.
import { ago, bytes, element, figures, getJson, human, say, segment } from "./common.js";
import { liveReadings, throughputChart } from "./charts.js";

const LISTED = 100;
const DAY_S = 86400;
const HISTORY_EVERY_MS = 60_000;
// Dead letters that grew within this window are flagged.
const GROWTH_WINDOW_S = 600;

/** The queues each live worker works on: queue -> number of live workers. */
function liveWorkers(workers) {
  const live = new Map();
  for (const worker of workers) {
    if (!worker.alive) continue;
    for (const queue of worker.queues) live.set(queue, (live.get(queue) || 0) + 1);
  }
  return live;
}

/** Each queue's dead letters over the last minutes, to tell those that grow. */
function deadGrowth() {
  const seen = new Map();
  return (queue, now) => {
    const readings = (seen.get(queue.queue) || []).filter(([at]) => now - at <= GROWTH_WINDOW_S);
    readings.push([now, queue.counts.dead]);
    seen.set(queue.queue, readings);
    return queue.counts.dead - readings[0][1];
  };
}

function warnings(queue, workers, grown) {
  const found = [];
  const waiting = queue.counts.ready + queue.counts.delayed;
  if (waiting > 0 && !workers && queue.status === "open") {
    found.push(["no live worker for its jobs", ""]);
  }
  if (grown > 0) found.push([`dead letters growing: +${human(grown)}`, "bad"]);
  else if (queue.counts.dead > 0) found.push([`${human(queue.counts.dead)} dead letters`, "bad"]);
  return found;
}

function card(queue, workers, grown) {
  const counts = queue.counts;
  const title = element("h3", {},
    element("a", { href: `#/queues/${segment(queue.queue)}` }, queue.queue),
    element("span", { class: `state ${queue.status}` }, queue.status));
  const body = element("article", { class: "card", "data-queue": queue.queue }, title,
    figures([["ready", counts.ready], ["delayed", counts.delayed],
             ["leased", counts.leased], ["dead", counts.dead]]),
    element("p", { class: "workers" }, `${workers || 0} live worker${workers === 1 ? "" : "s"}`));
  for (const [text, kind] of warnings(queue, workers, grown)) {
    body.append(element("p", { class: `warning ${kind}`, role: "note" }, text));
  }
  return body;
}

function memory(redis) {
  const { used, max } = redis;
  const limit = max ? `of ${bytes(max)} (${Math.round((100 * used) / max)}%)` : "no limit";
  return [bytes(used), element("small", { class: "muted" }, limit)];
}

function totals(summary) {
  const counts = summary.counts;
  const tiles = [
    ["queues", human(summary.queues)],
    ["backlog", human(counts.ready + counts.delayed)],
    ["ready", human(counts.ready)],
    ["delayed", human(counts.delayed)],
    ["leased", human(counts.leased)],
    ["dead letters", human(counts.dead)],
    ["oldest ready job", summary.oldest_ready === null ? "–" : ago(summary.oldest_ready).replace(" ago", "")],
    ["live workers", human(summary.workers_alive)],
    ["Redis memory", memory(summary.redis_memory)],
  ];
  return tiles.map(([label, value]) => element("div", {}, element("dt", {}, label),
    element("dd", { "data-total": label }, ...[value].flat())));
}

/** The overview, drawn into C{main}: the function that draws it again. */
export function overview(main) {
  const head = element("dl", { class: "totals", id: "totals" });
  const live = throughputChart("live-chart", "Jobs per second, live (every queue)");
  const day = throughputChart("day-chart", "Jobs per second, last 24 hours (per minute)");
  const note = element("p", { id: "queues-note" });
  const heading = element("h2", {}, "Queues ");
  const cards = element("div", { id: "queues", class: "cards" });
  main.replaceChildren(head, element("div", { class: "charts" }, live.element, day.element),
                       heading, note, cards);
  const reading = liveReadings();
  const grown = deadGrowth();
  let historyAt = 0;
  return async () => {
    const [summary, page, workers] = await Promise.all([
      getJson("/summary"),
      getJson(`/queues?limit=${LISTED}`),
      getJson("/workers?limit=1000"),
    ]);
    if (summary.redis !== "up") {
      say("Redis is unavailable", true);
      return;
    }
    head.replaceChildren(...totals(summary));
    live.draw(reading(summary.at, summary.totals));
    if (Date.now() - historyAt > HISTORY_EVERY_MS) {
      historyAt = Date.now();
      const since = Math.floor(Date.now() / 1000 - DAY_S);
      day.draw((await getJson(`/history?since=${since}`)).samples);
    }
    const alive = liveWorkers(workers.workers);
    const now = Date.now() / 1000;
    heading.replaceChildren("Queues ", element("span", { class: "muted" }, `(${page.total})`));
    note.textContent = `The first ${page.queues.length} of ${page.total} queues, by name.`;
    note.hidden = page.total <= page.queues.length;
    cards.replaceChildren(...page.queues.map((queue) =>
      card(queue, alive.get(queue.queue), grown(queue, now))));
    say(`Redis ready · updated ${new Date().toLocaleTimeString()}`);
  };
}
