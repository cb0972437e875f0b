"""A chat request's audio: the messages' audio parts made text (`input`) and the reply spoken
sentence by sentence while its text streams (`speech`)."""
