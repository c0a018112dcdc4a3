/* IDN Book: the widget manager is fetched only when a saved dashboard comes near the screen.
 *
 * myst-nb adds this script (``nb_ipywidgets_js`` in _config.yml) to the pages that hold
 * saved ipywidgets state, in place of require.js and the 3.6 MB widget manager
 * (embed-amd.js). When the output area of a saved widget view comes within one screen
 * height of the viewport, it loads both, in that order, from the book's own copies
 * (_static/vendor/, beside this file); the widget manager then draws every saved view.
 * A reader who never scrolls to a dashboard never downloads it. */
(function () {
  "use strict";
  var here = document.currentScript.src;
  var SCRIPTS = ["vendor/require.js", "vendor/widgets/embed-amd.js"].map(function (path) {
    return new URL(path, here).href;
  });
  var started = false;

  function load(index) {
    if (index >= SCRIPTS.length) return;
    var script = document.createElement("script");
    script.src = SCRIPTS[index];
    script.onload = function () { load(index + 1); };
    document.head.appendChild(script);
  }

  function start() {
    if (started) return;
    started = true;
    load(0);
  }

  function watch() {
    var views = document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]');
    if (!views.length) return;
    if (!("IntersectionObserver" in window)) {
      start();
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        observer.disconnect();
        start();
      }
    }, { rootMargin: "100% 0px" });
    views.forEach(function (view) { observer.observe(view.parentElement); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
