/* The venue import's progress (loaded as a file: the Content-Security-Policy forbids inline scripts).
   The form is sent with XMLHttpRequest so that the page can show how much of the file has been sent,
   then that the server is checking and saving the rows; the server's answer (the rows imported, or the
   bad rows) then takes the place of the page's main part.  Without JavaScript the form posts as usual. */
(function () {
  'use strict';

  function show(box, stage) {
    Array.prototype.forEach.call(box.querySelectorAll('[data-stage]'), function (element) {
      element.hidden = element.getAttribute('data-stage') !== stage;
    });
  }

  function answered(xhr) {
    var page = xhr.response;
    var main = page && page.querySelector('main');
    if (!main) { return false; }
    document.title = page.title;
    document.querySelector('main').replaceWith(document.importNode(main, true));
    if (xhr.responseURL) { window.history.replaceState(null, '', xhr.responseURL); }
    var result = document.querySelector('#import-problems, main .messages');
    if (result) {
      result.setAttribute('tabindex', '-1');
      result.focus();
    }
    start();
    return true;
  }

  function send(form, box) {
    var bar = box.querySelector('progress');
    var button = form.querySelector('button[type="submit"]');
    var xhr = new XMLHttpRequest();
    button.disabled = true;
    box.hidden = false;
    bar.value = 0;
    show(box, 'sending');
    xhr.open('POST', form.action);
    xhr.responseType = 'document';
    xhr.upload.addEventListener('progress', function (event) {
      if (event.lengthComputable) { bar.value = Math.round((event.loaded * 100) / event.total); }
    });
    xhr.upload.addEventListener('load', function () {
      bar.removeAttribute('value');  // indeterminate while the server checks and saves the rows
      show(box, 'checking');
    });
    function failed() {
      bar.value = 0;
      show(box, 'failed');
      button.disabled = false;
    }
    xhr.addEventListener('load', function () { if (!answered(xhr)) { failed(); } });
    xhr.addEventListener('error', failed);
    xhr.send(new FormData(form));
  }

  function start() {
    var form = document.getElementById('import-form');
    var box = document.getElementById('import-progress');
    if (!form || !box || !window.FormData || !window.DOMParser) { return; }
    form.addEventListener('submit', function (event) {
      var file = form.querySelector('input[type="file"]');
      if (!file || !file.files || !file.files.length) { return; }  // the browser or the server says why
      event.preventDefault();
      send(form, box);
    });
  }

  start();
})();
