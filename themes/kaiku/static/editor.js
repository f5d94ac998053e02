/* The rich-text editor of bodies: each body field (a Markdown textarea) gets a Toast UI Editor beside it,
   loaded as files so the Content-Security-Policy can forbid inline scripts and styles.  The editor reads
   and writes Markdown, so what is saved is the same Markdown the server sanitises on write, and its
   "Markdown" tab shows the source.  The textarea stays in the form and is filled from the editor when the
   form is sent, only when the text was changed, so an untouched body is saved exactly as it was.  The
   tab a person chose (rich text or Markdown) is remembered in this browser; Tab leaves the editor.  Without the editor's files
   the textarea is used as before. */
(function () {
  'use strict';
  if (!window.toastui || !window.toastui.Editor) { return; }
  var LANGUAGES = { fi: 'fi-FI', sv: 'sv-SE', en: 'en-US' };
  var MODE_KEY = 'kaiku-editor-mode';
  // The name of the toolbar's "more tools" button, translated by the page (form_page.pt).
  var MORE_TOOLS = (document.currentScript && document.currentScript.getAttribute('data-more-tools')) || '';

  function storedMode() {
    try { return window.localStorage.getItem(MODE_KEY) === 'markdown' ? 'markdown' : 'wysiwyg'; }
    catch (e) { return 'wysiwyg'; }
  }

  function rememberMode(mode) {
    try { window.localStorage.setItem(MODE_KEY, mode); } catch (e) { /* private browsing */ }
  }

  function label(editable, labelId, lang) {
    editable.setAttribute('aria-labelledby', labelId);
    editable.setAttribute('aria-multiline', 'true');
    editable.setAttribute('role', 'textbox');
    if (lang) { editable.setAttribute('lang', lang); }
  }

  function enhance(textarea) {
    var holder = document.createElement('div');
    holder.className = 'rich-text-editor';
    textarea.parentNode.insertBefore(holder, textarea.nextSibling);
    textarea.hidden = true;
    var changed = false;
    var editor = new window.toastui.Editor({
      el: holder,
      initialValue: textarea.value,
      initialEditType: storedMode(),
      previewStyle: 'tab',
      height: '28rem',
      usageStatistics: false,
      autofocus: false,
      language: LANGUAGES[document.documentElement.lang] || 'en-US',
      toolbarItems: [['heading'], ['ul', 'ol'], ['table', 'link']],
      hideModeSwitch: true,
      events: {
        change: function () { changed = true; }
      }
    });
    // Tab and Shift+Tab move the focus on, as in any other field, instead of indenting inside the editor:
    // held back from the editor (before it sees them), they keep their default, so the editor is no
    // keyboard trap (WCAG 2.1.2).
    holder.addEventListener('keydown', function (event) {
      if (event.key === 'Tab' && !event.ctrlKey && !event.altKey && !event.metaKey) {
        event.stopPropagation();
      }
    }, true);
    // The editor's own switch between rich text and Markdown is made of divs a keyboard cannot reach: a
    // toggle button takes its place ("Markdown" reads the same in Finnish, Swedish and English).
    var toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.className = 'btn btn-small editor-mode';
    toggle.textContent = 'Markdown';
    function showMode() { toggle.setAttribute('aria-pressed', String(editor.isMarkdownMode())); }
    toggle.addEventListener('click', function () {
      var mode = editor.isMarkdownMode() ? 'wysiwyg' : 'markdown';
      editor.changeMode(mode);
      rememberMode(mode);
      showMode();
    });
    holder.parentNode.insertBefore(toggle, holder);
    showMode();
    // The editor (re)draws its toolbar when it narrows: name its "more" button each time.
    function nameMoreButtons() {
      holder.querySelectorAll('button.more:not([aria-label])').forEach(function (button) {
        button.setAttribute('aria-label', MORE_TOOLS);
      });
    }
    new MutationObserver(nameMoreButtons).observe(holder, { childList: true, subtree: true });
    nameMoreButtons();
    var labelId = 'req-' + textarea.id;
    holder.querySelectorAll('[contenteditable=true]').forEach(function (editable) {
      label(editable, labelId, textarea.getAttribute('lang'));
    });
    textarea.form.addEventListener('submit', function () {
      if (changed) { textarea.value = editor.getMarkdown(); }
    });
  }

  document.querySelectorAll('form textarea[name="body"]').forEach(enhance);
})();
