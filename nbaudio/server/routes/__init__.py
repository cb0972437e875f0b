"""The engine's routes, one module per group; app.py includes their routers. Routes never import
each other: what they share is in route_helpers.py, forms.py, voices.py and the chat_* modules."""
