// Draws every <canvas data-chart="ID" data-series="KEY"> (that series only) from the JSON in <script type="application/json" id="ID"> (Django's
// json_script). The same numbers are in a table next to each chart, so nothing is lost without JavaScript.
(function () {
  "use strict";
  var COLOURS = { messages: "#1a5a78", moderation: "#ba2121", automated: "#8a5a00" };

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var series = data.series.filter(function (one) { return one.key === canvas.dataset.series; })[0];
    if (!series) {
      return;
    }
    var colour = COLOURS[series.key] || "#333";
    // One series and one y-axis per chart; counts are whole numbers, so are the ticks.
    var chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ label: series.label, data: series.data, borderColor: colour, backgroundColor: colour,
                     tension: 0.25, pointRadius: 2 }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { type: "linear", beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: series.label } }
        }
      }
    });
    canvas.dataset.drawn = "true";
    return chart;
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
