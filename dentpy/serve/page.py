"""The web tool's single page: plain HTML and a little vanilla JavaScript, no CDN.

The page talks to the JSON API of :mod:`dentpy.serve.app`: it uploads a dataset, starts a
job, polls its status until done (a progress bar and the log points), sends an image for
inference and shows the overlay with download links. Every refusal's ``error`` sentence is
shown on the page as it came.
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dentpy segmentation tool</title>
<link rel="icon" href="data:,">
<style>
 body { font-family: sans-serif; max-width: 860px; margin: 1.5em auto; color: #222; }
 section { border: 1px solid #ccc; border-radius: 6px; padding: 0.6em 1em; margin: 1em 0; }
 h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin: 0.2em 0 0.5em; }
 label { display: inline-block; margin: 0.2em 1em 0.2em 0; }
 input[type=number] { width: 6em; }
 .error { color: #b00020; font-weight: bold; } .ok { color: #1b5e20; }
 table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 8px; }
 progress { width: 20em; } img { max-width: 100%; image-rendering: pixelated; }
</style>
</head>
<body>
<h1>dentpy segmentation tool</h1>
<p>Upload greyscale PNG images and PNG masks of class labels (0 background, 1 foreground),
paired by file name; each file at most {{MAX_BYTES}} bytes. Train a small U-Net, watch it learn,
then segment a new image.</p>

<section id="upload-section">
<h2>1. Upload a dataset</h2>
<label>Images <input id="images" type="file" accept="image/png" multiple></label>
<label>Masks <input id="masks" type="file" accept="image/png" multiple></label>
<button id="upload">Upload</button>
<p id="upload-message" role="status"></p>
</section>

<section id="train-section">
<h2>2. Train</h2>
<label>Dataset <select id="dataset"></select></label>
<label>Steps <input id="steps" type="number" value="100" min="1"></label>
<label>Learning rate <input id="lr" type="number" value="0.003" step="0.0005"></label>
<label>Batch size <input id="batch_size" type="number" value="4" min="1"></label>
<label>Width <input id="width" type="number" value="8" min="1"></label>
<button id="train">Start training</button>
<p id="train-message" role="status"></p>
<p>Job <span id="job-id">-</span>: <span id="job-state">-</span>
 <progress id="progress" value="0" max="1"></progress> <span id="job-step"></span></p>
<table id="history"><thead><tr><th>step</th><th>loss</th><th>validation Dice</th></tr></thead>
<tbody></tbody></table>
</section>

<section id="infer-section">
<h2>3. Segment an image</h2>
<label>Image <input id="infer-image" type="file" accept="image/png"></label>
<button id="infer">Segment</button>
<p id="infer-message" role="status"></p>
<p id="downloads"></p>
<img id="result" alt="">
</section>

<section>
<h2>Jobs on this server</h2>
<table id="jobs"><thead><tr><th>job</th><th>dataset</th><th>state</th><th>step</th>
<th>last validation Dice</th></tr></thead><tbody></tbody></table>
</section>

<script>
"use strict";
const $ = (id) => document.getElementById(id);
let currentJob = null;

function say(id, text, isError) {
  const el = $(id);
  el.textContent = text;
  el.className = isError ? "error" : "ok";
}

async function call(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.error || ("HTTP " + response.status));
  }
  return body;
}

async function refreshDatasets(select) {
  const list = await call("/api/datasets");
  const box = $("dataset");
  box.innerHTML = "";
  for (const d of list) {
    const option = document.createElement("option");
    option.value = d.id;
    option.textContent = d.id + " (" + d.names.length + " pairs, " + d.size.join(" x ") + ")";
    box.appendChild(option);
  }
  if (select) { box.value = select; }
}

async function refreshJobs() {
  const list = await call("/api/jobs");
  const body = $("jobs").tBodies[0];
  body.innerHTML = "";
  for (const j of list) {
    const last = j.history.length ? j.history[j.history.length - 1].val_dice : null;
    const row = body.insertRow();
    for (const v of [j.id, j.dataset, j.state, j.step + " / " + j.steps,
                     last === null ? "-" : last.toFixed(3)]) {
      row.insertCell().textContent = v;
    }
    row.onclick = () => { currentJob = j.id; poll(); };
  }
  if (!currentJob && list.length) { currentJob = list[list.length - 1].id; }
}

$("upload").onclick = async () => {
  const form = new FormData();
  for (const f of $("images").files) { form.append("images", f); }
  for (const f of $("masks").files) { form.append("masks", f); }
  say("upload-message", "uploading ...", false);
  try {
    const d = await call("/api/datasets", { method: "POST", body: form });
    say("upload-message", "dataset " + d.id + ": " + d.names.length + " pairs of "
        + d.size.join(" x ") + " pixels", false);
    await refreshDatasets(d.id);
  } catch (e) { say("upload-message", e.message, true); }
};

$("train").onclick = async () => {
  const config = {};
  for (const key of ["steps", "batch_size", "width"]) { config[key] = parseInt($(key).value); }
  config.lr = parseFloat($("lr").value);
  config.log_every = Math.max(1, Math.round(config.steps / 10));
  try {
    const job = await call("/api/jobs", { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ dataset: $("dataset").value, config: config }) });
    currentJob = job.id;
    say("train-message", "job " + job.id + " queued", false);
    poll();
  } catch (e) { say("train-message", e.message, true); }
};

async function poll() {
  if (!currentJob) { return; }
  const job = await call("/api/jobs/" + currentJob);
  $("job-id").textContent = job.id;
  $("job-state").textContent = job.state + (job.error ? ": " + job.error : "");
  $("progress").max = job.steps;
  $("progress").value = job.step;
  $("job-step").textContent = job.step + " / " + job.steps;
  const body = $("history").tBodies[0];
  body.innerHTML = "";
  for (const h of job.history) {
    const row = body.insertRow();
    row.insertCell().textContent = h.step;
    row.insertCell().textContent = h.loss.toFixed(4);
    row.insertCell().textContent = h.val_dice === null ? "-" : h.val_dice.toFixed(3);
  }
  await refreshJobs();
  if (job.state === "queued" || job.state === "running") { setTimeout(poll, 300); }
}

$("infer").onclick = async () => {
  if (!currentJob) { say("infer-message", "train a job first", true); return; }
  const file = $("infer-image").files[0];
  if (!file) { say("infer-message", "choose an image first", true); return; }
  const form = new FormData();
  form.append("image", file);
  try {
    const p = await call("/api/jobs/" + currentJob + "/predict", { method: "POST", body: form });
    say("infer-message", "prediction " + p.id + " of job " + p.job + ": "
        + (100 * p.foreground).toFixed(1) + "% foreground", false);
    $("result").src = p.overlay_url;
    $("result").alt = "overlay of prediction " + p.id;
    $("downloads").innerHTML = "";
    for (const [text, url] of [["mask (PNG)", p.mask_url], ["overlay (PNG)", p.overlay_url],
                               ["weights (.pt)", "/api/jobs/" + p.job + "/weights"]]) {
      const a = document.createElement("a");
      a.href = url; a.textContent = text; a.download = ""; a.style.marginRight = "1em";
      $("downloads").appendChild(a);
    }
  } catch (e) { say("infer-message", e.message, true); }
};

refreshDatasets().then(refreshJobs).then(poll).catch(
  (e) => say("upload-message", e.message, true));
</script>
</body>
</html>
"""
