/* Charts of the report pages (templates/analytics/_table.html), drawn with the vendored Chart.js.
 *
 * Each <canvas data-chart="ID"> has its data in <script type="application/json" id="ID"> (Django's
 * json_script, so no inline script is needed under the CSP): {type, labels, datasets: [{label,
 * unit, prefix, suffix, data}], urls}. "funnel" is drawn as a horizontal bar chart. A click on a
 * bar or slice opens the records of that row, like the link in the table below the chart.
 */
(function () {
  "use strict";

  var PALETTE = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545", "#ffc107", "#0dcaf0", "#6c757d", "#198754", "#d63384"];
  var lang = document.documentElement.lang || undefined;

  function format(value, dataset) {
    if (value === null || value === undefined) {
      return "—";
    }
    var number = Number(value).toLocaleString(lang, { maximumFractionDigits: 2 });
    return (dataset.prefix || "") + number + (dataset.suffix || "");
  }

  function axisIds(spec, horizontal) {
    // One value axis per unit (a count and an amount side by side each get their own scale).
    var axis = horizontal ? "x" : "y";
    var ids = {};
    spec.datasets.forEach(function (dataset) {
      if (!(dataset.unit in ids)) {
        ids[dataset.unit] = Object.keys(ids).length ? axis + "1" : axis;
      }
    });
    return ids;
  }

  function build(spec) {
    var type = spec.type;
    var horizontal = type === "funnel";
    if (horizontal) {
      type = "bar";
    }
    var round = type === "doughnut" || type === "pie";
    var ids = axisIds(spec, horizontal);
    var datasets = spec.datasets.map(function (dataset, index) {
      var colour = PALETTE[index % PALETTE.length];
      var item = {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: round
          ? spec.labels.map(function (_label, row) { return PALETTE[row % PALETTE.length]; })
          : colour,
        borderColor: round ? "#fff" : colour,
        fill: false,
        tension: 0.2,
        spanGaps: true,
      };
      if (!round) {
        item[horizontal ? "xAxisID" : "yAxisID"] = ids[dataset.unit];
      }
      return item;
    });
    var scales = {};
    if (!round) {
      Object.keys(ids).forEach(function (unit) {
        var dataset = spec.datasets.find(function (d) { return d.unit === unit; });
        var id = ids[unit];
        scales[id] = {
          beginAtZero: true,
          position: id.length > 1 ? (horizontal ? "top" : "right") : (horizontal ? "bottom" : "left"),
          grid: { drawOnChartArea: id.length === 1 },
          ticks: { callback: function (value) { return format(value, dataset); } },
        };
      });
    }
    var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    return {
      type: type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 300 },
        indexAxis: horizontal ? "y" : "x",
        scales: scales,
        plugins: {
          legend: { display: round || spec.datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (context) {
                var dataset = spec.datasets[context.datasetIndex];
                return dataset.label + ": " + format(context.raw, dataset);
              },
            },
          },
        },
        onClick: function (_event, elements) {
          var url = elements.length && spec.urls ? spec.urls[elements[0].index] : "";
          if (url) {
            window.location.assign(url);
          }
        },
        onHover: function (event, elements) {
          var url = elements.length && spec.urls ? spec.urls[elements[0].index] : "";
          event.native.target.style.cursor = url ? "pointer" : "default";
        },
      },
    };
  }

  function drawAll() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source || canvas.dataset.drawn) {
        return;
      }
      canvas.dataset.drawn = "true";
      new window.Chart(canvas, build(JSON.parse(source.textContent)));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
