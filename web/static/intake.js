// Remedy's offline intake. A report is sealed and kept on the phone before
// anything is sent: the child's identity and the narrative are sealed with
// age to the server's recipient (seal.js), so that the phone never keeps
// them in the clear. Waiting reports are sent on page load, on the online
// event and with the button, each with its own Idempotency-Key, so that a
// report sent twice is filed once.
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) { return; }
  document.getElementById("intake-nojs").hidden = true;
  var queueEl = document.getElementById("intake-queue");
  var sendBtn = document.getElementById("intake-send");
  var banner = document.getElementById("intake-offline");
  var msgs = document.getElementById("intake-msgs").dataset;
  var endpoint = form.dataset.endpoint;
  var recipient = form.dataset.recipient;
  var csrf = form.dataset.csrf;
  // A phone may be shared: each report is sent only in its own auditor's
  // session, and shown only to them.
  var user = form.dataset.user;
  var DB = "remedy-intake", STORE = "reports", MAGIC = "remedy-intake/v1\n";
  var sending = false;

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var out = fn(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }
  function all() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (list) {
      return (list || []).filter(function (r) { return r.user === user; }).sort(function (a, b) { return a.created < b.created ? -1 : 1; });
    });
  }
  function put(entry) { return tx("readwrite", function (s) { s.put(entry); }); }
  function remove(key) { return tx("readwrite", function (s) { s.delete(key); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }
  function val(id) { var el = document.getElementById("f-intake-" + id); return el ? el.value.trim() : ""; }
  function optionText(id) {
    var el = document.getElementById("f-intake-" + id);
    return el && el.selectedIndex > 0 ? el.options[el.selectedIndex].text : "";
  }

  // The facts, as a form's values; sealed inputs have no name and are not among them.
  function facts() {
    var out = {};
    new FormData(form).forEach(function (v, k) {
      if (k === "csrf") { return; }
      (out[k] = out[k] || []).push(String(v));
    });
    return out;
  }
  // The identity and the narrative, as the API's filing names them.
  function secret() {
    var id = {
      full_name: val("full_name"), claimed_birth_date: val("claimed_birth_date"), id_document_type: val("id_document_type"),
      id_number: val("id_number"), id_suspected: val("id_suspected"), hometown: val("hometown"), address: val("address"),
      phone: val("phone"), other_names: [], guardians: [], apparent_age: null
    };
    val("other_names").split(/[,，、;；]/).forEach(function (n) { if (n.trim()) { id.other_names.push(n.trim()); } });
    if (val("apparent_age") !== "") { id.apparent_age = parseInt(val("apparent_age"), 10); }
    [1, 2].forEach(function (i) {
      var g = { name: val("guardian" + i + "_name"), relation: val("guardian" + i + "_relation"), phone: val("guardian" + i + "_phone") };
      if (g.name || g.phone) { id.guardians.push(g); }
    });
    return { identity: id, narrative: val("narrative") };
  }

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    document.getElementById("f-intake-summary").textContent = "";
  }
  // What can be checked on the phone is checked before the report is
  // sealed: once sealed, its identity cannot be read back to correct it.
  function check() {
    var bad = [];
    ["client_id", "factory_id", "found_on", "gender", "recruitment"].forEach(function (f) { if (!val(f)) { bad.push(f); } });
    if (!val("full_name") && !val("claimed_birth_date") && !val("apparent_age")) { bad.push("identity"); }
    bad.forEach(function (f) {
      var err = document.getElementById("f-intake-" + f + "-error");
      if (err) { err.textContent = form.dataset["required"] || msgs.invalid; }
      var input = document.getElementById("f-intake-" + f);
      if (input) { input.setAttribute("aria-invalid", "true"); }
    });
    if (bad.length) { document.getElementById("f-intake-summary").textContent = msgs.invalid; }
    return bad.length === 0;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    if (!check()) { return; }
    var key = newKey();
    var label = [optionText("client_id"), optionText("factory_id"), val("found_on")].filter(Boolean).join(" · ");
    var plain = MAGIC + key + "\n" + JSON.stringify(secret());
    var sealing;
    try { sealing = window.RemedySeal.seal(recipient, plain); } catch (err) { sealing = Promise.reject(err); }
    sealing.then(function (sealed) {
      plain = null;
      var body = JSON.stringify({ fields: facts(), sealed: sealed });
      return put({ key: key, user: user, created: new Date().toISOString(), label: label, body: body, status: "waiting" });
    }).then(function () {
      form.reset();
      document.getElementById("f-intake-summary").textContent = msgs.saved;
      return render();
    }).then(sendAll).catch(function () {
      document.getElementById("f-intake-summary").textContent = msgs.sealfail;
    });
  });

  function render() {
    return all().then(function (list) {
      queueEl.textContent = "";
      if (!list.length) {
        var li = document.createElement("li");
        li.className = "empty";
        li.textContent = msgs.empty;
        queueEl.appendChild(li);
      }
      list.forEach(function (r) {
        var li = document.createElement("li");
        li.dataset.key = r.key;
        li.dataset.status = r.status;
        var label = document.createElement("span");
        label.className = "meta";
        label.textContent = r.label + " · " + new Date(r.created).toLocaleString();
        var status = document.createElement("span");
        status.className = "status status-" + r.status;
        if (r.status === "filed") {
          status.textContent = msgs.filed + " " + r.code;
        } else if (r.status === "refused") {
          status.textContent = msgs.refused;
        } else {
          status.textContent = r.note === "signin" ? msgs.signin : msgs.waiting;
        }
        li.appendChild(status);
        li.appendChild(label);
        if (r.status === "refused") {
          var ul = document.createElement("ul");
          Object.keys(r.errors || {}).forEach(function (k) {
            var item = document.createElement("li");
            item.textContent = r.errors[k];
            ul.appendChild(item);
          });
          (r.summary || []).forEach(function (s) {
            var item = document.createElement("li");
            item.textContent = s;
            ul.appendChild(item);
          });
          li.appendChild(ul);
        }
        if (r.status !== "waiting") {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "link";
          b.textContent = msgs.remove;
          b.addEventListener("click", function () { remove(r.key).then(render); });
          li.appendChild(b);
        }
        queueEl.appendChild(li);
      });
    });
  }

  function sendOne(r) {
    return fetch(endpoint, {
      method: "POST", credentials: "same-origin", redirect: "manual", cache: "no-store",
      headers: { "Content-Type": "application/json", "Idempotency-Key": r.key, "X-CSRF-Token": csrf },
      body: r.body
    }).then(function (res) {
      if (res.type === "opaqueredirect" || res.status === 401 || res.status === 403) {
        r.note = "signin";
        return put(r);
      }
      if (res.status === 200 || res.status === 201) {
        return res.json().then(function (a) {
          // Filed: nothing of the report stays on the phone but its code.
          return put({ key: r.key, user: r.user, created: r.created, label: r.label, status: "filed", code: a.code });
        });
      }
      if (res.status === 422) {
        return res.json().then(function (a) {
          return put({ key: r.key, user: r.user, created: r.created, label: r.label, status: "refused", errors: a.errors, summary: a.summary });
        });
      }
      return null; // the server failed: the report waits for the next try
    });
  }

  function sendAll() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    sendBtn.disabled = true;
    return all().then(function (list) {
      var waiting = list.filter(function (r) { return r.status === "waiting"; });
      return waiting.reduce(function (p, r) {
        return p.then(function () { return sendOne(r); });
      }, Promise.resolve());
    }).then(function () {
      banner.hidden = true;
    }, function () {
      banner.hidden = false; // no connection: the reports wait
    }).then(function () {
      sending = false;
      sendBtn.disabled = false;
      return render();
    });
  }

  sendBtn.addEventListener("click", sendAll);
  window.addEventListener("online", sendAll);
  window.addEventListener("offline", function () { banner.hidden = false; });
  if (!navigator.onLine) { banner.hidden = false; }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/intake/sw.js", { scope: "/intake/" }).catch(function () {});
  }
  render().then(sendAll);
})();
