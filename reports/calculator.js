/* The score calculator page: reads the form, scores with Scorecard (reports/scorer.js) from the
 * card and the rules embedded in the page, and shows the result. Plain classic script, run
 * inline after the form (no module, nothing fetched), so it works opened from disk too.
 * The form itself is written by scorecard/apply/calculator.py. The rules are null when params.yaml
 * names none (rules.path: null): then there is no band, decision or loan limit to show, and the
 * page has no elements for them. */
(function () {
  "use strict";

  function json(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  var card = json("calc-card");
  var rules = json("calc-rules");  // null: no business rules
  var config = json("calc-config");
  var form = document.getElementById("calc-form");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (Object.prototype.hasOwnProperty.call(attrs, key)) {
        node.setAttribute(key, attrs[key]);
      }
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function part(name, which) {
    return form.querySelector('[data-field="' + name + '"][data-part="' + which + '"]');
  }

  /* The card's currency code (e.g. "MXN") after an amount; none when the card names none. */
  function money(x) {
    return formatNumber(x) + (config.currency ? " " + config.currency : "");
  }

  /* A number with the separators the Python pages print (1,234.5), whatever the reader's
   * locale: "en-US" names that format, not the data's country. */
  function formatNumber(x) {
    return Number(x).toLocaleString("en-US", {maximumFractionDigits: 6});
  }

  /* The applicant as the form states it: null for missing; an error for a number the browser
   * could not read (e.g. "1e" while typing). */
  function readForm() {
    var values = {}, problems = [], warnings = [];
    config.fields.forEach(function (field) {
      var input = part(field.name, "value");
      if (field.type === "categorical") {
        var role = input.selectedOptions.length ? input.selectedOptions[0].getAttribute("data-role") : null;
        var other = part(field.name, "other");
        other.hidden = role !== "unseen";
        values[field.name] = role === "missing" ? null : (role === "unseen" ? other.value : input.value);
        return;
      }
      var missing = part(field.name, "missing");
      input.disabled = missing.checked;
      if (missing.checked) {
        values[field.name] = null;
      } else if (input.validity && input.validity.badInput) {
        problems.push(field.name + ": not a number");
      } else if (input.value.trim() === "") {
        values[field.name] = null;
      } else {
        var x = Number(input.value);
        values[field.name] = x;
        var low = field.min, high = field.max;
        if ((low !== null && (field.min_exclusive ? x <= low : x < low)) || (high !== null && x > high)) {
          warnings.push(field.name + " = " + input.value + " is outside the valid range, " + field.range +
                        "; the card still scores it.");
        }
      }
    });
    return {values: values, problems: problems, warnings: warnings};
  }

  /* Elements that only rules fill (band, decision, ...) are absent from a page without rules. */
  function setText(id, text) {
    var node = document.getElementById(id);
    if (node) {
      node.textContent = text;
    }
  }

  function clearResult(message) {
    setText("calc-score", "–");
    setText("calc-band", "–");
    var decision = document.getElementById("calc-decision");
    if (decision) {
      decision.textContent = "–";
      decision.className = "calc-big calc-decision";
    }
    var error = document.getElementById("calc-error");
    error.textContent = message;
    error.hidden = false;
    ["calc-decided-by", "calc-max-loan", "calc-warnings", "calc-reasons", "calc-points"].forEach(function (id) {
      setText(id, "");
    });
  }

  function showDecidedBy(outcome) {
    var box = document.getElementById("calc-decided-by");
    box.textContent = "";
    var cut = rules.cutoffs;
    if (outcome.policy_rule) {
      var hit = outcome.policy_rule;
      box.setAttribute("data-rule", hit.rule);
      box.appendChild(document.createTextNode("Decided by policy rule "));
      box.appendChild(el("code", {}, hit.rule));
      box.appendChild(document.createTextNode(" (" + hit.reason_code + "): " + hit.reason_text +
        ". The score alone would " + outcome.score_decision + "."));
    } else {
      box.setAttribute("data-rule", "");
      box.appendChild(document.createTextNode("Decided by the score: decline below " + cut.decline_below +
        ", refer from " + cut.decline_below + " to " + (cut.approve_from - 1) + ", approve from " + cut.approve_from + "."));
    }
    var others = outcome.policy_hits.filter(function (h) { return h !== outcome.policy_rule; });
    if (others.length) {
      box.appendChild(document.createTextNode(" Also fired: " + others.map(function (h) {
        return h.rule + " (" + h.reason_code + ", " + h.action + ")";
      }).join("; ") + "."));
    }
  }

  function showReasons(result) {
    var list = document.getElementById("calc-reasons");
    list.textContent = "";
    if (!result.reasons.length) {
      list.appendChild(el("li", {"class": "calc-note", "data-none": "1"}, "none: every feature is in its best bin"));
    }
    result.reasons.forEach(function (r) {
      var item = el("li", {"data-code": r.code, "data-feature": r.feature, "data-points-lost": r.points_lost});
      item.appendChild(el("code", {}, r.code));
      item.appendChild(document.createTextNode(" " + r.text + " — " + r.points_lost + " point" +
        (r.points_lost === 1 ? "" : "s") + " lost"));
      list.appendChild(item);
    });
  }

  function showPoints(result) {
    var box = document.getElementById("calc-points");
    box.textContent = "";
    var table = el("table");
    var head = el("tr");
    [["feature", ""], ["bin", ""], ["points", "calc-num"], ["best", "calc-num"]].forEach(function (h) {
      head.appendChild(el("th", h[1] ? {"class": h[1]} : {}, h[0]));
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    var base = el("tr", {"data-feature": "(base points)"});
    base.appendChild(el("td", {}, "base points"));
    base.appendChild(el("td"));
    base.appendChild(el("td", {"class": "calc-num calc-pts", "data-points": card.scaling.base_points},
                        card.scaling.base_points));
    base.appendChild(el("td"));
    body.appendChild(base);
    card.features.forEach(function (f) {
      var row = el("tr", {"data-feature": f.name});
      var name = el("td");
      name.appendChild(el("code", {}, f.name));
      row.appendChild(name);
      var label = config.bin_labels[f.name][result.bins[f.name]];
      if (result.unseen.indexOf(f.name) >= 0) {
        label += " (unseen category)";
      }
      row.appendChild(el("td", {}, label));
      row.appendChild(el("td", {"class": "calc-num calc-pts", "data-points": result.points[f.name]},
                         result.points[f.name]));
      row.appendChild(el("td", {"class": "calc-num"}, config.best_points[f.name]));
      body.appendChild(row);
    });
    var total = el("tr", {"class": "calc-total"});
    total.appendChild(el("td", {}, "score"));
    total.appendChild(el("td"));
    total.appendChild(el("td", {"class": "calc-num"}, result.score));
    total.appendChild(el("td"));
    body.appendChild(total);
    box.appendChild(table);
  }

  function showOutcome(outcome) {
    setText("calc-band", outcome.band);
    var decision = document.getElementById("calc-decision");
    decision.textContent = outcome.decision;
    decision.className = "calc-big calc-decision calc-decision-" + outcome.decision;
    showDecidedBy(outcome);
    var loan = document.getElementById("calc-max-loan");
    loan.setAttribute("data-amount", outcome.max_loan_amount);
    loan.textContent = outcome.decision === "decline"
      ? "Declined: no loan is offered."
      : "Largest loan for band " + outcome.band + ": " + money(outcome.max_loan_amount) + ".";
  }

  function update() {
    var read = readForm();
    if (read.problems.length) {
      clearResult("Cannot score: " + read.problems.join("; "));
      return;
    }
    var result, outcome = null;
    try {
      result = Scorecard.score(card, read.values, config.n_reasons);
      if (rules !== null) {
        outcome = Scorecard.decide(rules, result.score, read.values);
      }
    } catch (error) {
      clearResult("Cannot score: " + error.message);
      return;
    }
    document.getElementById("calc-error").hidden = true;
    setText("calc-score", result.score);
    if (outcome !== null) {
      showOutcome(outcome);
    }
    var warnings = document.getElementById("calc-warnings");
    warnings.textContent = "";
    warnings.setAttribute("data-unseen", result.unseen.join(","));
    if (result.unseen.length) {
      warnings.appendChild(el("p", {"class": "calc-warning"}, "Unseen category in " + result.unseen.join(", ") +
        ": scored as the feature's lowest-points category bin and flagged."));
    }
    read.warnings.forEach(function (w) {
      warnings.appendChild(el("p", {"class": "calc-warning"}, w));
    });
    showReasons(result);
    showPoints(result);
  }

  function fill(applicant) {
    config.fields.forEach(function (field) {
      var value = applicant[field.name];
      var input = part(field.name, "value");
      if (field.type === "categorical") {
        var options = Array.prototype.slice.call(input.options);
        var listed = field.categories.indexOf(value) >= 0;
        var role = value === null || value === undefined ? "missing" : (listed ? null : "unseen");
        options.forEach(function (o) {
          o.selected = role ? o.getAttribute("data-role") === role : (!o.hasAttribute("data-role") && o.value === value);
        });
        part(field.name, "other").value = role === "unseen" ? String(value) : "";
      } else {
        var missing = value === null || value === undefined;
        part(field.name, "missing").checked = missing;
        input.value = missing ? "" : String(value);
      }
    });
    update();
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  document.getElementById("calc-reset").addEventListener("click", function () {
    fill(config.typical);
  });
  window.ScoreCalculator = {fill: fill, update: update, fields: config.fields};
  update();
})();
