// The schedules of recurring jobs: when each runs, its next and last runs;
// for an admin, pause, resume, delete, and a form that writes one.
import { act, ago, can, element, getJson, say, segment, send, table } from "./common.js";

const when = (schedule) => (schedule.cron ? `cron ${schedule.cron} (${schedule.tz})` : `every ${schedule.every} s`);
const at = (seconds) => (seconds === null ? "–" : `${new Date(seconds * 1000).toLocaleString()} (${ago(seconds)})`);

function lastRun(last) {
  if (last === null) return "–";
  if (last.skipped) return `${at(last.at)}: skipped (${last.skipped})`;
  return [`${at(last.at)}: `, element("code", {}, last.job.slice(-8))];
}

function actions(schedule) {
  const path = `/schedules/${segment(schedule.name)}`;
  const button = (action, label, change, done) => element("button", {
    type: "button", "data-action": action, class: action === "delete" ? "danger" : "",
    onclick: () => {
      if (action === "delete" && !confirm(`Delete schedule ${schedule.name}?`)) return;
      act(change(), done);
    },
  }, label);
  return [
    schedule.paused ? button("resume", "Resume", () => send("POST", `${path}/resume`), "schedule resumed")
                    : button("pause", "Pause", () => send("POST", `${path}/pause`), "schedule paused"),
    button("delete", "Delete", () => send("DELETE", path), "schedule deleted"),
  ];
}

/** The form that writes a schedule (PUT /schedules/NAME). */
function scheduleForm() {
  const field = (name, label, attributes = {}) => element("label", {}, label,
    element("input", { name, ...attributes }));
  const form = element("form", { id: "schedule-form" },
    element("h3", {}, "Write a schedule"),
    field("name", "Name", { required: "" }),
    field("queue", "Queue", { required: "" }),
    field("cron", "Cron", { placeholder: "0 7 * * mon-fri" }),
    field("tz", "Time zone", { placeholder: "UTC" }),
    field("every", "or every (seconds)", { type: "number", min: "1" }),
    element("label", {}, "Job (JSON)", element("textarea", { name: "job", required: "" }, "{}")),
    element("button", { type: "submit" }, "Save"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    let job;
    try {
      job = JSON.parse(data.get("job"));
    } catch {
      say("the job is not JSON", true);
      return;
    }
    const definition = { queue: data.get("queue"), job };
    if (data.get("cron")) definition.cron = data.get("cron");
    if (data.get("tz")) definition.tz = data.get("tz");
    if (data.get("every")) definition.every = Number(data.get("every"));
    act(send("PUT", `/schedules/${segment(data.get("name"))}`, definition), "schedule saved");
  });
  return form;
}

/** The schedules' page, drawn into C{main}: the function that draws it again. */
export function schedulesPage(main) {
  const admin = can("admin");
  const list = element("div");
  main.replaceChildren(element("h2", {}, "Schedules"), list, ...(admin ? [scheduleForm()] : []));
  return async () => {
    const { schedules } = await getJson("/schedules");
    list.replaceChildren(schedules.length
      ? table({ id: "schedules" }, ["name", "queue", "when", "next run", "last run", ...(admin ? [""] : [])],
        schedules.map((schedule) => element("tr", { "data-schedule": schedule.name },
          element("td", {}, schedule.name),
          element("td", {}, element("a", { href: `#/queues/${segment(schedule.queue)}` }, schedule.queue)),
          element("td", {}, when(schedule)),
          element("td", { "data-field": "next" }, schedule.paused ? "paused" : at(schedule.next_run)),
          element("td", {}, lastRun(schedule.last_run)),
          ...(admin ? [element("td", {}, element("div", { class: "actions" }, ...actions(schedule)))] : []))))
      : element("p", { class: "muted" }, "No schedule."));
    say(`updated ${new Date().toLocaleTimeString()}`);
  };
}
