// Employment change: once an employer is chosen, offer that employer's workplaces.
$(function () {
  var employer = $("#employer_id");
  var workplace = $("#workplace_id");
  if (!employer.length || !workplace.length) { return; }
  employer.on("change", function () {
    var id = employer.val();
    workplace.empty().prop("disabled", true);
    if (!id) { return; }
    $.getJSON(workplace.data("endpoint"), { employer_id: id, q: "" }, function (data) {
      $.each(data.results, function (_, row) {
        workplace.append($("<option>").val(row.id).text(row.text));
      });
      workplace.prop("disabled", data.results.length === 0);
    });
  });
});
