// The dashboard's only script: the live recipient count of a draft's
// audience, and a running broadcast's progress. Every page works without it.
"use strict";
(function () {
  function text(el, s) { if (el) { el.textContent = s; } }

  // the audience picker: count who the chosen audience reaches, per channel
  document.querySelectorAll("fieldset.audience").forEach(function (box) {
    var form = box.closest("form");
    var out = box.querySelector("#live-count");
    var list = box.querySelector("#live-channels");
    var pending = 0;
    function count() {
      var q = new URLSearchParams();
      ["campaign", "audience", "governorate", "aud_lang"].forEach(function (n) {
        var el = form.elements[n];
        if (el) { q.set(n, el.value); }
      });
      var mine = ++pending;
      fetch(box.dataset.countUrl + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!d || mine !== pending) { return; }
          text(out, d.note || "");
          list.replaceChildren();
          (d.channels || []).forEach(function (c) {
            var li = document.createElement("li");
            li.dataset.channel = c.Channel;
            li.textContent = c.Name + ": " + c.Count + " (" + c.Time + ")";
            list.appendChild(li);
          });
        })
        .catch(function () {});
    }
    box.addEventListener("change", count);
    count();
  });

  // a broadcast's page: follow its progress until it is done or cancelled
  var bc = document.querySelector("[data-progress-url]");
  if (bc) {
    var timer = setInterval(function () {
      fetch(bc.dataset.progressUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!d) { return; }
          ["sent", "failed", "blocked", "left", "status"].forEach(function (k) { text(document.getElementById(k), d[k]); });
          var bar = document.getElementById("bar");
          if (bar && d.total > 0) { bar.max = d.total; bar.value = d.done; }
          if (d.closed) { clearInterval(timer); }
        })
        .catch(function () {});
    }, 2000);
  }
})();
