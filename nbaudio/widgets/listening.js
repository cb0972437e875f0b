// The browser half of nbaudio.widgets.ListeningTest (an anywidget ES module).
//
// Shows the trial the kernel sent: its samples under their letters, each with a Play/Stop button
// (as often as wanted; one sample plays at a time) and its answer: a 1–5 rating (MOS) or "prefer"
// (A/B). The page knows only opaque sample ids; which system each is stays in the kernel. Plays and
// answers go to the kernel as they happen ("play", "rate" with the seconds since the trial
// appeared); Next is enabled once the trial is complete and asks the kernel for the next one.

const STYLE = `
.nbaudio-listening{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;margin:4px 0;max-width:760px;
  color:var(--jp-ui-font-color1,inherit)}
.nbaudio-listening button{font:inherit;padding:3px 12px;border-radius:3px;cursor:pointer;
  border:1px solid var(--jp-border-color1,#bbb);background:var(--jp-layout-color2,#f3f3f3);color:inherit}
.nbaudio-listening button:disabled{cursor:default;opacity:0.45}
.nbaudio-lt-head{display:flex;align-items:center;gap:10px;flex-wrap:wrap;margin-bottom:6px}
.nbaudio-lt-prompt{font-weight:600;font-size:14px}
.nbaudio-lt-progress{color:var(--jp-ui-font-color2,#666);font-variant-numeric:tabular-nums}
.nbaudio-lt-bar{flex:0 0 120px;height:6px;border-radius:3px;background:var(--jp-layout-color3,#ddd);overflow:hidden}
.nbaudio-lt-bar>div{height:100%;background:var(--jp-brand-color1,#1976d2);transition:width .2s}
.nbaudio-lt-samples{display:flex;flex-direction:column;gap:6px}
.nbaudio-lt-samples.ab{flex-direction:row;flex-wrap:wrap}
.nbaudio-lt-sample{display:flex;align-items:center;gap:10px;flex-wrap:wrap;padding:6px 8px;border-radius:4px;
  border:1px solid var(--jp-border-color2,#ddd)}
.nbaudio-lt-samples.ab .nbaudio-lt-sample{flex:1 1 220px}
.nbaudio-lt-name{font-weight:600;min-width:5.5em}
.nbaudio-lt-plays{color:var(--jp-ui-font-color2,#666);min-width:5.5em;font-variant-numeric:tabular-nums}
.nbaudio-lt-scale{display:flex;gap:4px;flex-wrap:wrap}
.nbaudio-lt-option{display:inline-flex;align-items:center;gap:3px;padding:2px 8px;border-radius:12px;cursor:pointer;
  border:1px solid var(--jp-border-color1,#bbb);user-select:none}
.nbaudio-lt-option input{margin:0}
.nbaudio-lt-option.chosen{background:var(--jp-brand-color1,#1976d2);border-color:var(--jp-brand-color1,#1976d2);color:#fff}
.nbaudio-lt-option.off{opacity:0.45;cursor:default}
.nbaudio-lt-foot{display:flex;align-items:center;gap:10px;margin-top:8px;flex-wrap:wrap}
.nbaudio-lt-hint{color:var(--jp-ui-font-color2,#666)}
.nbaudio-lt-error{color:#c62828}
`;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el }) {
  const root = element("div", "nbaudio-listening");
  const style = element("style");
  style.textContent = STYLE;
  const head = element("div", "nbaudio-lt-head");
  const prompt = element("span", "nbaudio-lt-prompt");
  const progress = element("span", "nbaudio-lt-progress");
  const bar = element("div", "nbaudio-lt-bar");
  const fill = element("div");
  bar.append(fill);
  head.append(prompt, progress, bar);
  const samples = element("div", "nbaudio-lt-samples");
  const foot = element("div", "nbaudio-lt-foot");
  const next = element("button", "nbaudio-lt-next", "Next ▶");
  const hint = element("span", "nbaudio-lt-hint");
  const error = element("span", "nbaudio-lt-error");
  foot.append(next, hint, error);
  root.append(style, head, samples, foot);
  el.append(root);

  // The trial on screen: its number, and per sample id its audio, plays and answer in this page.
  let trial = null;
  let playError = "";  // this page's own trouble (a sample the browser could not play)
  const uid = Math.random().toString(36).slice(2);  // radio group names unique to this view

  function send(msg) { model.send({ ...msg, trial: trial ? trial.number : null }); }
  function isMos() { return model.get("kind") === "mos"; }

  function complete() {
    if (!trial) return false;
    const answered = trial.samples.filter((s) => trial.answers[s.id] !== undefined).length;
    return isMos() ? answered === trial.samples.length : answered === 1;
  }

  function showProgress() {
    const total = model.get("total"), done = model.get("done");
    prompt.textContent = trial ? model.get("prompt") : "Listening test finished";
    progress.textContent = trial ? `trial ${trial.number} of ${total}` : `${done} of ${total} trials answered`;
    fill.style.width = (total ? 100 * done / total : 0) + "%";
    foot.style.display = trial ? "" : "none";
    if (!trial) {
      samples.replaceChildren(element("div", "nbaudio-lt-finished",
        "Thank you. The ratings are in the output below this widget, and in .results and .summary() in the kernel."));
    }
  }

  function showState() {
    if (!trial) return;
    const known = model.get("answers") || {};
    for (const s of trial.samples) {
      const plays = trial.plays[s.id], playing = s.audio && !s.audio.paused;
      s.row.dataset.kernel = known[s.id] === undefined ? "" : String(known[s.id]);  // the kernel has this answer
      s.play.textContent = playing ? "■ Stop" : "▶ Play";
      s.playsLabel.textContent = plays ? `played ${plays}×` : "not played yet";
      // Answered already (this page, or another view of the test) counts as heard.
      const locked = model.get("require_play") && !plays && trial.answers[s.id] === undefined;
      for (const input of s.inputs) {
        const chosen = isMos() ? trial.answers[s.id] === +input.value : trial.answers[s.id] === true;
        input.checked = chosen;
        input.disabled = locked;
        input.parentElement.classList.toggle("chosen", chosen);
        input.parentElement.classList.toggle("off", locked);
        input.parentElement.title = locked ? "play the sample first" : "";
      }
    }
    const ready = complete();
    next.disabled = !ready;
    next.textContent = trial.number >= model.get("total") ? "Finish ✓" : "Next ▶";
    hint.textContent = ready ? "" : isMos() ? "rate every sample to go on" : "pick the sample you prefer to go on";
    error.textContent = model.get("error") || playError;
  }

  function stopAll(except) {
    for (const s of trial ? trial.samples : []) {
      if (s !== except && s.audio && !s.audio.paused) { s.audio.pause(); s.audio.currentTime = 0; }
    }
  }

  function answer(s, value) {
    if (isMos()) trial.answers[s.id] = value;
    else trial.answers = { [s.id]: true };
    send({ type: "rate", id: s.id, value: isMos() ? value : true, seconds: (performance.now() - trial.shownAt) / 1000 });
    showState();
  }

  function sampleRow(s) {
    const row = element("div", "nbaudio-lt-sample");
    row.dataset.label = s.label;
    s.row = row;
    const name = element("span", "nbaudio-lt-name", "Sample " + s.label);
    s.play = element("button", "nbaudio-lt-play", "▶ Play");
    s.playsLabel = element("span", "nbaudio-lt-plays");
    const scale = element("div", "nbaudio-lt-scale");
    const options = isMos() ? model.get("scale") : [[true, "I prefer " + s.label]];
    s.inputs = options.map(([value, label]) => {
      const option = element("label", "nbaudio-lt-option");
      const input = element("input");
      input.type = "radio";
      input.name = isMos() ? `nbaudio-lt-${uid}-${s.id}` : `nbaudio-lt-${uid}-choice`;
      input.value = String(value);
      input.addEventListener("change", () => { if (input.checked) answer(s, isMos() ? +input.value : true); });
      option.append(input, document.createTextNode(isMos() ? `${value} ${label}` : label));
      scale.append(option);
      return input;
    });
    s.play.addEventListener("click", () => {
      if (!s.audio.paused) { s.audio.pause(); s.audio.currentTime = 0; showState(); return; }
      stopAll(s);
      s.audio.currentTime = 0;
      playError = "";
      s.audio.play().catch((e) => { playError = "could not play the sample: " + e.message; showState(); });
    });
    s.audio.addEventListener("play", () => {
      trial.plays[s.id] += 1;
      send({ type: "play", id: s.id });
      showState();
    });
    s.audio.addEventListener("pause", showState);
    s.audio.addEventListener("ended", showState);
    row.append(name, s.play, s.playsLabel, scale);
    return row;
  }

  function dropTrial() {
    if (!trial) return;
    for (const s of trial.samples) { s.audio.pause(); URL.revokeObjectURL(s.url); }
    trial = null;
  }

  function loadTrial() {
    dropTrial();
    const t = model.get("trial");
    if (t && t.samples) {
      trial = { number: t.number, answers: {}, plays: {}, shownAt: performance.now(), samples: [] };
      for (const s of t.samples) {
        const url = URL.createObjectURL(new Blob([s.audio], { type: s.mime }));
        const audio = element("audio");
        audio.preload = "auto";
        audio.src = url;
        trial.samples.push({ id: s.id, label: s.label, url, audio });
        trial.plays[s.id] = 0;
      }
      samples.className = "nbaudio-lt-samples " + model.get("kind");
      samples.replaceChildren(...trial.samples.map(sampleRow));
      mergeAnswers();
    }
    showProgress();
    showState();
  }

  function mergeAnswers() {
    // The kernel's answers (another view of the same test, or this page reopened) over this page's.
    const known = model.get("answers") || {};
    if (!trial || !Object.keys(known).length) return;
    if (!isMos()) trial.answers = {};
    for (const [id, value] of Object.entries(known)) {
      if (trial.plays[id] !== undefined) trial.answers[id] = value;
    }
  }

  next.addEventListener("click", () => {
    if (!complete()) return;
    stopAll(null);
    next.disabled = true;
    send({ type: "next" });
  });
  model.on("change:trial", loadTrial);
  model.on("change:answers", () => { mergeAnswers(); showState(); });
  model.on("change:error", showState);
  model.on("change:done", showProgress);
  loadTrial();
  return () => dropTrial();
}

export default { render };
