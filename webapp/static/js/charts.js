/* Draws the page's charts with Vega-Lite (webapp/static/vendor/vega, served by the app itself).
 *
 * <div data-vega-lite="ID"> gets the Vega-Lite spec of the JSON in <script type="application/json" id="ID">
 * (written by altair on the server, see webapp/views/charts.py). Flask-AppBuilder's chart widgets hand over
 * Google's DataTable JSON instead: <div data-datatable="ID" data-chart-type="ColumnChart"> gets a chart made
 * from it here. Vega's expressions run in vega-interpreter, as the content security policy forbids eval. */
(function () {
  "use strict";
  var NORWEGIAN = {decimal: ",", thousands: "\u00a0", grouping: [3], currency: ["kr\u00a0", ""]};

  function readJson(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function draw(element, spec) {
    return vegaEmbed(element, spec, {
      actions: false, renderer: "svg", ast: true, expr: vega.expressionInterpreter, formatLocale: NORWEGIAN
    }).catch(function (error) {
      element.textContent = error.message;
    });
  }

  /* Google's DataTable ({cols: [{id, label, type}], rows: [{c: [{v}]}]}) as a Vega-Lite spec: the first column
     is the category, every other column a series. */
  function fromDataTable(table, chartType, title) {
    var category = table.cols[0].label || table.cols[0].id;
    var values = [];
    table.rows.forEach(function (row) {
      table.cols.slice(1).forEach(function (col, index) {
        var entry = {};
        entry[category] = row.c[0].v;
        entry.serie = col.label || col.id;
        entry.value = row.c[index + 1].v;
        values.push(entry);
      });
    });
    var series = table.cols.length > 2;
    var spec = {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: title || undefined,
      description: title || undefined,
      width: "container",
      data: {values: values},
      config: {locale: {number: NORWEGIAN}}
    };
    if (chartType === "PieChart") {
      spec.mark = {type: "arc", tooltip: true};
      spec.encoding = {theta: {field: "value", type: "quantitative"},
                       color: {field: category, type: "nominal", title: category}};
    } else {
      var line = chartType === "LineChart" || chartType === "AreaChart";
      spec.mark = {type: line ? "line" : "bar", tooltip: true, point: line || undefined};
      spec.encoding = {
        x: {field: category, type: "nominal", sort: null, title: category},
        y: {field: "value", type: "quantitative", title: series ? "" : table.cols[1].label},
        color: series ? {field: "serie", type: "nominal", title: ""} : undefined,
        xOffset: series && !line ? {field: "serie"} : undefined
      };
    }
    return spec;
  }

  function drawAll() {
    document.querySelectorAll("[data-vega-lite]").forEach(function (element) {
      draw(element, readJson(element.getAttribute("data-vega-lite")));
    });
    document.querySelectorAll("[data-datatable]").forEach(function (element) {
      var table = readJson(element.getAttribute("data-datatable"));
      draw(element, fromDataTable(table, element.getAttribute("data-chart-type"), element.getAttribute("data-title")));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
