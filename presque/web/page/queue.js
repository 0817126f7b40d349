// A queue's page: its figures, charts, jobs and workers (drawn again at each
// refresh), and the forms that change it (drawn once, so that what a person
// types survives the refreshes).
import { act, can, element, figures, getJson, human, say, segment, send } from "./common.js";
import { liveReadings, throughputChart } from "./charts.js";
import { jobDetail, jobsBrowser } from "./jobs.js";
import { workerTable } from "./workers.js";

const SETTINGS = [
  ["lease", "Lease (s, 0: for good)"],
  ["max_attempts", "Attempts before the dead letters"],
  ["backoff_base", "First retry after (s)"],
  ["backoff_cap", "Longest retry delay (s)"],
  ["max_length", "Most jobs held (0: no limit)"],
];
const DAY_S = 86400;
const HISTORY_EVERY_MS = 60_000;

/**
 * The page of C{queue}, drawn into C{main}, showing the job C{jobId} if
 * given: the function that draws its live part again.
 */
export function queuePage(main, queue, jobId) {
  const path = segment(queue);
  const live = element("div", { id: "live" });
  const workers = element("section", { id: "queue-workers" });
  const settings = settingsForm(path);
  const liveChart = throughputChart("live-chart", "Jobs per second, live");
  const dayChart = throughputChart("day-chart", "Jobs per second, last 24 hours (per minute)");
  // Only what the page's token allows is offered (everything with tokens off).
  const admin = can("admin", queue);
  const detail = jobDetail(path, admin);
  const jobs = jobsBrowser(path, detail, admin);
  const post = postForm(path);
  settings.hidden = !admin;
  post.hidden = !can("produce", queue);
  main.replaceChildren(
    element("p", {}, element("a", { href: "#/" }, "← every queue")),
    element("h2", { id: "queue-title" }, queue, " ", element("span", { id: "queue-state" })),
    element("div", { class: "actions", ...(admin ? {} : { hidden: "" }) },
      element("button", { id: "toggle", type: "button",
                          onclick: (event) => toggle(path, event.target) }, "…"),
      element("button", { id: "purge", type: "button", class: "danger",
                          onclick: () => purge(path, queue) }, "Purge…")),
    live,
    element("div", { class: "charts" }, liveChart.element, dayChart.element),
    detail.element,
    jobs.element,
    workers,
    element("div", { class: "columns" }, settings, post, findForm(detail)),
  );
  if (jobId) detail.show(jobId);
  const reading = liveReadings();
  let filled = false;
  let historyAt = 0;
  return async () => {
    const view = await getJson(`/queues/${path}`);
    drawLive(live, workers, view);
    liveChart.draw(reading(Date.now() / 1000, view.totals));
    if (Date.now() - historyAt > HISTORY_EVERY_MS) {
      historyAt = Date.now();
      const since = Math.floor(Date.now() / 1000 - DAY_S);
      dayChart.draw((await getJson(`/queues/${path}/history?since=${since}`)).samples);
    }
    await Promise.all([jobs.refresh(view.counts), detail.refresh()]);
    const state = main.querySelector("#queue-state");
    state.textContent = view.status;
    state.className = `state ${view.status}`;
    const toggler = main.querySelector("#toggle");
    toggler.textContent = view.status === "open" ? "Pause" : "Resume";
    toggler.dataset.status = view.status;
    if (!filled) {
      for (const [name] of SETTINGS) settings.elements[name].value = view.settings[name];
      filled = true;
    }
    say(`updated ${new Date().toLocaleTimeString()}`);
  };
}

function drawLive(live, workers, view) {
  const totals = view.totals;
  live.replaceChildren(
    figures(Object.entries(view.counts)),
    element("p", { class: "muted", id: "totals" },
      `${human(totals.enqueued)} enqueued · ${human(totals.delivered)} delivered · ` +
      `${human(totals.acked)} acked · ${human(totals.failed)} failed · ` +
      `${human(totals.retried)} retried · ${human(totals.dead)} dead-lettered · ` +
      `${human(totals.expired)} leases expired`));
  workers.replaceChildren(
    element("h3", {}, `Workers (${view.workers.length})`),
    view.workers.length ? workerTable(view.workers)
                        : element("p", { class: "muted" }, "No worker seen on this queue."));
}

function toggle(path, button) {
  const open = button.dataset.status === "open";
  return act(send("POST", `/control/${path}`, { status: open ? "stop" : "start" }),
             open ? "paused" : "resumed");
}

function purge(path, queue) {
  if (!confirm(`Purge ${queue}: drop every job in every state?`)) return;
  return act(send("DELETE", `/q/${path}`), "purged");
}

function labelled(label, input) {
  return element("label", {}, element("span", {}, label), input);
}

function settingsForm(path) {
  const form = element("form", { id: "settings", "aria-labelledby": "settings-title" },
    element("h3", { id: "settings-title" }, "Settings"),
    ...SETTINGS.map(([name, label]) => labelled(label,
      element("input", { name, type: "number", min: "0", step: "any", required: "" }))),
    element("button", { type: "submit" }, "Save"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const changes = Object.fromEntries(SETTINGS.map(([name]) => [name, Number(form.elements[name].value)]));
    act(send("PATCH", `/queues/${path}`, changes), "settings saved");
  });
  return form;
}

function postForm(path) {
  const form = element("form", { id: "post", "aria-labelledby": "post-title" },
    element("h3", { id: "post-title" }, "Post a job"),
    labelled("Job (JSON)", element("textarea", { name: "job", rows: "5", spellcheck: "false" }, "{}")),
    labelled("Delay (s)", element("input", { name: "delay", type: "number", min: "0", step: "any" })),
    labelled("Priority (0-9)", element("input", { name: "priority", type: "number", min: "0", max: "9" })),
    labelled("Unique key", element("input", { name: "uniq", type: "text" })),
    element("p", { class: "error", role: "alert", id: "post-error" }),
    element("button", { type: "submit" }, "Post"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const error = form.querySelector("#post-error");
    const text = form.elements.job.value;
    try {
      JSON.parse(text);
    } catch (problem) {
      error.textContent = `Not JSON: ${problem.message}`;
      return;
    }
    error.textContent = "";
    const query = new URLSearchParams();
    const delay = Number(form.elements.delay.value);
    if (delay > 0) query.set("delayed", String(Date.now() / 1000 + delay));
    if (form.elements.priority.value) query.set("priority", form.elements.priority.value);
    if (form.elements.uniq.value) query.set("uniq", form.elements.uniq.value);
    act(send("POST", `/q/${path}?${query}`, text), "job posted");
  });
  return form;
}

function findForm(detail) {
  const form = element("form", { id: "find", "aria-labelledby": "find-title" },
    element("h3", { id: "find-title" }, "Find a job by id"),
    labelled("Job id", element("input", { name: "id", type: "text", required: "" })),
    element("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    detail.show(form.elements.id.value.trim());
  });
  return form;
}
