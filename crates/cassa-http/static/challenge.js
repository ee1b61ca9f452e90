// The spontaneous-payment form's automatic check: finds the number whose
// SHA-256 (with the challenge's salt) is the challenge, as the ALTCHA
// protocol asks, while the citizen fills in the form. The server checks
// the answer (src/portal/challenge.rs). Status changes are announced
// through the role="status" paragraph.
(function () {
  "use strict";
  var box = document.querySelector("[data-challenge]");
  if (!box) return;
  var form = box.closest("form");
  var input = box.querySelector("input[name=altcha]");
  var status = box.querySelector("[data-challenge-status]");
  var challenge = JSON.parse(box.getAttribute("data-challenge"));
  var solved = false;
  var waiting = false;
  function say(key) { status.textContent = box.getAttribute("data-" + key); }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }
  if (!window.crypto || !window.crypto.subtle || !window.TextEncoder) {
    say("failed");
    return;
  }
  var encoder = new TextEncoder();
  async function solve() {
    for (var n = 0; n <= challenge.maxnumber; n++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) return n;
    }
    return null;
  }
  form.addEventListener("submit", function (event) {
    if (solved) return;
    event.preventDefault();
    waiting = true;
    say("working");
  });
  say("working");
  solve().then(function (number) {
    if (number === null) { say("failed"); return; }
    input.value = btoa(JSON.stringify({
      algorithm: challenge.algorithm,
      challenge: challenge.challenge,
      number: number,
      salt: challenge.salt,
      signature: challenge.signature
    }));
    solved = true;
    say("done");
    if (waiting) form.submit();
  }, function () { say("failed"); });
})();
