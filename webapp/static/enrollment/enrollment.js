// The enrollment page (/innmelding), enhanced: the employer by type-ahead, that employer's workplaces, the place
// from the postcode, the employment questions only for the employed. Without this script the server does the same
// when the form is sent (it draws the form again with the workplaces and the matching employers).
(function () {
  "use strict";
  var form = document.getElementById("enrollment-form");
  if (!form) { return; }
  form.classList.add("js");
  var data = form.dataset;

  function byId(id) { return document.getElementById(id); }
  function getJSON(url) {
    return fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; });
  }

  // ------------------------------------------------------------ problems: the summary takes the focus
  var summary = byId("error-summary") || byId("enrollment-refused");
  if (summary) { summary.focus(); }

  // ------------------------------------------------------------ work situation
  var employment = byId("employment");
  var category = byId("f-category");
  var defaults = JSON.parse(category.getAttribute("data-defaults") || "{}");
  var basedOn = category.options[0].textContent;

  function situation() {
    var checked = form.querySelector("input[name=work_situation]:checked");
    return checked ? checked.value : "";
  }
  function showSituation() {
    var value = situation();
    employment.hidden = value !== "employed";
    category.options[0].textContent = defaults[value] ? basedOn + " (" + defaults[value] + ")" : basedOn;
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[name=work_situation]"), function (radio) {
    radio.addEventListener("change", showSituation);
  });
  showSituation();

  // ------------------------------------------------------------ employer type-ahead (ARIA combobox)
  var query = byId("f-employer_query");
  var chosenId = byId("f-employer_id");
  var list = byId("employer-suggestions");
  var status = byId("employer-status");
  var notListed = byId("f-employer_not_listed");
  var employerText = byId("employer-text-group");
  var workplaceGroup = byId("workplace-group");
  var workplaceNotListed = byId("workplace-not-listed-group");
  var workplace = byId("f-workplace_id");
  var items = [];
  var active = -1;
  var timer = null;

  function closeList() {
    list.hidden = true;
    list.innerHTML = "";
    query.setAttribute("aria-expanded", "false");
    query.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function highlight(index) {
    Array.prototype.forEach.call(list.children, function (item, position) {
      item.setAttribute("aria-selected", position === index ? "true" : "false");
    });
    active = index;
    if (index >= 0) {
      query.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({block: "nearest"});
    }
  }
  function showResults(results) {
    items = results;
    list.innerHTML = "";
    results.forEach(function (row, index) {
      var item = document.createElement("li");
      item.id = "employer-option-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.textContent = row.name + " (" + row.org_number + (row.city ? ", " + row.city : "") + ")";
      item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
      list.appendChild(item);
    });
    list.hidden = results.length === 0;
    query.setAttribute("aria-expanded", results.length ? "true" : "false");
    status.textContent = results.length ? data.msgCount.replace("{count}", results.length) : data.msgNone;
    active = -1;
  }
  function search(term) {
    getJSON(data.employers + "?q=" + encodeURIComponent(term)).then(function (answer) {
      if (answer && query.value.trim() === term) { showResults(answer.results); }
    });
  }
  function fillWorkplaces(rows) {
    workplace.innerHTML = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = data.msgChooseWorkplace;
    workplace.appendChild(first);
    rows.forEach(function (row) {
      var option = document.createElement("option");
      option.value = row.id;
      option.textContent = row.name + (row.municipality ? " (" + row.municipality + ")" : "");
      workplace.appendChild(option);
    });
    showEmployerParts();
  }
  var workplaceHelp = byId("h-workplace_id");
  function loadWorkplaces(employerId, employerName) {
    getJSON(data.workplaces.replace("/0/", "/" + employerId + "/")).then(function (answer) {
      workplaceHelp.textContent = data.msgWorkplacesOf.replace("{employer}", employerName);
      fillWorkplaces(answer ? answer.results : []);
    });
  }
  function choose(index) {
    var row = items[index];
    query.value = row.name;
    chosenId.value = row.id;
    Array.prototype.forEach.call(form.querySelectorAll("input[type=radio][name=employer_id]"), function (radio) {
      radio.checked = false;
    });
    closeList();
    loadWorkplaces(row.id, row.name);
  }
  function showEmployerParts() {
    var own = notListed.checked;
    employerText.hidden = !own;
    byId("employer-group").hidden = own;
    var known = Boolean(chosenId.value) || Boolean(form.querySelector("input[type=radio][name=employer_id]:checked"));
    var hasWorkplaces = workplace.options.length > 1;
    workplaceGroup.hidden = own || !known || !hasWorkplaces;
    workplaceNotListed.hidden = workplaceGroup.hidden;
  }

  query.addEventListener("input", function () {
    chosenId.value = "";
    fillWorkplaces([]);
    window.clearTimeout(timer);
    var term = query.value.trim();
    if (term.length < 2) { closeList(); status.textContent = ""; return; }
    timer = window.setTimeout(function () { search(term); }, 200);
  });
  query.addEventListener("keydown", function (event) {
    if (list.hidden) { return; }
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(Math.min(active + 1, items.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      closeList();
    }
  });
  query.addEventListener("blur", function () { window.setTimeout(closeList, 150); });
  notListed.addEventListener("change", showEmployerParts);
  Array.prototype.forEach.call(form.querySelectorAll("input[type=radio][name=employer_id]"), function (radio) {
    radio.addEventListener("change", function () {
      chosenId.value = "";
      loadWorkplaces(radio.value, radio.parentNode.textContent.trim());
    });
  });
  showEmployerParts();

  // ------------------------------------------------------------ place from the postcode
  var postcode = byId("f-postcode");
  var place = byId("f-place");
  var placeHelp = byId("h-place");
  var placeHint = placeHelp.textContent;
  function lookUpPlace() {
    var code = postcode.value.trim();
    if (!/^[0-9]{4}$/.test(code)) { place.value = ""; placeHelp.textContent = placeHint; return; }
    getJSON(data.postcode.replace("0000", code)).then(function (answer) {
      if (postcode.value.trim() !== code) { return; }
      place.value = answer ? answer.place : "";
      placeHelp.textContent = answer ? placeHint : data.msgUnknownPostcode;
    });
  }
  postcode.addEventListener("input", lookUpPlace);
}());
