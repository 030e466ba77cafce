// The journey graph being edited (DESIGN.md schema 1), the one source of truth of the page:
// the canvas draws it, the panels change it, autosave sends it.
"use strict";

export class Model {
  constructor(graph, meta) {
    this.graph = normalise(graph);
    this.meta = meta || {};
  }

  node(id) { return this.graph.nodes.find((n) => n.id === id) || null; }

  ports(id) {
    const known = this.meta[id] && this.meta[id].ports;
    if (Array.isArray(known)) return known;
    return this.node(id) && this.node(id).type === "exit" ? [] : [null];
  }

  position(id) { return this.graph.ui.positions[id] || null; }

  // A fresh id for a node of `type`: readable in stats and rules (engagement.opened.<id>).
  freshId(type) {
    const taken = new Set(this.graph.nodes.map((n) => n.id));
    if (type === "trigger" && !taken.has("start")) return "start";
    for (let i = 1; ; i += 1) {
      const id = `${type}_${i}`;
      if (!taken.has(id)) return id;
    }
  }

  addNode(type, config, [x, y], meta) {
    const id = this.freshId(type);
    const node = {id, type, config: structuredClone(config || {})};
    if (type === "exit") delete node.config;
    this.graph.nodes.push(node);
    this.graph.ui.positions[id] = [Math.round(x), Math.round(y)];
    this.meta[id] = structuredClone(meta || {});
    return id;
  }

  removeNode(id) {
    this.graph.nodes = this.graph.nodes.filter((n) => n.id !== id);
    this.graph.edges = this.graph.edges.filter((e) => e.from !== id && e.to !== id);
    delete this.graph.ui.positions[id];
    delete this.meta[id];
  }

  setPosition(id, x, y) { this.graph.ui.positions[id] = [Math.round(x), Math.round(y)]; }

  // A new config (and what the server says about it). Returns true when the ports changed,
  // after moving the node's edges onto the new ports (by name, else by position).
  setConfig(id, config, meta) {
    const node = this.node(id);
    if (!node) return false;
    const before = this.ports(id);
    if (node.type !== "exit") node.config = config;
    if (meta) this.meta[id] = {...this.meta[id], ...meta, ports: meta.ports ?? this.ports(id)};
    const after = this.ports(id);
    if (JSON.stringify(before) === JSON.stringify(after)) return false;
    this.remapPorts(id, before, after);
    return true;
  }

  remapPorts(id, before, after) {
    const used = new Set();
    const kept = [];
    for (const edge of this.graph.edges) {
      if (edge.from !== id) { kept.push(edge); continue; }
      const port = edge.port ?? null;
      let target = after.includes(port) ? port : undefined;
      if (target === undefined) {
        const index = before.indexOf(port);
        const candidate = index >= 0 && index < after.length ? after[index] : undefined;
        if (candidate !== undefined && !before.includes(candidate)) target = candidate;
      }
      if (target === undefined || used.has(target)) continue;
      used.add(target);
      kept.push(edgeOf(id, edge.to, target));
    }
    this.graph.edges = kept;
  }

  edgeFrom(id, port) {
    return this.graph.edges.find((e) => e.from === id && (e.port ?? null) === (port ?? null)) || null;
  }

  // One edge per out-port: connecting a used port replaces its edge.
  connect(from, port, to) {
    this.graph.edges = this.graph.edges.filter((e) => !(e.from === from && (e.port ?? null) === (port ?? null)));
    this.graph.edges.push(edgeOf(from, to, port));
  }

  disconnect(from, port, to) {
    this.graph.edges = this.graph.edges.filter(
      (e) => !(e.from === from && e.to === to && (e.port ?? null) === (port ?? null)));
  }

  setSettings(settings) { this.graph.settings = settings; }

  snapshot() { return JSON.stringify({graph: this.graph, meta: this.meta}); }

  restore(text) {
    const {graph, meta} = JSON.parse(text);
    this.graph = normalise(graph);
    this.meta = meta;
  }
}

function edgeOf(from, to, port) {
  const edge = {from, to};
  if (port !== null && port !== undefined) edge.port = port;
  return edge;
}

export function normalise(graph) {
  const g = structuredClone(graph && typeof graph === "object" ? graph : {});
  g.schema = g.schema ?? 1;
  g.settings = g.settings && typeof g.settings === "object" ? g.settings : {};
  g.nodes = Array.isArray(g.nodes) ? g.nodes : [];
  g.edges = Array.isArray(g.edges) ? g.edges : [];
  g.ui = g.ui && typeof g.ui === "object" ? g.ui : {};
  g.ui.positions = g.ui.positions && typeof g.ui.positions === "object" ? g.ui.positions : {};
  return g;
}
