// The user's language for the widgets built in the browser: Select2's messages ("Please enter 2 or more
// characters") and placeholders, and the date picker's month and day names. Loaded after FAB's scripts and
// before the page is ready, so the defaults are set before FAB's and our boxes are made. English is the
// widgets' own language and needs nothing.
(function ($) {
  var script = document.currentScript;
  if (script.getAttribute("data-locale") === "nb") {
    $.fn.select2.defaults.set("language", "nb");  // select2/i18n/nb.js, loaded before this file
    $.fn.datepicker.defaults.language = "no";  // bootstrap-datepicker.no.min.js; FAB still passes its date format
  }
  // FAB makes its boxes with the placeholder "Select a State" or "Select": Select2 prefers the element's
  // data-placeholder attribute to the options it is given.
  $("select.my_select2, select.my_select2_ajax, select.my_select2_ajax_slave")
    .attr("data-placeholder", script.getAttribute("data-placeholder"));
})(jQuery);
