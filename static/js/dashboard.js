// The analytics dashboard: one chart per table, from the JSON the page carries (#dashboard-data).
"use strict";

(function () {
  const PALETTE = ["#6c63ff", "#1f9d8b", "#e0a100", "#d9480f", "#2f9e44", "#868e96"];
  // Per table: which columns to draw, and how.
  const CHARTS = {
    subscribers: {columns: ["subscribed"], type: "line"},
    sends: {columns: ["marketing", "transactional"], type: "bar", stacked: true},
    unsubscribes: {columns: ["email link", "complaint", "bounce", "erasure", "other"], type: "bar", stacked: true},
    bounces: {columns: ["hard", "soft", "complaint"], type: "bar", stacked: true},
  };

  function draw(name, table) {
    const canvas = document.getElementById(`chart-${name}`);
    const spec = CHARTS[name];
    if (!canvas || !spec || !window.Chart) return null;
    const labels = table.rows.map((row) => row[0].slice(5));  // MM-DD
    const datasets = spec.columns.map((column, i) => {
      const index = table.header.indexOf(column);
      const color = PALETTE[i % PALETTE.length];
      return {label: column, data: table.rows.map((row) => row[index]), borderColor: color,
              backgroundColor: spec.type === "bar" ? color : color + "33", borderWidth: 2, pointRadius: 0,
              tension: 0.2, fill: spec.type === "line"};
    });
    return new window.Chart(canvas, {
      type: spec.type,
      data: {labels, datasets},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: {mode: "index", intersect: false},
        scales: {x: {stacked: !!spec.stacked}, y: {stacked: !!spec.stacked, beginAtZero: true, ticks: {precision: 0}}},
        plugins: {legend: {position: "bottom", display: datasets.length > 1}},
      },
    });
  }

  function start() {
    const source = document.getElementById("dashboard-data");
    if (!source) return;
    const tables = JSON.parse(source.textContent);
    window.dashboardCharts = Object.keys(CHARTS).map((name) => tables[name] && draw(name, tables[name])).filter(Boolean);
    document.body.dataset.chartsReady = String(window.dashboardCharts.length);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
