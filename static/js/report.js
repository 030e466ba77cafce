// A journey's report: the per-day charts, drawn with the vendored Chart.js from the JSON the
// page carries (#report-data). No inline script or style: Chart.js sizes its canvas via the CSSOM.
"use strict";

(function () {
  const COLORS = {entered: "#6c63ff", sent: "#1f9d8b", opened: "#e0a100", clicked: "#d9480f", revenue: "#2f9e44"};

  function series(label, data, color, type = "line") {
    return {label, data, type, borderColor: color, backgroundColor: color + "55", borderWidth: 2,
            pointRadius: data.length > 40 ? 0 : 2, tension: 0.2, fill: false};
  }

  function chart(id, labels, datasets, scales) {
    const canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return null;
    return new window.Chart(canvas, {
      type: "line",
      data: {labels, datasets},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: {mode: "index", intersect: false},
        scales: scales || {y: {beginAtZero: true, ticks: {precision: 0}}},
        plugins: {legend: {position: "bottom"}},
      },
    });
  }

  function start() {
    const source = document.getElementById("report-data");
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const t = data.timeline;
    const s = t.series;
    const days = t.days.map((day) => day.slice(5));  // MM-DD: the year is in the page's heading
    window.journeyReportCharts = [
      chart("chart-flow", days, [series("entered", s.entered, COLORS.entered),
                                   series("emails sent", s.sent, COLORS.sent)]),
      chart("chart-engagement", days, [series("opened", s.opened, COLORS.opened),
                                         series("clicked", s.clicked, COLORS.clicked)]),
      chart("chart-revenue", days, [series(`revenue (${data.currency})`, s.revenue, COLORS.revenue, "bar"),
                                      {...series("orders", s.conversions, COLORS.sent), yAxisID: "orders"}],
            {y: {beginAtZero: true},
             orders: {position: "right", beginAtZero: true, ticks: {precision: 0}, grid: {drawOnChartArea: false}}}),
    ].filter(Boolean);
    document.body.dataset.chartsReady = String(window.journeyReportCharts.length);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
