/* IDN Book: plotly figures on narrow screens (phones), and links that open collapsed boxes.
 *
 * Loaded on every page, right after plotly.js where a page has figures and before the
 * figures' inline scripts (book/_ext/idn_book.py).
 *
 * A link to a collapsed box (the "Run this chapter yourself" dropdown that the notice at a
 * saved dashboard links to) opens it.
 *
 * On pages with figures, it wraps Plotly.newPlot so that a figure whose box is narrower than NARROW_PX
 *   - is drawn with its side legend moved to the bottom of the figure, as a horizontal row
 *     (plotly grows the bottom margin to hold it); a legend that is already horizontal is
 *     left as designed;
 *   - keeps at least PANEL_MIN_PX per column of side-by-side panels: a multi-panel figure
 *     is laid out wider than the screen and scrolls sideways inside its own box, never the
 *     page.
 * When the window is resized (a phone turned sideways), both are redone. Figures drawn later
 * by the widget manager go through the same Plotly.newPlot. */
(function () {
  "use strict";
  function openLinkedBox() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var box = id && document.getElementById(id);
    if (box && box.classList.contains("toggle-hidden")) {
      var title = box.querySelector(".admonition-title");
      if (title) title.click();
    }
  }
  window.addEventListener("hashchange", openLinkedBox);
  window.addEventListener("load", openLinkedBox);
})();

(function () {
  "use strict";
  var NARROW_PX = 600;
  var PANEL_MIN_PX = 200;
  var BELOW = {
    orientation: "h", x: 0, xanchor: "left", xref: "paper",
    y: 0, yanchor: "bottom", yref: "container",
  };
  var KEYS = Object.keys(BELOW);
  if (!window.Plotly || !window.Plotly.newPlot) return; // a page without figures

  // Width available to the figure: its wrapper's (the figure itself may be wider).
  function roomOf(div) {
    return (div.parentElement || div).getBoundingClientRect().width;
  }

  // Columns of side-by-side panels: distinct horizontal domains of the x axes.
  function panelColumns(layout) {
    var starts = {};
    Object.keys(layout).forEach(function (key) {
      if (/^xaxis\d*$/.test(key) && layout[key] && Array.isArray(layout[key].domain)) {
        starts[Number(layout[key].domain[0]).toFixed(3)] = true;
      }
    });
    return Math.max(1, Object.keys(starts).length);
  }

  function remember(div, layout) {
    var legend = layout.legend || {};
    div._idnColumns = panelColumns(layout);
    div._idnSideLegend = legend.orientation !== "h";
    var wide = {};
    KEYS.forEach(function (key) {
      wide[key] = legend[key] === undefined ? null : legend[key];
    });
    div._idnWideLegend = wide;
  }

  function setMinWidth(div, room) {
    var needed = div._idnColumns > 1 ? div._idnColumns * PANEL_MIN_PX : 0;
    var scroll = room < needed;
    div.style.minWidth = scroll ? needed + "px" : "";
    if (div.parentElement) div.parentElement.style.overflowX = scroll ? "auto" : "";
  }

  function below(layout) {
    var out = Object.assign({}, layout);
    out.legend = Object.assign({}, layout.legend || {}, BELOW);
    return out;
  }

  function fit(div) {
    if (div._idnColumns === undefined || !div._fullLayout) return;
    var room = roomOf(div);
    if (room === 0) return; // not laid out (a hidden widget area)
    setMinWidth(div, room);
    var narrow = div._idnSideLegend && room < NARROW_PX;
    if (narrow === Boolean(div._idnLegendBelow)) {
      window.Plotly.Plots.resize(div);
      return;
    }
    div._idnLegendBelow = narrow;
    var update = {};
    KEYS.forEach(function (key) {
      update["legend." + key] = narrow ? BELOW[key] : div._idnWideLegend[key];
    });
    window.Plotly.relayout(div, update);
  }

  var newPlot = window.Plotly.newPlot;
  window.Plotly.newPlot = function (gd, data, layout, config) {
    var div = typeof gd === "string" ? document.getElementById(gd) : gd;
    var figure = data && !Array.isArray(data) && typeof data === "object";
    var current = (figure ? data.layout : layout) || {};
    if (div) {
      remember(div, current);
      var room = roomOf(div);
      if (room > 0) {
        setMinWidth(div, room);
        if (div._idnSideLegend && room < NARROW_PX) {
          div._idnLegendBelow = true;
          if (figure) data = Object.assign({}, data, { layout: below(current) });
          else layout = below(current);
        }
      }
    }
    return newPlot.call(this, gd, data, layout, config).then(function (drawn) {
      if (div && room === 0) fit(div); // drawn before it was laid out, e.g. in a widget
      return drawn;
    });
  };

  var timer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      document.querySelectorAll(".js-plotly-plot").forEach(fit);
    }, 150);
  });
})();
