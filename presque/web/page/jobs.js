// A queue's jobs: a page of one state at a time (dead letters selectable for
// bulk actions), and one job's detail with the actions its state allows.
import { act, ago, element, getJson, human, send, segment, table } from "./common.js";

const STATES = ["ready", "delayed", "leased", "dead", "waiting"];
const PAGE = 20;

function lastError(job) {
  return job.errors.length ? job.errors[job.errors.length - 1].error : "";
}

// The columns of each state's list, after the id: header and cell.
const COLUMNS = {
  ready: [["priority", (job) => String(job.priority)], ["posted", (job) => ago(job.created)],
          ["attempts", (job) => String(job.attempts)]],
  delayed: [["due", (job) => ago(job.next_run)], ["posted", (job) => ago(job.created)],
            ["attempts", (job) => String(job.attempts)], ["last error", lastError]],
  leased: [["lease ends", (job) => ago(job.lease_expires)], ["worker", (job) => job.delivered_to || "–"],
           ["attempt", (job) => String(job.attempts)]],
  dead: [["died", (job) => ago(job.dead_since)], ["attempts", (job) => String(job.attempts)],
         ["last error", lastError]],
  waiting: [["posted", (job) => ago(job.created)], ["priority", (job) => String(job.priority)]],
};

/**
 * The jobs of the queue at C{path}: C{element} to place once, C{refresh(counts)}
 * each time; the actions on dead letters only for an C{admin}.
 */
export function jobsBrowser(path, detail, admin) {
  let state = "ready";
  let offset = 0;
  const selected = new Set();
  const tabs = element("div", { class: "tabs", role: "group", "aria-label": "Jobs by state" });
  const bulk = element("div", { class: "actions", id: "dead-actions" });
  const list = element("div", { id: "jobs-list" });
  const pager = element("div", { class: "actions pager" });
  const box = element("section", { id: "jobs", "aria-labelledby": "jobs-title" },
    element("h3", { id: "jobs-title" }, "Jobs"), tabs, bulk, list, pager);

  const choose = (chosen) => {
    [state, offset] = [chosen, 0];
    selected.clear();
    window.dispatchEvent(new Event("presque:changed"));
  };
  const turn = (by) => {
    offset = Math.max(0, offset + by);
    window.dispatchEvent(new Event("presque:changed"));
  };

  const refresh = async (counts) => {
    tabs.replaceChildren(...STATES.map((name) => element("button", {
      type: "button", "data-state": name, "aria-pressed": String(name === state),
      onclick: () => choose(name) }, `${name} (${human(counts[name])})`)));
    const page = await getJson(`/queues/${path}/jobs?state=${state}&offset=${offset}&limit=${PAGE}&payloads=0`);
    if (page.state !== state) return; // another tab was chosen meanwhile
    const shown = new Set(page.jobs.map((job) => job.id));
    for (const id of selected) if (!shown.has(id)) selected.delete(id);
    bulk.hidden = !admin || state !== "dead" || !page.total;
    const chosen = () => (selected.size ? [...selected] : null);
    bulk.replaceChildren(
      element("button", { id: "retry-selected", type: "button", onclick: () => chosen() &&
        act(send("POST", `/dead/${path}/retry`, { ids: chosen() }), "selected retried") }, "Retry selected"),
      element("button", { id: "drop-selected", type: "button", class: "danger", onclick: () => chosen() &&
        act(send("POST", `/dead/${path}/drop`, { ids: chosen() }), "selected deleted") }, "Delete selected"),
      element("button", { id: "retry-all", type: "button", onclick: () => act(
        send("POST", `/dead/${path}/retry`), "all retried") }, "Retry all"),
      element("button", { id: "drop-all", type: "button", class: "danger", onclick: () =>
        confirm("Delete every dead letter of this queue?") &&
        act(send("DELETE", `/dead/${path}`), "all deleted") }, "Delete all"));
    list.replaceChildren(page.jobs.length ? jobTable(page.jobs, state, path, selected, detail, admin)
                                          : element("p", { class: "muted" }, `No ${state} job.`));
    const last = Math.min(offset + page.jobs.length, page.total);
    pager.replaceChildren(
      element("button", { type: "button", id: "previous", ...(offset ? {} : { disabled: "" }),
                          onclick: () => turn(-PAGE) }, "← previous"),
      element("span", { class: "muted" }, page.total ? `${offset + 1}–${last} of ${human(page.total)}` : ""),
      element("button", { type: "button", id: "next", ...(last < page.total ? {} : { disabled: "" }),
                          onclick: () => turn(page.jobs.length) }, "next →"));
  };
  return { element: box, refresh };
}

function jobTable(jobs, state, path, selected, detail, admin) {
  const dead = state === "dead";
  const acting = dead && admin;
  const rows = jobs.map((job) => {
    const open = element("button", { type: "button", class: "link", onclick: () => detail.show(job.id) },
      element("code", {}, job.id));
    const cells = COLUMNS[state].map(([, cell]) => element("td", {}, cell(job)));
    const row = element("tr", { [dead ? "data-dead" : "data-job"]: job.id }, element("td", {}, open), ...cells);
    if (acting) {
      const box = element("input", { type: "checkbox", "aria-label": `select ${job.id}`,
        onchange: (event) => (event.target.checked ? selected.add(job.id) : selected.delete(job.id)) });
      box.checked = selected.has(job.id);
      row.prepend(element("td", {}, box));
      row.append(element("td", {},
        element("button", { type: "button", onclick: () => act(
          send("POST", `/dead/${path}/retry`, { ids: [job.id] }), "retried") }, "Retry"),
        element("button", { type: "button", class: "danger", onclick: () => act(
          send("DELETE", `/dead/${path}/${segment(job.id)}`), "deleted") }, "Delete")));
    }
    return row;
  });
  const columns = ["id", ...COLUMNS[state].map(([name]) => name)];
  return table({ id: dead ? "dead" : "job-table" }, acting ? ["", ...columns, ""] : columns, rows);
}

// What can be done to a job in each state, through the API.
const ACTIONS = {
  ready: [["dead", "Move to dead"], ["delete", "Delete"]],
  delayed: [["ready", "Run now"], ["dead", "Move to dead"], ["delete", "Delete"]],
  leased: [["dead", "Move to dead"], ["force", "Cancel"]],
  dead: [["ready", "Retry now"], ["delete", "Delete"]],
  done: [],
  waiting: [["ready", "Run now"], ["dead", "Move to dead"], ["delete", "Delete"]],
};

// What holds a job back, said in words (the reasons of its view's held_by).
const HOLDS = {
  queue_closed: () => "the queue is closed",
  delayed: (hold) => `it is delayed until ${new Date(hold.until * 1000).toLocaleString()}`,
  rate: (hold) => `the queue's rate (${hold.rate}/s) lets the next job out in ${hold.retry_in} s`,
  concurrency: (hold) => `the queue has ${hold.leased} jobs leased, its concurrency limit`,
  group_concurrency: (hold) => `group ${hold.group} has ${hold.leased} jobs leased, its limit`,
  waiting: (hold) => `it waits for ${hold.on.map((on) => `${on.queue}/${on.id ?? `uniq ${on.uniq}`}`).join(", ")}`,
  no_live_worker: (hold) => (hold.last_seen ? `no worker asked for a job since ${ago(hold.last_seen)}`
                                            : "no worker ever asked this queue for a job"),
};

/** One job of the queue at C{path}: C{element}, C{show(id)}, C{refresh()}; actions for an C{admin}. */
export function jobDetail(path, admin) {
  let id = null;
  const box = element("section", { id: "job-detail", "aria-live": "polite" });
  box.hidden = true;
  const run = (action) => {
    const job = `/queues/${path}/jobs/${segment(id)}`;
    if (action === "delete") {
      if (!confirm(`Delete job ${id} for good?`)) return;
      return act(send("DELETE", job), "job deleted");
    }
    if (action === "force") {
      if (!confirm(`Job ${id} is leased: its worker may be halfway through it. Cancel it for good?`)) return;
      return act(send("DELETE", `${job}?force=1`), "job cancelled");
    }
    return act(send("POST", `${job}/${action}`), action === "ready" ? "job made ready" : "job moved to dead");
  };
  const refresh = async () => {
    if (id === null) return;
    let job;
    try {
      job = await getJson(`/q/${path}/${segment(id)}`);
    } catch (error) {
      box.replaceChildren(element("h3", {}, "Job ", element("code", {}, id)),
        element("p", { class: "muted", "data-field": "gone" },
          `${error.message}: acked, taken for good or removed.`), closer());
      return;
    }
    const when = (label, at, extra = "") => (at ? [[label, `${ago(at)} (${new Date(at * 1000).toLocaleString()})${extra}`]] : []);
    const timeline = [
      ...when("created", job.created),
      ...when("last delivered", job.delivered, job.delivered_to ? ` to ${job.delivered_to}` : ""),
      ...when("lease ends", job.lease_expires),
      ...when("next run", job.next_run),
      ...when("dead since", job.dead_since),
      ...when("finished", job.finished),
    ];
    const facts = [["attempts", String(job.attempts)], ["priority", String(job.priority)],
      ...(job.group === null ? [] : [["group", job.group]]),
      ...(job.progress ? [["progress", `${job.progress.value} ${job.progress.message}`.trim()]] : []),
      ...timeline];
    box.replaceChildren(
      element("h3", {}, "Job ", element("code", {}, job.id), " ",
        element("span", { class: `state ${job.state}`, "data-field": "state" }, job.state)),
      element("dl", { class: "timeline" },
        ...facts.flatMap(([label, value]) => [element("dt", {}, label), element("dd", { "data-field": label }, value)])),
      ...(job.held_by?.length ? [element("ul", { id: "job-held-by" }, ...job.held_by.map((hold) =>
        element("li", { "data-reason": hold.reason }, `Waiting: ${HOLDS[hold.reason](hold)}.`)))] : []),
      element("div", { class: "actions", ...(admin ? {} : { hidden: "" }) }, ...ACTIONS[job.state].map(([action, label]) =>
        element("button", { type: "button", "data-action": action,
                            class: action === "ready" ? "" : "danger", onclick: () => run(action) }, label))),
      job.errors.length ? table({ id: "job-errors" }, ["when", "attempt", "error"], job.errors.map((e) =>
        element("tr", {}, element("td", {}, ago(e.at)), element("td", {}, String(e.attempt)),
                element("td", {}, e.error)))) : element("p", { class: "muted" }, "No error recorded."),
      ...("job" in job ? [element("pre", { id: "job-payload" }, JSON.stringify(job.job, null, 2))] : []),
      ...("result" in job ? [element("h4", {}, "Result"),
                             element("pre", { id: "job-result" }, JSON.stringify(job.result, null, 2))] : []),
      closer());
  };
  const closer = () => element("button", { type: "button", onclick: () => { id = null; box.hidden = true; } }, "Close");
  const show = (chosen) => {
    id = chosen;
    box.hidden = false;
    box.replaceChildren(element("p", { class: "muted" }, "Loading…"));
    refresh().then(() => box.scrollIntoView({ block: "nearest" }));
  };
  return { element: box, show, refresh };
}
