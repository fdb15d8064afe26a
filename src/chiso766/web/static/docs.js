// Renders /openapi.json as a plain list of operations (self-contained replacement for Swagger UI's CDN page).
(function () {
  "use strict";
  var root = document.getElementById("openapi");
  if (!root) return;
  function el(tag, text, cls) { var e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  fetch(root.getAttribute("data-src")).then(function (r) { return r.json(); }).then(function (spec) {
    root.textContent = "";
    var h = el("p", (spec.info && spec.info.description) || ""); root.appendChild(h);
    Object.keys(spec.paths).sort().forEach(function (path) {
      var item = spec.paths[path];
      Object.keys(item).forEach(function (method) {
        var op = item[method], box = el("section", null, "openapi-op");
        var title = el("h2"); title.appendChild(el("code", method, "method")); title.appendChild(el("code", path));
        box.appendChild(title);
        if (op.summary) box.appendChild(el("p", op.summary));
        if (op.description) box.appendChild(el("p", op.description));
        var params = (op.parameters || []).map(function (p) { return p.name + " (" + p.in + (p.required ? ", bắt buộc/required" : "") + ")" + (p.description ? ": " + p.description : ""); });
        if (params.length) { var ul = el("ul"); params.forEach(function (t) { ul.appendChild(el("li", t)); }); box.appendChild(ul); }
        root.appendChild(box);
      });
    });
  }).catch(function (e) { root.textContent = "OpenAPI: " + e; });
})();
