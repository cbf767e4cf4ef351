// The Serverless UMS console: one ES module, no build step, nothing loaded from elsewhere.
// Every call goes to this console's own /api, which forwards to the stack (signed there).
// Text from the stack is only ever set as textContent or attribute values, never as HTML:
// the mail preview is rendered in a sandboxed frame.

const main = document.getElementById("main");

// --- talking to the stack ---------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  return (await apiAnswer(method, path, body)).payload;
}

// The payload and the headers the console server passes on (X-Next-Cursor).
async function apiAnswer(method, path, body) {
  const options = { method, headers: { "X-UMS-Console": "1" } };
  if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers["Content-Type"] = "application/json";
  }
  const answer = await fetch("/api" + path, options);
  const text = await answer.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = text;
  }
  if (!answer.ok) {
    const message = Array.isArray(payload) ? payload[0]?.message : payload?.message || text;
    throw new ApiError(answer.status, `${message || "Request failed"} (HTTP ${answer.status})`);
  }
  return { payload, next: answer.headers.get("X-Next-Cursor") };
}

// --- building the page ------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

let fieldCount = 0;

// A labelled field: <label for> + control (+ a hint tied by aria-describedby).
function field(labelText, control, hint) {
  const id = control.id || `f${++fieldCount}`;
  control.id = id;
  const parts = [el("label", { for: id, text: labelText }), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(el("p", { class: "hint", id: hintId, text: hint }));
  }
  return el("div", {}, parts);
}

function input(name, value = "", attributes = {}) {
  return el("input", { name, value: value ?? "", ...attributes });
}

function select(name, options, value) {
  const node = el("select", { name });
  for (const option of options) {
    const [optionValue, text] = Array.isArray(option) ? option : [option, option];
    node.append(el("option", { value: optionValue, text, selected: optionValue === value }));
  }
  return node;
}

// One live region per view: errors as alerts (announced at once), results as status.
function messages() {
  const box = el("div", { "aria-live": "polite" });
  return {
    box,
    error(text) {
      box.replaceChildren(el("div", { class: "alert", role: "alert", text }));
    },
    ok(text) {
      box.replaceChildren(el("div", { class: "status", role: "status", text }));
    },
    clear() {
      box.replaceChildren();
    },
  };
}

// A form whose submit runs `action` (no page load); an error shows in `note`.
function form(label, note, action, ...children) {
  const submit = async (submitEvent) => {
    submitEvent.preventDefault();
    try {
      await action();
    } catch (error) {
      note.error(error.message);
    }
  };
  return el("form", { class: "card", "aria-label": label, onsubmit: submit }, ...children);
}

// Each render (and each route) starts a new generation: a view still loading from an older one
// (a Refresh, then a click elsewhere) must not draw over what the operator looks at now.
let generation = 0;

function show(title, ...content) {
  generation += 1;
  main.replaceChildren(el("h2", { text: title }), ...content);
}

// `show`, for a view that loads first: a no-op if anything was shown or routed meanwhile.
function renderer() {
  const mine = generation;
  return (...args) => {
    if (mine === generation) show(...args);
  };
}

// --- automations: Jexia's form, with the variable picker, preview and send test ---------------

async function automationsView() {
  const render = renderer();
  const [items, events, integrations] = await Promise.all([
    api("GET", "/management/automations"),
    api("GET", "/management/events"),
    api("GET", "/management/integrations"),
  ]);
  const note = messages();
  const rows = items.map((item) =>
    el(
      "tr",
      {},
      el("td", { text: item.name }),
      el("td", { text: item.event }),
      el("td", { text: item.template ? `template ${item.template}` : item.subject }),
      el("td", { text: item.enabled === false ? "disabled" : "enabled" }),
      el(
        "td",
        {},
        el("button", { class: "secondary", type: "button", text: "Edit", onclick: () => automationForm(events, integrations, item) }),
        el("button", {
          class: "secondary",
          type: "button",
          text: item.enabled === false ? "Enable" : "Disable",
          onclick: async () => {
            const { id, created_at, updated_at, ...data } = item;
            try {
              await api("PUT", `/management/automations/${encodeURIComponent(id)}`, { ...data, enabled: item.enabled === false });
              route();
            } catch (error) {
              note.error(error.message);
            }
          },
        }),
        deleteButton(`/management/automations/${encodeURIComponent(item.id)}`, item.name, note),
      ),
    ),
  );
  render(
    "Automations",
    el("p", { text: "An automation sends a mail when an event happens, through an integration." }),
    note.box,
    table(["Name", "Event", "Mail", "State", "Actions"], rows, "No automations yet: the default mails go out."),
    el("button", { type: "button", text: "New automation", onclick: () => automationForm(events, integrations) }),
  );
}

function automationForm(events, integrations, item = {}) {
  const note = messages();
  const eventSelect = select("event", events.map((e) => [e.id, `${e.name} (${e.id})`]), item.event || "AfterPasswordResetRequest");
  const integrationSelect = select(
    "integration_id",
    integrations.length ? integrations.map((i) => [i.id, `${i.name} (${i.type})`]) : [["", "No integration: create one first"]],
    item.integration_id,
  );
  const name = input("name", item.name, { required: true, autocomplete: "off" });
  const subject = input("subject", item.subject, { autocomplete: "off" });
  const message = el("textarea", { name: "body" });
  message.value = item.body || "";
  const textBody = el("textarea", { name: "text_body" });
  textBody.value = item.text_body || "";
  const templateName = input("template", item.template, { autocomplete: "off" });
  const enabled = el("input", { type: "checkbox", name: "enabled", checked: item.enabled !== false });
  const variable = el("select", { name: "variable" });
  const sendTo = input("to", "", { type: "email", autocomplete: "email" });

  let lastText = message; // where "Add variable" inserts: the field last focused
  for (const target of [subject, message, textBody]) target.addEventListener("focus", () => (lastText = target));

  const refreshVariables = () => {
    const event = events.find((e) => e.id === eventSelect.value);
    variable.replaceChildren(...(event?.placeholders || []).map((p) => el("option", { value: p, text: p })));
  };
  eventSelect.addEventListener("change", refreshVariables);
  refreshVariables();

  const addVariable = () => {
    const text = `{{ ${variable.value} }}`;
    const start = lastText.selectionStart ?? lastText.value.length;
    const end = lastText.selectionEnd ?? start;
    lastText.value = lastText.value.slice(0, start) + text + lastText.value.slice(end);
    lastText.focus();
    lastText.setSelectionRange(start + text.length, start + text.length);
    note.ok(`Inserted ${text}`);
  };

  const mail = () => {
    const data = { event: eventSelect.value };
    if (templateName.value.trim()) data.template = templateName.value.trim();
    else {
      data.subject = subject.value;
      data.body = message.value;
      if (textBody.value.trim()) data.text_body = textBody.value;
    }
    return data;
  };

  const runPreview = async (extra = {}) => {
    note.clear();
    try {
      const result = await api("POST", "/management/templates/preview", { ...mail(), ...extra });
      preview.replaceChildren(renderPreview(result));
      if (result.sent) note.ok(`Test mail sent to ${result.sent.to}`);
    } catch (error) {
      preview.replaceChildren();
      note.error(error.message);
    }
  };

  const save = async (submitEvent) => {
    submitEvent.preventDefault();
    const data = { name: name.value, integration_id: integrationSelect.value, enabled: enabled.checked, ...mail() };
    try {
      if (item.id) await api("PUT", `/management/automations/${encodeURIComponent(item.id)}`, data);
      else await api("POST", "/management/automations", data);
      location.hash = "#automations";
      route("Automation saved");
    } catch (error) {
      note.error(error.message);
    }
  };

  const preview = el("div", { "aria-live": "polite", class: "preview" }, el("p", { class: "hint", text: "Preview shows the mail here, rendered as the automation function will." }));
  show(
    item.id ? `Edit automation: ${item.name}` : "New automation",
    el(
      "div",
      { class: "editor" },
    el(
      "form",
      { class: "card", onsubmit: save, "aria-label": "Automation" },
      field("Name", name),
      field("Event", eventSelect, "The placeholders a mail may use depend on the event."),
      field("Integration", integrationSelect, "How the mail leaves: SES or SMTP (Integrations)."),
      field("Subject", subject),
      field("Message (HTML)", message),
      el(
        "div",
        { class: "row" },
        field("Variable", variable, "Inserted where the cursor was, in the subject or a message."),
        el("div", {}, el("button", { type: "button", class: "secondary", text: "Add variable", onclick: addVariable })),
      ),
      field("Plain-text message (optional)", textBody, "Left empty: made from the HTML."),
      field("Or use a template by name", templateName, "Then the subject and messages above are not used."),
      el("label", {}, enabled, " Enabled"),
      note.box,
      el(
        "div",
        {},
        el("button", { type: "submit", text: "Save" }),
        el("button", { type: "button", class: "secondary", text: "Preview", onclick: () => runPreview() }),
        el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => (location.hash = "#automations") }),
      ),
      el(
        "div",
        { class: "row" },
        field("Send a test to", sendTo),
        el(
          "div",
          {},
          el("button", {
            type: "button",
            class: "secondary",
            text: "Send test",
            onclick: () => runPreview({ to: sendTo.value, integration_id: integrationSelect.value }),
          }),
        ),
      ),
    ),
    preview,
    ),
  );
  name.focus();
}

function renderPreview(result) {
  const frame = el("iframe", { class: "mail", sandbox: "", title: "The mail's HTML", srcdoc: result.html });
  const parts = [
    el("h3", { text: "Preview" }),
    el("p", {}, el("strong", { text: "To: " }), result.to),
    el("p", {}, el("strong", { text: "Subject: " }), el("span", { "data-testid": "preview-subject", text: result.subject })),
    el("p", {}, el("strong", { text: "Template: " }), result.template),
  ];
  if (result.chain?.length) {
    parts.push(
      el("p", { text: "Chain (first stored one is used):" }),
      el(
        "ol",
        { class: "chain" },
        result.chain.map((c) => el("li", { class: c.used ? "used" : null, text: `${c.name}${c.stored ? "" : " (not stored)"}${c.used ? " ← used" : ""}` })),
      ),
    );
  }
  parts.push(frame, el("h4", { text: "Plain text" }), el("pre", { "data-testid": "preview-text", text: result.text }));
  return el("section", { "aria-label": "Preview" }, parts);
}

// --- kinds edited as JSON (templates, applications, policies, keys, OAuth providers) -----------

const KINDS = {
  templates: {
    title: "Templates",
    about: "A template <name> is picked per user as <name>-<COUNTRY>, then <name>-<language>, then <name>.",
    label: (t) => t.name,
    sample: { name: "mb-user-password-US", subject: "Reset your password", html: "<p><a href=\"{{ reset_link }}\">Reset</a></p>", text: "Reset: {{ reset_link }}" },
  },
  applications: {
    title: "Applications",
    about: "Reset links, tags, the default template and the hosted pages' branding, per application.",
    label: (a) => a.name,
    sample: { name: "phoenix", reset_url: "https://phoenix.example.com/reset", email_tags: ["phoenix"], display_name: "Phoenix", brand_color: "#1d4ed8" },
  },
  integrations: {
    title: "Integrations",
    about: "How mail leaves: SES (the stack's identity) or SMTP (the password is kept in Secrets Manager and never shown).",
    label: (i) => `${i.name} (${i.type})`, // edited in integrationForm
  },
  policies: {
    title: "Policies",
    about: "Who (ums:<user id>, apk:<key>, or <.*>) may create, read, update or delete users.",
    label: (p) => p.description || p.id,
    sample: { description: "admins", subjects: ["ums:<.*>"], resources: ["ums.users"], actions: { read: [] } },
  },
  keys: {
    title: "API keys",
    about: "For server-side apps: X-API-KEY: <key>:<secret>, or POST /auth {method: apk}. The secret is shown once.",
    label: (k) => `${k.description || "(no description)"}: ${k.key}`,
    sample: { description: "billing service" },
    id: (k) => k.key,
  },
  "oauth-providers": {
    title: "OAuth providers",
    about: "Sign-up and sign-in with Google, GitHub or any OpenID Connect provider.",
    label: (p) => p.name,
    sample: { preset: "github", client_id: "", client_secret: "", redirects: ["https://app.example.com/oauth"] },
  },
};

async function kindView(kind) {
  const render = renderer();
  const spec = KINDS[kind];
  const items = await api("GET", `/management/${kind}`);
  const note = messages();
  const idOf = spec.id || ((item) => item.id);
  const rows = items.map((item) =>
    el(
      "tr",
      {},
      el("td", { text: spec.label(item) }),
      el(
        "td",
        {},
        el("button", { type: "button", class: "secondary", text: "Edit", onclick: () => kindForm(kind, item) }),
        kind === "integrations" ? testButton(item, note) : null,
        kind === "templates" ? el("button", { type: "button", class: "secondary", text: "Preview", onclick: () => templatePreview(item) }) : null,
        deleteButton(`/management/${kind}/${encodeURIComponent(idOf(item))}`, spec.label(item), note),
      ),
    ),
  );
  render(
    spec.title,
    el("p", { text: spec.about }),
    note.box,
    table(["Item", "Actions"], rows, "None yet."),
    el("button", { type: "button", text: `New: ${spec.title}`, onclick: () => kindForm(kind) }),
  );
}

// Integrations get a form of their own: the first thing a new operator sets up.
function integrationForm(item = {}) {
  const note = messages();
  const fields = {
    name: input("name", item.name ?? "Mail", { autocomplete: "off" }),
    type: select("type", [["ses", "SES (this AWS account)"], ["smtp", "SMTP server"]], item.type || "ses"),
    sender: input("sender", item.sender ?? "", { type: "email", autocomplete: "off" }),
    reply_to: input("reply_to", item.reply_to ?? "", { type: "email", autocomplete: "off" }),
    configuration_set: input("configuration_set", item.configuration_set ?? "", { autocomplete: "off" }),
    host: input("host", item.host ?? "", { autocomplete: "off" }),
    port: input("port", item.port ?? 587, { type: "number", min: 1, max: 65535 }),
    tls: select("tls", [["starttls", "STARTTLS"], ["implicit", "TLS from the start"], ["none", "None"]], item.tls || "starttls"),
    username: input("username", item.username ?? "", { autocomplete: "off" }),
    password: input("password", "", { type: "password", autocomplete: "new-password" }),
  };
  const ses = el("div", {}, field("SES configuration set (optional)", fields.configuration_set));
  const smtp = el(
    "div",
    {},
    field("SMTP host", fields.host),
    field("Port", fields.port),
    field("TLS", fields.tls),
    field("User name (optional)", fields.username),
    field("Password", fields.password, item.has_password ? "Stored; leave empty to keep it." : "Kept in Secrets Manager, never shown again."),
  );
  const showType = () => {
    ses.hidden = fields.type.value !== "ses";
    smtp.hidden = fields.type.value !== "smtp";
  };
  fields.type.addEventListener("change", showType);
  showType();
  const save = async () => {
    const data = { name: fields.name.value, type: fields.type.value, sender: fields.sender.value };
    if (fields.reply_to.value) data.reply_to = fields.reply_to.value;
    if (data.type === "ses" && fields.configuration_set.value) data.configuration_set = fields.configuration_set.value;
    if (data.type === "smtp") {
      Object.assign(data, { host: fields.host.value, port: Number(fields.port.value), tls: fields.tls.value });
      if (fields.username.value) data.username = fields.username.value;
      if (fields.password.value) data.password = fields.password.value;
    }
    if (item.id) await api("PUT", `/management/integrations/${encodeURIComponent(item.id)}`, data);
    else await api("POST", "/management/integrations", data);
    location.hash = "#integrations";
    route("Integrations: saved");
  };
  show(
    item.id ? `Integration: ${item.name}` : "New integration",
    form(
      "Integration",
      note,
      save,
      field("Name", fields.name),
      field("Type", fields.type, "SES sends from an identity verified in this account; SMTP through your server."),
      field("Sender", fields.sender, "The From address (SES: a verified identity)."),
      field("Reply-to (optional)", fields.reply_to),
      ses,
      smtp,
      note.box,
      el("button", { type: "submit", text: "Save" }),
      el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => route() }),
    ),
  );
  fields.name.focus();
}

function kindForm(kind, item) {
  if (kind === "integrations") return integrationForm(item);
  const spec = KINDS[kind];
  const note = messages();
  const idOf = spec.id || ((i) => i.id);
  const editable = item ? Object.fromEntries(Object.entries(item).filter(([k]) => !["id", "created_at", "updated_at", "key", "has_password", "has_client_secret"].includes(k))) : spec.sample;
  const json = el("textarea", { name: "item", rows: 14 });
  json.value = JSON.stringify(editable, null, 2);
  const result = el("div", { "aria-live": "polite" });
  const save = async (submitEvent) => {
    submitEvent.preventDefault();
    let data;
    try {
      data = JSON.parse(json.value);
    } catch (error) {
      note.error(`Not JSON: ${error.message}`);
      return;
    }
    try {
      const saved = item
        ? await api("PUT", `/management/${kind}/${encodeURIComponent(idOf(item))}`, data)
        : await api("POST", `/management/${kind}`, data);
      if (kind === "keys" && saved.secret) {
        result.replaceChildren(
          el("p", { role: "status", text: "Copy the secret now: it is not shown again." }),
          el("p", { class: "secret", "data-testid": "secret", text: `${saved.key}:${saved.secret}` }),
          el("button", { type: "button", text: "Done", onclick: () => route() }),
        );
        return;
      }
      location.hash = `#${kind}`;
      route(`${spec.title}: saved`);
    } catch (error) {
      note.error(error.message);
    }
  };
  show(
    item ? `${spec.title}: ${spec.label(item)}` : `New: ${spec.title}`,
    el(
      "form",
      { class: "card", onsubmit: save, "aria-label": spec.title },
      field(`${spec.title}: the item as JSON`, json, spec.about),
      note.box,
      el("button", { type: "submit", text: "Save" }),
      el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => route() }),
    ),
    result,
  );
  json.focus();
}

function testButton(integration, note) {
  return el("button", {
    type: "button",
    class: "secondary",
    text: "Test",
    onclick: async () => {
      const to = prompt(`Send a test mail through ${integration.name} to:`);
      if (!to) return;
      try {
        await api("POST", `/management/integrations/${encodeURIComponent(integration.id)}/test`, { to });
        note.ok(`Test mail sent to ${to}`);
      } catch (error) {
        note.error(error.message);
      }
    },
  });
}

function templatePreview(template) {
  const note = messages();
  const base = template.name.replace(/-([A-Z]{2}|[a-z]{2}(-[A-Z]{2})?)$/, "");
  const name = input("template", base);
  const user = input("user_id", "", { autocomplete: "off" });
  const event = select("event", ["AfterPasswordResetRequest", "AfterSignUp", "AfterUserInvite", "AfterEmailVerificationRequest", "AfterPasswordChange"]);
  const out = el("div", { "aria-live": "polite" });
  show(
    `Which variant does a user get? (${template.name})`,
    form(
      "Which variant",
      note,
      async () => {
        const body = { event: event.value, template: name.value };
        if (user.value.trim()) body.user_id = user.value.trim();
        out.replaceChildren(renderPreview(await api("POST", "/management/templates/preview", body)));
        note.clear();
      },
      field("Template name (without the variant)", name),
      field("User id (empty: a sample user in the US, language en)", user),
      field("Event", event),
      note.box,
      el("button", { type: "submit", text: "Preview" }),
      el("button", { type: "button", class: "secondary", text: "Back", onclick: () => route() }),
    ),
    out,
  );
}

// --- users: the condition builder, view, suspend, reset, delete ----------------------------------

const OPERATORS = ["=", "!=", "<", ">", "<=", ">=", "like", "regex", "null", "in", "not in"];

function usersView() {
  const note = messages();
  const fieldName = input("field", "email", { autocomplete: "off" });
  const operator = select("operator", OPERATORS, "like");
  const value = input("value", "%@example.com", { autocomplete: "off" });
  const cond = el("output", { "data-testid": "cond" });
  const results = el("div");
  const parts = [];

  const value_ = () => {
    const text = value.value;
    if (operator.value === "null") return text !== "false";
    if (/^(true|false)$/.test(text)) return text === "true";
    if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
    if (["in", "not in"].includes(operator.value)) return text.split(",").map((s) => s.trim());
    return text;
  };
  const condition = () => {
    const all = [];
    for (const part of [...parts, [{ field: fieldName.value }, operator.value, value_()]]) {
      if (all.length) all.push("and");
      all.push(...part);
    }
    return all;
  };
  const showCond = () => (cond.textContent = JSON.stringify(condition()));
  for (const control of [fieldName, operator, value]) control.addEventListener("input", showCond);

  // 50 users a page; a larger match (or a scan past its deadline) gives a cursor: "Next page".
  const search = async (submitEvent, cursor) => {
    submitEvent?.preventDefault();
    try {
      const query = new URLSearchParams({ cond: JSON.stringify(condition()), range: JSON.stringify({ limit: 50 }) });
      if (cursor) query.set("cursor", cursor);
      const { payload: users, next } = await apiAnswer("GET", `/ums/users?${query}`);
      const more = next
        ? el("button", { type: "button", class: "secondary", text: "Next page", onclick: () => search(null, next) })
        : "";
      results.replaceChildren(usersTable(users, note, search), more);
      note.ok(`${users.length} user(s) found${next ? "; more on the next page" : ""}`);
    } catch (error) {
      note.error(error.message);
    }
  };

  show(
    "Users",
    el(
      "form",
      { class: "card", onsubmit: search, "aria-label": "Search users" },
      el("p", { text: "Build a condition in Jexia's grammar; it is sent as the cond parameter of GET /ums/users." }),
      el("div", { class: "row" }, field("Field", fieldName), field("Operator", operator), field("Value", value, "Numbers, true/false and lists (a, b) are typed.")),
      el("p", {}, "cond = ", cond),
      el("button", {
        type: "button",
        class: "secondary",
        text: "And another condition",
        onclick: () => {
          parts.push([{ field: fieldName.value }, operator.value, value_()]);
          value.value = "";
          showCond();
          value.focus();
        },
      }),
      el("button", { type: "submit", text: "Search" }),
    ),
    note.box,
    results,
  );
  showCond();
}

function usersTable(users, note, again) {
  const rows = users.map((user) => {
    const where = new URLSearchParams({ cond: JSON.stringify([{ field: "id" }, "=", user.id]) });
    const act = (label, action) =>
      el("button", {
        type: "button",
        class: "secondary",
        text: label,
        onclick: async () => {
          try {
            const done = await action();
            await again();
            note.ok(done);
          } catch (error) {
            note.error(error.message);
          }
        },
      });
    return el(
      "tr",
      {},
      el("td", { text: user.email }),
      el("td", { text: user.active === false ? "suspended" : "active" }),
      el("td", { text: user.created_at }),
      el(
        "td",
        {},
        el("details", {}, el("summary", { text: "View" }), el("pre", { text: JSON.stringify(user, null, 2) })),
        act(user.active === false ? "Reactivate" : "Suspend", async () => {
          await api("PATCH", `/ums/users?${where}`, { active: user.active === false });
          return `${user.email} ${user.active === false ? "reactivated" : "suspended"}`;
        }),
        act("Send reset", async () => {
          await api("POST", "/ums/resetpassword", { email: user.email });
          return `Reset mail requested for ${user.email}`;
        }),
        deleteButton(`/ums/users?${where}`, user.email, note, again),
      ),
    );
  });
  return table(["Email", "State", "Created", "Actions"], rows, "No user matches.");
}

// --- delivery: failed mails, an event's status, the local stack's outbox ------------------------

async function deliveryView() {
  const render = renderer();
  const note = messages();
  const eventId = input("event_id", "", { autocomplete: "off" });
  const lookup = messages();
  let latest = [];
  try {
    latest = await api("GET", "/management/outbox?status=all&limit=50");
  } catch (error) {
    note.error(error.message);
  }
  let queued = [];
  try {
    queued = await api("GET", "/management/failures");
  } catch (error) {
    note.error(error.message);
  }
  let mail = null;
  try {
    mail = await api("GET", "/_local/mail");
  } catch {
    mail = null; // a deployed stack: its mail is in SES, not here
  }
  const sendAgain = (e) =>
    el("button", {
      type: "button",
      class: "secondary",
      text: "Send again",
      "aria-label": `Send again: ${e.event} for ${e.user?.email}`,
      onclick: async () => {
        try {
          await api("POST", `/management/outbox/${encodeURIComponent(e.id)}/redrive`);
          route(`${e.event} for ${e.user?.email}: sent again`);
        } catch (error) {
          note.error(error.message);
        }
      },
    });
  const eventRows = latest.map((e) =>
    el(
      "tr",
      {},
      el("td", { text: e.occurred_at }),
      el("td", { text: e.event }),
      el("td", { text: e.user?.email }),
      el("td", { text: e.status }),
      el("td", { text: [e.reason, e.redrives ? `sent again ${e.redrives}×` : null].filter(Boolean).join("; ") }),
      el("td", {}, ["failed", "pending"].includes(e.status) ? sendAgain(e) : null),
    ),
  );
  const mailRows = (mail || [])
    .slice()
    .reverse()
    .map((m) =>
      el(
        "tr",
        {},
        el("td", { text: m.sent_at }),
        el("td", { text: [].concat(m.to).join(", ") }),
        el("td", { text: m.subject }),
        el("td", {}, el("details", {}, el("summary", { text: "Text" }), el("pre", { text: m.text || "" }))),
      ),
    );
  render(
    "Delivery",
    note.box,
    el("h3", { text: "Latest events" }),
    el("p", { class: "hint", text: "Failed: fix the cause (an integration, a template), then send again. Pending: not processed yet, or stuck after retries." }),
    table(["When", "Event", "User", "Status", "Why / retried", "Actions"], eventRows, "No event yet.", "events"),
    el("h3", { text: "Failure queue" }),
    el("p", { class: "hint", text: "Stream batches the automation function gave up on after its retries (AutomationFailures)." }),
    table(
      ["Failed", "Why", "Events"],
      queued.map((m) =>
        el("tr", {}, el("td", { text: m.failed_at || "" }), el("td", { text: m.condition || "" }), el("td", { text: m.events ? m.events.join(", ") : "no longer in the stream: find them by status above" })),
      ),
      "The failure queue is empty.",
      "failures",
    ),
    queued.length
      ? el("button", {
          type: "button",
          text: "Redrive the queue",
          onclick: async () => {
            try {
              const done = await api("POST", "/management/failures/redrive");
              route(`${done.sent_again.length} event(s) sent again, ${done.unchanged.length} unchanged, ${done.kept.length} message(s) kept`);
            } catch (error) {
              note.error(error.message);
            }
          },
        })
      : null,
    form(
      "Look up an event",
      lookup,
      async () => {
        const e = await api("GET", `/management/outbox/${encodeURIComponent(eventId.value.trim())}`);
        lookup.box.replaceChildren(el("pre", { text: JSON.stringify(e, null, 2) }));
      },
      field("What became of an event's mail? Event id", eventId),
      el("button", { type: "submit", text: "Look up" }),
      lookup.box,
    ),
    el("h3", { text: "Mail sent (local stack)" }),
    mail === null
      ? el("p", { text: "A deployed stack's mail is in SES (its configuration set's events), not here." })
      : table(["Sent", "To", "Subject", "Body"], mailRows, "No mail yet.", "mail"),
    el("button", { type: "button", class: "secondary", text: "Refresh", onclick: () => route() }),
  );
}

// --- shared pieces and the router -------------------------------------------------------------------

function table(headings, rows, empty, testId) {
  if (!rows.length) return el("p", { text: empty });
  return el("table", { "data-testid": testId }, el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows));
}

// Delete asks once more, in the page: the button becomes "Confirm delete" next to "Cancel".
function deleteButton(path, label, note, after = null) {
  const holder = el("span");
  const ask = el("button", {
    type: "button",
    class: "danger",
    text: "Delete",
    onclick: () => {
      const confirm = el("button", {
        type: "button",
        class: "danger",
        text: `Confirm delete of ${label}`,
        onclick: async () => {
          try {
            await api("DELETE", path);
            if (!after) return route(`Deleted ${label}`);
            await after();
            note.ok(`Deleted ${label}`);
          } catch (error) {
            note.error(error.message);
          }
        },
      });
      const cancel = el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => holder.replaceChildren(ask) });
      holder.replaceChildren(confirm, cancel);
      confirm.focus();
    },
  });
  holder.append(ask);
  return holder;
}

const VIEWS = { automations: automationsView, users: usersView, delivery: deliveryView };

async function route(status) {
  generation += 1;
  const mine = generation;
  const name = (location.hash || "#automations").slice(1);
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  try {
    if (VIEWS[name]) await VIEWS[name]();
    else if (KINDS[name]) await kindView(name);
    else show("Not found", el("p", { text: `No section ${name}` }));
    if (status && generation === mine + 1) main.prepend(el("div", { class: "status", role: "status", text: status }));
  } catch (error) {
    if (generation === mine) show("Cannot reach the stack", el("div", { class: "alert", role: "alert", text: error.message }));
  }
}

window.addEventListener("hashchange", () => {
  route().then(() => main.focus());
});
route();
