"""`POST /v1/chat/completions` (being written)."""
from fastapi import APIRouter

router = APIRouter()
