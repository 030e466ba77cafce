// The canvas: Drawflow draws the model's nodes and edges; this module maps between
// Drawflow's numbered nodes and output_N classes and our node ids and port names, and reports
// what the marketer did (connect, disconnect, move, delete, select) as model changes.
"use strict";

import {escapeHTML} from "./http.js";
import {Viewport} from "./viewport.js";

const MODULE = "Home";

export class Canvas {
  constructor(container, model, {editable, onChange, onSelect}) {
    this.container = container;
    this.model = model;
    this.editable = editable;
    this.onChange = onChange;
    this.onSelect = onSelect;
    this.silent = 0;
    this.toDf = new Map();
    this.fromDf = new Map();
    this.selectedEdge = null;
    this.selectedNode = null;

    const editor = new Drawflow(container);  // eslint-disable-line no-undef
    editor.editor_mode = editable ? "edit" : "fixed";
    editor.force_first_input = true;  // dropping a connection anywhere on a node connects it
    editor.curvature = 0.5;
    editor.zoom_min = 0.25;
    editor.zoom_max = 1.6;
    // Our keyboard handling (keys.js) deletes through the model, so undo covers it.
    editor.key = () => {};
    // Edges run top-down: out-ports at a node's foot, the in-port at its head.
    editor.createCurvature = verticalCurve;
    this.editor = editor;
    this.viewport = new Viewport(editor, container);
    editor.zoom_enter = (event) => this.viewport.wheel(event);
    editor.start();
    container.classList.add(editable ? "is-editable" : "is-readonly");
    this.listen();
  }

  listen() {
    const on = (name, handler) => this.editor.on(name, (detail) => { if (!this.silent) handler(detail); });
    on("connectionCreated", (c) => this.connected(c));
    on("connectionRemoved", (c) => this.disconnected(c));
    on("nodeRemoved", (dfId) => this.removed(dfId));
    on("nodeMoved", (dfId) => this.moved(dfId));
    on("nodeSelected", (dfId) => this.select(this.fromDf.get(String(dfId)) || null));
    // Starting a connection from a port unselects the node in Drawflow; the panel stays open.
    this.editor.on("click", (event) => { this.downOnPort = !!event.target.closest?.(".output"); });
    on("nodeUnselected", () => { if (!this.downOnPort) this.select(null); });
    on("connectionSelected", (c) => { this.selectedEdge = c; this.container.dispatchEvent(new Event("selectionchange")); });
    on("connectionUnselected", () => { this.selectedEdge = null; this.container.dispatchEvent(new Event("selectionchange")); });
    if (!this.editable) {
      // In fixed mode Drawflow selects nothing; a viewer still opens a node's (read-only) settings.
      this.container.addEventListener("click", (event) => {
        const el = event.target.closest(".drawflow-node");
        this.select(el ? this.fromDf.get(el.id.slice(5)) : null);
      });
    }
  }

  quietly(fn) {
    this.silent += 1;
    try { return fn(); } finally { this.silent -= 1; }
  }

  // Draw the whole model again (load, undo, redo, a node's ports changed).
  render() {
    const data = {};
    this.toDf.clear();
    this.fromDf.clear();
    this.model.graph.nodes.forEach((node, index) => {
      const dfId = String(index + 1);
      this.toDf.set(node.id, dfId);
      this.fromDf.set(dfId, node.id);
    });
    for (const node of this.model.graph.nodes) data[this.toDf.get(node.id)] = this.dfNode(node);
    for (const edge of this.model.graph.edges) {
      const out = this.toDf.get(edge.from);
      const into = this.toDf.get(edge.to);
      const index = this.model.ports(edge.from).indexOf(edge.port ?? null);
      if (!out || !into || index < 0 || !data[into].inputs.input_1) continue;
      const outputClass = `output_${index + 1}`;
      data[out].outputs[outputClass].connections.push({node: into, output: "input_1"});
      data[into].inputs.input_1.connections.push({node: out, input: outputClass});
    }
    const keep = this.selectedNode;
    this.quietly(() => this.editor.import({drawflow: {[MODULE]: {data}}}));
    for (const node of this.model.graph.nodes) this.decorate(node.id);
    this.selectedNode = null;
    this.selectedEdge = null;
    if (keep && this.toDf.has(keep)) this.highlightSelected(keep);
  }

  dfNode(node) {
    const ports = this.model.ports(node.id);
    const [x, y] = this.model.position(node.id) || [40, 40];
    const outputs = {};
    ports.forEach((_, i) => { outputs[`output_${i + 1}`] = {connections: []}; });
    return {
      id: Number(this.toDf.get(node.id)), name: node.type, data: {}, typenode: false,
      class: `jr-node jr-type-${node.type}`, html: this.cardHTML(node),
      inputs: node.type === "trigger" ? {} : {input_1: {connections: []}}, outputs, pos_x: x, pos_y: y,
    };
  }

  cardHTML(node) {
    const meta = this.model.meta[node.id] || {};
    return `<div class="jr-card">
      <div class="jr-card-head"><span class="jr-card-type">${escapeHTML(meta.label || node.type)}</span>
        <span class="jr-card-id">${escapeHTML(node.id)}</span></div>
      <div class="jr-card-summary">${escapeHTML(meta.summary || "")}</div>
      <div class="jr-card-stats" hidden></div>
      <div class="jr-card-sim" hidden></div>
      <ul class="jr-card-problems" hidden></ul>
    </div>`;
  }

  element(id) {
    const dfId = this.toDf.get(id);
    return dfId ? this.container.querySelector(`#node-${dfId}`) : null;
  }

  // Port labels and ids for tests and screen readers, after Drawflow made the elements.
  decorate(id) {
    const el = this.element(id);
    if (!el) return;
    el.dataset.node = id;
    el.dataset.type = this.model.node(id).type;
    const ports = this.model.ports(id);
    el.querySelectorAll(".outputs .output").forEach((out, i) => {
      const port = ports[i] ?? null;
      out.dataset.port = port === null ? "" : port;
      out.title = port === null ? "Next step: drag to the node that follows" : `${port}: drag to the next node`;
    });
    const input = el.querySelector(".inputs .input");
    if (input) input.title = "In";
  }

  // The card's text after a config change (ports unchanged).
  refresh(id) {
    const el = this.element(id);
    const meta = this.model.meta[id] || {};
    if (!el) return;
    el.querySelector(".jr-card-summary").textContent = meta.summary || "";
    el.querySelector(".jr-card-type").textContent = meta.label || this.model.node(id).type;
  }

  addNode(type, config, meta, x, y) {
    const id = this.model.addNode(type, config, [x, y], meta);
    this.render();
    this.select(id, {focus: true});
    this.onChange("add");
    return id;
  }

  deleteSelection() {
    if (!this.editable) return false;
    if (this.selectedNode) {
      const id = this.selectedNode;
      this.model.removeNode(id);
      this.select(null);
      this.render();
      this.onChange("delete");
      return true;
    }
    if (this.selectedEdge) {
      const {output_id: out, input_id: into, output_class: oc} = this.selectedEdge;
      const from = this.fromDf.get(String(out));
      const port = this.model.ports(from)[Number(oc.split("_")[1]) - 1] ?? null;
      this.model.disconnect(from, port, this.fromDf.get(String(into)));
      this.selectedEdge = null;
      this.render();
      this.onChange("disconnect");
      return true;
    }
    return false;
  }

  connected({output_id: out, input_id: into, output_class: oc}) {
    const from = this.fromDf.get(String(out));
    const to = this.fromDf.get(String(into));
    const port = this.model.ports(from)[Number(oc.split("_")[1]) - 1] ?? null;
    const previous = this.model.edgeFrom(from, port);
    this.model.connect(from, port, to);
    if (previous) this.render();  // the port's old edge is gone: draw without it
    this.onChange("connect");
  }

  disconnected({output_id: out, input_id: into, output_class: oc}) {
    const from = this.fromDf.get(String(out));
    const port = this.model.ports(from)[Number(oc.split("_")[1]) - 1] ?? null;
    this.model.disconnect(from, port, this.fromDf.get(String(into)));
    this.onChange("disconnect");
  }

  removed(dfId) {
    const id = this.fromDf.get(String(dfId));
    if (!id) return;
    this.model.removeNode(id);
    this.toDf.delete(id);
    this.fromDf.delete(String(dfId));
    this.select(null);
    this.onChange("delete");
  }

  moved(dfId) {
    const id = this.fromDf.get(String(dfId));
    const data = this.editor.drawflow.drawflow[MODULE].data[dfId];
    if (!id || !data) return;
    this.model.setPosition(id, data.pos_x, data.pos_y);
    this.onChange("move");
  }

  select(id, {focus = false} = {}) {
    if (id === this.selectedNode) return;
    this.selectedNode = id;
    if (id) this.selectedEdge = null;
    this.highlightSelected(id);
    if (focus && id) this.viewport.reveal(this.element(id));
    this.onSelect(id);
    this.container.dispatchEvent(new Event("selectionchange"));
  }

  highlightSelected(id) {
    this.container.querySelectorAll(".drawflow-node.is-current").forEach((el) => el.classList.remove("is-current"));
    const el = id ? this.element(id) : null;
    if (el) el.classList.add("is-current");
  }

  // Move nodes to new positions (auto-layout) without redrawing them.
  place(positions) {
    const data = this.editor.drawflow.drawflow[MODULE].data;
    for (const [id, [x, y]] of Object.entries(positions)) {
      const dfId = this.toDf.get(id);
      const el = this.element(id);
      if (!dfId || !el) continue;
      this.model.setPosition(id, x, y);
      data[dfId].pos_x = x;
      data[dfId].pos_y = y;
      el.style.left = `${x}px`;
      el.style.top = `${y}px`;
    }
    for (const dfId of this.toDf.values()) this.editor.updateConnectionNodes(`node-${dfId}`);
  }

  sizes() {
    const out = {};
    for (const node of this.model.graph.nodes) {
      const el = this.element(node.id);
      out[node.id] = el ? [el.offsetWidth, el.offsetHeight] : [220, 90];
    }
    return out;
  }

  connectionElement(from, to) {
    const a = this.toDf.get(from);
    const b = this.toDf.get(to);
    if (!a || !b) return [];
    return [...this.container.querySelectorAll(`.connection.node_out_node-${a}.node_in_node-${b}`)];
  }
}

function verticalCurve(startX, startY, endX, endY, curvature) {
  const span = Math.max(Math.abs(endY - startY) * curvature, 40);
  return ` M ${startX} ${startY} C ${startX} ${startY + span} ${endX} ${endY - span} ${endX} ${endY}`;
}
