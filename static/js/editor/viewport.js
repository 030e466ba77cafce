// Pan and zoom of the canvas. Drawflow keeps the translation in canvas_x/canvas_y and the
// scale in zoom; our CSS sets the transform origin to the top-left corner, so a point of the
// canvas appears at container + translate + zoom × point.
"use strict";

const MARGIN = 40;
const FIT_MIN = 0.5;

export class Viewport {
  constructor(editor, container) {
    this.editor = editor;
    this.container = container;
  }

  apply() {
    const e = this.editor;
    e.zoom_last_value = e.zoom;
    e.precanvas.style.transform = `translate(${e.canvas_x}px, ${e.canvas_y}px) scale(${e.zoom})`;
    this.container.dispatchEvent(new CustomEvent("viewportchange", {detail: {zoom: e.zoom}}));
  }

  // Zoom by `factor` keeping the screen point (x, y) (container coordinates) still.
  zoomBy(factor, x, y) {
    const e = this.editor;
    const rect = this.container.getBoundingClientRect();
    const cx = x ?? rect.width / 2;
    const cy = y ?? rect.height / 2;
    const zoom = Math.min(e.zoom_max, Math.max(e.zoom_min, e.zoom * factor));
    const scale = zoom / e.zoom;
    e.canvas_x = cx - (cx - e.canvas_x) * scale;
    e.canvas_y = cy - (cy - e.canvas_y) * scale;
    e.zoom = zoom;
    this.apply();
  }

  reset() { this.zoomBy(1 / this.editor.zoom); }

  // Ctrl + wheel (and pinch, which browsers report as ctrl + wheel) zooms; the wheel pans.
  wheel(event) {
    event.preventDefault();
    const rect = this.container.getBoundingClientRect();
    if (event.ctrlKey || event.metaKey) {
      this.zoomBy(Math.exp(-event.deltaY / 300), event.clientX - rect.left, event.clientY - rect.top);
      return;
    }
    this.editor.canvas_x -= event.deltaX;
    this.editor.canvas_y -= event.deltaY;
    this.apply();
  }

  // Canvas coordinates of a screen point.
  toCanvas(clientX, clientY) {
    const rect = this.container.getBoundingClientRect();
    const e = this.editor;
    return [(clientX - rect.left - e.canvas_x) / e.zoom, (clientY - rect.top - e.canvas_y) / e.zoom];
  }

  // The canvas point at the middle of what is visible.
  centre() {
    const rect = this.container.getBoundingClientRect();
    return this.toCanvas(rect.left + rect.width / 2, rect.top + rect.height / 3);
  }

  // Everything on screen, as large as fits (never above 100%, never below 50%).
  fit() {
    const nodes = [...this.container.querySelectorAll(".drawflow-node")];
    if (!nodes.length) {
      Object.assign(this.editor, {canvas_x: 0, canvas_y: 0, zoom: 1});
      this.apply();
      return;
    }
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const el of nodes) {
      minX = Math.min(minX, el.offsetLeft);
      minY = Math.min(minY, el.offsetTop);
      maxX = Math.max(maxX, el.offsetLeft + el.offsetWidth);
      maxY = Math.max(maxY, el.offsetTop + el.offsetHeight + 24);  // port labels hang below
    }
    const rect = this.container.getBoundingClientRect();
    const e = this.editor;
    const zoom = Math.min(1, (rect.width - 2 * MARGIN) / (maxX - minX), (rect.height - 2 * MARGIN) / (maxY - minY));
    // A long journey is not shrunk past legibility: it shows from the top, the rest a scroll away.
    e.zoom = Math.max(FIT_MIN, zoom);
    e.canvas_x = (rect.width - (maxX - minX) * e.zoom) / 2 - minX * e.zoom;
    e.canvas_y = MARGIN - minY * e.zoom;
    this.apply();
  }

  // Pan just enough to bring `el` into view.
  reveal(el) {
    if (!el) return;
    const rect = this.container.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    const e = this.editor;
    let dx = 0;
    let dy = 0;
    if (box.left < rect.left + MARGIN) dx = rect.left + MARGIN - box.left;
    else if (box.right > rect.right - MARGIN) dx = rect.right - MARGIN - box.right;
    if (box.top < rect.top + MARGIN) dy = rect.top + MARGIN - box.top;
    else if (box.bottom > rect.bottom - MARGIN) dy = rect.bottom - MARGIN - box.bottom;
    if (!dx && !dy) return;
    e.canvas_x += dx;
    e.canvas_y += dy;
    this.apply();
  }
}
