// Every worker: registered or seen lately, alive or not, what it works on.
import { ago, element, getJson, human, say, segment } from "./common.js";

const LISTED = 200;

/** The workers' page, drawn into C{main}: the function that draws it again. */
export function workersPage(main) {
  return async () => {
    const page = await getJson(`/workers?limit=${LISTED}`);
    const note = element("p", { class: "muted", id: "workers-note" },
      `The first ${page.workers.length} of ${page.total} workers, by name.`);
    note.hidden = page.total <= page.workers.length;
    main.replaceChildren(
      element("h2", {}, "Workers ", element("span", { class: "muted" }, `(${page.total})`)),
      note,
      page.workers.length ? workerTable(page.workers)
                          : element("p", { class: "muted" }, "No worker registered or seen lately."),
    );
    say(`updated ${new Date().toLocaleTimeString()}`);
  };
}

/** A table of C{workers} (as /workers lists them), a row each. */
export function workerTable(workers) {
  const queues = (names) => names.flatMap((name, i) => [
    ...(i ? [", "] : []), element("a", { href: `#/queues/${segment(name)}` }, name)]);
  return element("table", { id: "workers" },
    element("thead", {}, element("tr", {},
      ...["worker", "alive", "queues", "last seen", "since", "processed", "failed"]
        .map((name) => element("th", { scope: "col" }, name)))),
    element("tbody", {}, ...workers.map((worker) => element("tr", { "data-worker": worker.worker_id },
      element("td", {}, worker.worker_id),
      element("td", { class: worker.alive ? "alive" : "gone" }, worker.alive ? "alive" : "gone"),
      element("td", {}, ...queues(worker.queues)),
      element("td", {}, ago(worker.last_seen)),
      element("td", {}, worker.started_at ? ago(worker.started_at) : "–"),
      element("td", {}, human(worker.processed)),
      element("td", {}, human(worker.failed))))));
}
