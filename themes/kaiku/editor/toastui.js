// The rich-text editor's bundle (built by `make editor-assets` into static/vendor/, not served from here):
// Toast UI Editor with its Finnish and Swedish interface texts, as the global `toastui.Editor`.
import Editor from '@toast-ui/editor';
import '@toast-ui/editor/dist/i18n/fi-fi';
import '@toast-ui/editor/dist/i18n/sv-se';

window.toastui = { Editor: Editor };
