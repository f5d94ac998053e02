/* The door page's offline check of a card's signed QR code.
 *
 * A card's QR code carries "KK1.<code>.<yyyymmdd>.<children>.<signature>", signed with the registry's
 * Ed25519 key (kaiku_registry/codes.py).  The door page holds the public key in its form's
 * data-public-key attribute.  When the form is sent, this script first asks the server whether it
 * answers (/healthz); if it does, the form is sent as usual and the registry's answer is the one that
 * counts.  If it does not (no network, navigator.onLine false, the server or its database down), the
 * scanned QR code is checked here, with WebCrypto's Ed25519 (Chromium 137 and later, Firefox 129,
 * Safari 17): the signature, the check character of the code and the last day of validity in Finnish
 * time.  The result says plainly that it was checked offline and that the visit is to be recorded when
 * the connection is back.  Loaded as a file so the Content-Security-Policy can forbid inline scripts;
 * without JavaScript the form works as before.
 */
(function () {
  'use strict';

  var ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  var PREFIX = 'KK1';
  var PROBE_TIMEOUT_MS = 4000;

  function base64UrlBytes(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) { throw new Error('not base64url'); }
    var plain = text.replace(/-/g, '+').replace(/_/g, '/');
    while (plain.length % 4) { plain += '='; }
    var binary = atob(plain);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  /* The Luhn mod N check character over ALPHABET, as codes.check_character computes it. */
  function checkCharacter(body) {
    var n = ALPHABET.length;
    var factor = 2;
    var total = 0;
    for (var i = body.length - 1; i >= 0; i -= 1) {
      var addend = factor * ALPHABET.indexOf(body.charAt(i));
      factor = factor === 2 ? 1 : 2;
      total += Math.floor(addend / n) + (addend % n);
    }
    return ALPHABET.charAt((n - (total % n)) % n);
  }

  function isCardCode(code) {
    if (!/^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{10}$/.test(code)) { return false; }
    return checkCharacter(code.slice(0, 9)) === code.charAt(9);
  }

  function realDate(yyyymmdd) {
    if (!/^\d{8}$/.test(yyyymmdd)) { return false; }
    var year = +yyyymmdd.slice(0, 4);
    var month = +yyyymmdd.slice(4, 6);
    var day = +yyyymmdd.slice(6, 8);
    var date = new Date(Date.UTC(year, month - 1, day));
    return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  }

  /* Today in Finland as yyyymmdd: whether a card is valid is decided in Finnish time. */
  function helsinkiToday(now) {
    var parts = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/Helsinki', year: 'numeric', month: '2-digit', day: '2-digit'
    }).formatToParts(now || new Date());
    var get = function (type) { return parts.filter(function (p) { return p.type === type; })[0].value; };
    return get('year') + get('month') + get('day');
  }

  function isPayload(text) {
    return text.trim().indexOf(PREFIX + '.') === 0;
  }

  /* Check a scanned payload against the base64url public key.  Resolves to
   * {status: 'valid' | 'expired' | 'invalid' | 'unsupported', code, until, children}. */
  function check(payload, publicKey, today) {
    var parts = payload.trim().split('.');
    var invalid = Promise.resolve({status: 'invalid'});
    if (parts.length !== 5 || parts[0] !== PREFIX || !isCardCode(parts[1]) || !/^\d{1,2}$/.test(parts[3]) ||
        !realDate(parts[2])) {
      return invalid;
    }
    var signature;
    var key;
    try {
      signature = base64UrlBytes(parts[4]);
      key = base64UrlBytes(publicKey || '');
    } catch (error) {
      return invalid;
    }
    if (signature.length !== 64) { return invalid; }
    if (key.length !== 32 || !window.crypto || !window.crypto.subtle) {
      return Promise.resolve({status: 'unsupported'});
    }
    var message = new TextEncoder().encode(parts.slice(0, 4).join('.'));
    var result = {code: parts[1], until: parts[2], children: parseInt(parts[3], 10)};
    return window.crypto.subtle.importKey('raw', key, {name: 'Ed25519'}, false, ['verify']).then(
      function (imported) {
        return window.crypto.subtle.verify({name: 'Ed25519'}, imported, signature, message).then(
          function (good) {
            if (!good) { return {status: 'invalid'}; }
            result.status = (today || helsinkiToday()) > result.until ? 'expired' : 'valid';
            return result;
          },
          function () { return {status: 'invalid'}; }
        );
      },
      function () { return {status: 'unsupported'}; }
    );
  }

  /* True when the server and its database answer within PROBE_TIMEOUT_MS. */
  function serverAnswers(url) {
    if (navigator.onLine === false || !window.fetch) { return Promise.resolve(navigator.onLine !== false); }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, PROBE_TIMEOUT_MS) : null;
    return fetch(url, {cache: 'no-store', credentials: 'same-origin', signal: controller && controller.signal})
      .then(function (response) { return response.ok; }, function () { return false; })
      .then(function (ok) { if (timer) { clearTimeout(timer); } return ok; });
  }

  /* A day of the QR code as the reader's language writes it, as the server's pages do (portal/clock.py:
     CLDR's short date of fi_FI, sv_FI or en_GB: 5.12.2026, 5.12.2026, 05/12/2026). */
  var LOCALES = {fi: 'fi-FI', sv: 'sv-FI', en: 'en-GB'};
  function formatDay(yyyymmdd) {
    var day = new Date(Date.UTC(+yyyymmdd.slice(0, 4), +yyyymmdd.slice(4, 6) - 1, +yyyymmdd.slice(6, 8)));
    var locale = LOCALES[document.documentElement.lang] || LOCALES.fi;
    return new Intl.DateTimeFormat(locale, {timeZone: 'UTC', year: 'numeric', month: 'numeric', day: 'numeric'})
      .format(day);
  }

  function show(box, outcome, result) {
    var classes = {valid: 'status-valid', expired: 'status-expired'};
    box.className = 'status offline-result ' + (classes[outcome] || 'status-unknown');
    Array.prototype.forEach.call(box.querySelectorAll('[data-outcome]'), function (element) {
      element.hidden = element.getAttribute('data-outcome').split(' ').indexOf(outcome) === -1;
    });
    Array.prototype.forEach.call(box.querySelectorAll('[data-fill]'), function (element) {
      var name = element.getAttribute('data-fill');
      if (result && result[name] !== undefined) {
        element.textContent = name === 'until' ? formatDay(result.until) : String(result[name]);
      }
    });
    Array.prototype.forEach.call(document.querySelectorAll('.server-result'), function (element) {
      element.hidden = true;
    });
    box.hidden = false;
    box.focus();
  }

  function start() {
    var form = document.querySelector('form.door-form[data-public-key]');
    var box = document.getElementById('offline-result');
    if (!form || !box) { return; }
    var input = form.querySelector('input[name="code"]');
    var sending = false;
    form.addEventListener('submit', function (event) {
      if (sending) { return; }
      event.preventDefault();
      var text = input.value;
      serverAnswers(form.getAttribute('data-health-url')).then(function (up) {
        if (up) {
          sending = true;
          form.submit();
          return;
        }
        if (!isPayload(text)) {
          show(box, 'typed');
          return;
        }
        check(text, form.getAttribute('data-public-key')).then(function (result) {
          show(box, result.status, result);
        });
      });
    });
  }

  window.kaikuDoor = {check: check, helsinkiToday: helsinkiToday, formatDay: formatDay};
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
