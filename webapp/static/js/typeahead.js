// Type-ahead select boxes: ask the server for matches as the user types.
$(function () {
  $("select.typeahead").each(function () {
    var box = $(this);
    box.select2({
      theme: "bootstrap",
      allowClear: true,
      placeholder: "",
      minimumInputLength: 2,
      ajax: {
        url: box.data("endpoint"),
        dataType: "json",
        delay: 250,
        data: function (params) {
          var query = { q: params.term };
          var employer = box.data("employer-field");
          if (employer) { query.employer_id = $("#" + employer).val(); }
          return query;
        },
        processResults: function (data) { return { results: data.results }; }
      }
    });
    // Select2's combobox takes the name of the box's label, so a screen reader says what it is for.
    var label = $.trim($("label[for='" + box.attr("id") + "']").text());
    if (label) { box.next(".select2").find(".select2-selection, .select2-selection__rendered").attr("aria-label", label); }
  });
});
