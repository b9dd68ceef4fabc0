// Fold the source of each exercise solution (a notebook cell tagged "solution") into a <details> block.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".jupyter-wrapper .celltag_solution .jp-Cell-inputWrapper").forEach(function (input) {
    var details = document.createElement("details");
    details.className = "solution-toggle";
    var summary = document.createElement("summary");
    summary.textContent = "Show the solution";
    details.appendChild(summary);
    input.parentNode.insertBefore(details, input);
    details.appendChild(input);
  });
});
