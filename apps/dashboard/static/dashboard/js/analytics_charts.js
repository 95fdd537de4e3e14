// The Statistics pages' charts, drawn as inline SVG from the tables on the page (no library, nothing from another
// host): every <figure data-chart="KIND" data-table="TABLE_ID" data-columns="1,3"> charts those columns of its table,
// whose cells carry core's values in data-value. The table stays on the page, so the chart never holds a figure the
// table does not. Kinds: line (a series over time), columns (grouped vertical bars), bars (one horizontal bar per row),
// heatmap (the weekday x hour table).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLOURS = ["#1a5a78", "#ba2121", "#2f7030", "#8a5a00", "#6a3d9a"];
  var INK = "#333333";
  var GRID = "#d5d9dc";

  function node(name, attributes, parent) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    if (parent) {
      parent.appendChild(element);
    }
    return element;
  }

  function label(parent, x, y, text, attributes) {
    var element = node("text", Object.assign({ x: x, y: y, fill: INK, "font-size": 11 }, attributes || {}), parent);
    element.textContent = text;
    return element;
  }

  function tip(parent, text) {
    node("title", {}, parent).textContent = text;
  }

  function readTable(table) {
    var headers = Array.prototype.map.call(table.tHead.rows[0].cells, function (cell) {
      return cell.textContent.trim();
    });
    var rows = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      if (row.cells.length !== headers.length) {
        return;  // the "no data" row
      }
      rows.push({
        label: row.cells[0].textContent.trim(),
        values: Array.prototype.map.call(row.cells, function (cell) {
          var raw = cell.getAttribute("data-value");
          return raw === null || raw === "" ? null : Number(raw);
        })
      });
    });
    return { headers: headers, rows: rows };
  }

  function niceMax(value) {
    if (value <= 0) {
      return 1;
    }
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i += 1) {
      if (steps[i] * power >= value) {
        return steps[i] * power;
      }
    }
    return 10 * power;
  }

  function format(value) {
    if (value === null) {
      return "—";
    }
    return Math.round(value) === value ? String(value) : value.toFixed(2);
  }

  function svgFor(figure, width, height) {
    var caption = figure.querySelector("figcaption");
    var svg = node("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img",
                            "aria-label": caption ? caption.textContent.trim() : "Chart", focusable: "false" });
    figure.querySelector(".chart-area").appendChild(svg);
    return svg;
  }

  function legend(svg, names, y) {
    var x = 48;
    names.forEach(function (name, index) {
      node("rect", { x: x, y: y - 9, width: 10, height: 10, fill: COLOURS[index % COLOURS.length] }, svg);
      label(svg, x + 14, y, name);
      x += 24 + name.length * 6.5;
    });
  }

  function yAxis(svg, box, low, high, isRate) {
    [low, (low + high) / 2, high].forEach(function (value) {
      var y = box.top + box.height * (1 - (value - low) / (high - low));
      node("line", { x1: box.left, x2: box.left + box.width, y1: y, y2: y, stroke: GRID }, svg);
      label(svg, box.left - 6, y + 4, isRate ? Math.round(value * 100) + " %" : format(value), { "text-anchor": "end" });
    });
  }

  function xLabels(svg, box, labels, positions) {
    var every = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach(function (text, index) {
      if (index % every !== 0) {
        return;
      }
      // The outermost labels lean inwards, so that they stay inside the drawing.
      var anchor = positions[index] - box.left < 40 ? "start" : box.left + box.width - positions[index] < 40 ? "end" : "middle";
      label(svg, positions[index], box.top + box.height + 16, text, { "text-anchor": anchor });
    });
  }

  function valuesOf(data, columns) {
    var all = [];
    data.rows.forEach(function (row) {
      columns.forEach(function (column) {
        if (row.values[column] !== null) {
          all.push(row.values[column]);
        }
      });
    });
    return all;
  }

  function line(figure, data, columns) {
    var width = 760, height = 260;
    var box = { left: 52, top: 14, width: width - 70, height: height - 70 };
    var svg = svgFor(figure, width, height);
    var values = valuesOf(data, columns);
    var low = Math.min(0, Math.min.apply(null, values.concat([0])));
    var high = niceMax(Math.max.apply(null, values.concat([1])));
    yAxis(svg, box, low, high, false);
    var count = data.rows.length;
    var xs = data.rows.map(function (_, index) {
      return box.left + (count === 1 ? box.width / 2 : box.width * index / (count - 1));
    });
    var y = function (value) { return box.top + box.height * (1 - (value - low) / (high - low)); };
    columns.forEach(function (column, index) {
      var colour = COLOURS[index % COLOURS.length];
      var points = [];
      data.rows.forEach(function (row, rowIndex) {
        if (row.values[column] !== null) {
          points.push(xs[rowIndex].toFixed(1) + "," + y(row.values[column]).toFixed(1));
        }
      });
      node("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 2 }, svg);
      data.rows.forEach(function (row, rowIndex) {
        if (row.values[column] !== null && count <= 100) {
          var dot = node("circle", { cx: xs[rowIndex], cy: y(row.values[column]), r: 2.5, fill: colour }, svg);
          tip(dot, row.label + ": " + data.headers[column] + " " + format(row.values[column]));
        }
      });
    });
    xLabels(svg, box, data.rows.map(function (row) { return row.label; }), xs);
    legend(svg, columns.map(function (column) { return data.headers[column]; }), height - 12);
  }

  function columnsChart(figure, data, columns) {
    var width = 760, height = 260;
    var box = { left: 52, top: 14, width: width - 70, height: height - 70 };
    var svg = svgFor(figure, width, height);
    var values = valuesOf(data, columns);
    var rates = values.every(function (value) { return value <= 1; });
    var high = rates ? 1 : niceMax(Math.max.apply(null, values.concat([1])));
    yAxis(svg, box, 0, high, rates);
    var slot = box.width / Math.max(1, data.rows.length);
    var bar = Math.max(2, Math.min(24, (slot - 8) / columns.length));
    var centres = [];
    data.rows.forEach(function (row, rowIndex) {
      var start = box.left + slot * rowIndex + (slot - bar * columns.length) / 2;
      centres.push(box.left + slot * rowIndex + slot / 2);
      columns.forEach(function (column, index) {
        var value = row.values[column];
        if (value === null) {
          return;
        }
        var barHeight = box.height * value / high;
        var rect = node("rect", { x: start + bar * index, y: box.top + box.height - barHeight, width: bar - 1,
                                  height: barHeight, fill: COLOURS[index % COLOURS.length] }, svg);
        tip(rect, row.label + ": " + data.headers[column] + " " + (rates ? Math.round(value * 1000) / 10 + " %" : format(value)));
      });
    });
    xLabels(svg, box, data.rows.map(function (row) { return row.label; }), centres);
    legend(svg, columns.map(function (column) { return data.headers[column]; }), height - 12);
  }

  function bars(figure, data, columns) {
    var column = columns[0];
    var rowHeight = 22, left = 170, width = 760;
    var height = data.rows.length * rowHeight + 12;
    var svg = svgFor(figure, width, height);
    var values = valuesOf(data, [column]);
    var low = Math.min(0, Math.min.apply(null, values.concat([0])));
    var high = Math.max(0, Math.max.apply(null, values.concat([0])));
    var span = high - low || 1;
    var plot = width - left - 60;
    var zero = left + plot * (-low / span);
    data.rows.forEach(function (row, index) {
      var y = 6 + index * rowHeight;
      var value = row.values[column] || 0;
      var name = row.label.length > 26 ? row.label.slice(0, 25) + "…" : row.label;
      label(svg, left - 8, y + 14, name, { "text-anchor": "end" });
      var x = value < 0 ? zero - plot * (-value / span) : zero;
      var rect = node("rect", { x: x, y: y + 3, width: Math.max(1, plot * Math.abs(value) / span), height: rowHeight - 8,
                                fill: COLOURS[value < 0 ? 1 : 0] }, svg);
      tip(rect, row.label + ": " + data.headers[column] + " " + format(row.values[column]));
      label(svg, value < 0 ? x - 4 : x + plot * Math.abs(value) / span + 4, y + 14, format(row.values[column]),
            { "text-anchor": value < 0 ? "end" : "start" });
    });
    node("line", { x1: zero, x2: zero, y1: 2, y2: height - 4, stroke: INK }, svg);
  }

  function heatmap(figure, data) {
    var cell = 26, left = 90, top = 22;
    var hours = data.headers.length - 1;
    var width = left + hours * cell + 10, height = top + data.rows.length * cell + 8;
    var svg = svgFor(figure, width, height);
    var values = [];
    data.rows.forEach(function (row) { values = values.concat(row.values.slice(1)); });
    var high = Math.max.apply(null, values.concat([1]));
    for (var hour = 0; hour < hours; hour += 3) {
      label(svg, left + hour * cell + cell / 2, top - 8, data.headers[hour + 1], { "text-anchor": "middle" });
    }
    data.rows.forEach(function (row, rowIndex) {
      var y = top + rowIndex * cell;
      label(svg, left - 8, y + cell / 2 + 4, row.label, { "text-anchor": "end" });
      row.values.slice(1).forEach(function (value, hourIndex) {
        var rect = node("rect", { x: left + hourIndex * cell, y: y, width: cell - 2, height: cell - 2,
                                  fill: value ? COLOURS[0] : "#eef2f4",
                                  "fill-opacity": value ? (0.15 + 0.85 * value / high).toFixed(3) : 1 }, svg);
        tip(rect, row.label + " " + data.headers[hourIndex + 1] + ":00: " + format(value) + " messages");
      });
    });
  }

  var KINDS = { line: line, columns: columnsChart, bars: bars, heatmap: heatmap };

  function draw(figure) {
    var table = document.getElementById(figure.getAttribute("data-table"));
    var kind = KINDS[figure.getAttribute("data-chart")];
    if (!table || !kind) {
      return;
    }
    var data = readTable(table);
    if (!data.rows.length) {
      return;
    }
    var columns = (figure.getAttribute("data-columns") || "").split(",").filter(Boolean).map(Number);
    kind(figure, data, columns);
    figure.setAttribute("data-drawn", "true");
  }

  function periodDates() {
    // The date fields matter for custom periods only: shown for those (the server ignores them otherwise).
    var choice = document.getElementById("period-choice");
    if (!choice) {
      return;
    }
    var update = function () {
      Array.prototype.forEach.call(document.querySelectorAll(".period-dates"), function (field) {
        field.hidden = choice.value !== "custom";
      });
    };
    choice.addEventListener("change", update);
    update();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("figure[data-chart]"), draw);
    periodDates();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
