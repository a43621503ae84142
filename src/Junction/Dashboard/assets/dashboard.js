// Draws every <canvas data-chart="{…}"> with Chart.js (vendored), and again after htmx swaps content in.
(function () {
  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var spec = JSON.parse(canvas.dataset.chart);
      spec.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: 'bottom' } }, scales: spec.type === 'bar' ? { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } : { y: { beginAtZero: true } } }, spec.options || {});
      new window.Chart(canvas, spec);
      canvas.dataset.drawn = '1';
    });
  }
  document.addEventListener('DOMContentLoaded', function () { draw(document); });
  document.addEventListener('htmx:afterSwap', function (e) { draw(e.target); });
})();
