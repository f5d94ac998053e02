/* The door page's camera scanning of a card's QR code or Code 39 barcode.
 *
 * The scan block (.door-scan, inside the door form) is shown only where the browser can open a camera
 * (navigator.mediaDevices.getUserMedia, which needs https or localhost).  One tap on "Scan with the
 * camera" opens the rear camera; each frame is read by the browser's own BarcodeDetector where it has
 * one that knows QR codes or Code 39 (Chrome on Android, Safari 17+ on iOS), and otherwise by zxing-wasm
 * (ZXing-C++ compiled to WebAssembly), whose script and .wasm file the app serves itself
 * (data-decoder, data-wasm: copied from node_modules by `make scanner`; the door page's
 * Content-Security-Policy allows 'wasm-unsafe-eval' for it).  The first text that is a card code or a
 * signed QR payload fills the code field and sends the form (through door.js, which checks offline when
 * the server cannot be reached), so a scan takes one tap where typing takes a tap, ten characters and
 * another tap.  Typing stays available throughout; without JavaScript the block stays hidden.
 */
(function () {
  'use strict';

  var NATIVE_FORMATS = ['qr_code', 'code_39'];
  var ZXING_FORMATS = ['QRCode', 'Code39'];
  var FRAME_INTERVAL_MS = 150;
  var MAX_WIDTH = 1280;
  var CODE = /^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{10}$/;

  /* A scanned text the door form takes: a signed QR payload, or a card code with or without dashes. */
  function cardText(text) {
    var trimmed = String(text || '').trim();
    if (trimmed.indexOf('KK1.') === 0) { return trimmed; }
    var plain = trimmed.replace(/[\s-]/g, '').toUpperCase();
    return CODE.test(plain) ? plain : null;
  }

  function nativeDetector() {
    if (!('BarcodeDetector' in window)) { return Promise.resolve(null); }
    return Promise.resolve(window.BarcodeDetector.getSupportedFormats()).then(function (supported) {
      var formats = NATIVE_FORMATS.filter(function (f) { return supported.indexOf(f) !== -1; });
      if (!formats.length) { return null; }
      var detector = new window.BarcodeDetector({formats: formats});
      return {
        name: 'native',
        detect: function (canvas) {
          return detector.detect(canvas).then(function (found) {
            return found.map(function (code) { return code.rawValue; });
          });
        }
      };
    }, function () { return null; });
  }

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.src = url;
      script.async = true;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function zxingDetector(block) {
    var scriptUrl = block.getAttribute('data-decoder');
    var wasmUrl = block.getAttribute('data-wasm');
    if (!scriptUrl || !wasmUrl || !window.WebAssembly) { return Promise.resolve(null); }
    return loadScript(scriptUrl).then(function () {
      var zxing = window.ZXingWASM;
      zxing.prepareZXingModule({
        overrides: {
          locateFile: function (path, prefix) { return /\.wasm$/.test(path) ? wasmUrl : prefix + path; }
        },
        fireImmediately: true
      });
      var options = {formats: ZXING_FORMATS, tryHarder: true, maxNumberOfSymbols: 1};
      return {
        name: 'zxing',
        detect: function (canvas) {
          var image = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
          return zxing.readBarcodes(image, options).then(function (found) {
            return found.filter(function (r) { return r.isValid; }).map(function (r) { return r.text; });
          });
        }
      };
    }, function () { return null; });
  }

  function detector(block) {
    return nativeDetector().then(function (found) { return found || zxingDetector(block); });
  }

  function start() {
    var block = document.querySelector('.door-scan');
    var form = block && block.closest('form');
    if (!form || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
    if (!('BarcodeDetector' in window) && !block.getAttribute('data-decoder')) { return; }
    var input = form.querySelector('input[name="code"]');
    var startButton = block.querySelector('.scan-start');
    var stopButton = block.querySelector('.scan-stop');
    var video = block.querySelector('video');
    var status = block.querySelector('.scan-status');
    var canvas = document.createElement('canvas');
    var stream = null;
    var timer = null;
    var busy = false;
    block.hidden = false;

    function say(name) {
      var message = block.querySelector('[data-message="' + name + '"]');
      status.textContent = message ? message.textContent : '';
    }

    function stop() {
      if (timer) { clearInterval(timer); timer = null; }
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
      video.hidden = true;
      stopButton.hidden = true;
      startButton.hidden = false;
    }

    function found(text) {
      stop();
      input.value = text;
      block.setAttribute('data-scanned', text);
      say('found');
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }

    function scanWith(reader) {
      block.setAttribute('data-decoder-used', reader.name);
      timer = setInterval(function () {
        if (busy || !stream || video.readyState < 2 || !video.videoWidth) { return; }
        var scale = Math.min(1, MAX_WIDTH / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
        busy = true;
        reader.detect(canvas).then(function (texts) {
          busy = false;
          for (var i = 0; i < texts.length; i += 1) {
            var text = cardText(texts[i]);
            if (text && stream) { found(text); return; }
          }
        }, function () { busy = false; });
      }, FRAME_INTERVAL_MS);
    }

    startButton.addEventListener('click', function () {
      say('starting');
      startButton.hidden = true;
      navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}, audio: false}).then(
        function (opened) {
          stream = opened;
          video.srcObject = opened;
          video.hidden = false;
          stopButton.hidden = false;
          return video.play().then(function () { return detector(block); }).then(function (reader) {
            if (!reader) { stop(); say('unsupported'); return; }
            say('scanning');
            scanWith(reader);
          });
        },
        function () { stop(); say('denied'); }
      );
    });
    stopButton.addEventListener('click', function () { stop(); say(''); input.focus(); });
    window.addEventListener('pagehide', stop);
  }

  window.kaikuDoorScan = {cardText: cardText};
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
