/* pbvote ballot page: live total, remaining money and points, and disabling choices that no
   longer fit.  Only an aid: the server checks every rule again when the ballot is reviewed and cast. */
(function () {
  "use strict";
  var form = document.getElementById("ballot-form");
  var printLink = document.getElementById("print-link");
  if (printLink) {
    printLink.addEventListener("click", function (event) { event.preventDefault(); window.print(); });
  }
  if (!form) { return; }
  var kind = form.dataset.kind;
  var budget = parseInt(form.dataset.total, 10);
  var max = form.dataset.max ? parseInt(form.dataset.max, 10) : null;
  var pointsTotal = form.dataset.points ? parseInt(form.dataset.points, 10) : null;
  var summary = document.getElementById("ballot-summary-text");
  var lang = document.documentElement.lang || "en";
  var fmt = function (cents) {
    var whole = cents % 100 === 0;
    return new Intl.NumberFormat(lang, {
      style: "currency", currency: form.dataset.currency || "EUR",
      minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2
    }).format(cents / 100);
  };
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=projects]"));
  var pointInputs = Array.prototype.slice.call(form.querySelectorAll("input.points-input"));
  // Translated sentences come from the page (data-* attributes) with {placeholders}.
  var say = function (name, values) {
    return (summary.dataset[name] || "").replace(/\{(\w+)\}/g, function (m, key) { return values[key]; });
  };

  function update() {
    if (kind === "knapsack" || kind === "approval" || kind === "choose_one") {
      var spent = 0, count = 0;
      boxes.forEach(function (box) { if (box.checked) { spent += parseInt(box.dataset.cost, 10); count += 1; } });
      // A project that no longer fits stays focusable (never "disabled": screen readers and the
      // keyboard would skip it without a word); it says why, and refuses to be ticked.
      boxes.forEach(function (box) {
        var reason = "";
        if (box.type === "checkbox" && !box.checked) {
          if (kind === "knapsack" && spent + parseInt(box.dataset.cost, 10) > budget) {
            reason = say("noFit", { left: fmt(budget - spent) });
          } else if (max !== null && count >= max) {
            reason = say("tooMany", { max: max });
          }
        }
        var note = document.getElementById("fit-" + box.value);
        if (reason) { box.setAttribute("aria-disabled", "true"); } else { box.removeAttribute("aria-disabled"); }
        if (note) { note.textContent = reason; note.hidden = !reason; }
        box.closest(".project-choice").classList.toggle("does-not-fit", !!reason);
      });
      if (kind === "knapsack") {
        summary.textContent = say("knapsack", { spent: fmt(spent), left: fmt(budget - spent), budget: fmt(budget) });
      } else if (kind === "approval") {
        summary.textContent = say(max !== null ? "approvalMax" : "approval", { count: count, max: max });
      }
      form.classList.toggle("over-budget", kind === "knapsack" && spent > budget);
    } else if (kind === "cumulative") {
      var used = 0;
      pointInputs.forEach(function (input) { var v = parseInt(input.value, 10); if (v > 0) { used += v; } });
      summary.textContent = say("cumulative", { used: used, left: pointsTotal !== null ? pointsTotal - used : "" });
    }
  }
  var alertBox = document.getElementById("ballot-alert");
  form.addEventListener("click", function (event) {
    var box = event.target;
    if (box.name === "projects" && box.getAttribute("aria-disabled") === "true" && box.checked) {
      event.preventDefault();  // the box goes back to unticked; say why, out loud
      var note = document.getElementById("fit-" + box.value);
      var label = form.querySelector("label[for='" + box.id + "'] strong");
      if (alertBox) {
        alertBox.textContent = say("refused", { title: label ? label.textContent : "", reason: note ? note.textContent : "" });
      }
    }
  });
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
