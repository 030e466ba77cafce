// The side panel: tabs for the selected step's settings, the journey's settings, the
// problems list, the simulator and the version history. Forms are drawn and read by the
// server (htmx); this module feeds them the model and takes their results back into it.
"use strict";

import {csrfToken, escapeHTML, postForm} from "./http.js";

export class Panel {
  constructor(root, {model, urls, editable, apply, select}) {
    this.root = root;
    this.model = model;
    this.urls = urls;
    this.editable = editable;
    this.apply = apply;        // apply({node, config, meta} | {settings})
    this.selectNode = select;  // select a node on the canvas
    this.node = null;
    this.sequence = 0;
    this.opening = 0;
    this.touched = 0;
    this.answered = 0;
    this.asked = 0;
    this.panes = Object.fromEntries([...root.querySelectorAll(".pane")].map((p) => [p.dataset.pane, p]));
    root.querySelectorAll("[data-tab]").forEach((tab) => tab.addEventListener("click", () => this.show(tab.dataset.tab)));
    this.listen();
  }

  listen() {
    const forms = [this.panes.step, this.panes.settings];
    for (const pane of forms) {
      // Capture: noted before htmx (on the form) starts the request this very event causes.
      pane.addEventListener("input", () => { this.touched = performance.now(); }, true);
      pane.addEventListener("change", () => { this.touched = performance.now(); }, true);
      pane.addEventListener("htmx:beforeRequest", () => { this.asked = performance.now(); });
      pane.addEventListener("htmx:afterSwap", () => { this.answered = this.asked; this.take(pane); });
    }
  }

  get tab() { return this.root.querySelector("[data-tab][aria-selected=true]").dataset.tab; }

  async show(name) {
    if (name === this.tab && name !== "settings" && name !== "history") return;
    await this.flush();
    this.root.querySelectorAll("[data-tab]").forEach((tab) => tab.setAttribute("aria-selected", String(tab.dataset.tab === name)));
    for (const [key, pane] of Object.entries(this.panes)) pane.hidden = key !== name;
    if (name === "settings") await this.load(this.panes.settings, this.urls.settingsForm,
      {_settings: JSON.stringify(this.model.graph.settings)});
    if (name === "history") await this.load(this.panes.history, this.urls.versions, null);
  }

  // The selected step changed: draw its form (after reading what was typed into the last one).
  async openNode(id) {
    const ticket = ++this.opening;
    await this.flush();
    if (ticket !== this.opening) return;  // another step was selected meanwhile
    this.node = id;
    if (!id) {
      this.panes.step.innerHTML = '<p class="muted pane-empty">Select a step on the canvas to see its settings.</p>';
      return;
    }
    if (this.tab !== "step") await this.show("step");
    const node = this.model.node(id);
    const sends = this.model.graph.nodes.filter((n) => n.type === "send").map((n) => n.id);
    const trigger = this.model.graph.nodes.find((n) => n.type === "trigger");
    await this.load(this.panes.step, this.urls.nodeForm, {
      _node: id, _type: node.type, _config: JSON.stringify(node.config || {}), _send_nodes: sends,
      _trigger_event: trigger && trigger.config ? trigger.config.event || "" : "",
      ...(this.editable ? {} : {_readonly: "1"}),
    });
  }

  // Fetch a pane's HTML (POST with `values`, or GET), unless a newer request overtook it.
  async load(pane, url, values) {
    const ticket = ++this.sequence;
    const init = {credentials: "same-origin", headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true"}};
    if (values) {
      const body = new URLSearchParams();
      for (const [key, value] of Object.entries(values)) {
        for (const item of Array.isArray(value) ? value : [value]) body.append(key, item);
      }
      Object.assign(init, {method: "POST", body});
    }
    const response = await fetch(url, init);
    const html = await response.text();
    if (ticket !== this.sequence) return;
    pane.innerHTML = response.ok ? html : `<p class="form-error">Could not load this panel (${response.status}).</p>`;
    htmx.process(pane);  // eslint-disable-line no-undef
    this.answered = this.touched = performance.now();
  }

  // What was typed but not yet answered by the server is sent now, so nothing is lost when
  // the form goes away (another step selected, another tab).
  async flush() {
    if (this.touched <= this.answered) return;
    for (const pane of [this.panes.step, this.panes.settings]) {
      const form = pane.querySelector("form");
      if (!form) continue;
      const url = form.getAttribute("hx-post");
      const html = await postForm(url, form);
      const scratch = document.createElement("div");
      scratch.innerHTML = html;
      this.take(scratch);
    }
    this.answered = this.touched;
  }

  // Read the result a form answered with and hand it to the editor.
  take(container) {
    const node = container.querySelector(".node-result");
    const settings = container.querySelector(".settings-result");
    const holder = node || settings;
    if (!holder) return;
    const result = JSON.parse(holder.dataset.result);
    const pane = node ? this.panes.step : this.panes.settings;
    pane.querySelectorAll("[data-error-for]").forEach((slot) => {
      const message = (result.errors || {})[slot.dataset.errorFor] || "";
      slot.textContent = message;
      const field = slot.closest("label, fieldset, td")?.querySelector("input, select, textarea");
      if (field) field.toggleAttribute("aria-invalid", !!message);
    });
    if (node && result.node === this.node && result.config !== null) {
      this.apply({node: result.node, config: result.config, meta: result.meta});
    } else if (settings && result.settings !== null) {
      this.apply({settings: result.settings});
    }
  }

  showProblems(report) {
    const errors = report.errors || [];
    const warnings = report.warnings || [];
    const count = this.root.querySelector("#problem-count");
    count.textContent = errors.length ? String(errors.length) : "";
    count.classList.toggle("has-errors", errors.length > 0);
    const item = (p, kind) => `<li class="problem-${kind}"><button type="button" class="link-button" data-goto="${escapeHTML(p.node || "")}">` +
      `<code>${escapeHTML(p.node || "journey")}</code></button> ${escapeHTML(p.message)}</li>`;
    this.panes.check.innerHTML = `<header class="panel-head"><h3>Check</h3></header>` +
      (errors.length ? `<p>${errors.length} error(s) must be fixed before publishing:</p><ul class="problems">${errors.map((p) => item(p, "error")).join("")}</ul>`
        : `<p class="node-ok">No errors: the journey can be published.</p>`) +
      (warnings.length ? `<p>Warnings (you may publish anyway):</p><ul class="problems">${warnings.map((p) => item(p, "warning")).join("")}</ul>` : "");
    this.panes.check.querySelectorAll("[data-goto]").forEach((button) => button.addEventListener("click", () => {
      if (button.dataset.goto) this.selectNode(button.dataset.goto);
    }));
  }
}
