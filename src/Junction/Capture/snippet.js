/* Junction landing-page snippet: keeps the first and the latest UTM touch in a first-party cookie
   (30 days; only after consent when required), fills hidden fields of forms marked data-junction,
   and adds a purchase token to links marked data-junction-checkout. See README "Landing pages". */
(function (w, d) {
  "use strict";
  if (w.junction && w.junction.version) return;
  var defaults = /*JUNCTION_DEFAULTS*/{};
  var me = d.currentScript || d.querySelector("script[src*='snippet.js']") || { getAttribute: function () { return null; }, hasAttribute: function () { return false; } };
  var attr = function (name) { return me.getAttribute(name); };
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var TOUCH = UTM.concat(["referrer", "landing_page"]);
  var cookieName = attr("data-cookie") || "junction";
  var days = parseInt(attr("data-days") || "30", 10) || 30;
  var domain = attr("data-domain");
  var consentAttr = attr("data-require-consent");
  var requireConsent = consentAttr === null ? !!defaults.requireConsent : consentAttr !== "false";

  function random(prefix) {
    var bytes = new Uint8Array(12), out = "";
    (w.crypto || w.msCrypto).getRandomValues(bytes);
    for (var i = 0; i < bytes.length; i++) out += ("0" + bytes[i].toString(16)).slice(-2);
    return prefix + out;
  }

  function readCookie() {
    var parts = d.cookie ? d.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === cookieName) {
        try { return JSON.parse(decodeURIComponent(parts[i].slice(eq + 1))); } catch (e) { return null; }
      }
    }
    return null;
  }

  function writeCookie(value) {
    var c = cookieName + "=" + encodeURIComponent(JSON.stringify(value)) + "; path=/; max-age=" + days * 86400 + "; SameSite=Lax";
    if (domain) c += "; domain=" + domain;
    if (w.location.protocol === "https:") c += "; Secure";
    d.cookie = c;
  }

  // The touch this page view carries: only when the URL has utm_* (a page without them keeps the
  // cookie as it is, so internal navigation and redirects that drop the query lose nothing).
  function touchFromUrl() {
    var params, t = {}, any = false;
    try { params = new URLSearchParams(w.location.search); } catch (e) { return null; }
    for (var i = 0; i < UTM.length; i++) {
      var v = params.get(UTM[i]);
      if (v) { t[UTM[i]] = v.slice(0, 200); any = true; }
    }
    if (!any) return null;
    if (d.referrer) t.referrer = d.referrer.slice(0, 500);
    t.landing_page = w.location.href.slice(0, 500);
    return t;
  }

  var stored = readCookie();
  var consented = !requireConsent || !!stored;
  var state = stored || {};
  var touch = touchFromUrl();
  if (touch) {
    if (!state.first) state.first = touch;
    state.last = touch;
  }
  if (!state.token) state.token = random("jt_");
  if (!state.anon) state.anon = random("ja_");
  var dirty = touch !== null || !stored;
  if (consented && dirty) writeCookie(state);

  function values() {
    var v = {}, first = state.first || {}, last = state.last || {};
    for (var i = 0; i < TOUCH.length; i++) {
      if (last[TOUCH[i]]) v[TOUCH[i]] = last[TOUCH[i]];
      if (first[TOUCH[i]]) v["first_" + TOUCH[i]] = first[TOUCH[i]];
    }
    if (!v.referrer && d.referrer) v.referrer = d.referrer.slice(0, 500);
    if (!v.landing_page) v.landing_page = w.location.href.slice(0, 500);
    v.purchase_token = state.token;
    // A device id only once it lives in a cookie (after consent, when consent is required).
    if (consented) v.anonymous_id = state.anon;
    return v;
  }

  var submission = random("js_");

  function fillForm(form) {
    var v = values();
    v.submission_id = submission;
    for (var name in v) {
      if (!Object.prototype.hasOwnProperty.call(v, name)) continue;
      var input = form.querySelector("input[name='" + name + "']");
      if (!input) {
        input = d.createElement("input");
        input.type = "hidden";
        input.name = name;
        form.appendChild(input);
      }
      if (input.type === "hidden" || !input.value) input.value = v[name];
    }
  }

  function fillLink(a) {
    var param = a.getAttribute("data-junction-checkout") || "purchase_token";
    if (!/^[A-Za-z0-9_\-\[\]]+$/.test(param)) return;
    try {
      var url = new URL(a.getAttribute("href"), w.location.href);
      url.searchParams.set(param, state.token);
      a.setAttribute("href", url.toString());
    } catch (e) { /* not a URL: leave it */ }
  }

  function fillAll() {
    var forms = d.querySelectorAll("form[data-junction]");
    for (var i = 0; i < forms.length; i++) fillForm(forms[i]);
    var links = d.querySelectorAll("a[data-junction-checkout]");
    for (var j = 0; j < links.length; j++) fillLink(links[j]);
  }

  // Filled again at the last moment, for forms and links added after load or consent given late.
  d.addEventListener("submit", function (e) {
    if (e.target && e.target.matches && e.target.matches("form[data-junction]")) fillForm(e.target);
  }, true);
  d.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("a[data-junction-checkout]") : null;
    if (a) fillLink(a);
  }, true);

  w.junction = {
    version: 1,
    /* The visitor agreed: keep the touches (this page's included) in the cookie from now on. */
    consent: function () {
      consented = true;
      writeCookie(state);
      fillAll();
    },
    /* The visitor withdrew: forget the cookie. */
    revoke: function () {
      consented = false;
      d.cookie = cookieName + "=; path=/; max-age=0" + (domain ? "; domain=" + domain : "");
    },
    values: values,
    fill: fillAll
  };

  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", fillAll);
  else fillAll();
})(window, document);
