// Keying paper ballots: Enter in the serial field (typed, or a scanner's Enter after the QR code)
// moves on to the choices instead of sending the form half empty.  Without JavaScript the server
// answers a serial alone with the sheet and the cursor in the choices: the same flow, one more trip.
(function () {
  "use strict";
  var form = document.querySelector("form[data-paper-entry]");
  if (!form) { return; }
  var serial = form.querySelector("input[name=serial]");
  var choices = form.querySelector("input[name=choices]");
  if (!serial || !choices) { return; }
  serial.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && serial.value.trim() !== "" && choices.value.trim() === "") {
      event.preventDefault();
      choices.focus();
    }
  });
})();
