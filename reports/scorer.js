/* Scorecard scorer in plain JavaScript: a classic script (no modules, no dependencies) that
 * applies scorecard/scorecard.json and business_rules/rules.json in the browser.
 *
 * It mirrors the reference scorer, scorecard/card/__init__.py (bin assignment, points, reasons, the
 * unseen-category rule), and scorecard/card/rules.py (cut-offs, policy rules, bands) exactly;
 * tests/test_calculator.py checks it against them on the 2011 test loans and on rows built to
 * sit on every bin edge, special value, missing value and unseen category.
 *
 *   Scorecard.score(card, applicant, nReasons)
 *     -> {score, points: {feature: int}, bins: {feature: id},
 *         reasons: [{code, text, feature, points_lost}], unseen: [feature]}
 *   Scorecard.decide(rules, score, values)
 *     -> {score, band, decision, score_decision, policy_rule, policy_hits, max_loan_amount}
 *
 * Applicant values: a number (or numeric text) for a numeric feature, text for a categorical
 * one; null, undefined or NaN is missing. As in card.py, an empty or otherwise non-numeric text
 * in a numeric feature is an error, and an empty text in a categorical feature is a category
 * (unseen), not a missing value.
 */
(function (global) {
  "use strict";

  var NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  var SEVERITY = {approve: 0, refer: 1, decline: 2};

  function isMissing(value) {
    return value === null || value === undefined || (typeof value === "number" && isNaN(value));
  }

  /* card.py _numeric_bins: pd.to_numeric, then a non-number or an infinity is an error. */
  function asNumber(name, value) {
    var number = value;
    if (typeof value === "string") {
      var text = value.trim();
      number = NUMBER_TEXT.test(text) ? Number(text) : NaN;
    } else if (typeof value !== "number") {
      number = NaN;
    }
    if (isNaN(number)) {
      throw new Error("column '" + name + "': expected a number, got " + JSON.stringify(value));
    }
    if (!isFinite(number)) {
      throw new Error("column '" + name + "': expected a finite number, got infinity");
    }
    return number;
  }

  /* card.py _as_category: 36 and 36.0 read as '36'; missing stays null; text is kept as is
   * (no trimming, no case folding). */
  function asCategory(value) {
    if (isMissing(value)) {
      return null;
    }
    if (typeof value === "number") {
      if (Number.isInteger(value)) {
        // Python's str(int(v)) writes every digit; JavaScript switches to 1e+21 from 1e21.
        return Math.abs(value) < 1e21 || typeof BigInt !== "function" ? String(value) : BigInt(value).toString();
      }
      return String(value);
    }
    if (typeof value === "boolean") {
      return value ? "True" : "False";
    }
    return String(value);
  }

  function binOf(feature, kind) {
    for (var i = 0; i < feature.bins.length; i++) {
      if (feature.bins[i].kind === kind) {
        return feature.bins[i];
      }
    }
    return null;
  }

  function numericBin(feature, value) {
    if (isMissing(value)) {
      return binOf(feature, "missing").id;
    }
    var x = asNumber(feature.name, value);
    var bins = feature.bins, i, b;
    for (i = 0; i < bins.length; i++) {          // special values first, in bin order
      b = bins[i];
      if (b.kind === "special" && b.values.indexOf(x) >= 0) {
        return b.id;
      }
    }
    for (i = 0; i < bins.length; i++) {          // then the first range bin that holds it
      b = bins[i];
      if (b.kind !== "range") {
        continue;
      }
      var inside = true;
      if (b.lower !== null && b.lower !== undefined) {
        inside = inside && (b.lower_inclusive ? x >= b.lower : x > b.lower);
      }
      if (b.upper !== null && b.upper !== undefined) {
        inside = inside && (b.upper_inclusive ? x <= b.upper : x < b.upper);
      }
      if (inside) {
        return b.id;
      }
    }
    throw new Error("column '" + feature.name + "': " + x + " falls in no bin of the card");
  }

  function categoricalBin(feature, value) {
    var text = asCategory(value);
    if (text === null) {
      return {id: binOf(feature, "missing").id, unseen: false};
    }
    for (var i = 0; i < feature.bins.length; i++) {
      var b = feature.bins[i];
      if (b.kind === "categories" && b.categories.indexOf(text) >= 0) {
        return {id: b.id, unseen: false};
      }
    }
    return {id: feature.unseen.bin_id, unseen: true};
  }

  /* The points of the best bin of each feature among the bins that hold training applicants. */
  function bestPoints(feature) {
    var best = null;
    for (var i = 0; i < feature.bins.length; i++) {
      var b = feature.bins[i];
      if (b.count > 0 && (best === null || b.points > best)) {
        best = b.points;
      }
    }
    return best;
  }

  function score(card, applicant, nReasons) {
    var n = nReasons === undefined || nReasons === null ? 4 : nReasons;
    var features = card.features;
    var total = card.scaling.base_points;
    var points = {}, bins = {}, unseen = [], lost = [];
    for (var i = 0; i < features.length; i++) {
      var f = features[i];
      var value = applicant[f.name];
      var id;
      if (f.type === "numeric") {
        id = numericBin(f, value);
      } else {
        var hit = categoricalBin(f, value);
        id = hit.id;
        if (hit.unseen) {
          unseen.push(f.name);
        }
      }
      var p = f.bins[id].points;
      bins[f.name] = id;
      points[f.name] = p;
      total += p;
      lost.push({index: i, cost: bestPoints(f) - p});
    }
    // Most points lost first; ties keep the card's feature order (a stable sort, as card.py's
    // argsort(kind="stable")); features that cost nothing are not reasons.
    lost.sort(function (a, b) { return b.cost - a.cost || a.index - b.index; });
    var reasons = [];
    for (var k = 0; k < n && k < lost.length; k++) {
      if (lost[k].cost > 0) {
        var g = features[lost[k].index];
        reasons.push({code: g.reason_code, text: g.reason_text, feature: g.name, points_lost: lost[k].cost});
      }
    }
    return {score: total, points: points, bins: bins, reasons: reasons, unseen: unseen};
  }

  /* rules.py PolicyRule.check */
  function checkRule(rule, value) {
    if (isMissing(value)) {
      if (rule.if_missing === "pass") {
        return null;
      }
      return {rule: rule.id, reason_code: rule.reason_code, reason_text: rule.missing_reason_text || "",
              action: rule.if_missing, field: rule.field, value: null, missing: true};
    }
    var x = Number(value), t = rule.threshold, fires;
    switch (rule.operator) {
      case "<": fires = x < t; break;
      case "<=": fires = x <= t; break;
      case ">": fires = x > t; break;
      case ">=": fires = x >= t; break;
      default: throw new Error("policy rule '" + rule.id + "': unknown operator " + rule.operator);
    }
    if (!fires) {
      return null;
    }
    return {rule: rule.id, reason_code: rule.reason_code, reason_text: rule.reason_text,
            action: rule.action, field: rule.field, value: x, missing: false};
  }

  /* rules.py Rules.evaluate */
  function decide(rules, score, values) {
    values = values || {};
    var cut = rules.cutoffs;
    var fromScore = score < cut.decline_below ? "decline" : (score >= cut.approve_from ? "approve" : "refer");
    var hits = [], i;
    for (i = 0; i < rules.policy_rules.length; i++) {
      var rule = rules.policy_rules[i];
      var hit = checkRule(rule, Object.prototype.hasOwnProperty.call(values, rule.field) ? values[rule.field] : null);
      if (hit !== null) {
        hits.push(hit);
      }
    }
    var decision = fromScore;
    for (i = 0; i < hits.length; i++) {
      if (SEVERITY[hits[i].action] > SEVERITY[decision]) {
        decision = hits[i].action;
      }
    }
    var overriding = null;
    for (i = 0; i < hits.length; i++) {
      if (hits[i].action === decision) {
        overriding = hits[i];
        break;
      }
    }
    var bands = rules.score_bands, band = null;
    for (i = 0; i < bands.length; i++) {
      var upper = i + 1 < bands.length ? bands[i + 1].min_score : null;
      if ((bands[i].min_score === null || score >= bands[i].min_score) && (upper === null || score < upper)) {
        band = bands[i];
        break;
      }
    }
    return {score: score, band: band.band, score_decision: fromScore, decision: decision,
            policy_rule: overriding, policy_hits: hits,
            max_loan_amount: decision === "decline" ? 0 : band.max_loan_amount};
  }

  global.Scorecard = {score: score, decide: decide, asCategory: asCategory, isMissing: isMissing};
})(typeof window !== "undefined" ? window : this);
