// Applies the saved theme before the first paint (a module script would run after it).
(function () {
  try {
    var t = localStorage.getItem("ampp.theme");
    if (t === "dark" || t === "light") document.documentElement.dataset.theme = t;
  } catch (e) { /* storage disabled: follow the system */ }
})();
