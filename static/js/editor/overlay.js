// What the canvas shows on top of the graph: validation problems (red steps with their
// sentence), live numbers per step, and a simulated path.
"use strict";

import {escapeHTML} from "./http.js";

export class Overlay {
  constructor(canvas) {
    this.canvas = canvas;
    this.report = {errors: [], warnings: []};
    this.counts = {};
    this.path = null;
  }

  // After every redraw: the canvas is new, the overlay is not.
  redraw() {
    this.showProblems(this.report);
    this.showCounts(this.counts);
    if (this.path) this.showPath(this.path);
  }

  showProblems(report) {
    this.report = report || {errors: [], warnings: []};
    const byNode = new Map();
    for (const [severity, list] of [["error", this.report.errors], ["warning", this.report.warnings]]) {
      for (const problem of list || []) {
        if (!problem.node) continue;
        if (!byNode.has(problem.node)) byNode.set(problem.node, []);
        byNode.get(problem.node).push({...problem, severity});
      }
    }
    for (const node of this.canvas.model.graph.nodes) {
      const el = this.canvas.element(node.id);
      if (!el) continue;
      const problems = byNode.get(node.id) || [];
      el.classList.toggle("has-error", problems.some((p) => p.severity === "error"));
      el.classList.toggle("has-warning", problems.length > 0 && problems.every((p) => p.severity === "warning"));
      const list = el.querySelector(".jr-card-problems");
      list.hidden = problems.length === 0;
      list.innerHTML = problems.map((p) =>
        `<li class="problem-${p.severity}" data-code="${escapeHTML(p.code)}">${escapeHTML(p.message)}</li>`).join("");
    }
  }

  showCounts(nodes) {
    this.counts = nodes || {};
    for (const node of this.canvas.model.graph.nodes) {
      const el = this.canvas.element(node.id);
      if (!el) continue;
      const box = el.querySelector(".jr-card-stats");
      const c = this.counts[node.id];
      if (!c) { box.hidden = true; box.textContent = ""; continue; }
      const parts = [`<span class="stat-waiting" title="waiting here now">${c.waiting} waiting</span>`,
                     `<span class="stat-passed" title="went on from here">${c.passed} passed</span>`];
      if (node.type === "send") {
        parts.push(`<span class="stat-sent" title="emails sent">${c.sent} sent</span>`);
        // Open and click counts appear once the counts carry them (analytics).
        for (const what of ["opened", "clicked"]) {
          if (typeof c[what] !== "number") continue;
          // The report's rate (unique people over delivered emails) when the counts carry it.
          const share = c[`${what === "opened" ? "open" : "click"}_rate`];
          const rate = typeof share === "number" ? ` (${(share * 100).toFixed(1)}%)`
            : c.sent ? ` (${Math.round((c[what] / c.sent) * 100)}%)` : "";
          parts.push(`<span class="stat-rate" data-stat="${what}" title="contacts who ${what} (people, unique)">${c[what]} ${what}${rate}</span>`);
        }
        if (c.conversions) {
          parts.push(`<span class="stat-analytics" data-stat="conversions" title="orders credited to this email (last touch)">` +
                     `${c.conversions} order${c.conversions === 1 ? "" : "s"} · ${escapeHTML(c.revenue)} ${escapeHTML(c.currency)}</span>`);
        }
      }
      if (c.ab) {
        const state = c.ab.winner ? `winner ${c.ab.winner}` : c.ab.status === "collecting"
          ? `collecting: ${Object.values(c.ab.recipients).join(" / ")} of ${c.ab.min_recipients}` : `leading: ${c.ab.leader}`;
        parts.push(`<span class="stat-analytics" data-stat="ab">${escapeHTML(state)}</span>`);
      }
      box.innerHTML = parts.join("");
      box.hidden = false;
      box.dataset.waiting = c.waiting;
      box.dataset.passed = c.passed;
    }
  }

  // steps: the simulator's timeline ({at, node, outcome, port, subject, offset?}).
  showPath(steps) {
    this.clearPath(false);
    this.path = steps;
    const first = new Map();
    steps.forEach((step, i) => { if (!first.has(step.node)) first.set(step.node, {step, i}); });
    for (const [id, {step}] of first) {
      const el = this.canvas.element(id);
      if (!el) continue;
      el.classList.add("on-path");
      const box = el.querySelector(".jr-card-sim");
      const sent = steps.find((s) => s.node === id && s.outcome === "sent");
      const last = [...steps].reverse().find((s) => s.node === id);
      box.innerHTML = `<time>${escapeHTML(step.offset || step.at)}</time> ${escapeHTML(last.outcome)}` +
        (sent && sent.subject ? `<span class="sim-card-subject">“${escapeHTML(sent.subject)}”</span>` : "");
      box.hidden = false;
    }
    for (let i = 1; i < steps.length; i += 1) {
      const from = steps[i - 1].node;
      const to = steps[i].node;
      if (from !== to) this.canvas.connectionElement(from, to).forEach((svg) => svg.classList.add("on-path"));
    }
  }

  clearPath(forget = true) {
    if (forget) this.path = null;
    this.canvas.container.querySelectorAll(".on-path").forEach((el) => el.classList.remove("on-path"));
    this.canvas.container.querySelectorAll(".jr-card-sim").forEach((box) => { box.hidden = true; box.textContent = ""; });
  }
}
