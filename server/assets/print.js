// The print buttons of the books and the verification report (an external file: the
// Content-Security-Policy allows no inline script).
for (const button of document.querySelectorAll("[data-print]")) button.addEventListener("click", () => window.print());
