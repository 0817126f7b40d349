// The overview: totals, and a card per queue (the first 100 by name).
import { element, figures, getJson, human, say, segment } from "./common.js";

const LISTED = 100;

/** The queues each live worker works on: queue -> number of live workers. */
function liveWorkers(workers) {
  const live = new Map();
  for (const worker of workers) {
    if (!worker.alive) continue;
    for (const queue of worker.queues) live.set(queue, (live.get(queue) || 0) + 1);
  }
  return live;
}

function warnings(queue, workers) {
  const found = [];
  const waiting = queue.counts.ready + queue.counts.delayed;
  if (waiting > 0 && !workers && queue.status === "open") {
    found.push(["no live worker for its jobs", ""]);
  }
  if (queue.counts.dead > 0) found.push([`${human(queue.counts.dead)} dead letters`, "bad"]);
  return found;
}

function card(queue, workers) {
  const counts = queue.counts;
  const title = element("h3", {},
    element("a", { href: `#/queues/${segment(queue.queue)}` }, queue.queue),
    element("span", { class: `state ${queue.status}` }, queue.status));
  const body = element("article", { class: "card", "data-queue": queue.queue }, title,
    figures([["ready", counts.ready], ["delayed", counts.delayed],
             ["leased", counts.leased], ["dead", counts.dead]]),
    element("p", { class: "workers" }, `${workers || 0} live worker${workers === 1 ? "" : "s"}`));
  for (const [text, kind] of warnings(queue, workers)) {
    body.append(element("p", { class: `warning ${kind}`, role: "note" }, text));
  }
  return body;
}

function totals(queues, total, workers) {
  const sum = (state) => queues.reduce((n, queue) => n + queue.counts[state], 0);
  const alive = workers.filter((worker) => worker.alive).length;
  return element("dl", { class: "totals" },
    ...[["queues", total], ["ready", sum("ready")], ["delayed", sum("delayed")],
        ["leased", sum("leased")], ["dead letters", sum("dead")], ["live workers", alive]]
      .map(([label, value]) => element("div", {}, element("dt", {}, label),
        element("dd", { "data-total": label }, human(value)))));
}

/** The overview, drawn into C{main}: the function that draws it again. */
export function overview(main) {
  return () => draw(main);
}

async function draw(main) {
  const [page, workers, ready] = await Promise.all([
    getJson(`/queues?limit=${LISTED}`),
    getJson("/workers?limit=1000"),
    fetch("/ready").then((reply) => reply.ok),
  ]);
  const live = liveWorkers(workers.workers);
  const note = element("p", { id: "queues-note" },
    `The first ${page.queues.length} of ${page.total} queues, by name.`);
  note.hidden = page.total <= page.queues.length;
  main.replaceChildren(
    totals(page.queues, page.total, workers.workers),
    element("h2", {}, "Queues ", element("span", { class: "muted" }, `(${page.total})`)),
    note,
    element("div", { id: "queues", class: "cards" },
      ...page.queues.map((queue) => card(queue, live.get(queue.queue)))),
  );
  say(ready ? `Redis ready · updated ${new Date().toLocaleTimeString()}` : "Redis is unavailable",
      !ready);
}
