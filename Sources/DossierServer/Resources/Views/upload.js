// Uploads a document with a progress bar; without this script the form posts as usual.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const progress = document.getElementById("upload-progress");
  const error = document.getElementById("upload-error");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.hidden = true;
    progress.hidden = false;
    progress.value = 0;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
    });
    request.addEventListener("load", () => {
      button.disabled = false;
      if (request.status >= 200 && request.status < 300) {
        progress.value = 100;
        window.location.assign("/file#documents");
        window.location.reload();
        return;
      }
      let message = "Error " + request.status;
      try { message = JSON.parse(request.responseText).error.message; } catch (_) {}
      progress.hidden = true;
      error.textContent = message;
      error.hidden = false;
    });
    request.addEventListener("error", () => {
      button.disabled = false;
      progress.hidden = true;
      error.textContent = "Network error";
      error.hidden = false;
    });
    request.send(new FormData(form));
  });
});
