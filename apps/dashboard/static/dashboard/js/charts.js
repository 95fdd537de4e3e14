// Draws every <canvas data-chart="ID"> from the JSON in <script type="application/json" id="ID"> (Django's
// json_script). The same numbers are in a table next to each chart, so nothing is lost without JavaScript.
(function () {
  "use strict";
  var COLOURS = { messages: "#1a5a78", moderation: "#ba2121" };

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series) {
          return {
            label: series.label,
            data: series.data,
            borderColor: COLOURS[series.key] || "#333",
            backgroundColor: COLOURS[series.key] || "#333",
            yAxisID: series.key === "moderation" ? "actions" : "messages",
            tension: 0.25,
            pointRadius: 2
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          messages: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "Messages" } },
          actions: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                     title: { display: true, text: "Moderation actions" } }
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
