// Every worker: registered or seen lately, alive or not, what it works on
// and the jobs it holds now.
import { ago, element, getJson, human, say, segment, table } from "./common.js";

const LISTED = 200;
// The queues whose leased jobs are read to tell what each worker holds.
const QUEUES_READ = 20;
const LEASED_READ = 1000;

/** Worker -> the jobs it holds now [{queue, id}], from the leased jobs of C{queues}. */
async function holdings(queues) {
  const held = new Map();
  const pages = await Promise.all(queues.slice(0, QUEUES_READ).map((queue) =>
    getJson(`/queues/${segment(queue)}/jobs?state=leased&limit=${LEASED_READ}&payloads=0`)));
  for (const page of pages) {
    for (const job of page.jobs) {
      if (!job.delivered_to) continue;
      if (!held.has(job.delivered_to)) held.set(job.delivered_to, []);
      held.get(job.delivered_to).push({ queue: page.queue, id: job.id });
    }
  }
  return held;
}

/** The workers' page, drawn into C{main}: the function that draws it again. */
export function workersPage(main) {
  return async () => {
    const page = await getJson(`/workers?limit=${LISTED}`);
    const queues = [...new Set(page.workers.filter((w) => w.alive).flatMap((w) => w.queues))];
    const held = await holdings(queues);
    const note = element("p", { class: "muted", id: "workers-note" },
      `The first ${page.workers.length} of ${page.total} workers, by name.`);
    note.hidden = page.total <= page.workers.length;
    main.replaceChildren(
      element("h2", {}, "Workers ", element("span", { class: "muted" }, `(${page.total})`)),
      note,
      page.workers.length ? workerTable(page.workers, held)
                          : element("p", { class: "muted" }, "No worker registered or seen lately."),
    );
    say(`updated ${new Date().toLocaleTimeString()}`);
  };
}

function holding(jobs) {
  if (!jobs || !jobs.length) return ["–"];
  return jobs.slice(0, 5).flatMap((job, i) => [...(i ? [", "] : []),
    element("a", { href: `#/queues/${segment(job.queue)}/jobs/${segment(job.id)}` },
      element("code", {}, job.id.slice(-8)))]).concat(jobs.length > 5 ? [` +${jobs.length - 5}`] : []);
}

/** A table of C{workers} (as /workers lists them), a row each; C{held} adds what each holds. */
export function workerTable(workers, held) {
  const queues = (names) => names.flatMap((name, i) => [
    ...(i ? [", "] : []), element("a", { href: `#/queues/${segment(name)}` }, name)]);
  const columns = ["worker", "alive", "queues", "last seen", "since", "processed", "failed"];
  return table({ id: "workers" }, held ? [...columns, "holds now"] : columns,
    workers.map((worker) => element("tr", { "data-worker": worker.worker_id },
      element("td", {}, worker.worker_id),
      element("td", { class: worker.alive ? "alive" : "gone" }, worker.alive ? "alive" : "gone"),
      element("td", {}, ...queues(worker.queues)),
      element("td", {}, ago(worker.last_seen)),
      element("td", {}, worker.started_at ? ago(worker.started_at) : "–"),
      element("td", {}, human(worker.processed)),
      element("td", {}, human(worker.failed)),
      ...(held ? [element("td", { class: "holds" }, ...holding(held.get(worker.worker_id)))] : []))));
}
