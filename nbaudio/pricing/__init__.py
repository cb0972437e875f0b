"""What calls cost: `Prices` (a price table with its source, date and a relay's multiplier) and
`Cost` (one call's, or "free (local)", or "unknown" with the reason).

Inside: `_table` (Prices, ModelPrice, the shipped openai_prices.json), `_cost` (Cost, and the cost
of a speech, transcription or chat answer from what it reports).
"""

from ._cost import Cost, chat_cost, money, speech_cost, total_cost, transcription_cost
from ._table import PRICE_FIELDS, RELAY_HELP, ModelPrice, Prices

__all__ = ["PRICE_FIELDS", "RELAY_HELP", "Cost", "ModelPrice", "Prices", "chat_cost", "money", "speech_cost",
           "total_cost", "transcription_cost"]
