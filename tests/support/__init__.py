"""Helpers the tests share: data, signals, fault servers, the magic shell, the browser."""
