// The browser half of dltasks' keyboard work widgets (LabelingWidget, ReviewWidget).
//
// The kernel sends `buffer`: the next items of the person's queue, each a card ready to draw.
// A key (or a button) acts on the item ON SCREEN: the browser marks that item as handled,
// shows the next card of the buffer at once, and sends {seq, action, item_id, label} to the
// kernel.  The kernel records it against that item only, then answers {kind: "ack", seq, ok,
// text}; a refusal is shown with the item it concerns.  Keys are read when the widget has the
// focus or the pointer; they never reach JupyterLab's shortcuts.
//
// Test hooks (read by the browser tests): the root carries data-item-id (the item on screen,
// "" when none) and data-unanswered (actions sent and not yet answered).

function card(item, labels) {
  const box = document.createElement("div");
  box.className = "dlt-card";
  const stage = document.createElement("div");
  stage.className = "dlt-stage";
  if (item.kind === "image") {
    const img = document.createElement("img");
    img.src = item.src;
    img.alt = item.name;
    img.draggable = false;
    stage.appendChild(img);
  } else if (item.kind === "text") {
    const pre = document.createElement("div");
    pre.className = "dlt-text";
    pre.textContent = item.text;
    stage.appendChild(pre);
  } else {
    const none = document.createElement("div");
    none.className = "dlt-muted dlt-nofile";
    none.textContent = item.text || "no preview";
    stage.appendChild(none);
  }
  const title = document.createElement("div");
  title.className = "dlt-card-title";
  const name = document.createElement("b");
  name.textContent = item.name;
  const id = document.createElement("span");
  id.className = "dlt-muted";
  id.textContent = " #" + item.id;
  title.append(name, id);
  box.append(title, stage);
  return box;
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

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "dlt-work " + (model.get("css_class") || "");
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  el.appendChild(root);

  const handled = new Set();       // items acted on here whose answer has not come yet
  let unanswered = 0;
  let seq = 0;
  const local = [];                // notes made in the browser (no item on screen, ...)

  const current = () => (model.get("buffer") || []).find((it) => !handled.has(it.id));

  function send(binding) {
    const item = current();
    if (binding.on_item && !item) {
      local.push({ kind: "muted", text: "no item on screen: key " + binding.key + " ignored" });
      draw();
      return;
    }
    seq += 1;
    unanswered += 1;
    const msg = { seq, action: binding.action, label: binding.label || null, item_id: item ? item.id : null };
    if (binding.on_item) handled.add(item.id);
    model.send(msg);
    draw();
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const binding = (model.get("key_bindings") || []).find((b) => b.key === key);
    if (!binding) return;
    event.preventDefault();
    event.stopPropagation();
    if (event.repeat) return;      // a held key is one action
    send(binding);
  }

  function draw() {
    const item = current();
    root.setAttribute("data-item-id", item ? String(item.id) : "");
    root.setAttribute("data-unanswered", String(unanswered));
    root.replaceChildren();

    const head = document.createElement("div");
    head.className = "dlt-work-head";
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
    head.append(h, who, bar, count);
    root.appendChild(head);

    if (item) {
      root.appendChild(card(item));
    } else {
      const empty = document.createElement("div");
      empty.className = "dlt-card dlt-empty";
      const stage = document.createElement("div");
      stage.className = "dlt-stage dlt-muted";
      stage.textContent = handled.size ? "saving…" : model.get("empty_text");
      empty.appendChild(stage);
      root.appendChild(empty);
    }

    const buttons = document.createElement("div");
    buttons.className = "dlt-buttons";
    for (const b of model.get("key_bindings") || []) {
      const button = document.createElement("button");
      button.className = "dlt-button jupyter-button" + (b.style ? " dlt-" + b.style : "");
      button.type = "button";
      button.title = b.title || b.text;
      const key = document.createElement("kbd");
      key.textContent = b.key;
      button.append(key, " " + b.text);
      button.disabled = (b.on_item && !item) || (b.action === "undo" && !model.get("can_undo"));
      button.addEventListener("click", (e) => { e.stopPropagation(); send(b); root.focus({ preventScroll: true }); });
      buttons.appendChild(button);
    }
    root.appendChild(buttons);

    const notes = document.createElement("div");
    notes.className = "dlt-notes";
    for (const n of [...(model.get("notes") || []), ...local.slice(-2)].slice(-4)) {
      const line = document.createElement("div");
      line.className = "dlt-" + n.kind;
      line.textContent = n.text;
      notes.appendChild(line);
    }
    root.appendChild(notes);
    if (item) {
      for (const [caption, rows] of item.details || []) root.appendChild(table(rows, caption));
    }
  }

  model.on("msg:custom", (msg) => {
    if (msg.kind !== "ack") return;
    unanswered = Math.max(0, unanswered - 1);
    if (msg.item_id !== null && msg.item_id !== undefined) handled.delete(msg.item_id);
    draw();
  });
  for (const name of ["buffer", "key_bindings", "notes", "done", "total", "counter", "can_undo", "heading", "subheading"]) {
    model.on("change:" + name, draw);
  }
  root.addEventListener("keydown", onKey);
  root.addEventListener("mouseenter", () => {
    const active = document.activeElement;
    const typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.isContentEditable);
    if (!typing) root.focus({ preventScroll: true });
  });
  draw();
  return () => root.removeEventListener("keydown", onKey);
}

export default { render };
