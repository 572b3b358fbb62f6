// Shapes on an item's picture, for dltasks' work widgets: the box and polygon tools of the
// LabelingWidget, and the read-only drawing of the ReviewWidget (every worker's shapes).
//
// Shapes are kept, drawn and sent in IMAGE pixels (the picture's natural size), never screen
// pixels: the SVG over the picture has the natural size as its viewBox, so the only conversion
// is the pointer's position (toImage).  The picture is scaled to fit the stage, up or down.
// Written the way jupyter-bbox-widget (BSD-3, gereleth) draws: an <svg> over the <img>, a drag
// on empty picture draws a box, a drag on a box moves it, its corners and edges resize it.
// Put together with answer_tools.js and work_queue.js into one ES module (work_queue.py).

const SVG_NS = "http://www.w3.org/2000/svg";
const TOOL_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                      "#7f7f7f", "#bcbd22", "#17becf"];
const DRAW_STAGE = { width: 640, height: 480 };   // the stage's inner size, CSS .dlt-draw
const MIN_DRAG_PX = 3;      // a smaller drag on empty picture is a click, not a box
const CLOSE_PX = 8;         // a click this near a polygon's first point closes it
const HANDLE_PX = 5;        // half the size of a resize handle

function svgEl(tag, attrs, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

const round1 = (v) => Math.round(v * 10) / 10;
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const colourOf = (labels, label) => TOOL_PALETTE[Math.max(0, labels.indexOf(label)) % TOOL_PALETTE.length];

// The picture, fitted to the stage, with an SVG over it; onReady(layer) once its size is known.
function pictureLayer(item, onReady) {
  const wrap = document.createElement("div");
  wrap.className = "dlt-picture";
  const img = document.createElement("img");
  img.alt = item.name;
  img.draggable = false;
  const svg = svgEl("svg", { class: "dlt-overlay" });
  wrap.append(img, svg);
  const layer = { wrap, img, svg, width: 0, height: 0 };
  const fit = () => {
    if (!img.naturalWidth) return;
    layer.width = img.naturalWidth;
    layer.height = img.naturalHeight;
    const scale = Math.min(DRAW_STAGE.width / layer.width, DRAW_STAGE.height / layer.height);
    const w = layer.width * scale, h = layer.height * scale;
    img.style.width = w + "px";
    img.style.height = h + "px";
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    svg.setAttribute("viewBox", `0 0 ${layer.width} ${layer.height}`);
    svg.setAttribute("data-natural", `${layer.width}x${layer.height}`);
    onReady(layer);
  };
  img.addEventListener("load", fit, { once: true });
  img.src = item.src;
  return layer;
}

// Screen pixels per image pixel, as drawn now.
const screenScale = (layer) => layer.svg.getBoundingClientRect().width / layer.width || 1;

// The pointer's position in image pixels, inside the image.
function toImage(layer, event) {
  const rect = layer.svg.getBoundingClientRect();
  return { x: clamp((event.clientX - rect.left) * layer.width / rect.width, 0, layer.width),
           y: clamp((event.clientY - rect.top) * layer.height / rect.height, 0, layer.height) };
}

// One shape: {kind: "box", geo: [[l, t], [r, b]]} or {kind: "polygon", geo: [[x, y], ...]}.
function drawShape(parent, shape, colour, px, opts) {
  const g = svgEl("g", { class: "dlt-shape-group" }, parent);
  const common = { class: "dlt-shape", stroke: colour, "vector-effect": "non-scaling-stroke",
                   "stroke-width": opts.selected ? 3 : 2, fill: colour, "fill-opacity": opts.fill ?? 0.08 };
  if (opts.index !== undefined) common["data-index"] = opts.index;
  if (opts.dashed) common["stroke-dasharray"] = "6 4";
  let anchor;
  if (shape.kind === "box") {
    const [[l, t], [r, b]] = shape.geo;
    svgEl("rect", { ...common, x: l, y: t, width: r - l, height: b - t }, g);
    anchor = [l, t];
  } else {
    const points = shape.geo.map((p) => p.join(",")).join(" ");
    svgEl(opts.open ? "polyline" : "polygon", { ...common, points, ...(opts.open ? { fill: "none" } : {}) }, g);
    anchor = shape.geo.reduce((a, p) => (p[1] < a[1] ? p : a), shape.geo[0]);
  }
  if (shape.label) {
    const text = svgEl("text", { class: "dlt-shape-label", x: anchor[0], y: anchor[1] - 4 * px, fill: colour,
                                 "font-size": 12 * px, "stroke-width": 3 * px }, g);
    text.textContent = shape.label;
  }
  return g;
}

// The resize handles of a selected box (corners and edges) and the vertices of a polygon.
function drawHandles(parent, shape, index, colour, px) {
  const s = HANDLE_PX * px;
  if (shape.kind === "polygon") {
    shape.geo.forEach(([x, y], j) => svgEl("circle", { class: "dlt-handle", cx: x, cy: y, r: s, fill: "#fff",
      stroke: colour, "vector-effect": "non-scaling-stroke", "data-index": index, "data-vertex": j }, parent));
    return;
  }
  const [[l, t], [r, b]] = shape.geo;
  const edges = { n: [l, t, r, t], s: [l, b, r, b], w: [l, t, l, b], e: [r, t, r, b] };
  for (const [name, [x1, y1, x2, y2]] of Object.entries(edges)) {
    svgEl("line", { class: `dlt-edge dlt-resize-${name}`, x1, y1, x2, y2, stroke: "transparent",
                    "stroke-width": 2 * s, "data-index": index, "data-handle": name }, parent);
  }
  const corners = { nw: [l, t], ne: [r, t], sw: [l, b], se: [r, b] };
  for (const [name, [x, y]] of Object.entries(corners)) {
    svgEl("rect", { class: `dlt-handle dlt-resize-${name}`, x: x - s, y: y - s, width: 2 * s, height: 2 * s,
                    fill: "#fff", stroke: colour, "vector-effect": "non-scaling-stroke", "data-index": index,
                    "data-handle": name }, parent);
  }
}

const boxOf = (a, b) => [[round1(Math.min(a.x, b.x)), round1(Math.min(a.y, b.y))],
                         [round1(Math.max(a.x, b.x)), round1(Math.max(a.y, b.y))]];

// A drag in progress: how the pointer's move changes the shapes.
function dragStep(drag, shapes, layer, p) {
  const shape = shapes[drag.index];
  if (drag.mode === "move") {
    const dx0 = p.x - drag.start.x, dy0 = p.y - drag.start.y;
    const xs = drag.orig.map((q) => q[0]), ys = drag.orig.map((q) => q[1]);
    const dx = clamp(dx0, -Math.min(...xs), layer.width - Math.max(...xs));
    const dy = clamp(dy0, -Math.min(...ys), layer.height - Math.max(...ys));
    shape.geo = drag.orig.map(([x, y]) => [round1(x + dx), round1(y + dy)]);
  } else if (drag.mode === "vertex") {
    shape.geo[drag.vertex] = [round1(p.x), round1(p.y)];
  } else if (drag.mode === "resize") {
    let [[l, t], [r, b]] = drag.orig;
    if (drag.handle.includes("n")) t = p.y;
    if (drag.handle.includes("s")) b = p.y;
    if (drag.handle.includes("w")) l = p.x;
    if (drag.handle.includes("e")) r = p.x;
    shape.geo = boxOf({ x: l, y: t }, { x: r, y: b });
  }
}

// The box or polygon tool for one item: the shapes drawn on its picture, kept until Enter.
function shapeTool(kind, item, ctx) {
  const noun = kind === "box" ? "box" : "polygon", plural = kind === "box" ? "boxes" : "polygons";
  const state = { shapes: (item.draft || []).map((s) => ({ ...s, geo: s.geo.map((p) => [...p]) })),
                  selected: -1, drawing: null, hover: null };
  const stage = document.createElement("div");
  stage.className = "dlt-stage dlt-draw";
  const below = document.createElement("div");
  below.className = "dlt-hint";
  let layer = null;
  let drag = null;

  function redraw() {
    if (item.kind !== "image") {
      below.textContent = `no picture to draw on: Enter answers "nothing here"`;
      return;
    }
    const labels = ctx.labels();
    const n = state.shapes.length;
    const said = n ? `${n} ${n === 1 ? noun : plural}: ${state.shapes.map((s) => s.label).join(", ")}`
                   : `no ${plural} yet (Enter: nothing here)`;
    below.textContent = `${said} · next label: ${ctx.pick()}` +
      (state.drawing ? ` · drawing a polygon: ${state.drawing.length} point${state.drawing.length === 1 ? "" : "s"}` +
                       " (Enter closes it, Escape cancels it)" : "");
    if (!layer) return;
    const px = 1 / screenScale(layer);
    layer.svg.replaceChildren();
    layer.svg.setAttribute("data-shapes", String(n));
    state.shapes.forEach((s, i) => {
      if (i !== state.selected) drawShape(layer.svg, s, colourOf(labels, s.label), px, { index: i });
    });
    if (state.selected >= 0) {
      const s = state.shapes[state.selected];
      drawShape(layer.svg, s, colourOf(labels, s.label), px, { index: state.selected, selected: true, fill: 0.15 });
      drawHandles(layer.svg, s, state.selected, colourOf(labels, s.label), px);
    }
    if (state.drawing) {
      const points = state.hover ? [...state.drawing, [state.hover.x, state.hover.y]] : state.drawing;
      drawShape(layer.svg, { kind: "polygon", geo: points, label: ctx.pick() }, colourOf(labels, ctx.pick()), px,
                { open: true });
      svgEl("circle", { class: "dlt-first-point", cx: state.drawing[0][0], cy: state.drawing[0][1],
                        r: CLOSE_PX * px, fill: "#fff", "fill-opacity": 0.6, stroke: "#333",
                        "vector-effect": "non-scaling-stroke" }, layer.svg);
    }
  }

  function changed() {
    redraw();
    ctx.changed();
  }

  function closePolygon() {
    state.shapes.push({ kind: "polygon", label: ctx.pick(), geo: state.drawing });
    state.selected = state.shapes.length - 1;
    state.drawing = null;
    state.hover = null;
  }

  function onMove(event) {
    if (!drag || !layer) return;
    const p = toImage(layer, event);
    if (drag.mode === "new") {
      const far = Math.abs(event.clientX - drag.screen.x) >= MIN_DRAG_PX ||
                  Math.abs(event.clientY - drag.screen.y) >= MIN_DRAG_PX;
      if (drag.index === undefined && !far) return;
      if (drag.index === undefined) {
        state.shapes.push({ kind: "box", label: ctx.pick(), geo: boxOf(drag.start, p) });
        drag.index = state.selected = state.shapes.length - 1;
      }
      state.shapes[drag.index].geo = boxOf(drag.start, p);
    } else {
      dragStep(drag, state.shapes, layer, p);
    }
    redraw();
  }

  function onUp() {
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
    if (drag && drag.index !== undefined && kind === "box") {
      const [[l, t], [r, b]] = state.shapes[drag.index].geo;
      if (r - l <= 0 || b - t <= 0) {           // resized to nothing: gone
        state.shapes.splice(drag.index, 1);
        state.selected = -1;
      }
    }
    drag = null;
    changed();
  }

  function onDown(event) {
    if (event.button !== 0 || !layer) return;
    event.preventDefault();                      // no text selection, no native image drag
    ctx.focus();
    const p = toImage(layer, event);
    const data = event.target.dataset || {};
    const index = data.index === undefined ? undefined : Number(data.index);
    if (state.drawing) {                         // a polygon being clicked out
      const first = state.drawing[0], last = state.drawing[state.drawing.length - 1];
      const scale = screenScale(layer);
      const near = (q) => Math.hypot((q[0] - p.x) * scale, (q[1] - p.y) * scale);
      if (state.drawing.length >= 3 && near(first) <= CLOSE_PX) closePolygon();
      else if (near(last) >= 1) state.drawing.push([round1(p.x), round1(p.y)]);
      changed();
      return;
    }
    if (index !== undefined && data.vertex !== undefined) {
      drag = { mode: "vertex", index, vertex: Number(data.vertex) };
    } else if (index !== undefined && data.handle !== undefined) {
      drag = { mode: "resize", index, handle: data.handle, orig: state.shapes[index].geo.map((q) => [...q]) };
    } else if (index !== undefined) {
      state.selected = index;
      drag = { mode: "move", index, start: p, orig: state.shapes[index].geo.map((q) => [...q]) };
    } else {
      state.selected = -1;
      if (kind === "polygon") {
        state.drawing = [[round1(p.x), round1(p.y)]];
        changed();
        return;
      }
      drag = { mode: "new", start: p, screen: { x: event.clientX, y: event.clientY } };
    }
    window.addEventListener("mousemove", onMove);
    window.addEventListener("mouseup", onUp);
    redraw();
  }

  if (item.kind === "image") {
    layer = pictureLayer(item, () => redraw());
    layer.svg.addEventListener("mousedown", onDown);
    layer.svg.addEventListener("mousemove", (event) => {
      if (!state.drawing || drag) return;
      state.hover = toImage(layer, event);
      redraw();
    });
    stage.appendChild(layer.wrap);
  } else {
    stage.append(...plainStage(item).childNodes);
  }
  redraw();

  return {
    stage, below,
    pressed: (b) => b.action === "pick" && b.label === ctx.pick(),
    key(binding) {                               // a key that acts here, in the browser
      let note = null;
      if (binding.action === "pick") {
        ctx.setPick(binding.label);
        if (state.selected >= 0) state.shapes[state.selected].label = binding.label;
      } else if (binding.action === "delete") {
        if (state.drawing) {
          state.drawing.pop();
          if (!state.drawing.length) state.drawing = null;
        } else if (state.selected >= 0) {
          state.shapes.splice(state.selected, 1);
          state.selected = -1;
        } else {
          note = `select a ${noun} first (click it)`;
        }
      } else if (binding.action === "cancel") {
        if (state.drawing) note = "polygon cancelled";
        state.drawing = null;
        state.hover = null;
        state.selected = -1;
      }
      changed();
      return note;
    },
    answer() {                                   // Enter: the item's shapes, or close the polygon first
      if (state.drawing) {
        if (state.drawing.length < 3) return { error: "a polygon needs 3 points: click more, or Escape" };
        closePolygon();
        changed();
        return { consumed: true };
      }
      return { annotations: state.shapes.map((s) => ({ kind: s.kind, label: s.label,
                                                       geo: s.geo.map(([x, y]) => [round1(x), round1(y)]) })) };
    },
  };
}

// The ReviewWidget's picture of a box or polygon task: every worker's shapes in their colour,
// the consensus dashed over them, and the legend.
function shapesView(item) {
  const stage = document.createElement("div");
  stage.className = "dlt-stage dlt-draw";
  if (item.kind === "image") {
    const layer = pictureLayer(item, () => {
      const px = 1 / screenScale(layer);
      layer.svg.replaceChildren();
      layer.svg.setAttribute("data-shapes", String(item.shapes.length));
      for (const s of item.shapes) {
        drawShape(layer.svg, s, s.colour, px, { dashed: s.consensus, fill: s.consensus ? 0 : 0.05 });
      }
    });
    stage.appendChild(layer.wrap);
  } else {
    stage.append(...plainStage(item).childNodes);
  }
  const legend = document.createElement("div");
  legend.className = "dlt-legend";
  for (const [name, colour, what] of item.legend || []) {
    const entry = document.createElement("span");
    const swatch = document.createElement("span");
    swatch.className = "dlt-swatch" + (name === "consensus" ? " dlt-dashed" : "");
    swatch.style.borderColor = colour;
    entry.append(swatch, `${name}: ${what}`);
    legend.appendChild(entry);
  }
  return { stage, below: legend };
}
