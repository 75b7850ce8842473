// A job's page (templates/jobs/show.html): while the job waits or runs, ask /jobs/<id>.json every second and
// show its progress, count and log; when it has finished, load the page again for its result or its error.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-finished") === "true") { return; }
  var url = box.getAttribute("data-job-url");
  var bar = box.querySelector("[role=progressbar]");
  var status = document.getElementById("job-status");
  var count = document.getElementById("job-count");
  var log = document.getElementById("job-log");
  var delay = 1000;

  function show(state) {
    bar.style.width = state.percent + "%";
    bar.setAttribute("aria-valuenow", String(state.percent));
    bar.textContent = state.percent + "\u00a0%";
    status.textContent = state.status_label;
    count.textContent = state.count_text;
    if (state.log.length) {
      log.textContent = "";
      state.log.forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        log.appendChild(item);
      });
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.finished) { window.location.reload(); return; }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);  // the server is busy or away: ask less often
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
}());
