// chiso766 dashboard behaviour (no dependencies): sortable tables by keyboard or mouse, live refresh.
(function () {
  "use strict";
  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    if (!cell) return null;
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (kind === "num") { if (raw === "" || raw === "—") return null; var n = parseFloat(raw); return isNaN(n) ? null : n; }
    return raw.toLocaleLowerCase("vi");
  }
  function sortTable(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var kind = th.getAttribute("data-kind") || "text";
    var asc = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (o) { o.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var fixed = Array.prototype.filter.call(body.rows, function (r) { return r.classList.contains("average"); });
    var rows = Array.prototype.filter.call(body.rows, function (r) { return !r.classList.contains("average"); });
    rows.sort(function (a, b) {
      var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
      if (x === null && y === null) return 0; if (x === null) return 1; if (y === null) return -1;  // nulls last
      var c = kind === "num" ? x - y : x.localeCompare(y, "vi");
      return asc ? c : -c;
    });
    rows.concat(fixed).forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable th button.sort").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.closest("th"); sortTable(th.closest("table"), th);
    });
  });
  // A free-text period id overrides the selector.
  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("submit", function () {
      var free = form.querySelector("input[name=period_id]"), select = form.querySelector("select[name=period]");
      if (free && select && free.value.trim()) { select.disabled = true; free.name = "period"; }
      else if (free) { free.disabled = true; }
      form.querySelectorAll("input, select").forEach(function (el) { if (!el.disabled && el.value === "" && el.name !== "period") el.disabled = true; });
    });
  });
  // Live: poll the data version; reload when new records or the clock moved the scores.
  var body = document.body, url = body.getAttribute("data-state-url"), version = body.getAttribute("data-version");
  if (url && version) {
    var busy = function () { var a = document.activeElement; return a && (a.tagName === "INPUT" || a.tagName === "SELECT"); };
    setInterval(function () {
      fetch(url, { headers: { Accept: "application/json" } }).then(function (r) { return r.json(); }).then(function (s) {
        if (String(s.version) !== version && !busy()) { window.location.reload(); }
      }).catch(function () {});
    }, 3000);
  }
})();
