"""How requests travel, private to nbaudio: `transport` (the requests session, retries, the total
deadline, size caps), `validation` (arguments checked, and made ready to send, before anything is
sent) and `streams` (the iterators a streamed answer is read through). The client, the Realtime
session and batches build on it; its public names are nbaudio.client's."""
