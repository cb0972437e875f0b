"""The facts layer, private to nbaudio: what the API and the servers that speak it say, and how to
read it safely. `spec` (the wire contract's choices and limits), `sse` (event streams), `fields`
(server data read defensively), `error_bodies` / `error_status` (the error shapes servers send),
`realtime` (the Realtime API's event names and close codes), `user_files` (paths users give, opened
safely), `text` and `hosts` (small facts both client and engine need). Keys are taken out of what
errors say by nbaudio._redaction, below the errors."""
