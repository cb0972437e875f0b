// The streaming %%voice reply's audio (nbaudio/magic/streaming_reply.py): each update of the audio output runs this
// with the pcm16 samples that arrived since the last, and queues them into one WebAudio context
// per reply, so playback starts with the first chunk. "done" closes the context once the queue has
// played; "stop" closes it at once. Python fills in the four NBAUDIO_ values; these comment lines
// are dropped.
(function () {
  var id = "NBAUDIO_STREAM_ID", action = "NBAUDIO_ACTION", data = "NBAUDIO_PCM", rate = NBAUDIO_RATE;
  var all = window.__nbaudioLive = window.__nbaudioLive || {};
  var s = all[id];
  if (action === "stop") { if (s) { s.ctx.close(); delete all[id]; } return; }
  if (action === "done") {
    if (s) { setTimeout(function () { s.ctx.close(); delete all[id]; },
                        Math.max(0, s.t - s.ctx.currentTime) * 1000 + 500); }
    return;
  }
  var Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) { return; }
  if (!s) { var ctx = new Ctx(); s = all[id] = {ctx: ctx, t: ctx.currentTime + 0.1}; }
  if (s.ctx.state === "suspended") { s.ctx.resume(); }
  var bin = atob(data), n = bin.length >> 1;
  if (!n) { return; }
  var buf = s.ctx.createBuffer(1, n, rate), ch = buf.getChannelData(0);
  for (var i = 0; i < n; i++) {
    var v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    ch[i] = (v >= 32768 ? v - 65536 : v) / 32768;
  }
  var src = s.ctx.createBufferSource();
  src.buffer = buf; src.connect(s.ctx.destination);
  var at = Math.max(s.t, s.ctx.currentTime + 0.05);
  src.start(at); s.t = at + buf.duration;
})();
