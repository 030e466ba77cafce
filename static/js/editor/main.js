// The journey editor: wires the model, the canvas, the panel, history, autosave, live numbers
// and the toolbar together. Everything it needs comes from #editor-boot (JSON).
"use strict";

import {Autosave} from "./autosave.js";
import {Canvas} from "./canvas.js";
import {History} from "./history.js";
import {getJSON} from "./http.js";
import {setupKeys} from "./keys.js";
import {layout} from "./layout.js";
import {Model} from "./model.js";
import {Overlay} from "./overlay.js";
import {Panel} from "./panel.js";
import {setupPalette} from "./palette.js";

const COUNTS_EVERY_MS = 5000;

function start() {
  const boot = JSON.parse(document.getElementById("editor-boot").textContent);
  const root = document.getElementById("editor");
  const $ = (selector) => root.querySelector(selector) || document.querySelector(selector);
  const model = new Model(boot.graph, boot.meta);
  const history = new History(model.snapshot());
  const nameInput = $("#journey-name");

  let canvas = null;
  let overlay = null;
  let autosave = null;
  let panel = null;

  const changed = () => {
    if (!history.record(model.snapshot())) return;
    overlay.clearPath();
    autosave.changed();
    refreshTools();
  };

  canvas = new Canvas($("#canvas"), model, {
    editable: boot.editable,
    onChange: () => { $("#empty-hint").hidden = model.graph.nodes.length > 0; changed(); },
    onSelect: (id) => panel.openNode(id),
  });
  overlay = new Overlay(canvas);

  autosave = new Autosave({
    url: boot.urls.draft, hash: boot.hash, indicator: $("#save-state"),
    body: () => ({graph: model.graph, ...(nameInput ? {name: nameInput.value} : {})}),
    onSaved: (answer, current) => {
      showReport(answer.report);
      if (nameInput && document.activeElement !== nameInput) nameInput.value = answer.name;
      document.title = `${answer.name} · Journeys`;
      if (current) applyMeta(answer.meta);
    },
    onConflict: (detail) => {
      const banner = $("#conflict-banner");
      banner.querySelector(".conflict-text").textContent = `${detail} Your edits are kept on this page.`;
      banner.hidden = false;
    },
  });

  panel = new Panel($("#panel"), {
    model, urls: boot.urls, editable: boot.editable,
    select: (id) => canvas.select(id, {focus: true}),
    apply: (result) => {
      if (result.settings) {
        if (JSON.stringify(result.settings) === JSON.stringify(model.graph.settings)) return;
        model.setSettings(result.settings);
        changed();
        return;
      }
      const node = model.node(result.node);
      if (!node || !boot.editable) return;
      const same = JSON.stringify(node.config || {}) === JSON.stringify(result.config);
      const portsChanged = model.setConfig(result.node, result.config, result.meta);
      if (portsChanged) redraw(); else canvas.refresh(result.node);
      if (!same || portsChanged) changed();
    },
  });

  // Summaries and ports as the server sees the saved graph (e.g. after an undo).
  function applyMeta(meta) {
    let redrawNeeded = false;
    for (const [id, value] of Object.entries(meta || {})) {
      if (!model.node(id)) continue;
      const before = model.ports(id);
      model.meta[id] = {...model.meta[id], ...value, ports: value.ports ?? before};
      const after = model.ports(id);
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        model.remapPorts(id, before, after);
        redrawNeeded = true;
      } else {
        canvas.refresh(id);
      }
    }
    if (redrawNeeded) redraw();
  }

  // Problems on their steps; the journey-wide ones (settings, no trigger) above the canvas.
  function showReport(report) {
    overlay.showProblems(report);
    panel.showProblems(report);
    const banner = $("#journey-problems");
    const general = (report.errors || []).filter((p) => !p.node);
    banner.hidden = general.length === 0;
    banner.replaceChildren(...general.map((p) => {
      const line = document.createElement("p");
      line.textContent = p.message;
      return line;
    }));
  }

  function redraw() {
    canvas.render();
    overlay.redraw();
    $("#empty-hint").hidden = model.graph.nodes.length > 0;
  }

  function restore(snapshot) {
    if (!snapshot) return;
    model.restore(snapshot);
    const keep = canvas.selectedNode;
    redraw();
    autosave.changed();
    refreshTools();
    if (keep && !model.node(keep)) canvas.select(null);
    else if (keep) panel.openNode(keep);
  }

  const actions = {
    undo: () => restore(history.undo()),
    redo: () => restore(history.redo()),
    save: () => autosave.save(),
    deleteSelection: () => canvas.deleteSelection(),
    deselect: () => canvas.select(null),
    fit: () => canvas.viewport.fit(),
    zoom: (factor) => canvas.viewport.zoomBy(factor),
    zoomReset: () => canvas.viewport.reset(),
    layout: () => {
      canvas.place(layout(model.graph, canvas.sizes()));
      canvas.viewport.fit();
      changed();
    },
    nudge: (dx, dy) => {
      const id = canvas.selectedNode;
      if (!id) return false;
      const [x, y] = model.position(id) || [0, 0];
      canvas.place({[id]: [x + dx, y + dy]});
      changed();
      return true;
    },
    shortcuts: () => document.getElementById("shortcuts-dialog").showModal(),
    closeDialogs: () => document.querySelectorAll("dialog[open]").forEach((d) => d.close()),
    publish: async () => {
      const dialog = document.getElementById("publish-dialog");
      const body = document.getElementById("publish-body");
      body.innerHTML = '<p aria-busy="true">Saving and checking the draft…</p>';
      dialog.showModal();
      if (!(await autosave.flush())) {
        body.innerHTML = '<p class="form-error">The draft could not be saved, so it cannot be published. See the message at the top.</p>';
        return;
      }
      await panel.load(body, boot.urls.publish, null);
    },
    reload: () => { autosave.discard = true; window.location.reload(); },
    overwrite: () => { $("#conflict-banner").hidden = true; autosave.save({force: true}); },
    "zoom-in": () => canvas.viewport.zoomBy(1.2),
    "zoom-out": () => canvas.viewport.zoomBy(1 / 1.2),
    delete: () => canvas.deleteSelection(),
    "clear-simulation": () => overlay.clearPath(),
  };

  function refreshTools() {
    const tool = (name) => root.querySelector(`[data-editor-action="${name}"].tool`);
    if (tool("undo")) tool("undo").disabled = !history.canUndo;
    if (tool("redo")) tool("redo").disabled = !history.canRedo;
    if (tool("delete")) tool("delete").disabled = !(canvas.selectedNode || canvas.selectedEdge);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-editor-action]");
    if (button && actions[button.dataset.editorAction]) {
      event.preventDefault();
      actions[button.dataset.editorAction]();
    }
    if (event.target.closest("[data-close-dialog]")) event.target.closest("dialog").close();
  });
  canvas.container.addEventListener("selectionchange", refreshTools);
  canvas.container.addEventListener("viewportchange", (event) => {
    $("#zoom-level").textContent = `${Math.round(event.detail.zoom * 100)}%`;
  });
  if (nameInput) nameInput.addEventListener("input", () => autosave.changed());

  setupSimulator(root, model, overlay);
  document.body.addEventListener("journeys:published", (event) => {
    const {version, status} = event.detail;
    const label = $("#journey-status");
    label.textContent = status;
    label.className = `status status-${status}`;
    $("#live-version").textContent = `v${version} live`;
    pollCounts();
  });

  if (boot.editable) setupPalette(root, canvas, boot.palette);
  setupKeys(actions, {editable: boot.editable});
  redraw();
  if (model.graph.nodes.some((n) => !model.position(n.id))) canvas.place(layout(model.graph, canvas.sizes()));
  canvas.viewport.fit();
  showReport(boot.report);
  refreshTools();

  let polling = null;
  async function pollCounts() {
    clearTimeout(polling);
    if (document.visibilityState === "visible") {
      try {
        const answer = await getJSON(boot.urls.counts);
        overlay.showCounts(answer.nodes);
        $("#live-legend").hidden = Object.keys(answer.nodes).length === 0;
      } catch (_) { /* the next poll tries again */ }
    }
    polling = setTimeout(pollCounts, COUNTS_EVERY_MS);
  }
  pollCounts();
  // For tests and the console: idle() is true once every edit is read by the server and saved.
  const idle = () => panel.touched <= panel.answered && !document.querySelector(".htmx-request") &&
    (autosave.idle || autosave.blocked);
  window.journeyEditor = {model, canvas, autosave, history, overlay, panel, idle};
  root.dataset.ready = "true";
}

function setupSimulator(root, model, overlay) {
  const form = document.getElementById("simulator-form");
  if (!form) return;
  // The first scripted event is the trigger: keep it in step with the canvas.
  let suggested = form.elements.event_0.value;
  document.querySelector("[data-tab=test]").addEventListener("click", () => {
    const trigger = model.graph.nodes.find((n) => n.type === "trigger");
    const name = trigger && trigger.config ? trigger.config.event || "" : "";
    if (name && (!form.elements.event_0.value || form.elements.event_0.value === suggested)) {
      form.elements.event_0.value = name;
      suggested = name;
    }
  });
  form.addEventListener("htmx:configRequest", (event) => {
    event.detail.parameters.graph = JSON.stringify(model.graph);
  });
  document.getElementById("sim-result").addEventListener("htmx:afterSwap", () => {
    const data = document.querySelector("#sim-result .sim-data");
    if (data) overlay.showPath(JSON.parse(data.dataset.steps));
    else overlay.clearPath();
  });
  document.addEventListener("submit", (event) => {
    if (event.target.matches("[data-open-email]")) document.getElementById("email-dialog").showModal();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
