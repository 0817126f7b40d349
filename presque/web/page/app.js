// The page at /: every queue at a glance, from the public JSON API only
// (/queues, /workers, /ready), read again every few seconds while the tab
// is visible. Text from the server is always set as text, never as HTML.
"use strict";

const REFRESH_MS = 2000;
const LISTED = 100;

async function getJson(path) {
  const reply = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await reply.json();
  if (!reply.ok) throw new Error(body.error || `HTTP ${reply.status}`);
  return body;
}

/** 1234 -> "1.2k": numbers for people. */
function human(n) {
  if (n < 1000) return String(n);
  const units = [["G", 1e9], ["M", 1e6], ["k", 1e3]];
  const [unit, size] = units.find(([, size]) => n >= size);
  const scaled = n / size;
  return `${scaled < 10 ? scaled.toFixed(1).replace(/\.0$/, "") : Math.round(scaled)}${unit}`;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function figures(pairs) {
  return element("dl", {}, ...pairs.flatMap(([label, value]) => [
    element("dt", {}, label),
    element("dd", { "data-figure": label }, human(value)),
  ]));
}

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
  const title = element("h3", {}, queue.queue,
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

function showTotals(queues, total, workers) {
  const sum = (state) => queues.reduce((n, queue) => n + queue.counts[state], 0);
  const alive = workers.filter((worker) => worker.alive).length;
  document.getElementById("totals").replaceChildren(
    ...[["queues", total], ["ready", sum("ready")], ["delayed", sum("delayed")],
        ["leased", sum("leased")], ["dead letters", sum("dead")], ["live workers", alive]]
      .map(([label, value]) => element("div", {}, element("dt", {}, label),
        element("dd", { "data-total": label }, human(value)))));
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const [page, workers, ready] = await Promise.all([
      getJson(`/queues?limit=${LISTED}`),
      getJson("/workers?limit=1000"),
      fetch("/ready").then((reply) => reply.ok),
    ]);
    const live = liveWorkers(workers.workers);
    document.getElementById("queues").replaceChildren(
      ...page.queues.map((queue) => card(queue, live.get(queue.queue))));
    document.getElementById("queue-count").textContent = `(${page.total})`;
    const note = document.getElementById("queues-note");
    note.hidden = page.total <= page.queues.length;
    note.textContent = `The first ${page.queues.length} of ${page.total} queues, by name.`;
    showTotals(page.queues, page.total, workers.workers);
    status.textContent = ready ? `Redis ready · updated ${new Date().toLocaleTimeString()}`
                               : "Redis is unavailable";
    status.classList.toggle("bad", !ready);
  } catch (error) {
    status.textContent = `Cannot reach presque: ${error.message}`;
    status.classList.add("bad");
  }
}

let timer = null;
function schedule() {
  clearTimeout(timer);
  timer = null;
  if (document.hidden) return; // paused while nobody looks
  timer = setTimeout(async () => { await refresh(); schedule(); }, REFRESH_MS);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
  schedule();
});
document.addEventListener("DOMContentLoaded", async () => { await refresh(); schedule(); });
