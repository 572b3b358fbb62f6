// The tools of dltasks' LabelingWidget that make an answer in the browser before Enter sends it:
// "toggle" (several labels, multi_class tasks), "text" (a free text) and, from shape_tool.js,
// "box" and "polygon".  The "keys" tool (class tasks) has none: one key is the answer; a card
// with the model's suggestion on it (LabelingWidget(show_predictions=True): item.suggestion =
// {labels, scores, text}) gets the "suggest" tool, whose Enter answers with the suggested label.
//
// A tool is made once per item shown and keeps that item's answer until it is sent (and after,
// should the store refuse it).  Its interface, as work_queue.js uses it:
//   stage, below        the card's picture (or text) and what goes under it
//   key(binding)        a key that acts in the browser (binding.local); returns a note or null
//   answer()            Enter: {annotations: [...]} to send, {error: "..."}, or {consumed: true}
//   pressed(binding)    whether the binding's button shows pressed (a toggled label)
//   suggested(binding)  (optional) whether the binding's label is the model's suggestion
//   focus()             (text) put the keyboard in the text box

// The card's picture or text, as the class labeller shows it.
function plainStage(item) {
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
  return stage;
}

// The line under a card that says what the model suggests (it is only shown: the worker's key
// answers).
function suggestionLine(suggestion, what) {
  const line = document.createElement("div");
  line.className = "dlt-suggestion";
  const said = document.createElement("b");
  said.textContent = suggestion.text;
  line.append("Model suggests ", said, " — " + what);
  return line;
}

// class, a card with the model's suggestion: its label's button is marked; Enter answers with it,
// a label's key answers with that label (as on any card).
function suggestTool(item, ctx) {
  const label = item.suggestion.labels[0];
  return {
    stage: plainStage(item),
    below: suggestionLine(item.suggestion, "Enter accepts it, a label's key answers with that label"),
    pressed: () => false,
    suggested: (b) => b.action === "label" && b.label === label,
    key: () => null,
    answer: () => ({ annotations: [{ kind: "class", label }] }),
  };
}

// multi_class: keys 1-9 toggle labels; Enter sends the set (none: "no label applies").  The
// model's suggested labels start toggled on (a withdrawn answer, shown again, wins).
function toggleTool(item, ctx) {
  const suggestion = item.suggestion || null;
  const start = item.draft ? item.draft.map((d) => d.label) : (suggestion ? suggestion.labels : []);
  const chosen = new Set(start);
  const below = document.createElement("div");
  const hint = document.createElement("div");
  hint.className = "dlt-hint";
  if (suggestion) below.appendChild(suggestionLine(suggestion, "toggled on; 1-9 change it, Enter submits"));
  below.appendChild(hint);
  const show = () => {
    const labels = ctx.labels().filter((l) => chosen.has(l));
    hint.textContent = labels.length ? "chosen: " + labels.join(", ")
                                     : "no label chosen (Enter: no label applies)";
  };
  show();
  return {
    stage: plainStage(item), below,
    pressed: (b) => b.action === "toggle" && chosen.has(b.label),
    suggested: (b) => !!suggestion && b.action === "toggle" && suggestion.labels.includes(b.label),
    key(binding) {
      if (chosen.has(binding.label)) chosen.delete(binding.label);
      else chosen.add(binding.label);
      show();
      return null;
    },
    answer: () => ({ annotations: ctx.labels().filter((l) => chosen.has(l)).map((label) => ({ kind: "class", label })) }),
  };
}

// text: a text box under the item; Enter sends it, Shift+Enter is a new line.
function textTool(item, ctx) {
  const box = document.createElement("textarea");
  box.className = "dlt-answer-text";
  box.rows = 2;
  box.placeholder = "Type the answer. Enter submits, Shift+Enter: new line, Escape: leave the box";
  box.value = ((item.draft || [])[0] || {}).text || "";
  return {
    stage: plainStage(item), below: box,
    pressed: () => false,
    key: () => null,
    answer() {
      if (!box.value.trim()) return { error: "type the answer first (or s to skip)" };
      return { annotations: [{ kind: "text", text: box.value }] };
    },
    focus: () => box.focus({ preventScroll: true }),
  };
}

// The tool of `name` for one item (null for "keys": one key is the answer; "suggest" when the card
// has the model's suggestion).
function makeTool(name, item, ctx) {
  if (name === "keys" && item.suggestion && item.suggestion.labels.length) return suggestTool(item, ctx);
  if (name === "toggle") return toggleTool(item, ctx);
  if (name === "text") return textTool(item, ctx);
  if (name === "box" || name === "polygon") return shapeTool(name, item, ctx);
  return null;
}
