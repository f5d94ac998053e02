/* The contents view: reorder by dragging a row.  A progressive enhancement of the "Move ... to position"
   form, which stays the way to do it by keyboard: a drop fills that form and sends it, so the server
   checks and records a drag exactly as a typed position.  A file, so the Content-Security-Policy can
   forbid inline scripts. */
(function () {
  'use strict';
  var form = document.getElementById('position-form');
  var table = document.querySelector('table.contents');
  if (!form || !table) { return; }
  var dragged = null;

  function clearTargets() {
    table.querySelectorAll('.drop-target').forEach(function (row) { row.classList.remove('drop-target'); });
  }

  table.querySelectorAll('tbody tr[data-name]').forEach(function (row) {
    row.setAttribute('draggable', 'true');
    row.classList.add('draggable');
    row.addEventListener('dragstart', function (event) {
      dragged = row;
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', row.getAttribute('data-name'));
      row.classList.add('dragging');
    });
    row.addEventListener('dragend', function () {
      row.classList.remove('dragging');
      clearTargets();
      dragged = null;
    });
    row.addEventListener('dragover', function (event) {
      if (dragged && dragged !== row) {
        event.preventDefault();
        clearTargets();
        row.classList.add('drop-target');
      }
    });
    row.addEventListener('drop', function (event) {
      event.preventDefault();
      if (!dragged || dragged === row) { return; }
      form.elements.move_to.value = dragged.getAttribute('data-name');
      form.elements.position.value = row.getAttribute('data-position');
      form.submit();
    });
  });
})();
