"""The lowest layer, private to nbaudio: what the API and the servers that speak it say, and how to
read it safely. `spec` (the wire contract's choices and limits), `sse` (event streams), `fields`
(server data read defensively), `error_bodies` / `error_status` (the error shapes servers send),
`realtime` (the Realtime API's event names and close codes), `redaction` (keys never shown),
`text` and `hosts` (small facts both client and engine need)."""
