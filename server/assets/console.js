// Progressive enhancement for the admin console; every page works without it.
// - buttons with data-copy="ID" copy that element's text to the clipboard;
// - forms with data-confirm="..." ask before they are submitted.
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  event.preventDefault();
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    var label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  });
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
document.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
