/* The admin's Reports page: three charts from the figures in #report-data (json_script). */
"use strict";

(function () {
  const STATUS_COLOURS = {
    pending: "#f0ad4e",
    confirmed: "#337ab7",
    rejected: "#8e44ad",
    cancelled: "#999999",
    rescheduled: "#5bc0de",
    completed: "#5cb85c",
    no_show: "#d9534f",
  };

  function draw() {
    const data = JSON.parse(document.getElementById("report-data").textContent);
    const doctorNames = (rows) => rows.map((row) => row.doctor_name);
    const integerAxis = { beginAtZero: true, ticks: { precision: 0 } };
    const common = { responsive: true, maintainAspectRatio: false, animation: false };

    new Chart(document.getElementById("chart-per-day"), {
      type: "bar",
      data: {
        labels: data.per_day.map((day) => day.date),
        datasets: data.statuses.map((status) => ({
          label: status.label,
          data: data.per_day.map((day) => day[status.key]),
          backgroundColor: STATUS_COLOURS[status.key],
        })),
      },
      options: {
        ...common,
        scales: { x: { stacked: true }, y: { ...integerAxis, stacked: true } },
      },
    });

    new Chart(document.getElementById("chart-no-shows"), {
      type: "bar",
      data: {
        labels: doctorNames(data.no_shows.by_doctor),
        datasets: [
          {
            label: "No-shows",
            data: data.no_shows.by_doctor.map((row) => row.count),
            backgroundColor: STATUS_COLOURS.no_show,
          },
        ],
      },
      options: { ...common, indexAxis: "y", scales: { x: integerAxis } },
    });

    const rated = data.doctors.filter((row) => row.mean_rating !== null);
    new Chart(document.getElementById("chart-ratings"), {
      type: "bar",
      data: {
        labels: doctorNames(rated),
        datasets: [
          {
            label: "Mean rating (1-5)",
            data: rated.map((row) => row.mean_rating),
            backgroundColor: "#417690",
          },
        ],
      },
      options: {
        ...common,
        indexAxis: "y",
        scales: { x: { min: 0, max: 5 } },
        plugins: {
          tooltip: {
            callbacks: {
              afterLabel: (item) => `${rated[item.dataIndex].rating_count} rating(s)`,
            },
          },
        },
      },
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
