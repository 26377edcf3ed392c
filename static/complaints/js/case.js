// The case file's two filters: every answer save in the timeline, and only the questions concerned.
"use strict";
(function () {
  function toggle(checkboxId, target, className, whenChecked) {
    const box = document.getElementById(checkboxId);
    const element = document.querySelector(target);
    if (!box || !element) return;
    const apply = () => element.classList.toggle(className, box.checked === whenChecked);
    box.addEventListener("change", apply);
    apply();
  }
  toggle("show-saves", "ol.timeline", "hide-saves", false);
  toggle("only-concerned", "table.answers", "only-concerned", true);
})();
