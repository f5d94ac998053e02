/* Editing helpers for logged-in users, loaded as a file so the Content-Security-Policy can forbid inline
   scripts.  Sequence fields (deform): add an item from the prototype, remove an item, move one up. */
(function () {
  'use strict';
  var counter = 0;

  function freshIds(html) {
    counter += 1;
    var suffix = '-n' + Date.now().toString(36) + counter;
    return html.replace(/(deformField\d+)/g, '$1' + suffix);
  }

  function addItem(button) {
    var seq = button.closest('.deform-seq');
    var proto = seq.querySelector('.deform-proto');
    var container = seq.querySelector('.deform-seq-container');
    var max = parseInt(seq.getAttribute('data-max-len') || '100000', 10);
    if (container.querySelectorAll(':scope > .deform-seq-item').length >= max) { return; }
    var html = freshIds(decodeURIComponent(proto.getAttribute('prototype')));
    var holder = document.createElement('div');
    holder.innerHTML = html;
    var marker = container.querySelector(':scope > .deform-insert-before');
    while (holder.firstChild) { container.insertBefore(holder.firstChild, marker); }
    var inputs = container.querySelectorAll('input, textarea, select');
    if (inputs.length) { inputs[inputs.length - 1].focus(); }
  }

  document.addEventListener('click', function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var add = target.closest('.deform-seq-add');
    if (add) { event.preventDefault(); addItem(add); return; }
    var remove = target.closest('.deform-close-button');
    if (remove) { event.preventDefault(); remove.closest('.deform-seq-item').remove(); return; }
    var up = target.closest('.deform-move-up');
    if (up) {
      event.preventDefault();
      var item = up.closest('.deform-seq-item');
      var previous = item.previousElementSibling;
      if (previous && previous.classList.contains('deform-seq-item')) {
        item.parentNode.insertBefore(item, previous);
        up.focus();
      }
    }
  });
})();
