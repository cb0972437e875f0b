"""What the engine's models are made of, by name: the packages that carry them (`packages`), their
pinned files held to SHA-256 (`weights`) and the chat models by name (`chat_models`)."""
