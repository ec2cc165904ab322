// Runs with the page, before the UI's wasm: the student's chosen theme at
// once (no light flash before a dark app), and — for the startup benchmark —
// a mark when the splash (index.html's static app shell) is on glass.
(() => {
  try {
    // The key and format of src/storage.rs's THEME.
    const theme = JSON.parse(localStorage.getItem('legitka.theme'));
    if (theme === 'light' || theme === 'dark') {
      document.documentElement.setAttribute('data-theme', theme);
    }
  } catch (_) {
    // Nothing remembered: the system's theme.
  }
  requestAnimationFrame(() =>
    requestAnimationFrame(() =>
      window.__TAURI__?.core.invoke('first_paint', { stage: 'splash' }).catch(() => {})));
})();
