// The browser half of dltasks' keyboard work widgets (LabelingWidget, ReviewWidget).
//
// The kernel sends `buffer`: the next items of the person's queue, each a card ready to draw.
// A key (or a button) acts on the item ON SCREEN: the browser marks that item as handled,
// shows the next card of the buffer at once, and sends {seq, action, item_id, label} to the
// kernel.  The kernel records it against that item only, then answers {kind: "ack", seq, ok,
// text}; a refusal is shown with the item it concerns.  Keys are read when the widget has the
// focus or the pointer; they never reach JupyterLab's shortcuts.
//
// The `tool` (answer_tools.js, shape_tool.js) is how an answer is made: with "keys" one key is
// the answer; the other tools keep the answer being made for each item (toggled labels, a text,
// shapes drawn on the picture) and Enter sends it whole as `annotations`.  Each item's card and
// tool are made once and kept while the item is in the buffer, so a model change never redraws
// the picture being drawn on; an answer the kernel refuses comes back on screen as it was,
// with the refusal on its card.
//
// Time on screen: each card keeps a clock that runs while the card is on screen, the browser
// tab is shown (not `document.hidden`) and the widget is in view (an IntersectionObserver:
// scrolled away, or in a JupyterLab tab at the back, it stops).  An action on the item sends
// the seconds its clock shows as `seconds`; an item seen twice (skipped, refused, undone)
// adds up both times.
//
// Test hooks (read by the browser tests): the root carries data-item-id (the item on screen,
// "" when none) and data-unanswered (actions sent and not yet answered).

// The card of an item: its name, then the tool's stage (or the plain picture), what goes under
// it, and a line for the store's refusal of an answer.
function card(item, tool) {
  const box = document.createElement("div");
  box.className = "dlt-card";
  const title = document.createElement("div");
  title.className = "dlt-card-title";
  const name = document.createElement("b");
  name.textContent = item.name;
  const id = document.createElement("span");
  id.className = "dlt-muted";
  id.textContent = " #" + item.id;
  title.append(name, id);
  const view = tool || (item.shapes ? shapesView(item) : { stage: plainStage(item), below: null });
  box.append(title, view.stage);
  if (view.below) box.appendChild(view.below);
  const refusal = document.createElement("div");
  refusal.className = "dlt-refusal";
  box.appendChild(refusal);
  return { el: box, refusal };
}

function table(rows, caption) {
  const wrap = document.createElement("div");
  wrap.className = "dlt-details";
  if (!rows || !rows.length) return wrap;
  if (caption) {
    const c = document.createElement("div");
    c.className = "dlt-details-caption";
    c.textContent = caption;
    wrap.appendChild(c);
  }
  const t = document.createElement("table");
  for (const [k, v] of rows) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = k;
    const td = document.createElement("td");
    td.textContent = v;
    tr.append(th, td);
    t.appendChild(tr);
  }
  wrap.appendChild(t);
  return wrap;
}

const AHEAD = 2;                   // cards made before they are shown (their pictures decoded)

// A card's clock: `spent` ms banked, `since` the time it (re)started, null while stopped.
function clock() {
  return { spent: 0, since: null };
}

function startClock(c) {
  if (c && c.since === null) c.since = performance.now();
}

function stopClock(c) {
  if (c && c.since !== null) {
    c.spent += performance.now() - c.since;
    c.since = null;
  }
}

// The seconds a clock shows, to the millisecond.
function clockSeconds(c) {
  const ms = c.spent + (c.since === null ? 0 : performance.now() - c.since);
  return Math.round(ms) / 1000;
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "dlt-work " + (model.get("css_class") || "");
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  const head = document.createElement("div");
  head.className = "dlt-work-head";
  const slot = document.createElement("div");
  const buttons = document.createElement("div");
  buttons.className = "dlt-buttons";
  const notes = document.createElement("div");
  notes.className = "dlt-notes";
  const details = document.createElement("div");
  root.append(head, slot, buttons, notes, details);
  el.appendChild(root);

  const handled = new Set();       // items acted on here whose answer has not come yet
  const views = new Map();         // item id -> its card, tool and details, made once
  const refusals = new Map();      // item id -> the kernel's refusal of the last answer sent for it
  let unanswered = 0;
  let seq = 0;
  let pick = null;                 // box / polygon: the label of the next shape drawn
  let shown = null;                // the view on screen (its clock runs while it can be seen)
  let inView = true;               // the widget is in the viewport (the IntersectionObserver says)
  const local = [];                // notes made in the browser (no item on screen, ...)

  const bindings = () => model.get("key_bindings") || [];
  const ctx = {
    labels: () => bindings().filter((b) => typeof b.label === "string").map((b) => b.label),
    pick: () => pick ?? ctx.labels()[0] ?? "",
    setPick: (label) => { pick = label; },
    changed: () => draw(),
    focus: () => root.focus({ preventScroll: true }),
  };
  const current = () => (model.get("buffer") || []).find((it) => !handled.has(it.id));

  function viewOf(item) {
    let view = views.get(item.id);
    if (!view) {
      const tool = makeTool(model.get("tool"), item, ctx);
      const made = card(item, tool);
      const extra = document.createElement("div");
      for (const [caption, rows] of item.details || []) extra.appendChild(table(rows, caption));
      view = { ...made, tool, details: extra, clock: clock() };
      views.set(item.id, view);
    }
    return view;
  }

  function note(kind, text) {
    local.push({ kind, text });
    draw();
  }

  // The clock of the view on screen runs only while the page and the widget can be seen.
  const seen = () => !document.hidden && inView;
  function show(view) {
    if (shown && shown !== view) stopClock(shown.clock);
    shown = view;
    if (view && seen()) startClock(view.clock);
  }
  function onSight() {
    if (!shown) return;
    if (seen()) startClock(shown.clock);
    else stopClock(shown.clock);
  }

  function send(binding, annotations) {
    const item = current();
    if (binding.on_item && !item) {
      note("muted", "no item on screen: key " + binding.key + " ignored");
      return;
    }
    seq += 1;
    unanswered += 1;
    const msg = { seq, action: binding.action, label: binding.label || null, item_id: item ? item.id : null };
    if (annotations) msg.annotations = annotations;
    if (binding.on_item) {
      msg.seconds = clockSeconds(viewOf(item).clock);
      handled.add(item.id);
      refusals.delete(item.id);
    }
    model.send(msg);
    draw();
  }

  // A key or a button: the tool's own keys stay in the browser; Enter sends the tool's answer.
  function act(binding) {
    const item = current();
    const tool = item ? viewOf(item).tool : null;
    if (binding.local) {
      if (!tool) return;
      const said = tool.key(binding);
      if (said) note("muted", said);
      else draw();
      return;
    }
    if (binding.action === "submit") {   // the tool's answer; nothing to send without one
      if (!tool) {
        note("muted", "nothing to submit on this item: press a label's key");
        return;
      }
      const made = tool.answer();
      if (made.error) note("error", made.error);
      else if (!made.consumed) send(binding, made.annotations);
      return;
    }
    send(binding);
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target && event.target.tagName === "TEXTAREA") {   // typing an answer: letters are text
      event.stopPropagation();
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        const submit = bindings().find((b) => b.action === "submit");
        if (submit && !event.repeat) act(submit);
      } else if (event.key === "Escape") {
        event.preventDefault();
        root.focus({ preventScroll: true });
      }
      return;
    }
    let key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "Backspace") key = "Delete";
    const binding = bindings().find((b) => b.key === key);
    if (!binding) return;
    event.preventDefault();
    event.stopPropagation();
    if (event.repeat) return;      // a held key is one action
    act(binding);
  }

  function drawHead() {
    const h = document.createElement("b");
    h.textContent = model.get("heading");
    const who = document.createElement("span");
    who.className = "dlt-muted";
    who.textContent = " — " + model.get("subheading");
    const done = model.get("done"), total = model.get("total");
    const bar = document.createElement("progress");
    bar.max = Math.max(total, 1);
    bar.value = done;
    const count = document.createElement("span");
    count.className = "dlt-count";
    count.textContent = model.get("counter");
    head.replaceChildren(h, who, bar, count);
  }

  function draw() {
    const item = current();
    const view = item ? viewOf(item) : null;
    root.setAttribute("data-item-id", item ? String(item.id) : "");
    root.setAttribute("data-unanswered", String(unanswered));
    drawHead();

    if (view) {
      view.refusal.textContent = refusals.get(item.id) || "";
      if (slot.firstChild !== view.el) {       // a new item: never redraw the one being worked on
        const inside = root.contains(document.activeElement);
        show(view);
        slot.replaceChildren(view.el);
        details.replaceChildren(view.details);
        if (inside && view.tool && view.tool.focus) view.tool.focus();
      }
    } else {
      const empty = document.createElement("div");
      empty.className = "dlt-card dlt-empty";
      const stage = document.createElement("div");
      stage.className = "dlt-stage dlt-muted";
      stage.textContent = handled.size ? "saving…" : model.get("empty_text");
      empty.appendChild(stage);
      const inside = root.contains(document.activeElement);
      show(null);
      slot.replaceChildren(empty);
      details.replaceChildren();
      if (inside && !root.contains(document.activeElement)) root.focus({ preventScroll: true });
    }

    buttons.replaceChildren();
    for (const b of bindings()) {
      const button = document.createElement("button");
      const on = !!(view && view.tool && view.tool.pressed(b));
      const suggested = !!(view && view.tool && view.tool.suggested && view.tool.suggested(b));
      button.className = "dlt-button jupyter-button" + (b.style ? " dlt-" + b.style : "") + (on ? " dlt-on" : "")
        + (suggested ? " dlt-suggested" : "");
      button.type = "button";
      button.title = (b.title || b.text) + (suggested ? " — the model's suggestion" : "");
      button.setAttribute("aria-pressed", String(on));
      const key = document.createElement("kbd");
      key.textContent = b.key;
      if (b.key) button.append(key, " ");
      button.append(b.text);
      button.disabled = (b.on_item && !item) || (b.action === "undo" && !model.get("can_undo"))
        || (b.action === "submit" && !(view && view.tool));
      button.addEventListener("click", (e) => { e.stopPropagation(); act(b); root.focus({ preventScroll: true }); });
      buttons.appendChild(button);
    }

    const lines = [];
    for (const n of [...(model.get("notes") || []), ...local.slice(-2)].slice(-4)) {
      const line = document.createElement("div");
      line.className = "dlt-" + n.kind;
      line.textContent = n.text;
      lines.push(line);
    }
    notes.replaceChildren(...lines);
  }

  model.on("msg:custom", (msg) => {
    if (msg.kind !== "ack") return;
    unanswered = Math.max(0, unanswered - 1);
    if (msg.item_id !== null && msg.item_id !== undefined) {
      handled.delete(msg.item_id);
      if (!msg.ok) refusals.set(msg.item_id, msg.text);
    }
    draw();
  });
  // Forget the items that left (their tools too); make the next cards now, so their pictures
  // are decoded before they are shown.
  function onBuffer() {
    const buffer = model.get("buffer") || [];
    const ids = new Set(buffer.map((it) => it.id));
    for (const id of [...views.keys()]) {
      if (!ids.has(id) && !handled.has(id)) {
        views.delete(id);
        refusals.delete(id);
      }
    }
    buffer.filter((it) => !handled.has(it.id)).slice(0, AHEAD + 1).forEach(viewOf);
    draw();
  }
  model.on("change:buffer", onBuffer);
  for (const name of ["key_bindings", "notes", "done", "total", "counter", "can_undo", "heading", "subheading"]) {
    model.on("change:" + name, draw);
  }
  root.addEventListener("keydown", onKey);
  document.addEventListener("visibilitychange", onSight);
  const sight = typeof IntersectionObserver === "function"
    ? new IntersectionObserver((entries) => {
      inView = entries[entries.length - 1].isIntersecting;
      onSight();
    })
    : null;
  if (sight) sight.observe(root);
  onBuffer();
  root.addEventListener("mouseenter", () => {
    const active = document.activeElement;
    if (active && root.contains(active) && active !== root) return;   // already here (in the text box)
    const typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.isContentEditable);
    if (typing) return;
    const item = current();
    const tool = item ? viewOf(item).tool : null;
    if (tool && tool.focus) tool.focus();
    else root.focus({ preventScroll: true });
  });
  return () => {
    root.removeEventListener("keydown", onKey);
    document.removeEventListener("visibilitychange", onSight);
    if (sight) sight.disconnect();
  };
}

export default { render };
