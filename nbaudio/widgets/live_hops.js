// The page's stamps on a live session's way from mouth to ear (nbaudio.widgets.LiveSession; live.js
// comes after this file), for the benchmark's breakdown of each reply's latency by hop
// (benchmarks/bench_live.py). Across the page and the kernel the clock is the wall's (Date.now() here,
// time.time() in the kernel: the same clock on the same machine); within the page, how long a
// microphone block waited before the page had it is read on the audio clock.

const HOP_SENT_KEPT = 200;  // the page's send times of the latest microphone pieces (10 s of 50 ms pieces)

function liveHops() {
  const sentAt = new Map();  // piece seq -> Date.now() when it went to the kernel
  let frames = 0;            // microphone frames handled so far
  let leastOffset = Infinity;
  let last = null;           // the latest block with sound: {wall, seq, tail, offset}
  let turnEnd = null;        // that block and the kernel's stamps, once the server ended the turn

  return {
    // Every microphone block as the page gets it (`pcm`: its float samples), before it is queued
    // to go out as piece `seq`. On the audio clock, a block ends `frames / rate` after the capture
    // began; how much later than that the page has it is its wait (counted from the block that
    // waited least: the capture's own constant delay cannot be seen from here).
    block(ctx, pcm, seq, level) {
      frames += pcm.length;
      const offset = ctx.currentTime - frames / ctx.sampleRate;
      leastOffset = Math.min(leastOffset, offset);
      let k = pcm.length - 1;
      while (k >= 0 && Math.abs(pcm[k]) < level) k--;
      if (k >= 0) last = { wall: Date.now(), seq, tail: (pcm.length - 1 - k) / ctx.sampleRate, offset };
    },
    sent(seq) {
      sentAt.set(seq, Date.now());
      sentAt.delete(seq - HOP_SENT_KEPT);
    },
    // The server ended the turn (`hop`: the kernel's stamps, with its latest pieces).
    stopped(hop) {
      turnEnd = last && hop ? { ...last, page: Date.now(), kernel: hop } : null;
    },
    // The reply's first audio came (`hop`: the kernel's stamps of its turn) and was scheduled to
    // start at `start` on the audio clock, reaching the speakers `out` seconds later: each hop in ms.
    reply(hop, ctx, start, out) {
      const end = turnEnd;
      turnEnd = null;
      const piece = end && end.kernel.pieces.find((p) => p[0] === end.seq);
      if (!piece || !hop || !sentAt.has(end.seq)) return null;
      const [, received, toServer] = piece;
      const now = Date.now(), scheduled = now + 1000 * (start - ctx.currentTime);
      const ms = (v) => Math.round(v);
      const since = (name) => (name in hop ? ms(hop[name] - hop.stopped) : null);
      return {
        tail: ms(1000 * end.tail), capture: ms(1000 * (end.offset - leastOffset)),
        to_send: ms(sentAt.get(end.seq) - end.wall), to_kernel: ms(received - sentAt.get(end.seq)),
        in_kernel: ms(toServer - received), turn_end: ms(end.kernel.at - toServer),
        stopped_to_page: ms(end.page - end.kernel.at), engine: ms(hop.audio - hop.stopped),
        transcribed: since("transcribed"), token: since("token"), to_page: ms(now - hop.audio),
        schedule: ms(scheduled - now), output: ms(1000 * out),
      };
    },
  };
}
