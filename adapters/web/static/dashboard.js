// Draws the metrics page's charts from the JSON the server embedded (Chart.js, vendored).
"use strict";

(function () {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  // No animation: the numbers are the point, and a chart drawn at once is what tests can see.
  const common = { animation: false, responsive: true, maintainAspectRatio: false };

  new Chart(document.getElementById("deployments-chart"), {
    type: "bar",
    data: {
      labels: data.deployments.labels,
      datasets: data.deployments.datasets.map((set) => ({
        label: set.label,
        data: set.data,
        backgroundColor: set.color,
      })),
    },
    options: {
      ...common,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });

  new Chart(document.getElementById("failure-chart"), {
    type: "bar",
    data: {
      labels: data.failure.labels,
      datasets: [{ label: "change failure rate %", data: data.failure.data, backgroundColor: "#c62828" }],
    },
    options: { ...common, indexAxis: "y", scales: { x: { beginAtZero: true, max: 100 } } },
  });
})();
