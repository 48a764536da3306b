// Webhook admin of the chosen organization: create, pause, ping, delete; deliveries and redeliver.
import {api, organization, seg, session} from "./api.js";
import {add, emptyState, formatTime, h, notice, route} from "./dom.js";

const EVENTS = ["*", "module.created", "version.published", "version.compiled", "version.compilation_failed", "webhook.ping"];

function needsOrganization(view) {
  if (!session()) {
    add(view, notice("info", "Sign in as an admin of an organization to manage its webhooks. ",
      h("a", {href: "#/signin?next=%23%2Fwebhooks"}, "Sign in")));
    return true;
  }
  if (!organization()) {
    add(view, notice("info", "Webhooks belong to an organization: choose one in the Organization menu above."));
    return true;
  }
  return false;
}

function createForm(onCreated) {
  const errors = h("div", {});
  const form = h("form", {class: "card", id: "webhook-form", novalidate: true},
    h("h2", {}, "Add a webhook"),
    h("div", {class: "field"}, h("label", {for: "wh-url"}, "Payload URL"),
      h("input", {id: "wh-url", name: "url", type: "url", required: true, placeholder: "https://example.com/hooks/spoke"})),
    h("div", {class: "field"}, h("label", {for: "wh-secret"}, "Secret (16-256 characters; signs every delivery, never shown again)"),
      h("input", {id: "wh-secret", name: "secret", type: "password", required: true, minlength: "16", autocomplete: "off"})),
    h("fieldset", {}, h("legend", {}, "Events"), EVENTS.map((event) => h("label", {class: "check"},
      h("input", {type: "checkbox", name: "events", value: event, checked: event === "*"}), event === "*" ? "every event (*)" : event))),
    h("button", {type: "submit", class: "primary"}, "Add webhook"), errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    const events = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
    try {
      const created = await api.post("/webhooks", {url: form.url.value.trim(), secret: form.secret.value, events});
      form.reset();
      onCreated(created);
    } catch (error) {
      add(errors, notice("error", `${error.code}: ${error.message}`,
        error.validationErrors.length ? h("ul", {}, error.validationErrors.map((v) => h("li", {}, `${v.field}: ${v.message}`))) : null));
    }
  });
  return form;
}

export async function list(view, _params, _query, ctx) {
  document.title = "Webhooks · Spoke";
  add(view, h("h1", {}, `Webhooks of ${ctx.organizationLabel()}`));
  if (needsOrganization(view)) return;
  const data = await api.get("/webhooks");
  if (!ctx.current()) return;
  const box = h("section", {class: "card", "aria-labelledby": "hooks-h"}, h("h2", {id: "hooks-h"}, "Webhooks"));
  if (!data.webhooks.length) add(box, emptyState("No webhooks yet: add one below."));
  else {
    add(box, h("ul", {class: "hooks", id: "webhook-list"}, data.webhooks.map((w) => h("li", {},
      h("a", {href: route("webhooks", w.id), class: "title"}, w.url),
      h("span", {class: `badge ${w.active ? "ok" : "off"}`}, w.active ? "active" : "paused"),
      h("div", {class: "meta"}, `events: ${w.events.join(", ")} · created ${formatTime(w.created_at)}`)))));
  }
  add(view, box, createForm((created) => ctx.navigate(route("webhooks", created.id))));
}

function deliveryRow(delivery, onRedeliver) {
  const button = h("button", {type: "button", class: "small", "aria-label": `Redeliver ${delivery.event} ${delivery.id}`}, "Redeliver");
  button.addEventListener("click", () => onRedeliver(delivery, button));
  return h("li", {class: "delivery", "data-status": delivery.status, "data-id": delivery.id},
    h("div", {class: "row"}, h("span", {class: `state state-${delivery.status}`}, delivery.status), " ",
      h("strong", {}, delivery.event), " ",
      h("span", {class: "meta"}, `${formatTime(delivery.created_at)} · ${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"}` +
        (delivery.status_code ? ` · HTTP ${delivery.status_code}` : "") + (delivery.duration_ms != null ? ` · ${delivery.duration_ms} ms` : "")),
      " ", button),
    delivery.redelivery_of ? h("div", {class: "meta"}, `redelivery of ${delivery.redelivery_of}`) : null,
    delivery.last_error ? h("div", {class: "error-text"}, delivery.last_error) : null,
    delivery.history && delivery.history.length ? h("details", {}, h("summary", {}, "Attempts"),
      h("ol", {}, delivery.history.map((attempt) => h("li", {}, JSON.stringify(attempt))))) : null);
}

export async function detail(view, [id], _query, ctx) {
  document.title = "Webhook · Spoke";
  add(view, h("nav", {class: "crumbs", "aria-label": "Breadcrumb"}, h("a", {href: "#/webhooks"}, "Webhooks"), " / ", id));
  if (needsOrganization(view)) return;
  const webhook = await api.get(`/webhooks/${seg(id)}`);
  if (!ctx.current()) return;
  const messages = h("div", {"aria-live": "polite"});
  const toggle = h("button", {type: "button", id: "wh-toggle"}, webhook.active ? "Pause" : "Activate");
  const ping = h("button", {type: "button", id: "wh-ping"}, "Send a ping");
  const remove = h("button", {type: "button", class: "danger", id: "wh-delete"}, "Delete");
  add(view, h("h1", {class: "path"}, webhook.url),
    h("p", {class: "meta"}, `${webhook.active ? "active" : "paused"} · events: ${webhook.events.join(", ")} · updated ${formatTime(webhook.updated_at)}`),
    h("div", {class: "actions"}, ping, toggle, remove), messages);
  const listBox = h("section", {class: "card", "aria-labelledby": "deliveries-h"},
    h("h2", {id: "deliveries-h"}, "Recent deliveries"), h("button", {type: "button", class: "small", id: "refresh"}, "Refresh"));
  const items = h("ul", {class: "deliveries", id: "delivery-list"});
  const more = h("button", {type: "button", class: "small", hidden: true}, "Older deliveries");
  add(listBox, items, more);
  add(view, listBox);
  let cursor = null;
  const redeliver = async (delivery, button) => {
    button.disabled = true;
    try {
      const fresh = await api.post(`/webhooks/${seg(id)}/deliveries/${seg(delivery.id)}/redeliver`);
      messages.replaceChildren(notice("ok", `Queued a redelivery of ${delivery.event} (${fresh.id}).`));
      await load(true);
    } catch (error) {
      messages.replaceChildren(notice("error", `${error.code}: ${error.message}`));
    } finally { button.disabled = false; }
  };
  // The list is replaced only when its answer arrives (no empty flash), and only by the newest load:
  // an older answer arriving late is dropped. aria-busy says when the list is settled.
  let generation = 0;
  const load = async (fromStart) => {
    const mine = ++generation;
    items.setAttribute("aria-busy", "true");
    try {
      const data = await api.get(`/webhooks/${seg(id)}/deliveries`,
        {query: {page_size: 20, cursor: fromStart ? null : cursor}});
      if (mine !== generation) return;
      if (fromStart) items.replaceChildren();
      if (!data.deliveries.length && !items.children.length) add(items, h("li", {class: "empty"}, "No deliveries yet."));
      for (const delivery of data.deliveries) add(items, deliveryRow(delivery, redeliver));
      cursor = data.pagination.next_cursor;
      more.hidden = !data.pagination.has_more || !data.deliveries.length;
    } finally {
      if (mine === generation) items.setAttribute("aria-busy", "false");
    }
  };
  listBox.querySelector("#refresh").addEventListener("click", () => load(true).catch((e) => messages.replaceChildren(notice("error", e.message))));
  more.addEventListener("click", () => load(false).catch((e) => messages.replaceChildren(notice("error", e.message))));
  ping.addEventListener("click", async () => {
    try {
      await api.post(`/webhooks/${seg(id)}/ping`);
      messages.replaceChildren(notice("ok", "Ping queued: it shows below within seconds (Refresh)."));
      await load(true);
    } catch (error) { messages.replaceChildren(notice("error", `${error.code}: ${error.message}`)); }
  });
  toggle.addEventListener("click", async () => {
    try {
      await api.patch(`/webhooks/${seg(id)}`, {active: !webhook.active});
      ctx.navigate(`${route("webhooks", id)}?t=${Date.now()}`);
    } catch (error) { messages.replaceChildren(notice("error", `${error.code}: ${error.message}`)); }
  });
  remove.addEventListener("click", async () => {
    if (!window.confirm(`Delete the webhook to ${webhook.url}? Nothing more will be sent to it.`)) return;
    try {
      await api.delete(`/webhooks/${seg(id)}`);
      ctx.navigate("#/webhooks");
    } catch (error) { messages.replaceChildren(notice("error", `${error.code}: ${error.message}`)); }
  });
  await load(true);
}
