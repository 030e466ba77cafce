"""What the shops send, translated: pure functions from a shop's own payload to our events.

Nothing here touches the database, the clock or the network; `app/services/shop_webhooks.py`
does that with what these modules return. The shops' documented field names are the contract.
"""
