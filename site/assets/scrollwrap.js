// A table wider than the page scrolls in its own box (Material wraps it in .md-typeset__scrollwrap): such a box is
// made a labelled, focusable region, so a keyboard user can scroll it too (WCAG 2.1.1; axe's
// scrollable-region-focusable). Runs on every page load, instant loading included.
document$.subscribe(function () {
  requestAnimationFrame(function () {
    var label = document.documentElement.lang.indexOf("zh") === 0 ? "表格（可横向滚动）" : "Table (scrolls sideways)";
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", label);
      }
    });
  });
});
