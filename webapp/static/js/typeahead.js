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
  });
});
