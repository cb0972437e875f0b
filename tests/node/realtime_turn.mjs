// One spoken turn through the official openai Node SDK's Realtime WebSocket client (OpenAIRealtimeWS),
// for tests/engine/test_tls.py. The SDK always connects with wss:// (it sets the URL's protocol), so
// this reaches `nbaudio serve --tls-cert ... --tls-key ...` only; NODE_EXTRA_CA_CERTS trusts its CA.
//
//   node realtime_turn.mjs BASE_URL PCM_FILE REPLY_FILE      (OPENAI_API_KEY in the environment)
//
// PCM_FILE holds pcm16 mono at 24 kHz. The turn is manual (turn_detection null): append, commit,
// response.create. Writes the reply's audio (pcm16, 24 kHz) to REPLY_FILE and prints one JSON line:
// what came back (event types, transcripts, usage).
import { readFileSync, writeFileSync } from "node:fs";
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";

const [baseURL, pcmFile, replyFile] = process.argv.slice(2);
const pcm = readFileSync(pcmFile);
const CHUNK = 2 * 24000 / 10; // 100 ms of pcm16 at 24 kHz

const timer = setTimeout(() => fail(new Error("no response.done within 240 s")), 240_000);
function fail(err) {
  console.error(`realtime turn failed: ${err?.message ?? err}${err?.cause ? ` (${err.cause.message ?? err.cause})` : ""}`);
  process.exit(1);
}

const client = new OpenAI({ baseURL }); // the key from OPENAI_API_KEY, as the SDK reads it
const rt = await OpenAIRealtimeWS.create(client, { model: "gpt-realtime" });
const types = [];
const reply = [];
let said = "";
let heard = "";

rt.on("error", fail);
rt.on("event", (event) => types.push(event.type));
rt.on("conversation.item.input_audio_transcription.completed", (event) => { heard = event.transcript; });
rt.on("response.output_audio.delta", (event) => { reply.push(Buffer.from(event.delta, "base64")); });
rt.on("response.output_audio_transcript.done", (event) => { said = event.transcript; });
rt.on("session.updated", () => {
  for (let at = 0; at < pcm.length; at += CHUNK) {
    rt.send({ type: "input_audio_buffer.append", audio: pcm.subarray(at, at + CHUNK).toString("base64") });
  }
  rt.send({ type: "input_audio_buffer.commit" });
  rt.send({ type: "response.create" });
});
rt.on("response.done", (event) => {
  clearTimeout(timer);
  writeFileSync(replyFile, Buffer.concat(reply));
  console.log(JSON.stringify({ url: rt.url.toString(), status: event.response.status, types, said, heard,
                               usage: event.response.usage }));
  rt.close();
});
rt.socket.on("open", () => {
  rt.send({
    type: "session.update",
    session: { type: "realtime", audio: { input: { turn_detection: null,
                                                   transcription: { model: "whisper-1", language: "en" } } } },
  });
});
rt.socket.on("close", () => process.exit(types.includes("response.done") ? 0 : 1));
